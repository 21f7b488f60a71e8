// The client operations the simulator issues, how they go on the wire
// (request records as a ZooKeeper client writes them) and how their replies
// read back, as plain values the reference model can compare with.

import { OpCode, CreateFlag } from '../jute/opcodes.js';
import { Reader } from '../jute/reader.js';
import { Writer } from '../jute/writer.js';
import {
  readMultiResponse, readStat, readStringList, writeCreate, writeMultiRequest, writePathOnly, writePathVersion, writePathWatch,
  writeSetData, type ACL, type MultiOp, type Stat,
} from '../jute/records.js';

export const OPEN_ACL: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

export type SubOp =
  | { t: 'create'; path: string; data: Buffer | null; flags: number; withStat: boolean }
  | { t: 'delete'; path: string; version: number }
  | { t: 'setData'; path: string; data: Buffer | null; version: number }
  | { t: 'check'; path: string; version: number };

export type Op =
  | { t: 'create'; path: string; data: Buffer | null; flags: number; withStat: boolean }
  | { t: 'delete'; path: string; version: number }
  | { t: 'setData'; path: string; data: Buffer | null; version: number }
  | { t: 'multi'; ops: SubOp[] }
  | { t: 'exists' | 'getData' | 'getChildren' | 'getChildren2'; path: string; watch: boolean }
  | { t: 'sync'; path: string }
  | { t: 'closeSession' };

export function isWrite(op: Op): boolean {
  return op.t === 'create' || op.t === 'delete' || op.t === 'setData' || op.t === 'multi' || op.t === 'closeSession';
}

export function opCodeOf(op: Op): number {
  switch (op.t) {
    case 'create': return op.withStat ? OpCode.create2 : OpCode.create;
    case 'delete': return OpCode.delete;
    case 'setData': return OpCode.setData;
    case 'multi': return OpCode.multi;
    case 'exists': return OpCode.exists;
    case 'getData': return OpCode.getData;
    case 'getChildren': return OpCode.getChildren;
    case 'getChildren2': return OpCode.getChildren2;
    case 'sync': return OpCode.sync;
    case 'closeSession': return OpCode.closeSession;
  }
}

/** RequestHeader {xid, type} and the request record. */
export function encodeRequest(w: Writer, xid: number, op: Op): void {
  w.int(xid).int(opCodeOf(op));
  switch (op.t) {
    case 'create': writeCreate(w, { path: op.path, data: op.data, acl: OPEN_ACL, flags: op.flags, ttl: -1 }, false); break;
    case 'delete': writePathVersion(w, { path: op.path, version: op.version }); break;
    case 'setData': writeSetData(w, { path: op.path, data: op.data, version: op.version }); break;
    case 'multi': writeMultiRequest(w, op.ops.map(toMultiOp)); break;
    case 'exists':
    case 'getData':
    case 'getChildren':
    case 'getChildren2':
      writePathWatch(w, { path: op.path, watch: op.watch });
      break;
    case 'sync': writePathOnly(w, { path: op.path }); break;
    case 'closeSession': break;
  }
}

function toMultiOp(s: SubOp): MultiOp {
  switch (s.t) {
    case 'create':
      return { type: s.withStat ? OpCode.create2 : OpCode.create, req: { path: s.path, data: s.data, acl: OPEN_ACL, flags: s.flags, ttl: -1 } };
    case 'delete': return { type: OpCode.delete, req: { path: s.path, version: s.version } };
    case 'setData': return { type: OpCode.setData, req: { path: s.path, data: s.data, version: s.version } };
    case 'check': return { type: OpCode.check, req: { path: s.path, version: s.version } };
  }
}

export function describeOp(op: Op): string {
  const d = (b: Buffer | null): string => (b === null ? 'null' : `${b.length}B`);
  switch (op.t) {
    case 'create': return `${op.withStat ? 'create2' : 'create'} ${op.path} ${flagName(op.flags)} ${d(op.data)}`;
    case 'delete': return `delete ${op.path} v${op.version}`;
    case 'setData': return `setData ${op.path} v${op.version} ${d(op.data)}`;
    case 'multi': return `multi[${op.ops.map((s) => (s.t === 'check' ? `check ${s.path} v${s.version}` : describeOp(s))).join(', ')}]`;
    case 'exists':
    case 'getData':
    case 'getChildren':
    case 'getChildren2':
      return `${op.t} ${op.path}${op.watch ? ' watch' : ''}`;
    case 'sync': return `sync ${op.path}`;
    case 'closeSession': return 'closeSession';
  }
}

