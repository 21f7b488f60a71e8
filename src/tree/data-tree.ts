// The DataTree: znodes reached from the root through each node's children by
// name, and the deterministic application of committed txns. Unlike Apache,
// there is no map from full path to node: a lookup walks the path's segments
// (a few small-map lookups), which costs about what one lookup in a map of
// millions costs, saves the full path string and its map entry per node
// (about 140 bytes of a ~480-byte node), lets no single Map pass V8's 2^24
// entries, and makes tree walks (snapshots, counts) follow references. Applying a txn fires the
// watches it triggers, synchronously and in Apache's order (NodeCreated then
// the parent's NodeChildrenChanged; NodeDeleted on data then child watchers,
// then the parent's NodeChildrenChanged), so a watcher's event is emitted
// before the reply of the write that caused it.
//
// Invariants:
//   - the root ("/", alias ""), /zookeeper, /zookeeper/quota and
//     /zookeeper/config exist from construction;
//   - every node but the root is in its parent's children map by name, and
//     is reachable only that way; count is the number of nodes (root included);
//   - lastProcessedZxid only grows and is set after a whole txn (a whole
//     multi) has been applied;
//   - the tree never reads the clock: times come from txn headers.

import { OpCode, EventType } from '../jute/opcodes.js';
import { Err, KeeperError } from '../jute/errors.js';
import type { ACL } from '../jute/records.js';
import type { Txn, TxnHeader } from '../jute/txn.js';
import { hiLoToBigInt } from '../util/long.js';
import { JavaHashSet } from '../util/java-hash-set.js';
import { AclCache, OPEN_UNSAFE_ACL_REF, READ_ACL_UNSAFE } from './acl-cache.js';
import { CONFIG_PATH, PROC_PATH, QUOTA_PATH } from './paths.js';
import { WatchManager, MODE_STANDARD, type Watcher } from './watch-manager.js';
import { LIMIT_NODE, QUOTA_ROOT, STATS_NODE, StatsTrack, quotaPathOf, statsBytes, statsRewritten } from './quotas.js';
import { Logger } from '../util/log.js';

const log = new Logger('tree');
import {
  ZNode, EPHEMERAL_CONTAINER, EPHEMERAL_SESSION, EPHEMERAL_TTL, ephemeralType,
} from './znode.js';

/** A copy of a node's stat at one moment (results of writes, which a later sub-op may change). */
export class NodeStat {
  constructor(
    readonly czxid: number, readonly mzxid: number, readonly ctime: number, readonly mtime: number,
    readonly version: number, readonly cversion: number, readonly aversion: number,
    readonly ownerHi: number, readonly ownerLo: number,
    readonly dataLength: number, readonly numChildren: number, readonly pzxid: number,
  ) {}

  static of(n: ZNode, extendedTypes: boolean): NodeStat {
    const nc = n.numChildren;
    const session = ephemeralType(n.ownerHi, n.ownerLo, extendedTypes) === EPHEMERAL_SESSION;
    return new NodeStat(n.czxid, n.mzxid, n.ctime, n.mtime, n.version, n.cversion * 2 - nc, n.aversion,
      session ? n.ownerHi : 0, session ? n.ownerLo : 0, n.dataLength, nc, n.pzxid);
  }
}

export interface ApplyResult {
  type: number;
  err: number;
  path: string | null;
  stat: NodeStat | null;
  multi: ApplyResult[] | null;
}

export interface DataTreeOptions {
  extendedTypes: boolean;
}

export class DataTree {
  /** Nodes in the tree, the root and the built-in nodes included. */
  private count = 0;
  readonly aclCache = new AclCache();
  readonly dataWatches = new WatchManager();
  readonly childWatches = new WatchManager();
  /**
   * Session id → paths of its ephemeral nodes, in Apache's HashSet order.
   * A session keeps its (perhaps empty) set until it closes, as in Apache,
   * whose dump lists such a session with no paths.
   */
  readonly ephemerals = new Map<bigint, JavaHashSet>();
  readonly containers = new Set<string>();
  readonly ttls = new Set<string>();
  root: ZNode;
  lastProcessedZxid = 0;
  /** Sum over nodes of path length + data length, as Apache's approximate_data_size. */
  approximateDataSize = 0;
  /** Paths with a quota (a zookeeper_limits node under /zookeeper/quota). */
  readonly quotaPaths = new Set<string>();
  readonly extendedTypes: boolean;

