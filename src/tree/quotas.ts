// Quotas, as Apache keeps them: zkCli's setquota writes
//   /zookeeper/quota/<path>/zookeeper_limits  "count=N,bytes=M[=;countHardLimit=..;byteHardLimit=..]"
//   /zookeeper/quota/<path>/zookeeper_stats   "count=N,bytes=M"
// and the server keeps zookeeper_stats current as nodes under <path> are
// created, deleted and changed (deterministically, while applying txns).
// Soft limits (count, bytes) are logged when exceeded; with enforceQuota=true
// hard limits (countHardLimit, byteHardLimit) refuse the write with
// QUOTAEXCEEDED.

export const QUOTA_ROOT = '/zookeeper/quota';
export const LIMIT_NODE = 'zookeeper_limits';
export const STATS_NODE = 'zookeeper_stats';

/** A quota node's data as text: its latin1-held bytes decoded as UTF-8, as Apache decodes them ('' for null). */
export function quotaText(data: string | null): string {
  return data === null ? '' : Buffer.from(data, 'latin1').toString('utf8');
}

/** Apache's StatsTrack: "k=v" pairs separated by ',' or ';'; a missing value is -1. */
export class StatsTrack {
  readonly values = new Map<string, number>();

  constructor(text: string | null | undefined) {
    if (!text) return;
    for (const pair of text.split(/[,;]+/)) {
      if (pair === '') continue;
      const [k, v] = pair.split('=');
      if (k === undefined || k === '') continue;
      const n = v === undefined || v === '' ? -1 : Number(v);
      this.values.set(k, Number.isFinite(n) ? n : -1);
    }
  }

  /** From a node's data (latin1-held bytes of UTF-8 text, as Apache decodes them). */
  static of(data: string | null): StatsTrack {
    return new StatsTrack(quotaText(data));
  }

  /**
   * A node's data read as strictly as Apache 3.8's StatsTrack(String) reads
   * it, or null where that throws: a pair with no value after "=" ("count=",
   * since Java's split drops trailing empty strings; "count"), an empty pair
   * before the first separator, a value that is not a Java long. Apache's
   * quota check (enforceQuota) reads the limits and stats this way, and a
   * throw there fails the request with MARSHALLINGERROR.
   */
  static strict(data: string | null): StatsTrack | null {
    const t = new StatsTrack(null);
    if (data === null || data.length === 0) return t;
    const pairs = javaSplit(quotaText(data), /[,;]+/);
    for (const pair of pairs) {
      const kv = javaSplit(pair, /=/);
      if (kv.length < 2) return null;
      const v = kv[1]!;
      if (v === '') t.values.set(kv[0]!, -1);
      else if (!/^[+-]?\d+$/.test(v) || BigInt(v) > LONG_MAX || BigInt(v) < -LONG_MAX - 1n) return null;
      else t.values.set(kv[0]!, Number(v));
    }
    return t;
  }

  get(key: string): number {
    return this.values.get(key) ?? -1;
  }

  get count(): number { return this.get('count'); }
  get bytes(): number { return this.get('bytes'); }
  get countHardLimit(): number { return this.get('countHardLimit'); }
  get byteHardLimit(): number { return this.get('byteHardLimit'); }
}

const LONG_MAX = 2n ** 63n - 1n;

/** Java's String.split(regex): as JavaScript's, less every trailing empty string. */
function javaSplit(text: string, sep: RegExp): string[] {
  const parts = text.split(sep);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/**
 * zookeeper_stats rewritten with a new count and bytes, as Apache's
 * StatsTrack.toString writes it: count and bytes first, then any other key
 * the node held, sorted, after "=;" (so "count=4,bytes=3=;zz=9").
 */
export function statsRewritten(old: StatsTrack, count: number, bytes: number): string {
  const others = [...old.values.keys()].filter((k) => k !== 'count' && k !== 'bytes').sort();
  const head = statsBytes(count, bytes);
  return others.length === 0 ? head : `${head}=${others.map((k) => `;${k}=${old.values.get(k)}`).join('')}`;
}

/** What the server writes into zookeeper_stats. */
export function statsBytes(count: number, bytes: number): string {
  return `count=${count},bytes=${bytes}`;
}

/** Per-namespace quota figures as Apache 3.8's mntr and /metrics report them: [namespace, value] pairs. */
export interface QuotaMetrics {
  countLimit: [string, number][];
  bytesLimit: [string, number][];
  countUsage: [string, number][];
  bytesUsage: [string, number][];
}

/** What Apache's PathUtils.getTopNamespace gives: the first segment of a path (Java's split drops trailing empties). */
export function topNamespace(path: string): string | null {
  const parts = path.split('/');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.length > 1 ? parts[1]! : null;
}

/**
 * Apache's QuotaMetricsUtils: every leaf under /zookeeper/quota named
 * zookeeper_limits or zookeeper_stats, summed per namespace, the first
 * segment of its path below /zookeeper/quota (so a quota on "/" lands under
 * the namespace "zookeeper_limits" / "zookeeper_stats", as in 3.8). A limit is
 * the hard limit when one is set, else the soft one. Nodes with null data are
 * skipped.
 */
export function quotaMetrics(
  getNode: (path: string) => { data: string | null; children: { size: number; keys(): Iterable<string> } | null } | undefined,
): QuotaMetrics {
  const sums = [new Map<string, number>(), new Map<string, number>(), new Map<string, number>(), new Map<string, number>()] as const;
  const add = (m: Map<string, number>, ns: string, v: number) => m.set(ns, (m.get(ns) ?? 0) + v);
  const stack = [QUOTA_ROOT];
  while (stack.length > 0) {
    const p = stack.pop()!;
    const n = getNode(p);
    if (n === undefined) continue;
    if (n.children !== null && n.children.size > 0) {
      for (const c of n.children.keys()) stack.push(`${p}/${c}`);
      continue;
    }
    const limit = p.endsWith(`/${LIMIT_NODE}`);
    if (!limit && !p.endsWith(`/${STATS_NODE}`)) continue;
    const ns = topNamespace(p.substring(QUOTA_ROOT.length));
    if (ns === null || n.data === null) continue;
    const t = StatsTrack.of(n.data);
    if (limit) {
      add(sums[0], ns, t.countHardLimit > -1 ? t.countHardLimit : t.count);
      add(sums[1], ns, t.byteHardLimit > -1 ? t.byteHardLimit : t.bytes);
    } else {
      add(sums[2], ns, t.count);
      add(sums[3], ns, t.bytes);
    }
  }
  return { countLimit: byNamespace(sums[0]), bytesLimit: byNamespace(sums[1]), countUsage: byNamespace(sums[2]), bytesUsage: byNamespace(sums[3]) };
}

/** A per-namespace map as [namespace, value] pairs in namespace order. */
export function byNamespace(m: ReadonlyMap<string, number>): [string, number][] {
  return [...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

export function quotaPathOf(path: string): string {
  return QUOTA_ROOT + path;
}
