// Reads the security keys of a Config (TLS, x509, SASL, enforcement, audit)
// into one checked, plain (structured-clonable) object, with Apache
// ZooKeeper's defaults and rules:
//
//   - TLS is on when secureClientPort is set (a TLS-only port) or
//     client.portUnification=true (the client port takes TLS and plaintext);
//     either registers the x509 provider, as Apache's configureSSLAuth does.
//   - ssl.clientAuth defaults to need; ssl.protocol to TLSv1.2 and
//     ssl.enabledProtocols to [ssl.protocol]; ciphers to Apache's Java 9+ list.
//   - Store types come from ssl.*.type or the file name (.pem, .p12/.pfx);
//     .jks is refused with a clear error (zoonode has no JKS reader).
//   - sessionRequireClientSASLAuth=true means enforce.auth with scheme sasl;
//     every enforced scheme needs a registered provider.
//
// Errors are ConfigErrors naming the file, line and key.

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { ConfigError, authProviderClasses, type Config } from '../config/config.js';
import { JaasError, digestUsers, parseJaas } from './jaas.js';

export type StoreType = 'PEM' | 'PKCS12';
export type ClientAuth = 'none' | 'want' | 'need';

export interface StoreSettings {
  /** The config key prefix (ssl.keyStore / ssl.trustStore), for messages. */
  key: string;
  location: string;
  password: string;
  type: StoreType;
}

export interface TlsSettings {
  keyStore: StoreSettings;
  trustStore: StoreSettings | null;
  clientAuth: ClientAuth;
  minVersion: tls.SecureVersion;
  maxVersion: tls.SecureVersion;
  /** SSL_OP_NO_* bits for protocol versions left out between min and max. */
  secureOptions: number;
  /** OpenSSL cipher list (TLS 1.2 names and TLS 1.3 suites). */
  ciphers: string;
  /** Reload the stores when their files change (client.certReload). */
  certReload: boolean;
}

export interface SaslSettings {
  jaasFile: string;
  section: string;
  /** DIGEST-MD5 users: name → password. */
  users: Record<string, string>;
  /** SASLAuthenticationProvider.superPassword: the password of user 'super', if set. */
  superPassword: string | null;
}

export interface SecuritySettings {
  /** The TLS-only port (secureClientPort), or null. */
  securePort: number | null;
  secureAddress: string;
  /** client.portUnification: the plaintext client port also takes TLS. */
  portUnification: boolean;
  tls: TlsSettings | null;
  /** Schemes with a registered authentication provider (ip, digest, and x509/sasl when configured). */
  schemes: string[];
  /** X509AuthenticationProvider.superUser: a certificate subject that is super. */
  x509SuperUser: string | null;
  /** DIGEST-MD5 logins, or null when no JAAS file is configured. */
  sasl: SaslSettings | null;
  /** superUser and superUser.<N>: SASL ids that are super. */
  saslSuperUsers: string[];
  allowSaslFailedClients: boolean;
  /** letAnySaslUserDoX: an ACL id any SASL-authenticated user matches. */
  letAnySaslUserDoX: string | null;
  /** Schemes a connection must have authenticated with before anything but auth and sasl; null = not enforced. */
  enforceSchemes: string[] | null;
  /** Enforcement includes sasl (failed SASL logins answer SESSIONCLOSEDREQUIRESASLAUTH). */
  saslRequired: boolean;
  /** The audit log file, or null when audit.enable is off. */
  auditFile: string | null;
  warnings: string[];
}

const protocolOrder: tls.SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
const protocolNoFlags: Record<tls.SecureVersion, string> = {
  TLSv1: 'SSL_OP_NO_TLSv1', 'TLSv1.1': 'SSL_OP_NO_TLSv1_1', 'TLSv1.2': 'SSL_OP_NO_TLSv1_2', 'TLSv1.3': 'SSL_OP_NO_TLSv1_3',
};

/** Apache's default cipher suites on Java 9 and later (X509Util), in OpenSSL's names. */
export const defaultCiphers = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-AES128-SHA256', 'ECDHE-RSA-AES128-SHA256', 'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-RSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE-RSA-AES256-SHA384', 'ECDHE-ECDSA-AES256-SHA',
  'ECDHE-RSA-AES256-SHA',
];
const tls13Suites = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_CCM_SHA256', 'TLS_AES_128_CCM_8_SHA256'];

/**
 * A cipher suite as Java names it (IANA: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)
 * in OpenSSL's name (ECDHE-RSA-AES128-GCM-SHA256). OpenSSL names and TLS 1.3
 * suites pass through. Null if it is neither.
 */
