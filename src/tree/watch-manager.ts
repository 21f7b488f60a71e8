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
// Delivery order: triggering collects the distinct watchers first and then
// calls each once, so a watcher matched at several levels gets one event.

import { SpillMap } from '../util/spill-map.js';

export const MODE_STANDARD = 1;
export const MODE_PERSISTENT = 2;
export const MODE_PERSISTENT_RECURSIVE = 4;

export interface Watcher {
  /** Deliver a WatchedEvent; aclRef names the ACL of the node the event is about (for delivery filtering). */
  process(eventType: number, path: string, zxid: number, aclRef: number): void;
  /** False once the connection is gone: adding a watch for it is a no-op. */
  readonly alive: boolean;
}

export class WatchManager {
  private readonly byPath = new SpillMap<string, Map<Watcher, number>>();
  private readonly byWatcher = new Map<Watcher, Map<string, number>>();
  private recursiveCount = 0;
  private watchCount = 0;

  /** Number of (path, watcher) pairs. */
  get size(): number {
    return this.watchCount;
  }

  get pathCount(): number {
    return this.byPath.size;
  }

  add(path: string, w: Watcher, mode: number): boolean {
    if (!w.alive) return false;
    let forward = this.byPath.get(path);
    if (forward === undefined) {
      forward = new Map();
      this.byPath.set(path, forward);
    }
    let paths = this.byWatcher.get(w);
    if (paths === undefined) {
      paths = new Map();
      this.byWatcher.set(w, paths);
    }
    const old = paths.get(path) ?? 0;
    const next = old | mode;
    if (next === old) return false;
    if (old === 0) this.watchCount++;
    paths.set(path, next);
    forward.set(w, next);
    if ((mode & MODE_PERSISTENT_RECURSIVE) !== 0 && (old & MODE_PERSISTENT_RECURSIVE) === 0) this.recursiveCount++;
    return true;
  }

  /** Fire the watches for an event on `path`. Returns the watchers notified (null if none). */
  trigger(path: string, eventType: number, zxid: number, aclRef: number, suppress: Set<Watcher> | null): Set<Watcher> | null {
    let hit: Set<Watcher> | null = null;
    // The node itself: every mode matches; one-shot watches are consumed.
    const forward = this.byPath.get(path);
    if (forward !== undefined) {
      for (const [w, mode] of forward) {
        (hit ??= new Set()).add(w);
        if ((mode & MODE_STANDARD) !== 0) {
          const rest = mode & ~MODE_STANDARD;
          const paths = this.byWatcher.get(w)!;
          if (rest === 0) {
            forward.delete(w);
            paths.delete(path);
            if (paths.size === 0) this.byWatcher.delete(w);
            this.watchCount--;
          } else {
            forward.set(w, rest);
            paths.set(path, rest);
          }
        }
      }
      if (forward.size === 0) this.byPath.delete(path);
    }
    // Ancestors: only recursive watches fire.
    if (this.recursiveCount > 0 && path.length > 1) {
      let p = path;
      for (;;) {
        const slash = p.lastIndexOf('/');
        if (slash <= 0) {
          if (p === '/') break;
          p = '/';
        } else {
          p = p.substring(0, slash);
        }
        const up = this.byPath.get(p);
        if (up !== undefined) {
          for (const [w, mode] of up) {
            if ((mode & MODE_PERSISTENT_RECURSIVE) !== 0) (hit ??= new Set()).add(w);
          }
        }
        if (p === '/') break;
      }
    }
    if (hit === null) return null;
    for (const w of hit) {
      if (suppress !== null && suppress.has(w)) continue;
      w.process(eventType, path, zxid, aclRef);
    }
    return hit;
  }

  /** Drop every watch of a watcher (its connection closed). */
  removeWatcher(w: Watcher): void {
    const paths = this.byWatcher.get(w);
    if (paths === undefined) return;
    this.byWatcher.delete(w);
    for (const [path, mode] of paths) {
      const forward = this.byPath.get(path);
      if (forward !== undefined) {
        forward.delete(w);
        if (forward.size === 0) this.byPath.delete(path);
      }
      if ((mode & MODE_PERSISTENT_RECURSIVE) !== 0) this.recursiveCount--;
      this.watchCount--;
    }
  }

  /** Modes a watcher holds on a path (0 if none). */
  modes(path: string, w: Watcher): number {
    return this.byWatcher.get(w)?.get(path) ?? 0;
  }

  /** Remove the given mode bits of one watcher on one path; true if any were held. */
  removeModes(path: string, w: Watcher, mode: number): boolean {
    const paths = this.byWatcher.get(w);
    const old = paths?.get(path) ?? 0;
    if ((old & mode) === 0) return false;
    const rest = old & ~mode;
    const forward = this.byPath.get(path)!;
    if ((old & MODE_PERSISTENT_RECURSIVE) !== 0 && (rest & MODE_PERSISTENT_RECURSIVE) === 0) this.recursiveCount--;
    if (rest === 0) {
      paths!.delete(path);
      if (paths!.size === 0) this.byWatcher.delete(w);
      forward.delete(w);
      if (forward.size === 0) this.byPath.delete(path);
      this.watchCount--;
    } else {
      paths!.set(path, rest);
      forward.set(w, rest);
    }
    return true;
  }

  /** Paths a watcher watches, with modes. */
  pathsOf(w: Watcher): ReadonlyMap<string, number> | undefined {
    return this.byWatcher.get(w);
  }

  watchersOf(path: string): ReadonlyMap<Watcher, number> | undefined {
    return this.byPath.get(path);
  }

  watcherCount(): number {
    return this.byWatcher.size;
  }

  *watchers(): IterableIterator<[Watcher, ReadonlyMap<string, number>]> {
    yield* this.byWatcher.entries();
  }
}
