// Test support: a DataTree (plus a session table) as a snapshot source and
// as a recovery target, and a canonical dump of a tree for comparisons.

import { DataTree } from '../../src/tree/data-tree.js';
import { OpCode } from '../../src/jute/opcodes.js';
import type { SnapshotSource } from '../../src/persistence/snapshot-format.js';
import type { RecoveryTarget } from '../../src/persistence/recovery.js';

export function sourceOf(tree: DataTree, sessions: Map<bigint, number>): SnapshotSource {
  return {
    sessions: () => [...sessions.entries()],
    acls: () => tree.aclCache.entries(),
    root: () => tree.getNode('')!,
  };
}

export function targetOf(tree: DataTree, sessions: Map<bigint, number>): RecoveryTarget {
  return {
    reset: () => { tree.clearForRestore(); sessions.clear(); },
    session: (id, t) => { sessions.set(id, t); },
    acl: (ref, acls) => tree.restoreAcl(ref, acls),
    node: (path, n) => tree.restoreNode(path, n),
    loaded: () => tree.snapshotLoaded(),
    apply: (e) => {
      const id = BigInt.asIntN(64, (BigInt(e.hdr.clientIdHi) << 32n) | BigInt(e.hdr.clientIdLo >>> 0));
      if (e.txn?.type === OpCode.createSession) sessions.set(id, e.txn.timeOut);
      if (e.hdr.type === OpCode.closeSession) sessions.delete(id);
      tree.processTxn(e.hdr, e.txn);
    },
  };
}

/** Every node with its data, ACL and persisted stat, sorted by path. */
export function dumpTree(tree: DataTree): string[] {
  const out: string[] = [];
  for (const [path, n] of tree.walk()) {
    out.push(JSON.stringify([path, n.data === null ? null : Buffer.from(n.data, 'latin1').toString('hex'), tree.aclOf(n),
      n.czxid, n.mzxid, n.pzxid, n.ctime, n.mtime, n.version, n.cversion, n.aversion, n.ownerHi, n.ownerLo,
      n.children === null ? [] : [...n.children.keys()].sort()]));
  }
  return out.sort();
}
