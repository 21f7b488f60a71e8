// Every record of the client protocol (zookeeper.jute, module proto and
// data), with a read and a write function each. The server decodes requests
// and encodes responses; the test and bench clients do the reverse, so both
// directions live here and are tested against golden bytes.
//
// Record grammar notes:
//   ConnectRequest  = int protocolVersion, long lastZxidSeen, int timeOut,
//                     long sessionId, buffer passwd, [boolean readOnly]
//   ConnectResponse = int protocolVersion, int timeOut, long sessionId,
//                     buffer passwd, [boolean readOnly]
//   The trailing readOnly byte is optional on both: the server answers in the
//   shape the client used (44/45-byte request, 36/37-byte response body).
//   multi request   = (MultiHeader{type, done=false, err=-1} op)* MultiHeader{-1, true, -1}
//   multi response  = (MultiHeader{type, done=false, err} result)* MultiHeader{-1, true, -1}

import { Reader, JuteError } from './reader.js';
import { Writer } from './writer.js';
import { OpCode } from './opcodes.js';

export interface Id { scheme: string; id: string }
export interface ACL { perms: number; id: Id }
/**
 * An ACL as a create or setACL request carries it: either string may be null
 * on the wire (kazoo sends '' as a null string, as in its CREATOR_ALL_ACL's
 * auth id). fixupACL turns these into ACLs or refuses them.
 */
export interface RequestACL { perms: number; id: { scheme: string | null; id: string | null } }

export interface Stat {
  czxid: number;
  mzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: number;
}

export const STAT_BYTES = 68;

export function readId(r: Reader): Id {
  const scheme = r.ustring();
  const id = r.ustring();
  if (scheme === null || id === null) throw new JuteError('null in Id');
  return { scheme, id };
}

/** A request's ACL list: like readACLList, but null strings in an Id are kept (see RequestACL). */
export function readRequestACLList(r: Reader): RequestACL[] | null {
  const n = r.vectorLength(12);
  if (n === -1) return null;
  const out: RequestACL[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const perms = r.int();
    const scheme = r.ustring();
    out[i] = { perms, id: { scheme, id: r.ustring() } };
  }
  return out;
}

export function writeId(w: Writer, v: Id | RequestACL['id']): void {
  w.ustring(v.scheme).ustring(v.id);
}

export function readACL(r: Reader): ACL {
  const perms = r.int();
  return { perms, id: readId(r) };
}

export function writeACL(w: Writer, v: ACL | RequestACL): void {
  w.int(v.perms);
  writeId(w, v.id);
}

/** A vector<ACL>; null (-1) decodes as null. */
export function readACLList(r: Reader): ACL[] | null {
  const n = r.vectorLength(12);
  if (n === -1) return null;
  const out: ACL[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = readACL(r);
  return out;
}

export function writeACLList(w: Writer, v: readonly (ACL | RequestACL)[] | null): void {
  if (v === null) { w.int(-1); return; }
  w.int(v.length);
  for (const a of v) writeACL(w, a);
}

export function readStringList(r: Reader): string[] | null {
  const n = r.vectorLength(4);
  if (n === -1) return null;
  const out: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const s = r.ustring();
    if (s === null) throw new JuteError('null string in vector');
    out[i] = s;
  }
  return out;
}

export function writeStringList(w: Writer, v: readonly string[] | null): void {
  if (v === null) { w.int(-1); return; }
  w.int(v.length);
  for (const s of v) w.ustring(s);
}

export function readStat(r: Reader): Stat {
  return {
    czxid: r.long(),
    mzxid: r.long(),
    ctime: r.long(),
    mtime: r.long(),
    version: r.int(),
    cversion: r.int(),
    aversion: r.int(),
    ephemeralOwner: r.bigLong(),
    dataLength: r.int(),
    numChildren: r.int(),
    pzxid: r.long(),
  };
}

export function writeStat(w: Writer, s: Stat): void {
  w.long(s.czxid).long(s.mzxid).long(s.ctime).long(s.mtime)
    .int(s.version).int(s.cversion).int(s.aversion)
    .bigLong(s.ephemeralOwner).int(s.dataLength).int(s.numChildren).long(s.pzxid);
}

// ---- handshake -------------------------------------------------------------

export interface ConnectRequest {
  protocolVersion: number;
  lastZxidSeen: number;
  timeOut: number;
  sessionId: bigint;
  passwd: Uint8Array;
  readOnly: boolean;
  /** Whether the client sent the trailing readOnly byte; the response mirrors it. */
  withReadOnlyByte: boolean;
}

