// SASL, enforced authentication and the audit log, side by side with Apache
// ZooKeeper 3.8 configured the same way, over raw frames (so every byte of
// the replies is compared, not a client's reading of them):
//   - DIGEST-MD5 login: the challenge's shape, the reply headers (zxid 0),
//     rspauth, the sasl id in whoAmI, ACLs for sasl ids, a superUser;
//   - failed logins (wrong password, unknown user, a broken response): the
//     error code, the SetSASLResponse body and the closed connection;
//   - SASL with no JAAS file; addauth sasl;
//   - sessionRequireClientSASLAuth and enforce.auth.schemes=digest: what an
//     unauthenticated request (a ping too) gets, and that the connection closes;
//   - audit.enable: the lines for writes, failed writes, multi, setAcl and an
//     ephemeral node deleted with its session (session ids masked);
//   - TLS with client certificates (Apache with its Netty server): what the
//     Java client's whoAmI reports, the x509 id included.
// The zoonode runs with workers=0. Skips when Apache is not installed.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startZoonode, startZoonodeSecure, tempDir, type TestServer } from '../support/zoonode.js';
import { isApacheInstalled, startApache, type ApacheServer } from '../support/apache.js';
import { RawConn, connectRequestFrame, requestFrame } from '../support/compat-wire.js';
import { Reader } from '../../src/jute/reader.js';
import { OpCode } from '../../src/jute/opcodes.js';
import { writeCreate, writePathVersion, writeSetData, writeSetACL, writeMultiRequest, type ACL } from '../../src/jute/records.js';
import { digestResponse, parseDirectives } from '../../src/security/index.js';
import { makeTestCerts, opensslSkipReason } from '../support/tls-certs.js';
import { compileJavaClient, javaSkip } from '../support/security-clients.js';
import { freePort } from '../support/apache.js';

const skip = isApacheInstalled() ? false : 'Apache ZooKeeper is not installed (Debian package zookeeper)';
const OPEN: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const slf4jSimple = '/usr/share/java/slf4j-simple.jar';

interface Target { name: string; port: number }

/** One raw connection with a finished handshake and a request/reply helper. */
class Client {
  private xid = 0;
  private constructor(readonly c: RawConn) {}

  static async open(t: Target): Promise<Client> {
    const c = await RawConn.open('127.0.0.1', t.port);
    c.write(connectRequestFrame({ withReadOnlyByte: true, timeOut: 10000 }));
    await c.waitFrames(1);
    assert.equal(c.frames.length, 1, `${t.name}: no ConnectResponse`);
    return new Client(c);
  }

  /** Sends a request; the reply's header and the rest of its body, or 'closed' if the server hung up first. */
  async req(type: number, write: (w: import('../../src/jute/writer.js').Writer) => void = () => {}, xid = ++this.xid) {
    const n = this.c.frames.length;
    this.c.write(requestFrame(xid, type, write));
    await this.c.waitFrames(n + 1, 8000);
    const f = this.c.frames[n];
    if (f === undefined) return { closed: true } as const;
    const r = new Reader(f);
    return { closed: false, xid: r.int(), zxid: r.long(), err: r.int(), rest: f.subarray(r.pos) } as const;
  }

  async closedSoon(): Promise<boolean> {
    return this.c.waitClosed(8000);
  }

  destroy(): void {
    this.c.destroy();
  }
}

/** buffer field of a reply body: null, or its bytes. */
function bufferOf(rest: Buffer): Buffer | null {
  const r = new Reader(rest);
  const b = r.buffer();
  return b === null ? null : Buffer.from(b);
}

function clientResponse(challenge: Buffer, user: string, password: string): Buffer {
  const d = parseDirectives(challenge);
  const nonce = d.get('nonce')!;
  const realm = d.get('realm')!.toString();
  const cnonce = Buffer.from('c2Fzbm9uY2U=');
  const r = digestResponse('AUTHENTICATE', user, realm, password, nonce, cnonce, '00000001', 'auth', 'zookeeper/zk-sasl-md5', null);
  return Buffer.from(`charset=utf-8,username="${user}",realm="${realm}",nonce="${nonce.toString()}",nc=00000001,` +
    `cnonce="${cnonce.toString()}",digest-uri="zookeeper/zk-sasl-md5",maxbuf=65536,response=${r},qop=auth`);
}

