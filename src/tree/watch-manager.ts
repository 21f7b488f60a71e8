// Watches on paths, for one kind (data+exist watches, or child watches), in
// the shape of Apache's WatchManager: a forward table path → watchers with
// their modes, and a reverse table watcher → paths so a closed connection
// drops its watches in time proportional to its own watches.
//
// Modes are bits: STANDARD (one-shot, removed when it fires), PERSISTENT and
// PERSISTENT_RECURSIVE (stay until removed; recursive ones also fire for
// every descendant). No single Map holds paths × watchers entries, and the
// path-keyed table is a SpillMap, so neither side meets V8's 2^24 ceiling.
//
// Memory: most paths have one watcher and most connections watch few paths,
// so a table entry holding one pair stores it inline (an Entry) and becomes a
// Map only when a second pair arrives.
//
// Delivery order: triggering collects the distinct watchers first and then
// calls each once, so a watcher matched at several levels gets one event.

import { SpillMap } from '../util/spill-map.js';
import type { ACL } from '../jute/records.js';

export const MODE_STANDARD = 1;
export const MODE_PERSISTENT = 2;
export const MODE_PERSISTENT_RECURSIVE = 4;

export interface Watcher {
  /** Deliver a WatchedEvent; acl is the ACL of the node the event is about (for delivery filtering). */
  process(eventType: number, path: string, zxid: number, acl: readonly ACL[]): void;
  /** False once the connection is gone: adding a watch for it is a no-op. */
  readonly alive: boolean;
}

/** A table slot with one (key, mode) pair. */
class Entry<K> {
  constructor(public key: K, public mode: number) {}
}

/** One side of the index: K → (V → mode), a slot being an Entry or a Map. */
class Table<K, V> {
  constructor(private readonly map: Map<K, Entry<V> | Map<V, number>> | SpillMap<K, Entry<V> | Map<V, number>>) {}

  get size(): number {
    return this.map.size;
  }

  mode(k: K, v: V): number {
    const slot = this.map.get(k);
    if (slot === undefined) return 0;
    if (slot instanceof Entry) return slot.key === v ? slot.mode : 0;
    return slot.get(v) ?? 0;
  }

  /** Set the mode of (k, v); 0 removes the pair. */
  set(k: K, v: V, mode: number): void {
    const slot = this.map.get(k);
    if (mode === 0) {
      if (slot === undefined) return;
      if (slot instanceof Entry) {
        if (slot.key === v) this.map.delete(k);
        return;
      }
      slot.delete(v);
      this.settle(k, slot);
      return;
    }
    if (slot === undefined) {
      this.map.set(k, new Entry(v, mode));
    } else if (slot instanceof Entry) {
      if (slot.key === v) slot.mode = mode;
      else this.map.set(k, new Map([[slot.key, slot.mode], [v, mode]]));
    } else {
      slot.set(v, mode);
    }
  }

  /**
   * Visit every pair under k with its mode, and take the STANDARD bit off
   * each in this table (dropping pairs left with no mode). One pass over the
   * slot and at most one delete of k, however many pairs it holds: a fired
   * path's one-shot watchers all go at once instead of one Map delete (and
   * the Map shrinking) per watcher. The visitor must not change this table.
   */
  fire(k: K, visit: (v: V, mode: number) => void): void {
    const slot = this.map.get(k);
    if (slot === undefined) return;
    if (slot instanceof Entry) {
      visit(slot.key, slot.mode);
      const next = slot.mode & ~MODE_STANDARD;
      if (next === 0) this.map.delete(k);
      else slot.mode = next;
      return;
    }
    let kept = 0;
    for (const [v, mode] of slot) {
      visit(v, mode);
      if ((mode & ~MODE_STANDARD) !== 0) kept++;
    }
    if (kept === 0) {
      this.map.delete(k);
      return;
    }
    // Deleting the entry being visited is allowed while iterating a Map.
    for (const [v, mode] of slot) {
      const next = mode & ~MODE_STANDARD;
      if (next === 0) slot.delete(v);
      else if (next !== mode) slot.set(v, next);
    }
    this.settle(k, slot);
  }

  /** After pairs left k's Map slot: one pair left goes back inline (an Entry), none drops k. */
  private settle(k: K, slot: Map<V, number>): void {
    if (slot.size === 1) {
      const [[key, m]] = slot;
      this.map.set(k, new Entry(key, m));
    } else if (slot.size === 0) {
      this.map.delete(k);
    }
  }

  /** The pairs under k (a copy when k is changed while iterating is allowed). */
  pairs(k: K): [V, number][] {
    const slot = this.map.get(k);
    if (slot === undefined) return [];
    if (slot instanceof Entry) return [[slot.key, slot.mode]];
    return [...slot];
  }

  take(k: K): [V, number][] {
    const p = this.pairs(k);
    this.map.delete(k);
    return p;
  }

  has(k: K): boolean {
    return this.map.get(k) !== undefined;
  }

  view(k: K): ReadonlyMap<V, number> | undefined {
    const slot = this.map.get(k);
    if (slot === undefined) return undefined;
    return slot instanceof Entry ? new Map([[slot.key, slot.mode]]) : slot;
  }

  *keys(): IterableIterator<K> {
    yield* this.map.keys();
  }
}

