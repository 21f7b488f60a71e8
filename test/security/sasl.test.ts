// SASL DIGEST-MD5 and enforced authentication with real clients over real
// sockets, under workers=0 and workers=2:
//   - kazoo with pure-sasl logs in (users from a JAAS file given as a zoo.cfg
//     key), creates a node only sasl:<user> may read; another session is
//     refused it; a wrong password fails the login (AuthFailedError);
//   - kazoo over TLS and SASL at once (an ACL naming the SASL user, on the
//     TLS-only port);
//   - the Java client logs in through a JAAS Client section and whoAmI shows
//     sasl:<user>; with a wrong password it reaches the AuthFailed state;
//   - sessionRequireClientSASLAuth=true: the Java client without SASL
//     cannot work; with SASL it can;
//   - the audit log (audit.logFile) holds the login, the writes and the
//     failed login, in Apache's fields.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startZoonode, startZoonodeSecure, tempDir, type TestServer } from '../support/zoonode.js';
import { makeTestCerts, opensslSkipReason, type TestCerts } from '../support/tls-certs.js';
import { compileJavaClient, javaSkip, kazooSecurity, kazooSecuritySkip, type JavaClient } from '../support/security-clients.js';
import { pyStep } from '../support/py-scenario.js';

const kazooSkip = kazooSecuritySkip();
const jSkip = javaSkip();
const sslSkip = opensslSkipReason();
let dir: string;
let serverJaas: string;
let javaClient: JavaClient | null = null;
let certs: TestCerts | null = null;

function clientJaas(user: string, password: string): string {
  const f = path.join(dir, `client-${user}-${password}.conf`);
  fs.writeFileSync(f, `Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  username="${user}"\n  password="${password}";\n};\n`);
  return f;
}

before(async () => {
  dir = tempDir('sasl');
  serverJaas = path.join(dir, 'jaas.conf');
  fs.writeFileSync(serverJaas, [
    '// users for DIGEST-MD5, as Apache reads them', 'Server {', '  org.apache.zookeeper.server.auth.DigestLoginModule required',
    '  user_super="adminsecret"', '  user_bob="bobsecret";', '};', '',
  ].join('\n'));
  if (jSkip === null) javaClient = await compileJavaClient();
  if (sslSkip === null) certs = makeTestCerts();
});
after(() => {
  javaClient?.remove();
  certs?.remove();
  fs.rmSync(dir, { recursive: true, force: true });
});

