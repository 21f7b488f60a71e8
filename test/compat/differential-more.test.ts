// More differential tests (see differential.test.ts for the method): the same
// raw-frame conversation against Apache ZooKeeper 3.8 (Debian) and zoonode
// (workers=0 and workers=2), replies compared after normalisation
// (test/support/compat-wire.ts). Covered here:
//   - containers and TTL nodes: createContainer/createTTL replies and stats
//     (ephemeralOwner 0), invalid TTLs, TTL without extendedTypesEnabled
//     (UNIMPLEMENTED), a client's deleteContainer (BADARGUMENTS), and the
//     reaper deleting an emptied container and expired TTL nodes (compared by
//     outcome and events only: when the reaper runs differs), and the order
//     it deletes twelve containers emptied at once in;
//   - quotas made the way zkCli's setquota makes them (zookeeper_stats after
//     creates, setData and deletes under the quota'd path), and zkCli's own
//     setquota/listquota/delquota against both servers;
//   - getEphemerals prefixes, getAllChildrenNumber, sync;
//   - the order getChildren lists children in (Apache's HashSet order) as a
//     node's children grow, shrink and come back;
//   - sessions that expire: one with its connection dropped, one with it
//     open and silent; the order their ephemerals are listed and deleted
//     in (Apache's HashSet order), the events a watcher sees, the open
//     connection closed, an expired session refused on reopening;
//   - getACL with and without ADMIN (digest ids shown as user:x), setACL
//     versions, addauth as the superDigest user, ip ACLs (address and CIDR)
//     and the `auth` scheme's expansion;
//   - odd inputs whose Apache answers come from Java library details (one
//     small scenario each; see oddScenarios).
//
// No difference here is one of README's deliberate ones: every comparison
// asserts Apache's behaviour.
//
// Servers: a fresh plain Apache for the scenario that counts every node from
// "/" (exact zxids), and one shared Apache started with
// extendedTypesEnabled=true, znode.container.checkIntervalMs=100 and a
// DigestAuthenticationProvider.superDigest for the others; zoonode is started
// fresh per scenario with the same settings. (startApache passes
// znode.container.* to the JVM as -Dznode.container.*: Apache reads them
// without the zookeeper. prefix.)

import fs from 'node:fs';
import path from 'node:path';
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startZoonode } from '../support/zoonode.js';
import { isApacheInstalled, startApache, type ApacheServer } from '../support/apache.js';
import { isZkCliInstalled, normalizeZkCliOutput, runZkCliScript } from '../support/zkcli-driver.js';
import { ZkClient } from '../../native-free-bench/zk-client.js';
import { digestId } from '../support/zk-tree.js';
import { OpCode, writeCreate, writePathWatch, type ACL, type RequestACL } from '../../src/jute/index.js';
import {
  Run, RawConn, OPEN_ACL, connectRequestFrame, describeConnectResponse, diffTranscripts, killOnExit, requestFrame,
  type Conn, type Target, type Transcript,
} from '../support/compat-wire.js';
import { scrambledChildNames } from '../support/child-names.js';

type Scenario = (run: Run) => Promise<void>;

const enc = (s: string): Buffer => Buffer.from(s, 'utf8');

const READ = 1;
const WRITE = 2;
const CREATE = 4;
const DELETE = 8;
const ADMIN = 16;
const ALL = 31;


const SUPER_DIGEST = digestId('super:secret');
const ALICE = digestId('alice:secret');
const BOB = digestId('bob:pw');

const acl = (...entries: [number, string, string][]): ACL[] =>
  entries.map(([perms, scheme, id]) => ({ perms, id: { scheme, id } }));

/** Settings both servers get for the shared-server scenarios. */
const extSettings = {
  extendedTypesEnabled: 'true',
  'znode.container.checkIntervalMs': 100,
  'DigestAuthenticationProvider.superDigest': SUPER_DIGEST,
} as const;

// ---- running and comparing --------------------------------------------------------

function assertSameAsApache(apache: Transcript, zoonode: Transcript, what: string): void {
  const diff = diffTranscripts(apache, zoonode);
  assert.ok(diff.length === 0, `${what}: zoonode differs from Apache ZooKeeper 3.8:\n  ${diff.join('\n  ')}`);
  assert.deepStrictEqual(JSON.parse(JSON.stringify(zoonode, bigintJson)), JSON.parse(JSON.stringify(apache, bigintJson)));
}

function bigintJson(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

async function runScenario(target: Target, scenario: Scenario, absoluteZxids: boolean): Promise<Transcript> {
  const run = new Run(target, { absoluteZxids });
  try {
    await scenario(run);
    await run.closeAll();
  } finally {
    run.destroyAll();
  }
  // For debugging: ZOONODE_COMPAT_DUMP=<dir> keeps every transcript as JSON.
  const dir = process.env.ZOONODE_COMPAT_DUMP;
  if (dir !== undefined && dir !== '') {
    fs.mkdirSync(dir, { recursive: true });
    const file = `${scenario.name}-${target.name}-${Date.now()}.json`.replace(/[^\w.=()-]+/g, '_');
    fs.writeFileSync(path.join(dir, file), JSON.stringify(run.transcript, bigintJson, 2));
  }
  return run.transcript;
}

async function onZoonode(workers: number, settings: Record<string, string | number>, scenario: Scenario,
  absoluteZxids: boolean): Promise<Transcript> {
  const z = await startZoonode({ workers, ...settings });
  try {
    return await runScenario({ name: `zoonode(workers=${workers})`, host: z.host, port: z.port }, scenario, absoluteZxids);
  } finally {
    await z.stop();
  }
}

function apacheTarget(a: ApacheServer): Target {
  return { name: 'apache', host: a.host, port: a.port };
}

/** addauth: both servers answer with the request's own xid. */
function addauth(c: Conn, label: string, scheme: string, cred: string) {
  return c.req(label, OpCode.auth, (w) => { w.int(0).ustring(scheme).buffer(enc(cred)); }, 'none');
}

/** createTTL (21) with the given flags and ttl. */
function createTTL(c: Conn, label: string, path: string, flags: number, ttl: number, data: Buffer | null = null) {
  return c.create(label, path, data, flags, { op: OpCode.createTTL, ttl });
}

function createContainer(c: Conn, label: string, path: string, flags = 4, data: Buffer | null = null) {
  return c.create(label, path, data, flags, { op: OpCode.createContainer });
}

/** One create op of a multi: header type (create unless given), flags, ttl and ACL; its data is 'm'. */
interface MultiCreate { type?: number; path: string; flags?: number; ttl?: number; acl?: RequestACL[] }

/** A multi of create ops (the ttl is written for createTTL ops only, as the record has it). */
function multiCreates(c: Conn, label: string, ops: MultiCreate[]) {
  return c.req(label, OpCode.multi, (w) => {
    for (const o of ops) {
      const type = o.type ?? OpCode.create;
      w.int(type).bool(false).int(-1);
      writeCreate(w, { path: o.path, data: enc('m'), acl: o.acl ?? OPEN_ACL, flags: o.flags ?? 0, ttl: o.ttl ?? -1 }, type === OpCode.createTTL);
    }
    w.int(-1).bool(true).int(-1);
  }, 'multi');
}

// ---- scenarios: the fresh plain server --------------------------------------------

/**
 * On fresh servers without extendedTypesEnabled (exact zxids):
 * getAllChildrenNumber of several subtrees and of "/", sync, TTL requests
 * (UNIMPLEMENTED), containers (they need no extended types), and a client's
 * deleteContainer.
 */
const freshScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  const B = await run.connect('B');
  await A.getAllChildrenNumber('getAllChildrenNumber / (fresh)', '/');
  await A.getAllChildrenNumber('getAllChildrenNumber /zookeeper (fresh)', '/zookeeper');
  await A.create('create /g', '/g', null, 0);
  await A.create('create /g/a', '/g/a', enc('a'), 0);
  await A.create('create /g/a/b', '/g/a/b', null, 0);
  await A.create('create /g/a/b/c', '/g/a/b/c', null, 0);
  await A.create('create /g/d', '/g/d', null, 0);
  for (let i = 0; i < 3; i++) await A.create(`create /g/d/s- #${i}`, '/g/d/s-', null, 2);
  await A.create('create /g/d/e ephemeral', '/g/d/e', null, 1);
  await B.create('B create /g/d/be ephemeral', '/g/d/be', null, 1);
  await A.create('create /g/secret (no READ for anyone)', '/g/secret', null, 0, { acl: acl([ALL, 'digest', ALICE]) });
  await A.create('create /g/secret/kid', '/g/secret/kid', null, 0, { acl: OPEN_ACL });
  for (const p of ['/g', '/g/a', '/g/a/b', '/g/a/b/c', '/g/d', '/g/d/e', '/', '/zookeeper', '/zookeeper/quota']) {
    await A.getAllChildrenNumber(`getAllChildrenNumber ${p}`, p);
  }
  await A.getAllChildrenNumber('getAllChildrenNumber /g/secret (no READ)', '/g/secret');
  await A.getAllChildrenNumber('getAllChildrenNumber /missing', '/missing');
  await A.getAllChildrenNumber('getAllChildrenNumber /g/ (trailing slash)', '/g/');
  await A.getAllChildrenNumber('getAllChildrenNumber g (relative)', 'g');
  await A.delete('delete /g/a/b/c', '/g/a/b/c');
  await A.getAllChildrenNumber('getAllChildrenNumber /g after a delete', '/g');

  // sync: the reply carries the path and the last zxid; it follows the writes before it.
  await A.sync('sync /', '/');
  await A.sync('sync /g', '/g');
  await A.sync('sync /missing', '/missing');
  await A.sync('sync "" (empty)', '');
  await A.sync('sync relative', 'rel');
  await B.create('B create /g/fromB', '/g/fromB', null, 0);
  await A.sync('A sync after B write', '/g');
  await A.getAllChildrenNumber('getAllChildrenNumber /g after B write', '/g');
  const x = () => A.client.nextXid();
  const xs = [x(), x(), x(), x()];
  await Promise.all([
    A.reqFrame('pipelined create /g/p', xs[0]!, requestFrame(xs[0]!, OpCode.create, (w) => writeCreate(w, { path: '/g/p', data: null, acl: OPEN_ACL, flags: 0, ttl: -1 }, false)), 'path'),
    A.reqFrame('pipelined sync /g', xs[1]!, requestFrame(xs[1]!, OpCode.sync, (w) => { w.ustring('/g'); }), 'path'),
    A.reqFrame('pipelined getAllChildrenNumber /g', xs[2]!, requestFrame(xs[2]!, OpCode.getAllChildrenNumber, (w) => { w.ustring('/g'); }), 'int'),
    A.reqFrame('pipelined exists /g/p', xs[3]!, requestFrame(xs[3]!, OpCode.exists, (w) => writePathWatch(w, { path: '/g/p', watch: false })), 'stat'),
  ]);

  // TTL without extendedTypesEnabled; containers work without it.
  await createTTL(A, 'createTTL flag 5 ttl 1000 (no extended types)', '/t', 5, 1000);
  await createTTL(A, 'createTTL flag 6 ttl 1000 (no extended types)', '/t', 6, 1000);
  await createTTL(A, 'createTTL flag 5 ttl 0 (no extended types)', '/t', 5, 0);
  await createTTL(A, 'createTTL flag 0 ttl 1000 (no extended types)', '/t', 0, 1000);
  await A.create('create (1) flag 5 (no extended types)', '/t', null, 5);
  await A.create('create2 flag 6 (no extended types)', '/t', null, 6, { op: OpCode.create2 });
  await A.exists('exists /t', '/t');
  await createContainer(A, 'createContainer /pc (no extended types)', '/pc');
  await A.exists('exists /pc', '/pc');
  await A.create('create /pc/kid', '/pc/kid', null, 0);
  await A.getData('getData /pc', '/pc');
  await A.req('client deleteContainer /pc/kid (Jute string)', OpCode.deleteContainer, (w) => { w.ustring('/pc/kid'); }, 'none');
  await A.exists('exists /pc/kid after client deleteContainer', '/pc/kid');
  await A.getAllChildrenNumber('getAllChildrenNumber / at the end', '/');
  await B.getAllChildrenNumber('B getAllChildrenNumber / at the end', '/');
};