async function whoAmI(c: Client) {
  const r = await c.req(OpCode.whoAmI);
  if (r.closed) return 'closed';
  const rd = new Reader(r.rest);
  const out: string[] = [];
  for (let n = rd.int(); n > 0; n--) out.push(`${rd.ustring()}:${rd.ustring()}`);
  return { err: r.err, ids: out };
}

/** A full DIGEST-MD5 login; what each step answered, normalised (nonces masked, rspauth checked). */
async function login(c: Client, user: string, password: string) {
  const steps: unknown[] = [];
  const first = await c.req(OpCode.sasl, (w) => w.buffer(Buffer.alloc(0)));
  if (first.closed) return ['closed'];
  const challenge = bufferOf(first.rest);
  steps.push({ err: first.err, zxid: first.zxid, challenge: challenge?.toString().replace(/nonce="[^"]*"/, 'nonce="N"') ?? null });
  if (challenge === null) return steps;
  const resp = clientResponse(challenge, user, password);
  const second = await c.req(OpCode.sasl, (w) => w.buffer(resp));
  if (second.closed) return [...steps, 'closed'];
  const token = bufferOf(second.rest);
  let rsp: string | null = token === null ? null : token.toString();
  if (rsp !== null) {
    const d = parseDirectives(challenge);
    const expected = digestResponse('', user, 'zk-sasl-md5', password, d.get('nonce')!, Buffer.from('c2Fzbm9uY2U='), '00000001', 'auth',
      'zookeeper/zk-sasl-md5', null);
    rsp = rsp === `rspauth=${expected}` ? 'rspauth=<valid>' : rsp;
  }
  steps.push({ err: second.err, zxid: second.zxid, token: rsp, bodyHex: token === null ? second.rest.toString('hex') : undefined });
  return steps;
}

function jaas(dir: string): string {
  const f = path.join(dir, 'jaas.conf');
  fs.writeFileSync(f, 'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_bob="bobsecret"\n  user_carol="carolsecret";\n};\n');
  return f;
}

async function both(settings: Record<string, string>, jaasFile: string | null, scenario: (t: Target) => Promise<unknown>,
  extra: { audit?: boolean } = {}): Promise<{ zoo: unknown; apache: unknown; zooAudit: string[]; apacheAudit: string[] }> {
  const dir = tempDir('sec-diff');
  let z: TestServer | null = null;
  let a: ApacheServer | null = null;
  try {
    const auditFile = path.join(dir, 'audit.log');
    z = await startZoonode({
      ...settings, ...(jaasFile === null ? {} : { 'java.security.auth.login.config': jaasFile }),
      ...(extra.audit ? { 'audit.enable': 'true', 'audit.logFile': auditFile } : {}),
    });
    a = await startApache({ ...settings, ...(extra.audit ? { 'audit.enable': 'true' } : {}) }, {
      jvmProps: jaasFile === null ? [] : [`-Djava.security.auth.login.config=${jaasFile}`],
      classpath: extra.audit && fs.existsSync(slf4jSimple) ? [slf4jSimple] : [],
    });
    const zoo = await scenario({ name: 'zoonode', port: z.port });
    const apache = await scenario({ name: 'apache', port: a.port });
    await z.server.stop();
    await new Promise((r) => setTimeout(r, 300));
    const zooAudit = extra.audit ? fs.readFileSync(auditFile, 'utf8').split('\n').filter((l) => l !== '')
      .map((l) => l.replace(/^.*? (INFO|ERROR) audit\.Slf4jAuditLogger: /, '$1 ')) : [];
    const apacheAudit = a.output().split('\n').filter((l) => /Slf4jAuditLogger/.test(l))
      .map((l) => l.replace(/^.* (INFO|ERROR) org\.apache\.zookeeper\.audit\.Slf4jAuditLogger - /, '$1 '));
    return { zoo, apache, zooAudit, apacheAudit };
  } finally {
    await z?.stop();
    await a?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('SASL and enforcement, zoonode against Apache ZooKeeper 3.8', { skip }, () => {
  let dir: string;
  before(() => { dir = tempDir('sec-jaas'); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('DIGEST-MD5 logins, failures, sasl ACLs and superUser', async () => {
    const settings = { 'authProvider.1': 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider', superUser: 'carol' };
    const { zoo, apache } = await both(settings, jaas(dir), async (t) => {
      const out: Record<string, unknown> = {};
      const bob = await Client.open(t);
      out.login = await login(bob, 'bob', 'bobsecret');
      out.whoAmI = await whoAmI(bob);
      const acl = [{ perms: 31, id: { scheme: 'sasl', id: 'bob' } }];
      out.createForBob = (await bob.req(OpCode.create, (w) => writeCreate(w, { path: '/bob', data: Buffer.from('b'), acl, flags: 0, ttl: -1 }, false))).err;
      out.readOwn = (await bob.req(OpCode.getData, (w) => w.ustring('/bob').bool(false))).err;
      out.x509Acl = (await bob.req(OpCode.create, (w) => writeCreate(w, { path: '/x', data: null,
        acl: [{ perms: 31, id: { scheme: 'x509', id: 'CN=a' } }], flags: 0, ttl: -1 }, false))).err;
      out.badSaslId = (await bob.req(OpCode.create, (w) => writeCreate(w, { path: '/y', data: null,
        acl: [{ perms: 31, id: { scheme: 'sasl', id: 'a@b@c' } }], flags: 0, ttl: -1 }, false))).err;
      bob.destroy();
      const anon = await Client.open(t);
      out.readOther = (await anon.req(OpCode.getData, (w) => w.ustring('/bob').bool(false))).err;
      anon.destroy();
      const carol = await Client.open(t);
      out.carolLogin = await login(carol, 'carol', 'carolsecret');
      out.carolWho = await whoAmI(carol);
      out.carolReadsBob = (await carol.req(OpCode.getData, (w) => w.ustring('/bob').bool(false))).err;
      carol.destroy();
      const wrong = await Client.open(t);
      out.wrongPassword = await login(wrong, 'bob', 'guess');
      out.wrongClosed = await wrong.closedSoon();
      const unknown = await Client.open(t);
      out.unknownUser = await login(unknown, 'mallory', 'x');
      out.unknownClosed = await unknown.closedSoon();
      const broken = await Client.open(t);
      const first = await broken.req(OpCode.sasl, (w) => w.buffer(Buffer.from('garbage initial response')));
      out.initialIgnored = first.closed ? 'closed' : { err: first.err, isChallenge: /^realm=/.test(bufferOf(first.rest)?.toString() ?? '') };
      const second = await broken.req(OpCode.sasl, (w) => w.buffer(Buffer.from('username="bob"')));
      out.brokenResponse = second.closed ? 'closed' : { err: second.err, zxid: second.zxid, rest: second.rest.toString('hex') };
      out.brokenClosed = await broken.closedSoon();
      const addauth = await Client.open(t);
      const a = await addauth.req(OpCode.auth, (w) => w.int(0).ustring('sasl').buffer(Buffer.from('bob')), -4);
      out.addauthSasl = a.closed ? 'closed' : a.err;
      out.addauthClosed = await addauth.closedSoon();
      return out;
    });
    assert.deepEqual(zoo, apache);
  });

  test('SASL without a JAAS file; a challenge is answered OK with a null token', async () => {
    const { zoo, apache } = await both({}, null, async (t) => {
      const c = await Client.open(t);
      const r = await c.req(OpCode.sasl, (w) => w.buffer(Buffer.alloc(0)));
      const after = await c.req(OpCode.exists, (w) => w.ustring('/').bool(false));
      c.destroy();
      return { sasl: r.closed ? 'closed' : { err: r.err, zxid: r.zxid, rest: r.rest.toString('hex') }, after: after.closed ? 'closed' : after.err };
    });
    assert.deepEqual(zoo, apache);
  });

  test('sessionRequireClientSASLAuth: unauthenticated requests (a ping too) are refused and closed; a login lets them through', async () => {
    const settings = { 'authProvider.1': 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider', sessionRequireClientSASLAuth: 'true' };
    const { zoo, apache } = await both(settings, jaas(dir), async (t) => {
      const out: Record<string, unknown> = {};
      for (const [name, type, body] of [
        ['getData', OpCode.getData, (w: import('../../src/jute/writer.js').Writer) => w.ustring('/').bool(false)],
        ['ping', OpCode.ping, () => {}],
        ['create', OpCode.create, (w: import('../../src/jute/writer.js').Writer) => writeCreate(w, { path: '/n', data: null, acl: OPEN, flags: 0, ttl: -1 }, false)],
      ] as const) {
        const c = await Client.open(t);
        const r = await c.req(type, body, type === OpCode.ping ? -2 : 1);
        out[name] = r.closed ? 'closed' : { xid: r.xid, zxid: r.zxid, err: r.err, rest: r.rest.toString('hex') };
        out[`${name}Closed`] = await c.closedSoon();
      }
      const digest = await Client.open(t);
      const a = await digest.req(OpCode.auth, (w) => w.int(0).ustring('digest').buffer(Buffer.from('bob:x')), -4);
      out.addauthDigest = a.closed ? 'closed' : a.err;
      const g = await digest.req(OpCode.getData, (w) => w.ustring('/').bool(false));
      out.digestNotEnough = g.closed ? 'closed' : g.err;
      digest.destroy();
      const wrong = await Client.open(t);
      out.wrongPassword = await login(wrong, 'bob', 'guess');
      out.wrongClosed = await wrong.closedSoon();
      const bob = await Client.open(t);
      out.login = await login(bob, 'bob', 'bobsecret');
      const ok = await bob.req(OpCode.getData, (w) => w.ustring('/').bool(false));
      out.afterLogin = ok.closed ? 'closed' : ok.err;
      bob.destroy();
      return out;
    });
    assert.deepEqual(zoo, apache);
  });

  test('enforce.auth.schemes=digest: refused until addauth digest', async () => {
    const { zoo, apache } = await both({ 'enforce.auth.enabled': 'true', 'enforce.auth.schemes': 'digest' }, null, async (t) => {
      const out: Record<string, unknown> = {};
      const c = await Client.open(t);
      const r = await c.req(OpCode.exists, (w) => w.ustring('/').bool(false));
      out.before = r.closed ? 'closed' : { err: r.err, zxid: r.zxid };
      out.closed = await c.closedSoon();
      const d = await Client.open(t);
      const a = await d.req(OpCode.auth, (w) => w.int(0).ustring('digest').buffer(Buffer.from('bob:x')), -4);
      out.addauth = a.closed ? 'closed' : a.err;
      const e = await d.req(OpCode.exists, (w) => w.ustring('/').bool(false));
      out.after = e.closed ? 'closed' : e.err;
      d.destroy();
      return out;
    });
    assert.deepEqual(zoo, apache);
  });

  test('audit.enable: the same lines for writes, failures, multi, setAcl and ephemerals of a closed session', async () => {
    const settings = { 'authProvider.1': 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider' };
    const { zooAudit, apacheAudit } = await both(settings, jaas(dir), async (t) => {
      const c = await Client.open(t);
      await login(c, 'bob', 'bobsecret');
      const create = (path: string, flags = 0) => c.req(OpCode.create, (w) => writeCreate(w, { path, data: Buffer.from('x'), acl: OPEN, flags, ttl: -1 }, false));
      await create('/a');
      await create('/a');
      await create('/a/seq-', 2);
      await c.req(OpCode.setData, (w) => writeSetData(w, { path: '/a', data: Buffer.from('y'), version: -1 }));
      await c.req(OpCode.setData, (w) => writeSetData(w, { path: '/missing', data: null, version: -1 }));
      await c.req(OpCode.setACL, (w) => writeSetACL(w, { path: '/a', acl: [...OPEN, { perms: 1, id: { scheme: 'sasl', id: 'bob' } }], version: -1 }));
      await c.req(OpCode.multi, (w) => writeMultiRequest(w, [
        { type: OpCode.create, req: { path: '/m', data: null, acl: OPEN, flags: 0, ttl: -1 } },
        { type: OpCode.setData, req: { path: '/m', data: Buffer.from('z'), version: -1 } },
        { type: OpCode.delete, req: { path: '/m', version: -1 } },
      ]));
      await c.req(OpCode.multi, (w) => writeMultiRequest(w, [
        { type: OpCode.create, req: { path: '/n', data: null, acl: OPEN, flags: 0, ttl: -1 } },
        { type: OpCode.delete, req: { path: '/nothing', version: -1 } },
      ]));
      // Ephemerals go in Apache's HashSet order: /eph3, /eph, /eph2, /eph4, /eph1.
      for (const e of ['/eph', '/eph1', '/eph2', '/eph3', '/eph4']) await create(e, 1);
      await c.req(OpCode.delete, (w) => writePathVersion(w, { path: '/a', version: -1 }));
      await c.req(OpCode.closeSession);
      await c.closedSoon();
      return null;
    }, { audit: true });
    if (process.env.ZOONODE_DEBUG_AUDIT) console.log(zooAudit, apacheAudit);
    assert.ok(apacheAudit.length > 0 || !fs.existsSync(slf4jSimple), 'Apache wrote no audit line (slf4j-simple missing?)');
    if (apacheAudit.length === 0) return;
    // Session ids, and the OS user of system operations, differ by server: mask them.
    const norm = (lines: string[]) => lines
      .filter((l) => !/operation=server(Start|Stop)/.test(l))
      .map((l) => l.replace(/session=0x[0-9a-f]+/, 'session=S'));
    assert.deepEqual(norm(zooAudit).filter((l) => !/operation=auth:/.test(l)), norm(apacheAudit));
    assert.ok(zooAudit.some((l) => /operation=auth:sasl\tresult=success/.test(l)), 'zoonode also audits the login');
    assert.ok(zooAudit.some((l) => /^INFO user=\S+\toperation=serverStart\tresult=success$/.test(l)));
  });
});

describe('TLS and x509, zoonode against Apache ZooKeeper 3.8 (the Java client)', {
  skip: skip || (opensslSkipReason() ?? javaSkip() ?? false),
}, () => {
  test('whoAmI over TLS names the certificate the same way, in the same order', async () => {
    const certs = makeTestCerts();
    const java = await compileJavaClient();
    let z: TestServer | null = null;
    let a: ApacheServer | null = null;
    try {
      const trust = certs.javaTrustP12 ?? certs.trustP12;
      const settings = {
        secureClientPortAddress: '127.0.0.1', 'ssl.keyStore.location': certs.serverPem,
        'ssl.trustStore.location': trust, 'ssl.trustStore.password': certs.storePassword,
      };
      const zs = await startZoonodeSecure(settings);
      z = zs;
      const zsp = zs.securePort;
      const asp = await freePort();
      a = await startApache({ ...settings, secureClientPort: asp, serverCnxnFactory: 'org.apache.zookeeper.server.NettyServerCnxnFactory' },
        { classpath: ['/usr/share/java/netty-codec.jar', '/usr/share/java/netty-resolver.jar'] });
      const props = [
        '-Dzookeeper.client.secure=true', '-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty',
        `-Dzookeeper.ssl.trustStore.location=${trust}`, `-Dzookeeper.ssl.trustStore.password=${certs.storePassword}`,
        `-Dzookeeper.ssl.keyStore.location=${certs.clientP12}`, `-Dzookeeper.ssl.keyStore.password=${certs.storePassword}`,
      ];
      const ours = await java.run(`127.0.0.1:${zsp}`, '/tls-diff', props);
      const theirs = await java.run(`127.0.0.1:${asp}`, '/tls-diff', props);
      assert.equal(theirs.steps.get('connect')?.ok, true, theirs.out.stdout + theirs.out.stderr.slice(-2000));
      assert.deepEqual(ours.steps.get('whoami'), theirs.steps.get('whoami'));
      assert.deepEqual(ours.steps.get('write-read'), theirs.steps.get('write-read'));
      assert.deepEqual((theirs.steps.get('whoami')?.ids as string[][])[0], ['x509', certs.clientDn]);
    } finally {
      await z?.stop();
      await a?.stop();
      java.remove();
      certs.remove();
    }
  });
});
