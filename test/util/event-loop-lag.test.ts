// The event-loop delay behind zoonode_event_loop_lag_{p99,max}_ms: an idle
// thread is not woken to be sampled, a busy one is, a stall shows as its
// length, and what is reported is lateness, not the sampling period.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventLoopLag } from '../../src/util/event-loop-lag.js';

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* a stall */ }
}

/** Polls every 10 ms, working spinMs of each (light work: 2 ms in every 10), until `done` or `limitMs`; true if `done` came. */
async function workUntil(done: () => boolean, limitMs: number, spinMs = 2): Promise<boolean> {
  const end = performance.now() + limitMs;
  while (performance.now() < end) {
    if (done()) return true;
    spin(spinMs);
    await sleep(10 - spinMs);
  }
  return done();
}

test('event-loop lag: sampled only while the loop works; a stall is reported as its length', async () => {
  // A sampling period longer than any lateness here: reporting the period
  // itself (as perf_hooks' histogram does) would put max at 250 ms or more.
  const lag = new EventLoopLag({ resolutionMs: 250, checkMs: 100, busyFraction: 0.1 });
  try {
    await sleep(350);
    assert.equal(lag.active, false, 'an idle loop is not sampled');

    assert.ok(await workUntil(() => lag.active, 5000), 'a working loop is sampled within a few checks');
    // Several sampling periods of light work, no stall.
    await workUntil(() => false, 800);
    const [p99Calm, maxCalm] = lag.read();
    assert.ok(maxCalm < 200, `lateness without a stall, not the 250 ms period: max ${maxCalm.toFixed(1)} ms`);
    assert.ok(p99Calm <= maxCalm);

    spin(400);
    await sleep(20);
    const [, maxStalled] = lag.read();
    assert.ok(maxStalled >= 300, `a 400 ms stall shows in max: ${maxStalled.toFixed(1)} ms`);

    // Quiet again: sampling stops.
    assert.ok(await workUntil(() => !lag.active, 5000, 0), 'sampling stops once the loop is idle');
  } finally {
    lag.stop();
  }
});

test('event-loop lag: a stall in an idle second is still caught by the once-a-second check', async () => {
  const lag = new EventLoopLag({ resolutionMs: 20, checkMs: 100, busyFraction: 0.1 });
  try {
    await sleep(350);
    assert.equal(lag.active, false);
    spin(300);
    await sleep(20);
    const [, max] = lag.read();
    assert.ok(max >= 150, `the check, due within 100 ms, fired late by most of the stall: max ${max.toFixed(1)} ms`);
  } finally {
    lag.stop();
  }
});
