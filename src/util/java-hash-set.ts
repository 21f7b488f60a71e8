// The iteration order of a java.util.HashSet<String>, for the sets whose
// order Apache ZooKeeper shows its clients: a node's children (getChildren,
// and the order a snapshot lists nodes in) and a session's ephemeral paths
// (getEphemerals, the order a closed or expired session's ephemerals are
// deleted and their watches fire, the dump four-letter word).
//
// A HashSet is a HashMap: a table of 2^k buckets (16 at first, 8 for a
// DataNode's children; doubled when the size passes 3/4 of it, never
// shrunk), a key's bucket is the low k bits of String.hashCode() ^
// (hashCode >>> 16), and a bucket keeps its keys in the order they were added
// (a doubling splits each bucket and keeps that order). So the set iterates
// its members in insertion order, stably sorted by bucket. clone() re-buckets
// into a table sized for the copy's size. (A bucket that reaches 9 keys turns
// into a tree, or doubles a table of fewer than 64 buckets: not modelled.)

/** Java's String.hashCode. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** Java's String.hashCode, spread as HashMap.hash() does. */
function spreadHash(s: string): number {
  const h = javaStringHash(s);
  return h ^ (h >>> 16);
}

/** The table size after an add brought the set to `size` members: doubled once past 3/4 full. */
export function grown(capacity: number, size: number): number {
  return size > capacity * 0.75 ? capacity * 2 : capacity;
}

/** HashMap.tableSizeFor: the least power of two >= n (at least 1). */
function tableSizeFor(n: number): number {
  let c = 1;
  while (c < n) c *= 2;
  return c;
}

/** Members with their spread hashes, in some order. */
interface Hashed {
  members: string[];
  hashes: Int32Array;
}

function hashed(members: string[]): Hashed {
  const hashes = new Int32Array(members.length);
  for (let i = 0; i < members.length; i++) hashes[i] = spreadHash(members[i]!);
  return { members, hashes };
}

/**
 * For spread hashes listed in the order their members went in: the
 * positions in the order a table of `capacity` buckets iterates them. A
 * stable counting sort by bucket, linear in the members and the buckets (a
 * session may own hundreds of thousands of ephemerals, a node as many
 * children).
 */
function bucketPermutation(hashes: Int32Array, capacity: number): Int32Array {
  const n = hashes.length;
  const mask = capacity - 1;
  const starts = new Int32Array(capacity + 1);
  for (let i = 0; i < n; i++) starts[(hashes[i]! & mask) + 1]!++;
  for (let b = 0; b < capacity; b++) starts[b + 1]! += starts[b]!;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[starts[hashes[i]! & mask]!++] = i;
  return order;
}

/** The members (in the order they went in) as a table of `capacity` buckets iterates them. */
function bucketOrder(h: Hashed, capacity: number): Hashed {
  const order = bucketPermutation(h.hashes, capacity);
  const n = order.length;
  const members = new Array<string>(n);
  const hashes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    members[i] = h.members[order[i]!]!;
    hashes[i] = h.hashes[order[i]!]!;
  }
  return { members, hashes };
}

/** The table size of a HashSet that started with `initial` buckets after `n` adds of distinct members. */
export function tableAfterAdds(n: number, initial = 16): number {
  let capacity = initial;
  while (n > capacity * 0.75) capacity *= 2;
  return capacity;
}

/**
 * The positions of `members` (listed in the order they went in) in the order
 * a HashSet of `capacity` buckets iterates them; null when that is the order
 * they are in.
 */
export function hashSetPermutation(members: readonly string[], capacity: number): Int32Array | null {
  const n = members.length;
  if (n < 2) return null;
  const mask = capacity - 1;
  const hashes = new Int32Array(n);
  let prev = -1;
  let sorted = true;
  for (let i = 0; i < n; i++) {
    const h = spreadHash(members[i]!);
    hashes[i] = h;
    if ((h & mask) < prev) sorted = false;
    prev = h & mask;
  }
  return sorted ? null : bucketPermutation(hashes, capacity);
}

/** `members`, listed in the order they went in, as a HashSet of `capacity` buckets iterates them (`members` itself if unchanged). */
export function hashSetOrder(members: string[], capacity: number): string[] {
  const order = hashSetPermutation(members, capacity);
  if (order === null) return members;
  const out = new Array<string>(order.length);
  for (let i = 0; i < order.length; i++) out[i] = members[order[i]!]!;
  return out;
}

/** A set of strings that knows the order Java's HashSet would give it. */
export class JavaHashSet {
  private readonly members = new Set<string>();
  /** The table size Java's set would have now. */
  private capacity = 16;

  get size(): number {
    return this.members.size;
  }

  has(s: string): boolean {
    return this.members.has(s);
  }

  add(s: string): void {
    if (this.members.has(s)) return;
    this.members.add(s);
    this.capacity = grown(this.capacity, this.members.size);
  }

  delete(s: string): boolean {
    return this.members.delete(s);
  }

  /** Members in insertion order (no Java meaning; for counting and lookups). */
  [Symbol.iterator](): IterableIterator<string> {
    return this.members.values();
  }

  /** The set's own iteration order. */
  order(): string[] {
    return this.ordered().members;
  }

  private ordered(): Hashed {
    return bucketOrder(hashed([...this.members]), this.capacity);
  }

  /**
   * The order of `set.clone()`, changed by `add` and `remove` calls made on
   * the clone in the order given (a path added by the clone goes after the
   * members it has).
   */
  cloneOrder(changes: readonly (readonly [add: boolean, path: string])[] = []): string[] {
    const own = this.ordered();
    const n = own.members.length;
    let capacity = n === 0 ? 16 : tableSizeFor(Math.trunc(Math.fround(Math.fround(n / 0.75) + 1)));
    if (changes.length === 0) return bucketOrder(own, capacity).members;
    const copy = new Set(own.members);
    for (const [add, path] of changes) {
      if (!add) {
        copy.delete(path);
      } else if (!copy.has(path)) {
        copy.add(path);
        capacity = grown(capacity, copy.size);
      }
    }
    return bucketOrder(hashed([...copy]), capacity).members;
  }
}
