// The queues behind the sequencer's proposals, prep's change records and each
// connection's requests in flight: first in, first out across wrap-around and
// growth, checked against a plain array doing the same operations.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fifo, TripleFifo } from '../../src/util/fifo.js';

/** A small deterministic generator (xorshift32), so a failure replays. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

test('Fifo: random pushes, shifts and truncations give what an array gives, through wrap-around and growth', () => {
  const rand = rng(7);
  const q = new Fifo<{ n: number }>(4);
  const model: { n: number }[] = [];
  let next = 0;
  for (let step = 0; step < 20_000; step++) {
    const r = rand();
    if (r < 0.5) {
      const v = { n: next++ };
      q.push(v);
      model.push(v);
    } else if (r < 0.93) {
      assert.equal(q.peek(), model[0]);
      assert.equal(q.shift(), model.shift());
    } else if (r < 0.97) {
      const keep = Math.floor(rand() * (model.length + 1));
      q.truncate(keep);
      model.length = keep;
    } else if (model.length > 0) {
      const i = Math.floor(rand() * model.length);
      assert.equal(q.at(i), model[i]);
    }
    assert.equal(q.size, model.length);
  }
  assert.deepEqual(q.toArray(), model);
  q.clear();
  assert.equal(q.size, 0);
  assert.equal(q.shift(), undefined);
  assert.equal(q.peek(), undefined);
  q.push({ n: -1 });
  assert.deepEqual(q.toArray(), [{ n: -1 }]);
});

test('Fifo: a queue that fills past its capacity while wrapped keeps the order', () => {
  const q = new Fifo<number>(4);
  for (let i = 0; i < 3; i++) q.push(i);
  q.shift();
  q.shift(); // head is now mid-ring
  for (let i = 3; i < 40; i++) q.push(i);
  assert.deepEqual(q.toArray(), Array.from({ length: 38 }, (_, i) => i + 2));
});

test('TripleFifo: each entry comes back whole and in order, through wrap-around and growth', () => {
  const rand = rng(11);
  const q = new TripleFifo();
  const model: [number, number, number][] = [];
  let next = 0;
  for (let step = 0; step < 20_000; step++) {
    if (rand() < 0.52) {
      // A time (a double), an opcode and an xid (which may be negative) as a connection pushes them.
      const e: [number, number, number] = [next * 0.001 + 0.5, next % 23, (next * 7919) | 0];
      next++;
      q.push(e[0], e[1], e[2]);
      model.push(e);
    } else if (model.length > 0) {
      const e = model.shift()!;
      assert.deepEqual([q.first(), q.second(), q.third()], e);
      q.shift();
    } else {
      q.shift(); // shifting an empty ring leaves it empty
    }
    assert.equal(q.size, model.length);
  }
  assert.ok(next > 9_000);
  assert.equal(new TripleFifo().size, 0);
});
