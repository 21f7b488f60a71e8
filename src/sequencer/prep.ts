// Prep: turn a client write into a txn, validated against the tree as it
// will be once every outstanding proposal is applied. Those not-yet-applied
// effects are ChangeRecords (Apache's outstandingChanges): the newest record
// for a path shadows the tree. Records are dropped once their zxid is applied.
//
// The order of checks per operation is Apache's (PrepRequestProcessor), since
// it decides which error a client sees when several apply.

import { OpCode, createModeOf, opName, Perms } from '../jute/opcodes.js';
import { Err, KeeperError } from '../jute/errors.js';
import { JuteError, type Reader } from '../jute/reader.js';
import {
  readCreate, readPathVersion, readSetACL, readSetData, readMultiRequest, readReconfig,
  type ACL, type CreateRequest, type PathVersionRequest, type SetDataRequest,
} from '../jute/records.js';
import type { Txn } from '../jute/txn.js';
import { latin1FromBytes } from '../jute/latin1.js';
import { checkACL, fixupACL, type AclPolicy, type AuthInfo } from '../tree/acl.js';
import type { DataTree } from '../tree/data-tree.js';
import { isSpecialPath, pathError } from '../tree/paths.js';
import { EPHEMERAL_SESSION, ephemeralType } from '../tree/znode.js';
import { ttlOwner } from '../tree/data-tree.js';
import { LIMIT_NODE, STATS_NODE, StatsTrack, quotaPathOf, quotaText, topNamespace } from '../tree/quotas.js';
import type { Session } from './session.js';
import { Fifo } from '../util/fifo.js';

/** The state of one path as prep sees it; `exists` false records a pending delete. */
export class ChangeRecord {
  constructor(
    readonly zxid: number,
    readonly path: string,
    public exists: boolean,
    public version: number,
    /** Persisted form: count of child creations. */
    public cversion: number,
    public aversion: number,
    public ownerHi: number,
    public ownerLo: number,
    public childCount: number,
    public acl: readonly ACL[],
    /** Bytes of data (for quota checks). */
    public dataLength: number,
  ) {}

  duplicate(zxid: number): ChangeRecord {
    return new ChangeRecord(zxid, this.path, this.exists, this.version, this.cversion, this.aversion,
      this.ownerHi, this.ownerLo, this.childCount, this.acl, this.dataLength);
  }
}

/** Apache's sequential suffix: String.format("%010d", cversion). */
export function sequenceSuffix(n: number): string {
  if (n < 0) return '-' + String(-n).padStart(9, '0');
  return String(n).padStart(10, '0');
}

export interface PrepOptions {
  extendedTypes: boolean;
  reconfigEnabled: boolean;
  policy: AclPolicy;
  /** enforceQuota: hard quota limits refuse writes with QUOTAEXCEEDED. */
  enforceQuota: boolean;
}

export class Prep {
  /** Pending change records, oldest first (applied in that order). */
  private readonly records = new Fifo<ChangeRecord>(64);
  private readonly byPath = new Map<string, ChangeRecord>();
  /** While a multi is prepped: what each add() replaced, to roll back on failure. */
  private undo: [string, ChangeRecord | undefined][] | null = null;

  /** Writes refused by a hard quota, per top-level namespace of the written path (Apache's quota_exceeded_error_per_namespace). */
  readonly quotaExceeded = new Map<string, number>();

  constructor(private readonly tree: DataTree, private readonly opts: PrepOptions) {}

  get outstandingCount(): number {
    return this.records.size;
  }

  private recordFor(path: string): ChangeRecord {
    const pending = this.byPath.get(path);
    if (pending !== undefined) {
      if (!pending.exists) throw new KeeperError(Err.NONODE, path);
      return pending;
    }
    const n = this.tree.getNode(path);
    if (n === undefined) throw new KeeperError(Err.NONODE, path);
    return new ChangeRecord(-1, path, true, n.version, n.cversion, n.aversion, n.ownerHi, n.ownerLo,
      n.numChildren, this.tree.aclOf(n), n.dataLength);
  }

  private add(c: ChangeRecord): void {
    if (this.undo !== null) this.undo.push([c.path, this.byPath.get(c.path)]);
    this.records.push(c);
    this.byPath.set(c.path, c);
  }

