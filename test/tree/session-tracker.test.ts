import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionTracker, type Expirable } from '../../src/tree/session-tracker.js';

const s = (timeoutMs: number, name: string): Expirable & { name: string } => ({ timeoutMs, expiresAt: 0, name });

test('deadlines are rounded up to the next tick and expire bucket by bucket', () => {
  const t = new SessionTracker<ReturnType<typeof s>>(2000, 0);
  const a = s(4000, 'a');
  t.touch(a, 100);
  assert.equal(a.expiresAt, 6000, 'ceil-to-next-tick(100 + 4000)');
  assert.deepEqual(t.expire(5999), []);
  assert.deepEqual(t.expire(6000).map((x) => x.name), ['a']);
  assert.equal(t.size, 0);
});

test('a 4000 ms session expires 4-6 s after its last touch, as Apache\'s buckets do', () => {
  for (const touchAt of [0, 1, 999, 1999, 3001]) {
    const t = new SessionTracker<ReturnType<typeof s>>(2000, 0);
    const a = s(4000, 'a');
    t.touch(a, touchAt);
    let expiredAt = -1;
    for (let now = touchAt; now < touchAt + 10000 && expiredAt < 0; now += 10) {
      if (t.expire(now).length > 0) expiredAt = now;
    }
    const after = expiredAt - touchAt;
    assert.ok(after >= 4000 && after <= 6010, `touched at ${touchAt}: expired after ${after} ms`);
  }
});

test('touching moves a session to a later bucket; removal stops its expiry', () => {
  const t = new SessionTracker<ReturnType<typeof s>>(1000, 0);
  const a = s(3000, 'a');
  const b = s(3000, 'b');
  t.touch(a, 0);
  t.touch(b, 0);
  t.touch(a, 2500);
  t.remove(b);
  assert.deepEqual(t.expire(4000).map((x) => x.name), []);
  assert.deepEqual(t.expire(6000).map((x) => x.name), ['a']);
  assert.equal(t.waitMs(6000), 1000);
});

test('a stall excluded from deadlines moves every deadline and the next check by its length', () => {
  const t = new SessionTracker<ReturnType<typeof s>>(1000, 0);
  const a = s(3000, 'a');
  const b = s(5000, 'b');
  t.touch(a, 0);
  t.touch(b, 0);
  assert.equal(t.deadlineOf(a), 4000);
  t.excludeStall(7500);
  assert.equal(t.deadlineOf(a), 11500, 'deadline + stall, on the caller\'s clock');
  assert.equal(t.deadlineOf(b), 13500);
  assert.deepEqual(t.buckets().map(([at, ss]) => [at, ss.map((x) => x.name)]), [[11500, ['a']], [13500, ['b']]]);
  assert.deepEqual(t.expire(11499), [], 'nothing expires for the stall itself');
  assert.deepEqual(t.expire(11500).map((x) => x.name), ['a']);
  // A touch after the stall counts from the real time again.
  t.touch(b, 12000);
  assert.equal(t.deadlineOf(b), 17500, 'next tick after 12000 - 7500 + 5000 on the service clock, + 7500');
  assert.deepEqual(t.expire(17499), []);
  assert.deepEqual(t.expire(17500).map((x) => x.name), ['b']);
  assert.equal(t.excludedMs, 7500);
});
