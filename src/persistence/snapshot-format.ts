// Apache ZooKeeper's snapshot format, as a grammar:
//
//   snapshot = FileHeader{int "ZKSN", int 2, long dbid}
//              int sessionCount, (long id, int timeoutMs)*
//              int aclCount, (long ref, int n, ACL{int perms, ustring scheme, ustring id}*n)*
//              (ustring path, node)*   pre-order from the root, whose path is ""
//              ustring "/"             end of nodes
//              seal
//              [ZxidDigest{long zxid, int version, long digest (string if version < 2)} seal]
//              [long lastProcessedZxid seal]                      (3.9)
//   node     = buffer data, long aclRef,
//              StatPersisted{long czxid, long mzxid, long ctime, long mtime,
//                            int version, int cversion, int aversion,
//                            long ephemeralOwner, long pzxid}
//   seal     = long adler32(every byte before the seal), ustring "/"
//
// Compression (snapshot.<zxid>.gz / .snappy) wraps the whole byte stream;
// the Adler-32 is over the uncompressed bytes. The snapshot is fuzzy: it is
// named after the last applied zxid when the walk began, and txns applied
// during the walk may or may not show in it; replaying the log from that zxid
// brings the tree to the same state either way.
//
// persistence/ does not know the DataTree: it reads through SnapshotSource
// and writes into SnapshotSink, which the sequencer implements over the tree.

import { Reader, JuteError } from '../jute/reader.js';
import { Writer } from '../jute/writer.js';
import { readACL, writeACLList, type ACL } from '../jute/records.js';
import { FILE_HEADER_BYTES, FORMAT_VERSION, SNAP_MAGIC, writeFileHeader } from './txn-entry.js';
import type { ByteWindow } from './byte-window.js';

/** A node as the snapshot stores it (StatPersisted + data + ACL reference). */
export interface SnapshotNode {
  /** The bytes as a one-byte (latin1) string, as the tree keeps them. */
  data: string | null;
  acl: number;
  czxid: number;
  mzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  ownerHi: number;
  ownerLo: number;
  pzxid: number;
}

export interface SnapshotSourceNode extends SnapshotNode {
  /** Children by name; the walk follows these (no lookups by path). */
  readonly children: {
    readonly size: number;
    get(name: string): SnapshotSourceNode | undefined;
  } | null;
  /** The children's names in the order the snapshot lists them (Apache's: see ZNode.childNames). */
  childNames(): string[];
}

export interface SnapshotSource {
  sessions(): Iterable<readonly [bigint, number]>;
  acls(): Iterable<readonly [number, readonly ACL[]]>;
  /** The root node (its path in the snapshot is ""). */
  root(): SnapshotSourceNode;
  /**
   * How many client requests the server has taken so far (any count that
   * moves while it serves). A snapshot written in slices pauses between
   * slices only while this moves; without it, it always pauses.
   */
  requestsTaken?(): number;
}

export interface SnapshotSink {
  session(id: bigint, timeoutMs: number): void;
  acl(ref: number, acls: ACL[]): void;
  /**
   * Nodes arrive in pre-order: a node's parent has always arrived before it.
   * `n` is the same object for every node, refilled: copy what you keep.
   */
  node(path: string, n: SnapshotNode): void;
}

export class SnapshotFormatError extends Error {
  override name = 'SnapshotFormatError';
}

/**
 * Encodes a snapshot in slices: begin() gives the header, sessions and ACLs;
 * each step() encodes at most `maxNodes` nodes; finished is true once the
 * end marker is out. The seal is added by whoever computes the checksum.
 */
export class SnapshotEncoder {
  /**
   * Pre-order walk over node references: each frame is a parent, its path,
   * and the names of its children copied when it was reached (the tree keeps
   * changing while the walk runs; a child gone by the time its name comes up
   * is skipped, as Apache's walk skips a path that no longer resolves).
   */
  private readonly stack: { path: string; parent: SnapshotSourceNode; names: string[]; i: number }[] = [];
  private started = false;
  finished = false;
  nodesWritten = 0;

