// ACL lists are interned: every node holds a number naming its list, as in
// Apache's ReferenceCountedACLCache, whose numbering the snapshot format
// carries. -1 names OPEN_ACL_UNSAFE without an entry (the built-in nodes);
// any list a client sends, even the open one, gets an index from 1 up.

import type { ACL } from '../jute/records.js';
import { Perms } from '../jute/opcodes.js';

export const OPEN_ACL_UNSAFE: readonly ACL[] = Object.freeze([{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }]);
export const READ_ACL_UNSAFE: readonly ACL[] = Object.freeze([{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }]);
export const OPEN_UNSAFE_ACL_REF = -1;
const NO_ACL: readonly ACL[] = Object.freeze([]);

function keyOf(acls: readonly ACL[]): string {
  let k = '';
  for (const a of acls) k += `${a.perms}\u0000${a.id.scheme}\u0000${a.id.id}\u0001`;
  return k;
}

export class AclCache {
  private byRef = new Map<number, readonly ACL[]>();
  private byKey = new Map<string, number>();
  private refCount = new Map<number, number>();
  private nextIndex = 0;

  /** Intern a list and count one more user of it. */
  convert(acls: readonly ACL[] | null): number {
    if (acls === null) return OPEN_UNSAFE_ACL_REF;
    const key = keyOf(acls);
    let ref = this.byKey.get(key);
    if (ref === undefined) {
      ref = ++this.nextIndex;
      this.byRef.set(ref, acls);
      this.byKey.set(key, ref);
    }
    this.addUsage(ref);
    return ref;
  }

  get(ref: number): readonly ACL[] {
    if (ref === OPEN_UNSAFE_ACL_REF) return OPEN_ACL_UNSAFE;
    const acls = this.byRef.get(ref);
    if (acls === undefined) throw new Error(`ACL reference ${ref} is not in the cache`);
    return acls;
  }

  /**
   * A list for the watch READ filter, never throwing: a reference the cache
   * does not know yet (a node that a fuzzy snapshot caught after the
   * snapshot's ACL map was written, until the replay of its create re-points
   * it) gives the empty list, which lets everyone read, as Apache's check
   * does for an empty ACL. No watcher exists while the logs are replayed.
   */
  forWatchers(ref: number): readonly ACL[] {
    if (ref === OPEN_UNSAFE_ACL_REF) return OPEN_ACL_UNSAFE;
    return this.byRef.get(ref) ?? NO_ACL;
  }

  addUsage(ref: number): void {
    if (ref === OPEN_UNSAFE_ACL_REF) return;
    this.refCount.set(ref, (this.refCount.get(ref) ?? 0) + 1);
  }

  removeUsage(ref: number): void {
    if (ref === OPEN_UNSAFE_ACL_REF) return;
    const n = (this.refCount.get(ref) ?? 0) - 1;
    if (n > 0) {
      this.refCount.set(ref, n);
      return;
    }
    const acls = this.byRef.get(ref);
    this.refCount.delete(ref);
    this.byRef.delete(ref);
    if (acls !== undefined) this.byKey.delete(keyOf(acls));
  }

  /** Restore an entry with its original number (snapshot load). */
  restore(ref: number, acls: readonly ACL[]): void {
    this.byRef.set(ref, acls);
    this.byKey.set(keyOf(acls), ref);
    if (ref > this.nextIndex) this.nextIndex = ref;
  }

  get size(): number {
    return this.byRef.size;
  }

  /** Drop every entry (before loading a snapshot). */
  clear(): void {
    this.byRef.clear();
    this.byKey.clear();
    this.refCount.clear();
    this.nextIndex = 0;
  }

  /** Count a user of a restored reference; unknown references are left for log replay to fix. */
  addRestoredUsage(ref: number): void {
    if (ref === OPEN_UNSAFE_ACL_REF || !this.byRef.has(ref)) return;
    this.addUsage(ref);
  }

  /** After a snapshot load: forget lists no node uses. */
  purgeUnused(): void {
    for (const ref of [...this.byRef.keys()]) {
      if ((this.refCount.get(ref) ?? 0) === 0) {
        const acls = this.byRef.get(ref)!;
        this.byRef.delete(ref);
        this.byKey.delete(keyOf(acls));
      }
    }
  }

  entries(): IterableIterator<[number, readonly ACL[]]> {
    return this.byRef.entries();
  }
}
