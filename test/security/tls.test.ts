// TLS on secureClientPort with real clients over real sockets, under
// workers=0 (one thread) and workers=2 (handshakes in two I/O threads):
//   - openssl s_client: the handshake Apache's defaults give (TLSv1.2, an
//     ECDHE suite, the server certificate for 127.0.0.1 verified), and a
//     four-letter word over TLS;
//   - kazoo with a client certificate: writes, reads, and an ACL for the
//     certificate's x509 id, which only that connection passes;
//   - the Java client (Netty, PKCS12 trust and key stores): whoAmI reports the
//     x509 id as Apache names it;
//   - refused, each with its reason logged and the server still serving:
//     plaintext to the TLS-only port, no client certificate, an expired one,
//     one from an untrusted CA.
// workers=0 uses a PEM key store and an openssl PKCS12 trust store; workers=2
// a PKCS12 key store and a keytool (Java) PKCS12 trust store.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setLogSink } from '../../src/util/log.js';
import { startZoonodeSecure, type TestServer } from '../support/zoonode.js';
import { RawConn, connectRequestFrame } from '../support/compat-wire.js';
import { makeTestCerts, opensslSkipReason, type TestCerts } from '../support/tls-certs.js';
import {
  compileJavaClient, javaSkip, kazooSecurity, kazooSecuritySkip, sClient, type JavaClient,
} from '../support/security-clients.js';
import { pyStep } from '../support/py-scenario.js';

const sslSkip = opensslSkipReason();
const kazooSkip = sslSkip ?? kazooSecuritySkip();
const jSkip = sslSkip ?? javaSkip();

let certs: TestCerts;
let javaClient: JavaClient | null = null;
const logs: string[] = [];

before(async () => {
  if (sslSkip !== null) return;
  certs = makeTestCerts();
  setLogSink((level, component, msg) => {
    logs.push(`${level} [${component}] ${msg}`);
    if (level === 'error') process.stderr.write(`${component}: ${msg}\n`);
  });
  if (jSkip === null) javaClient = await compileJavaClient();
});
after(() => {
  setLogSink(null);
  javaClient?.remove();
  if (sslSkip === null) certs.remove();
});

async function mntrValue(z: TestServer, key: string): Promise<number> {
  const m = new RegExp(`^zk_${key}\t(\\S+)$`, 'm').exec(await z.server.hub.fourLetter('mntr'));
  assert.ok(m !== null, `mntr has zk_${key}`);
  return Number(m[1]);
}

async function metricValue(z: TestServer, name: string): Promise<number> {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(await z.server.hub.metrics());
  assert.ok(m !== null, `/metrics has ${name}`);
  return Number(m[1]);
}