export function readConnectRequest(r: Reader): ConnectRequest {
  const protocolVersion = r.int();
  const lastZxidSeen = r.long();
  const timeOut = r.int();
  const sessionId = r.bigLong();
  const passwd = r.buffer() ?? new Uint8Array(0);
  let readOnly = false;
  let withReadOnlyByte = false;
  if (r.remaining() > 0) {
    readOnly = r.bool();
    withReadOnlyByte = true;
  }
  return { protocolVersion, lastZxidSeen, timeOut, sessionId, passwd, readOnly, withReadOnlyByte };
}

export function writeConnectRequest(w: Writer, v: ConnectRequest): void {
  w.int(v.protocolVersion).long(v.lastZxidSeen).int(v.timeOut).bigLong(v.sessionId).buffer(v.passwd);
  if (v.withReadOnlyByte) w.bool(v.readOnly);
}

export interface ConnectResponse {
  protocolVersion: number;
  timeOut: number;
  sessionId: bigint;
  passwd: Uint8Array;
  readOnly: boolean;
  withReadOnlyByte: boolean;
}

export function readConnectResponse(r: Reader): ConnectResponse {
  const protocolVersion = r.int();
  const timeOut = r.int();
  const sessionId = r.bigLong();
  const passwd = r.buffer() ?? new Uint8Array(0);
  let readOnly = false;
  let withReadOnlyByte = false;
  if (r.remaining() > 0) {
    readOnly = r.bool();
    withReadOnlyByte = true;
  }
  return { protocolVersion, timeOut, sessionId, passwd, readOnly, withReadOnlyByte };
}

export function writeConnectResponse(w: Writer, v: ConnectResponse): void {
  w.int(v.protocolVersion).int(v.timeOut).bigLong(v.sessionId).buffer(v.passwd);
  if (v.withReadOnlyByte) w.bool(v.readOnly);
}

// ---- headers ---------------------------------------------------------------

export interface RequestHeader { xid: number; type: number }
export interface ReplyHeader { xid: number; zxid: number; err: number }
export interface MultiHeader { type: number; done: boolean; err: number }

export function readRequestHeader(r: Reader): RequestHeader {
  return { xid: r.int(), type: r.int() };
}
export function writeRequestHeader(w: Writer, v: RequestHeader): void {
  w.int(v.xid).int(v.type);
}
export function readReplyHeader(r: Reader): ReplyHeader {
  return { xid: r.int(), zxid: r.long(), err: r.int() };
}
export function writeReplyHeader(w: Writer, v: ReplyHeader): void {
  w.int(v.xid).long(v.zxid).int(v.err);
}
export function readMultiHeader(r: Reader): MultiHeader {
  return { type: r.int(), done: r.bool(), err: r.int() };
}
export function writeMultiHeader(w: Writer, v: MultiHeader): void {
  w.int(v.type).bool(v.done).int(v.err);
}

// ---- requests --------------------------------------------------------------

export interface AuthPacket { type: number; scheme: string; auth: Uint8Array | null }
export function readAuthPacket(r: Reader): AuthPacket {
  const type = r.int();
  const scheme = r.ustring();
  if (scheme === null) throw new JuteError('null auth scheme');
  return { type, scheme, auth: r.buffer() };
}
export function writeAuthPacket(w: Writer, v: AuthPacket): void {
  w.int(v.type).ustring(v.scheme).buffer(v.auth);
}

/** GetDataRequest, ExistsRequest, GetChildrenRequest and GetChildren2Request share this shape. */
export interface PathWatchRequest { path: string; watch: boolean }
export function readPathWatch(r: Reader): PathWatchRequest {
  return { path: r.path(), watch: r.bool() };
}
export function writePathWatch(w: Writer, v: PathWatchRequest): void {
  w.ustring(v.path).bool(v.watch);
}

/** SyncRequest, GetACLRequest, GetAllChildrenNumberRequest, GetEphemeralsRequest, deleteContainer. */
export interface PathRequest { path: string }
export function readPathOnly(r: Reader): PathRequest {
  return { path: r.path() };
}
export function writePathOnly(w: Writer, v: PathRequest): void {
  w.ustring(v.path);
}

export interface SetDataRequest { path: string; data: Uint8Array | null; version: number }
export function readSetData(r: Reader): SetDataRequest {
  return { path: r.path(), data: r.buffer(), version: r.int() };
}
export function writeSetData(w: Writer, v: SetDataRequest): void {
  w.ustring(v.path).buffer(v.data).int(v.version);
}

export interface CreateRequest {
  path: string;
  data: Uint8Array | null;
  acl: RequestACL[] | null;
  flags: number;
  /** Only for createTTL (21); -1 otherwise. */
  ttl: number;
}
export function readCreate(r: Reader, withTtl: boolean): CreateRequest {
  const path = r.path();
  const data = r.buffer();
  const acl = readRequestACLList(r);
  const flags = r.int();
  const ttl = withTtl ? r.long() : -1;
  return { path, data, acl, flags, ttl };
}
export function writeCreate(w: Writer, v: CreateRequest, withTtl: boolean): void {
  w.ustring(v.path).buffer(v.data);
  writeACLList(w, v.acl);
  w.int(v.flags);
  if (withTtl) w.long(v.ttl);
}