const NO_PATHS: ReadonlyMap<string, number> = new Map();

export class WatchManager {
  private readonly byPath = new Table<string, Watcher>(new SpillMap());
  private readonly byWatcher = new Table<Watcher, string>(new Map());
  /**
   * Watchers that have added a watch here, until removeWatcher (their
   * connection closed): Apache's watch2Paths keeps a connection's entry,
   * empty or not, that long, and wchs, wchc and the watch summary count and
   * list those entries.
   */
  private readonly watching = new Set<Watcher>();
  private recursiveCount = 0;
  private watchCount = 0;

  /** Number of (path, watcher) pairs. */
  get size(): number {
    return this.watchCount;
  }

  /** (path, watcher) pairs with a persistent recursive watch. */
  get recursiveWatches(): number {
    return this.recursiveCount;
  }

  get pathCount(): number {
    return this.byPath.size;
  }

  /** Watchers that have watched a path here since they connected (Apache's "connections watching"). */
  watcherCount(): number {
    return this.watching.size;
  }

  private setMode(path: string, w: Watcher, old: number, next: number): void {
    if (old === next) return;
    this.byPath.set(path, w, next);
    this.noteMode(path, w, old, next);
  }

  /** A mode change on the watcher side and in the counts (the caller has changed the path side). */
  private noteMode(path: string, w: Watcher, old: number, next: number): void {
    this.byWatcher.set(w, path, next);
    if (old === 0) this.watchCount++;
    if (next === 0) this.watchCount--;
    const wasRecursive = (old & MODE_PERSISTENT_RECURSIVE) !== 0;
    const isRecursive = (next & MODE_PERSISTENT_RECURSIVE) !== 0;
    if (isRecursive && !wasRecursive) this.recursiveCount++;
    if (wasRecursive && !isRecursive) this.recursiveCount--;
  }

  add(path: string, w: Watcher, mode: number): boolean {
    if (!w.alive) return false;
    this.watching.add(w);
    const old = this.byWatcher.mode(w, path);
    const next = old | mode;
    if (next === old) return false;
    this.setMode(path, w, old, next);
    return true;
  }

  /**
   * Fire the watches for an event on `path`. Returns the distinct watchers
   * notified (null if none), suppressed ones included.
   */
  trigger(path: string, eventType: number, zxid: number, acl: readonly ACL[], suppress: ReadonlySet<Watcher> | null): Watcher[] | null {
    let hit: Watcher[] | null = null;
    // The node itself: every mode matches; one-shot watches are consumed.
    // A path holds each watcher once, so these are distinct.
    this.byPath.fire(path, (w, mode) => {
      (hit ??= []).push(w);
      if ((mode & MODE_STANDARD) !== 0) this.noteMode(path, w, mode, mode & ~MODE_STANDARD);
    });
    // Ancestors: only recursive watches fire, each watcher once in all.
    if (this.recursiveCount > 0 && path.length > 1) {
      const seen = new Set<Watcher>(hit ?? []);
      let p = path;
      for (;;) {
        const slash = p.lastIndexOf('/');
        p = slash <= 0 ? '/' : p.substring(0, slash);
        for (const [w, mode] of this.byPath.pairs(p)) {
          if ((mode & MODE_PERSISTENT_RECURSIVE) === 0 || seen.has(w)) continue;
          seen.add(w);
          (hit ??= []).push(w);
        }
        if (p === '/') break;
      }
    }
    if (hit === null) return null;
    for (const w of hit as Watcher[]) {
      if (suppress !== null && suppress.has(w)) continue;
      w.process(eventType, path, zxid, acl);
    }
    return hit;
  }

  /** Drop every watch of a watcher (its connection closed). */
  removeWatcher(w: Watcher): void {
    this.watching.delete(w);
    for (const [path, mode] of this.byWatcher.take(w)) {
      this.byPath.set(path, w, 0);
      if ((mode & MODE_PERSISTENT_RECURSIVE) !== 0) this.recursiveCount--;
      this.watchCount--;
    }
  }

  /** Modes a watcher holds on a path (0 if none). */
  modes(path: string, w: Watcher): number {
    return this.byWatcher.mode(w, path);
  }

  /** Remove the given mode bits of one watcher on one path; true if any were held. */
  removeModes(path: string, w: Watcher, mode: number): boolean {
    const old = this.byWatcher.mode(w, path);
    if ((old & mode) === 0) return false;
    this.setMode(path, w, old, old & ~mode);
    return true;
  }

  /** Paths a watcher watches, with modes. */
  pathsOf(w: Watcher): ReadonlyMap<string, number> | undefined {
    return this.byWatcher.view(w);
  }

  watchersOf(path: string): ReadonlyMap<Watcher, number> | undefined {
    return this.byPath.view(path);
  }

  /** Every watcher that has watched here since it connected, with the paths it watches now (perhaps none). */
  *watchers(): IterableIterator<[Watcher, ReadonlyMap<string, number>]> {
    for (const w of this.watching) yield [w, this.byWatcher.view(w) ?? NO_PATHS];
  }

  *paths(): IterableIterator<[string, ReadonlyMap<Watcher, number>]> {
    for (const p of this.byPath.keys()) yield [p, this.byPath.view(p)!];
  }
}
