// Differential tests: the same raw-frame conversation against Apache
// ZooKeeper 3.8 (the Debian package) and against zoonode, replies compared.
//
// What must be equal: ReplyHeader err codes, reply zxids (exact on fresh
// servers; relative to the scenario's start on the shared Apache), reply
// frame lengths, decoded bodies (times and session ids normalised, see
// test/support/compat-wire.ts), the order frames arrive in on each
// connection, and what each scenario notes about handshakes and closes.
//
// Each scenario runs once on Apache (the main scenario on a fresh Apache,
// the others on one Apache shared by the file) and on a fresh zoonode per
// worker layout.

import fs from 'node:fs';
import path from 'node:path';
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startZoonode } from '../support/zoonode.js';
import { isApacheInstalled, startApache, type ApacheServer } from '../support/apache.js';
import { ZkClient } from '../../native-free-bench/zk-client.js';
import {
  OpCode, Writer, writeCreate, writePathVersion, writePathWatch, writeSetData, type ACL,
} from '../../src/jute/index.js';
import {
  Run, RawConn, OPEN_ACL, connectRequestFrame, describeConnectResponse, describeFrame, diffTranscripts,
  killOnExit, requestFrame, setDataFrameOfLength, withTimeout, type Target, type Transcript,
} from '../support/compat-wire.js';

type Scenario = (run: Run) => Promise<void>;

const NONODE = -101;
const BADARGUMENTS = -8;
const NOWATCHER = -121;
const UNIMPLEMENTED = -6;

const enc = (s: string): Buffer => Buffer.from(s, 'utf8');