/** DeleteRequest and CheckVersionRequest. */
export interface PathVersionRequest { path: string; version: number }
export function readPathVersion(r: Reader): PathVersionRequest {
  return { path: r.path(), version: r.int() };
}
export function writePathVersion(w: Writer, v: PathVersionRequest): void {
  w.ustring(v.path).int(v.version);
}

export interface SetACLRequest { path: string; acl: RequestACL[] | null; version: number }
export function readSetACL(r: Reader): SetACLRequest {
  const path = r.path();
  const acl = readRequestACLList(r);
  return { path, acl, version: r.int() };
}
export function writeSetACL(w: Writer, v: SetACLRequest): void {
  w.ustring(v.path);
  writeACLList(w, v.acl);
  w.int(v.version);
}

/** AddWatchRequest (mode), CheckWatchesRequest and RemoveWatchesRequest (type). */
export interface PathIntRequest { path: string; value: number }
export function readPathInt(r: Reader): PathIntRequest {
  return { path: r.path(), value: r.int() };
}
export function writePathInt(w: Writer, v: PathIntRequest): void {
  w.ustring(v.path).int(v.value);
}

export interface SetWatchesRequest {
  relativeZxid: number;
  dataWatches: string[];
  existWatches: string[];
  childWatches: string[];
  persistentWatches: string[];
  persistentRecursiveWatches: string[];
}
export function readSetWatches(r: Reader, v2: boolean): SetWatchesRequest {
  const relativeZxid = r.long();
  const dataWatches = readStringList(r) ?? [];
  const existWatches = readStringList(r) ?? [];
  const childWatches = readStringList(r) ?? [];
  const persistentWatches = v2 ? readStringList(r) ?? [] : [];
  const persistentRecursiveWatches = v2 ? readStringList(r) ?? [] : [];
  return { relativeZxid, dataWatches, existWatches, childWatches, persistentWatches, persistentRecursiveWatches };
}
export function writeSetWatches(w: Writer, v: SetWatchesRequest, v2: boolean): void {
  w.long(v.relativeZxid);
  writeStringList(w, v.dataWatches);
  writeStringList(w, v.existWatches);
  writeStringList(w, v.childWatches);
  if (v2) {
    writeStringList(w, v.persistentWatches);
    writeStringList(w, v.persistentRecursiveWatches);
  }
}

export interface ReconfigRequest {
  joiningServers: string | null;
  leavingServers: string | null;
  newMembers: string | null;
  curConfigId: number;
}
export function readReconfig(r: Reader): ReconfigRequest {
  return { joiningServers: r.ustring(), leavingServers: r.ustring(), newMembers: r.ustring(), curConfigId: r.long() };
}
export function writeReconfig(w: Writer, v: ReconfigRequest): void {
  w.ustring(v.joiningServers).ustring(v.leavingServers).ustring(v.newMembers).long(v.curConfigId);
}

/** GetSASLRequest / SetSASLResponse: one buffer. */
export function readToken(r: Reader): Uint8Array | null {
  return r.buffer();
}

// ---- multi -----------------------------------------------------------------

export type MultiOp =
  | { type: typeof OpCode.create | typeof OpCode.create2 | typeof OpCode.createContainer | typeof OpCode.createTTL; req: CreateRequest }
  | { type: typeof OpCode.delete | typeof OpCode.check; req: PathVersionRequest }
  | { type: typeof OpCode.setData; req: SetDataRequest }
  | { type: typeof OpCode.getData | typeof OpCode.getChildren; req: PathWatchRequest };

/** Decodes a MultiOperationRecord. Unknown op types are a marshalling error, as in Apache. */
export function readMultiRequest(r: Reader): MultiOp[] {
  const ops: MultiOp[] = [];
  for (;;) {
    const h = readMultiHeader(r);
    if (h.done) return ops;
    switch (h.type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
        ops.push({ type: h.type, req: readCreate(r, false) });
        break;
      case OpCode.createTTL:
        ops.push({ type: h.type, req: readCreate(r, true) });
        break;
      case OpCode.delete:
      case OpCode.check:
        ops.push({ type: h.type, req: readPathVersion(r) });
        break;
      case OpCode.setData:
        ops.push({ type: h.type, req: readSetData(r) });
        break;
      case OpCode.getData:
      case OpCode.getChildren:
        // GetDataRequest/GetChildrenRequest carry a watch flag; multiRead ignores it.
        ops.push({ type: h.type, req: readPathWatch(r) });
        break;
      default:
        throw new JuteError(`invalid op type ${h.type} in multi`);
    }
  }
}

