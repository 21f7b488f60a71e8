// The reference model: a plain Map-based tree that applies client requests
// with ZooKeeper's semantics, written independently of prep.ts and
// data-tree.ts. The simulator feeds it every committed request in zxid
// order and compares what it computes with what the server answered, with
// the watch events the server sent, and — after every recovery — with the
// whole recovered tree and session table.
//
// Semantics (Apache ZooKeeper 3.8, PrepRequestProcessor and DataTree):
//   - create: parent missing → NONODE; sequential suffix = the parent's
//     count of child creations ("%010d"); existing → NODEEXISTS; parent
//     ephemeral → NOCHILDRENFOREPHEMERALS. Parent: creations+1, pzxid.
//   - delete: NONODE, BADVERSION, NOTEMPTY in that order. Parent: pzxid.
//   - setData: NONODE, BADVERSION; version+1, mzxid, mtime.
//   - multi: all or nothing; on failure the ops before the failed one
//     answer OK (0), the failed one its code, the rest RUNTIMEINCONSISTENCY.
//   - a request of a session whose close is already committed: SESSIONEXPIRED.
//   - closeSession (client or expiry): the session's ephemerals go.
//   - clients see cversion = 2 × creations − children (creations + deletions).
//   - watches are one-shot and per connection; exists sets a data watch even
//     on a missing node; getData/getChildren on a missing node set none.
//   - one Apache quirk the model cannot see by itself (it applies requests at
//     commit, Apache checks them at prep): a closeSession in flight does not
//     lower its ephemerals' parents' child counts, so a delete of such a
//     parent prepped before the close commits fails NOTEMPTY. The simulator
//     detects that case and passes the path in forceNotEmpty.

import { Err } from '../jute/errors.js';
import { CreateFlag, EventType } from '../jute/opcodes.js';
import type { Op, Result, SubOp, SubResult, VStat } from './sim-ops.js';

export class MNode {
  children = new Set<string>();
  constructor(
    public data: Buffer | null,
    public czxid: number,
    public mzxid: number,
    public pzxid: number,
    public ctime: number,
    public mtime: number,
    public version: number,
    /** Count of child creations (as Apache persists cversion). */
    public cversion: number,
    public aversion: number,
    public owner: bigint,
  ) {}

  clone(): MNode {
    const n = new MNode(this.data, this.czxid, this.mzxid, this.pzxid, this.ctime, this.mtime, this.version, this.cversion,
      this.aversion, this.owner);
    n.children = new Set(this.children);
    return n;
  }

  stat(): VStat {
    return {
      czxid: this.czxid, mzxid: this.mzxid, ctime: this.ctime, mtime: this.mtime, version: this.version,
      cversion: this.cversion * 2 - this.children.size, aversion: this.aversion, ephemeralOwner: this.owner,
      dataLength: this.data === null ? 0 : this.data.length, numChildren: this.children.size, pzxid: this.pzxid,
    };
  }
}

export interface ModelEvent {
  conn: number;
  type: number;
  path: string;
}

export interface Outcome {
  err: number;
  result: Result;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.substring(0, i);
}

function nameOf(path: string): string {
  return path.substring(path.lastIndexOf('/') + 1);
}

function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

function seqSuffix(n: number): string {
  return n < 0 ? '-' + String(-n).padStart(9, '0') : String(n).padStart(10, '0');
}

class Failed extends Error {
  constructor(readonly code: number) {
    super(`error ${code}`);
  }
}

export class Model {
  nodes = new Map<string, MNode>();
  /** Sessions whose createSession is committed and whose close is not: id → timeout. */
  readonly sessions = new Map<bigint, number>();
  lastZxid = 0;
  private readonly dataWatches = new Map<string, Set<number>>();
  private readonly childWatches = new Map<string, Set<number>>();
  /** Events produced by the last commit. */
  events: ModelEvent[] = [];
  /** Paths the last closeSession deleted. */
  closedPaths: string[] = [];
  /** Deletes that fail NOTEMPTY although the node is empty now (see the header). */
  private forceNotEmpty: ReadonlySet<string> | null = null;

  // ---- reads ------------------------------------------------------------------

