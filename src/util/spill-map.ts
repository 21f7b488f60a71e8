// A Map that does not stop at V8's 2^24-entry ceiling. Entries go into the
// newest shard until it holds shardMax entries, then a new shard starts;
// lookups try shards newest first. With fewer than shardMax entries (the
// common case) it is one Map and one lookup. Real ZooKeeper trees reach
// 6-7 M znodes, and zoonode aims past 20 M.

export const spillShardMaxDefault = 1 << 23;

export class SpillMap<K, V> {
  private shards: Map<K, V>[] = [new Map()];
  private count = 0;

  constructor(private readonly shardMax = spillShardMaxDefault) {}

  /** A SpillMap whose first shard is `map` (taken over, not copied). */
  static adopt<K, V>(map: Map<K, V>, shardMax = spillShardMaxDefault): SpillMap<K, V> {
    const s = new SpillMap<K, V>(shardMax);
    s.shards = [map];
    s.count = map.size;
    return s;
  }

  get size(): number {
    return this.count;
  }

  get(key: K): V | undefined {
    const shards = this.shards;
    for (let i = shards.length - 1; i >= 0; i--) {
      const v = shards[i]!.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  /** Values are never undefined (get() uses undefined for absence). */
  set(key: K, value: V): this {
    const shards = this.shards;
    for (let i = shards.length - 1; i >= 0; i--) {
      const s = shards[i]!;
      if (s.has(key)) { s.set(key, value); return this; }
    }
    let last = shards[shards.length - 1]!;
    if (last.size >= this.shardMax) {
      last = new Map();
      shards.push(last);
    }
    last.set(key, value);
    this.count++;
    return this;
  }

  delete(key: K): boolean {
    const shards = this.shards;
    for (let i = shards.length - 1; i >= 0; i--) {
      if (shards[i]!.delete(key)) {
        this.count--;
        if (shards[i]!.size === 0 && shards.length > 1) shards.splice(i, 1);
        return true;
      }
    }
    return false;
  }

  clear(): void {
    this.shards = [new Map()];
    this.count = 0;
  }

  *entries(): IterableIterator<[K, V]> {
    for (const s of this.shards) yield* s.entries();
  }

  *keys(): IterableIterator<K> {
    for (const s of this.shards) yield* s.keys();
  }

  *values(): IterableIterator<V> {
    for (const s of this.shards) yield* s.values();
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  forEach(fn: (value: V, key: K) => void): void {
    for (const s of this.shards) s.forEach(fn);
  }
}