export function opensslCipherName(name: string): string | null {
  if (tls13Suites.includes(name)) return name;
  const m = /^(?:TLS|SSL)_(ECDHE_ECDSA|ECDHE_RSA|DHE_RSA|DHE_DSS|RSA)_WITH_(AES_128|AES_256|CHACHA20_POLY1305|AES_128_CCM|AES_256_CCM)(?:_(GCM|CBC))?_(SHA384|SHA256|SHA)?$/.exec(name);
  if (m !== null) {
    const kx = { ECDHE_ECDSA: 'ECDHE-ECDSA-', ECDHE_RSA: 'ECDHE-RSA-', DHE_RSA: 'DHE-RSA-', DHE_DSS: 'DHE-DSS-', RSA: '' }[m[1]!]!;
    const [, , enc, mode, mac] = m;
    if (enc === 'CHACHA20_POLY1305') return `${kx}CHACHA20-POLY1305`;
    if (enc!.endsWith('CCM')) return `${kx}${enc!.replace('AES_', 'AES').replace('_CCM', '-CCM')}`;
    const aes = enc!.replace('_', '');
    if (mode === 'GCM') return `${kx}${aes}-GCM-${mac}`;
    return `${kx}${aes}-${mac ?? 'SHA'}`;
  }
  if (/^[A-Z0-9]+(-[A-Z0-9]+)+$/.test(name)) return name;
  return null;
}

class Reader {
  constructor(readonly cfg: Config) {}

  private at(key: string): [string, number] {
    const o = this.cfg.origin.get(key);
    if (o === undefined) return [this.cfg.configFile ?? '<defaults>', 0];
    const i = o.lastIndexOf(':');
    return [o.slice(0, i), Number(o.slice(i + 1))];
  }

  error(key: string, message: string): ConfigError {
    const [s, n] = this.at(key);
    return new ConfigError(s, n, key, message);
  }

  has(key: string): boolean {
    return this.cfg.raw.has(key);
  }

  str(key: string): string | null {
    const v = this.cfg.raw.get(key);
    return v === undefined ? null : v.trim();
  }

  bool(key: string, dflt = false): boolean {
    const v = this.str(key);
    if (v === null) return dflt;
    return v.toLowerCase() === 'true' || v.toLowerCase() === 'yes';
  }

  int(key: string): number | null {
    const v = this.str(key);
    return v === null ? null : Number(v);
  }
}

function storeType(r: Reader, key: string, location: string): StoreType {
  const typeKey = `${key}.type`;
  const t = r.str(typeKey);
  if (t !== null && t !== '') {
    switch (t.toUpperCase()) {
      case 'PEM': return 'PEM';
      case 'PKCS12': return 'PKCS12';
      case 'JKS':
        throw r.error(typeKey, 'JKS stores are not supported by zoonode; convert it to PKCS12 ' +
          `(keytool -importkeystore -srckeystore FILE.jks -destkeystore FILE.p12 -deststoretype PKCS12) or PEM`);
      case 'BCFKS':
        throw r.error(typeKey, 'BCFKS stores are not supported by zoonode; use PKCS12 or PEM');
      default:
        throw r.error(typeKey, `unknown store type '${t}' (PEM or PKCS12)`);
    }
  }
  const ext = path.extname(location).toLowerCase();
  if (ext === '.pem') return 'PEM';
  if (ext === '.p12' || ext === '.pfx') return 'PKCS12';
  const locKey = `${key}.location`;
  if (ext === '.jks') {
    throw r.error(locKey, `'${location}' is a JKS store, which zoonode cannot read; convert it to PKCS12 ` +
      '(keytool -importkeystore -srckeystore FILE.jks -destkeystore FILE.p12 -deststoretype PKCS12) or PEM');
  }
  throw r.error(locKey, `cannot tell the store type of '${location}' from its name (.pem, .p12 or .pfx); set ${typeKey}=PEM or PKCS12`);
}

function password(r: Reader, key: string): string {
  const pathKey = `${key}.passwordPath`;
  const file = r.str(pathKey);
  if (file !== null && file !== '') {
    let v: string;
    try {
      v = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw r.error(pathKey, `cannot read the password file: ${(e as Error).message}`);
    }
    return v.endsWith('\n') ? v.slice(0, -1) : v;
  }
  return r.str(`${key}.password`) ?? '';
}

function store(r: Reader, key: string): StoreSettings | null {
  const location = r.str(`${key}.location`);
  if (location === null || location === '') return null;
  return { key, location: path.resolve(location), password: password(r, key), type: storeType(r, key, location) };
}

