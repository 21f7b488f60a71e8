// Session expiry in tickTime buckets, as Apache's ExpiryQueue: a touch moves
// a session to the bucket ceil-to-next-tick(now + timeout); a bucket expires
// as a whole when its time comes. Pure bookkeeping over injected time, so the
// sequencer and the tests drive it with any clock.

export interface Expirable {
  timeoutMs: number;
  /** Bucket time the session sits in, or 0 when untracked. */
  expiresAt: number;
}

export class SessionTracker<S extends Expirable> {
  private readonly byTime = new Map<number, Set<S>>();
  /** The next bucket time to examine. */
  nextExpirationTime: number;

  constructor(readonly tickMs: number, nowMs: number) {
    this.nextExpirationTime = this.roundToNextInterval(nowMs);
  }

  roundToNextInterval(t: number): number {
    return (Math.floor(t / this.tickMs) + 1) * this.tickMs;
  }

  /** (Re)arm the session's deadline from now. */
  touch(s: S, nowMs: number): void {
    const at = this.roundToNextInterval(nowMs + s.timeoutMs);
    if (at === s.expiresAt) return;
    this.unlink(s);
    let b = this.byTime.get(at);
    if (b === undefined) {
      b = new Set();
      this.byTime.set(at, b);
    }
    b.add(s);
    s.expiresAt = at;
  }

  remove(s: S): void {
    this.unlink(s);
    s.expiresAt = 0;
  }

  private unlink(s: S): void {
    if (s.expiresAt === 0) return;
    const b = this.byTime.get(s.expiresAt);
    if (b !== undefined) {
      b.delete(s);
      if (b.size === 0) this.byTime.delete(s.expiresAt);
    }
  }

  /** Milliseconds until the next bucket is due (<= 0 if due now). */
  waitMs(nowMs: number): number {
    return this.nextExpirationTime - nowMs;
  }

  /**
   * Take every session whose bucket time has come. The sessions are removed
   * from tracking; the caller closes them.
   */
  expire(nowMs: number): S[] {
    const out: S[] = [];
    while (nowMs >= this.nextExpirationTime) {
      const t = this.nextExpirationTime;
      this.nextExpirationTime += this.tickMs;
      const b = this.byTime.get(t);
      if (b === undefined) continue;
      this.byTime.delete(t);
      for (const s of b) {
        s.expiresAt = 0;
        out.push(s);
      }
    }
    return out;
  }

  /** Expiry buckets (time → sessions), soonest first, for dump. */
  buckets(): [number, S[]][] {
    return [...this.byTime.entries()].sort((a, b) => a[0] - b[0]).map(([t, b]) => [t, [...b]]);
  }

  get size(): number {
    let n = 0;
    for (const b of this.byTime.values()) n += b.size;
    return n;
  }
}
