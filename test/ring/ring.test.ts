import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { createRingBuffer, RingReader, RingWriter } from '../../src/ring/spsc-ring.js';
import { AtomicPump, LocalPump } from '../../src/ring/doorbell.js';
import { AssertionError } from '../../src/util/assert.js';

test('records of every size wrap around the ring intact and in order', () => {
  const sab = createRingBuffer(1024);
  const w = new RingWriter(sab);
  const r = new RingReader(sab);
  let written = 0;
  let read = 0;
  for (let round = 0; round < 5000; round++) {
    const size = (round * 37) % (w.recordMax + 1);
    const at = w.reserve(size);
    if (at >= 0) {
      for (let i = 0; i < size; i++) w.buf[at + i] = (written + i) & 0xff;
      if (size >= 4) w.view.setUint32(at, written);
      w.commit();
      w.publish();
      written++;
    }
    // Consume about every other round so the ring fills and drains.
    if (round % 2 === 1 || at < 0) {
      for (let k = 0; k < 3; k++) {
        const p = r.next();
        if (p < 0) break;
        const len = r.length;
        if (len >= 4) assert.equal(r.view.getUint32(p), read);
        for (let i = 4; i < len; i++) assert.equal(r.buf[p + i], (read + i) & 0xff);
        r.release();
        read++;
      }
      r.publish();
    }
  }
  for (let p = r.next(); p >= 0; p = r.next()) { r.release(); read++; }
  assert.equal(read, written);
  assert.ok(written > 2000);
});

test('a full ring refuses a reservation until the consumer publishes its position', () => {
  const sab = createRingBuffer(256);
  const w = new RingWriter(sab);
  const r = new RingReader(sab);
  let n = 0;
  while (w.reserve(24) >= 0) { w.commit(); n++; }
  w.publish();
  assert.ok(n > 0 && n <= 256 / 32);
  assert.ok(r.next() >= 0);
  r.release();
  assert.equal(w.reserve(24), -1, 'space is not reused before the consumer publishes');
  r.publish();
  assert.ok(w.reserve(24) >= 0, 'space is reused after publish');
});

test('a record larger than half the ring is a programming error, not a hang', () => {
  const w = new RingWriter(createRingBuffer(256));
  assert.throws(() => w.reserve(200), AssertionError);
});

test('records are invisible to the consumer until published', () => {
  const sab = createRingBuffer(256);
  const w = new RingWriter(sab);
  const r = new RingReader(sab);
  w.reserve(8);
  w.commit();
  assert.equal(r.next(), -1);
  assert.equal(r.hasData(), false);
  w.publish();
  assert.equal(r.hasData(), true);
  assert.ok(r.next() >= 0);
});

test('200k records cross threads in order through the Atomics doorbell', async () => {
  const count = 200_000;
  const ring = createRingBuffer(1 << 16);
  const ctrl = new SharedArrayBuffer(64);
  const reader = new RingReader(ring);
  let expect = 0;
  let wakeups = 0;
  let resolveDone!: () => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<void>((res, rej) => { resolveDone = res; rejectDone = rej; });
  const pump = new AtomicPump(new Int32Array(ctrl), 0, () => {
    try {
      return consume();
    } catch (e) {
      rejectDone(e);
      return false;
    }
  }, () => reader.hasData());
  const consume = (): boolean => {
    wakeups++;
    for (let n = 0; n < 4096; n++) {
      const at = reader.next();
      if (at < 0) break;
      assert.equal(reader.view.getUint32(at), expect, 'in order');
      const size = 4 + (expect * 7919) % 300;
      assert.equal(reader.length, size);
      if (size > 4) assert.equal(reader.buf[at + size - 1], (expect + size - 1) & 0xff);
      reader.release();
      expect++;
    }
    reader.publish();
    if (expect === count) resolveDone();
    return reader.hasData();
  };
  pump.start();
  const worker = new Worker(fileURLToPath(new URL('../support/ring-producer.js', import.meta.url)), {
    workerData: { ring, ctrl, bellIndex: 0, count },
  });
  const timeout = setTimeout(() => rejectDone(new Error(`only ${expect} of ${count} records arrived in 30 s`)), 30000);
  try {
    await done;
  } finally {
    clearTimeout(timeout);
    pump.stop();
    await worker.terminate();
  }
  assert.equal(expect, count);
  assert.ok(wakeups < count, `batched: ${wakeups} drains for ${count} records`);
});

test('local pumps: a microtask pump drains before the loop turns, until empty; an immediate pump waits for the check phase', async () => {
  const order: string[] = [];
  let backlog = 0;
  const micro = new LocalPump(() => {
    order.push(`micro ${backlog}`);
    backlog = Math.max(0, backlog - 2); // a batch of at most 2
    return backlog > 0;
  }, 'microtask');
  const immediate = new LocalPump(() => { order.push('immediate'); return false; });
  // A producer's callback: publishes 5 records, rings both pumps twice.
  setTimeout(() => {
    setImmediate(() => order.push('next immediate'));
    backlog = 5;
    micro.ring();
    micro.ring();
    immediate.ring();
    immediate.ring();
    order.push('producer returns');
  }, 0);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(order, ['producer returns', 'micro 5', 'micro 3', 'micro 1', 'next immediate', 'immediate'],
    'the microtask pump ran once per ring burst, as soon as the producer returned, and drained in batches until empty; ' +
    'the immediate pump once, in the check phase, after what was queued before it');
  micro.stop();
  immediate.stop();
  micro.ring();
  await new Promise((r) => setImmediate(r));
  assert.equal(order.length, 6, 'a stopped pump does not run');
});