function tlsSettings(r: Reader, warnings: string[]): TlsSettings {
  const why = r.has('secureClientPort') ? 'secureClientPort' : 'client.portUnification';
  const keyStore = store(r, 'ssl.keyStore');
  if (keyStore === null) throw r.error(why, 'TLS needs ssl.keyStore.location (the server\'s key and certificate)');
  const trustStore = store(r, 'ssl.trustStore');

  const ca = (r.str('ssl.clientAuth') ?? '').toLowerCase();
  if (!['', 'none', 'want', 'need'].includes(ca)) throw r.error('ssl.clientAuth', `expected none, want or need, got '${r.str('ssl.clientAuth')}'`);
  const clientAuth: ClientAuth = ca === '' ? 'need' : ca as ClientAuth;
  if (trustStore === null && clientAuth !== 'none') {
    warnings.push(`ssl.trustStore.location is not set: client certificates (ssl.clientAuth=${clientAuth}) are checked against Node.js's bundled root CAs`);
  }

  const protocol = r.str('ssl.protocol') ?? 'TLSv1.2';
  const parseVersion = (key: string, v: string): tls.SecureVersion[] => {
    if (v === 'TLS') return ['TLSv1.2', 'TLSv1.3'];
    const found = protocolOrder.find((p) => p === v);
    if (found === undefined) throw r.error(key, `unknown TLS protocol '${v}' (TLSv1.2, TLSv1.3, TLSv1.1, TLSv1)`);
    return [found];
  };
  const base = parseVersion('ssl.protocol', protocol);
  const enabledText = r.str('ssl.enabledProtocols');
  const enabled = enabledText === null ? base
    : enabledText.split(',').map((s) => s.trim()).filter((s) => s !== '').flatMap((s) => parseVersion('ssl.enabledProtocols', s));
  if (enabled.length === 0) throw r.error('ssl.enabledProtocols', 'names no protocol');
  const idx = enabled.map((v) => protocolOrder.indexOf(v));
  const lo = Math.min(...idx);
  const hi = Math.max(...idx);
  let secureOptions = 0;
  const constants = crypto.constants as unknown as Record<string, number>;
  for (let i = lo; i <= hi; i++) {
    if (!idx.includes(i)) secureOptions |= constants[protocolNoFlags[protocolOrder[i]!]] ?? 0;
  }

  let ciphers: string[];
  const suitesText = r.str('ssl.ciphersuites');
  if (suitesText === null) {
    ciphers = [...defaultCiphers];
  } else {
    ciphers = [];
    const known = new Set(tls.getCiphers().map((c) => c.toUpperCase()));
    for (const raw of suitesText.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      const name = opensslCipherName(raw);
      if (name === null || (!tls13Suites.includes(name) && !known.has(name.toUpperCase()))) {
        throw r.error('ssl.ciphersuites', `unknown or unsupported cipher suite '${raw}'`);
      }
      ciphers.push(name);
    }
    if (ciphers.length === 0) throw r.error('ssl.ciphersuites', 'names no cipher suite');
  }
  // TLS 1.3 suites: Node keeps its defaults unless the list names some.
  if (hi === protocolOrder.indexOf('TLSv1.3') && !ciphers.some((c) => tls13Suites.includes(c))) {
    ciphers.push('TLS_AES_256_GCM_SHA384', 'TLS_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256');
  }

  if (r.str('ssl.context.supplier.class')) {
    throw r.error('ssl.context.supplier.class', 'is a Java class; zoonode builds its TLS context from ssl.keyStore.* and ssl.trustStore.*');
  }
  for (const k of ['ssl.crl', 'ssl.ocsp']) {
    if (r.bool(k)) throw r.error(k, 'certificate revocation checking (CRL/OCSP) is not supported by zoonode; remove the line');
  }
  const authProv = r.str('ssl.authProvider');
  if (authProv !== null && authProv !== 'x509') {
    throw r.error('ssl.authProvider', `only the x509 provider is available for TLS client certificates, not '${authProv}'`);
  }
  return {
    keyStore, trustStore, clientAuth,
    minVersion: protocolOrder[lo]!, maxVersion: protocolOrder[hi]!, secureOptions,
    ciphers: ciphers.join(':'),
    certReload: r.bool('client.certReload'),
  };
}

function saslSettings(r: Reader): SaslSettings | null {
  const file = r.str('java.security.auth.login.config');
  if (file === null || file === '') return null;
  const key = 'java.security.auth.login.config';
  const section = r.str('sasl.serverconfig') ?? 'Server';
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw r.error(key, `cannot read the JAAS file: ${(e as Error).message}`);
  }
  let sections;
  try {
    sections = parseJaas(text, file);
  } catch (e) {
    if (e instanceof JaasError) throw r.error(key, `JAAS file: ${e.message}`);
    throw e;
  }
  const entries = sections.get(section);
  if (entries === undefined) {
    throw r.error(key, `no JAAS configuration section named '${section}' was found in '${file}'` +
      (r.has('sasl.serverconfig') ? ' (sasl.serverconfig names it)' : ''));
  }
  const users = digestUsers(entries);
  if (users.size === 0) {
    const kerberos = entries.some((e) => /Krb5LoginModule/.test(e.loginModule));
    throw r.error(key, kerberos
      ? `section '${section}' of '${file}' uses Kerberos (GSSAPI), which zoonode does not support; only DIGEST-MD5 users (user_<name>="<password>") are`
      : `section '${section}' of '${file}' defines no DIGEST-MD5 users (user_<name>="<password>")`);
  }
  return {
    jaasFile: path.resolve(file), section,
    users: Object.fromEntries(users),
    superPassword: r.str('SASLAuthenticationProvider.superPassword'),
  };
}