// ---- scenarios: the shared server with extended types -----------------------------

/** Containers and TTL nodes: replies, stats, invalid requests (nothing here is reaped). */
const containerTtlScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  const B = await run.connect('B');
  const HOUR = 3_600_000;
  await A.create('create /ctt', '/ctt', null, 0);
  // Containers.
  await createContainer(A, 'createContainer /ctt/c flag 4', '/ctt/c', 4, enc('cd'));
  await A.exists('exists /ctt/c', '/ctt/c');
  await A.getData('getData /ctt/c', '/ctt/c');
  await createContainer(A, 'createContainer /ctt/c again (NODEEXISTS)', '/ctt/c');
  await A.create('create /ctt/c/kid (kept: the container is never emptied)', '/ctt/c/kid', enc('k'), 0);
  await A.create('create /ctt/c/e ephemeral in a container', '/ctt/c/e', null, 1);
  await A.getChildren2('getChildren2 /ctt/c', '/ctt/c');
  await createContainer(A, 'createContainer flag 0', '/ctt/c0', 0);
  await createContainer(A, 'createContainer flag 1', '/ctt/c1', 1);
  await createContainer(A, 'createContainer flag 2', '/ctt/c2', 2);
  await createContainer(A, 'createContainer flag 5', '/ctt/c5', 5);
  await createContainer(A, 'createContainer under a missing parent', '/ctt/none/c');
  await A.create('create (1) flag 4', '/ctt/p4', null, 4);
  await A.create('create2 flag 4', '/ctt/p4b', null, 4, { op: OpCode.create2 });
  await A.exists('exists /ctt/p4', '/ctt/p4');
  await A.exists('exists /ctt/p4b', '/ctt/p4b');
  // TTL nodes (an hour: never reaped while the tests run).
  await createTTL(A, 'createTTL flag 5 ttl 1h', '/ctt/t', 5, HOUR, enc('td'));
  await A.exists('exists /ctt/t', '/ctt/t');
  await A.getData('getData /ctt/t', '/ctt/t');
  await createTTL(A, 'createTTL flag 6 ttl 1h (sequential)', '/ctt/ts-', 6, HOUR);
  await createTTL(A, 'createTTL flag 6 ttl 1h (sequential) again', '/ctt/ts-', 6, HOUR);
  await createTTL(A, 'createTTL ttl 2^40-1 (the largest)', '/ctt/tmax', 5, 2 ** 40 - 1);
  await A.exists('exists /ctt/tmax', '/ctt/tmax');
  // The smallest TTL, and a container, each with a child in the same multi
  // (nothing in this scenario may become reapable: a reap takes a zxid).
  await multiCreates(A, 'multi: createTTL ttl 1 and a child, createContainer and a child', [
    { type: OpCode.createTTL, path: '/ctt/tmin', flags: 5, ttl: 1 },
    { path: '/ctt/tmin/kid' },
    { type: OpCode.createContainer, path: '/ctt/mc', flags: 4 },
    { path: '/ctt/mc/kid' },
  ]);
  await multiCreates(A, 'multi: createTTL ttl 0 (fails), createContainer', [
    { type: OpCode.createContainer, path: '/ctt/mc2', flags: 4 },
    { type: OpCode.createTTL, path: '/ctt/tbad', flags: 5, ttl: 0 },
    { path: '/ctt/never' },
  ]);
  await A.exists('exists /ctt/tmin', '/ctt/tmin');
  await A.exists('exists /ctt/mc', '/ctt/mc');
  await A.exists('exists /ctt/mc2 (rolled back)', '/ctt/mc2');
  await A.create('create /ctt/t/kid under a TTL node', '/ctt/t/kid', null, 0);
  await A.setData('setData /ctt/t', '/ctt/t', enc('td2'));
  await A.setACL('setACL /ctt/t', '/ctt/t', OPEN_ACL);
  // Invalid TTL requests.
  await createTTL(A, 'createTTL ttl 0', '/ctt/bad', 5, 0);
  await createTTL(A, 'createTTL ttl -1', '/ctt/bad', 5, -1);
  await createTTL(A, 'createTTL ttl -5', '/ctt/bad', 5, -5);
  await createTTL(A, 'createTTL ttl 2^40', '/ctt/bad', 5, 2 ** 40);
  await createTTL(A, 'createTTL ttl 2^50', '/ctt/bad', 5, 2 ** 50);
  await createTTL(A, 'createTTL flag 0 (persistent) ttl 1000', '/ctt/bad', 0, 1000);
  await createTTL(A, 'createTTL flag 1 (ephemeral) ttl 1000', '/ctt/bad', 1, 1000);
  await createTTL(A, 'createTTL flag 2 (sequential) ttl 1000', '/ctt/bad', 2, 1000);
  await createTTL(A, 'createTTL flag 3 (ephemeral sequential) ttl 1000', '/ctt/bad', 3, 1000);
  await createTTL(A, 'createTTL flag 4 (container) ttl 1000', '/ctt/bad', 4, 1000);
  await createTTL(A, 'createTTL flag 7 ttl 1000', '/ctt/bad', 7, 1000);
  await createTTL(A, 'createTTL under a missing parent', '/ctt/none/t', 5, 1000);
  await createTTL(A, 'createTTL existing node (NODEEXISTS)', '/ctt/t', 5, 1000);
  await A.create('create (1) flag 5 (TTL mode without a ttl)', '/ctt/bad', null, 5);
  await A.create('create2 flag 6 (TTL mode without a ttl)', '/ctt/bad', null, 6, { op: OpCode.create2 });
  await A.exists('exists /ctt/bad (nothing was made)', '/ctt/bad');
  // A client's deleteContainer: refused however it is encoded.
  await A.create('create /ctt/victim', '/ctt/victim', null, 0);
  await A.req('client deleteContainer (Jute string)', OpCode.deleteContainer, (w) => { w.ustring('/ctt/victim'); }, 'none');
  await A.req('client deleteContainer (raw path bytes)', OpCode.deleteContainer, (w) => { w.raw(enc('/ctt/victim')); }, 'none');
  await A.req('client deleteContainer of a container', OpCode.deleteContainer, (w) => { w.ustring('/ctt/c0'); }, 'none');
  await A.req('client deleteContainer of a missing node', OpCode.deleteContainer, (w) => { w.ustring('/ctt/nope'); }, 'none');
  await A.exists('exists /ctt/victim after deleteContainer', '/ctt/victim');
  await A.getChildren2('getChildren2 /ctt', '/ctt');
  await B.getChildren('B getChildren /ctt', '/ctt');
  await B.getAllChildrenNumber('B getAllChildrenNumber /ctt', '/ctt');
};

/**
 * The reaper on both servers: an emptied container and expired TTL nodes are
 * deleted (a NodeDeleted event to the watcher), a TTL node with a child is
 * kept until the child goes. Compared by outcome and event, not by zxid: the
 * scenario's own client talks through a plain ZkClient and only notes.
 */
const reaperScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  await A.create('create /rp', '/rp', null, 0);
  const R = await ZkClient.connect(run.target.host, run.target.port, { ping: true });
  try {
    const events: string[] = [];
    R.on('event', (e: { type: number; path: string }) => { events.push(`${e.type} ${e.path}`); });
    /** The next event (from now on) of this type on this path; false if none came within ms. */
    const nextEvent = (type: number, p: string, ms: number): Promise<boolean> => new Promise((resolve) => {
      const on = (e: { type: number; path: string }) => {
        if (e.type === type && e.path === p) { clearTimeout(timer); R.off('event', on); resolve(true); }
      };
      const timer = setTimeout(() => { R.off('event', on); resolve(false); }, ms);
      R.on('event', on);
    });
    const ask = async (type: number, p: string, flags: number, ttl = -1) =>
      (await R.request(type, (w) => writeCreate(w, { path: p, data: null, acl: OPEN_ACL, flags, ttl }, type === OpCode.createTTL))).hdr.err;
    /**
     * Watches p, then runs `empty` (what lets the reaper take p: a child
     * deleted, a session closed) and waits for p's NodeDeleted. The watch is
     * set first: a reaper that ran between the emptying and the watch would
     * leave no event to see.
     */
    const gone = async (p: string, empty: () => Promise<void> = async () => {}, ms = 10000): Promise<{ event: boolean; existsAfter: boolean; elapsedMs: number }> => {
      const t0 = Date.now();
      const deleted = nextEvent(2, p, ms);
      const st = await R.exists(p, true);
      if (st === null) return { event: false, existsAfter: false, elapsedMs: Date.now() - t0 };
      await empty();
      const event = await deleted;
      return { event, existsAfter: (await R.exists(p)) !== null, elapsedMs: Date.now() - t0 };
    };

    // A container emptied by a delete goes; one that never had a child stays.
    const created = [
      await ask(OpCode.createContainer, '/rp/c', 4),
      await ask(OpCode.createContainer, '/rp/never', 4),
    ];
    await R.create('/rp/c/kid', null);
    const c = await gone('/rp/c', () => R.delete('/rp/c/kid'));
    run.note('emptied container', { created, event: c.event, existsAfter: c.existsAfter });

    // A container emptied by its only child's session closing goes too.
    await ask(OpCode.createContainer, '/rp/ce', 4);
    const E = await ZkClient.connect(run.target.host, run.target.port, { ping: false });
    try {
      await E.create('/rp/ce/eph', null, 1);
    } catch (err) {
      await E.close();
      throw err;
    }
    const ce = await gone('/rp/ce', () => E.close());
    run.note('container emptied by a session close', { event: ce.event, existsAfter: ce.existsAfter });

    // An expired TTL node goes (not before its TTL); one with a child stays until the child goes.
    const ttls = [
      await ask(OpCode.createTTL, '/rp/t', 5, 600),
      await ask(OpCode.createTTL, '/rp/tk', 5, 200),
      await ask(OpCode.createTTL, '/rp/ts-', 6, 200),
    ];
    await R.create('/rp/tk/kid', null);
    const t = await gone('/rp/t');
    run.note('expired TTL node', { created: ttls, event: t.event, existsAfter: t.existsAfter, notBeforeTtl: t.elapsedMs >= 500 });
    // The sequential TTL node (200 ms) goes too: wait for it by child watch.
    let kids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const changed = nextEvent(4, '/rp', 5000);
      kids = (await R.getChildren('/rp', true)).sort();
      if (!kids.some((k) => k.startsWith('ts-'))) break;
      await changed;
    }
    run.note('after the TTL node went', { children: kids, ttlWithChildKept: kids.includes('tk') });
    const tk = await gone('/rp/tk', () => R.delete('/rp/tk/kid'));
    run.note('TTL node whose child went', { event: tk.event, existsAfter: tk.existsAfter });
    run.note('children at the end', (await R.getChildren('/rp')).sort());
    run.note('deletion events seen', events.filter((e) => e.startsWith('2 ')).sort());
  } finally {
    await R.close();
  }
};

/**
 * Twelve containers emptied at once (one multi deletes their children) go in
 * one reaper pass, one deleteContainer at a time: in the order of the
 * HashSet Apache gathers the candidates in, which the NodeDeleted events of
 * a watcher show.
 */
const reaperOrderScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  await A.create('create /ro', '/ro', null, 0);
  const containers = Array.from({ length: 12 }, (_, i) => `/ro/c${i}`);
  for (const p of containers) {
    await createContainer(A, `createContainer ${p}`, p);
    await A.create(`create ${p}/k`, `${p}/k`, null, 0);
  }
  const R = await ZkClient.connect(run.target.host, run.target.port, { ping: true });
  try {
    const deleted: string[] = [];
    let allGone = () => {};
    const gone = new Promise<void>((resolve) => { allGone = resolve; });
    R.on('event', (e: { type: number; path: string }) => {
      if (e.type !== 2) return;
      deleted.push(e.path);
      if (deleted.length === containers.length) allGone();
    });
    for (const p of containers) await R.exists(p, true);
    await A.req('multi: delete every container\'s child', OpCode.multi, (w) => {
      for (const p of containers) w.int(OpCode.delete).bool(false).int(-1).ustring(`${p}/k`).int(-1);
      w.int(-1).bool(true).int(-1);
    }, 'multi');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([gone, new Promise<void>((resolve) => { timer = setTimeout(resolve, 10000); })]);
    clearTimeout(timer);
    run.note('containers deleted by the reaper, in order', deleted);
  } finally {
    await R.close();
  }
};

/**
 * Quotas made the way zkCli's setquota makes them: /zookeeper/quota/<path>
 * with zookeeper_limits and zookeeper_stats; the server keeps
 * zookeeper_stats current. Read back after creates, setData and deletes.
 */
const quotaScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  const B = await run.connect('B');
  const stats = (label: string, p: string) => A.getData(`stats ${label}`, `/zookeeper/quota${p}/zookeeper_stats`);
  const setquota = async (p: string, limits: string) => {
    await A.exists(`setquota ${p}: exists /zookeeper/quota`, '/zookeeper/quota');
    const parts = p.split('/').slice(1);
    for (let i = 1; i <= parts.length; i++) {
      const q = `/zookeeper/quota/${parts.slice(0, i).join('/')}`;
      await A.create(`setquota ${p}: create ${q}`, q, null, 0);
    }
    await A.create(`setquota ${p}: create zookeeper_limits`, `/zookeeper/quota${p}/zookeeper_limits`, enc(limits), 0);
    await A.create(`setquota ${p}: create zookeeper_stats`, `/zookeeper/quota${p}/zookeeper_stats`, enc('count=0,bytes=0'), 0);
  };
  // Nodes before the quota: counted when the stats node is created.
  await A.create('create /qa', '/qa', enc('abc'), 0);
  await A.create('create /qa/x', '/qa/x', enc('12345'), 0);
  await A.create('create /qab (a sibling sharing the prefix)', '/qab', enc('zz'), 0);
  await setquota('/qa', 'count=5,bytes=-1');
  await stats('right after setquota', '/qa');
  await A.getData('limits /qa', '/zookeeper/quota/qa/zookeeper_limits');
  await A.create('create /qa/y', '/qa/y', enc('xy'), 0);
  await A.create('create /qa/x/deep', '/qa/x/deep', enc('d'), 0);
  await stats('after 2 creates', '/qa');
  await A.setData('setData /qa/x shorter', '/qa/x', enc('z'));
  await A.setData('setData /qa null', '/qa', null);
  await stats('after setData', '/qa');
  await A.create('create /qa/e ephemeral', '/qa/e', enc('1234'), 1);
  await A.create('create /qa/s- sequential', '/qa/s-', enc('ss'), 2);
  await A.create('create /qab/z (outside the quota)', '/qab/z', enc('outside'), 0);
  await A.setData('setData /qab (outside the quota)', '/qab', enc('outside'));
  await stats('after ephemeral, sequential and outside writes', '/qa');
  for (let i = 0; i < 3; i++) await A.create(`create /qa/many${i} (beyond count=5)`, `/qa/many${i}`, enc('m'), 0);
  await stats('beyond the soft count limit', '/qa');
  await A.delete('delete /qa/y', '/qa/y');
  await A.delete('delete /qa/x/deep', '/qa/x/deep');
  await A.delete('delete /qa/many0 bad version (nothing changes)', '/qa/many0', 3);
  await stats('after deletes', '/qa');
  await B.create('B create /qa/be ephemeral', '/qa/be', enc('bbbbbbb'), 1);
  await stats('after B ephemeral', '/qa');
  await B.closeSession('B closeSession');
  try { await B.client.waitClosed(5000); } catch { /* noted by the stats below */ }
  await stats('after B closed its session', '/qa');
  await A.getChildren2('getChildren2 /zookeeper/quota/qa', '/zookeeper/quota/qa');

  // A quota on a deeper path: writes above it do not count.
  await A.create('create /qn', '/qn', null, 0);
  await A.create('create /qn/deep', '/qn/deep', enc('abc'), 0);
  await setquota('/qn/deep', 'count=-1,bytes=10');
  await A.create('create /qn/other (not counted)', '/qn/other', enc('xxxxx'), 0);
  await A.setData('setData /qn (not counted)', '/qn', enc('qq'));
  await A.create('create /qn/deep/k', '/qn/deep/k', enc('kk'), 0);
  await A.create('create /qn/deep/k/l beyond bytes=10', '/qn/deep/k/l', enc('0123456789'), 0);
  await stats('/qn/deep', '/qn/deep');
  await A.exists('exists /zookeeper/quota/qn (no stats of its own)', '/zookeeper/quota/qn');

  // Hard limits in 3.8's format are soft without enforceQuota.
  await A.create('create /qh', '/qh', null, 0);
  await setquota('/qh', 'count=-1,bytes=-1=;byteHardLimit=20;countHardLimit=2');
  for (let i = 0; i < 3; i++) await A.create(`create /qh/n${i} (beyond countHardLimit=2)`, `/qh/n${i}`, enc('0123456789'), 0);
  await stats('/qh beyond its hard limits', '/qh');

  // The client overwrites zookeeper_stats: later updates start from what it wrote.
  await A.setData('client setData zookeeper_stats', '/zookeeper/quota/qa/zookeeper_stats', enc('count=100,bytes=100'));
  await A.create('create /qa/after', '/qa/after', enc('a'), 0);
  await stats('after the client overwrote it', '/qa');
  // delquota -n rewrites zookeeper_limits; delquota deletes it: no more updates.
  await A.setData('delquota -n: setData zookeeper_limits', '/zookeeper/quota/qa/zookeeper_limits', enc('count=-1,bytes=-1'));
  await A.create('create /qa/after2', '/qa/after2', enc('bb'), 0);
  await stats('after delquota -n', '/qa');
  await A.delete('delquota: delete zookeeper_limits', '/zookeeper/quota/qa/zookeeper_limits');
  await A.create('create /qa/nolimit', '/qa/nolimit', enc('nn'), 0);
  await stats('after zookeeper_limits was deleted', '/qa');
  await A.delete('delete zookeeper_stats', '/zookeeper/quota/qa/zookeeper_stats');
  await A.delete('delete /zookeeper/quota/qa', '/zookeeper/quota/qa');
  // Deleting the quota'd node itself.
  await A.delete('delete /qn/deep/k/l', '/qn/deep/k/l');
  await A.delete('delete /qn/deep/k', '/qn/deep/k');
  await A.delete('delete /qn/deep', '/qn/deep');
  await stats('/qn/deep after the node itself went', '/qn/deep');
  await A.create('create /qn/deep again', '/qn/deep', enc('again'), 0);
  await stats('/qn/deep recreated', '/qn/deep');

  // zookeeper_stats made by create2: the reply's stat has the length of the
  // data sent, though the server has already rewritten it with the count.
  await A.create('create /qc', '/qc', enc('0123456789'), 0);
  await A.create('create /qc/a', '/qc/a', enc('abc'), 0);
  await A.create('create /zookeeper/quota/qc', '/zookeeper/quota/qc', null, 0);
  await A.create('create zookeeper_limits /qc', '/zookeeper/quota/qc/zookeeper_limits', enc('count=10,bytes=-1'), 0);
  await A.create('create2 zookeeper_stats /qc', '/zookeeper/quota/qc/zookeeper_stats', enc('count=0,bytes=0'), 0, { op: OpCode.create2 });
  await stats('/qc after create2', '/qc');
  // Keys a client wrote into zookeeper_stats besides count and bytes stay,
  // sorted, after "=;", when the server rewrites the node.
  await A.setData('client setData zookeeper_stats with more keys', '/zookeeper/quota/qc/zookeeper_stats', enc('zz=9,bytes=3,count=4;aa=1'));
  await A.create('create /qc/b', '/qc/b', enc('bb'), 0);
  await stats('/qc after a create', '/qc');
  await A.setData('client setData zookeeper_stats in the rewritten form', '/zookeeper/quota/qc/zookeeper_stats', enc('count=1,bytes=1=;countHardLimit=5'));
  await A.delete('delete /qc/b', '/qc/b');
  await stats('/qc after a delete', '/qc');
};