  constructor(opts: DataTreeOptions) {
    this.extendedTypes = opts.extendedTypes;
    const empty = '';
    this.root = new ZNode(empty, OPEN_UNSAFE_ACL_REF, 0, 0, 0, 0);
    const proc = new ZNode(empty, OPEN_UNSAFE_ACL_REF, 0, 0, 0, 0);
    this.root.addChild(PROC_PATH.substring(1), proc);
    const quota = new ZNode(empty, OPEN_UNSAFE_ACL_REF, 0, 0, 0, 0);
    proc.addChild(QUOTA_PATH.substring(PROC_PATH.length + 1), quota);
    const config = new ZNode(empty, OPEN_UNSAFE_ACL_REF, 0, 0, 0, 0);
    proc.addChild(CONFIG_PATH.substring(PROC_PATH.length + 1), config);
    this.count = 4;
    // The config node is readable by all and writable by none (ZOOKEEPER-2014);
    // Apache sets it with setACL(..., version -1), which leaves aversion at -1.
    config.acl = this.aclCache.convert(READ_ACL_UNSAFE.slice());
    config.aversion = -1;
    this.approximateDataSize = PROC_PATH.length + QUOTA_PATH.length + CONFIG_PATH.length + 1;
  }

  get nodeCount(): number {
    return this.count;
  }

  /**
   * The node at a path, or undefined. "" and "/" are the root; any other
   * path must be "/" followed by non-empty segments separated by "/" (so
   * "/a/", "/a//b" and "a" resolve to nothing, as in Apache's map).
   */
  getNode(path: string): ZNode | undefined {
    const len = path.length;
    if (len <= 1) return len === 0 || path.charCodeAt(0) === 47 ? this.root : undefined;
    if (path.charCodeAt(0) !== 47) return undefined;
    let node = this.root;
    let start = 1;
    for (;;) {
      const children = node.children;
      if (children === null) return undefined;
      const slash = path.indexOf('/', start);
      if (slash < 0) return children.get(path.substring(start));
      if (slash === start) return undefined;
      const next = children.get(path.substring(start, slash));
      if (next === undefined) return undefined;
      node = next;
      start = slash + 1;
    }
  }

  /** Every node with its path, parents before children (the root as "/"). For tools and tests: it builds every path. */
  *walk(): IterableIterator<[string, ZNode]> {
    yield ['/', this.root];
    const stack: [string, ZNode][] = [['', this.root]];
    while (stack.length > 0) {
      const [prefix, node] = stack.pop()!;
      if (node.children === null) continue;
      for (const [name, child] of node.children) {
        const path = `${prefix}/${name}`;
        yield [path, child];
        if (child.children !== null) stack.push([path, child]);
      }
    }
  }

  aclOf(n: ZNode): readonly ACL[] {
    return this.aclCache.get(n.acl);
  }

  // ---- mutations (from committed txns only) ---------------------------------