export function writeMultiRequest(w: Writer, ops: readonly MultiOp[]): void {
  for (const op of ops) {
    writeMultiHeader(w, { type: op.type, done: false, err: -1 });
    switch (op.type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
        writeCreate(w, op.req, false);
        break;
      case OpCode.createTTL:
        writeCreate(w, op.req, true);
        break;
      case OpCode.delete:
      case OpCode.check:
        writePathVersion(w, op.req);
        break;
      case OpCode.setData:
        writeSetData(w, op.req);
        break;
      case OpCode.getData:
      case OpCode.getChildren:
        writePathWatch(w, op.req);
        break;
    }
  }
  writeMultiHeader(w, { type: -1, done: true, err: -1 });
}

export type MultiResult =
  | { type: typeof OpCode.create; path: string }
  | { type: typeof OpCode.create2; path: string; stat: Stat }
  | { type: typeof OpCode.delete | typeof OpCode.check }
  | { type: typeof OpCode.setData; stat: Stat }
  | { type: typeof OpCode.getData; data: Uint8Array | null; stat: Stat }
  | { type: typeof OpCode.getChildren; children: string[] }
  | { type: typeof OpCode.error; err: number };

export function readMultiResponse(r: Reader): MultiResult[] {
  const out: MultiResult[] = [];
  for (;;) {
    const h = readMultiHeader(r);
    if (h.done) return out;
    switch (h.type) {
      case OpCode.create: out.push({ type: h.type, path: r.path() }); break;
      case OpCode.create2: out.push({ type: h.type, path: r.path(), stat: readStat(r) }); break;
      case OpCode.delete:
      case OpCode.check: out.push({ type: h.type }); break;
      case OpCode.setData: out.push({ type: h.type, stat: readStat(r) }); break;
      case OpCode.getData: {
        const data = r.buffer();
        out.push({ type: h.type, data: data && Buffer.from(data), stat: readStat(r) });
        break;
      }
      case OpCode.getChildren: out.push({ type: h.type, children: readStringList(r) ?? [] }); break;
      case OpCode.error: out.push({ type: h.type, err: r.int() }); break;
      default: throw new JuteError(`invalid result type ${h.type} in multi response`);
    }
  }
}

export function writeMultiResponse(w: Writer, results: readonly MultiResult[]): void {
  for (const res of results) {
    writeMultiHeader(w, { type: res.type, done: false, err: res.type === OpCode.error ? res.err : 0 });
    switch (res.type) {
      case OpCode.create: w.ustring(res.path); break;
      case OpCode.create2: w.ustring(res.path); writeStat(w, res.stat); break;
      case OpCode.delete:
      case OpCode.check: break;
      case OpCode.setData: writeStat(w, res.stat); break;
      case OpCode.getData: w.buffer(res.data); writeStat(w, res.stat); break;
      case OpCode.getChildren: writeStringList(w, res.children); break;
      case OpCode.error: w.int(res.err); break;
    }
  }
  writeMultiHeader(w, { type: -1, done: true, err: -1 });
}

// ---- responses -------------------------------------------------------------

export interface WatcherEvent { type: number; state: number; path: string | null }
export function readWatcherEvent(r: Reader): WatcherEvent {
  return { type: r.int(), state: r.int(), path: r.ustring() };
}
export function writeWatcherEvent(w: Writer, v: WatcherEvent): void {
  w.int(v.type).int(v.state).ustring(v.path);
}

export interface GetDataResponse { data: Uint8Array | null; stat: Stat }
export function readGetDataResponse(r: Reader): GetDataResponse {
  const data = r.buffer();
  return { data: data && Buffer.from(data), stat: readStat(r) };
}

export interface GetChildren2Response { children: string[]; stat: Stat }
export function readGetChildren2Response(r: Reader): GetChildren2Response {
  return { children: readStringList(r) ?? [], stat: readStat(r) };
}

export interface Create2Response { path: string; stat: Stat }
export function readCreate2Response(r: Reader): Create2Response {
  return { path: r.path(), stat: readStat(r) };
}

export interface GetACLResponse { acl: ACL[]; stat: Stat }
export function readGetACLResponse(r: Reader): GetACLResponse {
  return { acl: readACLList(r) ?? [], stat: readStat(r) };
}

export interface ClientInfo { authScheme: string; user: string }
export function readWhoAmIResponse(r: Reader): ClientInfo[] {
  const n = r.vectorLength(8);
  const out: ClientInfo[] = [];
  for (let i = 0; i < n; i++) out.push({ authScheme: r.ustring() ?? '', user: r.ustring() ?? '' });
  return out;
}
export function writeClientInfo(w: Writer, v: ClientInfo): void {
  w.ustring(v.authScheme).ustring(v.user);
}