function flagName(flags: number): string {
  switch (flags) {
    case CreateFlag.PERSISTENT: return 'P';
    case CreateFlag.EPHEMERAL: return 'E';
    case CreateFlag.PERSISTENT_SEQUENTIAL: return 'PS';
    case CreateFlag.EPHEMERAL_SEQUENTIAL: return 'ES';
    default: return `flags=${flags}`;
  }
}

// ---- results ----------------------------------------------------------------

/** A Stat as the client sees it; ephemeralOwner as a bigint. */
export interface VStat {
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

export type SubResult =
  | { t: 'create'; path: string }
  | { t: 'create2'; path: string; stat: VStat }
  | { t: 'delete' }
  | { t: 'setData'; stat: VStat }
  | { t: 'check' }
  | { t: 'error'; err: number };

export type Result =
  | { t: 'none' }
  | { t: 'path'; path: string }
  | { t: 'pathStat'; path: string; stat: VStat }
  | { t: 'stat'; stat: VStat }
  | { t: 'data'; data: Buffer | null; stat: VStat }
  | { t: 'children'; children: string[]; stat: VStat | null }
  | { t: 'multi'; results: SubResult[] };

function vstat(s: Stat): VStat {
  return {
    czxid: s.czxid, mzxid: s.mzxid, ctime: s.ctime, mtime: s.mtime, version: s.version, cversion: s.cversion,
    aversion: s.aversion, ephemeralOwner: s.ephemeralOwner, dataLength: s.dataLength, numChildren: s.numChildren, pzxid: s.pzxid,
  };
}

/** Decode the record after the ReplyHeader of a successful reply to `op`. */
export function decodeResult(op: Op, body: Uint8Array): Result {
  const r = new Reader(body);
  switch (op.t) {
    case 'create': {
      const path = r.ustring() ?? '';
      return op.withStat ? { t: 'pathStat', path, stat: vstat(readStat(r)) } : { t: 'path', path };
    }
    case 'setData':
    case 'exists':
      return { t: 'stat', stat: vstat(readStat(r)) };
    case 'getData': {
      const d = r.buffer();
      return { t: 'data', data: d === null ? null : Buffer.from(d), stat: vstat(readStat(r)) };
    }
    case 'getChildren':
      return { t: 'children', children: (readStringList(r) ?? []).sort(), stat: null };
    case 'getChildren2': {
      const children = (readStringList(r) ?? []).sort();
      return { t: 'children', children, stat: vstat(readStat(r)) };
    }
    case 'sync':
      return { t: 'path', path: r.ustring() ?? '' };
    case 'multi':
      return {
        t: 'multi',
        results: readMultiResponse(r).map((m): SubResult => {
          switch (m.type) {
            case OpCode.create: return { t: 'create', path: m.path };
            case OpCode.create2: return { t: 'create2', path: m.path, stat: vstat(m.stat) };
            case OpCode.delete: return { t: 'delete' };
            case OpCode.setData: return { t: 'setData', stat: vstat(m.stat) };
            case OpCode.check: return { t: 'check' };
            case OpCode.error: return { t: 'error', err: m.err };
            default: throw new Error(`unexpected multi result type ${m.type}`);
          }
        }),
      };
    case 'delete':
    case 'closeSession':
      return { t: 'none' };
  }
}

/** A readable rendering for comparisons and failure messages. */
export function showResult(r: Result | SubResult): string {
  return JSON.stringify(r, (_k, v: unknown) => {
    if (typeof v === 'bigint') return `0x${v.toString(16)}`;
    if (v !== null && typeof v === 'object' && (v as { type?: string }).type === 'Buffer') {
      return `bytes:${Buffer.from((v as { data: number[] }).data).toString('hex')}`;
    }
    return v;
  });
}
