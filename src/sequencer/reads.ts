// Requests that produce no txn: they run against the committed tree, in the
// session's order, and their replies carry the tree's last processed zxid.
// Each handler writes the reply record after the ReplyHeader that the caller
// has started in `w`, or throws KeeperError for an error reply.

import { OpCode, Perms, WatcherType, AddWatchMode } from '../jute/opcodes.js';
import { Err, KeeperError, KeeperErrorWithBody } from '../jute/errors.js';
import type { Reader } from '../jute/reader.js';
import { Writer } from '../jute/writer.js';
import { copyBytes } from '../util/copy.js';
import { hashSetPermutation } from '../util/java-hash-set.js';
import { readPathOnly, readPathWatch, readSetWatches, readPathInt, readMultiRequest, writeACLList, writeId } from '../jute/records.js';
import { checkACL, type AclPolicy } from '../tree/acl.js';
import type { DataTree } from '../tree/data-tree.js';
import { writeNodeStat, type ZNode } from '../tree/znode.js';
import {
  MODE_PERSISTENT, MODE_PERSISTENT_RECURSIVE, MODE_STANDARD,
} from '../tree/watch-manager.js';
import { EventType } from '../jute/opcodes.js';
import type { Conn } from './session.js';

/** Java's String.trim: strips characters up to U+0020 at both ends (not Unicode spaces). */
function javaTrim(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) <= 0x20) a++;
  while (b > a && s.charCodeAt(b - 1) <= 0x20) b--;
  return s.slice(a, b);
}

/** Java's ":.*" as replaceAll uses it: "." stops at Java's line terminators. */
const javaMaskPattern = /:[^\n\r\u0085\u2028\u2029]*/g;

export interface ReadContext {
  readonly tree: DataTree;
  readonly policy: AclPolicy;
  /** Deliver an event to one connection now (setWatches replays). */
  event(conn: Conn, eventType: number, path: string): void;
}

/** Ops answered without a txn. */
export function isReadOp(type: number): boolean {
  switch (type) {
    case OpCode.exists:
    case OpCode.getData:
    case OpCode.getChildren:
    case OpCode.getChildren2:
    case OpCode.getACL:
    case OpCode.sync:
    case OpCode.setWatches:
    case OpCode.setWatches2:
    case OpCode.getAllChildrenNumber:
    case OpCode.getEphemerals:
    case OpCode.addWatch:
    case OpCode.checkWatches:
    case OpCode.removeWatches:
    case OpCode.whoAmI:
    case OpCode.multiRead:
    case OpCode.ping:
      return true;
    default:
      return false;
  }
}

function mustGet(tree: DataTree, path: string): ZNode {
  const n = tree.getNode(path);
  if (n === undefined) throw new KeeperError(Err.NONODE, path);
  return n;
}

/** Encoded names of a large children list, in the order they went in (reused; see writeChildren). */
const scratch = new Writer(4096);
const scratchKeepMax = 1 << 20;

/** A node's children in the order Apache lists them (see ZNode.childNames). */
function writeChildren(w: Writer, n: ZNode): void {
  const children = n.children;
  if (children === null) {
    w.int(0);
    return;
  }
  w.int(children.size);
  if (children.size === 1) {
    for (const name of children.keys()) w.ustring(name);
    return;
  }
  const names = [...children.keys()];
  const order = hashSetPermutation(names, n.childTable);
  if (order === null) {
    for (let i = 0; i < names.length; i++) w.ustring(names[i]!);
  } else if (names.length < 64) {
    for (let i = 0; i < names.length; i++) w.ustring(names[order[i]!]!);
  } else {
    // Encoded in the order the names went in, which is about their order in
    // memory, then each copied to its place: encoding them in bucket order
    // reads them from all over the heap.
    scratch.reset();
    const ends = new Int32Array(names.length);
    for (let i = 0; i < names.length; i++) {
      scratch.ustring(names[i]!);
      ends[i] = scratch.pos;
    }
    w.ensure(scratch.pos);
    const src = scratch.buf;
    const dst = w.buf;
    let at = w.pos;
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      const start = i === 0 ? 0 : ends[i - 1]!;
      copyBytes(src, start, ends[i]!, dst, at);
      at += ends[i]! - start;
    }
    w.pos = at;
    if (src.length > scratchKeepMax) scratch.attach(Buffer.allocUnsafe(4096));
  }
}