/** getEphemerals: plain string prefixes, the caller's own ephemerals only. */
const ephemeralsScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  const B = await run.connect('B');
  const C = await run.connect('C');
  await A.create('create /ge', '/ge', null, 0);
  await A.create('create /ge/ab', '/ge/ab', null, 0);
  await A.create('A create /ge/a1', '/ge/a1', null, 1);
  await A.create('A create /ge/a2', '/ge/a2', null, 1);
  await A.create('A create /ge/ab/e', '/ge/ab/e', null, 1);
  await A.create('A create /gef (shares the prefix /ge)', '/gef', null, 1);
  await A.create('A create /ge/s- ephemeral sequential', '/ge/s-', null, 3);
  await B.create('B create /ge/b1', '/ge/b1', null, 1);
  await B.create('B create /ge/a3', '/ge/a3', null, 1);
  await C.create('C create /ge/plain (not ephemeral)', '/ge/plain', null, 0);
  for (const prefix of ['/ge', '/ge/', '/ge/a', '/ge/a1', '/ge/ab', '/gef', '/g', '/nomatch', 'ge', '/ge/a1/', '', '/', '  ', ' / ', '/ge ', '//']) {
    await A.getEphemerals(`A getEphemerals ${JSON.stringify(prefix)}`, prefix);
  }
  await B.getEphemerals('B getEphemerals /ge', '/ge');
  await B.getEphemerals('B getEphemerals /', '/');
  await C.getEphemerals('C getEphemerals / (none of its own)', '/');
  await A.delete('A delete /ge/a1', '/ge/a1');
  await A.getEphemerals('A getEphemerals /ge/a after a delete', '/ge/a');
  await B.delete('B deletes A\'s /ge/a2', '/ge/a2');
  await A.getEphemerals('A getEphemerals /ge after B deleted one', '/ge');
  await B.getEphemerals('B getEphemerals /ge (unchanged)', '/ge');
};

/**
 * The order children are listed in: Apache keeps a node's children in a
 * HashSet (8 buckets at first, doubled as it fills, never shrunk), so its
 * getChildren lists them by bucket, and the order moves as the set grows.
 * zoonode keeps the same order (ZNode.childNames).
 */
const childrenOrderScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  const B = await run.connect('B');
  await A.getChildren('A getChildren /zookeeper', '/zookeeper');
  await A.create('create /co', '/co', null, 0);
  await A.create('create /co/big', '/co/big', null, 0);
  // 40 names in a scrambled order, listed as the set grows past 6, 12 and 24.
  const names = scrambledChildNames();
  for (let i = 0; i < names.length; i++) {
    await A.create(`create /co/big/${names[i]}`, `/co/big/${names[i]}`, null, i % 5 === 0 ? 1 : 0);
    if ([1, 5, 6, 7, 12, 13, 24, 25, 39].includes(i)) await B.getChildren(`B getChildren /co/big at ${i + 1}`, '/co/big');
  }
  await B.getChildren2('B getChildren2 /co/big (watch)', '/co/big', true);
  // Shrunk to five: the table stays at 64 buckets.
  for (let i = 0; i < 35; i++) await A.delete(`delete /co/big/${names[i]}`, `/co/big/${names[i]}`);
  await B.getChildren('B getChildren /co/big after 35 deletes', '/co/big');
  // Re-created names go after those that stayed in their bucket.
  for (const n of [names[3]!, 'late', names[0]!]) await A.create(`create /co/big/${n} again`, `/co/big/${n}`, null, 0);
  await B.getChildren('B getChildren /co/big after re-creating', '/co/big');
  for (const n of [...names.slice(35), names[3]!, 'late', names[0]!]) await A.delete(`delete /co/big/${n}`, `/co/big/${n}`);
  await B.getChildren('B getChildren /co/big emptied', '/co/big');
  // (A fresh set of 8 buckets would list these three a1, c1, b1.)
  for (const n of ['c1', 'b1', 'a1']) await A.create(`create /co/big/${n} into the emptied set`, `/co/big/${n}`, null, 0);
  await B.getChildren('B getChildren /co/big after emptying', '/co/big');
  // Sequential names, and a multiRead.
  await A.create('create /co/locks', '/co/locks', null, 0);
  for (let i = 0; i < 20; i++) await A.create(`create /co/locks/lock- #${i}`, '/co/locks/lock-', null, i % 2 === 0 ? 2 : 3);
  await B.getChildren('B getChildren /co/locks', '/co/locks');
  await B.req('B multiRead getChildren /co/locks, /co, /co/big', OpCode.multiRead, (w) => {
    for (const p of ['/co/locks', '/co', '/co/big']) {
      w.int(OpCode.getChildren).bool(false).int(-1);
      w.ustring(p).bool(false);
    }
    w.int(-1).bool(true).int(-1);
  }, 'multi');
  await B.getChildren('B getChildren /co', '/co');
  // A list of 64 or more is encoded before it is ordered (reads.ts): 150 names, some deleted.
  const many = (i: number): string => `/co/many/m${(i * 37) % 150}-${'x'.repeat(i % 7)}`;
  await A.create('create /co/many', '/co/many', null, 0);
  for (let i = 0; i < 150; i++) await A.create(`create ${many(i)}`, many(i), null, i % 4 === 0 ? 1 : 0);
  await B.getChildren2('B getChildren2 /co/many', '/co/many');
  for (let i = 0; i < 150; i += 3) await A.delete(`delete ${many(i)}`, many(i));
  await B.getChildren('B getChildren /co/many after deletes', '/co/many');
  await A.closeSession('A closeSession (its ephemerals go)');
  await B.getChildren('B getChildren /co/big after A closed', '/co/big');
  await B.getChildren('B getChildren /co/locks after A closed', '/co/locks');
  await B.getChildren('B getChildren /co/many after A closed', '/co/many');
};

/**
 * Sessions that expire (no closeSession): D's connection is dropped, A's
 * stays open and silent, both with the 4 s minimum timeout (tickTime 2000).
 * Each expiry is one closeSession txn that deletes the session's ephemerals
 * in one order; a watcher elsewhere sees them go; A's open connection is
 * closed by the server; an expired session cannot be reopened. Events are
 * noted per session (the two expiries may share an expiry bucket, and which
 * of them goes first is the server's affair), and the watcher is a plain
 * client that pings so that it outlives them.
 */
const expiryScenario: Scenario = async (run) => {
  const B = await run.connect('B');
  await B.create('create /sx', '/sx', null, 0);
  const A = await run.connect('A', { timeoutMs: 4000 });
  const D = await run.connect('D', { timeoutMs: 4000 });
  run.note('negotiated timeouts', [A.client.timeoutMs, D.client.timeoutMs]);
  const sessions = [[A, '/sx/a'], [D, '/sx/d']] as const;
  const seqPaths: string[] = [];
  for (const [C, dir] of sessions) {
    await B.create(`create ${dir}`, dir, null, 0);
    await C.create(`${C.label} create ${dir}/e1 ephemeral`, `${dir}/e1`, enc('1'), 1);
    await C.create(`${C.label} create ${dir}/e2 ephemeral`, `${dir}/e2`, null, 1);
    const seq = await C.create(`${C.label} create ${dir}/s- ephemeral sequential`, `${dir}/s-`, null, 3);
    seqPaths.push((seq.body as { path: string }).path);
    await C.create(`${C.label} create ${dir}/keep`, `${dir}/keep`, null, 0);
    await C.getData(`${C.label} getData ${dir}/keep watch (its own)`, `${dir}/keep`, true);
  }
  // D's set of ephemerals grows past 12 (Apache's HashSet doubles to 32
  // buckets) and shrinks to 9: the order it lists and deletes them in is
  // the order of a copy re-bucketed for 9.
  const extra: string[] = [];
  for (let i = 0; i < 14; i++) {
    await D.create(`D create /sx/d/n${i} ephemeral`, `/sx/d/n${i}`, null, 1);
    extra.push(`/sx/d/n${i}`);
  }
  for (const i of [0, 3, 4, 6, 9, 10, 12, 13]) await D.delete(`D delete /sx/d/n${i}`, `/sx/d/n${i}`);
  const left = extra.filter((_, i) => ![0, 3, 4, 6, 9, 10, 12, 13].includes(i));
  for (const [C, dir] of sessions) await C.getEphemerals(`${C.label} getEphemerals ${dir}`, dir);
  await B.getEphemerals('B getEphemerals /sx before', '/sx');
  const W = await ZkClient.connect(run.target.host, run.target.port, { ping: true });
  try {
    const events: string[] = [];
    W.on('event', (e: { type: number; path: string }) => { events.push(`${e.type} ${e.path}`); });
    for (const [, dir] of sessions) {
      await W.exists(`${dir}/e1`, true);
      await W.getData(`${dir}/e2`, true);
      await W.getChildren(dir, true);
    }
    // A persistent watch on each sequential node (addWatch mode 0).
    for (const p of seqPaths) await W.request(OpCode.addWatch, (w) => { w.ustring(p).int(0); });
    for (const p of left) await W.exists(p, true);
    const t0 = Date.now();
    D.client.destroy();
    // Every ephemeral of both sessions gone, each seen once.
    const expected = 6 + left.length;
    const deleted = () => events.filter((e) => e.startsWith('2 ')).length;
    for (let i = 0; i < 200 && deleted() < expected; i++) await new Promise((r) => setTimeout(r, 50));
    const elapsedMs = Date.now() - t0;
    const aClosedByServer = await A.client.closedWithin(5000);
    run.note('expiry', {
      deletions: deleted(),
      // The last request touched both sessions just before t0: they go at
      // the first expiry tick at or after 4 s, so by about 6 s.
      notBeforeTimeout: elapsedMs >= 3900,
      withinTimeoutAndTwoTicks: elapsedMs <= 4000 + 2 * 2000 + 1000,
      openConnectionClosedByServer: aClosedByServer,
    });
    for (const [C, dir] of sessions) run.note(`events for ${C.label}'s nodes`, events.filter((e) => e.endsWith(dir) || e.includes(`${dir}/`)));
    run.note('events for other nodes', events.filter((e) => !sessions.some(([, dir]) => e.endsWith(dir) || e.includes(`${dir}/`))));
  } finally {
    await W.close();
  }
  // Each expiry took one zxid: B's next write shows how many went by.
  await B.create('B create /sx/after', '/sx/after', null, 0);
  for (const [, dir] of sessions) await B.getChildren(`B getChildren ${dir} after`, dir);
  await B.getEphemerals('B getEphemerals /sx after', '/sx');
  await B.exists('B exists /sx/d/keep after', '/sx/d/keep');
  // Reopening an expired session: a ConnectResponse with timeOut 0, session id 0, then the server closes.
  for (const [C] of sessions) {
    run.closedSessions.add(C.sessionId);
    const again = await RawConn.open(run.target.host, run.target.port);
    try {
      again.write(connectRequestFrame({ withReadOnlyByte: true, sessionId: C.sessionId, passwd: C.client.passwd, lastZxidSeen: C.client.lastZxid }));
      await again.waitFrames(1);
      const closed = await again.waitClosed(5000);
      const rsp = again.frames[0] === undefined ? null : describeConnectResponse(again.frames[0]);
      run.note(`reopen ${C.label} after expiry`, {
        frames: again.frames.length, response: rsp === null ? null : { ...rsp, sessionId: rsp.sessionIdZero, passwd: rsp.passwdAllZero }, closedByServer: closed,
      });
    } finally {
      again.destroy();
    }
  }
  await B.getEphemerals('B getEphemerals /sx at the end', '/sx');
};

