// Transaction records (zookeeper.jute module txn): what the sequencer
// proposes, the txn log stores, and the DataTree applies.
//
//   TxnHeader = long clientId, int cxid, long zxid, long time, int type
//   body by type:
//     create, create2      CreateTxn          {path, data, acl, ephemeral, parentCVersion}
//     createContainer      CreateContainerTxn {path, data, acl, parentCVersion}
//     createTTL            CreateTTLTxn       {path, data, acl, parentCVersion, ttl}
//     delete, deleteContainer DeleteTxn       {path}
//     setData, reconfig    SetDataTxn         {path, data, version}
//     setACL               SetACLTxn          {path, acl, version}
//     check                CheckVersionTxn    {path, version}
//     createSession        CreateSessionTxn   {timeOut}
//     closeSession         CloseSessionTxn    {paths2Delete} (absent in old logs)
//     error                ErrorTxn           {err}
//     multi                MultiTxn           {vector<Txn{int type, buffer data}>}
//
// Znode data in these records is a one-byte (latin1) string, as the tree keeps it
// (src/jute/latin1.ts); on the wire and on disk it is an ordinary Jute buffer.

import { Reader, JuteError } from './reader.js';
import { Writer } from './writer.js';
import { OpCode } from './opcodes.js';
import { type ACL, readACLList, writeACLList, readStringList, writeStringList } from './records.js';

export interface TxnHeader {
  clientIdHi: number;
  clientIdLo: number;
  cxid: number;
  zxid: number;
  time: number;
  type: number;
}

export type CreateTxn = { type: typeof OpCode.create | typeof OpCode.create2; path: string; data: string | null; acl: ACL[]; ephemeral: boolean; parentCVersion: number };
export type CreateContainerTxn = { type: typeof OpCode.createContainer; path: string; data: string | null; acl: ACL[]; parentCVersion: number };
export type CreateTTLTxn = { type: typeof OpCode.createTTL; path: string; data: string | null; acl: ACL[]; parentCVersion: number; ttl: number };
export type DeleteTxn = { type: typeof OpCode.delete | typeof OpCode.deleteContainer; path: string };
export type SetDataTxn = { type: typeof OpCode.setData | typeof OpCode.reconfig; path: string; data: string | null; version: number };
export type SetACLTxn = { type: typeof OpCode.setACL; path: string; acl: ACL[]; version: number };
export type CheckVersionTxn = { type: typeof OpCode.check; path: string; version: number };
export type CreateSessionTxn = { type: typeof OpCode.createSession; timeOut: number };
export type CloseSessionTxn = { type: typeof OpCode.closeSession; paths2Delete: string[] | null };
export type ErrorTxn = { type: typeof OpCode.error; err: number };
export type MultiTxn = { type: typeof OpCode.multi; txns: Txn[] };

export type Txn =
  | CreateTxn | CreateContainerTxn | CreateTTLTxn | DeleteTxn | SetDataTxn | SetACLTxn
  | CheckVersionTxn | CreateSessionTxn | CloseSessionTxn | ErrorTxn | MultiTxn;

export function readTxnHeader(r: Reader): TxnHeader {
  const clientIdHi = r.longHi();
  const clientIdLo = r.longLo();
  return { clientIdHi, clientIdLo, cxid: r.int(), zxid: r.long(), time: r.long(), type: r.int() };
}

export function writeTxnHeader(w: Writer, h: TxnHeader): void {
  w.longHiLo(h.clientIdHi, h.clientIdLo).int(h.cxid).long(h.zxid).long(h.time).int(h.type);
}

function requiredACL(r: Reader): ACL[] {
  return readACLList(r) ?? [];
}

/** Decode the body of a txn of the given type. Returns null for a closeSession with no body. */
export function readTxnBody(r: Reader, type: number): Txn | null {
  switch (type) {
    case OpCode.create:
    case OpCode.create2: {
      const path = r.path();
      const data = r.latin1Buffer();
      const acl = requiredACL(r);
      const ephemeral = r.bool();
      return { type, path, data, acl, ephemeral, parentCVersion: r.int() };
    }
    case OpCode.createContainer: {
      const path = r.path();
      const data = r.latin1Buffer();
      const acl = requiredACL(r);
      return { type, path, data, acl, parentCVersion: r.int() };
    }
    case OpCode.createTTL: {
      const path = r.path();
      const data = r.latin1Buffer();
      const acl = requiredACL(r);
      const parentCVersion = r.int();
      return { type, path, data, acl, parentCVersion, ttl: r.long() };
    }
    case OpCode.delete:
    case OpCode.deleteContainer:
      return { type, path: r.path() };
    case OpCode.setData:
    case OpCode.reconfig: {
      const path = r.path();
      const data = r.latin1Buffer();
      return { type, path, data, version: r.int() };
    }
    case OpCode.setACL: {
      const path = r.path();
      const acl = requiredACL(r);
      return { type, path, acl, version: r.int() };
    }
    case OpCode.check: {
      const path = r.path();
      return { type, path, version: r.int() };
    }
    case OpCode.createSession:
      return { type, timeOut: r.int() };
    case OpCode.closeSession:
      if (r.remaining() === 0) return null;
      return { type, paths2Delete: readStringList(r) };
    case OpCode.error:
      return { type, err: r.int() };
    case OpCode.multi: {
      const n = r.vectorLength(8);
      const txns: Txn[] = [];
      for (let i = 0; i < n; i++) {
        const subType = r.int();
        const bytes = r.buffer();
        if (bytes === null) throw new JuteError('null sub-txn in multi');
        const sub = readTxnBody(new Reader(bytes), subType);
        if (sub === null) throw new JuteError(`empty sub-txn of type ${subType} in multi`);
        txns.push(sub);
      }
      return { type, txns };
    }
    default:
      throw new JuteError(`unknown txn type ${type}`);
  }
}

export function writeTxnBody(w: Writer, t: Txn): void {
  switch (t.type) {
    case OpCode.create:
    case OpCode.create2:
      w.ustring(t.path).latin1Buffer(t.data);
      writeACLList(w, t.acl);
      w.bool(t.ephemeral).int(t.parentCVersion);
      return;
    case OpCode.createContainer:
      w.ustring(t.path).latin1Buffer(t.data);
      writeACLList(w, t.acl);
      w.int(t.parentCVersion);
      return;
    case OpCode.createTTL:
      w.ustring(t.path).latin1Buffer(t.data);
      writeACLList(w, t.acl);
      w.int(t.parentCVersion).long(t.ttl);
      return;
    case OpCode.delete:
    case OpCode.deleteContainer:
      w.ustring(t.path);
      return;
    case OpCode.setData:
    case OpCode.reconfig:
      w.ustring(t.path).latin1Buffer(t.data).int(t.version);
      return;
    case OpCode.setACL:
      w.ustring(t.path);
      writeACLList(w, t.acl);
      w.int(t.version);
      return;
    case OpCode.check:
      w.ustring(t.path).int(t.version);
      return;
    case OpCode.createSession:
      w.int(t.timeOut);
      return;
    case OpCode.closeSession:
      writeStringList(w, t.paths2Delete);
      return;
    case OpCode.error:
      w.int(t.err);
      return;
    case OpCode.multi: {
      w.int(t.txns.length);
      for (const sub of t.txns) {
        w.int(sub.type);
        const lenAt = w.placeholder();
        const start = w.pos;
        writeTxnBody(w, sub);
        w.patchInt(lenAt, w.pos - start);
      }
      return;
    }
  }
}
