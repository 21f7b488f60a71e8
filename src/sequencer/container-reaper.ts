// Deletes empty containers and expired TTL nodes, as Apache's ContainerManager:
// every znode.container.checkIntervalMs the candidates are collected and
// deleted one by one, at most znode.container.maxPerMinute a minute, each
// through a deleteContainer txn (which re-checks emptiness when prepped).
//
// The candidates are deleted in the order Apache's checkContainers takes
// them: a fresh HashSet<String> of them (containers first, then TTL nodes),
// so bucket order; within a bucket zoonode's own order stands in for that of
// Apache's ConcurrentHashMap of containers.
//
// Candidates:
//   - a container with no children that has had a child (cversion > 0), or,
//     with znode.container.maxNeverUsedIntervalMs set, one never used for
//     longer than that;
//   - a TTL node with no children whose mtime is older than its TTL.

import type { DataTree } from '../tree/data-tree.js';
import { EPHEMERAL_TTL, ephemeralType } from '../tree/znode.js';
import { hashSetOrder, tableAfterAdds } from '../util/java-hash-set.js';

export interface ReaperOptions {
  checkIntervalMs: number;
  maxPerMinute: number;
  maxNeverUsedIntervalMs: number;
}

/** The TTL (ms) stored in a TTL node's ephemeralOwner: the low 40 bits. */
export function ttlOf(ownerHi: number, ownerLo: number): number {
  return (ownerHi & 0xff) * 4294967296 + (ownerLo >>> 0);
}

export function reapCandidates(tree: DataTree, nowWallMs: number, maxNeverUsedIntervalMs: number): string[] {
  const out: string[] = [];
  for (const path of tree.containers) {
    const n = tree.getNode(path);
    if (n === undefined || n.children !== null) continue;
    if (n.cversion > 0) out.push(path);
    else if (maxNeverUsedIntervalMs !== 0 && nowWallMs - n.mtime > maxNeverUsedIntervalMs) out.push(path);
  }
  for (const path of tree.ttls) {
    const n = tree.getNode(path);
    if (n === undefined || n.children !== null) continue;
    if (ephemeralType(n.ownerHi, n.ownerLo, tree.extendedTypes) !== EPHEMERAL_TTL) continue;
    const ttl = ttlOf(n.ownerHi, n.ownerLo);
    if (ttl !== 0 && nowWallMs - n.mtime > ttl) out.push(path);
  }
  return hashSetOrder(out, tableAfterAdds(out.length));
}

export class ContainerReaper {
  private checkTimer: NodeJS.Timeout | null = null;
  private deleteTimer: NodeJS.Timeout | null = null;
  private queue: string[] = [];
  private stopped = false;

  constructor(
    private readonly tree: DataTree,
    private readonly wallMs: () => number,
    private readonly opts: ReaperOptions,
    private readonly submit: (path: string) => void,
  ) {}

  start(): void {
    this.checkTimer = setInterval(() => this.check(), this.opts.checkIntervalMs);
    this.checkTimer.unref();
  }

  /** Collect candidates and start deleting them, spaced to respect maxPerMinute. */
  check(): void {
    if (this.stopped || this.queue.length > 0) return;
    this.queue = reapCandidates(this.tree, this.wallMs(), this.opts.maxNeverUsedIntervalMs);
    this.next();
  }

  private next(): void {
    if (this.stopped || this.deleteTimer !== null) return;
    const path = this.queue.shift();
    if (path === undefined) return;
    this.submit(path);
    const spacing = Math.floor(60_000 / this.opts.maxPerMinute);
    this.deleteTimer = setTimeout(() => { this.deleteTimer = null; this.next(); }, spacing);
    this.deleteTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.checkTimer !== null) clearInterval(this.checkTimer);
    if (this.deleteTimer !== null) clearTimeout(this.deleteTimer);
  }
}
