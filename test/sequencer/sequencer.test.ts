// The sequencer pipeline on one thread with real rings, a manual clock and a
// txn log that becomes durable on command.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, type Output } from '../support/sequencer-harness.js';
import { OpCode, EventType } from '../../src/jute/opcodes.js';
import { Err } from '../../src/jute/errors.js';
import { CloseReason } from '../../src/ring/messages.js';
import { Reader } from '../../src/jute/reader.js';
import { sessionPassword } from '../../src/util/java-random.js';

const openAcl = (w: import('../../src/jute/writer.js').Writer) => w.int(1).int(31).ustring('world').ustring('anyone');
const createBody = (path: string, flags = 0) => (w: import('../../src/jute/writer.js').Writer) => {
  w.ustring(path).buffer(Buffer.from('v'));
  openAcl(w);
  w.int(flags);
};
const pathWatch = (path: string, watch = false) => (w: import('../../src/jute/writer.js').Writer) => { w.ustring(path).bool(watch); };

function connected(h: Harness, connId: number, timeout = 10000): Extract<Output, { kind: 'connected' }> {
  h.connect(connId, { timeout });
  const out = h.run();
  const c = out.find((o) => o.kind === 'connected' && o.connId === connId);
  assert.ok(c, `conn ${connId} connected: ${JSON.stringify(out, (_k, v) => typeof v === 'bigint' ? v.toString(16) : v)}`);
  return c as Extract<Output, { kind: 'connected' }>;
}

test('a new session is answered after its createSession txn is durable, with a clamped timeout', () => {
  const h = new Harness();
  h.log.auto = false;
  h.connect(1, { timeout: 100 });
  assert.deepEqual(h.run(), [], 'nothing before the txn is durable');
  assert.equal(h.log.txns[0]!.hdr.type, OpCode.createSession);
  h.log.flushDurable();
  const out = h.output();
  assert.equal(out.length, 1);
  const c = out[0] as Extract<Output, { kind: 'connected' }>;
  assert.equal(c.timeout, 4000, 'clamped up to 2 x tickTime');
  assert.deepEqual(c.passwd, Buffer.from(sessionPassword(c.sessionId)), 'password derived as Apache derives it');
  assert.equal(h.seq.sessionCount, 1);
});

test('per-session FIFO: a read waits behind its session\'s pending write; other sessions do not wait', () => {
  const h = new Harness();
  connected(h, 1);
  connected(h, 2);
  h.log.auto = false;
  h.packet(1, 10, OpCode.create, createBody('/a'));
  h.packet(1, 11, OpCode.exists, pathWatch('/a'));
  h.packet(2, 20, OpCode.exists, pathWatch('/a'));
  const early = h.run();
  assert.deepEqual(early.map((o) => o.kind === 'reply' ? [o.connId, o.xid, o.err] : o.kind), [[2, 20, Err.NONODE]],
    'only the other session\'s read is answered before the write is durable');
  h.log.flushDurable();
  const late = h.output();
  assert.deepEqual(late.map((o) => o.kind === 'reply' ? [o.connId, o.xid, o.err] : o.kind), [[1, 10, Err.OK], [1, 11, Err.OK]]);
});

test('replies and events of a txn go out only once it is durable, events first', () => {
  const h = new Harness();
  connected(h, 1);
  connected(h, 2);
  h.packet(2, 1, OpCode.exists, pathWatch('/w', true));
  h.run();
  h.log.auto = false;
  h.packet(1, 5, OpCode.create, createBody('/w'));
  assert.deepEqual(h.run(), []);
  h.log.flushDurable();
  const out = h.output();
  assert.deepEqual(out.map((o) => o.kind), ['event', 'reply']);
  assert.equal((out[0] as Extract<Output, { kind: 'event' }>).type, EventType.NodeCreated);
});

