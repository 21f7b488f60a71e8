// Single-producer single-consumer byte ring over a SharedArrayBuffer.
// Records are written in place (reserve → write → commit) and read in place
// (next → read → release); positions are published once per batch with one
// Atomics.store, so a batch of N records costs two atomic stores, not 2N.
//
// Invariants: only the producer writes tail, only the consumer writes head;
// 0 <= tail - head <= capacity (as wrapping u32); a payload is at most
// recordMax bytes so a record always fits once the ring drains.

import { assert } from '../util/assert.js';
import { RING_ALIGN, RING_HEAD_INDEX, RING_HEADER_BYTES, RING_TAIL_INDEX, RING_WRAP, ringBytes } from './layout.js';

export function createRingBuffer(capacity: number): SharedArrayBuffer {
  assert(capacity > 0 && (capacity & (capacity - 1)) === 0, `ring capacity ${capacity} must be a power of two`);
  return new SharedArrayBuffer(ringBytes(capacity));
}

function capacityOf(sab: SharedArrayBuffer): number {
  return sab.byteLength - RING_HEADER_BYTES;
}

function align(n: number): number {
  return (n + RING_ALIGN - 1) & ~(RING_ALIGN - 1);
}

export class RingWriter {
  readonly buf: Buffer;
  readonly view: DataView;
  readonly capacity: number;
  readonly recordMax: number;
  private readonly ctl: Int32Array;
  private readonly mask: number;
  private tail: number;
  private headSeen: number;
  private pendingTotal = 0;
  private pendingAt = -1;
  private unpublished = false;

  constructor(readonly sab: SharedArrayBuffer) {
    this.capacity = capacityOf(sab);
    this.mask = this.capacity - 1;
    this.recordMax = this.capacity / 2 - 2 * RING_ALIGN;
    this.ctl = new Int32Array(sab, 0, RING_HEADER_BYTES / 4);
    this.buf = Buffer.from(sab, RING_HEADER_BYTES, this.capacity);
    this.view = new DataView(sab, RING_HEADER_BYTES, this.capacity);
    this.tail = Atomics.load(this.ctl, RING_TAIL_INDEX) >>> 0;
    this.headSeen = Atomics.load(this.ctl, RING_HEAD_INDEX) >>> 0;
  }

  /**
   * Reserve room for a payload of n bytes. Returns the payload's offset in
   * buf/view, or -1 when the ring is too full right now.
   */
  reserve(n: number): number {
    assert(this.pendingAt < 0, 'ring: reserve before commit of the previous record');
    assert(n >= 0 && n <= this.recordMax, `ring: record of ${n} bytes exceeds ${this.recordMax}`);
    const total = align(4 + n);
    let idx = this.tail & this.mask;
    const toEnd = this.capacity - idx;
    const need = toEnd < total ? toEnd + total : total;
    if (this.capacity - ((this.tail - this.headSeen) >>> 0) < need) {
      this.headSeen = Atomics.load(this.ctl, RING_HEAD_INDEX) >>> 0;
      if (this.capacity - ((this.tail - this.headSeen) >>> 0) < need) return -1;
    }
    if (toEnd < total) {
      this.view.setUint32(idx, RING_WRAP);
      this.tail = (this.tail + toEnd) >>> 0;
      idx = 0;
    }
    this.view.setUint32(idx, n);
    this.pendingAt = idx;
    this.pendingTotal = total;
    return idx + 4;
  }

  /** Shrink the reserved payload to n bytes (n <= reserved) before commit. */
  shrink(n: number): void {
    assert(this.pendingAt >= 0 && align(4 + n) <= this.pendingTotal, 'ring: shrink outside a reservation');
    this.view.setUint32(this.pendingAt, n);
    this.pendingTotal = align(4 + n);
  }

  commit(): void {
    assert(this.pendingAt >= 0, 'ring: commit without reserve');
    this.tail = (this.tail + this.pendingTotal) >>> 0;
    this.pendingAt = -1;
    this.unpublished = true;
  }

  /** Make committed records visible to the consumer. Returns true if anything was published. */
  publish(): boolean {
    if (!this.unpublished) return false;
    this.unpublished = false;
    Atomics.store(this.ctl, RING_TAIL_INDEX, this.tail | 0);
    return true;
  }

  /** Bytes free as last seen (a lower bound). */
  freeBytes(): number {
    this.headSeen = Atomics.load(this.ctl, RING_HEAD_INDEX) >>> 0;
    return this.capacity - ((this.tail - this.headSeen) >>> 0);
  }
}

export class RingReader {
  readonly buf: Buffer;
  readonly view: DataView;
  readonly capacity: number;
  /** Length of the payload returned by the last next(). */
  length = 0;
  private readonly ctl: Int32Array;
  private readonly mask: number;
  private head: number;
  private tailSeen: number;
  private recordTotal = 0;
  private released = true;
  private unpublished = false;

  constructor(readonly sab: SharedArrayBuffer) {
    this.capacity = capacityOf(sab);
    this.mask = this.capacity - 1;
    this.ctl = new Int32Array(sab, 0, RING_HEADER_BYTES / 4);
    this.buf = Buffer.from(sab, RING_HEADER_BYTES, this.capacity);
    this.view = new DataView(sab, RING_HEADER_BYTES, this.capacity);
    this.head = Atomics.load(this.ctl, RING_HEAD_INDEX) >>> 0;
    this.tailSeen = Atomics.load(this.ctl, RING_TAIL_INDEX) >>> 0;
  }

  /** True if a record is (or may be) waiting; refreshes the producer's position. */
  hasData(): boolean {
    if (this.head !== this.tailSeen) return true;
    this.tailSeen = Atomics.load(this.ctl, RING_TAIL_INDEX) >>> 0;
    return this.head !== this.tailSeen;
  }

  /** Offset of the next payload in buf/view (its size in `length`), or -1 if empty. */
  next(): number {
    assert(this.released, 'ring: next before release of the previous record');
    if (this.head === this.tailSeen) {
      this.tailSeen = Atomics.load(this.ctl, RING_TAIL_INDEX) >>> 0;
      if (this.head === this.tailSeen) return -1;
    }
    let idx = this.head & this.mask;
    let len = this.view.getUint32(idx);
    if (len === RING_WRAP) {
      this.head = (this.head + (this.capacity - idx)) >>> 0;
      idx = 0;
      len = this.view.getUint32(0);
    }
    this.length = len;
    this.recordTotal = align(4 + len);
    this.released = false;
    return idx + 4;
  }

  /** Done with the record from next(); its bytes may be reused once published. */
  release(): void {
    this.head = (this.head + this.recordTotal) >>> 0;
    this.released = true;
    this.unpublished = true;
  }

  publish(): void {
    if (!this.unpublished) return;
    this.unpublished = false;
    Atomics.store(this.ctl, RING_HEAD_INDEX, this.head | 0);
  }
}
