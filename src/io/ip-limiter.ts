// maxClientCnxns: connections per client IP, counted across every I/O worker
// in a shared table (SharedArrayBuffer, Atomics), so the limit holds however
// connections spread over workers.
//
// Layout: slotCount (power of two) pairs of Int32 {key, count}. An IPv4
// address is its own 32-bit key; other addresses are hashed to 32 bits (a
// collision can only make the limit stricter). Key 0 marks an empty slot.
// Slots are claimed with compareExchange and never freed; a count returns
// to 0 when the address's connections close. A full table stops counting
// new addresses (logged once) rather than refusing them.

export class IpLimiter {
  private readonly cells: Int32Array;
  private readonly mask: number;
  private warnedFull = false;

  constructor(readonly sab: SharedArrayBuffer, readonly max: number) {
    this.cells = new Int32Array(sab);
    this.mask = this.cells.length / 2 - 1;
  }

  static create(slots: number, max: number): IpLimiter {
    return new IpLimiter(new SharedArrayBuffer(slots * 8), max);
  }

  private keyOf(ip: string): number {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
    let k: number;
    if (m) {
      k = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) | 0;
    } else {
      k = 0x811c9dc5;
      for (let i = 0; i < ip.length; i++) k = Math.imul(k ^ ip.charCodeAt(i), 0x01000193);
    }
    return k === 0 ? 1 : k;
  }

  private slot(ip: string, claim: boolean): number {
    const key = this.keyOf(ip);
    const n = this.mask + 1;
    let i = (Math.imul(key, 0x9e3779b1) >>> 0) & this.mask;
    for (let probes = 0; probes < n; probes++, i = (i + 1) & this.mask) {
      const k = Atomics.load(this.cells, i * 2);
      if (k === key) return i;
      if (k === 0) {
        if (!claim) return -1;
        const prev = Atomics.compareExchange(this.cells, i * 2, 0, key);
        if (prev === 0 || prev === key) return i;
      }
    }
    return -1;
  }

  /** Count a new connection; false if the address is at its limit. */
  acquire(ip: string): boolean {
    if (this.max <= 0) return true;
    const i = this.slot(ip, true);
    if (i < 0) {
      if (!this.warnedFull) { this.warnedFull = true; console.warn('maxClientCnxns table is full; new addresses are not limited'); }
      return true;
    }
    const after = Atomics.add(this.cells, i * 2 + 1, 1) + 1;
    if (after > this.max) {
      Atomics.sub(this.cells, i * 2 + 1, 1);
      return false;
    }
    return true;
  }

  release(ip: string): void {
    if (this.max <= 0) return;
    const i = this.slot(ip, false);
    if (i >= 0) Atomics.sub(this.cells, i * 2 + 1, 1);
  }

  count(ip: string): number {
    const i = this.slot(ip, false);
    return i < 0 ? 0 : Atomics.load(this.cells, i * 2 + 1);
  }
}
