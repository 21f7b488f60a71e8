// Unit tests of src/security: the pieces a real client never isolates.
//   - DIGEST-MD5: RFC 2831's worked example, a full exchange driven the way
//     Java's and pure-sasl's clients drive it, and each refusal's reason;
//   - JAAS files as Apache's users write them, and errors with line numbers;
//   - PKCS#12 trust stores from openssl (AES/PBKDF2 and the older 3DES) with
//     the right and a wrong password;
//   - certificate subjects exactly as Java's X500Principal.getName() prints
//     them (checked against a small Java program when a JDK is installed);
//   - the security keys of zoo.cfg: defaults, file types, and errors naming
//     the file, line and key.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { buildConfig, parseProperties, ConfigError } from '../../src/config/index.js';
import {
  DigestMd5Server, SaslError, digestResponse, parseDirectives, parseJaas, digestUsers, JaasError,
  pkcs12Certificates, Pkcs12Error, certificateSubject, securitySettings, opensslCipherName, formatAuditEvent,
  auditUsers, javaHostAddress, prepareSecurity,
} from '../../src/security/index.js';
import { makeTestCerts, opensslSkipReason, type TestCerts } from '../support/tls-certs.js';
import { tempDir } from '../support/zoonode.js';

const sslSkip = opensslSkipReason();
let certs: TestCerts | null = null;
const dir = tempDir('security-units');

before(() => { if (sslSkip === null) certs = makeTestCerts(); });
after(() => { certs?.remove(); fs.rmSync(dir, { recursive: true, force: true }); });

function cfg(text: string, file = '/etc/zk/zoo.cfg') {
  return buildConfig(parseProperties(`dataDir=${dir}\n${text}`, file), file, 2);
}

function configError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('expected a ConfigError');
}

// ---- DIGEST-MD5 ------------------------------------------------------------------

test('DIGEST-MD5 response and rspauth match the worked example of RFC 2831', () => {
  const nonce = Buffer.from('OA6MG9tEQGm2hh');
  const cnonce = Buffer.from('OA6MHXh6VqTrRk');
  const uri = 'imap/elwood.innosoft.com';
  assert.equal(digestResponse('AUTHENTICATE', 'chris', 'elwood.innosoft.com', 'secret', nonce, cnonce, '00000001', 'auth', uri, null),
    'd388dad90d4bbd760a152321f2143af7');
  assert.equal(digestResponse('', 'chris', 'elwood.innosoft.com', 'secret', nonce, cnonce, '00000001', 'auth', uri, null),
    'ea40f60335c427b5527b84dbabcdfffd');
});

/** The client side, as pure-sasl computes it, for a challenge from the server. */
function clientResponse(challenge: Buffer, user: string, password: string, extra = ''): Buffer {
  const d = parseDirectives(challenge);
  const nonce = d.get('nonce')!;
  const realm = d.get('realm')!.toString();
  const cnonce = Buffer.from('0.123456789');
  const r = digestResponse('AUTHENTICATE', user, realm, password, nonce, cnonce, '00000001', 'auth', 'zookeeper/zk-sasl-md5', null);
  return Buffer.from(`qop=auth,realm="${realm}",username="${user}",nonce="${nonce.toString()}",cnonce="${cnonce.toString()}",` +
    `nc=00000001,digest-uri="zookeeper/zk-sasl-md5",response=${r}${extra}`);
}

test('DIGEST-MD5 server: challenge as Java writes it, then rspauth and the authorised id', () => {
  const s = new DigestMd5Server({ users: { bob: 'bobsecret' }, superPassword: null });
  const challenge = s.evaluate(new Uint8Array(0));
  assert.match(challenge.toString(), /^realm="zk-sasl-md5",nonce="[A-Za-z0-9+/]{40}",charset=utf-8,algorithm=md5-sess$/);
  const out = s.evaluate(clientResponse(challenge, 'bob', 'bobsecret'));
  assert.match(out.toString(), /^rspauth=[0-9a-f]{32}$/);
  assert.ok(s.complete);
  assert.equal(s.authorizationId, 'bob');
  // A further token is out of order.
  assert.throws(() => s.evaluate(new Uint8Array(0)), /illegal state/);
});