function assertSameAsApache(apache: Transcript, zoonode: Transcript, what: string): void {
  const diff = diffTranscripts(apache, zoonode);
  assert.ok(diff.length === 0, `${what}: zoonode differs from Apache ZooKeeper 3.8:\n  ${diff.join('\n  ')}`);
  // The whole transcript too, in case the diff missed something.
  assert.deepStrictEqual(JSON.parse(JSON.stringify(zoonode)), JSON.parse(JSON.stringify(apache)));
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
    fs.writeFileSync(path.join(dir, file), JSON.stringify(run.transcript, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
  }
  return run.transcript;
}

async function onZoonode(workers: number, scenario: Scenario, absoluteZxids: boolean): Promise<Transcript> {
  const z = await startZoonode({ workers });
  try {
    return await runScenario({ name: `zoonode(workers=${workers})`, host: z.host, port: z.port }, scenario, absoluteZxids);
  } finally {
    await z.stop();
  }
}

function apacheTarget(a: ApacheServer): Target {
  return { name: 'apache', host: a.host, port: a.port };
}

/** Per-connection arrival list of a transcript, for direct assertions. */
function arrivals(t: Transcript, conn: string): string[] {
  return t.arrivals[conn] ?? [];
}

function indexOfPrefix(list: string[], prefix: string): number {
  return list.findIndex((s) => s.startsWith(prefix));
}

// ---- scenarios ------------------------------------------------------------------

/**
 * The main scenario: creates in every mode, sequential suffixes, stats,
 * null/empty data, path and argument validation, ACL validation, version
 * checks, special nodes, the odd read ops, and watches across two
 * connections.
 */
const mainScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  const B = await run.connect('B');

  // The root and its "" alias.
  await A.getData('getData ""', '');
  await A.exists('exists ""', '');
  await A.getChildren('getChildren ""', '');
  await A.getData('getData /', '/');

  // create (1) and create2 (15) in every valid flag.
  await A.create('create /p flag 0', '/p', enc('p'), 0);
  await A.create('create2 /q flag 0', '/q', enc('q'), 0, { op: OpCode.create2 });
  await A.create('create /p/e flag 1', '/p/e', enc('e'), 1);
  await A.create('create2 /p/e2 flag 1', '/p/e2', enc('e2'), 1, { op: OpCode.create2 });
  await A.create('create /p/s- flag 2', '/p/s-', enc('s'), 2);
  await A.create('create2 /p/s- flag 2', '/p/s-', enc('s'), 2, { op: OpCode.create2 });
  await A.create('create /p/es- flag 3', '/p/es-', enc('es'), 3);
  await A.create('create2 /p/es- flag 3', '/p/es-', null, 3, { op: OpCode.create2 });
  await A.getChildren2('getChildren2 /p after 6 creates', '/p');

  // Sequential suffix counts creates only; visible cversion counts creates and deletes.
  await A.delete('delete /p/s-0000000002', '/p/s-0000000002');
  await A.delete('delete /p/e', '/p/e');
  await A.create('create /p/s- after 2 deletes', '/p/s-', null, 2);
  await A.create('create /p/x plain', '/p/x', null, 0);
  await A.create('create /p/x again (NODEEXISTS)', '/p/x', null, 0);
  await A.create('create2 /p/s- after a failed create', '/p/s-', null, 2, { op: OpCode.create2 });
  await A.exists('exists /p (cversion = creates + deletes)', '/p');
  await A.getChildren('getChildren /p', '/p');

  // Stat fields through create, setData, setACL, child create and delete.
  await A.create('create2 /st', '/st', enc('abc'), 0, { op: OpCode.create2 });
  await A.setData('setData /st', '/st', enc('abcd'));
  await A.setData('setData /st version 1', '/st', enc('abcde'), 1);
  await A.setACL('setACL /st', '/st', OPEN_ACL);
  await A.setACL('setACL /st version 1', '/st', OPEN_ACL, 1);
  await A.getACL('getACL /st', '/st');
  await A.create('create /st/c', '/st/c', null, 0);
  await A.exists('exists /st after child create', '/st');
  await A.delete('delete /st/c', '/st/c');
  await A.exists('exists /st after child delete', '/st');
  await A.setData('setData /st bad version (BADVERSION)', '/st', enc('x'), 7);
  await A.setACL('setACL /st bad version (BADVERSION)', '/st', OPEN_ACL, 7);
  await A.delete('delete /st bad version (BADVERSION)', '/st', 7);
  await A.delete('delete /st version 2', '/st', 2);

  // null data versus empty data.
  await A.create('create /n null data', '/n', null, 0);
  await A.create('create /m empty data', '/m', new Uint8Array(0), 0);
  await A.getData('getData /n', '/n');
  await A.getData('getData /m', '/m');
  await A.setData('setData /m null', '/m', null);
  await A.setData('setData /n empty', '/n', new Uint8Array(0));
  await A.getData('getData /m after null', '/m');
  await A.getData('getData /n after empty', '/n');

  // Path validation.
  for (const [label, path] of [
    ['//x', '//x'], ['x', 'x'], ['empty', ''], ['/p/.', '/p/.'], ['/p/..', '/p/..'], ['NUL', '/p/a\u0000b'],
    ['trailing slash', '/p/'], ['/p//b', '/p//b'], ['/nope/x', '/nope/x'], ['/p/./x', '/p/./x'],
  ] as const) {
    await A.create(`create ${label}`, path, null, 0);
  }
  await A.create('create sequential with trailing slash', '/p/', null, 2);
  await A.delete('delete //x', '//x');
  await A.delete('delete x', 'x');
  await A.delete('delete empty', '');
  await A.delete('delete /p/', '/p/');
  await A.delete('delete NUL', '/p/a\u0000b');
  await A.setData('setData //x', '//x', null);
  await A.setData('setData empty', '', null);
  await A.setData('setData /p/..', '/p/..', null);
  await A.getData('getData //x', '//x');
  await A.exists('exists /p/..', '/p/..');
  await A.exists('exists NUL (BADARGUMENTS)', '/p/a\u0000b');
  await A.getData('getData NUL', '/p/a\u0000b');

  // Invalid flags, and TTL/container flags with extendedTypesEnabled off.
  await A.create('create flag 7', '/f', null, 7);
  await A.create('create flag -1', '/f', null, -1);
  await A.create('create flag 100', '/f', null, 100);
  await A.create('create (1) flag 5 TTL', '/f', null, 5);
  await A.create('create2 flag 6 TTL sequential', '/f', null, 6, { op: OpCode.create2 });
  await A.create('createTTL flag 5 ttl 1000', '/f', null, 5, { op: OpCode.createTTL, ttl: 1000 });
  await A.create('createTTL flag 0 ttl 1000', '/f', null, 0, { op: OpCode.createTTL, ttl: 1000 });
  await A.create('createContainer flag 4', '/cont', null, 4, { op: OpCode.createContainer });
  await A.exists('exists /cont', '/cont');
  await A.create('create (1) flag 4', '/c4', null, 4);
  await A.exists('exists /c4', '/c4');

  // ACL validation.
  const acl = (scheme: string, id: string, perms = 31): ACL[] => [{ perms, id: { scheme, id } }];
  await A.create('create empty ACL', '/acl', null, 0, { acl: [] });
  await A.create('create null ACL', '/acl', null, 0, { acl: null });
  await A.create('create unknown scheme ACL', '/acl', null, 0, { acl: acl('foo', 'bar') });
  await A.create('create auth ACL unauthenticated', '/acl', null, 0, { acl: acl('auth', '') });
  await A.create('create digest ACL malformed id', '/acl', null, 0, { acl: acl('digest', 'nocolon') });
  await A.create('create ip ACL malformed', '/acl', null, 0, { acl: acl('ip', 'not-an-ip') });
  await A.create('create ip ACL', '/acl', null, 0, { acl: acl('ip', '127.0.0.1') });
  await A.getACL('getACL /acl', '/acl');
  await A.setACL('setACL empty', '/acl', []);
  await A.setACL('setACL null', '/acl', null);
  await A.setACL('setACL world read-only', '/acl', acl('world', 'anyone', 1));
  await A.setData('setData read-only node (NOAUTH)', '/acl', enc('x'));
  await A.getData('getData read-only node', '/acl');

  // NOTEMPTY, NODEEXISTS, NOCHILDRENFOREPHEMERALS.
  await A.delete('delete /p (NOTEMPTY)', '/p');
  await A.create('create /p again (NODEEXISTS)', '/p', null, 0);
  await A.create('create child of ephemeral', '/p/e2/c', null, 0);
  await A.create('create sequential child of ephemeral', '/p/e2/c-', null, 2);
  await A.create('create ephemeral child of ephemeral', '/p/e2/c', null, 1);

  // Special nodes.
  await A.delete('delete /zookeeper', '/zookeeper');
  await A.delete('delete /', '/');
  await A.delete('delete /zookeeper/config', '/zookeeper/config');
  await A.delete('delete /zookeeper/quota', '/zookeeper/quota');
  await A.create('create /zookeeper', '/zookeeper', null, 0);
  await A.setData('setData /zookeeper/config (NOAUTH)', '/zookeeper/config', enc('x'));
  await A.getACL('getACL /zookeeper/config', '/zookeeper/config');
  await A.getData('getData /zookeeper/config', '/zookeeper/config');
  await A.getChildren2('getChildren2 /zookeeper', '/zookeeper');

  // sync, reconfig, getAllChildrenNumber, getEphemerals, whoAmI.
  await A.sync('sync /p', '/p');
  await A.sync('sync /missing', '/missing');
  await A.reconfig('reconfig (RECONFIGDISABLED)');
  await A.getAllChildrenNumber('getAllChildrenNumber /', '/');
  await A.getAllChildrenNumber('getAllChildrenNumber /p', '/p');
  await A.getAllChildrenNumber('getAllChildrenNumber /missing', '/missing');
  await A.getEphemerals('getEphemerals / by owner', '/');
  await A.getEphemerals('getEphemerals "" by owner', '');
  await A.getEphemerals('getEphemerals /p/es by owner', '/p/es');
  await A.getEphemerals('getEphemerals /q by owner', '/q');
  await B.getEphemerals('getEphemerals / by another session', '/');
  await A.whoAmI('whoAmI');

  // checkWatches / removeWatches.
  for (const type of [1, 2, 3]) {
    await A.checkWatches(`checkWatches /q type ${type} without watch`, '/q', type);
    await A.removeWatches(`removeWatches /q type ${type} without watch`, '/q', type);
  }
  await A.getData('getData /q watch', '/q', true);
  await A.checkWatches('checkWatches /q data with watch', '/q', 2);
  await A.checkWatches('checkWatches /q children with data watch only', '/q', 1);
  await A.removeWatches('removeWatches /q data', '/q', 2);
  await A.checkWatches('checkWatches /q data after removal', '/q', 2);
  await A.setData('setData /q after watch removal (no event)', '/q', enc('q2'));

  // Watches, own connection: events arrive before the reply of the write.
  await A.create('create /wp', '/wp', null, 0);
  await A.getChildren('getChildren /wp watch', '/wp', true);
  await A.exists('exists /wp/c watch (absent)', '/wp/c', true);
  await A.create('create /wp/c (A watches)', '/wp/c', enc('c'), 0);
  await A.getData('getData /wp/c watch', '/wp/c', true);
  await A.setData('setData /wp/c (A watches)', '/wp/c', enc('c2'));
  await A.getData('getData /wp/c watch again', '/wp/c', true);
  await A.getChildren('getChildren /wp/c watch', '/wp/c', true);
  await A.getChildren('getChildren /wp watch again', '/wp', true);
  await A.delete('delete /wp/c (A watches data+child+parent)', '/wp/c');

  // Watches across connections: A watches, B writes, then A reads (the event must come first).
  await A.exists('exists /wp/d watch (absent)', '/wp/d', true);
  await A.getChildren('getChildren /wp watch (for B)', '/wp', true);
  await B.exists('B exists /wp/d watch (absent)', '/wp/d', true);
  await B.create('B create /wp/d', '/wp/d', enc('d'), 1);
  await A.sync('A sync after B create', '/wp');
  await A.getData('A getData /wp/d watch', '/wp/d', true);
  await B.getData('B getData /wp/d watch', '/wp/d', true);
  await B.setData('B setData /wp/d', '/wp/d', enc('d2'));
  await A.exists('A exists after B setData', '/wp/d');
  await A.getData('A getData /wp/d watch again', '/wp/d', true);
  await A.getChildren('A getChildren /wp watch', '/wp', true);
  await B.delete('B delete /wp/d', '/wp/d');
  await A.exists('A exists /wp/d after B delete', '/wp/d');
  await A.getChildren2('getChildren2 /wp at the end', '/wp');
  await A.exists('exists / at the end', '/');
  await A.getAllChildrenNumber('getAllChildrenNumber / at the end', '/');
};