  /**
   * Add a node. With `rc`, the reply's stat is taken once the node is in
   * place and before the quota bookkeeping, as Apache copies it: a
   * zookeeper_stats node's create answers with the length of the data the
   * client sent, though the server has already rewritten it with the count.
   */
  createNode(
    path: string, data: string | null, acl: ACL[] | null, ownerHi: number, ownerLo: number,
    parentCVersion: number, zxid: number, time: number, rc: ApplyResult | null = null,
  ): ZNode {
    const slash = path.lastIndexOf('/');
    const parentName = path.substring(0, slash);
    const name = path.substring(slash + 1);
    const parent = this.getNode(parentName);
    if (parent === undefined) throw new KeeperError(Err.NONODE, path);
    const aclRef = this.aclCache.convert(acl);
    const existing = parent.children === null ? undefined : parent.children.get(name);
    if (existing !== undefined) {
      // Apache re-points the existing node's ACL here (fuzzy snapshot replay).
      existing.acl = aclRef;
      throw new KeeperError(Err.NODEEXISTS, path);
    }
    if (parentCVersion === -1) parentCVersion = parent.cversion + 1;
    // Replay over a fuzzy snapshot may see an older create: never move back.
    if (parentCVersion > parent.cversion) {
      parent.cversion = parentCVersion;
      parent.pzxid = zxid;
    }
    const node = new ZNode(data, aclRef, zxid, time, ownerHi, ownerLo);
    parent.addChild(name, node);
    this.count++;
    this.approximateDataSize += path.length + (data === null ? 0 : data.length);
    switch (ephemeralType(ownerHi, ownerLo, this.extendedTypes)) {
      case EPHEMERAL_CONTAINER: this.containers.add(path); break;
      case EPHEMERAL_TTL: this.ttls.add(path); break;
      case EPHEMERAL_SESSION: {
        const id = hiLoToBigInt(ownerHi, ownerLo);
        let set = this.ephemerals.get(id);
        if (set === undefined) { set = new JavaHashSet(); this.ephemerals.set(id, set); }
        set.add(path);
        break;
      }
    }
    if (rc !== null) rc.stat = NodeStat.of(node, this.extendedTypes);
    if (parentName.startsWith(QUOTA_ROOT)) {
      if (name === LIMIT_NODE) this.quotaPaths.add(parentName.substring(QUOTA_ROOT.length));
      if (name === STATS_NODE) this.recountQuota(parentName.substring(QUOTA_ROOT.length));
    }
    this.updateQuotaStats(path, data === null ? 0 : data.length, 1);
    // Watchers get an event only if they may READ its node (the parent, for a children change).
    this.dataWatches.trigger(path, EventType.NodeCreated, zxid, this.aclCache.forWatchers(aclRef), null);
    this.childWatches.trigger(parentName === '' ? '/' : parentName, EventType.NodeChildrenChanged, zxid, this.aclCache.forWatchers(parent.acl), null);
    return node;
  }

  deleteNode(path: string, zxid: number): void {
    const slash = path.lastIndexOf('/');
    const parentName = path.substring(0, slash);
    const name = path.substring(slash + 1);
    const parent = this.getNode(parentName);
    if (parent === undefined) throw new KeeperError(Err.NONODE, path);
    const node = parent.children === null ? undefined : parent.children.get(name);
    // Even when the child is already gone (fuzzy replay), pzxid moves forward.
    parent.removeChild(name);
    if (zxid > parent.pzxid) parent.pzxid = zxid;
    if (node === undefined) throw new KeeperError(Err.NONODE, path);
    if (node.children !== null && node.children.size > 0) {
      // Only in replay over a fuzzy snapshot: the snapshot caught the node
      // with children that a later txn of the log will re-create (prep never
      // lets a node with children be deleted). They go with it, unreachable.
      const stack: [string, ZNode][] = [[path, node]];
      while (stack.length > 0) {
        const [p, n] = stack.pop()!;
        if (n.children === null) continue;
        for (const [childName, child] of n.children) {
          const childPath = `${p}/${childName}`;
          this.forget(childPath, child);
          stack.push([childPath, child]);
        }
      }
    }
    // The node's ACL, read before forget() may drop its last use from the cache.
    const acl = this.aclCache.forWatchers(node.acl);
    this.forget(path, node);
    const notified = this.dataWatches.trigger(path, EventType.NodeDeleted, zxid, acl, null);
    this.childWatches.trigger(path, EventType.NodeDeleted, zxid, acl, notified === null ? null : new Set(notified));
    this.childWatches.trigger(parentName === '' ? '/' : parentName, EventType.NodeChildrenChanged, zxid, this.aclCache.forWatchers(parent.acl), null);
  }

