// A log-linear latency histogram, mergeable across threads: recording is a
// few integer operations and one array increment, so the load generator's hot
// loop never allocates or sorts. Values are kept in units of 0.1 µs; each
// power-of-two range is split into 128 sub-buckets, so a percentile is exact
// to within 1/128 (0.8 %) of its value.
//
//   index(v) = v                                 for v < 256
//            = (shift << 7) + (v >>> shift)      shift = floor(log2 v) - 7, otherwise
//
// The last bucket holds everything from 2^31 units (214 s) up.

const SUB_BITS = 7;
const SUB = 1 << SUB_BITS;
const UNITS_PER_MS = 10_000;
export const HISTOGRAM_BUCKETS = (32 - SUB_BITS) * SUB;

function indexOf(v: number): number {
  if (v < 2 * SUB) return v;
  const shift = 31 - Math.clz32(v) - SUB_BITS;
  return (shift << SUB_BITS) + (v >>> shift);
}

/** The middle of bucket i, in units. */
function valueOf(i: number): number {
  if (i < 2 * SUB) return i;
  const shift = (i >>> SUB_BITS) - 1;
  const low = ((i & (SUB - 1)) + SUB) * 2 ** shift;
  return low + 2 ** shift / 2;
}

export class Histogram {
  readonly counts: Float64Array;
  total = 0;
  minMs = Infinity;
  maxMs = 0;
  sumMs = 0;

  constructor(counts?: Float64Array) {
    this.counts = counts ?? new Float64Array(HISTOGRAM_BUCKETS);
    if (counts !== undefined) {
      for (let i = 0; i < counts.length; i++) this.total += counts[i]!;
    }
  }

  record(ms: number): void {
    let v = Math.round(ms * UNITS_PER_MS);
    if (v < 0) v = 0;
    const i = v >= 0x7fffffff ? HISTOGRAM_BUCKETS - 1 : indexOf(v);
    this.counts[i]!++;
    this.total++;
    this.sumMs += ms;
    if (ms < this.minMs) this.minMs = ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  merge(o: Histogram | HistogramData): void {
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) this.counts[i]! += o.counts[i]!;
    this.total += o.total;
    this.sumMs += o.sumMs;
    if (o.minMs < this.minMs) this.minMs = o.minMs;
    if (o.maxMs > this.maxMs) this.maxMs = o.maxMs;
  }

  /** The p-quantile (0 < p <= 1) in ms, nearest rank; NaN when empty. Clamped to the observed min and max. */
  percentile(p: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.max(1, Math.ceil(p * this.total));
    let seen = 0;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.maxMs, Math.max(this.minMs, valueOf(i) / UNITS_PER_MS));
    }
    return this.maxMs;
  }

  get meanMs(): number {
    return this.total === 0 ? NaN : this.sumMs / this.total;
  }

  /** A plain object that crosses postMessage (the counts array is transferable). */
  data(): HistogramData {
    return { counts: this.counts, total: this.total, minMs: this.minMs, maxMs: this.maxMs, sumMs: this.sumMs };
  }

  static from(d: HistogramData): Histogram {
    const h = new Histogram();
    h.merge(d);
    return h;
  }
}

export interface HistogramData {
  counts: Float64Array;
  total: number;
  minMs: number;
  maxMs: number;
  sumMs: number;
}
