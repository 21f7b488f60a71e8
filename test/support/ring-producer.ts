// Test support (a worker thread): produces `count` records into a ring, each
// carrying its sequence number and a deterministic body, ringing the consumer's
// doorbell after each batch. Used by test/ring/ring.test.ts.

import { workerData, parentPort } from 'node:worker_threads';
import { RingWriter } from '../../src/ring/spsc-ring.js';
import { AtomicDoorbell } from '../../src/ring/doorbell.js';

const { ring, ctrl, bellIndex, count } = workerData as { ring: SharedArrayBuffer; ctrl: SharedArrayBuffer; bellIndex: number; count: number };
const w = new RingWriter(ring);
const bell = new AtomicDoorbell(new Int32Array(ctrl), bellIndex);
let seq = 0;
let spins = 0;
function produce(): void {
  let batch = 0;
  while (seq < count && batch < 64) {
    const size = 4 + (seq * 7919) % 300;
    const at = w.reserve(size);
    if (at < 0) break;
    w.view.setUint32(at, seq);
    for (let i = 4; i < size; i++) w.buf[at + i] = (seq + i) & 0xff;
    w.commit();
    seq++;
    batch++;
  }
  if (w.publish()) bell.ring();
  if (seq < count) {
    spins++;
    setImmediate(produce);
  } else {
    parentPort!.postMessage({ done: seq, spins });
  }
}
produce();