  /** The bookkeeping of a node leaving the tree (counts, ACL use, ephemerals, quotas); no watches. */
  private forget(path: string, node: ZNode): void {
    this.count--;
    this.aclCache.removeUsage(node.acl);
    this.approximateDataSize -= path.length + node.dataLength;
    switch (ephemeralType(node.ownerHi, node.ownerLo, this.extendedTypes)) {
      case EPHEMERAL_CONTAINER: this.containers.delete(path); break;
      case EPHEMERAL_TTL: this.ttls.delete(path); break;
      case EPHEMERAL_SESSION: {
        const id = hiLoToBigInt(node.ownerHi, node.ownerLo);
        this.ephemerals.get(id)?.delete(path);
        break;
      }
    }
    const slash = path.lastIndexOf('/');
    const parentName = path.substring(0, slash);
    if (parentName.startsWith(PROC_PATH) && path.substring(slash + 1) === LIMIT_NODE) this.quotaPaths.delete(parentName.substring(QUOTA_ROOT.length));
    this.updateQuotaStats(path, -node.dataLength, -1);
  }

  setData(path: string, data: string | null, version: number, zxid: number, time: number): ZNode {
    const node = this.getNode(path);
    if (node === undefined) throw new KeeperError(Err.NONODE, path);
    const bytesDiff = (data === null ? 0 : data.length) - node.dataLength;
    this.approximateDataSize += bytesDiff;
    node.data = data;
    node.mtime = time;
    node.mzxid = zxid;
    node.version = version;
    this.updateQuotaStats(path, bytesDiff, 0);
    this.dataWatches.trigger(path, EventType.NodeDataChanged, zxid, this.aclCache.forWatchers(node.acl), null);
    return node;
  }

  setACL(path: string, acl: ACL[], version: number): ZNode {
    const node = this.getNode(path);
    if (node === undefined) throw new KeeperError(Err.NONODE, path);
    this.aclCache.removeUsage(node.acl);
    node.aversion = version;
    node.acl = this.aclCache.convert(acl);
    return node;
  }

  /** Delete a session's ephemerals (closeSession / expiry). */
  killSession(idHi: number, idLo: number, zxid: number, listed: readonly string[] | null): void {
    const paths = this.sessionDeletionOrder(idHi, idLo, listed);
    this.ephemerals.delete(hiLoToBigInt(idHi, idLo));
    for (const p of paths) {
      try {
        this.deleteNode(p, zxid);
      } catch (e) {
        if (!(e instanceof KeeperError && e.code === Err.NONODE)) throw e;
      }
    }
  }

  /**
   * The paths a closeSession deletes, in order: those its txn lists, then
   * any other ephemeral of the session in its set's order (as Apache's
   * killSession goes).
   */
  sessionDeletionOrder(idHi: number, idLo: number, listed: readonly string[] | null): string[] {
    const local = this.ephemerals.get(hiLoToBigInt(idHi, idLo));
    if (listed === null) return local === undefined ? [] : local.order();
    const paths = listed.slice();
    if (local === undefined || local.size === 0) return paths;
    // The txn lists them all but for a rare one created behind it: order only then.
    const inTxn = new Set(listed);
    let extra = false;
    for (const p of local) if (!inTxn.has(p)) { extra = true; break; }
    if (extra) for (const p of local.order()) if (!inTxn.has(p)) paths.push(p);
    return paths;
  }

  /** Ephemeral paths owned by a session (an empty set if it has none). */
  ephemeralsOf(idHi: number, idLo: number): JavaHashSet {
    return this.ephemerals.get(hiLoToBigInt(idHi, idLo)) ?? new JavaHashSet();
  }

  // ---- txn application --------------------------------------------------------

  /** Apply one committed txn. Errors inside come back in `err` (replay may legitimately hit them). */
  processTxn(hdr: TxnHeader, txn: Txn | null): ApplyResult {
    const rc = this.apply(hdr, txn);
    if (hdr.zxid > this.lastProcessedZxid) this.lastProcessedZxid = hdr.zxid;
    return rc;
  }

