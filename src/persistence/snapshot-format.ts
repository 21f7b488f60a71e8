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
    keys(): Iterable<string>;
  } | null;
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
  /** Nodes arrive in pre-order: a node's parent has always arrived before it. */
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

  constructor(private readonly source: SnapshotSource) {}

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
      if (node === undefined) continue;
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
      this.stack.push({ path, parent, names: [...parent.children.keys()], i: 0 });
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
 * Decode an uncompressed snapshot into a sink, verifying the seals. `adlerOf`
 * computes the Adler-32 of a prefix of the bytes.
 */
export function decodeSnapshot(bytes: Buffer, sink: SnapshotSink, adlerOf: (end: number) => number): DecodedSnapshot {
  const r = new Reader(bytes);
  if (bytes.length < FILE_HEADER_BYTES) throw new SnapshotFormatError('file header cut short');
  const magic = r.int();
  const version = r.int();
  r.long();
  if (magic !== SNAP_MAGIC) throw new SnapshotFormatError(`not a snapshot (magic 0x${(magic >>> 0).toString(16)}, expected ZKSN)`);
  if (version !== FORMAT_VERSION) throw new SnapshotFormatError(`unsupported snapshot version ${version}`);
  let nodes = 0;
  try {
    let count = r.int();
    while (count-- > 0) {
      const id = r.bigLong();
      sink.session(id, r.int());
    }
    let acls = r.int();
    while (acls-- > 0) {
      const ref = r.long();
      const n = r.vectorLength(12);
      const list: ACL[] = [];
      for (let i = 0; i < n; i++) list.push(readACL(r));
      sink.acl(ref, list);
    }
    for (;;) {
      const path = r.ustring();
      if (path === null) throw new SnapshotFormatError('null path in the node list');
      if (path === '/') break;
      const node: SnapshotNode = {
        data: r.latin1Buffer(),
        acl: r.long(),
        czxid: r.long(),
        mzxid: r.long(),
        ctime: r.long(),
        mtime: r.long(),
        version: r.int(),
        cversion: r.int(),
        aversion: r.int(),
        ownerHi: r.longHi(),
        ownerLo: r.longLo(),
        pzxid: r.long(),
      };
      sink.node(path, node);
      nodes++;
    }
  } catch (e) {
    if (e instanceof JuteError) throw new SnapshotFormatError(`truncated or malformed at offset ${r.pos}: ${e.message}`);
    throw e;
  }
  const sealAt = r.pos;
  checkSeal(r, adlerOf(sealAt), 'snapshot');
  // Optional sections, each sealed: ZxidDigest (3.6+), lastProcessedZxid (3.9).
  if (r.remaining() > 0) {
    const start = r.pos;
    try {
      r.long();
      const digestVersion = r.int();
      if (digestVersion < 2) r.ustring();
      else r.long();
      checkSeal(r, adlerOf(r.pos), 'digest section');
    } catch (e) {
      if (!(e instanceof JuteError)) throw e;
      r.pos = start;
    }
  }
  if (r.remaining() >= 8 + 8 + 5) {
    r.long();
    checkSeal(r, adlerOf(r.pos), 'last-processed-zxid section');
  }
  return { nodes, sealAt };
}

function checkSeal(r: Reader, expected: number, what: string): void {
  const val = r.long();
  const slash = r.ustring();
  if (slash !== '/') throw new SnapshotFormatError(`${what}: seal has no "/" marker`);
  if ((val >>> 0) !== expected || val > 0xffffffff) {
    throw new SnapshotFormatError(`${what}: checksum mismatch (stored ${val.toString(16)}, computed ${expected.toString(16)})`);
  }
}