  /**
   * `lastZxid`: the snapshot's, the last txn applied when its sessions and ACLs
   * were taken. The walk leaves out every node created after it (and so its
   * subtree, all created later still): replaying the log from lastZxid + 1
   * creates them again, with their ACL numbered as the replaying server
   * numbers it. Written as they stood, such a node could name an ACL the
   * snapshot's list does not hold, and Apache before 3.8.5 / 3.9.4
   * (ZOOKEEPER-4846), whose replay keeps the snapshot's number for a node
   * that is already there, then fails every read of it (MARSHALLINGERROR).
   * Nodes that existed at lastZxid are written as the walk finds them, as
   * Apache's fuzzy snapshot does: a setACL replayed over one re-points it
   * in every version.
   */
  constructor(private readonly source: SnapshotSource, private readonly lastZxid = Infinity) {}

  begin(w: Writer): void {
    writeFileHeader(w, SNAP_MAGIC);
    const sessions = [...this.source.sessions()];
    w.int(sessions.length);
    for (const [id, timeout] of sessions) w.bigLong(id).int(timeout);
    const acls = [...this.source.acls()];
    w.int(acls.length);
    for (const [ref, list] of acls) {
      w.long(ref);
      writeACLList(w, list);
    }
  }

  /** Encode up to maxNodes more nodes into w. */
  step(w: Writer, maxNodes: number): void {
    if (this.finished) return;
    let n = 0;
    if (!this.started) {
      this.started = true;
      const root = this.source.root();
      w.ustring('');
      this.writeNode(w, root);
      this.push('', root);
      n++;
    }
    const stack = this.stack;
    while (n < maxNodes && stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.i >= top.names.length) {
        stack.pop();
        continue;
      }
      const name = top.names[top.i++]!;
      const node = top.parent.children?.get(name);
      if (node === undefined || node.czxid > this.lastZxid) continue;
      w.pathJoin(top.path, name);
      this.writeNode(w, node);
      n++;
      if (node.children !== null && node.children.size > 0) this.push(`${top.path}/${name}`, node);
    }
    if (stack.length === 0) {
      w.ustring('/');
      this.finished = true;
    }
  }

  private push(path: string, parent: SnapshotSourceNode): void {
    if (parent.children !== null && parent.children.size > 0) {
      this.stack.push({ path, parent, names: parent.childNames(), i: 0 });
    }
  }

  private writeNode(w: Writer, node: SnapshotNode): void {
    w.latin1Buffer(node.data).long(node.acl)
      .long(node.czxid).long(node.mzxid).long(node.ctime).long(node.mtime)
      .int(node.version).int(node.cversion).int(node.aversion)
      .longHiLo(node.ownerHi, node.ownerLo).long(node.pzxid);
    this.nodesWritten++;
  }
}

/** A seal: the checksum of everything before it, then "/". */
export function writeSeal(w: Writer, adler: number): void {
  w.long(adler).ustring('/');
}

export interface DecodedSnapshot {
  nodes: number;
  /** Offset where the first seal starts (everything before it is checksummed). */
  sealAt: number;
}

/**
 * Decode an uncompressed snapshot from a window over its bytes into a sink,
 * verifying the seals. A record that runs past the loaded bytes is decoded
 * again once the window has been refilled from its start.
 */