/** Handshake shapes (44/45 bytes), timeouts, pings. */
const handshakeScenario: Scenario = async (run) => {
  await run.connect('probe');
  const shapes: Record<string, unknown> = {};
  for (const [label, withReadOnlyByte, timeOut] of [
    ['44-byte', false, 30000], ['45-byte', true, 30000], ['45-byte timeout 1', true, 1], ['44-byte timeout 10 min', false, 600000],
  ] as const) {
    const c = await RawConn.open(run.target.host, run.target.port);
    try {
      const req = connectRequestFrame({ withReadOnlyByte, timeOut });
      c.write(req);
      await c.waitFrames(1);
      assert.ok(c.frames.length >= 1, `${run.target.name}: no ConnectResponse for the ${label} ConnectRequest`);
      const rsp = describeConnectResponse(c.frames[0]!);
      run.sessions.set(rsp.sessionId, `raw ${label}`);
      // A read, then (once it is answered) a ping: {xid -2, last zxid, err 0}.
      c.write(requestFrame(1, OpCode.exists, (w) => writePathWatch(w, { path: '/', watch: false })));
      await c.waitFrames(2);
      c.write(requestFrame(-2, OpCode.ping, () => {}));
      await c.waitFrames(3);
      // closeSession: a reply, then the server closes the socket.
      c.write(requestFrame(2, OpCode.closeSession, () => {}));
      await c.waitFrames(4);
      const closed = await c.waitClosed(5000);
      shapes[label] = {
        requestRecordBytes: req.length - 4,
        response: { ...rsp, sessionId: undefined, passwd: undefined },
        exists: c.frames[1] && describeFrame(run, c.frames[1]),
        ping: c.frames[2] && describeFrame(run, c.frames[2]),
        closeReply: c.frames[3] && describeFrame(run, c.frames[3]),
        framesAfter: c.frames.length - 4,
        closedByServer: closed,
      };
    } finally {
      c.destroy();
    }
  }
  run.note('handshakes', shapes);
};

/**
 * A ping sent behind requests on the same connection, before their replies
 * arrive: Apache answers in order (the ping goes through the request
 * pipeline), so the ping's reply follows the replies before it and carries
 * the zxid of the write before it.
 */
const pingOrderScenario: Scenario = async (run) => {
  await run.connect('probe');
  const c = await RawConn.open(run.target.host, run.target.port);
  try {
    c.write(connectRequestFrame({ withReadOnlyByte: true }));
    await c.waitFrames(1);
    const rsp = describeConnectResponse(c.frames[0]!);
    run.sessions.set(rsp.sessionId, 'raw');
    c.write(Buffer.concat([
      requestFrame(1, OpCode.create, (w) => writeCreate(w, { path: '/ping', data: null, acl: OPEN_ACL, flags: 0, ttl: -1 }, false)),
      requestFrame(-2, OpCode.ping, () => {}),
      requestFrame(2, OpCode.setData, (w) => writeSetData(w, { path: '/ping', data: enc('x'), version: -1 })),
      requestFrame(3, OpCode.getData, (w) => writePathWatch(w, { path: '/ping', watch: false })),
      requestFrame(-2, OpCode.ping, () => {}),
    ]));
    await c.waitFrames(6);
    run.note('replies in arrival order', c.frames.slice(1).map((f) => describeFrame(run, f)));
    c.write(requestFrame(4, OpCode.closeSession, () => {}));
    await c.waitFrames(7);
    await c.waitClosed(5000);
  } finally {
    c.destroy();
  }
};

function wrongPassword(p: Uint8Array): Buffer {
  const wrong = Buffer.from(p);
  wrong[0] = wrong[0]! ^ 0xff;
  return wrong;
}

/** Reconnects: right password, wrong password, lastZxidSeen ahead of the server. */
const reconnectScenario: Scenario = async (run) => {
  const A = await run.connect('A', { readOnlyByte: false });
  const B = await run.connect('B');
  await A.create('A create /rc', '/rc', null, 0);
  await A.create('A create /rc/e ephemeral', '/rc/e', enc('e'), 1);
  await B.exists('B exists /rc/e watch', '/rc/e', true);

  // Reopen the session on a second connection while the first is open:
  // the server takes the session over and closes the old connection.
  const A2client = await ZkClient.connect(run.target.host, run.target.port, {
    sessionId: A.sessionId, passwd: A.client.passwd, ping: false, readOnlyByte: false,
  });
  const A2 = run.adopt('A2', A2client);
  const oldClosed = await A.client.closedWithin(5000);
  run.note('reopen', {
    sameSession: A2client.sessionId === A.sessionId,
    samePasswd: Buffer.from(A2client.passwd).equals(Buffer.from(A.client.passwd)),
    responseBytes: A2client.connectFrame.length,
    timeOut: A2client.timeoutMs,
    oldConnectionClosedByServer: oldClosed,
  });
  await A2.exists('A2 exists /rc/e (ephemeral kept)', '/rc/e');
  await A2.getEphemerals('A2 getEphemerals', '/');

  // Drop the connection without closing the session, reconnect again.
  A2client.destroy();
  const A3client = await ZkClient.connect(run.target.host, run.target.port, {
    sessionId: A.sessionId, passwd: A.client.passwd, ping: false,
  });
  const A3 = run.adopt('A3', A3client);
  run.note('reconnect after drop', { sameSession: A3client.sessionId === A.sessionId, responseBytes: A3client.connectFrame.length });
  await A3.exists('A3 exists /rc/e', '/rc/e');

  // Wrong password while the session has no connection: ConnectResponse with
  // timeOut 0, session id 0 and a zeroed password, then the server closes;
  // the session is untouched.
  A3client.destroy();
  for (const withReadOnlyByte of [true, false]) {
    const bad = await RawConn.open(run.target.host, run.target.port);
    try {
      bad.write(connectRequestFrame({ withReadOnlyByte, sessionId: A.sessionId, passwd: wrongPassword(A.client.passwd) }));
      await bad.waitFrames(1);
      const closed = await bad.waitClosed(5000);
      const rsp = bad.frames[0] === undefined ? null : describeConnectResponse(bad.frames[0]);
      run.note(`wrong password (${withReadOnlyByte ? 45 : 44}-byte request)`, {
        frames: bad.frames.length,
        response: rsp === null ? null : { ...rsp, sessionId: undefined, passwd: undefined },
        closedByServer: closed,
      });
    } finally {
      bad.destroy();
    }
  }
  // The session and its ephemeral survive the wrong password.
  const A4client = await ZkClient.connect(run.target.host, run.target.port, {
    sessionId: A.sessionId, passwd: A.client.passwd, ping: false,
  });
  const A4 = run.adopt('A4', A4client);
  run.note('session reopens after wrong passwords', A4client.sessionId === A.sessionId);
  await A4.exists('A4 exists /rc/e after wrong password', '/rc/e');
  await B.exists('B exists /rc/e after wrong password', '/rc/e');

  // A client that has seen a zxid the server has not: refused without a ConnectResponse.
  const sync = await B.sync('B sync (current zxid)', '/');
  for (const [label, sessionId, passwd] of [
    ['new session', 0n, new Uint8Array(16)],
    ['existing session', A.sessionId, A.client.passwd],
  ] as const) {
    const ahead = await RawConn.open(run.target.host, run.target.port);
    try {
      ahead.write(connectRequestFrame({ withReadOnlyByte: true, lastZxidSeen: sync.reply.hdr.zxid + 1000, sessionId, passwd }));
      const closed = await ahead.waitClosed(5000);
      run.note(`lastZxidSeen ahead (${label})`, { frames: ahead.frames.length, closedByServer: closed });
    } finally {
      ahead.destroy();
    }
  }
  await A4.exists('A4 exists /rc/e after refused clients', '/rc/e');
  await B.sync('B sync (nothing applied)', '/');

  // closeSession: the reply, NodeDeleted to the watcher, the socket closed, the ephemeral gone.
  await A4.closeSession('A4 closeSession');
  const closedByServer = await A4client.closedWithin(5000);
  run.note('closeSession closes the socket', closedByServer);
  await B.exists('B exists /rc/e after closeSession', '/rc/e');
  await B.exists('B exists /rc after closeSession', '/rc');
};