  /** Forget every pending change (their txns failed: none of them will be applied). */
  reset(): void {
    this.records.clear();
    this.byPath.clear();
    this.undo = null;
  }

  /** Forget records made by txns up to and including zxid (they are in the tree now). */
  applied(zxid: number): void {
    const recs = this.records;
    while (recs.size > 0 && recs.peek()!.zxid <= zxid) {
      const c = recs.shift()!;
      if (this.byPath.get(c.path) === c) this.byPath.delete(c.path);
    }
  }

  /** Apache's ZooKeeperServer.checkQuota: only hard limits refuse, and only with enforceQuota. */
  private checkQuota(path: string, bytesDiff: number, countDiff: number): void {
    if (!this.opts.enforceQuota) return;
    const prefix = this.tree.quotaPrefixOf(path);
    if (prefix === null) return;
    const limits = this.quotaNode(`${quotaPathOf(prefix)}/${LIMIT_NODE}`);
    if (limits === null) return;
    const checkCount = countDiff !== 0 && (limits.count > -1 || limits.countHardLimit > -1);
    const checkBytes = bytesDiff !== 0 && (limits.bytes > -1 || limits.byteHardLimit > -1);
    if (!checkCount && !checkBytes) return;
    const current = this.quotaNode(`${quotaPathOf(prefix)}/${STATS_NODE}`);
    if (current === null) return;
    if ((checkCount && limits.countHardLimit > -1 && current.count + countDiff > limits.countHardLimit) ||
        (checkBytes && limits.byteHardLimit > -1 && current.bytes + bytesDiff > limits.byteHardLimit)) {
      const ns = topNamespace(path);
      if (ns !== null) this.quotaExceeded.set(ns, (this.quotaExceeded.get(ns) ?? 0) + 1);
      throw new KeeperError(Err.QUOTAEXCEEDED, prefix);
    }
  }

  /**
   * A quota's limits or stats node for checkQuota, read as Apache reads it
   * (StatsTrack.strict); null when the node is missing (Apache logs and lets
   * the write through). Data Apache cannot parse fails the request as
   * Apache's parse error does (JuteError: MARSHALLINGERROR, a zxid used).
   */
  private quotaNode(path: string): StatsTrack | null {
    const node = this.tree.getNode(path);
    if (node === undefined) return null;
    const t = StatsTrack.strict(node.data);
    if (t === null) throw new JuteError(`${path} holds ${JSON.stringify(quotaText(node.data))}, which is not a quota in a form ZooKeeper reads`);
    return t;
  }

  private checkSession(session: Session): void {
    if (session.closing) throw new KeeperError(Err.SESSIONEXPIRED);
  }

  /**
   * Build the txn for a client write of `type` whose request record is at
   * the reader. Throws KeeperError for a refused write (the caller logs an
   * ErrorTxn in its place, as Apache does) and JuteError for a malformed
   * record (MARSHALLINGERROR).
   */
  prepare(type: number, r: Reader, zxid: number, session: Session, authInfo: AuthInfo): Txn {
    switch (type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL:
        return this.create(type, readCreate(r, type === OpCode.createTTL), zxid, session, authInfo);
      case OpCode.delete:
        return this.delete(readPathVersion(r), zxid, session, authInfo);
      case OpCode.setData:
        return this.setData(readSetData(r), zxid, session, authInfo);
      case OpCode.multi:
        return this.multi(r, zxid, session, authInfo);
      case OpCode.setACL:
        return this.setACL(r, zxid, session, authInfo);
      case OpCode.deleteContainer:
        // Only the server's own reaper deletes containers. Apache 3.8 reads this
        // request's body as a raw path, so a client's Jute-encoded request gets
        // BADARGUMENTS; zoonode refuses every client deleteContainer the same way.
        throw new KeeperError(Err.BADARGUMENTS);
      case OpCode.reconfig:
        // Apache decodes the request before anything else: a malformed one is a MARSHALLINGERROR even when reconfig is off.
        readReconfig(r);
        if (!this.opts.reconfigEnabled) throw new KeeperError(Err.RECONFIGDISABLED);
        this.checkSession(session);
        // Standalone: reconfiguration is not supported (as Apache).
        throw new KeeperError(Err.UNIMPLEMENTED);
      default:
        throw new KeeperError(Err.UNIMPLEMENTED);
    }
  }