  /** A read at the current state; registers its watch as the server would. */
  read(op: Op, conn: number): Outcome {
    switch (op.t) {
      case 'exists': {
        if (op.watch) addWatch(this.dataWatches, op.path, conn);
        const n = this.nodes.get(op.path);
        return n === undefined ? { err: Err.NONODE, result: { t: 'none' } } : { err: 0, result: { t: 'stat', stat: n.stat() } };
      }
      case 'getData': {
        const n = this.nodes.get(op.path);
        if (n === undefined) return { err: Err.NONODE, result: { t: 'none' } };
        if (op.watch) addWatch(this.dataWatches, op.path, conn);
        return { err: 0, result: { t: 'data', data: n.data, stat: n.stat() } };
      }
      case 'getChildren':
      case 'getChildren2': {
        const n = this.nodes.get(op.path);
        if (n === undefined) return { err: Err.NONODE, result: { t: 'none' } };
        if (op.watch) addWatch(this.childWatches, op.path, conn);
        return { err: 0, result: { t: 'children', children: [...n.children].sort(), stat: op.t === 'getChildren2' ? n.stat() : null } };
      }
      case 'sync':
        return { err: 0, result: { t: 'path', path: op.path } };
      default:
        throw new Error(`not a read: ${op.t}`);
    }
  }

  /** Forget a connection's watches (it closed, or the server restarted). */
  dropWatches(conn: number): void {
    for (const m of [this.dataWatches, this.childWatches]) {
      for (const [p, s] of m) {
        s.delete(conn);
        if (s.size === 0) m.delete(p);
      }
    }
  }

  dropAllWatches(): void {
    this.dataWatches.clear();
    this.childWatches.clear();
  }

  // ---- committed txns -----------------------------------------------------------

  createSession(zxid: number, id: bigint, timeoutMs: number): void {
    this.begin(zxid);
    this.sessions.set(id, timeoutMs);
  }

  closeSession(zxid: number, time: number, id: bigint): Outcome {
    this.begin(zxid);
    const mine = [...this.nodes].filter(([, n]) => n.owner === id).map(([p]) => p).sort();
    for (const p of mine) this.deleteNode(p, zxid, true);
    this.closedPaths = mine;
    this.sessions.delete(id);
    void time;
    return { err: 0, result: { t: 'none' } };
  }

  /** A client write committed at zxid; returns what the server must answer. */
  write(zxid: number, time: number, session: bigint, op: Op, forceNotEmpty: ReadonlySet<string> | null = null): Outcome {
    this.forceNotEmpty = forceNotEmpty;
    try {
      return this.writeNow(zxid, time, session, op);
    } finally {
      this.forceNotEmpty = null;
    }
  }

  private writeNow(zxid: number, time: number, session: bigint, op: Op): Outcome {
    this.begin(zxid);
    if (op.t === 'closeSession') return this.closeSession(zxid, time, session);
    if (!this.sessions.has(session)) return { err: Err.SESSIONEXPIRED, result: { t: 'none' } };
    if (op.t === 'multi') return this.multi(zxid, time, session, op.ops);
    try {
      const r = this.apply(op as SubOp, zxid, time, session, true);
      switch (r.t) {
        case 'create': return { err: 0, result: { t: 'path', path: r.path } };
        case 'create2': return { err: 0, result: { t: 'pathStat', path: r.path, stat: r.stat } };
        case 'setData': return { err: 0, result: { t: 'stat', stat: r.stat } };
        default: return { err: 0, result: { t: 'none' } };
      }
    } catch (e) {
      if (!(e instanceof Failed)) throw e;
      return { err: e.code, result: { t: 'none' } };
    }
  }

  /** A txn whose request the model cannot name (an error txn of a malformed request): only the zxid moves. */
  noop(zxid: number): void {
    this.begin(zxid);
  }

  private begin(zxid: number): void {
    this.events = [];
    if (zxid > this.lastZxid) this.lastZxid = zxid;
  }

  private multi(zxid: number, time: number, session: bigint, ops: readonly SubOp[]): Outcome {
    // A dry run on a copy finds the failing op, if any; then the real run fires the watches.
    const saved = this.nodes;
    const copy = new Map<string, MNode>();
    for (const [p, n] of saved) copy.set(p, n.clone());
    this.nodes = copy;
    let failedAt = -1;
    let code = 0;
    try {
      for (let i = 0; i < ops.length; i++) {
        try {
          this.apply(ops[i]!, zxid, time, session, false);
        } catch (e) {
          if (!(e instanceof Failed)) throw e;
          failedAt = i;
          code = e.code;
          break;
        }
      }
    } finally {
      this.nodes = saved;
    }
    if (failedAt >= 0) {
      const results: SubResult[] = ops.map((_, i) => ({
        t: 'error', err: i < failedAt ? Err.OK : i === failedAt ? code : Err.RUNTIMEINCONSISTENCY,
      }));
      return { err: 0, result: { t: 'multi', results } };
    }
    return { err: 0, result: { t: 'multi', results: ops.map((o) => this.apply(o, zxid, time, session, true)) } };
  }