/**
 * A reconnect attempt with a wrong password while the session has a live
 * connection: Apache 3.8 closes the session's current connection (it does so
 * before it checks the password), answers the attempt with timeOut 0 and
 * closes it too; the session and its ephemerals survive.
 */
const wrongPasswordLiveScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  const B = await run.connect('B');
  await A.create('A create /wl', '/wl', null, 1);
  const bad = await RawConn.open(run.target.host, run.target.port);
  try {
    bad.write(connectRequestFrame({ withReadOnlyByte: true, sessionId: A.sessionId, passwd: wrongPassword(A.client.passwd) }));
    await bad.waitFrames(1);
    run.note('attempt closed by server', await bad.waitClosed(5000));
    run.note('attempt answered with timeOut 0', bad.frames[0] !== undefined && describeConnectResponse(bad.frames[0]).timeOut === 0);
  } finally {
    bad.destroy();
  }
  // Apache closes the live connection before it answers the attempt, so by
  // now a request on it either gets its reply (still open) or fails (closed).
  let liveClosed: boolean;
  try {
    await withTimeout(A.client.request(OpCode.exists, (w) => writePathWatch(w, { path: '/wl', watch: false })), 5000, 'exists on the live connection');
    liveClosed = false;
  } catch {
    liveClosed = A.client.closed;
  }
  run.note('the session\'s live connection was closed by the server', liveClosed);
  await B.exists('B exists /wl (ephemeral kept)', '/wl');
  const A2 = run.adopt('A2', await ZkClient.connect(run.target.host, run.target.port, {
    sessionId: A.sessionId, passwd: A.client.passwd, ping: false,
  }));
  await A2.exists('A2 (same session) exists /wl', '/wl');
};

/** jute.maxbuffer: one byte over closes the connection unanswered; exactly the limit is served. */
const frameLimitScenario: Scenario = async (run) => {
  const V = await run.connect('V');
  const W = await run.connect('W');
  await V.create('V create /fl', '/fl', enc('small'), 0);
  await V.create('V create /fl/e ephemeral', '/fl/e', null, 1);

  // Length field 1,048,576 followed by a whole setData of that size.
  const xid = V.client.nextXid();
  const seen = V.arrivals.length;
  V.client.writeRaw(setDataFrameOfLength(xid, '/fl', 1_048_576, 0x61));
  let closed = true;
  try {
    await V.client.waitClosed(10000);
  } catch {
    closed = false;
  }
  run.note('oversized frame', { closedByServer: closed, framesAfter: V.arrivals.slice(seen) });
  await W.exists('W exists /fl (unchanged)', '/fl');
  await W.sync('W sync (no zxid used)', '/');
  await W.exists('W exists /fl/e (session alive)', '/fl/e');

  // The session survives: reopen it and send a frame of exactly 1,048,575 bytes.
  const V2client = await ZkClient.connect(run.target.host, run.target.port, {
    sessionId: V.sessionId, passwd: V.client.passwd, ping: false,
  });
  const V2 = run.adopt('V2', V2client);
  run.note('session survives the oversized frame', V2client.sessionId === V.sessionId);
  const xid2 = V2client.nextXid();
  await V2.reqFrame('V2 setData in a 1,048,575-byte frame', xid2, setDataFrameOfLength(xid2, '/fl', 1_048_575, 0x62), 'stat', 20000);
  await W.exists('W exists /fl (applied)', '/fl');
  await V2.exists('V2 exists /fl/e', '/fl/e');
};

/** Watch order on one connection and across connections, including session close. */
const watchScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  const B = await run.connect('B');
  await A.create('create /wt', '/wt', null, 0);
  // Several watchers of different kinds on one connection.
  await A.exists('A exists /wt/n watch', '/wt/n', true);
  await A.getChildren('A getChildren /wt watch', '/wt', true);
  await B.exists('B exists /wt/n watch', '/wt/n', true);
  await B.getChildren('B getChildren /wt watch', '/wt', true);
  await A.create('A create /wt/n', '/wt/n', enc('1'), 0);
  await B.sync('B sync after A create', '/wt');
  // A data watch and a child watch on the same node: one NodeDeleted.
  await A.getData('A getData /wt/n watch', '/wt/n', true);
  await A.getChildren('A getChildren /wt/n watch', '/wt/n', true);
  await B.getData('B getData /wt/n watch', '/wt/n', true);
  await A.getChildren('A getChildren /wt watch again', '/wt', true);
  await B.getChildren('B getChildren /wt watch again', '/wt', true);
  await B.delete('B delete /wt/n', '/wt/n');
  await A.sync('A sync after B delete', '/wt');
  // Child watch fires on a grandchild? No: only direct children count.
  await A.create('A create /wt/m', '/wt/m', null, 0);
  await A.getChildren('A getChildren /wt watch (grandchild test)', '/wt', true);
  await A.create('A create /wt/m/g', '/wt/m/g', null, 0);
  await A.exists('A exists /wt (no event expected)', '/wt');
  await A.delete('A delete /wt/m/g', '/wt/m/g');
  await A.delete('A delete /wt/m (fires the child watch)', '/wt/m');
  // setData fires data watches of both sessions, the writer's first on the wire before its reply.
  await A.create('A create /wt/d', '/wt/d', null, 0);
  await A.getData('A getData /wt/d watch', '/wt/d', true);
  await B.exists('B exists /wt/d watch', '/wt/d', true);
  await A.setData('A setData /wt/d', '/wt/d', enc('x'));
  await B.sync('B sync after A setData', '/wt');
  // A watch does not fire twice.
  await A.setData('A setData /wt/d again (no watch left)', '/wt/d', enc('y'));
  // An ephemeral deleted by closeSession fires NodeDeleted and the parent's NodeChildrenChanged.
  const C = await run.connect('C');
  await C.create('C create /wt/ce ephemeral', '/wt/ce', null, 1);
  await A.getData('A getData /wt/ce watch', '/wt/ce', true);
  await A.getChildren('A getChildren /wt watch (for close)', '/wt', true);
  await C.closeSession('C closeSession');
  try {
    await C.client.waitClosed(5000);
    run.note('C closed by server', true);
  } catch {
    run.note('C closed by server', false);
  }
  await A.exists('A exists /wt/ce after C closed', '/wt/ce');
  await A.exists('A exists /wt after C closed', '/wt');
};