/** getACL with and without ADMIN, setACL versions, ip ACLs, the auth scheme. */
const aclScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  const B = await run.connect('B');
  await addauth(A, 'A addauth digest alice:secret', 'digest', 'alice:secret');
  await A.create('create /ac', '/ac', null, 0);

  // getACL: without ADMIN, digest ids are shown as user:x.
  await A.create('create /ac/ra [alice READ, world READ]', '/ac/ra', null, 0, { acl: acl([READ, 'digest', ALICE], [READ, 'world', 'anyone']) });
  await B.getACL('B getACL /ac/ra (READ, no ADMIN)', '/ac/ra');
  await A.getACL('A getACL /ac/ra (alice has no ADMIN either)', '/ac/ra');
  await A.create('create /ac/adm [alice ALL, world READ]', '/ac/adm', null, 0, { acl: acl([ALL, 'digest', ALICE], [READ, 'world', 'anyone']) });
  await B.getACL('B getACL /ac/adm (no ADMIN)', '/ac/adm');
  await A.getACL('A getACL /ac/adm (ADMIN)', '/ac/adm');
  await A.create('create /ac/adminonly [world ADMIN, bob READ]', '/ac/adminonly', null, 0, { acl: acl([ADMIN, 'world', 'anyone'], [READ, 'digest', BOB]) });
  await B.getACL('B getACL /ac/adminonly (ADMIN, no READ)', '/ac/adminonly');
  await B.getData('B getData /ac/adminonly (no READ)', '/ac/adminonly');
  await A.create('create /ac/none [bob ALL]', '/ac/none', enc('secret'), 0, { acl: acl([ALL, 'digest', BOB]) });
  await B.getACL('B getACL /ac/none (neither READ nor ADMIN)', '/ac/none');
  await A.getACL('A getACL /ac/none', '/ac/none');
  await A.create('create /ac/odd digest ids', '/ac/odd', null, 0, {
    acl: acl([READ, 'digest', 'u:h:'], [READ, 'digest', 'v:a=b'], [READ, 'world', 'anyone'], [READ, 'ip', '127.0.0.1']),
  });
  await B.getACL('B getACL /ac/odd (masking odd digest ids)', '/ac/odd');
  await A.create('create digest id with two colons (INVALIDACL)', '/ac/bad', null, 0, { acl: acl([READ, 'digest', 'a:b:c']) });
  await A.create('create digest id without a colon (INVALIDACL)', '/ac/bad', null, 0, { acl: acl([READ, 'digest', 'abc']) });
  await A.create('create world id other than anyone (INVALIDACL)', '/ac/bad', null, 0, { acl: acl([READ, 'world', 'someone']) });
  await A.create('create duplicate entries', '/ac/dup', null, 0, { acl: acl([READ, 'world', 'anyone'], [READ, 'world', 'anyone'], [ALL, 'world', 'anyone']) });
  await A.getACL('getACL /ac/dup', '/ac/dup');
  await A.create('create perms 0 and perms 63', '/ac/perms', null, 0, { acl: acl([0, 'digest', ALICE], [63, 'world', 'anyone']) });
  await A.getACL('getACL /ac/perms', '/ac/perms');

  // setACL: the version is the aversion.
  await A.create('create /ac/v', '/ac/v', null, 0);
  await A.setACL('setACL /ac/v version 0', '/ac/v', OPEN_ACL, 0);
  await A.setACL('setACL /ac/v version 0 again (BADVERSION)', '/ac/v', OPEN_ACL, 0);
  await A.setACL('setACL /ac/v version 1', '/ac/v', acl([ALL, 'world', 'anyone'], [READ, 'digest', BOB]), 1);
  await A.setACL('setACL /ac/v version -1', '/ac/v', OPEN_ACL, -1);
  await A.setACL('setACL /ac/v version 7 (BADVERSION)', '/ac/v', OPEN_ACL, 7);
  await A.setACL('setACL /ac/v version -2 (BADVERSION)', '/ac/v', OPEN_ACL, -2);
  await A.exists('exists /ac/v (aversion 3, version 0)', '/ac/v');
  await A.setData('setData /ac/v (version moves, aversion stays)', '/ac/v', enc('d'));
  await A.getACL('getACL /ac/v', '/ac/v');
  await A.setACL('setACL /missing', '/ac/missing', OPEN_ACL, 0);
  await A.setACL('setACL /missing with an invalid ACL', '/ac/missing', [], 0);
  await A.setACL('setACL /ac/v empty ACL', '/ac/v', [], 3);
  await A.setACL('setACL /ac/v invalid ACL and bad version', '/ac/v', acl([READ, 'digest', 'nocolon']), 9);
  await B.setACL('B setACL /ac/none (no ADMIN) bad version', '/ac/none', OPEN_ACL, 9);
  await B.setACL('B setACL /ac/none (no ADMIN)', '/ac/none', OPEN_ACL, 0);
  await B.setACL('B setACL /ac/adminonly (ADMIN via world)', '/ac/adminonly', acl([ADMIN | READ, 'world', 'anyone']), 0);
  await B.getData('B getData /ac/adminonly after its setACL', '/ac/adminonly');
  await B.setACL('B setACL with the auth scheme, unauthenticated', '/ac/adminonly', acl([ALL, 'auth', '']), 1);
  await A.setACL('A setACL /ac/v to auth', '/ac/v', acl([ALL, 'auth', '']), 3);
  await A.getACL('A getACL /ac/v after auth', '/ac/v');
  await B.setData('B setData /ac/v (NOAUTH)', '/ac/v', enc('x'));

  // The auth scheme expands to every authenticated (digest) id of the connection.
  await addauth(A, 'A addauth digest bob:pw', 'digest', 'bob:pw');
  await addauth(A, 'A addauth digest alice:secret again', 'digest', 'alice:secret');
  await A.whoAmI('A whoAmI');
  await A.create('create /ac/auth [auth ALL]', '/ac/auth', null, 0, { acl: acl([ALL, 'auth', '']) });
  await A.getACL('getACL /ac/auth', '/ac/auth');
  await A.create('create /ac/auth-id [auth:whatever READ, world READ]', '/ac/auth-id', null, 0, { acl: acl([READ, 'auth', 'whatever'], [READ, 'world', 'anyone']) });
  await A.getACL('getACL /ac/auth-id', '/ac/auth-id');
  await A.create('create /ac/auth-dup [auth ALL, digest alice ALL]', '/ac/auth-dup', null, 0, { acl: acl([ALL, 'auth', ''], [ALL, 'digest', ALICE]) });
  await A.getACL('getACL /ac/auth-dup', '/ac/auth-dup');
  await A.create('create /ac/auth-two [auth READ, auth WRITE]', '/ac/auth-two', null, 0, { acl: acl([READ, 'auth', ''], [WRITE, 'auth', '']) });
  await A.getACL('getACL /ac/auth-two', '/ac/auth-two');
  await B.create('B create with auth unauthenticated (INVALIDACL)', '/ac/bauth', null, 0, { acl: acl([ALL, 'auth', '']) });
  await B.create('B create with auth and world unauthenticated (INVALIDACL)', '/ac/bauth', null, 0, { acl: acl([READ, 'world', 'anyone'], [ALL, 'auth', '']) });
  await addauth(B, 'B addauth digest carol:pw', 'digest', 'carol:pw');
  await B.create('B create with auth after addauth', '/ac/bauth', null, 0, { acl: acl([ALL, 'auth', '']) });
  await B.getACL('B getACL /ac/bauth', '/ac/bauth');
  await B.getData('B getData /ac/none (still NOAUTH)', '/ac/none');
  await A.getData('A getData /ac/none (bob)', '/ac/none');
  await A.delete('A delete /ac/auth-two (parent grants DELETE to anyone)', '/ac/auth-two');

  // ip ACLs: the clients connect from 127.0.0.1.
  const ip = (label: string, id: string, perms = ALL) => A.create(`create ip ${label}`, `/ac/ip-${label}`, enc(label), 0, { acl: acl([perms, 'ip', id]) });
  await ip('127.0.0.1', '127.0.0.1');
  await ip('127.0.0.0_8-read', '127.0.0.0/8', READ);
  await ip('10.0.0.0_8', '10.0.0.0/8');
  await ip('127.0.0.2', '127.0.0.2');
  await ip('127.0.0.1_32', '127.0.0.1/32');
  await ip('0.0.0.0_0-read', '0.0.0.0/0', READ);
  await ip('127.1.2.3_8 (host bits set)', '127.1.2.3/8', READ);
  await ip('127.0.0.0_24', '127.0.0.0/24');
  await ip('127.0.0.0_31', '127.0.0.0/31');
  await ip('127.0.0.2_31', '127.0.0.2/31');
  for (const label of ['127.0.0.1', '127.0.0.0_8-read', '10.0.0.0_8', '127.0.0.2', '127.0.0.1_32', '0.0.0.0_0-read',
    '127.1.2.3_8 (host bits set)', '127.0.0.0_24', '127.0.0.0_31', '127.0.0.2_31']) {
    await B.getData(`B getData ip ${label}`, `/ac/ip-${label}`);
    await B.setData(`B setData ip ${label}`, `/ac/ip-${label}`, enc('w'));
  }
  await B.getACL('B getACL ip 127.0.0.0/8 (no ADMIN)', '/ac/ip-127.0.0.0_8-read');
  await B.getACL('B getACL ip 127.0.0.1 (ADMIN)', '/ac/ip-127.0.0.1');
  await B.create('B create under ip 127.0.0.1 (CREATE granted)', '/ac/ip-127.0.0.1/kid', null, 0);
  await B.create('B create under ip 10.0.0.0/8 (NOAUTH)', '/ac/ip-10.0.0.0_8/kid', null, 0);
  for (const [label, id] of [
    ['prefix 33', '127.0.0.1/33'], ['prefix -1', '127.0.0.1/-1'], ['empty prefix', '127.0.0.1/'],
    ['prefix x', '127.0.0.1/x'], ['three octets', '127.0.0'], ['octet 256', '256.0.0.1'], ['octet -1', '127.0.0.-1'],
    ['leading space', ' 127.0.0.1'], ['hostname', 'localhost'], ['empty', ''],
    ['five octets', '1.2.3.4.5'], ['trailing dot', '127.0.0.1.'], ['prefix 08', '127.0.0.0/08'], ['two slashes', '127.0.0.0/8/8'],
  ] as const) {
    await A.create(`create ip ACL ${label} ${JSON.stringify(id)}`, `/ac/ipbad-${label.replace(/\W+/g, '_')}`, null, 0, { acl: acl([READ, 'ip', id]) });
  }
  await A.getChildren('getChildren /ac at the end', '/ac');
};