export function executeRead(ctx: ReadContext, conn: Conn, type: number, r: Reader, w: Writer): void {
  const { tree, policy } = ctx;
  const ext = tree.extendedTypes;
  switch (type) {
    case OpCode.exists: {
      const { path, watch } = readPathWatch(r);
      if (path.indexOf('\u0000') !== -1) throw new KeeperError(Err.BADARGUMENTS, path);
      // Apache 3.8 does not check ACLs on exists (a Stat reveals no data).
      const n = tree.statNode(path, watch ? conn : null);
      if (n === undefined) throw new KeeperError(Err.NONODE, path);
      writeNodeStat(w, n, ext);
      return;
    }
    case OpCode.getData: {
      const { path, watch } = readPathWatch(r);
      const n = mustGet(tree, path);
      checkACL(policy, tree.aclOf(n), Perms.READ, conn.authInfo, path);
      if (watch) tree.watchData(path, conn);
      w.latin1Buffer(n.data);
      writeNodeStat(w, n, ext);
      return;
    }
    case OpCode.getChildren:
    case OpCode.getChildren2: {
      const { path, watch } = readPathWatch(r);
      const n = mustGet(tree, path);
      checkACL(policy, tree.aclOf(n), Perms.READ, conn.authInfo, path);
      if (watch) tree.watchChildren(path, conn);
      writeChildren(w, n);
      if (type === OpCode.getChildren2) writeNodeStat(w, n, ext);
      return;
    }
    case OpCode.getACL: {
      const { path } = readPathOnly(r);
      const n = mustGet(tree, path);
      const acl = tree.aclOf(n);
      checkACL(policy, acl, Perms.READ | Perms.ADMIN, conn.authInfo, path);
      let canAdmin = true;
      try {
        checkACL(policy, acl, Perms.ADMIN, conn.authInfo, path);
      } catch {
        canAdmin = false;
      }
      if (canAdmin) {
        writeACLList(w, acl);
      } else {
        // Without ADMIN, digest ids are shown with the hash replaced by "x".
        w.int(acl.length);
        for (const a of acl) {
          w.int(a.perms);
          writeId(w, a.id.scheme === 'digest' ? { scheme: 'digest', id: a.id.id.replace(javaMaskPattern, ':x') } : a.id);
        }
      }
      writeNodeStat(w, n, ext);
      return;
    }
    case OpCode.sync: {
      const { path } = readPathOnly(r);
      w.ustring(path);
      return;
    }
    case OpCode.setWatches:
    case OpCode.setWatches2: {
      const req = readSetWatches(r, type === OpCode.setWatches2);
      const rel = req.relativeZxid;
      for (const path of req.dataWatches) {
        const n = tree.getNode(path);
        if (n === undefined) ctx.event(conn, EventType.NodeDeleted, path);
        else if (n.mzxid > rel) ctx.event(conn, EventType.NodeDataChanged, path);
        else tree.dataWatches.add(path, conn, MODE_STANDARD);
      }
      for (const path of req.existWatches) {
        if (tree.getNode(path) !== undefined) ctx.event(conn, EventType.NodeCreated, path);
        else tree.dataWatches.add(path, conn, MODE_STANDARD);
      }
      for (const path of req.childWatches) {
        const n = tree.getNode(path);
        if (n === undefined) ctx.event(conn, EventType.NodeDeleted, path);
        else if (n.pzxid > rel) ctx.event(conn, EventType.NodeChildrenChanged, path);
        else tree.childWatches.add(path, conn, MODE_STANDARD);
      }
      for (const path of req.persistentWatches) {
        tree.childWatches.add(path, conn, MODE_PERSISTENT);
        tree.dataWatches.add(path, conn, MODE_PERSISTENT);
      }
      for (const path of req.persistentRecursiveWatches) {
        tree.dataWatches.add(path, conn, MODE_PERSISTENT_RECURSIVE);
      }
      return;
    }
    case OpCode.getAllChildrenNumber: {
      const { path } = readPathOnly(r);
      const n = mustGet(tree, path);
      checkACL(policy, tree.aclOf(n), Perms.READ, conn.authInfo, path);
      // Apache counts the keys under path + "/" in a map that holds the root
      // twice (as "" and "/"), so "" counts the root itself as well.
      w.int(countDescendants(n) + (path === '' ? 1 : 0));
      return;
    }
    case OpCode.getEphemerals: {
      // A null prefix (length -1) asks for every ephemeral, as does a blank or "/" one (Java's trim).
      const prefix = r.ustring();
      const session = conn.session!;
      // In the order of Apache's copy of the session's HashSet.
      const all = tree.ephemeralsOf(session.idHi, session.idLo).cloneOrder();
      const trimmed = prefix === null ? '' : javaTrim(prefix);
      const everything = trimmed === '' || trimmed === '/';
      const at = w.placeholder();
      let count = 0;
      for (const p of all) {
        if (everything || p.startsWith(prefix!)) {
          w.ustring(p);
          count++;
        }
      }
      w.patchInt(at, count);
      return;
    }
    case OpCode.addWatch: {
      const { path, value: mode } = readPathInt(r);
      if (mode === AddWatchMode.PERSISTENT) {
        tree.dataWatches.add(path, conn, MODE_PERSISTENT);
        tree.childWatches.add(path, conn, MODE_PERSISTENT);
      } else if (mode === AddWatchMode.PERSISTENT_RECURSIVE) {
        tree.dataWatches.add(path, conn, MODE_PERSISTENT_RECURSIVE);
      } else {
        throw new KeeperError(Err.MARSHALLINGERROR, path);
      }
      // Apache answers addWatch with an ErrorResponse(0) record.
      w.int(0);
      return;
    }
    case OpCode.checkWatches:
    case OpCode.removeWatches: {
      const { path, value: watcherType } = readPathInt(r);
      const remove = type === OpCode.removeWatches;
      if (!watchesFor(ctx, conn, path, watcherType, remove)) {
        throw new KeeperError(Err.NOWATCHER, path);
      }
      return;
    }
    case OpCode.whoAmI: {
      // ClientInfo {authScheme, user}: the provider's user name (digest: the part before ':').
      w.int(conn.authInfo.length);
      for (const id of conn.authInfo) w.ustring(id.scheme).ustring(userName(id.scheme, id.id));
      return;
    }
    case OpCode.ping:
      // A ping queued behind the session's writes: the header alone, in order.
      return;
    case OpCode.multiRead: {
      // Per-op results; an op that fails yields an ErrorResult and the rest still run.
      const ops = readMultiRequest(r);
      const reads = ops.filter((op) => op.type === OpCode.getData || op.type === OpCode.getChildren).length;
      // Apache refuses a record mixing reads and writes while decoding it
      // (header only); a record of writes fails at its first op, after the
      // (still empty) MultiResponse was started, which is sent along.
      if (reads > 0 && reads < ops.length) throw new KeeperError(Err.MARSHALLINGERROR);
      if (reads < ops.length) throw new KeeperErrorWithBody(Err.MARSHALLINGERROR, EMPTY_MULTI_RESPONSE);
      for (const op of ops) {
        const path = op.req.path;
        const n = tree.getNode(path);
        let err: number = Err.OK;
        if (n === undefined) {
          err = Err.NONODE;
        } else {
          try {
            checkACL(policy, tree.aclOf(n), Perms.READ, conn.authInfo, path);
          } catch (e) {
            if (!(e instanceof KeeperError)) throw e;
            err = e.code;
          }
        }
        if (err !== Err.OK || n === undefined) {
          w.int(OpCode.error).bool(false).int(err).int(err);
        } else if (op.type === OpCode.getData) {
          w.int(OpCode.getData).bool(false).int(0).latin1Buffer(n.data);
          writeNodeStat(w, n, ext);
        } else {
          w.int(OpCode.getChildren).bool(false).int(0);
          writeChildren(w, n);
        }
      }
      w.int(-1).bool(true).int(-1);
      return;
    }
    default:
      throw new KeeperError(Err.UNIMPLEMENTED);
  }
}

