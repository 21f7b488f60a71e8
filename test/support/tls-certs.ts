// Test support (not a test file): certificates made with the openssl command
// at test time in a temporary directory (no binary fixtures in the
// repository): a test CA, a server certificate for 127.0.0.1 (with
// subjectAltName IP:127.0.0.1), client certificates (trusted, expired, and
// one signed by another CA), and the same material as PEM key stores, PKCS12
// key and trust stores, and (when keytool is installed) a Java PKCS12 trust
// store.

import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { tempDir } from './zoonode.js';

export const opensslBin = '/usr/bin/openssl';
export const keytoolBin = '/usr/bin/keytool';

export function opensslSkipReason(): string | null {
  if (!fs.existsSync(opensslBin)) return `${opensslBin} is missing (Debian package openssl)`;
  return null;
}

export interface TestCerts {
  dir: string;
  /** PEM certificate of the test CA (a PEM trust store). */
  caPem: string;
  /** PEM key store: the server's key and certificate in one file (Apache's PEM type). */
  serverPem: string;
  /** Server key and certificate, separately (for clients such as kazoo). */
  serverKey: string;
  serverCert: string;
  /** PKCS12 key store of the server, password `storePassword`. */
  serverP12: string;
  /** PKCS12 trust store holding the CA (openssl -nokeys), password `storePassword`. */
  trustP12: string;
  /** A Java PKCS12 trust store (keytool), password `storePassword`; null without keytool. */
  javaTrustP12: string | null;
  /** A Java PKCS12 key store with the trusted client key (keytool-readable), password `storePassword`. */
  clientP12: string;
  clientKey: string;
  clientCert: string;
  /** The client certificate's subject as Java's X500Principal.getName() prints it. */
  clientDn: string;
  expiredKey: string;
  expiredCert: string;
  /** A client certificate signed by a CA the server does not trust. */
  rogueKey: string;
  rogueCert: string;
  storePassword: string;
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  const r = spawnSync(opensslBin, args, { cwd: dir, encoding: 'utf8', timeout: 30000 });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr || r.error}`);
}

/** Makes the whole set; takes a second or two (RSA key generation). */
export function makeTestCerts(): TestCerts {
  const dir = tempDir('certs');
  const p = (f: string) => path.join(dir, f);
  const pw = 'changeit';
  const key = (name: string) => openssl(dir, ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', name]);
  // CA
  key('ca.key');
  openssl(dir, ['req', '-x509', '-new', '-key', 'ca.key', '-days', '30', '-subj', '/C=US/O=zoonode tests/CN=zoonode test CA',
    '-out', 'ca.pem']);
  // A CA config for `openssl ca`, which can set any validity window (an expired certificate).
  fs.mkdirSync(p('ca-db'));
  fs.writeFileSync(p('ca-db/index.txt'), '');
  fs.writeFileSync(p('ca-db/serial'), '1000\n');
  fs.writeFileSync(p('ca.cnf'), [
    '[ ca ]', 'default_ca = test_ca', '[ test_ca ]', `dir = ${dir}`, 'database = $dir/ca-db/index.txt',
    'serial = $dir/ca-db/serial', 'new_certs_dir = $dir/ca-db', 'certificate = $dir/ca.pem', 'private_key = $dir/ca.key',
    'default_md = sha256', 'policy = any', 'unique_subject = no', 'copy_extensions = copy', 'email_in_dn = no',
    '[ any ]', 'countryName = optional', 'organizationName = optional', 'organizationalUnitName = optional',
    'commonName = supplied', '',
  ].join('\n'));
  const sign = (csr: string, out: string, start: string, end: string, ext?: string) => {
    const args = ['ca', '-batch', '-config', 'ca.cnf', '-in', csr, '-out', out, '-startdate', start, '-enddate', end, '-notext'];
    if (ext !== undefined) args.push('-extfile', ext);
    openssl(dir, args);
  };
  const stamp = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  const now = Date.now();
  const from = stamp(new Date(now - 86400000));
  const to = stamp(new Date(now + 30 * 86400000));
  // Server: CN=127.0.0.1 with subjectAltName IP:127.0.0.1
  key('server.key');
  openssl(dir, ['req', '-new', '-key', 'server.key', '-subj', '/O=zoonode tests/CN=127.0.0.1', '-out', 'server.csr']);
  fs.writeFileSync(p('server.ext'), 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n');
  sign('server.csr', 'server.pem', from, to, 'server.ext');
  fs.writeFileSync(p('server-keystore.pem'), fs.readFileSync(p('server.key'), 'utf8') + fs.readFileSync(p('server.pem'), 'utf8'));
  openssl(dir, ['pkcs12', '-export', '-inkey', 'server.key', '-in', 'server.pem', '-certfile', 'ca.pem', '-name', 'server',
    '-out', 'server.p12', '-passout', `pass:${pw}`]);
  openssl(dir, ['pkcs12', '-export', '-nokeys', '-in', 'ca.pem', '-out', 'trust.p12', '-passout', `pass:${pw}`]);
  // Clients
  fs.writeFileSync(p('client.ext'), 'extendedKeyUsage = clientAuth\n');
  key('client.key');
  openssl(dir, ['req', '-new', '-key', 'client.key', '-subj', '/C=US/O=zoonode tests/OU=clients/CN=alice, the client', '-out', 'client.csr']);
  sign('client.csr', 'client.pem', from, to, 'client.ext');
  openssl(dir, ['pkcs12', '-export', '-inkey', 'client.key', '-in', 'client.pem', '-certfile', 'ca.pem', '-name', 'client',
    '-out', 'client.p12', '-passout', `pass:${pw}`]);
  key('expired.key');
  openssl(dir, ['req', '-new', '-key', 'expired.key', '-subj', '/O=zoonode tests/CN=expired client', '-out', 'expired.csr']);
  sign('expired.csr', 'expired.pem', stamp(new Date(now - 10 * 86400000)), stamp(new Date(now - 2 * 86400000)), 'client.ext');
  key('rogue-ca.key');
  openssl(dir, ['req', '-x509', '-new', '-key', 'rogue-ca.key', '-days', '30', '-subj', '/CN=rogue CA', '-out', 'rogue-ca.pem']);
  key('rogue.key');
  openssl(dir, ['req', '-new', '-key', 'rogue.key', '-subj', '/CN=rogue client', '-out', 'rogue.csr']);
  openssl(dir, ['x509', '-req', '-in', 'rogue.csr', '-CA', 'rogue-ca.pem', '-CAkey', 'rogue-ca.key', '-CAcreateserial',
    '-days', '30', '-out', 'rogue.pem']);
  let javaTrust: string | null = null;
  if (fs.existsSync(keytoolBin)) {
    execFileSync(keytoolBin, ['-importcert', '-noprompt', '-alias', 'zoonode-ca', '-file', p('ca.pem'), '-keystore', p('java-trust.p12'),
      '-storetype', 'PKCS12', '-storepass', pw], { stdio: 'ignore', timeout: 60000 });
    javaTrust = p('java-trust.p12');
  }
  return {
    dir, caPem: p('ca.pem'), serverPem: p('server-keystore.pem'), serverKey: p('server.key'), serverCert: p('server.pem'),
    serverP12: p('server.p12'), trustP12: p('trust.p12'), javaTrustP12: javaTrust, clientP12: p('client.p12'),
    clientKey: p('client.key'), clientCert: p('client.pem'),
    clientDn: 'CN=alice\\, the client,OU=clients,O=zoonode tests,C=US',
    expiredKey: p('expired.key'), expiredCert: p('expired.pem'), rogueKey: p('rogue.key'), rogueCert: p('rogue.pem'),
    storePassword: pw,
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