/** addauth as the superDigest user: every ACL check passes; auth expands to the digest id only. */
const superScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  await A.create('create /su', '/su', null, 0, { acl: acl([ALL, 'digest', BOB]) });
  await A.create('create /su/x (CREATE denied: NOAUTH)', '/su/x', null, 0);
  await A.getData('A getData /su (NOAUTH)', '/su');
  const S = await run.connect('S');
  await S.whoAmI('S whoAmI before addauth');
  await addauth(S, 'S addauth digest super:secret', 'digest', 'super:secret');
  await S.whoAmI('S whoAmI as super');
  await S.getData('S getData /su', '/su');
  await S.getACL('S getACL /su (full ids)', '/su');
  await S.setData('S setData /su', '/su', enc('by super'));
  await S.create('S create /su/x', '/su/x', enc('x'), 0, { acl: acl([READ, 'digest', BOB]) });
  await S.getData('S getData /su/x', '/su/x');
  await S.setACL('S setACL /su/x version 0', '/su/x', acl([ALL, 'digest', ALICE]), 0);
  await S.setACL('S setACL /su/x version 0 again (BADVERSION: super does not skip versions)', '/su/x', OPEN_ACL, 0);
  await S.create('S create /su/a [auth ALL] (expands to the super digest id)', '/su/a', null, 0, { acl: acl([ALL, 'auth', '']) });
  await S.getACL('S getACL /su/a', '/su/a');
  await S.getAllChildrenNumber('S getAllChildrenNumber /su', '/su');
  await S.delete('S delete /su/x', '/su/x');
  await S.delete('S delete /su/a', '/su/a');
  const W = await run.connect('W');
  await addauth(W, 'W addauth digest super:wrong', 'digest', 'super:wrong');
  await W.whoAmI('W whoAmI (wrong super password)');
  await W.getData('W getData /su (NOAUTH)', '/su');
  await addauth(W, 'W addauth super scheme (no such provider)', 'super', 'secret');
  const closed = await W.client.closedWithin(5000);
  run.note('addauth with scheme "super" closes the connection', closed);
  await S.setACL('S setACL /su open', '/su', OPEN_ACL, -1);
  await A.getData('A getData /su after super opened it', '/su');
};

/*
 * Odd inputs where Apache 3.8's answers come from Java library details, one
 * scenario each (on the shared server):
 *   - getAllChildrenNumber(""): Apache keeps the root under both "" and "/"
 *     and counts the keys starting with path + "/", so "" counts "/" itself
 *     (one more than for "/");
 *   - getEphemerals with a null prefix: every ephemeral of the session;
 *   - getACL without ADMIN masks digest ids with Java's replaceAll(":.*",
 *     ":x"), where "." stops at a line break;
 *   - ip ids: octets and prefix lengths are parsed with Integer.parseInt
 *     (a leading "+" and leading zeros are accepted), and 3.8's ip provider
 *     knows no IPv6;
 *   - ACL ids with a null scheme or id (kazoo sends '' as a null string, as
 *     in its CREATOR_ALL_ACL): the auth scheme ignores its id, a null scheme
 *     is INVALIDACL, and a null id that Apache compares or parses is a
 *     NullPointerException inside it, so the whole request (a multi too) is
 *     a MARSHALLINGERROR that still takes a zxid;
 * And one deliberate difference (README): a create2 (15) op inside a multi.
 * Apache 3.8 answers it as a create (1), a CreateResponse with the path only;
 * zoonode keeps the op's type as 3.9 does and answers with the Stat. (The Java
 * client never sends one: its Op.create is opcode 1, 19 or 21.)
 */

const emptyPathCountScenario: Scenario = async (run) => {
  await run.connect('A');
  // Counted through a client outside the transcript: the shared server's tree is bigger than zoonode's.
  const R = await ZkClient.connect(run.target.host, run.target.port, { ping: false });
  try {
    const count = async (p: string) => {
      const r = await R.request(OpCode.getAllChildrenNumber, (w) => { w.ustring(p); });
      return r.hdr.err === 0 ? r.body.int() : `err ${r.hdr.err}`;
    };
    const root = await count('/');
    const empty = await count('');
    run.note('getAllChildrenNumber("") minus getAllChildrenNumber("/")', typeof root === 'number' && typeof empty === 'number' ? empty - root : [empty, root]);
  } finally {
    await R.close();
  }
};

const nullEphemeralsPrefixScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  await A.create('create /oddn', '/oddn', null, 0);
  await A.create('A create /oddn/e ephemeral', '/oddn/e', null, 1);
  await A.req('A getEphemerals null prefix', OpCode.getEphemerals, (w) => { w.ustring(null); }, 'stringList');
};

const digestMaskLineBreakScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  const B = await run.connect('B');
  await A.create('create /oddm [digest nl:abc\\ndef READ, world READ]', '/oddm', null, 0, {
    acl: acl([READ, 'digest', 'nl:abc\ndef'], [READ, 'world', 'anyone']),
  });
  await B.getACL('B getACL /oddm (no ADMIN: masked)', '/oddm');
};

const ipIdParsingScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  const B = await run.connect('B');
  await A.create('create /oddi', '/oddi', null, 0);
  for (const [label, id] of [
    ['prefix +8', '127.0.0.0/+8'], ['leading zeros', '127.000.0.01'], ['leading plus', '+127.0.0.1'],
    ['IPv6 ::1', '::1'], ['IPv6 CIDR', 'fe80::/10'], ['IPv4-mapped IPv6', '::ffff:127.0.0.1'],
  ] as const) {
    const p = `/oddi/ip-${label.replace(/\W+/g, '_')}`;
    await A.create(`create ip ACL ${label} ${JSON.stringify(id)}`, p, null, 0, { acl: acl([ALL, 'ip', id]) });
    await B.getData(`B getData under ip ACL ${label}`, p);
  }
};

const nullAclIdScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  const nul = (perms: number, scheme: string | null, id: string | null): RequestACL => ({ perms, id: { scheme, id } });
  const creatorAll = [nul(ALL, 'auth', null)];
  await A.create('create /oddz', '/oddz', null, 0);
  await A.create('create [auth:null] without auth', '/oddz/a0', null, 0, { acl: creatorAll });
  await A.create('create [digest:null]', '/oddz/a1', null, 0, { acl: [nul(ALL, 'digest', null)] });
  await A.create('create [world:null]', '/oddz/a2', null, 0, { acl: [nul(ALL, 'world', null)] });
  await A.create('create [ip:null]', '/oddz/a3', null, 0, { acl: [nul(ALL, 'ip', null)] });
  await A.create('create [foo:null] (no provider)', '/oddz/a4', null, 0, { acl: [nul(ALL, 'foo', null)] });
  await A.create('create [null:anyone]', '/oddz/a5', null, 0, { acl: [nul(ALL, null, 'anyone')] });
  await A.create('create [world:anyone, null:anyone] same perms', '/oddz/a6', null, 0, {
    acl: [nul(ALL, 'world', 'anyone'), nul(ALL, null, 'anyone')],
  });
  await A.create('create [world:anyone, world:null] same perms', '/oddz/a7', null, 0, {
    acl: [nul(ALL, 'world', 'anyone'), nul(ALL, 'world', null)],
  });
  await A.create('create [world:anyone READ, null:x] other perms', '/oddz/a8', null, 0, {
    acl: [nul(READ, 'world', 'anyone'), nul(ALL, null, 'x')],
  });
  const multi = (label: string, second: RequestACL[]) =>
    multiCreates(A, label, [{ path: '/oddz/m1' }, { path: '/oddz/m2', acl: second }, { path: '/oddz/m3' }]);
  await multi('multi with a [digest:null] create in the middle', [nul(ALL, 'digest', null)]);
  await A.exists('exists /oddz/m1 after it', '/oddz/m1');
  await multi('multi with a [null:x] create in the middle', [nul(ALL, null, 'x')]);
  await A.setACL('setACL /oddz [digest:null]', '/oddz', [nul(ALL, 'digest', null)]);
  await A.setACL('setACL /oddz [auth:null] without auth', '/oddz', creatorAll);
  await addauth(A, 'A addauth digest u:p', 'digest', 'u:p');
  await A.create('create [auth:null] with auth', '/oddz/b0', null, 0, { acl: creatorAll });
  await A.getACL('getACL /oddz/b0', '/oddz/b0');
  await multi('multi with an [auth:null] create in the middle', creatorAll);
  await A.getACL('getACL /oddz/m2', '/oddz/m2');
  await A.setACL('setACL /oddz [auth:null, world:anyone READ]', '/oddz', [...creatorAll, nul(READ, 'world', 'anyone')]);
  await A.getACL('getACL /oddz', '/oddz');
  await A.create('create /oddz/end', '/oddz/end', null, 0);
};