/** MultiHeader {-1, true, -1}: a MultiResponse with no results. */
const EMPTY_MULTI_RESPONSE = Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff]);

function userName(scheme: string, id: string): string {
  switch (scheme) {
    case 'digest': return id.split(':')[0] ?? '';
    case 'super': return '';
    default: return id;
  }
}

function countDescendants(n: ZNode): number {
  let count = 0;
  const stack: ZNode[] = [n];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.children === null) continue;
    count += node.children.size;
    for (const child of node.children.values()) if (child.children !== null) stack.push(child);
  }
  return count;
}

/**
 * checkWatches / removeWatches for one watcher type, as Apache's
 * DataTree.containsWatcher / removeWatch. The server sends no event for a
 * removal: the client raises DataWatchRemoved and friends itself.
 */
function watchesFor(ctx: ReadContext, conn: Conn, path: string, watcherType: number, remove: boolean): boolean {
  const { dataWatches, childWatches } = ctx.tree;
  const all = MODE_STANDARD | MODE_PERSISTENT | MODE_PERSISTENT_RECURSIVE;
  switch (watcherType) {
    case WatcherType.Children:
      return remove ? childWatches.removeModes(path, conn, MODE_STANDARD)
        : (childWatches.modes(path, conn) & MODE_STANDARD) !== 0;
    case WatcherType.Data:
      return remove ? dataWatches.removeModes(path, conn, MODE_STANDARD)
        : (dataWatches.modes(path, conn) & MODE_STANDARD) !== 0;
    case WatcherType.Persistent:
      if (remove) {
        const fromChild = childWatches.removeModes(path, conn, MODE_PERSISTENT);
        const fromData = dataWatches.removeModes(path, conn, MODE_PERSISTENT);
        return fromChild || fromData;
      }
      return (dataWatches.modes(path, conn) & MODE_PERSISTENT) !== 0;
    case WatcherType.PersistentRecursive:
      return remove ? dataWatches.removeModes(path, conn, MODE_PERSISTENT_RECURSIVE)
        : (dataWatches.modes(path, conn) & MODE_PERSISTENT_RECURSIVE) !== 0;
    case WatcherType.Any:
      if (remove) {
        const fromChild = childWatches.removeModes(path, conn, all);
        const fromData = dataWatches.removeModes(path, conn, all);
        return fromChild || fromData;
      }
      return childWatches.modes(path, conn) !== 0 || dataWatches.modes(path, conn) !== 0;
    default:
      // Apache's WatcherType.fromInt throws: a marshalling error.
      throw new KeeperError(Err.MARSHALLINGERROR, path);
  }
}
