// Pause-aware session expiry with an injected clock: a stall of the
// sequencer (its expiry timer comes late) or a long block of its input
// (throttled while the txn log is stuck) is excluded from every session
// deadline; a session whose client is really gone still expires at its
// deadline with the stall left out. Apache ZooKeeper has no such rule: it
// expires every session whose deadline passed during the stall.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, type Output } from '../support/sequencer-harness.js';
import { OpCode } from '../../src/jute/opcodes.js';

const createBody = (path: string, flags = 0) => (w: import('../../src/jute/writer.js').Writer) => {
  w.ustring(path).buffer(Buffer.from('v')).int(1).int(31).ustring('world').ustring('anyone').int(flags);
};

function connect(h: Harness, connId: number, timeout: number): void {
  h.connect(connId, { timeout });
  assert.ok(h.run().some((o) => o.kind === 'connected' && o.connId === connId), `conn ${connId} connected`);
}

/** Call tick() when it asked to be called, touching `live` before each, until `gone()` holds or maxMs pass. */
function tickUntil(h: Harness, live: number | null, gone: () => boolean, maxMs: number): number {
  const start = h.clock.now;
  let wait = 1;
  while (h.clock.now - start <= maxMs) {
    h.clock.advance(wait);
    if (live !== null) { h.touch(live); h.run(); }
    tick(h);
    if (gone()) return h.clock.now;
    wait = lastWait(h);
  }
  throw new Error(`the session did not expire within ${maxMs} ms`);
}

const asked = new WeakMap<Harness, number>();

/** tick() as the host calls it, remembering how long it asked to wait before the next call. */
function tick(h: Harness): Output[] {
  asked.set(h, h.seq.tick());
  return h.output();
}

function lastWait(h: Harness): number {
  return asked.get(h) ?? 1;
}

test('a stall longer than the session timeout does not expire a live session; a gone client expires at deadline + stall', () => {
  const h = new Harness({ tickTime: '1000' });
  connect(h, 1, 3000);
  connect(h, 2, 3000);
  h.packet(1, 1, OpCode.create, createBody('/live', 1));
  h.packet(2, 1, OpCode.create, createBody('/gone', 1));
  h.run();
  const t0 = h.clock.now;
  tick(h);
  const due = t0 + lastWait(h);
  h.closed(2); // the client of session 2 went away (no closeSession)
  h.run();
  // The whole server stands still for 10 s: no tick, no drain. Session 1's
  // client kept pinging; its ping waits in the ring.
  h.clock.advance(10_000);
  h.touch(1);
  const out = tick(h);
  assert.deepEqual(out.filter((o) => o.kind === 'close'), [], 'nothing expires for the stall itself');
  const st = h.seq.stats;
  assert.equal(st.stalls, 1);
  assert.equal(st.stallMsTotal, t0 + 10_000 - due, 'the stall is measured from when the tick was due');
  assert.ok(h.seq.tree.getNode('/live') && h.seq.tree.getNode('/gone'), 'both ephemerals survive the stall');
  // From here the host ticks on time. Session 2 expires at its deadline
  // (4000 ms bucket after t0) with the stall left out, give or take a tick.
  const expiredAt = tickUntil(h, 1, () => h.seq.tree.getNode('/gone') === undefined, 20_000);
  const serviceMs = expiredAt - t0 - st.stallMsTotal;
  assert.ok(serviceMs >= 3000 && serviceMs <= 4000 + 2 * 1000, `gone session expired after ${serviceMs} ms of service time`);
  assert.equal(h.seq.tree.getNode('/gone'), undefined);
  assert.ok(h.seq.tree.getNode('/live'), 'the live session\'s ephemeral stays');
  assert.equal(h.seq.sessionCount, 1);
});

test('without a stall, ticks on schedule expire a gone session at its deadline, as before', () => {
  const h = new Harness({ tickTime: '1000' });
  connect(h, 1, 3000);
  const t0 = h.clock.now;
  tick(h);
  h.closed(1);
  h.run();
  const expiredAt = tickUntil(h, null, () => h.seq.sessionCount === 0, 10_000);
  assert.ok(expiredAt - t0 >= 3000 && expiredAt - t0 <= 4000 + 1, `expired ${expiredAt - t0} ms after its last touch`);
  assert.equal(h.seq.stats.stalls, 0);
});