for (const workers of [0, 2] as const) {
  describe(`SASL DIGEST-MD5, workers=${workers}`, () => {
    let z: TestServer;
    let audit: string;
    let sp = 0;
    before(async () => {
      audit = path.join(dir, `audit-${workers}.log`);
      const settings = {
        workers, 'java.security.auth.login.config': serverJaas,
        'authProvider.1': 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider',
        'audit.enable': true, 'audit.logFile': audit,
      };
      if (certs === null) z = await startZoonode(settings);
      else {
        const s = await startZoonodeSecure({ ...settings, 'ssl.keyStore.location': certs.serverPem, 'ssl.trustStore.location': certs.caPem });
        z = s;
        sp = s.securePort;
      }
    });
    after(async () => { await z?.stop(); });

    test('kazoo logs in, owns a sasl:bob node, another session is refused it; a wrong password fails', { skip: kazooSkip ?? false }, async () => {
      const run = await kazooSecurity('sasl', { hosts: z.connectString, sasl: { user: 'bob', password: 'bobsecret' }, root: `/sasl-${workers}` });
      pyStep(run, 'connect');
      assert.equal(pyStep(run, 'sasl-acl').data, 'for bob');
      assert.equal(pyStep(run, 'other-session').refused, 'NoAuthError');
      const wrong = await kazooSecurity('refused', { hosts: z.connectString, sasl: { user: 'bob', password: 'guess' } });
      assert.equal(pyStep(wrong, 'attempt').refused, 'AuthFailedError');
    });

    test('kazoo over TLS with SASL on the TLS-only port', { skip: kazooSkip ?? sslSkip ?? false }, async () => {
      const run = await kazooSecurity('sasl', {
        hosts: `127.0.0.1:${sp}`, ssl: true, ca: certs!.caPem, certfile: certs!.clientCert, keyfile: certs!.clientKey,
        sasl: { user: 'bob', password: 'bobsecret' }, root: `/tls-sasl-${workers}`,
      });
      assert.equal(pyStep(run, 'sasl-acl').data, 'for bob');
    });

    test('the Java client logs in with a JAAS Client section; a wrong password reaches AuthFailed', { skip: jSkip ?? false }, async () => {
      const ok = await javaClient!.run(z.connectString, `/java-sasl-${workers}`, [`-Djava.security.auth.login.config=${clientJaas('bob', 'bobsecret')}`]);
      const ctx = `\n${ok.out.stdout}\n${ok.out.stderr.slice(-2000)}`;
      assert.equal(ok.steps.get('write-read')?.data, 'java', ctx);
      assert.deepEqual(ok.steps.get('whoami')?.ids, [['sasl', 'bob'], ['ip', '127.0.0.1']], ctx);
      assert.match(String(ok.steps.get('states')?.states), /SaslAuthenticated/, ctx);
      const bad = await javaClient!.run(z.connectString, `/java-bad-${workers}`, [`-Djava.security.auth.login.config=${clientJaas('bob', 'nope')}`]);
      assert.match(String(bad.steps.get('states')?.states), /AuthFailed/, bad.out.stdout);
      assert.equal(bad.steps.get('write-read')?.ok, false);
    });

    test('the audit log has the logins, the writes and the failed login', async () => {
      // The lines are written as the requests complete; the file is appended asynchronously.
      const deadline = Date.now() + 5000;
      let text = '';
      while (Date.now() < deadline) {
        text = fs.existsSync(audit) ? fs.readFileSync(audit, 'utf8') : '';
        if (/operation=auth:sasl\tresult=failure/.test(text) && /znode=\/sasl-/.test(text)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      if (kazooSkip !== null) return;
      assert.match(text, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO audit\.Slf4jAuditLogger: user=\S+\toperation=serverStart\tresult=success$/m);
      assert.match(text, new RegExp(`INFO audit\\.Slf4jAuditLogger: session=0x[0-9a-f]+\tuser=bob,127\\.0\\.0\\.1\tip=127\\.0\\.0\\.1\t` +
        `operation=create\tznode=/sasl-${workers}\tznode_type=persistent\tresult=success`));
      assert.match(text, /session=0x[0-9a-f]+\tuser=bob,127\.0\.0\.1\tip=127\.0\.0\.1\toperation=auth:sasl\tresult=success/);
      assert.match(text, /ERROR audit\.Slf4jAuditLogger: session=0x[0-9a-f]+\tuser=bob\tip=127\.0\.0\.1\toperation=auth:sasl\tresult=failure/);
    });
  });
}

describe('sessionRequireClientSASLAuth=true (workers=1)', { skip: jSkip ?? false }, () => {
  let z: TestServer;
  before(async () => {
    z = await startZoonode({
      workers: 1, 'java.security.auth.login.config': serverJaas, sessionRequireClientSASLAuth: true,
      'authProvider.1': 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider',
    });
  });
  after(async () => { await z?.stop(); });

  test('a client without SASL gets nothing done; with SASL it works', async () => {
    const none = await javaClient!.run(z.connectString, '/no-sasl', ['-Dzookeeper.sasl.client=false'], 30000);
    assert.equal(none.steps.get('write-read')?.ok, false, none.out.stdout);
    const ok = await javaClient!.run(z.connectString, '/with-sasl', [`-Djava.security.auth.login.config=${clientJaas('bob', 'bobsecret')}`]);
    assert.equal(ok.steps.get('write-read')?.data, 'java', ok.out.stdout + ok.out.stderr.slice(-2000));
  });
});
