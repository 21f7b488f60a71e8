// First-in first-out queues that keep their storage when they empty.
//
// A JS array used as a queue (push, a head index, `length = 0` once drained)
// gives its backing store back every time it empties, and the next push
// allocates a new one: with one request in flight that is an allocation per
// request per queue (about 150 bytes each on V8 11). These rings allocate
// only when they grow past their largest size so far.

/** A ring of object slots. */
export class Fifo<T> {
  private slots: (T | undefined)[];
  private mask: number;
  private head = 0;
  private count = 0;

  /** capacity: initial slots, rounded up to a power of two. */
  constructor(capacity = 16) {
    let n = 4;
    while (n < capacity) n *= 2;
    this.slots = new Array<T | undefined>(n).fill(undefined);
    this.mask = n - 1;
  }

  get size(): number {
    return this.count;
  }

  push(v: T): void {
    if (this.count === this.slots.length) this.grow();
    this.slots[(this.head + this.count) & this.mask] = v;
    this.count++;
  }

  /** The oldest entry, or undefined when empty. */
  peek(): T | undefined {
    return this.count === 0 ? undefined : this.slots[this.head];
  }

  /** Removes and returns the oldest entry (undefined when empty). */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const v = this.slots[this.head];
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.count--;
    return v;
  }

  /** The i-th entry from the oldest (0 ≤ i < size). */
  at(i: number): T {
    return this.slots[(this.head + i) & this.mask]!;
  }

  /** Drops the newest entries so that `size` remain. */
  truncate(size: number): void {
    while (this.count > size) {
      this.count--;
      this.slots[(this.head + this.count) & this.mask] = undefined;
    }
  }

  clear(): void {
    this.truncate(0);
    this.head = 0;
  }

  /** The entries, oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.at(i));
    return out;
  }

  private grow(): void {
    const n = this.slots.length;
    const next = new Array<T | undefined>(n * 2).fill(undefined);
    for (let i = 0; i < n; i++) next[i] = this.slots[(this.head + i) & this.mask];
    this.slots = next;
    this.mask = n * 2 - 1;
    this.head = 0;
  }
}

/** A ring of number triples (unboxed doubles), lazily allocated. */
export class TripleFifo {
  private slots: Float64Array | null = null;
  /** Entries the ring holds (slots.length / 3). */
  private cap = 0;
  private head = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(a: number, b: number, c: number): void {
    if (this.count === this.cap) this.grow();
    const s = this.slots!;
    const at = ((this.head + this.count) % this.cap) * 3;
    s[at] = a;
    s[at + 1] = b;
    s[at + 2] = c;
    this.count++;
  }

  /** Fields of the oldest entry (size > 0). */
  first(): number { return this.slots![this.head * 3]!; }
  second(): number { return this.slots![this.head * 3 + 1]!; }
  third(): number { return this.slots![this.head * 3 + 2]!; }

  /** Drops the oldest entry. */
  shift(): void {
    if (this.count === 0) return;
    this.head = (this.head + 1) % this.cap;
    this.count--;
  }

  private grow(): void {
    const cap = Math.max(4, this.cap * 2);
    const next = new Float64Array(cap * 3);
    for (let i = 0; i < this.count; i++) {
      const from = ((this.head + i) % this.cap) * 3;
      next[i * 3] = this.slots![from]!;
      next[i * 3 + 1] = this.slots![from + 1]!;
      next[i * 3 + 2] = this.slots![from + 2]!;
    }
    this.slots = next;
    this.cap = cap;
    this.head = 0;
  }
}