test('pings stuck behind throttled input do not let sessions expire; the blocked time is excluded afterwards', () => {
  const h = new Harness({ tickTime: '1000', request_throttle_max_requests: '2' });
  connect(h, 1, 3000);
  connect(h, 2, 3000);
  tick(h);
  // The txn log stops making writes durable: two writes fill the in-flight
  // limit and everything behind them, session 2's pings included, waits.
  h.log.auto = false;
  for (let i = 1; i <= 4; i++) h.packet(1, i, OpCode.create, createBody(`/w${i}`));
  h.run();
  assert.equal(h.seq.throttled, true);
  const blockedAt = h.clock.now;
  let wait = lastWait(h);
  for (let step = 0; step < 8; step++) {
    h.clock.advance(wait);
    h.touch(2);
    const out = tick(h);
    assert.deepEqual(out.filter((o) => o.kind === 'close'), [], `nothing expires while input is blocked (${h.clock.now - blockedAt} ms)`);
    wait = lastWait(h);
  }
  assert.ok(h.clock.now - blockedAt > 6000, 'blocked for longer than twice the session timeout');
  // The disk recovers: writes commit, input flows, session 2's pings are seen.
  for (let round = 0; round < 10 && h.log.txns.filter((t) => t.hdr.type === OpCode.create).length < 4; round++) {
    h.log.flushDurable();
    h.run();
  }
  h.log.flushDurable();
  h.run();
  assert.equal(h.seq.throttled, false);
  assert.equal(h.seq.stats.stalls, 1, 'the block counted as one stall');
  assert.ok(h.seq.stats.stallMsTotal >= 6000);
  const out: Output[] = [];
  for (let i = 0; i < 3; i++) {
    h.clock.advance(lastWait(h));
    h.touch(1);
    h.touch(2);
    h.run();
    out.push(...tick(h));
  }
  assert.deepEqual(out.filter((o) => o.kind === 'close'), [], 'both sessions live on');
  assert.equal(h.seq.sessionCount, 2);
});

test('reads parked behind a session\'s pending writes count toward the in-flight limit', () => {
  const h = new Harness({ request_throttle_max_requests: '4' });
  connect(h, 1, 10000);
  h.log.auto = false;
  h.packet(1, 1, OpCode.create, createBody('/q'));
  for (let i = 2; i <= 10; i++) h.packet(1, i, OpCode.exists, (w) => { w.ustring('/q').bool(false); });
  h.run();
  assert.equal(h.seq.throttled, true, '1 write + 3 parked reads reach the limit of 4');
  h.log.flushDurable();
  const replies: number[] = [];
  for (let round = 0; round < 10; round++) {
    replies.push(...h.output().filter((o) => o.kind === 'reply').map((o) => (o as { xid: number }).xid));
    h.run().forEach((o) => { if (o.kind === 'reply') replies.push(o.xid); });
  }
  assert.deepEqual(replies, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'every request answered, in order');
  assert.equal(h.seq.throttled, false);
});

test('a stall while input is blocked is excluded once: the union of the two intervals', () => {
  const h = new Harness({ tickTime: '1000', request_throttle_max_requests: '1' });
  connect(h, 1, 3000);
  tick(h);
  h.log.auto = false;
  h.packet(1, 1, OpCode.create, createBody('/a'));
  h.packet(1, 2, OpCode.create, createBody('/b'));
  h.run();
  assert.equal(h.seq.throttled, true);
  const blockedAt = h.clock.now;
  h.clock.advance(300);
  tick(h); // on time, nothing to exclude yet (blocked for less than stallMinMs)
  const due = h.clock.now + lastWait(h);
  h.clock.advance(lastWait(h) + 5000); // the whole process stops for 5 s
  tick(h);
  assert.equal(h.seq.stats.stallMsTotal, h.clock.now - due, 'the late timer: from when the tick was due');
  h.clock.advance(100);
  h.log.flushDurable(); // the disk answers; input flows again
  h.run();
  assert.equal(h.log.txns.filter((t) => t.hdr.type === OpCode.create).length, 2, 'the waiting write was taken');
  assert.equal(h.seq.stats.stallMsTotal, h.clock.now - blockedAt, 'the block and the stop together, counted once');
  assert.equal(h.seq.stats.stalls, 2);
});