  private apply(op: SubOp, zxid: number, time: number, session: bigint, fire: boolean): SubResult {
    switch (op.t) {
      case 'create': {
        const parentPath = parentOf(op.path);
        const parent = this.nodes.get(parentPath);
        if (parent === undefined) throw new Failed(Err.NONODE);
        const sequential = op.flags === CreateFlag.PERSISTENT_SEQUENTIAL || op.flags === CreateFlag.EPHEMERAL_SEQUENTIAL;
        const ephemeral = op.flags === CreateFlag.EPHEMERAL || op.flags === CreateFlag.EPHEMERAL_SEQUENTIAL;
        const path = sequential ? op.path + seqSuffix(parent.cversion) : op.path;
        if (this.nodes.has(path)) throw new Failed(Err.NODEEXISTS);
        if (parent.owner !== 0n) throw new Failed(Err.NOCHILDRENFOREPHEMERALS);
        const n = new MNode(op.data, zxid, zxid, zxid, time, time, 0, 0, 0, ephemeral ? session : 0n);
        this.nodes.set(path, n);
        parent.children.add(nameOf(path));
        parent.cversion++;
        parent.pzxid = zxid;
        if (fire) {
          this.fire(this.dataWatches, path, EventType.NodeCreated, null);
          this.fire(this.childWatches, parentPath, EventType.NodeChildrenChanged, null);
        }
        return op.withStat ? { t: 'create2', path, stat: n.stat() } : { t: 'create', path };
      }
      case 'delete': {
        if (!this.nodes.has(parentOf(op.path))) throw new Failed(Err.NONODE);
        const n = this.nodes.get(op.path);
        if (n === undefined) throw new Failed(Err.NONODE);
        if (op.version !== -1 && op.version !== n.version) throw new Failed(Err.BADVERSION);
        if (n.children.size > 0 || this.forceNotEmpty?.has(op.path) === true) throw new Failed(Err.NOTEMPTY);
        this.deleteNode(op.path, zxid, fire);
        return { t: 'delete' };
      }
      case 'setData': {
        const n = this.nodes.get(op.path);
        if (n === undefined) throw new Failed(Err.NONODE);
        if (op.version !== -1 && op.version !== n.version) throw new Failed(Err.BADVERSION);
        n.data = op.data;
        n.version++;
        n.mzxid = zxid;
        n.mtime = time;
        if (fire) this.fire(this.dataWatches, op.path, EventType.NodeDataChanged, null);
        return { t: 'setData', stat: n.stat() };
      }
      case 'check': {
        const n = this.nodes.get(op.path);
        if (n === undefined) throw new Failed(Err.NONODE);
        if (op.version !== -1 && op.version !== n.version) throw new Failed(Err.BADVERSION);
        return { t: 'check' };
      }
    }
  }

  private deleteNode(path: string, zxid: number, fire: boolean): void {
    const parentPath = parentOf(path);
    const parent = this.nodes.get(parentPath)!;
    parent.children.delete(nameOf(path));
    if (zxid > parent.pzxid) parent.pzxid = zxid;
    this.nodes.delete(path);
    if (fire) {
      const notified = this.fire(this.dataWatches, path, EventType.NodeDeleted, null);
      this.fire(this.childWatches, path, EventType.NodeDeleted, notified);
      this.fire(this.childWatches, parentPath, EventType.NodeChildrenChanged, null);
    }
  }

  private fire(m: Map<string, Set<number>>, path: string, type: number, skip: Set<number> | null): Set<number> {
    const s = m.get(path);
    const out = new Set<number>();
    if (s === undefined) return out;
    m.delete(path);
    for (const conn of s) {
      out.add(conn);
      if (skip === null || !skip.has(conn)) this.events.push({ conn, type, path });
    }
    return out;
  }

  // ---- whole-tree views ------------------------------------------------------------

  /** Every node path, parents before children. */
  paths(): string[] {
    return [...this.nodes.keys()].sort();
  }

  ephemeralOwners(): Set<bigint> {
    const s = new Set<bigint>();
    for (const n of this.nodes.values()) if (n.owner !== 0n) s.add(n.owner);
    return s;
  }
}

function addWatch(m: Map<string, Set<number>>, path: string, conn: number): void {
  let s = m.get(path);
  if (s === undefined) {
    s = new Set();
    m.set(path, s);
  }
  s.add(conn);
}

export { childPath };