  /**
   * multi: every op prepped with the same zxid, in order. The first refused
   * op becomes an error sub-txn, the ones after it RUNTIMEINCONSISTENCY, and
   * the change records of the ops before it are rolled back: nothing of a
   * failed multi is visible to later requests. A read op inside a multi is a
   * marshalling error (as Apache answers it).
   */
  private multi(r: Reader, zxid: number, session: Session, authInfo: AuthInfo): Txn {
    const ops = readMultiRequest(r);
    for (const op of ops) {
      if (op.type === OpCode.getData || op.type === OpCode.getChildren) throw new KeeperError(Err.MARSHALLINGERROR);
    }
    const txns: Txn[] = [];
    const undo: [string, ChangeRecord | undefined][] = [];
    const recordsBefore = this.records.size;
    this.undo = undo;
    let failed = false;
    try {
      for (const op of ops) {
        if (failed) {
          txns.push({ type: OpCode.error, err: Err.RUNTIMEINCONSISTENCY });
          continue;
        }
        try {
          switch (op.type) {
            case OpCode.create:
            case OpCode.create2:
            case OpCode.createContainer:
            case OpCode.createTTL: {
              const type = multiCreateType(op.type, op.req.flags);
              // A createTTL op whose mode is no TTL mode is a plain create: its ttl is dropped.
              const req = type !== OpCode.createTTL && op.req.ttl !== -1 ? { ...op.req, ttl: -1 } : op.req;
              txns.push(this.create(type, req, zxid, session, authInfo));
              break;
            }
            case OpCode.delete:
              txns.push(this.delete(op.req, zxid, session, authInfo));
              break;
            case OpCode.setData:
              txns.push(this.setData(op.req, zxid, session, authInfo));
              break;
            case OpCode.check:
              txns.push(this.check(op.req, session, authInfo));
              break;
          }
        } catch (e) {
          // Roll back the ops before this one. A KeeperError fails this op
          // only; anything else (a malformed ACL) fails the whole request.
          this.records.truncate(recordsBefore);
          for (let i = undo.length - 1; i >= 0; i--) {
            const [path, prev] = undo[i]!;
            if (prev === undefined) this.byPath.delete(path);
            else this.byPath.set(path, prev);
          }
          undo.length = 0;
          if (!(e instanceof KeeperError)) throw e;
          failed = true;
          txns.push({ type: OpCode.error, err: e.code });
        }
      }
    } finally {
      this.undo = null;
    }
    return { type: OpCode.multi, txns };
  }

  private check(req: PathVersionRequest, session: Session, authInfo: AuthInfo): Txn {
    this.checkSession(session);
    const path = req.path;
    if (pathError(path) !== null) throw new KeeperError(Err.BADARGUMENTS, path);
    const node = this.recordFor(path);
    checkACL(this.opts.policy, node.acl, Perms.READ, authInfo, path);
    if (req.version !== -1 && req.version !== node.version) throw new KeeperError(Err.BADVERSION, path);
    // Apache stores the incremented version in a CheckVersionTxn; applying it changes nothing.
    return { type: OpCode.check, path, version: (node.version + 1) | 0 };
  }