test('DIGEST-MD5 server: each refusal says why', () => {
  const refuse = (mangle: (c: Buffer) => Buffer, pattern: RegExp, users: Record<string, string> = { bob: 'bobsecret' }) => {
    const s = new DigestMd5Server({ users, superPassword: null });
    const c = s.evaluate(new Uint8Array(0));
    assert.throws(() => s.evaluate(mangle(c)), (e: Error) => e instanceof SaslError && pattern.test(e.message));
    assert.equal(s.complete, false);
  };
  refuse((c) => clientResponse(c, 'bob', 'wrong'), /Mismatched response/);
  refuse((c) => clientResponse(c, 'mallory', 'x'), /cannot acquire password for mallory/);
  refuse((c) => Buffer.from(clientResponse(c, 'bob', 'bobsecret').toString().replace(/nonce="[^"]*"/, 'nonce="stale"')), /Mismatched nonce/);
  refuse((c) => Buffer.from(clientResponse(c, 'bob', 'bobsecret').toString().replace('zookeeper/zk-sasl-md5', 'ldap/zk-sasl-md5')),
    /Mismatched URI: ldap\/zk-sasl-md5; expecting: zookeeper\/zk-sasl-md5/);
  refuse((c) => Buffer.from(clientResponse(c, 'bob', 'bobsecret').toString().replace('qop=auth', 'qop=auth-conf')), /does not support/);
  refuse((c) => Buffer.from(clientResponse(c, 'bob', 'bobsecret').toString().replace(/username="bob",/, '')), /Missing username/);
  refuse(() => Buffer.from('username="bob'), /unmatched quote/);
});

test('DIGEST-MD5 server: superPassword replaces the JAAS password of user super', () => {
  const s = new DigestMd5Server({ users: { super: 'fromjaas' }, superPassword: 'fromproperty' });
  const c = s.evaluate(new Uint8Array(0));
  assert.throws(() => s.evaluate(clientResponse(c, 'super', 'fromjaas')), /Mismatched response/);
  const s2 = new DigestMd5Server({ users: { super: 'fromjaas' }, superPassword: 'fromproperty' });
  const c2 = s2.evaluate(new Uint8Array(0));
  s2.evaluate(clientResponse(c2, 'super', 'fromproperty'));
  assert.equal(s2.authorizationId, 'super');
});

// ---- JAAS ------------------------------------------------------------------------

test('JAAS: Apache-style sections, comments, quoted values; users from user_ options', () => {
  const text = [
    '/* ZooKeeper server */', 'Server {', '  org.apache.zookeeper.server.auth.DigestLoginModule required',
    '  user_super="adm\\"in" // the admin', '  user_bob="bob secret"', '  debug=true;', '};',
    'Client { org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password="x"; };', '',
  ].join('\n');
  const s = parseJaas(text, 'jaas.conf');
  assert.deepEqual([...s.keys()], ['Server', 'Client']);
  assert.equal(s.get('Server')![0]!.flag, 'required');
  assert.deepEqual(Object.fromEntries(digestUsers(s.get('Server')!)), { super: 'adm"in', bob: 'bob secret' });
  assert.deepEqual(Object.fromEntries(digestUsers(s.get('Client')!)), {});
});

test('JAAS: errors name the file and line', () => {
  const err = (text: string) => {
    try { parseJaas(text, '/etc/jaas.conf'); } catch (e) { assert.ok(e instanceof JaasError); return e.message; }
    assert.fail('expected a JaasError');
  };
  assert.equal(err('Server {\n  Module sometimes\n  a=b;\n};'),
    "/etc/jaas.conf:2: expected a control flag (required, requisite, sufficient, optional) after Module, found 'sometimes'");
  assert.equal(err('Server {\n  M required a="b\n};'), '/etc/jaas.conf:2: unterminated quoted string');
  assert.match(err('Server {\n  M required a=b;\n'), /^\/etc\/jaas.conf:2: unexpected end of file/);
});

// ---- PKCS#12, certificate names --------------------------------------------------

test('PKCS12 trust stores: AES (OpenSSL 3 default) and 3DES, wrong password refused', { skip: sslSkip ?? false }, () => {
  const c = certs!;
  const ca = new X509Certificate(fs.readFileSync(c.caPem));
  const got = pkcs12Certificates(fs.readFileSync(c.trustP12), c.storePassword);
  assert.equal(got.length, 1);
  assert.ok(new X509Certificate(got[0]!).checkIssued(ca) || new X509Certificate(got[0]!).fingerprint256 === ca.fingerprint256);
  const legacy = path.join(c.dir, 'trust-3des.p12');
  const r = spawnSync('/usr/bin/openssl', ['pkcs12', '-export', '-nokeys', '-in', c.caPem, '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1',
    '-out', legacy, '-passout', 'pass:old'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(new X509Certificate(pkcs12Certificates(fs.readFileSync(legacy), 'old')[0]!).fingerprint256, ca.fingerprint256);
  assert.throws(() => pkcs12Certificates(fs.readFileSync(c.trustP12), 'not-it'),
    (e: Error) => e instanceof Pkcs12Error && /wrong password/.test(e.message));
  assert.throws(() => pkcs12Certificates(fs.readFileSync(c.caPem), ''), (e: Error) => e instanceof Pkcs12Error);
  if (c.javaTrustP12 !== null) {
    const java = pkcs12Certificates(fs.readFileSync(c.javaTrustP12), c.storePassword);
    assert.equal(new X509Certificate(java[0]!).fingerprint256, ca.fingerprint256, 'a keytool trust store reads too');
  }
});

test('certificate subjects come out as Java\'s X500Principal.getName() prints them', { skip: sslSkip ?? false }, () => {
  const c = certs!;
  const subjects = [
    '/C=US/O=zoonode tests/OU=clients/CN=alice, the client',
    '/CN= leading and trailing space /O=a+b=c<d>e;f"g\\\\h#i',
    '/DC=org/DC=example/UID=jdoe/CN=J. Doe/emailAddress=jdoe@example.org',
    '/CN=Jürgen Ünicode/O=Ærø',
    '/serialNumber=1234/CN=multi/OU=x',
  ];
  const files: string[] = [];
  subjects.forEach((subj, i) => {
    const f = path.join(c.dir, `subj${i}.pem`);
    const r = spawnSync('/usr/bin/openssl', ['req', '-x509', '-new', '-key', c.clientKey, '-days', '1', '-utf8', '-subj', subj, '-out', f],
      { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    files.push(f);
  });
  // A multi-valued RDN (CN+OU in one RDN).
  const multi = path.join(c.dir, 'subj-multi.pem');
  const r = spawnSync('/usr/bin/openssl', ['req', '-x509', '-new', '-key', c.clientKey, '-days', '1', '-multivalue-rdn', '-subj', '/O=org/CN=a+OU=b', '-out', multi],
    { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  files.push(multi);
  const ours = files.map((f) => certificateSubject(new X509Certificate(fs.readFileSync(f)).raw));
  assert.equal(ours[0], 'CN=alice\\, the client,OU=clients,O=zoonode tests,C=US');
  assert.equal(ours[5], 'CN=a+OU=b,O=org');
  // Java's own answer, when a JDK is here to ask.
  const javac = '/usr/bin/javac';
  if (!fs.existsSync(javac)) return;
  const src = path.join(c.dir, 'PrintDn.java');
  fs.writeFileSync(src, [
    'import java.io.FileInputStream;', 'import java.security.cert.*;',
    'public class PrintDn { public static void main(String[] a) throws Exception {',
    '  CertificateFactory f = CertificateFactory.getInstance("X.509");',
    '  for (String p : a) { X509Certificate c = (X509Certificate) f.generateCertificate(new FileInputStream(p));',
    '    System.out.println(java.util.Base64.getEncoder().encodeToString(c.getSubjectX500Principal().getName().getBytes("UTF-8"))); } } }', '',
  ].join('\n'));
  const comp = spawnSync(javac, ['-d', c.dir, src], { encoding: 'utf8', timeout: 60000 });
  assert.equal(comp.status, 0, comp.stderr);
  const run = spawnSync('/usr/bin/java', ['-cp', c.dir, 'PrintDn', ...files], { encoding: 'utf8', timeout: 60000 });
  assert.equal(run.status, 0, run.stderr);
  const java = run.stdout.trim().split('\n').map((l) => Buffer.from(l, 'base64').toString('utf8'));
  assert.deepEqual(ours, java);
});

// ---- settings ------------------------------------------------------------------------

test('security keys: Apache defaults (clientAuth need, TLSv1.2, ECDHE ciphers), x509 registered with TLS', { skip: sslSkip ?? false }, () => {
  const c = certs!;
  const s = securitySettings(cfg(`secureClientPort=2281\nssl.keyStore.location=${c.serverPem}\n`));
  assert.equal(s.securePort, 2281);
  assert.equal(s.secureAddress, '0.0.0.0');
  assert.equal(s.tls!.clientAuth, 'need');
  assert.equal(s.tls!.minVersion, 'TLSv1.2');
  assert.equal(s.tls!.maxVersion, 'TLSv1.2');
  assert.ok(s.tls!.ciphers.startsWith('ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256'));
  assert.deepEqual(s.schemes.sort(), ['digest', 'ip', 'x509']);
  assert.equal(s.tls!.keyStore.type, 'PEM');
  assert.match(s.warnings.join('\n'), /ssl.trustStore.location is not set/);
  const p = securitySettings(cfg(`client.portUnification=true\nssl.keyStore.location=${c.serverP12}\nssl.keyStore.password=x\n` +
    'ssl.enabledProtocols=TLSv1.3,TLSv1.2\nssl.ciphersuites=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_AES_128_GCM_SHA256\nssl.clientAuth=want\n'));
  assert.equal(p.securePort, null);
  assert.equal(p.tls!.keyStore.type, 'PKCS12');
  assert.equal(p.tls!.maxVersion, 'TLSv1.3');
  assert.equal(p.tls!.ciphers, 'ECDHE-RSA-AES256-GCM-SHA384:TLS_AES_128_GCM_SHA256');
  assert.equal(p.tls!.clientAuth, 'want');
  assert.equal(opensslCipherName('TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA'), 'ECDHE-ECDSA-AES128-SHA');
  assert.equal(opensslCipherName('TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256'), 'ECDHE-RSA-CHACHA20-POLY1305');
  assert.equal(opensslCipherName('TLS_RSA_WITH_AES_256_CBC_SHA256'), 'AES256-SHA256');
  assert.equal(opensslCipherName('not a suite'), null);
});

test('security keys: every mistake names the file, line and key', { skip: sslSkip ?? false }, () => {
  const c = certs!;
  assert.equal(configError(() => cfg('authProvider.1=com.example.MyProvider\n')),
    "/etc/zk/zoo.cfg:2: authProvider.1: unknown authentication provider class 'com.example.MyProvider' " +
    '(zoonode has X509AuthenticationProvider, SASLAuthenticationProvider, DigestAuthenticationProvider, IPAuthenticationProvider)');
  assert.match(configError(() => securitySettings(cfg('secureClientPort=2281\nssl.keyStore.location=/etc/zk/server.jks\n'))),
    /^\/etc\/zk\/zoo.cfg:3: ssl.keyStore.location: '\/etc\/zk\/server.jks' is a JKS store, which zoonode cannot read; convert it to PKCS12/);
  assert.match(configError(() => securitySettings(cfg(`secureClientPort=2281\nssl.keyStore.location=${c.serverPem}\nssl.keyStore.type=JKS\n`))),
    /^\/etc\/zk\/zoo.cfg:4: ssl.keyStore.type: JKS stores are not supported/);
  assert.match(configError(() => securitySettings(cfg('secureClientPort=2281\nssl.keyStore.location=/etc/zk/server.crt\n'))),
    /zoo.cfg:3: ssl.keyStore.location: cannot tell the store type of '\/etc\/zk\/server.crt' from its name/);
  assert.match(configError(() => securitySettings(cfg('secureClientPort=2281\n'))),
    /zoo.cfg:2: secureClientPort: TLS needs ssl.keyStore.location/);
  assert.match(configError(() => securitySettings(cfg(`secureClientPort=2281\nssl.keyStore.location=${c.serverPem}\nssl.clientAuth=maybe\n`))),
    /zoo.cfg:4: ssl.clientAuth: expected none, want or need, got 'maybe'/);
  assert.match(configError(() => securitySettings(cfg(`secureClientPort=2281\nssl.keyStore.location=${c.serverPem}\nssl.ciphersuites=TLS_FOO_BAR\n`))),
    /zoo.cfg:4: ssl.ciphersuites: unknown or unsupported cipher suite 'TLS_FOO_BAR'/);
  assert.match(configError(() => securitySettings(cfg('sessionRequireClientSASLAuth=true\n'))),
    /zoo.cfg:2: sessionRequireClientSASLAuth: authentication scheme sasl is not available \(add authProvider.1=/);
  assert.match(configError(() => securitySettings(cfg('enforce.auth.enabled=true\n'))),
    /zoo.cfg:2: enforce.auth.enabled: is true, so enforce.auth.schemes must be configured/);
  const jaas = path.join(dir, 'jaas-krb.conf');
  fs.writeFileSync(jaas, 'Server { com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true; };\n');
  assert.match(configError(() => securitySettings(cfg(`java.security.auth.login.config=${jaas}\n`))),
    /zoo.cfg:2: java.security.auth.login.config: section 'Server' of .* uses Kerberos \(GSSAPI\), which zoonode does not support/);
  assert.match(configError(() => securitySettings(cfg(`java.security.auth.login.config=${jaas}\nsasl.serverconfig=ZkServer\n`))),
    /no JAAS configuration section named 'ZkServer' was found/);
  // A wrong PKCS12 password is found at start-up, not at the first handshake.
  assert.match(configError(() => prepareSecurity(cfg(`secureClientPort=2281\nssl.keyStore.location=${c.serverP12}\nssl.keyStore.password=nope\n`))),
    /zoo.cfg:3: ssl.keyStore.location: cannot use the key store .*\(is ssl.keyStore.password right\?\)/);
  assert.match(configError(() => prepareSecurity(cfg(`secureClientPort=2281\nssl.keyStore.location=${c.serverPem}\nssl.trustStore.location=${c.trustP12}\nssl.trustStore.password=nope\n`))),
    /zoo.cfg:4: ssl.trustStore.location: cannot read PKCS12 trust store .*wrong password/);
  const q = cfg(`ssl.quorum.keyStore.location=${c.serverPem}\nsslQuorum=true\n`);
  assert.match(q.warnings.join('\n'), /ssl.quorum.keyStore.location' is accepted but quorum TLS is not used/);
});

// ---- audit formatting ----------------------------------------------------------------

test('audit lines: Apache\'s field order, absent fields left out, users as providers name them', () => {
  assert.equal(formatAuditEvent({ session: '0x1a2b', user: '127.0.0.1,bob', ip: '127.0.0.1', operation: 'create', znode: '/a',
    znodeType: 'persistent' }, 'success'),
  'session=0x1a2b\tuser=127.0.0.1,bob\tip=127.0.0.1\toperation=create\tznode=/a\tznode_type=persistent\tresult=success');
  assert.equal(formatAuditEvent({ user: 'root', operation: 'serverStop' }, 'invoked'), 'user=root\toperation=serverStop\tresult=invoked');
  assert.equal(auditUsers([{ scheme: 'ip', id: '10.0.0.1' }, { scheme: 'digest', id: 'bob:abc=' }, { scheme: 'super', id: '' },
    { scheme: 'x509', id: 'CN=a' }]), '10.0.0.1,bob,CN=a');
  assert.equal(javaHostAddress('::1'), '0:0:0:0:0:0:0:1');
  assert.equal(javaHostAddress('fe80::a:1'), 'fe80:0:0:0:0:0:a:1');
  assert.equal(javaHostAddress('127.0.0.1'), '127.0.0.1');
});
