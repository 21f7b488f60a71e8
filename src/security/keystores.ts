// Loads the server's key store and trust store into TLS material: plain data
// (strings and bytes) that crosses to the I/O worker threads as it is, where
// each thread builds its own tls.SecureContext from it.
//
// Key stores: PEM (Apache's PEM type: the private key, encrypted or not, and
// the certificate chain in one file) or PKCS#12 (handed to Node as pfx +
// passphrase). Trust stores: PEM (every CERTIFICATE block) or PKCS#12 (its
// certificates, read by pkcs12.ts; Java trust stores carry no key). A store
// that cannot be used is a ConfigError naming the key and saying why.

import fs from 'node:fs';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { ConfigError, type Config } from '../config/config.js';
import { Pkcs12Error, derToPem, pkcs12Certificates } from './pkcs12.js';
import type { ClientAuth, StoreSettings, TlsSettings } from './settings.js';

/** What a worker needs to build its secure context (structured-clonable). */
export interface TlsMaterial {
  key: string | null;
  cert: string | null;
  pfx: Uint8Array | null;
  passphrase: string;
  /** Trusted CA certificates (PEM), or null for Node's bundled roots. */
  ca: string[] | null;
  clientAuth: ClientAuth;
  minVersion: tls.SecureVersion;
  maxVersion: tls.SecureVersion;
  secureOptions: number;
  ciphers: string;
  /** The server certificate's subject and validity, for the start-up log. */
  summary: string;
}

const pemBlock = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
const keyLabels = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'DSA PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']);

function pemBlocks(text: string): { label: string; text: string }[] {
  const out: { label: string; text: string }[] = [];
  for (const m of text.matchAll(pemBlock)) out.push({ label: m[1]!, text: m[0] });
  return out;
}

function errorFor(cfg: Config, key: string, message: string): ConfigError {
  const o = cfg.origin.get(key);
  if (o === undefined) return new ConfigError(cfg.configFile ?? '<defaults>', 0, key, message);
  const i = o.lastIndexOf(':');
  return new ConfigError(o.slice(0, i), Number(o.slice(i + 1)), key, message);
}

function readStore(cfg: Config, s: StoreSettings): Buffer {
  try {
    return fs.readFileSync(s.location);
  } catch (e) {
    throw errorFor(cfg, `${s.key}.location`, `cannot read '${s.location}': ${(e as Error).message}`);
  }
}

function describeCert(pem: string | Buffer): string {
  try {
    const c = new X509Certificate(pem);
    return `subject '${c.subject.replace(/\n/g, ', ')}', valid ${c.validFrom} to ${c.validTo}`;
  } catch {
    return 'an unreadable certificate';
  }
}

function keyMaterial(cfg: Config, s: StoreSettings): Pick<TlsMaterial, 'key' | 'cert' | 'pfx' | 'passphrase' | 'summary'> {
  const data = readStore(cfg, s);
  const loc = `${s.key}.location`;
  if (s.type === 'PKCS12') {
    return { key: null, cert: null, pfx: new Uint8Array(data), passphrase: s.password, summary: `PKCS12 key store ${s.location}` };
  }
  const blocks = pemBlocks(data.toString('utf8'));
  const keys = blocks.filter((b) => keyLabels.has(b.label));
  const certs = blocks.filter((b) => b.label === 'CERTIFICATE');
  if (keys.length === 0) throw errorFor(cfg, loc, `'${s.location}' holds no PEM private key (a PEM key store has the key and the certificate chain in one file)`);
  if (certs.length === 0) throw errorFor(cfg, loc, `'${s.location}' holds no PEM certificate (a PEM key store has the key and the certificate chain in one file)`);
  return {
    key: keys[0]!.text, cert: certs.map((c) => c.text).join('\n'), pfx: null, passphrase: s.password,
    summary: `PEM key store ${s.location}: ${describeCert(certs[0]!.text)}`,
  };
}

function trustMaterial(cfg: Config, s: StoreSettings): string[] {
  const data = readStore(cfg, s);
  const loc = `${s.key}.location`;
  let certs: string[];
  if (s.type === 'PKCS12') {
    try {
      certs = pkcs12Certificates(data, s.password).map(derToPem);
    } catch (e) {
      if (e instanceof Pkcs12Error) throw errorFor(cfg, loc, `cannot read PKCS12 trust store '${s.location}': ${e.message}`);
      throw e;
    }
  } else {
    certs = pemBlocks(data.toString('utf8')).filter((b) => b.label === 'CERTIFICATE').map((b) => b.text);
  }
  if (certs.length === 0) throw errorFor(cfg, loc, `trust store '${s.location}' holds no certificate`);
  return certs;
}

/** Node's options for a server-side secure context built from the material. */
export function secureContextOptions(m: TlsMaterial): tls.SecureContextOptions {
  const o: tls.SecureContextOptions = {
    minVersion: m.minVersion, maxVersion: m.maxVersion, ciphers: m.ciphers, honorCipherOrder: true,
  };
  if (m.secureOptions !== 0) o.secureOptions = m.secureOptions;
  if (m.pfx !== null) {
    o.pfx = Buffer.from(m.pfx);
    o.passphrase = m.passphrase;
  } else {
    o.key = m.key!;
    o.cert = m.cert!;
    if (m.passphrase !== '') o.passphrase = m.passphrase;
  }
  if (m.ca !== null) o.ca = m.ca;
  return o;
}

/**
 * Reads both stores and checks that Node accepts them (key matches
 * certificate, password right, protocols and ciphers usable). Throws a
 * ConfigError naming the key at fault.
 */
export function loadTlsMaterial(cfg: Config, t: TlsSettings): TlsMaterial {
  const km = keyMaterial(cfg, t.keyStore);
  const ca = t.trustStore === null ? null : trustMaterial(cfg, t.trustStore);
  const m: TlsMaterial = {
    ...km, ca, clientAuth: t.clientAuth, minVersion: t.minVersion, maxVersion: t.maxVersion,
    secureOptions: t.secureOptions, ciphers: t.ciphers,
  };
  try {
    tls.createSecureContext(secureContextOptions(m));
  } catch (e) {
    const msg = (e as Error).message;
    const key = /cipher/i.test(msg) ? 'ssl.ciphersuites' : /protocol|version/i.test(msg) ? 'ssl.enabledProtocols' : `${t.keyStore.key}.location`;
    const hint = /mac verify|bad decrypt|password/i.test(msg) ? ` (is ${t.keyStore.key}.password right?)` : '';
    throw errorFor(cfg, key, `cannot use the key store '${t.keyStore.location}': ${msg}${hint}`);
  }
  if (m.pfx !== null) m.summary = `PKCS12 key store ${t.keyStore.location}`;
  return m;
}
