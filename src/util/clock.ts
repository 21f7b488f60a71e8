// Time is an input. Code that decides on time (session expiry, TTLs, txn
// timestamps) takes a Clock so tests can drive it deterministically.

export interface Clock {
  /** Monotonic milliseconds, for deadlines and expiry buckets. */
  nowMs(): number;
  /** Wall-clock milliseconds since the epoch, for ctime/mtime and txn headers. */
  wallMs(): number;
}

export const systemClock: Clock = {
  nowMs: () => performance.now(),
  wallMs: () => Date.now(),
};