/** Reads and checks the security settings of a configuration (and the JAAS file it names). */
export function securitySettings(cfg: Config): SecuritySettings {
  const r = new Reader(cfg);
  const warnings: string[] = [];
  const securePort = r.int('secureClientPort');
  const portUnification = r.bool('client.portUnification');
  if (r.has('secureClientPortAddress') && (securePort === null || securePort === 0)) {
    throw r.error('secureClientPortAddress', 'is set but secureClientPort is not');
  }
  const tlsOn = (securePort !== null && securePort !== 0) || portUnification;
  if (securePort !== null && securePort !== 0 && securePort === cfg.clientPort) {
    throw r.error('secureClientPort', `is the same port as clientPort (${securePort}); use client.portUnification=true for TLS and plaintext on one port`);
  }
  const tlsSet = tlsOn ? tlsSettings(r, warnings) : null;

  const schemes = new Set(['ip', 'digest']);
  if (tlsOn) schemes.add('x509');
  for (const [k, v] of cfg.raw) {
    if (/^authProvider\.[^.]+$/.test(k)) schemes.add(authProviderClasses.get(v.trim())!);
  }

  const sasl = saslSettings(r);
  const saslSuperUsers: string[] = [];
  for (const [k, v] of cfg.raw) if (k === 'superUser' || /^superUser\.[^.]+$/.test(k)) saslSuperUsers.push(v.trim());

  let enforceSchemes: string[] | null = null;
  let enforceKey = 'enforce.auth.enabled';
  if (r.bool('sessionRequireClientSASLAuth')) {
    enforceSchemes = ['sasl'];
    enforceKey = 'sessionRequireClientSASLAuth';
  } else if (r.bool('enforce.auth.enabled')) {
    enforceSchemes = (r.str('enforce.auth.schemes') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (enforceSchemes.length === 0) throw r.error('enforce.auth.enabled', 'is true, so enforce.auth.schemes must be configured');
    enforceKey = 'enforce.auth.schemes';
  }
  for (const s of enforceSchemes ?? []) {
    if (!schemes.has(s)) {
      const hint = s === 'sasl' ? ' (add authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider)'
        : s === 'x509' ? ' (set secureClientPort or client.portUnification, or add an X509AuthenticationProvider authProvider line)' : '';
      throw r.error(enforceKey, `authentication scheme ${s} is not available${hint}`);
    }
  }
  if (enforceSchemes?.includes('sasl') && sasl === null) {
    warnings.push(`${enforceKey} requires SASL but java.security.auth.login.config is not set: no client can log in with SASL`);
  }

  let auditFile: string | null = null;
  if (r.bool('audit.enable')) {
    const impl = r.str('audit.impl.class');
    if (impl !== null && !/\.(Slf4jAuditLogger|Log4jAuditLogger)$/.test(impl)) {
      throw r.error('audit.impl.class', `'${impl}' is a Java class; zoonode writes its audit log itself (audit.logFile)`);
    }
    auditFile = r.str('audit.logFile')
      ?? path.join(process.env.ZOO_LOG_DIR !== undefined && process.env.ZOO_LOG_DIR !== '' ? process.env.ZOO_LOG_DIR : cfg.dataDir, 'zookeeper_audit.log');
    auditFile = path.resolve(auditFile);
  }

  return {
    securePort: securePort !== null && securePort !== 0 ? securePort : null,
    secureAddress: r.str('secureClientPortAddress') ?? '0.0.0.0',
    portUnification,
    tls: tlsSet,
    schemes: [...schemes],
    x509SuperUser: r.str('X509AuthenticationProvider.superUser'),
    sasl,
    saslSuperUsers,
    allowSaslFailedClients: r.bool('allowSaslFailedClients'),
    letAnySaslUserDoX: r.str('letAnySaslUserDoX'),
    enforceSchemes,
    saslRequired: enforceSchemes?.includes('sasl') ?? false,
    auditFile,
    warnings,
  };
}

/** The operating-system user, Apache's "ZK user" for the audit log's system operations. */
export function serverUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'zookeeper';
  }
}