/** Waits (bounded) for a log line matching re, written after index `from`. */
async function logLine(re: RegExp, from: number, ms = 5000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = logs.slice(from).find((l) => re.test(l));
    if (hit !== undefined) return hit;
    if (Date.now() > deadline) assert.fail(`no log line matching ${re} within ${ms} ms; got:\n${logs.slice(from).join('\n')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

for (const workers of [0, 2] as const) {
  describe(`TLS on secureClientPort, workers=${workers}`, { skip: sslSkip ?? false }, () => {
    let z: TestServer;
    let sp: number;

    before(async () => {
      const stores: Record<string, string> = workers === 0
        ? { 'ssl.keyStore.location': certs.serverPem, 'ssl.trustStore.location': certs.trustP12 }
        : {
          'ssl.keyStore.location': certs.serverP12, 'ssl.keyStore.password': certs.storePassword,
          'ssl.trustStore.location': certs.javaTrustP12 ?? certs.trustP12,
        };
      const s = await startZoonodeSecure({ workers, 'ssl.trustStore.password': certs.storePassword, ...stores });
      z = s;
      sp = s.securePort;
      assert.equal(z.server.securePort, sp);
    });
    after(async () => { await z?.stop(); });

    test('openssl s_client: TLSv1.2 with an ECDHE suite, the server verified for 127.0.0.1, ruok answered over TLS', async () => {
      const r = await sClient(sp, ['-CAfile', certs.caPem, '-cert', certs.clientCert, '-key', certs.clientKey,
        '-verify_return_error', '-verify_ip', '127.0.0.1'], 'ruok');
      assert.match(r.stdout, /Verify return code: 0 \(ok\)/, r.stdout + r.stderr);
      assert.match(r.stdout, /Protocol *: TLSv1\.2/);
      assert.match(r.stdout, /Cipher *: ECDHE-RSA-AES128-GCM-SHA256/);
      assert.match(r.stdout, /imok/);
    });

    test('kazoo over TLS with a client certificate: writes, reads, an ACL for its x509 id', { skip: kazooSkip ?? false }, async () => {
      const run = await kazooSecurity('tls', {
        hosts: `127.0.0.1:${sp}`, ssl: true, ca: certs.caPem, certfile: certs.clientCert, keyfile: certs.clientKey,
        dn: certs.clientDn, root: `/tls-${workers}`,
      });
      pyStep(run, 'connect');
      assert.equal(pyStep(run, 'write-read').data, 'over tls');
      const acl = pyStep(run, 'x509-acl');
      assert.equal(acl.data, 'secret');
      assert.deepEqual(acl.acl, [[31, 'x509', certs.clientDn]]);
      assert.equal(pyStep(run, 'addauth-x509').exists, true, 'addauth x509 succeeds on a connection with a verified certificate');
      // Another session, on the plaintext port, is not that certificate.
      const plain = await kazooSecurity('refused', { hosts: `127.0.0.1:${z.port}`, wait: 10 });
      assert.equal(pyStep(plain, 'attempt').refused, null);
    });

    test('the Java client (Netty, PKCS12 trust store): whoAmI names the certificate as Apache does', { skip: jSkip ?? false }, async () => {
      const trust = certs.javaTrustP12 ?? certs.trustP12;
      const { steps, out } = await javaClient!.run(`127.0.0.1:${sp}`, `/java-tls-${workers}`, [
        '-Dzookeeper.client.secure=true', '-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty',
        `-Dzookeeper.ssl.trustStore.location=${trust}`, `-Dzookeeper.ssl.trustStore.password=${certs.storePassword}`,
        '-Dzookeeper.ssl.trustStore.type=PKCS12',
        `-Dzookeeper.ssl.keyStore.location=${certs.clientP12}`, `-Dzookeeper.ssl.keyStore.password=${certs.storePassword}`,
        '-Dzookeeper.ssl.keyStore.type=PKCS12',
      ]);
      const ctx = `\n--- stdout:\n${out.stdout}\n--- stderr:\n${out.stderr.slice(-3000)}`;
      assert.equal(steps.get('connect')?.ok, true, ctx);
      assert.equal(steps.get('write-read')?.data, 'java', ctx);
      // The certificate's id first, as Apache's Netty server adds it at the end of the handshake.
      assert.deepEqual(steps.get('whoami')?.ids, [['x509', certs.clientDn], ['ip', '127.0.0.1']], ctx);
    });

    test('refused clearly: plaintext on the TLS port, no certificate, expired, untrusted; the server goes on; each one counted', async () => {
      const from = logs.length;
      const authFailed0 = await mntrValue(z, 'auth_failed_count');
      const unsuccessful0 = await metricValue(z, 'unsuccessful_handshake');
      // A plaintext ZooKeeper handshake on the TLS-only port: closed, nothing answered.
      const raw = await RawConn.open('127.0.0.1', sp);
      raw.write(connectRequestFrame({ withReadOnlyByte: true }));
      assert.ok(await raw.waitClosed(15000), 'the TLS port must close a plaintext client');
      assert.equal(raw.frames.length, 0);
      if (workers === 0) await logLine(/closing TLS connection from 127\.0\.0\.1:\d+: TLS handshake failed: .*plaintext client on a TLS port/, from);

      const refusedWith = async (cert: string | null, key: string | null, why: RegExp) => {
        const args = ['-CAfile', certs.caPem, ...(cert === null ? [] : ['-cert', cert, '-key', key!])];
        const mark = logs.length;
        const r = await sClient(sp, args, 'ruok');
        assert.doesNotMatch(r.stdout, /imok/, `${why}: must not be answered`);
        if (workers === 0) await logLine(why, mark);
      };
      await refusedWith(null, null, /closing TLS connection .*: no client certificate \(ssl.clientAuth=need\)/);
      await refusedWith(certs.expiredCert, certs.expiredKey, /client certificate 'O=zoonode tests, CN=expired client' refused: it has expired/);
      await refusedWith(certs.rogueCert, certs.rogueKey, /client certificate 'CN=rogue client' refused: it is not signed by a CA in ssl.trustStore/);
      // Apache's Netty server counts every failed handshake in auth_failed_count and unsuccessful_handshake.
      assert.equal(await mntrValue(z, 'auth_failed_count') - authFailed0, 4, 'mntr auth_failed_count: 4 refused handshakes');
      assert.equal(await metricValue(z, 'unsuccessful_handshake') - unsuccessful0, 4, '/metrics unsuccessful_handshake');

      if (!kazooSkip) {
        const expired = await kazooSecurity('refused', {
          hosts: `127.0.0.1:${sp}`, ssl: true, ca: certs.caPem, certfile: certs.expiredCert, keyfile: certs.expiredKey, wait: 3,
        });
        assert.notEqual(pyStep(expired, 'attempt').refused, null, 'kazoo with an expired certificate must not get a session');
      }
      // Still serving TLS and plaintext.
      const ok = await sClient(sp, ['-CAfile', certs.caPem, '-cert', certs.clientCert, '-key', certs.clientKey], 'ruok');
      assert.match(ok.stdout, /imok/);
      const plain = await RawConn.open('127.0.0.1', z.port);
      plain.write(connectRequestFrame({ withReadOnlyByte: true }));
      await plain.waitFrames(1);
      assert.equal(plain.frames.length, 1, 'the plaintext port still answers handshakes');
      plain.destroy();
    });
  });
}