  private create(type: number, req: CreateRequest, zxid: number, session: Session, authInfo: AuthInfo): Txn {
    const mode = createModeOf(req.flags);
    if (mode === undefined) throw new KeeperError(Err.BADARGUMENTS, req.path);
    // validateCreateRequest
    if (mode.ttl && !this.opts.extendedTypes) throw new KeeperError(Err.UNIMPLEMENTED);
    if (mode.ttl) {
      if (req.ttl <= 0 || req.ttl > 0xffffffffff) throw new KeeperError(Err.BADARGUMENTS, req.path);
    } else if (req.ttl >= 0) {
      throw new KeeperError(Err.BADARGUMENTS, req.path);
    }
    // createTTL with a mode that is not a TTL mode: Apache 3.8 logs the txn
    // and then dies applying it (a TTL owner from ttl -1), and cannot restart
    // on that log. zoonode refuses it.
    if (type === OpCode.createTTL && !mode.ttl) throw new KeeperError(Err.BADARGUMENTS, req.path);
    this.checkSession(session);
    // validatePathForCreate
    let path = req.path;
    const slash = path.lastIndexOf('/');
    if (slash === -1 || path.indexOf('\u0000') !== -1) throw new KeeperError(Err.BADARGUMENTS, path);
    const parentPath = path.substring(0, slash);
    const acl = fixupACL(path, authInfo, req.acl, this.opts.policy);
    const parent = this.recordFor(parentPath);
    checkACL(this.opts.policy, parent.acl, Perms.CREATE, authInfo, path);
    if (mode.sequential) path = path + sequenceSuffix(parent.cversion);
    if (pathError(path) !== null) throw new KeeperError(Err.BADARGUMENTS, path);
    const existing = this.byPath.get(path);
    if (existing !== undefined ? existing.exists : this.tree.getNode(path) !== undefined) {
      throw new KeeperError(Err.NODEEXISTS, path);
    }
    if (ephemeralType(parent.ownerHi, parent.ownerLo, this.opts.extendedTypes) === EPHEMERAL_SESSION) {
      throw new KeeperError(Err.NOCHILDRENFOREPHEMERALS, path);
    }
    const newCversion = (parent.cversion + 1) | 0;
    this.checkQuota(path, req.data === null ? 0 : req.data.length, 1);
    let txn: Txn;
    let ownerHi = 0;
    let ownerLo = 0;
    if (type === OpCode.createContainer) {
      txn = { type, path, data: latin1FromBytes(req.data), acl, parentCVersion: newCversion };
      ownerHi = 0x80000000 | 0;
    } else if (type === OpCode.createTTL) {
      txn = { type, path, data: latin1FromBytes(req.data), acl, parentCVersion: newCversion, ttl: req.ttl };
      [ownerHi, ownerLo] = ttlOwner(req.ttl);
    } else {
      txn = { type: type as typeof OpCode.create, path, data: latin1FromBytes(req.data), acl, ephemeral: mode.ephemeral, parentCVersion: newCversion };
      if (mode.ephemeral) {
        ownerHi = session.idHi;
        ownerLo = session.idLo;
      }
    }
    const p = parent.duplicate(zxid);
    p.childCount++;
    p.cversion = newCversion;
    this.add(p);
    this.add(new ChangeRecord(zxid, path, true, 0, 0, 0, ownerHi, ownerLo, 0, acl, req.data === null ? 0 : req.data.length));
    return txn;
  }

  private delete(req: PathVersionRequest, zxid: number, session: Session, authInfo: AuthInfo): Txn {
    this.checkSession(session);
    const path = req.path;
    const slash = path.lastIndexOf('/');
    if (slash === -1 || path.indexOf('\u0000') !== -1 || isSpecialPath(path)) throw new KeeperError(Err.BADARGUMENTS, path);
    const parentPath = path.substring(0, slash);
    const parent = this.recordFor(parentPath);
    checkACL(this.opts.policy, parent.acl, Perms.DELETE, authInfo, path);
    const node = this.recordFor(path);
    if (req.version !== -1 && req.version !== node.version) throw new KeeperError(Err.BADVERSION, path);
    if (node.childCount > 0) throw new KeeperError(Err.NOTEMPTY, path);
    const p = parent.duplicate(zxid);
    p.childCount--;
    this.add(p);
    this.add(new ChangeRecord(zxid, path, false, 0, 0, 0, 0, 0, 0, node.acl, 0));
    return { type: OpCode.delete, path };
  }

  private setData(req: SetDataRequest, zxid: number, session: Session, authInfo: AuthInfo): Txn {
    this.checkSession(session);
    const path = req.path;
    if (pathError(path) !== null) throw new KeeperError(Err.BADARGUMENTS, path);
    const node = this.recordFor(path);
    checkACL(this.opts.policy, node.acl, Perms.WRITE, authInfo, path);
    this.checkQuota(path, (req.data === null ? 0 : req.data.length) - node.dataLength, 0);
    if (req.version !== -1 && req.version !== node.version) throw new KeeperError(Err.BADVERSION, path);
    const newVersion = (node.version + 1) | 0;
    const c = node.duplicate(zxid);
    c.version = newVersion;
    c.dataLength = req.data === null ? 0 : req.data.length;
    this.add(c);
    return { type: OpCode.setData, path, data: latin1FromBytes(req.data), version: newVersion };
  }