  private apply(hdr: TxnHeader, txn: Txn | null): ApplyResult {
    const rc: ApplyResult = { type: hdr.type, err: 0, path: null, stat: null, multi: null };
    if (txn === null) {
      if (hdr.type === OpCode.closeSession) this.killSession(hdr.clientIdHi, hdr.clientIdLo, hdr.zxid, null);
      return rc;
    }
    try {
      switch (txn.type) {
        case OpCode.create:
        case OpCode.create2: {
          rc.path = txn.path;
          const eph = txn.ephemeral;
          this.createNode(txn.path, txn.data, txn.acl, eph ? hdr.clientIdHi : 0, eph ? hdr.clientIdLo : 0,
            txn.parentCVersion, hdr.zxid, hdr.time, rc);
          break;
        }
        case OpCode.createContainer: {
          rc.path = txn.path;
          this.createNode(txn.path, txn.data, txn.acl, 0x80000000 | 0, 0, txn.parentCVersion, hdr.zxid, hdr.time, rc);
          break;
        }
        case OpCode.createTTL: {
          rc.path = txn.path;
          const [hi, lo] = ttlOwner(txn.ttl);
          this.createNode(txn.path, txn.data, txn.acl, hi, lo, txn.parentCVersion, hdr.zxid, hdr.time, rc);
          break;
        }
        case OpCode.delete:
        case OpCode.deleteContainer:
          rc.path = txn.path;
          this.deleteNode(txn.path, hdr.zxid);
          break;
        case OpCode.setData:
        case OpCode.reconfig:
          rc.path = txn.path;
          rc.stat = NodeStat.of(this.setData(txn.path, txn.data, txn.version, hdr.zxid, hdr.time), this.extendedTypes);
          break;
        case OpCode.setACL:
          rc.path = txn.path;
          rc.stat = NodeStat.of(this.setACL(txn.path, txn.acl, txn.version), this.extendedTypes);
          break;
        case OpCode.closeSession:
          this.killSession(hdr.clientIdHi, hdr.clientIdLo, hdr.zxid, txn.paths2Delete);
          break;
        case OpCode.createSession:
          break;
        case OpCode.error:
          rc.err = txn.err;
          break;
        case OpCode.check:
          rc.path = txn.path;
          break;
        case OpCode.multi: {
          rc.multi = [];
          const failed = txn.txns.some((t) => t.type === OpCode.error);
          let postFailed = false;
          for (const sub of txn.txns) {
            let body: Txn = sub;
            if (sub.type === OpCode.error) postFailed = true;
            else if (failed) body = { type: OpCode.error, err: postFailed ? Err.RUNTIMEINCONSISTENCY : Err.OK };
            const subRc = this.apply({ ...hdr, type: body.type }, body);
            rc.multi.push(subRc);
            if (subRc.err !== 0 && rc.err === 0) rc.err = subRc.err;
          }
          break;
        }
      }
    } catch (e) {
      if (!(e instanceof KeeperError)) throw e;
      rc.err = e.code;
    }
    // A create replayed over a fuzzy snapshot that already holds the node
    // still carries the parent's cversion and pzxid forward (as Apache does).
    if ((txn.type === OpCode.create || txn.type === OpCode.create2) && rc.err === Err.NODEEXISTS) {
      const parent = this.getNode(txn.path.substring(0, txn.path.lastIndexOf('/')));
      if (parent !== undefined) {
        const cv = txn.parentCVersion === -1 ? parent.cversion + 1 : txn.parentCVersion;
        if (cv > parent.cversion) {
          parent.cversion = cv;
          parent.pzxid = hdr.zxid;
        }
      }
    }
    return rc;
  }

  // ---- quotas ---------------------------------------------------------------------

  /** The deepest path with a quota at or above `path`, or null (never the root). */
  quotaPrefixOf(path: string): string | null {
    if (this.quotaPaths.size === 0) return null;
    let p = path;
    while (p.length > 1) {
      if (this.quotaPaths.has(p)) return p;
      p = p.substring(0, p.lastIndexOf('/'));
    }
    return null;
  }

