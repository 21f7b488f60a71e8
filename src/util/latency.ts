// Latency (or any ms-valued) statistics kept by a thread: min/max/sum/count
// plus a log-scale histogram over the last one to two minutes, for quantiles.
// Recording is arithmetic on preallocated arrays: no allocation per sample.

/** Latency (ms) min/max/sum/count plus a log-scale histogram for quantiles over the last 1-2 minutes. */
export class LatencyTracker {
  min = Infinity;
  max = 0;
  sum = 0;
  count = 0;
  last = 0;
  private cur = new Float64Array(BUCKETS);
  private prev = new Float64Array(BUCKETS);
  private rotatedAt = 0;

  record(ms: number, nowMs: number): void {
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
    this.sum += ms;
    this.count++;
    this.last = ms;
    if (nowMs - this.rotatedAt > WINDOW_MS) this.rotate(nowMs);
    this.cur[bucketOf(ms)]!++;
  }

  private rotate(nowMs: number): void {
    const t = this.prev;
    this.prev = this.cur;
    this.cur = t;
    this.cur.fill(0);
    this.rotatedAt = nowMs;
  }

  reset(): void {
    this.min = Infinity;
    this.max = 0;
    this.sum = 0;
    this.count = 0;
    this.last = 0;
    this.cur.fill(0);
    this.prev.fill(0);
  }

  snapshot(): LatencySnapshot {
    const hist = new Array<number>(BUCKETS);
    for (let i = 0; i < BUCKETS; i++) hist[i] = this.cur[i]! + this.prev[i]!;
    return { min: this.count === 0 ? 0 : this.min, max: this.max, sum: this.sum, count: this.count, last: this.last, hist };
  }
}

export interface LatencySnapshot {
  min: number;
  max: number;
  sum: number;
  count: number;
  last: number;
  /** Recent-window histogram counts per bucket (see bucketUpper). */
  hist: number[];
}

// Buckets: 0 is [0, 0.01 ms); bucket i >= 1 covers up to 0.01 * 1.25^i ms (to ~7 hours).
const BUCKETS = 96;
const WINDOW_MS = 60_000;
const BASE = 0.01;
const LOG_GROWTH = Math.log(1.25);

function bucketOf(ms: number): number {
  if (ms < BASE) return 0;
  const i = Math.ceil(Math.log(ms / BASE) / LOG_GROWTH);
  return i >= BUCKETS ? BUCKETS - 1 : i;
}

export function bucketUpper(i: number): number {
  return BASE * Math.pow(1.25, i);
}

/** Merge several latency snapshots (workers) into one. */
export function mergeLatency(xs: readonly LatencySnapshot[]): LatencySnapshot {
  const hist = new Array<number>(BUCKETS).fill(0);
  let min = Infinity;
  let max = 0;
  let sum = 0;
  let count = 0;
  let last = 0;
  for (const x of xs) {
    if (x.count > 0 && x.min < min) min = x.min;
    if (x.max > max) max = x.max;
    sum += x.sum;
    count += x.count;
    if (x.count > 0) last = x.last;
    for (let i = 0; i < BUCKETS; i++) hist[i]! += x.hist[i] ?? 0;
  }
  return { min: count === 0 ? 0 : min, max, sum, count, last, hist };
}

/** The q-quantile (0..1) of a histogram, as a bucket's upper bound (ms). */
export function quantile(s: LatencySnapshot, q: number): number {
  const total = s.hist.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const target = q * total;
  let seen = 0;
  for (let i = 0; i < s.hist.length; i++) {
    seen += s.hist[i]!;
    if (seen >= target) return i === 0 ? 0 : Math.min(bucketUpper(i), s.max);
  }
  return s.max;
}
