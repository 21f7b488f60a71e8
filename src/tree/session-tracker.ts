// Session expiry in tickTime buckets, as Apache's ExpiryQueue: a touch moves
// a session to the bucket ceil-to-next-tick(now + timeout); a bucket expires
// as a whole when its time comes. Pure bookkeeping over injected time, so the
// sequencer and the tests drive it with any clock.
//
// Stalls: when the server itself stood still (a GC pause, a blocked disk, a
// suspended VM, SIGSTOP), clients could not reach it, so that time must not
// count against their sessions. excludeStall(ms) moves every deadline later
// by ms at once: the tracker keeps its buckets on a "service clock" that is
// the caller's monotonic time minus all the stall time excluded so far, and
// converts at its edges. Every method takes and returns the caller's time.

export interface Expirable {
  timeoutMs: number;
  /** Bucket time the session sits in (service clock), or 0 when untracked. */
  expiresAt: number;
}

export class SessionTracker<S extends Expirable> {
  private readonly byTime = new Map<number, Set<S>>();
  /** The next bucket time to examine (service clock). */
  private nextBucket: number;
  /** Stall time excluded so far: service clock = caller's clock - excludedMs. */
  private excluded = 0;

  constructor(readonly tickMs: number, nowMs: number) {
    this.nextBucket = this.roundToNextInterval(nowMs);
  }

  roundToNextInterval(t: number): number {
    return (Math.floor(t / this.tickMs) + 1) * this.tickMs;
  }

  /** Total stall time excluded from every deadline so far (ms). */
  get excludedMs(): number {
    return this.excluded;
  }

  /** The next bucket time to examine, on the caller's clock. */
  get nextExpirationTime(): number {
    return this.nextBucket + this.excluded;
  }

  /** The session's deadline on the caller's clock (0 when untracked). */
  deadlineOf(s: S): number {
    return s.expiresAt === 0 ? 0 : s.expiresAt + this.excluded;
  }

  /** (Re)arm the session's deadline from now. */
  touch(s: S, nowMs: number): void {
    const at = this.roundToNextInterval(nowMs - this.excluded + s.timeoutMs);
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

  /**
   * The server stood still for ms: move every deadline (and the next bucket
   * check) ms later, so no session expires for time its client could not
   * use. O(1): the buckets stay as they are on the service clock.
   */
  excludeStall(ms: number): void {
    if (ms > 0) this.excluded += ms;
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
    const now = nowMs - this.excluded;
    while (now >= this.nextBucket) {
      const t = this.nextBucket;
      this.nextBucket += this.tickMs;
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

  /** Expiry buckets (deadline on the caller's clock → sessions), soonest first, for dump. */
  buckets(): [number, S[]][] {
    return [...this.byTime.entries()].sort((a, b) => a[0] - b[0]).map(([t, b]) => [t + this.excluded, [...b]]);
  }

  get size(): number {
    let n = 0;
    for (const b of this.byTime.values()) n += b.size;
    return n;
  }
}