  /** Apply a change under a quota'd path to its zookeeper_stats, and log a soft limit exceeded. */
  private updateQuotaStats(path: string, bytesDiff: number, countDiff: number): void {
    const prefix = this.quotaPrefixOf(path);
    if (prefix === null) return;
    const statsNode = this.getNode(`${quotaPathOf(prefix)}/${STATS_NODE}`);
    if (statsNode === undefined) return;
    // Where Apache cannot parse the stats it throws from inside the apply
    // (and its server stops); zoonode reads what it can instead.
    const stats = StatsTrack.strict(statsNode.data) ?? StatsTrack.of(statsNode.data);
    const count = stats.count + countDiff;
    const bytes = stats.bytes + bytesDiff;
    this.approximateDataSize -= statsNode.dataLength;
    statsNode.data = Buffer.from(statsRewritten(stats, count, bytes), 'utf8').toString('latin1');
    this.approximateDataSize += statsNode.dataLength;
    const limits = StatsTrack.of(this.getNode(`${quotaPathOf(prefix)}/${LIMIT_NODE}`)?.data ?? null);
    if (countDiff > 0 && limits.count > -1 && count > limits.count) {
      log.warn(`quota exceeded: ${prefix} count=${count} limit=${limits.count}`);
    }
    if (bytesDiff > 0 && limits.bytes > -1 && bytes > limits.bytes) {
      log.warn(`quota exceeded: ${prefix} bytes=${bytes} limit=${limits.bytes}`);
    }
  }

  /** Recompute zookeeper_stats for a quota'd path from the subtree (the node itself included). */
  private recountQuota(path: string): void {
    const statsNode = this.getNode(`${quotaPathOf(path)}/${STATS_NODE}`);
    if (statsNode === undefined) return;
    let count = 0;
    let bytes = 0;
    const stack = [path];
    while (stack.length > 0) {
      const p = stack.pop()!;
      const n = this.getNode(p);
      if (n === undefined) continue;
      count++;
      bytes += n.dataLength;
      if (n.children !== null) for (const c of n.children.keys()) stack.push(p === '/' ? `/${c}` : `${p}/${c}`);
    }
    this.approximateDataSize -= statsNode.dataLength;
    statsNode.data = statsBytes(count, bytes);
    this.approximateDataSize += statsNode.dataLength;
  }

  /** Rebuild the quota set and recount every quota after a snapshot load (as Apache's setupQuota). */
  private setupQuotas(): void {
    this.quotaPaths.clear();
    const stack = [QUOTA_ROOT];
    while (stack.length > 0) {
      const p = stack.pop()!;
      const n = this.getNode(p);
      if (n === undefined) continue;
      if (n.children === null) {
        if (p.endsWith(`/${LIMIT_NODE}`)) {
          const real = p.substring(QUOTA_ROOT.length, p.length - LIMIT_NODE.length - 1);
          this.quotaPaths.add(real);
          this.recountQuota(real);
        }
        continue;
      }
      for (const c of n.children.keys()) stack.push(`${p}/${c}`);
    }
  }

  // ---- restore from a snapshot ------------------------------------------------

  /** Empty the tree completely, built-in nodes included, before a snapshot is loaded. */
  clearForRestore(): void {
    this.restoreParentPath = '\u0000';
    this.restoreParent = null;
    this.quotaPaths.clear();
    // A placeholder until the snapshot's root ("") arrives.
    this.root = new ZNode('', OPEN_UNSAFE_ACL_REF, 0, 0, 0, 0);
    this.count = 0;
    this.aclCache.clear();
    this.ephemerals.clear();
    this.containers.clear();
    this.ttls.clear();
    this.approximateDataSize = 0;
    this.lastProcessedZxid = 0;
  }

  restoreAcl(ref: number, acls: ACL[]): void {
    this.aclCache.restore(ref, acls);
  }

