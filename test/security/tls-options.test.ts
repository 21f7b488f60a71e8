// TLS options with real clients:
//   - client.portUnification=true: one client port takes plaintext and TLS
//     clients (the first byte decides), four-letter words included;
//   - ssl.clientAuth=want: a client without a certificate is served (no x509
//     id), one with an untrusted certificate is refused; none: no
//     certificate is asked for;
//   - client.certReload=true: a new key store file is picked up by new
//     handshakes without a restart, and an unusable one is ignored;
//   - the zoonode command refuses an unusable TLS configuration with a
//     configuration error naming the key (exit code 2).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startZoonode, startZoonodeSecure, tempDir, type TestServer } from '../support/zoonode.js';
import { fourLetter } from '../support/apache.js';
import { makeTestCerts, opensslBin, opensslSkipReason, type TestCerts } from '../support/tls-certs.js';
import { kazooSecurity, kazooSecuritySkip, peerSubject, sClient } from '../support/security-clients.js';
import { pyStep } from '../support/py-scenario.js';
import { spawnZoonode } from '../support/zoonode-process.js';

const sslSkip = opensslSkipReason();
const kazooSkip = sslSkip ?? kazooSecuritySkip();
let certs: TestCerts;

before(() => { if (sslSkip === null) certs = makeTestCerts(); });
after(() => { if (sslSkip === null) certs.remove(); });

describe('client.portUnification: TLS and plaintext on one port (workers=1)', { skip: sslSkip ?? false }, () => {
  let z: TestServer;
  before(async () => {
    z = await startZoonode({
      workers: 1, 'client.portUnification': true, 'ssl.keyStore.location': certs.serverPem,
      'ssl.trustStore.location': certs.caPem,
    });
  });
  after(async () => { await z?.stop(); });

  test('a four-letter word in plaintext and over TLS', async () => {
    assert.equal(await fourLetter(z.port, 'ruok'), 'imok');
    const r = await sClient(z.port, ['-CAfile', certs.caPem, '-cert', certs.clientCert, '-key', certs.clientKey], 'ruok');
    assert.match(r.stdout, /Verify return code: 0 \(ok\)/);
    assert.match(r.stdout, /imok/);
  });

  test('kazoo in plaintext and kazoo over TLS share the port and see each other\'s writes', { skip: kazooSkip ?? false }, async () => {
    const overTls = await kazooSecurity('tls', {
      hosts: `127.0.0.1:${z.port}`, ssl: true, ca: certs.caPem, certfile: certs.clientCert, keyfile: certs.clientKey,
      dn: certs.clientDn, root: '/unified',
    });
    assert.equal(pyStep(overTls, 'write-read').data, 'over tls');
    // Plaintext kazoo reads what the TLS session wrote; the x509-only node is refused to it.
    const plain = await kazooSecurity('refused', { hosts: `127.0.0.1:${z.port}`, wait: 10 });
    assert.equal(pyStep(plain, 'attempt').refused, null);
  });
});

describe('ssl.clientAuth=want and none', { skip: sslSkip ?? false }, () => {
  let want: TestServer;
  let none: TestServer;
  let wantPort: number;
  let nonePort: number;
  before(async () => {
    const w = await startZoonodeSecure({
      'ssl.clientAuth': 'want', 'ssl.keyStore.location': certs.serverPem, 'ssl.trustStore.location': certs.caPem,
    });
    want = w;
    wantPort = w.securePort;
    const n = await startZoonodeSecure({ 'ssl.clientAuth': 'none', 'ssl.keyStore.location': certs.serverPem });
    none = n;
    nonePort = n.securePort;
  });
  after(async () => { await want?.stop(); await none?.stop(); });

  test('want: no certificate is served, an untrusted one is refused, a trusted one authenticates', async () => {
    const anon = await sClient(wantPort, ['-CAfile', certs.caPem], 'ruok');
    assert.match(anon.stdout, /imok/, anon.stdout + anon.stderr);
    const rogue = await sClient(wantPort, ['-CAfile', certs.caPem, '-cert', certs.rogueCert, '-key', certs.rogueKey], 'ruok');
    assert.doesNotMatch(rogue.stdout, /imok/);
    if (!kazooSkip) {
      const run = await kazooSecurity('tls', {
        hosts: `127.0.0.1:${wantPort}`, ssl: true, ca: certs.caPem, certfile: certs.clientCert, keyfile: certs.clientKey,
        dn: certs.clientDn, root: '/want',
      });
      assert.equal(pyStep(run, 'x509-acl').data, 'secret');
    }
  });

  test('none: the server asks for no certificate', async () => {
    const r = await sClient(nonePort, ['-CAfile', certs.caPem, '-cert', certs.clientCert, '-key', certs.clientKey], 'ruok');
    assert.match(r.stdout, /No client certificate CA names sent/);
    assert.match(r.stdout, /imok/);
  });
});

for (const workers of [0, 2]) describe(`client.certReload, workers=${workers}: new key store files are picked up without a restart`, { skip: sslSkip ?? false }, () => {
  let z: TestServer;
  let dir: string;
  let keystore: string;
  let port: number;
  before(async () => {
    dir = tempDir('reload');
    keystore = path.join(dir, 'server.pem');
    fs.copyFileSync(certs.serverPem, keystore);
    const s = await startZoonodeSecure({ workers, 'client.certReload': true, 'ssl.clientAuth': 'none', 'ssl.keyStore.location': keystore });
    z = s;
    port = s.securePort;
  });
  after(async () => { await z?.stop(); fs.rmSync(dir, { recursive: true, force: true }); });

  test('a replaced key store serves the new certificate; a broken one leaves the old in force', async () => {
    assert.match(await peerSubject(port, {}), /CN=127\.0\.0\.1/);
    // A broken file: ignored (logged), handshakes go on with the current certificate.
    fs.writeFileSync(keystore, 'not a key store\n');
    await new Promise((r) => setTimeout(r, 600));
    assert.match(await peerSubject(port, {}), /CN=127\.0\.0\.1/);
    // A new certificate, written to a temporary name and renamed over the old, as tools do.
    const key = path.join(dir, 'new.key');
    const cert = path.join(dir, 'new.pem');
    const r = spawnSync(opensslBin, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
      '-subj', '/O=reloaded/CN=127.0.0.1'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    fs.writeFileSync(path.join(dir, 'tmp.pem'), fs.readFileSync(key, 'utf8') + fs.readFileSync(cert, 'utf8'));
    fs.renameSync(path.join(dir, 'tmp.pem'), keystore);
    const deadline = Date.now() + 10000;
    let subject = '';
    while (Date.now() < deadline) {
      subject = await peerSubject(port, {});
      if (/O=reloaded/.test(subject)) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.match(subject, /O=reloaded/, 'new handshakes must present the reloaded certificate');
  });
});

describe('the zoonode command and unusable TLS settings', { skip: sslSkip ?? false }, () => {
  test('a wrong key store password is a configuration error naming the key (exit 2), before listening', async () => {
    const dataDir = tempDir('tls-cli');
    try {
      const z = spawnZoonode(dataDir, ['secureClientPort=0', `ssl.keyStore.location=${certs.serverP12}`, 'ssl.keyStore.password=nope',
        'client.portUnification=true']);
      const { code } = await z.exited;
      assert.equal(code, 2, z.output());
      assert.match(z.output(), /zoonode: configuration error: command line.*ssl.keyStore.location: cannot use the key store .*is ssl.keyStore.password right\?/);
      assert.doesNotMatch(z.output(), /listening for clients/);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