test('one change fires the same event at every watcher; each change its own type and path', () => {
  const h = new Harness();
  for (const c of [1, 2, 3]) connected(h, c);
  h.packet(1, 1, OpCode.create, createBody('/a'));
  h.packet(1, 2, OpCode.create, createBody('/b'));
  h.run();
  for (const c of [2, 3]) {
    h.packet(c, 10, OpCode.getData, pathWatch('/a', true));
    h.packet(c, 11, OpCode.exists, pathWatch('/b', true));
  }
  h.run();
  h.packet(1, 3, OpCode.setData, (w) => w.ustring('/a').buffer(Buffer.from('x')).int(-1));
  h.packet(1, 4, OpCode.delete, (w) => w.ustring('/b').int(-1));
  const events = h.run().filter((o) => o.kind === 'event') as Extract<Output, { kind: 'event' }>[];
  h.packet(2, 12, OpCode.exists, pathWatch('/a', true));
  h.run();
  h.packet(1, 5, OpCode.delete, (w) => w.ustring('/a').int(-1));
  events.push(...h.run().filter((o) => o.kind === 'event') as Extract<Output, { kind: 'event' }>[]);
  assert.deepEqual(events.map((e) => [e.connId, e.type, e.path]).sort(), [
    [2, EventType.NodeDataChanged, '/a'], [2, EventType.NodeDeleted, '/a'], [2, EventType.NodeDeleted, '/b'],
    [3, EventType.NodeDataChanged, '/a'], [3, EventType.NodeDeleted, '/b'],
  ].sort());
});

test('a refused write still takes a zxid, like Apache', () => {
  const h = new Harness();
  connected(h, 1);
  h.packet(1, 1, OpCode.create, createBody('/dup'));
  h.packet(1, 2, OpCode.create, createBody('/dup'));
  h.packet(1, 3, OpCode.create, createBody('/next'));
  const out = h.run().filter((o) => o.kind === 'reply') as Extract<Output, { kind: 'reply' }>[];
  assert.deepEqual(out.map((o) => o.err), [0, Err.NODEEXISTS, 0]);
  assert.deepEqual(out.map((o) => o.zxid), [2, 3, 4]);
  assert.equal(h.log.txns[2]!.hdr.type, OpCode.error);
});

test('prep sees pending changes: a create and a dependent create in one batch both succeed', () => {
  const h = new Harness();
  connected(h, 1);
  h.log.auto = false;
  h.packet(1, 1, OpCode.create, createBody('/p'));
  h.packet(1, 2, OpCode.create, createBody('/p/c', 2));
  h.packet(1, 3, OpCode.create, createBody('/p/c', 2));
  h.packet(1, 4, OpCode.delete, (w) => w.ustring('/p').int(-1));
  h.run();
  h.log.flushDurable();
  const out = h.output() as Extract<Output, { kind: 'reply' }>[];
  assert.deepEqual(out.map((o) => o.err), [0, 0, 0, Err.NOTEMPTY]);
  assert.equal(new Reader(out[1]!.body).path(), '/p/c0000000000');
  assert.equal(new Reader(out[2]!.body).path(), '/p/c0000000001');
});

test('sessions expire by tick buckets: ephemerals go, the live connection is closed', () => {
  const h = new Harness({ tickTime: '1000' });
  connected(h, 1, 3000);
  const watcher = connected(h, 2, 20000);
  void watcher;
  h.packet(1, 1, OpCode.create, createBody('/e', 1));
  h.run();
  h.packet(2, 1, OpCode.exists, pathWatch('/e', true));
  h.run();
  for (let i = 0; i < 8; i++) {
    h.clock.advance(500);
    h.touch(2);
    h.run();
    assert.deepEqual(h.tick().filter((o) => o.connId === 1), [], `not expired after ${(i + 1) * 500} ms`);
    if (i === 3) break;
  }
  // The host calls tick() when it asked to be called (a much later call is a stall, excluded from deadlines).
  h.clock.advance(1000);
  h.touch(2);
  h.run();
  assert.deepEqual(h.tick().filter((o) => o.connId === 1), [], 'not expired after 3000 ms');
  h.clock.advance(1000);
  h.touch(2);
  h.run();
  const out = h.tick();
  assert.deepEqual(out.map((o) => [o.connId, o.kind]), [[2, 'event'], [1, 'close']]);
  assert.equal((out[1] as Extract<Output, { kind: 'close' }>).reason, CloseReason.sessionExpired);
  assert.equal(h.seq.sessionCount, 1);
  assert.equal(h.seq.tree.getNode('/e'), undefined);
});