  private restoreParentPath = '\u0000';
  private restoreParent: ZNode | null = null;

  /** Add a node read from a snapshot; nodes arrive parent first. The root's path is "". */
  restoreNode(path: string, s: {
    data: string | null; acl: number; czxid: number; mzxid: number; ctime: number; mtime: number;
    version: number; cversion: number; aversion: number; ownerHi: number; ownerLo: number; pzxid: number;
  }): void {
    const node = new ZNode(s.data, s.acl, s.czxid, s.ctime, s.ownerHi, s.ownerLo);
    node.mzxid = s.mzxid;
    node.mtime = s.mtime;
    node.pzxid = s.pzxid;
    node.version = s.version;
    node.cversion = s.cversion;
    node.aversion = s.aversion;
    const slash = path.lastIndexOf('/');
    if (slash === -1) {
      this.root = node;
      this.count++;
    } else {
      // Nodes arrive in pre-order, siblings one after another: the last
      // parent is usually the one wanted, without a lookup.
      let parent: ZNode | undefined;
      if (slash === this.restoreParentPath.length && path.startsWith(this.restoreParentPath)) parent = this.restoreParent!;
      else {
        const parentPath = path.substring(0, slash);
        parent = this.getNode(parentPath);
        if (parent === undefined) throw new Error(`invalid snapshot: the parent of ${path} is missing`);
        this.restoreParentPath = parentPath;
        this.restoreParent = parent;
      }
      parent.addChild(path.substring(slash + 1), node);
      this.count++;
      switch (ephemeralType(s.ownerHi, s.ownerLo, this.extendedTypes)) {
        case EPHEMERAL_CONTAINER: this.containers.add(path); break;
        case EPHEMERAL_TTL: this.ttls.add(path); break;
        case EPHEMERAL_SESSION: {
          const id = hiLoToBigInt(s.ownerHi, s.ownerLo);
          let set = this.ephemerals.get(id);
          if (set === undefined) { set = new JavaHashSet(); this.ephemerals.set(id, set); }
          set.add(path);
          break;
        }
      }
    }
    this.aclCache.addRestoredUsage(s.acl);
    this.approximateDataSize += path.length + node.dataLength;
    // Apache's nodes map holds the root under "" and "/", and its size after a
    // snapshot load sums the map: the root's data twice and the "/" once more.
    if (path === '') this.approximateDataSize += 1 + node.dataLength;
  }

  /** The snapshot's nodes are all in (before the logs are replayed): quotas are recounted from them, as Apache does. */
  snapshotLoaded(): void {
    this.restoreParentPath = '\u0000';
    this.restoreParent = null;
    this.setupQuotas();
  }

  /** The logs are replayed too (snapshotLoaded came before them). */
  finishRestore(lastZxid: number): void {
    this.aclCache.purgeUnused();
    if (lastZxid > this.lastProcessedZxid) this.lastProcessedZxid = lastZxid;
  }

  // ---- reads with watch registration ---------------------------------------

  /** exists: registers the watch even when the node is absent (an exist watch), as Apache does. */
  statNode(path: string, watcher: Watcher | null): ZNode | undefined {
    if (watcher !== null) this.dataWatches.add(path, watcher, MODE_STANDARD);
    return this.getNode(path);
  }

  /** getData: the caller has checked that the node exists. */
  watchData(path: string, watcher: Watcher): void {
    this.dataWatches.add(path, watcher, MODE_STANDARD);
  }

  watchChildren(path: string, watcher: Watcher): void {
    this.childWatches.add(path, watcher, MODE_STANDARD);
  }

  removeWatcher(w: Watcher): void {
    this.dataWatches.removeWatcher(w);
    this.childWatches.removeWatcher(w);
  }
}

/** TTL ephemeralOwner: high byte 0xff, two reserved zero bytes, TTL ms in the low 40 bits. */
export function ttlOwner(ttl: number): [number, number] {
  const hi = (0xff000000 | Math.floor(ttl / 4294967296)) | 0;
  return [hi, (ttl % 4294967296) | 0];
}