/** Malformed records, pipelined requests, unknown opcodes, a frame too short for a header. */
const oddRequestsScenario: Scenario = async (run) => {
  const M = await run.connect('M');
  await M.create('create /mf', '/mf', enc('m'), 0);
  // A pipelined burst: per-session order holds for reads behind writes, malformed ones included.
  const x = () => M.client.nextXid();
  const xa = x(); const xb = x(); const xc = x(); const xd = x();
  await Promise.all([
    M.create('pipelined create /mf/a', '/mf/a', enc('a'), 0),
    M.getData('pipelined getData /mf/a', '/mf/a'),
    M.reqFrame('pipelined create with a truncated record', xa, requestFrame(xa, OpCode.create, (w) => { w.ustring('/mf/t'); }), 'path'),
    M.exists('pipelined exists /mf/t', '/mf/t'),
    M.reqFrame('pipelined setData with a truncated record', xb, requestFrame(xb, OpCode.setData, (w) => { w.ustring('/mf/a').int(3); }), 'stat'),
    M.reqFrame('pipelined create with a null path', xc, requestFrame(xc, OpCode.create, (w) => {
      w.ustring(null).buffer(null).int(1).int(31).ustring('world').ustring('anyone').int(0);
    }), 'path'),
    M.reqFrame('pipelined getData with a truncated record', xd, requestFrame(xd, OpCode.getData, (w) => { w.int(50).raw(enc('/mf')); }), 'dataStat'),
    M.setData('pipelined setData /mf/a', '/mf/a', enc('a2')),
    M.getChildren2('pipelined getChildren2 /mf', '/mf'),
    M.delete('pipelined delete /mf/a bad version', '/mf/a', 0),
    M.delete('pipelined delete /mf/a', '/mf/a', 1),
    M.sync('pipelined sync /mf', '/mf'),
    M.exists('pipelined exists /mf', '/mf'),
  ]);
  await M.exists('exists /mf after the burst', '/mf');

  // Unknown opcodes: UNIMPLEMENTED, then the connection is closed; the session lives on.
  for (const op of [99, 0]) {
    const U = await run.connect(`U${op}`);
    const ux = U.client.nextXid();
    await U.reqFrame(`opcode ${op}`, ux, requestFrame(ux, op, (w) => { w.ustring('/mf'); }), 'none');
    const closed = await U.client.closedWithin(5000);
    run.note(`opcode ${op} closes the connection`, closed);
    const U2 = run.adopt(`U${op} again`, await ZkClient.connect(run.target.host, run.target.port, {
      sessionId: U.sessionId, passwd: U.client.passwd, ping: false,
    }));
    await U2.exists(`session of opcode ${op} still usable`, '/mf');
  }

  // A frame too short to hold a RequestHeader: the connection is closed without a reply.
  const S = await run.connect('S');
  const seen = S.arrivals.length;
  S.client.writeRaw(Buffer.from([0, 0, 0, 4, 0, 0, 0, 1]));
  const closed = await S.client.closedWithin(5000);
  run.note('4-byte request frame', { closedByServer: closed, framesAfter: S.arrivals.slice(seen) });
  await M.sync('M sync at the end (zxids used)', '/');
};

/** addauth, digest ACLs, an unknown auth scheme. */
const authScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  const B = await run.connect('B');
  const auth = (c: typeof A, label: string, scheme: string, cred: string) =>
    c.req(label, OpCode.auth, (w) => { w.int(0).ustring(scheme).buffer(enc(cred)); }, 'none');
  await A.create('create /au', '/au', null, 0);
  await A.create('create /au/x with auth ACL before addauth', '/au/x', null, 0, { acl: [{ perms: 31, id: { scheme: 'auth', id: '' } }] });
  await auth(A, 'A addauth digest alice:secret', 'digest', 'alice:secret');
  await A.create('create /au/x with auth ACL', '/au/x', enc('x'), 0, { acl: [{ perms: 31, id: { scheme: 'auth', id: '' } }] });
  await A.getACL('A getACL /au/x', '/au/x');
  await A.getData('A getData /au/x', '/au/x');
  await B.getData('B getData /au/x (NOAUTH)', '/au/x');
  await B.getACL('B getACL /au/x (NOAUTH)', '/au/x');
  await B.setData('B setData /au/x (NOAUTH)', '/au/x', enc('y'));
  await B.delete('B delete /au/x (parent allows delete)', '/au/x', 5);
  await auth(B, 'B addauth digest alice:wrong', 'digest', 'alice:wrong');
  await B.getData('B getData /au/x after a wrong password', '/au/x');
  await A.create('create /au/r with a read-only digest ACL', '/au/r', enc('r'), 0, { acl: [
    { perms: 1, id: { scheme: 'digest', id: 'alice:W8M2F2ex3M9H5Fq4OaCgH4bhzSs=' } },
    { perms: 16, id: { scheme: 'world', id: 'anyone' } },
  ] });
  await B.getACL('B getACL /au/r (ADMIN via world)', '/au/r');
  await A.getACL('A getACL /au/r', '/au/r');
  const X = await run.connect('X');
  const ax = await auth(X, 'X addauth with an unknown scheme', 'nosuchscheme', 'whatever');
  void ax;
  const closed = await X.client.closedWithin(5000);
  run.note('unknown auth scheme closes the connection', closed);
  await A.sync('A sync at the end', '/');
};

/** exists is not ACL-checked: a session without READ still gets the Stat (Apache 3.8). */
const existsAclScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  const B = await run.connect('B');
  await A.create('create /ea with an ACL that grants B nothing', '/ea', enc('x'), 0, {
    acl: [{ perms: 31, id: { scheme: 'digest', id: 'alice:W8M2F2ex3M9H5Fq4OaCgH4bhzSs=' } }],
  });
  await B.getData('B getData /ea (NOAUTH)', '/ea');
  await B.exists('B exists /ea', '/ea');
  await B.exists('B exists /ea watch', '/ea', true);
};

/** whoAmI lists a digest id by its user name (the part before the colon). */
const whoAmIScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  await A.whoAmI('whoAmI before addauth');
  await A.req('addauth digest alice:secret', OpCode.auth, (w) => { w.int(0).ustring('digest').buffer(enc('alice:secret')); }, 'none');
  await A.whoAmI('whoAmI after addauth digest alice:secret');
  await A.req('addauth digest bob:pw', OpCode.auth, (w) => { w.int(0).ustring('digest').buffer(enc('bob:pw')); }, 'none');
  await A.whoAmI('whoAmI after a second addauth');
};