  private setACL(r: Reader, zxid: number, session: Session, authInfo: AuthInfo): Txn {
    const req = readSetACL(r);
    this.checkSession(session);
    const path = req.path;
    if (pathError(path) !== null) throw new KeeperError(Err.BADARGUMENTS, path);
    const acl = fixupACL(path, authInfo, req.acl, this.opts.policy);
    const node = this.recordFor(path);
    checkACL(this.opts.policy, node.acl, Perms.ADMIN, authInfo, path);
    if (req.version !== -1 && req.version !== node.aversion) throw new KeeperError(Err.BADVERSION, path);
    const newVersion = (node.aversion + 1) | 0;
    const c = node.duplicate(zxid);
    c.aversion = newVersion;
    c.acl = acl;
    this.add(c);
    return { type: OpCode.setACL, path, acl, version: newVersion };
  }

  /**
   * deleteContainer from the reaper: the node must still be empty and must
   * not be a session's ephemeral (Apache's rules; no ACL check).
   */
  deleteContainer(path: string, zxid: number): Txn {
    const slash = path.lastIndexOf('/');
    if (slash === -1 || path.indexOf('\u0000') !== -1 || isSpecialPath(path)) throw new KeeperError(Err.BADARGUMENTS, path);
    const node = this.recordFor(path);
    if (node.childCount > 0) throw new KeeperError(Err.NOTEMPTY, path);
    if (ephemeralType(node.ownerHi, node.ownerLo, this.opts.extendedTypes) === EPHEMERAL_SESSION) {
      throw new KeeperError(Err.BADVERSION, path);
    }
    const parent = this.recordFor(path.substring(0, slash));
    const p = parent.duplicate(zxid);
    p.childCount--;
    this.add(p);
    this.add(new ChangeRecord(zxid, path, false, 0, 0, 0, 0, 0, 0, node.acl, 0));
    return { type: OpCode.deleteContainer, path };
  }

  /** closeSession (client close or expiry): delete the session's ephemerals, including pending ones. */
  closeSession(session: Session, zxid: number): Txn {
    // Apache clones the session's HashSet, applies the pending changes to the
    // clone and deletes in the clone's order (the txn lists that order).
    const changes: [boolean, string][] = [];
    for (let i = 0; i < this.records.size; i++) {
      const c = this.records.at(i);
      if (!c.exists) changes.push([false, c.path]);
      else if (c.ownerHi === session.idHi && c.ownerLo === session.idLo) changes.push([true, c.path]);
    }
    const paths = this.tree.ephemeralsOf(session.idHi, session.idLo).cloneOrder(changes);
    for (const path of paths) {
      this.add(new ChangeRecord(zxid, path, false, 0, 0, 0, 0, 0, 0, [], 0));
    }
    session.closing = true;
    return { type: OpCode.closeSession, paths2Delete: paths };
  }
}

/**
 * The type a create op inside a multi is carried out as. Apache builds each
 * op from its header and its create mode: a TTL mode makes it a createTTL, the
 * container mode a createContainer, and any other mode keeps the header's
 * type (3.9; 3.8 makes that a create, so a create2 there answers no Stat), or
 * makes a createTTL header a create. A TTL mode under a create, create2 or
 * createContainer header is a malformed request: 3.8 fails the whole multi
 * with MARSHALLINGERROR when it reaches that op, as zoonode does. A flag that
 * is no mode keeps the header's type and is refused as that op
 * (BADARGUMENTS).
 */
export function multiCreateType(header: number, flags: number): number {
  const mode = createModeOf(flags);
  if (mode === undefined) return header === OpCode.createTTL ? OpCode.create : header;
  if (mode.ttl) {
    if (header !== OpCode.createTTL) throw new JuteError(`create mode ${flags} (TTL) in a ${opName(header)} op of a multi`);
    return OpCode.createTTL;
  }
  if (mode.container) return OpCode.createContainer;
  return header === OpCode.createTTL ? OpCode.create : header;
}
