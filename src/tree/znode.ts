// One znode. Stat fields are stored as Apache persists them (StatPersisted):
// cversion counts child creations only; clients see cversion*2 - numChildren,
// which counts creations plus deletions. ephemeralOwner is kept as two int32
// words so hot paths never build a bigint.

import { Writer } from '../jute/writer.js';
import { hiLoToNumber, numberHi, numberLo } from '../util/long.js';
import { grown, hashSetOrder } from '../util/java-hash-set.js';
import { SpillMap, spillShardMaxDefault } from '../util/spill-map.js';

/** A node's children by name: a Map, or a SpillMap past V8's 2^24-entry Map ceiling. */
export type ChildMap = Map<string, ZNode> | SpillMap<string, ZNode>;

/**
 * The tables of the nodes whose children's HashSet in Apache has grown past
 * its first 8 buckets (see ZNode.childTable). Few nodes ever hold more than 6
 * children at once, so this costs less than a field on every node.
 */
const grownTables = new WeakMap<ZNode, number>();

export class ZNode {
  /** The bytes as a one-byte (latin1) string (see src/jute/latin1.ts). */
  data: string | null;
  acl: number;
  czxid: number;
  mzxid: number;
  pzxid: number;
  /**
   * ctime and mtime (ms since the epoch), each as its high and low 32-bit
   * words: V8 boxes a field holding a number beyond int32, as every time is,
   * in a 16-byte object of its own (8 bytes for the field and 16 for the
   * box, against 16 for two small integers kept in the node). The ctime and
   * mtime accessors below join and split them. Zxids stay single fields:
   * below epoch 1 (a standalone server) they are small integers already, and
   * splitting them would cost 8 bytes each there to save 8 in an ensemble.
   */
  ctimeHi: number;
  ctimeLo: number;
  mtimeHi: number;
  mtimeLo: number;
  version = 0;
  cversion = 0;
  aversion = 0;
  ownerHi: number;
  ownerLo: number;
  /** Children by name (null when there are none): walks of the tree follow these, never the path map. */
  children: ChildMap | null = null;

  constructor(data: string | null, acl: number, zxid: number, time: number, ownerHi: number, ownerLo: number) {
    this.data = data;
    this.acl = acl;
    this.czxid = zxid;
    this.mzxid = zxid;
    this.pzxid = zxid;
    const tHi = numberHi(time);
    const tLo = numberLo(time);
    this.ctimeHi = tHi;
    this.ctimeLo = tLo;
    this.mtimeHi = tHi;
    this.mtimeLo = tLo;
    this.ownerHi = ownerHi;
    this.ownerLo = ownerLo;
  }

  get ctime(): number {
    return hiLoToNumber(this.ctimeHi, this.ctimeLo);
  }

  set ctime(v: number) {
    this.ctimeHi = numberHi(v);
    this.ctimeLo = numberLo(v);
  }

  get mtime(): number {
    return hiLoToNumber(this.mtimeHi, this.mtimeLo);
  }

  set mtime(v: number) {
    this.mtimeHi = numberHi(v);
    this.mtimeLo = numberLo(v);
  }

  get numChildren(): number {
    return this.children === null ? 0 : this.children.size;
  }

  get dataLength(): number {
    return this.data === null ? 0 : this.data.length;
  }

  addChild(name: string, child: ZNode): void {
    let children = this.children;
    if (children === null) children = this.children = new Map();
    else if (children instanceof Map && children.size >= spillShardMaxDefault) children = this.children = SpillMap.adopt(children);
    const before = children.size;
    children.set(name, child);
    const size = children.size;
    // The set doubles when an add takes it past 3/4 of its table, so only at sizes 7, 13, 25, 49, ...
    if (size !== before && size > 6 && (size - 1) % 3 === 0 && (((size - 1) / 3) & ((size - 1) / 3 - 1)) === 0) {
      const table = grownTables.get(this) ?? 8;
      const next = grown(table, size);
      if (next !== table) grownTables.set(this, next);
    }
  }

  /**
   * The table size of the HashSet Apache keeps this node's children in: 8
   * at first, doubled when the children pass 3/4 of it, and never shrunk
   * (an emptied set stays). With `children` in the order they were added it
   * gives Apache's order (`childNames`).
   */
  get childTable(): number {
    return grownTables.get(this) ?? 8;
  }

  /** The children's names in the order Apache lists them (its HashSet's order). */
  childNames(): string[] {
    const children = this.children;
    if (children === null) return [];
    return hashSetOrder([...children.keys()], this.childTable);
  }

  removeChild(name: string): boolean {
    if (this.children === null) return false;
    const removed = this.children.delete(name);
    if (this.children.size === 0) this.children = null;
    return removed;
  }
}

export const EPHEMERAL_NONE = 0;
export const EPHEMERAL_SESSION = 1;
export const EPHEMERAL_CONTAINER = 2;
export const EPHEMERAL_TTL = 3;

/** Container owner: only the top bit set. */
export const CONTAINER_OWNER_HI = 0x80000000 | 0;

/** Apache's EphemeralType.get, on the (hi, lo) words of ephemeralOwner. */
export function ephemeralType(hi: number, lo: number, extendedTypes: boolean): number {
  if (extendedTypes && (hi >>> 24) === 0xff) return EPHEMERAL_TTL;
  if (hi === CONTAINER_OWNER_HI && lo === 0) return EPHEMERAL_CONTAINER;
  return hi === 0 && lo === 0 ? EPHEMERAL_NONE : EPHEMERAL_SESSION;
}

/** Writes the client-visible Stat (68 bytes). Containers and TTL nodes show ephemeralOwner 0. */
export function writeNodeStat(w: Writer, n: ZNode, extendedTypes: boolean): void {
  const numChildren = n.children === null ? 0 : n.children.size;
  w.long(n.czxid).long(n.mzxid).longHiLo(n.ctimeHi, n.ctimeLo).longHiLo(n.mtimeHi, n.mtimeLo)
    .int(n.version).int(n.cversion * 2 - numChildren).int(n.aversion);
  const t = ephemeralType(n.ownerHi, n.ownerLo, extendedTypes);
  if (t === EPHEMERAL_SESSION) w.longHiLo(n.ownerHi, n.ownerLo);
  else w.longHiLo(0, 0);
  w.int(n.data === null ? 0 : n.data.length).int(numChildren).long(n.pzxid);
}