/** setWatches after a reconnect, and persistent / recursive watches (addWatch). */
const setWatchesScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  const B = await run.connect('B');
  await B.create('create /sw', '/sw', null, 0);
  await B.create('create /sw/changed', '/sw/changed', enc('1'), 0);
  await B.create('create /sw/deleted', '/sw/deleted', null, 0);
  await B.create('create /sw/same', '/sw/same', null, 0);
  const mark = await B.sync('B sync (relative zxid)', '/');
  const rel = mark.reply.hdr.zxid;
  await B.setData('setData /sw/changed', '/sw/changed', enc('2'));
  await B.delete('delete /sw/deleted', '/sw/deleted');
  await B.create('create /sw/created', '/sw/created', null, 0);
  const lists = (w: Writer, v2: boolean) => {
    const list = (l: string[]) => { w.int(l.length); for (const p of l) w.ustring(p); };
    w.long(rel);
    list(['/sw/changed', '/sw/deleted', '/sw/same']);
    list(['/sw/created', '/sw/absent']);
    list(['/sw', '/sw/same']);
    if (v2) { list(['/sw/p']); list(['/sw/r']); }
  };
  await A.req('setWatches (101)', OpCode.setWatches, (w) => lists(w, false), 'none');
  // The watches that did not fire are registered now.
  await B.setData('setData /sw/same', '/sw/same', enc('s'));
  await B.create('create /sw/absent', '/sw/absent', null, 0);
  await B.create('create /sw/same/c', '/sw/same/c', null, 0);
  await A.sync('A sync after B writes', '/');

  const C = await run.connect('C');
  await C.req('setWatches2 (105)', OpCode.setWatches2, (w) => lists(w, true), 'none');
  await B.create('create /sw/p', '/sw/p', null, 0);
  await B.create('create /sw/r', '/sw/r', null, 0);
  await B.create('create /sw/r/deep', '/sw/r/deep', null, 0);
  await C.sync('C sync after B creates', '/');

  // addWatch: persistent (0) and persistent recursive (1).
  await A.req('addWatch /sw/p persistent', OpCode.addWatch, (w) => { w.ustring('/sw/p').int(0); }, 'int');
  await A.req('addWatch /sw/r recursive', OpCode.addWatch, (w) => { w.ustring('/sw/r').int(1); }, 'int');
  await B.create('create /sw/p/c', '/sw/p/c', null, 0);
  await B.setData('setData /sw/p', '/sw/p', enc('p'));
  await B.create('create /sw/p/c/gc (no event: persistent is not recursive)', '/sw/p/c/gc', null, 0);
  await B.create('create /sw/r/deep/er', '/sw/r/deep/er', null, 0);
  await B.setData('setData /sw/r/deep/er', '/sw/r/deep/er', enc('e'));
  await B.delete('delete /sw/r/deep/er', '/sw/r/deep/er');
  await B.setData('setData /sw/r', '/sw/r', enc('r'));
  await A.sync('A sync after B writes to watched trees', '/');
  await A.checkWatches('checkWatches /sw/r any (3)', '/sw/r', 3);
  await B.setData('setData /sw/r again (recursive stays)', '/sw/r', enc('r2'));
  await B.setData('setData /sw/p again (persistent stays)', '/sw/p', enc('p2'));
  await A.sync('A sync after more writes', '/');
  await A.checkWatches('checkWatches /sw/p any (3)', '/sw/p', 3);
  await A.removeWatches('removeWatches /sw/p any (3)', '/sw/p', 3);
  await B.setData('setData /sw/p after removing any', '/sw/p', enc('p3'));
  await A.sync('A sync at the end', '/');
};

/**
 * checkWatches / removeWatches against persistent and recursive watches.
 * Apache 3.8 knows WatcherType Children (1), Data (2) and Any (3) only:
 * Persistent (4) and PersistentRecursive (5) came with 3.9, and 3.8 answers
 * MARSHALLINGERROR for them. In 3.8 a Data or Children check matches a
 * watcher of any mode on the path (and any connection's watcher: a bug 3.9
 * fixed). zoonode follows 3.9 here, deliberately; see the test below.
 */
const watcherTypesScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  const B = await run.connect('B');
  await B.create('create /wt45', '/wt45', null, 0);
  await B.create('create /wt45/p', '/wt45/p', null, 0);
  await B.create('create /wt45/r', '/wt45/r', null, 0);
  await A.req('addWatch /wt45/p persistent', OpCode.addWatch, (w) => { w.ustring('/wt45/p').int(0); }, 'int');
  await A.req('addWatch /wt45/r recursive', OpCode.addWatch, (w) => { w.ustring('/wt45/r').int(1); }, 'int');
  for (const path of ['/wt45/p', '/wt45/r']) {
    for (const type of [1, 2, 3, 4, 5, 6]) await A.checkWatches(`checkWatches ${path} type ${type}`, path, type);
  }
  await A.removeWatches('removeWatches /wt45/r type 5', '/wt45/r', 5);
  await A.removeWatches('removeWatches /wt45/p type 4', '/wt45/p', 4);
  await A.removeWatches('removeWatches /wt45/p type 6 (unknown)', '/wt45/p', 6);
  await B.setData('setData /wt45/p (does the persistent watch remain?)', '/wt45/p', enc('x'));
  await B.setData('setData /wt45/r (does the recursive watch remain?)', '/wt45/r', enc('x'));
  await A.sync('A sync after setData', '/');
  await A.removeWatches('removeWatches /wt45/p type 2 (data)', '/wt45/p', 2);
  await A.checkWatches('checkWatches /wt45/p type 1 after removing data', '/wt45/p', 1);
  await B.setData('setData /wt45/p after removing data', '/wt45/p', enc('y'));
  await B.create('create /wt45/p/c after removing data', '/wt45/p/c', null, 0);
  await A.removeWatches('removeWatches /wt45/r type 1 (children)', '/wt45/r', 1);
  await B.create('create /wt45/r/c', '/wt45/r/c', null, 0);
  await A.sync('A sync at the end', '/');
};

/** multi and multiRead: results per op, atomic failure, rollback of pending changes, events before the reply. */
const multiScenario: Scenario = async (run) => {
  const A = await run.connect('A');
  const B = await run.connect('B');
  const op = (w: Writer, type: number, write: (w: Writer) => void) => { w.int(type).bool(false).int(-1); write(w); };
  const end = (w: Writer) => { w.int(-1).bool(true).int(-1); };
  const create = (path: string, flags = 0) => (w: Writer) => writeCreate(w, { path, data: Buffer.from('d'), acl: OPEN_ACL, flags, ttl: -1 }, false);
  const pv = (path: string, version: number) => (w: Writer) => writePathVersion(w, { path, version });
  const sd = (path: string, version: number) => (w: Writer) => writeSetData(w, { path, data: Buffer.from('m'), version });
  const pw = (path: string) => (w: Writer) => writePathWatch(w, { path, watch: false });
  await A.create('create /mu', '/mu', null, 0);
  await B.exists('B exists /mu/w with watch', '/mu/w', true);
  await A.req('multi: create, sequential create, setData, check, create /mu/w', OpCode.multi, (w) => {
    op(w, OpCode.create, create('/mu/a'));
    op(w, OpCode.create, create('/mu/s-', 2));
    op(w, OpCode.setData, sd('/mu/a', 0));
    op(w, OpCode.check, pv('/mu/a', 1));
    op(w, OpCode.create, create('/mu/w'));
    end(w);
  }, 'multi');
  await B.sync('B sync (event arrived first)', '/');
  await A.req('multi failing in the middle', OpCode.multi, (w) => {
    op(w, OpCode.create, create('/mu/c'));
    op(w, OpCode.create, create('/mu/s-', 2));
    op(w, OpCode.delete, pv('/mu/nope', -1));
    op(w, OpCode.setData, sd('/mu/a', -1));
    end(w);
  }, 'multi');
  await A.exists('exists /mu/c (rolled back)', '/mu/c');
  await A.create('sequential create after a rolled-back multi', '/mu/s-', null, 2);
  await A.req('multi with a bad version check', OpCode.multi, (w) => {
    op(w, OpCode.check, pv('/mu/a', 7));
    op(w, OpCode.delete, pv('/mu/a', -1));
    end(w);
  }, 'multi');
  await A.req('multi: delete two, one of them sequential', OpCode.multi, (w) => {
    op(w, OpCode.delete, pv('/mu/w', -1));
    op(w, OpCode.delete, pv('/mu/s-0000000001', -1));
    end(w);
  }, 'multi');
  await A.req('empty multi', OpCode.multi, end, 'multi');
  await A.req('multi with a getData op', OpCode.multi, (w) => { op(w, OpCode.getData, pw('/mu/a')); end(w); }, 'multi');
  await A.req('multi: create under a missing parent, then more', OpCode.multi, (w) => {
    op(w, OpCode.create, create('/missing/x'));
    op(w, OpCode.create, create('/mu/never'));
    end(w);
  }, 'multi');
  await A.req('multiRead: getData, getChildren, missing node', OpCode.multiRead, (w) => {
    op(w, OpCode.getData, pw('/mu/a'));
    op(w, OpCode.getChildren, pw('/mu'));
    op(w, OpCode.getData, pw('/mu/nope'));
    op(w, OpCode.getChildren, pw('/mu/a'));
    end(w);
  }, 'multi');
  await A.req('multiRead with a write op', OpCode.multiRead, (w) => { op(w, OpCode.delete, pv('/mu/a', -1)); end(w); }, 'multi');
  await A.getChildren('children of /mu at the end', '/mu');
  await A.sync('A sync at the end', '/');
};