test('reconnect with the right password keeps the session; a wrong one is refused, the session lives on', () => {
  const h = new Harness();
  const c = connected(h, 1);
  h.packet(1, 1, OpCode.create, createBody('/eph', 1));
  h.run();
  h.connect(2, { sessionId: c.sessionId, passwd: Buffer.alloc(16, 7) });
  // As Apache: the attempt closes the session's live connection, then is refused.
  assert.deepEqual(h.run().map((o) => [o.connId, o.kind]), [[1, 'close'], [2, 'refused']]);
  assert.ok(h.seq.tree.getNode('/eph'), 'the ephemeral survives a wrong password');
  assert.equal(h.seq.sessionCount, 1);
  h.connect(3, { sessionId: c.sessionId, passwd: c.passwd });
  const out = h.run();
  assert.deepEqual(out.map((o) => o.kind), ['connected']);
  assert.equal((out[0] as Extract<Output, { kind: 'connected' }>).sessionId, c.sessionId);
  h.packet(3, 2, OpCode.getData, pathWatch('/eph'));
  assert.equal((h.run()[0] as Extract<Output, { kind: 'reply' }>).err, Err.OK);
});

test('a reconnect while the old connection is alive closes the old one', () => {
  const h = new Harness();
  const c = connected(h, 1);
  h.connect(2, { sessionId: c.sessionId, passwd: c.passwd });
  const out = h.run();
  assert.deepEqual(out.map((o) => [o.connId, o.kind]), [[1, 'close'], [2, 'connected']]);
});

test('a client that has seen a newer zxid is refused without a session', () => {
  const h = new Harness();
  h.connect(1, { lastZxid: 999 });
  assert.deepEqual(h.run(), [{ kind: 'refused', connId: 1, sendInvalid: false }]);
  assert.equal(h.seq.sessionCount, 0);
});

test('an unknown opcode is UNIMPLEMENTED and closes the connection; SASL without a JAAS file is answered OK (zxid 0), as Apache does', () => {
  const h = new Harness();
  connected(h, 1);
  h.packet(1, 7, OpCode.sasl, (w) => w.buffer(Buffer.alloc(0)));
  h.packet(1, 8, 999);
  const out = h.run();
  assert.deepEqual(out.map((o) => o.kind === 'reply' ? [o.xid, o.err, o.zxid] : o.kind),
    [[7, Err.OK, 0], [8, Err.UNIMPLEMENTED, -1], 'close']);
});

test('closeSession: reply, ephemerals deleted, then the connection is closed', () => {
  const h = new Harness();
  connected(h, 1);
  h.packet(1, 1, OpCode.create, createBody('/bye', 1));
  h.packet(1, 2, OpCode.closeSession);
  const out = h.run();
  assert.deepEqual(out.map((o) => o.kind === 'reply' ? [o.xid, o.err] : o.kind), [[1, 0], [2, 0], 'close']);
  assert.equal(h.seq.tree.getNode('/bye'), undefined);
  assert.equal(h.seq.sessionCount, 0);
});

test('a closed connection\'s watches are dropped but its session lives on', () => {
  const h = new Harness();
  connected(h, 1);
  connected(h, 2);
  h.packet(1, 1, OpCode.exists, pathWatch('/x', true));
  h.run();
  h.closed(1);
  h.packet(2, 1, OpCode.create, createBody('/x'));
  assert.deepEqual(h.run().map((o) => [o.connId, o.kind]), [[2, 'reply']]);
  assert.equal(h.seq.sessionCount, 2);
});

test('request throttle: beyond request_throttle_max_requests in flight, requests wait in the ring', () => {
  const h = new Harness({ request_throttle_max_requests: '2' });
  connected(h, 1);
  h.log.auto = false;
  for (let i = 1; i <= 5; i++) h.packet(1, i, OpCode.create, createBody(`/t${i}`));
  h.run();
  assert.equal(h.log.txns.filter((t) => t.hdr.type === OpCode.create).length, 2, 'only 2 writes taken while 2 are in flight');
  assert.equal(h.seq.throttled, true);
  h.log.flushDurable();
  assert.deepEqual((h.output() as Extract<Output, { kind: 'reply' }>[]).map((o) => o.xid), [1, 2]);
  const rest: Output[] = [];
  for (let round = 0; round < 5; round++) {
    rest.push(...h.run());
    h.log.flushDurable();
    rest.push(...h.output());
  }
  assert.deepEqual((rest as Extract<Output, { kind: 'reply' }>[]).map((o) => o.xid), [3, 4, 5], 'the rest follow in order');
});