const create2InMultiScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  await A.create('create /oddc', '/oddc', null, 0);
  await multiCreates(A, 'multi: create2 op, create op, createContainer op', [
    { type: OpCode.create2, path: '/oddc/m2' },
    { path: '/oddc/m1' },
    { type: OpCode.create2, path: '/oddc/m2/kid' },
    { type: OpCode.createContainer, path: '/oddc/mc', flags: 4 },
    { path: '/oddc/mc/kid' },
  ]);
  await A.getChildren2('getChildren2 /oddc', '/oddc');
};

/**
 * Watch events go only to watchers that may READ the node (the parent, for a
 * children change): Apache's fix of CVE-2024-23944, in Debian's 3.8.0 build
 * as in 3.8.4 and 3.9.2. A dropped event still uses up a one-shot watch.
 * Found by the random differential test.
 */
const watchReadAclScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  const B = await run.connect('B');
  const R = await run.connect('R');
  await addauth(A, 'A addauth digest bob:pw', 'digest', 'bob:pw');
  const hidden = acl([READ | ADMIN, 'digest', BOB], [WRITE | CREATE | DELETE, 'world', 'anyone']);
  await A.create('create /oddw', '/oddw', null, 0);
  await R.req('R addWatch /oddw persistent recursive', OpCode.addWatch, (w) => { w.ustring('/oddw').int(1); }, 'none');
  await A.create('create /oddw/n (the world may not READ)', '/oddw/n', enc('0'), 0, { acl: hidden });
  await B.exists('B exists /oddw/n watch', '/oddw/n', true);
  await B.getData('B getData /oddw/n: NOAUTH', '/oddw/n', true);
  await A.setData('A setData /oddw/n: no event for B', '/oddw/n', enc('1'));
  await B.exists('B exists /oddw/n watch again', '/oddw/n', true);
  await A.create('create /oddw/p (open)', '/oddw/p', null, 0);
  await B.getChildren('B getChildren /oddw/p watch', '/oddw/p', true);
  await A.setACL('A setACL /oddw/p: the world may not READ', '/oddw/p', hidden);
  await A.create('create /oddw/p/c: no children event for B', '/oddw/p/c', null, 0);
  await B.exists('B exists /oddw/x watch (missing)', '/oddw/x', true);
  await A.create('create /oddw/x hidden: no created event for B', '/oddw/x', null, 0, { acl: hidden });
  await A.delete('delete /oddw/n: no deleted event for B', '/oddw/n');
  await A.setData('A setData /oddw (readable): the recursive watch fires', '/oddw', enc('r'));
  await B.sync('B sync', '/oddw');
  await addauth(B, 'B addauth digest bob:pw', 'digest', 'bob:pw');
  await B.exists('B exists /oddw/y watch (missing)', '/oddw/y', true);
  await A.create('create /oddw/y hidden: B may READ it now', '/oddw/y', null, 0, { acl: hidden });
  await B.exists('B exists /oddw/x watch', '/oddw/x', true);
  await A.setData('A setData /oddw/x: B may READ it', '/oddw/x', enc('2'));
  await B.sync('B sync again', '/oddw');
  await R.sync('R sync', '/oddw');
};

/**
 * Creates inside a multi, typed as Apache builds them from the header and
 * the create mode: the container mode makes a createContainer under any
 * header; a createTTL header without a TTL mode is a plain create (its ttl
 * dropped); a TTL mode under another header fails the whole multi with
 * MARSHALLINGERROR when the op is reached (nothing of it applied, a zxid
 * used), and is RUNTIMEINCONSISTENCY after an op that failed. Found by the
 * random differential test.
 */
const multiCreateModesScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  const B = await run.connect('B');
  await A.create('create /oddt', '/oddt', null, 0);
  await B.getChildren('B getChildren /oddt watch', '/oddt', true);
  const multi = (label: string, ops: [number, string, number, number][]) =>
    multiCreates(A, label, ops.map(([type, path, flags, ttl]) => ({ type, path, flags, ttl })));
  await multi('multi: create and create2 with the container flag, createTTL with flags 0, 1 and 4', [
    [OpCode.create, '/oddt/c1', 4, -1],
    [OpCode.create2, '/oddt/c2', 4, -1],
    [OpCode.createTTL, '/oddt/t0', 0, 5000],
    [OpCode.createTTL, '/oddt/t1', 1, 5000],
    [OpCode.createTTL, '/oddt/t4', 4, 5000],
  ]);
  for (const n of ['c1', 'c2', 't0', 't1', 't4']) await A.exists(`exists /oddt/${n}`, `/oddt/${n}`);
  await multi('multi: create, then create with a TTL flag', [
    [OpCode.create, '/oddt/a', 0, -1],
    [OpCode.create, '/oddt/b', 5, -1],
  ]);
  await A.exists('exists /oddt/a: rolled back', '/oddt/a');
  await multi('multi: a failing create, then create2 with a TTL flag', [
    [OpCode.create, '/oddt/c1', 0, -1],
    [OpCode.create2, '/oddt/b', 6, -1],
  ]);
  await multi('multi: createContainer with a TTL flag', [[OpCode.createContainer, '/oddt/b', 5, -1]]);
  await A.create('create /oddt/end', '/oddt/end', null, 0);
  await B.sync('B sync', '/oddt');
};

const oddScenarios: [string, Scenario][] = [
  ['odd input: getAllChildrenNumber("") counts the root itself', emptyPathCountScenario],
  ['odd input: getEphemerals with a null prefix', nullEphemeralsPrefixScenario],
  ['odd input: getACL masking a digest id with a line break', digestMaskLineBreakScenario],
  ['odd input: ip ids parsed as Java does, no IPv6', ipIdParsingScenario],
  ['odd input: ACL ids with a null scheme or id', nullAclIdScenario],
  ['watch events only for watchers that may READ the node', watchReadAclScenario],
  ['creates in a multi typed by header and create mode', multiCreateModesScenario],
];

const create2InMultiName = 'create2 inside a multi';

// ---- zkCli's quota commands -------------------------------------------------------

const zkCliQuotaScript = [
  'create /zq',
  'create /zq/a 12345',
  'create /zq2',
  'setquota -n 5 /zq',
  'listquota /zq',
  'create /zq/b xy',
  'listquota /zq',
  'setquota -b 100 /zq',
  'listquota /zq',
  'get /zookeeper/quota/zq/zookeeper_limits',
  'get /zookeeper/quota/zq/zookeeper_stats',
  'setquota -n 3 /zq/a',
  'setquota -N 10 /zq2',
  'setquota -B 50 /zq2',
  'create /zq2/x 1234567',
  'listquota /zq2',
  'ls /zookeeper/quota/zq',
  'delquota -n /zq',
  'listquota /zq',
  'set /zq/a 1',
  'listquota /zq',
  'delquota /zq',
  'listquota /zq',
  'delquota /zq2',
  'listquota /zq2',
  'setquota -n 2 /missing',
  'listquota /missing',
  'setquota -n 2 /zookeeper/quota',
  'delquota /zq/a',
];

// ---- the tests --------------------------------------------------------------------

