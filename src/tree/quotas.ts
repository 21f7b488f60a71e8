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
    return new StatsTrack(data === null ? '' : Buffer.from(data, 'latin1').toString('utf8'));
  }

  get(key: string): number {
    return this.values.get(key) ?? -1;
  }

  get count(): number { return this.get('count'); }
  get bytes(): number { return this.get('bytes'); }
  get countHardLimit(): number { return this.get('countHardLimit'); }
  get byteHardLimit(): number { return this.get('byteHardLimit'); }
}

/** What the server writes into zookeeper_stats. */
export function statsBytes(count: number, bytes: number): string {
  return `count=${count},bytes=${bytes}`;
}

export function quotaPathOf(path: string): string {
  return QUOTA_ROOT + path;
}