// ---- the tests --------------------------------------------------------------------

if (!isApacheInstalled()) {
  test('differential tests against Apache ZooKeeper 3.8', {
    skip: 'Apache ZooKeeper is not installed (/usr/share/java/zookeeper.jar and /usr/bin/java are needed)',
  }, () => {});
} else {
  describe('differential: Apache ZooKeeper 3.8 vs zoonode, raw frames', () => {
    let shared: ApacheServer | null = null;
    const onShared = new Map<string, Promise<Transcript>>();

    before(async () => {
      shared = await startApache();
      killOnExit(shared.process);
    });

    after(async () => {
      await shared?.stop();
    });

    /** A scenario's Apache transcript on the shared server, run once however many tests compare with it. */
    function apacheShared(name: string, scenario: Scenario): Promise<Transcript> {
      let p = onShared.get(name);
      if (p === undefined) {
        p = runScenario(apacheTarget(shared!), scenario, false);
        onShared.set(name, p);
      }
      return p;
    }

    describe('main scenario on fresh servers (exact zxids)', () => {
      let apache: Transcript;

      before(async () => {
        const a = await startApache();
        killOnExit(a.process);
        try {
          apache = await runScenario(apacheTarget(a), mainScenario, true);
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
        // The first session took zxid 1, the second zxid 2.
        assert.equal(apache.steps[0]!.zxid, 2);
        assert.deepEqual((step('create /p/s- flag 2').body as { path: string }).path, '/p/s-0000000002');
        assert.deepEqual((step('create /p/s- after 2 deletes').body as { path: string }).path, '/p/s-0000000006');
        assert.equal(step('create /p//b').err, NONODE);
        assert.equal(step('create //x').err, BADARGUMENTS);
        assert.equal(step('exists NUL (BADARGUMENTS)').err, BADARGUMENTS);
        assert.equal(step('checkWatches /q type 2 without watch').err, NOWATCHER);
        const a = arrivals(apache, 'A');
        const ev = indexOfPrefix(a, 'event NodeCreated /wp/c');
        const rep = a.indexOf('reply create /wp/c (A watches)');
        assert.ok(ev >= 0 && rep > ev, `Apache sent NodeCreated before the create reply: ${JSON.stringify(a)}`);
      });

      for (const workers of [0, 2]) {
        test(`zoonode workers=${workers} answers frame for frame like Apache`, async () => {
          const z = await onZoonode(workers, mainScenario, true);
          assertSameAsApache(apache, z, `main scenario, workers=${workers}`);
        });
      }

      test('zoonode: notifications carry ReplyHeader {xid -1, zxid -1, err 0} and precede the causing reply', async () => {
        const z = await onZoonode(0, mainScenario, true);
        const events = Object.values(z.arrivals).flat().filter((s) => s.startsWith('event '));
        assert.ok(events.length >= 8, `expected watch events, got ${JSON.stringify(events)}`);
        for (const e of events) assert.match(e, / state=3 hdr=-1\/-1\/0$/);
        const a = arrivals(z, 'A');
        for (const [event, reply] of [
          ['event NodeCreated /wp/c', 'reply create /wp/c (A watches)'],
          ['event NodeChildrenChanged /wp', 'reply create /wp/c (A watches)'],
          ['event NodeDataChanged /wp/c', 'reply setData /wp/c (A watches)'],
          ['event NodeCreated /wp/d', 'reply A sync after B create'],
          ['event NodeDataChanged /wp/d', 'reply A exists after B setData'],
          ['event NodeDeleted /wp/d', 'reply A exists /wp/d after B delete'],
        ]) {
          const i = indexOfPrefix(a, event!);
          const j = a.indexOf(reply!);
          assert.ok(i >= 0, `no ${event} on A: ${JSON.stringify(a)}`);
          assert.ok(j > i, `${event} must arrive before "${reply}": ${JSON.stringify(a)}`);
        }
      });
    });

    const sharedScenarios: [string, Scenario][] = [
      ['handshake shapes, timeouts and pings', handshakeScenario],
      ['ping pipelined behind requests', pingOrderScenario],
      ['reconnect, wrong password, lastZxidSeen ahead, closeSession', reconnectScenario],
      ['wrong password while the session has a live connection', wrongPasswordLiveScenario],
      ['frame limit (jute.maxbuffer)', frameLimitScenario],
      ['watch order across connections and session close', watchScenario],
      ['malformed records, pipelining, unknown opcodes', oddRequestsScenario],
      ['addauth, digest ACLs, unknown auth scheme', authScenario],
      ['exists on a node the caller may not read', existsAclScenario],
      ['whoAmI after addauth digest', whoAmIScenario],
      ['setWatches, setWatches2, addWatch', setWatchesScenario],
      ['multi and multiRead', multiScenario],
    ];
    for (const [name, scenario] of sharedScenarios) {
      for (const workers of [0, 2]) {
        test(`${name}: zoonode workers=${workers} like Apache`, async () => {
          const apache = await apacheShared(name, scenario);
          const z = await onZoonode(workers, scenario, false);
          assertSameAsApache(apache, z, `${name}, workers=${workers}`);
        });
      }
    }

    test('handshake: 44-byte request gets a 36-byte response, 45 gets 37 (both servers)', async () => {
      const apache = await apacheShared('handshake shapes, timeouts and pings', handshakeScenario);
      const z = await onZoonode(0, handshakeScenario, false);
      for (const t of [apache, z]) {
        const h = t.notes.handshakes as Record<string, { requestRecordBytes: number; response: { length: number; timeOut: number }; ping: { xid: number; err: number; len: number } }>;
        assert.equal(h['44-byte']!.requestRecordBytes, 44);
        assert.equal(h['44-byte']!.response.length, 36);
        assert.equal(h['45-byte']!.requestRecordBytes, 45);
        assert.equal(h['45-byte']!.response.length, 37);
        assert.equal(h['45-byte timeout 1']!.response.timeOut, 4000);
        assert.equal(h['44-byte timeout 10 min']!.response.timeOut, 40000);
        assert.deepEqual([h['45-byte']!.ping.xid, h['45-byte']!.ping.err, h['45-byte']!.ping.len], [-2, 0, 16]);
      }
    });

    test('frame limit: the oversized frame closes only that connection and applies nothing (both servers)', async () => {
      const apache = await apacheShared('frame limit (jute.maxbuffer)', frameLimitScenario);
      const z = await onZoonode(0, frameLimitScenario, false);
      for (const t of [apache, z]) {
        assert.deepEqual(t.notes['oversized frame'], { closedByServer: true, framesAfter: [] });
        const before = t.steps.find((s) => s.label === 'W exists /fl (unchanged)')!;
        assert.equal((before.body as { stat: { dataLength: number } }).stat.dataLength, 5);
        const applied = t.steps.find((s) => s.label === 'V2 setData in a 1,048,575-byte frame')!;
        assert.equal(applied.err, 0);
        assert.equal((applied.body as { stat: { dataLength: number } }).stat.dataLength, 1_048_575 - 4 - 4 - 4 - 3 - 4 - 4);
      }
    });

    test('checkWatches/removeWatches on persistent and recursive watches follow Apache 3.9 (deliberate: 3.8 lacks types 4 and 5)', async (t) => {
      const apache = await apacheShared('checkWatches/removeWatches on persistent and recursive watches', watcherTypesScenario);
      t.diagnostic(`Apache 3.8 answers: ${JSON.stringify(apache.steps.filter((x) => /Watches/.test(x.label)).map((x) => [x.label, x.err]))}`);
      for (const workers of [0, 2]) {
        const z = await startZoonode({ workers });
        try {
          const a = await ZkClient.connect(z.host, z.port, { ping: false });
          const b = await ZkClient.connect(z.host, z.port, { ping: false });
          for (const p of ['/wt45', '/wt45/p', '/wt45/r']) await b.create(p, null);
          const ask = async (type: number, path: string, watcherType: number) =>
            (await a.request(type, (w) => { w.ustring(path).int(watcherType); })).hdr.err;
          assert.equal((await a.request(OpCode.addWatch, (w) => { w.ustring('/wt45/p').int(0); })).hdr.err, 0);
          assert.equal((await a.request(OpCode.addWatch, (w) => { w.ustring('/wt45/r').int(1); })).hdr.err, 0);
          const NOWATCHER = -121;
          const MARSHALLINGERROR = -5;
          const expectP = [NOWATCHER, NOWATCHER, 0, 0, NOWATCHER, MARSHALLINGERROR];
          const expectR = [NOWATCHER, NOWATCHER, 0, NOWATCHER, 0, MARSHALLINGERROR];
          for (let type = 1; type <= 6; type++) {
            assert.equal(await ask(OpCode.checkWatches, '/wt45/p', type), expectP[type - 1], `check /wt45/p type ${type}`);
            assert.equal(await ask(OpCode.checkWatches, '/wt45/r', type), expectR[type - 1], `check /wt45/r type ${type}`);
          }
          // b's watches do not count for a's checks.
          assert.equal((await b.request(OpCode.checkWatches, (w) => { w.ustring('/wt45/p').int(3); })).hdr.err, NOWATCHER);
          assert.equal(await ask(OpCode.removeWatches, '/wt45/r', 5), 0);
          assert.equal(await ask(OpCode.removeWatches, '/wt45/p', 4), 0);
          assert.equal(await ask(OpCode.removeWatches, '/wt45/p', 4), NOWATCHER, 'already removed');
          await b.setData('/wt45/p', Buffer.from('x'));
          await b.setData('/wt45/r', Buffer.from('x'));
          await b.create('/wt45/r/c', null);
          await a.sync('/');
          assert.deepEqual(a.events, [], 'removed persistent watches fire no more');
          await a.close();
          await b.close();
        } finally {
          await z.stop();
        }
      }
    });

    test('a standard and a persistent-recursive watch on one path both keep firing, as in 3.9 (deliberate: 3.8 keeps one mode per path)', async () => {
      // One connection: addWatch recursive on /wm, then a getData watch on /wm.
      // B changes /wm, creates /wm/a, changes /wm again; A syncs after each.
      const scenario: Scenario = async (run) => {
        const A = await run.connect('A');
        const B = await run.connect('B');
        await A.create('create /wm', '/wm', null, 0);
        await A.req('A addWatch /wm recursive', OpCode.addWatch, (w) => { w.ustring('/wm').int(1); }, 'int');
        await A.getData('A getData /wm with watch', '/wm', true);
        await B.setData('B setData /wm', '/wm', enc('1'));
        await A.sync('A sync 1', '/');
        await B.create('B create /wm/a', '/wm/a', null, 0);
        await A.sync('A sync 2', '/');
        await B.setData('B setData /wm again', '/wm', enc('2'));
        await A.sync('A sync 3', '/');
      };
      const events = (t: Transcript) => arrivals(t, 'A').filter((x) => x.startsWith('event ')).map((x) => x.split(' ').slice(0, 3).join(' '));
      const apache = await apacheShared('watch modes on one path', scenario);
      // Apache 3.8: the getData watch replaced the recursive one, so only the first change is seen.
      assert.deepEqual(events(apache), ['event NodeDataChanged /wm']);
      for (const workers of [0, 2]) {
        const z = await onZoonode(workers, scenario, false);
        assert.deepEqual(events(z), ['event NodeDataChanged /wm', 'event NodeCreated /wm/a', 'event NodeDataChanged /wm'], `workers=${workers}`);
      }
    });

    test('check (13) outside multi: zoonode answers UNIMPLEMENTED with zxid -1 and closes (deliberate: Apache 3.8 never answers)', async (t) => {
      const frame = (xid: number) => requestFrame(xid, OpCode.check, (w: Writer) => writePathVersion(w, { path: '/', version: -1 }));
      // Apache 3.8, for the record only: it is known to leave the request unanswered.
      {
        const c = await ZkClient.connect(shared!.host, shared!.port, { ping: false });
        let outcome: string;
        try {
          const r = await withTimeout(c.sendFrame(7, frame(7)), 1500, 'check');
          outcome = `replied err ${r.hdr.err} zxid ${r.hdr.zxid}`;
        } catch (e) {
          outcome = c.closed ? 'closed the connection without a reply' : `no reply (${(e as Error).message})`;
        }
        t.diagnostic(`Apache 3.8, check outside multi: ${outcome}`);
        // Clean up the session (it may be stuck behind the check on Apache).
        c.destroy();
        try {
          const again = await ZkClient.connect(shared!.host, shared!.port, { ping: false, sessionId: c.sessionId, passwd: c.passwd });
          await withTimeout(again.close(), 3000, 'close').catch(() => again.destroy());
        } catch {
          // the session is gone already
        }
      }
      for (const workers of [0, 2]) {
        const z = await startZoonode({ workers });
        try {
          const c = await ZkClient.connect(z.host, z.port, { ping: false });
          await c.create('/before', null);
          const r = await withTimeout(c.sendFrame(7, frame(7)), 5000, 'check on zoonode');
          assert.deepEqual({ xid: r.hdr.xid, zxid: r.hdr.zxid, err: r.hdr.err, len: r.frame.length },
            { xid: 7, zxid: -1, err: UNIMPLEMENTED, len: 16 });
          await c.waitClosed(5000);
          // Nothing was applied and the session lives on.
          const d = await ZkClient.connect(z.host, z.port, { ping: false });
          const ex = await d.request(OpCode.exists, (w) => writePathWatch(w, { path: '/before', watch: false }));
          assert.equal(ex.hdr.err, 0);
          assert.equal(ex.hdr.zxid, 3, 'check must not take a zxid (session 1, create, session 2)');
          await d.close();
          const again = await ZkClient.connect(z.host, z.port, { ping: false, sessionId: c.sessionId, passwd: c.passwd });
          assert.equal(again.sessionId, c.sessionId);
          await again.close();
        } finally {
          await z.stop();
        }
      }
    });
  });
}