if (!isApacheInstalled()) {
  test('more differential tests against Apache ZooKeeper 3.8', {
    skip: 'Apache ZooKeeper is not installed (/usr/share/java/zookeeper.jar and /usr/bin/java are needed)',
  }, () => {});
} else {
  describe('differential (more): Apache ZooKeeper 3.8 vs zoonode', () => {
    describe('fresh servers without extended types (exact zxids)', () => {
      let apache: Transcript;

      before(async () => {
        const a = await startApache();
        killOnExit(a.process);
        try {
          apache = await runScenario(apacheTarget(a), freshScenario, true);
        } finally {
          await a.stop();
        }
      });

      test('Apache: the scenario observes what PROTOCOL.md describes', () => {
        const step = (label: string) => {
          const s = apache.steps.find((x) => x.label === label);
          assert.ok(s !== undefined, `no step ${label}`);
          return s;
        };
        assert.equal(step('createTTL flag 5 ttl 1000 (no extended types)').err, -6, 'TTL without extendedTypesEnabled: UNIMPLEMENTED');
        assert.equal(step('client deleteContainer /pc/kid (Jute string)').err, -8, 'client deleteContainer: BADARGUMENTS');
        assert.equal(step('getAllChildrenNumber /missing').err, -101);
        assert.deepEqual(step('getAllChildrenNumber /g/a').body, { value: 2 });
      });

      for (const workers of [0, 2]) {
        test(`zoonode workers=${workers} answers frame for frame like Apache`, async () => {
          const z = await onZoonode(workers, {}, freshScenario, true);
          assertSameAsApache(apache, z, `fresh scenario, workers=${workers}`);
        });
      }
    });

    describe('shared server with extendedTypesEnabled, a 100 ms reaper and a superDigest', () => {
      let shared: ApacheServer | null = null;
      const onShared = new Map<string, Promise<Transcript>>();

      before(async () => {
        shared = await startApache({ ...extSettings });
        killOnExit(shared.process);
      });

      after(async () => {
        await shared?.stop();
      });

      function apacheShared(name: string, scenario: Scenario): Promise<Transcript> {
        let p = onShared.get(name);
        if (p === undefined) {
          p = runScenario(apacheTarget(shared!), scenario, false);
          onShared.set(name, p);
        }
        return p;
      }

      const scenarios: [string, Scenario][] = [
        ['containers and TTL nodes: replies, stats, invalid requests', containerTtlScenario],
        ['the reaper: emptied containers and expired TTL nodes', reaperScenario],
        ['the reaper: the order it deletes containers in', reaperOrderScenario],
        ['quotas made the way zkCli setquota makes them', quotaScenario],
        ['getEphemerals prefixes', ephemeralsScenario],
        ['the order children are listed in', childrenOrderScenario],
        ['sessions that expire: ephemerals, watchers, the open connection, reopening', expiryScenario],
        ['getACL, setACL versions, ip ACLs, the auth scheme', aclScenario],
        ['addauth as the superDigest user', superScenario],
        ...oddScenarios,
      ];
      for (const [name, scenario] of scenarios) {
        for (const workers of [0, 2]) {
          test(`${name}: zoonode workers=${workers} like Apache`, { timeout: 60000 }, async () => {
            const apache = await apacheShared(name, scenario);
            const z = await onZoonode(workers, { ...extSettings }, scenario, false);
            assertSameAsApache(apache, z, `${name}, workers=${workers}`);
          });
        }
      }

      test('the reaper scenario saw the reaper work on Apache', async () => {
        const apache = await apacheShared('the reaper: emptied containers and expired TTL nodes', reaperScenario);
        assert.deepEqual(apache.notes['emptied container'], { created: [0, 0], event: true, existsAfter: false });
        assert.deepEqual(apache.notes['expired TTL node'], { created: [0, 0, 0], event: true, existsAfter: false, notBeforeTtl: true });
      });

      test('the reaper order scenario saw Apache delete all twelve, not in creation order', async () => {
        const apache = await apacheShared('the reaper: the order it deletes containers in', reaperOrderScenario);
        const deleted = apache.notes['containers deleted by the reaper, in order'] as string[];
        const created = Array.from({ length: 12 }, (_, i) => `/ro/c${i}`);
        assert.deepEqual([...deleted].sort(), [...created].sort());
        assert.notDeepEqual(deleted, created);
      });

      test('the expiry scenario saw both sessions expire on Apache', async () => {
        const apache = await apacheShared('sessions that expire: ephemerals, watchers, the open connection, reopening', expiryScenario);
        assert.deepEqual(apache.notes['negotiated timeouts'], [4000, 4000]);
        assert.deepEqual(apache.notes['expiry'], {
          deletions: 12, notBeforeTimeout: true, withinTimeoutAndTwoTicks: true, openConnectionClosedByServer: true,
        });
        // D's nodes were not listed or deleted in creation order (else the comparison of orders proves little).
        const listed = (apache.steps.find((s) => s.label === 'D getEphemerals /sx/d')!.body as { strings: string[] }).strings;
        assert.equal(listed.length, 9);
        const created = ['e1', 'e2', listed.find((p) => p.includes('/s-'))!.slice('/sx/d/'.length), 'n1', 'n2', 'n5', 'n7', 'n8', 'n11'];
        assert.notDeepEqual(listed, created.map((n) => `/sx/d/${n}`));
        for (const who of ['A', 'D']) {
          const r = apache.notes[`reopen ${who} after expiry`] as { frames: number; response: { timeOut: number }; closedByServer: boolean };
          assert.equal(r.response.timeOut, 0, `reopening ${who}: timeOut 0`);
          assert.equal(r.closedByServer, true);
        }
      });

      test('the children order scenario saw Apache list children out of creation order', async () => {
        const apache = await apacheShared('the order children are listed in', childrenOrderScenario);
        const listed = (label: string) => (apache.steps.find((s) => s.label === label)!.body as { children: string[] }).children;
        const at40 = listed('B getChildren /co/big at 40');
        assert.equal(at40.length, 40);
        assert.notDeepEqual(at40, [...at40].sort(), 'not sorted');
        const created = apache.steps.filter((s) => /^create \/co\/big\/[^ ]+$/.test(s.label)).map((s) => s.label.slice('create /co/big/'.length));
        assert.equal(created.length, 40);
        assert.notDeepEqual(at40, created, 'not in creation order');
        // An emptied set keeps its 64 buckets: the three names come out as a
        // table of 64 lists them, not as a fresh set of 8 would (a1, c1, b1).
        assert.deepEqual(listed('B getChildren /co/big after emptying'), ['b1', 'c1', 'a1']);
      });

      test('Apache: the odd inputs are answered as described', async () => {
        const t = async (i: number) => apacheShared(oddScenarios[i]![0], oddScenarios[i]![1]);
        const step = (tr: Transcript, label: string) => tr.steps.find((x) => x.label === label)!;
        assert.equal((await t(0)).notes['getAllChildrenNumber("") minus getAllChildrenNumber("/")'], 1);
        assert.deepEqual(step(await t(1), 'A getEphemerals null prefix').body, { strings: ['/oddn/e'] });
        assert.equal((step(await t(2), 'B getACL /oddm (no ADMIN: masked)').body as { acl: ACL[] }).acl[0]!.id.id, 'nl:x\ndef');
        const ipT = await t(3);
        assert.equal(step(ipT, 'create ip ACL prefix +8 "127.0.0.0/+8"').err, 0);
        assert.equal(step(ipT, 'B getData under ip ACL leading zeros').err, 0);
        assert.equal(step(ipT, 'create ip ACL IPv6 ::1 "::1"').err, -114);
        const nullT = await t(4);
        assert.equal(step(nullT, 'create [auth:null] without auth').err, -114);
        assert.equal(step(nullT, 'create [digest:null]').err, -5);
        assert.equal(step(nullT, 'create [null:anyone]').err, -114);
        assert.equal(step(nullT, 'multi with a [digest:null] create in the middle').err, -5);
        assert.equal(step(nullT, 'create [auth:null] with auth').err, 0);
        assert.equal(step(nullT, 'multi with an [auth:null] create in the middle').err, 0);
        const watchT = await t(5);
        assert.deepEqual(watchT.arrivals.B!.filter((x) => x.startsWith('event')).map((x) => x.replace(/ state=.*/, '')),
          ['event NodeCreated /oddw/y', 'event NodeDataChanged /oddw/x'], 'B hears only of nodes it may READ');
        assert.deepEqual(watchT.arrivals.R!.filter((x) => x.startsWith('event')).map((x) => x.replace(/ state=.*/, '')),
          ['event NodeCreated /oddw/p', 'event NodeCreated /oddw/p/c', 'event NodeDataChanged /oddw'],
          'R (no auth): its recursive watch fires for the readable nodes only');
        const multiT = await t(6);
        type Result = { type: number; err: number; path?: string };
        const results = (label: string) => (step(multiT, label).body as { results: Result[] }).results;
        assert.deepEqual(results('multi: create and create2 with the container flag, createTTL with flags 0, 1 and 4').map((r) => r.type),
          [15, 15, 1, 1, 15]);
        assert.equal(step(multiT, 'multi: create, then create with a TTL flag').err, -5);
        assert.equal(step(multiT, 'exists /oddt/a: rolled back').err, -101);
        assert.deepEqual(results('multi: a failing create, then create2 with a TTL flag').map((r) => r.err), [-110, -2]);
        assert.equal(step(multiT, 'multi: createContainer with a TTL flag').err, -5);
      });

      test('create2 inside a multi answers with its Stat (deliberate, README: 3.9\'s behaviour; 3.8 answers a create)', async (t) => {
        const apache = await apacheShared(create2InMultiName, create2InMultiScenario);
        const label = 'multi: create2 op, create op, createContainer op';
        type Result = { type: number; err: number; path: string; stat?: unknown };
        const aStep = apache.steps.find((x) => x.label === label)!;
        const aResults = (aStep.body as { results: Result[] }).results;
        t.diagnostic(`Apache 3.8 answers the multi's ops with types ${JSON.stringify(aResults.map((r) => r.type))} ` +
          '(create2 answered as create, without a Stat)');
        assert.deepEqual(aResults.map((r) => r.type), [1, 1, 1, 15, 1]);
        // zoonode: the create2 results carry type 15 and the Stat (all nodes are new at the multi's zxid, like the container's).
        const containerStat = aResults[3]!.stat;
        const expected = aResults.map((r, i) => (i === 0 || i === 2 ? { type: 15, err: 0, path: r.path, stat: containerStat } : r));
        for (const workers of [0, 2]) {
          const z = await onZoonode(workers, { ...extSettings }, create2InMultiScenario, false);
          const zStep = z.steps.find((x) => x.label === label)!;
          assert.deepEqual((zStep.body as { results: Result[] }).results, expected, `workers=${workers}`);
          assert.deepEqual({ ...zStep, body: null, frameLen: zStep.frameLen - 2 * 68 }, { ...aStep, body: null },
            `workers=${workers}: the same reply header; the frame longer by two Stats`);
          const others = (tr: Transcript) => ({ ...tr, steps: tr.steps.filter((x) => x.label !== label) });
          assertSameAsApache(others(apache), others(z), `${create2InMultiName}, workers=${workers}, other steps`);
        }
      });

      test('getACL without ADMIN masks digest ids as user:x on Apache', async () => {
        const apache = await apacheShared('getACL, setACL versions, ip ACLs, the auth scheme', aclScenario);
        const s = apache.steps.find((x) => x.label === 'B getACL /ac/adm (no ADMIN)')!;
        assert.deepEqual((s.body as { acl: ACL[] }).acl, acl([ALL, 'digest', 'alice:x'], [READ, 'world', 'anyone']));
      });

      describe('zkCli setquota/listquota/delquota', { skip: isZkCliInstalled() ? false : 'zkCli.sh is not installed' }, () => {
        let apacheOut: Promise<string[]> | null = null;
        const apacheLines = (): Promise<string[]> => {
          apacheOut ??= runZkCliScript(shared!.connectString, zkCliQuotaScript, 60000).then((o) => normalizeZkCliOutput(o, shared!.port));
          return apacheOut;
        };

        for (const workers of [0, 2]) {
          test(`zoonode workers=${workers} prints what Apache prints`, { timeout: 90000 }, async () => {
            const expected = await apacheLines();
            assert.ok(expected.some((l) => l.includes('Output quota for /zq')), `Apache's zkCli output:\n${expected.join('\n')}`);
            const z = await startZoonode({ workers, ...extSettings });
            try {
              const out = await runZkCliScript(z.connectString, zkCliQuotaScript, 60000);
              assert.deepEqual(normalizeZkCliOutput(out, z.port), expected);
            } finally {
              await z.stop();
            }
          });
        }
      });
    });
  });
}