export function decodeSnapshot(input: ByteWindow, sink: SnapshotSink): DecodedSnapshot {
  const r = input.reader;
  if (r.remaining() < FILE_HEADER_BYTES) throw new SnapshotFormatError('file header cut short');
  const magic = r.int();
  const version = r.int();
  r.long();
  if (magic !== SNAP_MAGIC) throw new SnapshotFormatError(`not a snapshot (magic 0x${(magic >>> 0).toString(16)}, expected ZKSN)`);
  if (version !== FORMAT_VERSION) throw new SnapshotFormatError(`unsupported snapshot version ${version}`);
  let nodes = 0;
  try {
    let count = record(input, (rr) => rr.int());
    while (count-- > 0) {
      const [id, timeout] = record(input, (rr) => [rr.bigLong(), rr.int()] as const);
      sink.session(id, timeout);
    }
    let acls = record(input, (rr) => rr.int());
    while (acls-- > 0) {
      const [ref, list] = record(input, (rr) => {
        const ref = rr.long();
        const n = rr.vectorLength(12);
        const list: ACL[] = [];
        for (let i = 0; i < n; i++) list.push(readACL(rr));
        return [ref, list] as const;
      });
      sink.acl(ref, list);
    }
    // One record object for every node: the sink copies what it keeps. A
    // fresh literal per node was garbage among the survivors (the tree's
    // nodes and strings), which kept the collector copying them page by
    // page instead of promoting whole pages.
    const node: SnapshotNode = {
      data: null, acl: 0, czxid: 0, mzxid: 0, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, ownerHi: 0, ownerLo: 0, pzxid: 0,
    };
    for (;;) {
      const at = r.pos;
      let path: string | null;
      try {
        path = r.ustring();
        if (path === '/') break;
        node.data = r.latin1Buffer();
        node.acl = r.long();
        node.czxid = r.long();
        node.mzxid = r.long();
        node.ctime = r.long();
        node.mtime = r.long();
        node.version = r.int();
        node.cversion = r.int();
        node.aversion = r.int();
        node.ownerHi = r.longHi();
        node.ownerLo = r.longLo();
        node.pzxid = r.long();
      } catch (e) {
        if (e instanceof JuteError && e.truncated && input.refill(at)) continue;
        throw e;
      }
      if (path === null) throw new SnapshotFormatError('null path in the node list');
      sink.node(path, node);
      nodes++;
    }
  } catch (e) {
    if (e instanceof JuteError) throw new SnapshotFormatError(`truncated or malformed at offset ${input.base + r.pos}: ${e.message}`);
    throw e;
  }
  // What follows the nodes is a few dozen bytes: the seal and the optional sections.
  input.loadRest(r.pos);
  const sealAt = input.base + r.pos;
  try {
    checkSeal(r, input.adlerTo(r.pos), 'snapshot');
  } catch (e) {
    if (e instanceof JuteError) throw new SnapshotFormatError(`snapshot seal cut short at offset ${sealAt}: ${e.message}`);
    throw e;
  }
  // Optional sections, each sealed: ZxidDigest (3.6+), lastProcessedZxid (3.9).
  if (r.remaining() > 0) {
    const start = r.pos;
    try {
      r.long();
      const digestVersion = r.int();
      if (digestVersion < 2) r.ustring();
      else r.long();
      checkSeal(r, input.adlerTo(r.pos), 'digest section');
    } catch (e) {
      if (!(e instanceof JuteError)) throw e;
      r.pos = start;
    }
  }
  if (r.remaining() >= 8 + 8 + 5) {
    r.long();
    checkSeal(r, input.adlerTo(r.pos), 'last-processed-zxid section');
  }
  return { nodes, sealAt };
}

/** Decode one record of the header sections, refilling the window and decoding again if it runs past the loaded bytes. */
function record<T>(input: ByteWindow, decode: (r: Reader) => T): T {
  for (;;) {
    const at = input.reader.pos;
    try {
      return decode(input.reader);
    } catch (e) {
      if (e instanceof JuteError && e.truncated && input.refill(at)) continue;
      throw e;
    }
  }
}

function checkSeal(r: Reader, expected: number, what: string): void {
  const val = r.long();
  const slash = r.ustring();
  if (slash !== '/') throw new SnapshotFormatError(`${what}: seal has no "/" marker`);
  if ((val >>> 0) !== expected || val > 0xffffffff) {
    throw new SnapshotFormatError(`${what}: checksum mismatch (stored ${val.toString(16)}, computed ${expected.toString(16)})`);
  }
}
