// One txn as the log stores it, and the log's framing:
//
//   log     = FileHeader{int magic "ZKLG", int version 2, long dbid} entry* (zero padding)
//   entry   = long adler32(body), int length, body, byte 0x42 ('B')
//   body    = TxnHeader, txn record (by type), [TxnDigest{int version, long treeDigest}]
//   A zero length marks the end of the log (the file is preallocated with zeros).
//
// Older logs: a create may be a CreateTxnV0 (no parentCVersion); a
// closeSession may have no record at all. Digests (Apache 3.6+) are read and
// ignored; zoonode writes none (the record is optional in the format).

import { Reader, JuteError } from '../jute/reader.js';
import { Writer } from '../jute/writer.js';
import { OpCode } from '../jute/opcodes.js';
import { readTxnHeader, writeTxnHeader, readTxnBody, writeTxnBody, type Txn, type TxnHeader } from '../jute/txn.js';
import { readACLList } from '../jute/records.js';

export const TXNLOG_MAGIC = 0x5a4b4c47; // "ZKLG"
export const SNAP_MAGIC = 0x5a4b534e; // "ZKSN"
export const FORMAT_VERSION = 2;
export const FILE_HEADER_BYTES = 16;
export const ENTRY_END = 0x42;

export interface TxnEntry {
  hdr: TxnHeader;
  txn: Txn | null;
}

export function writeFileHeader(w: Writer, magic: number, dbid = 0): void {
  w.int(magic).int(FORMAT_VERSION).long(dbid);
}

/** Writes TxnHeader + record (the entry body, without framing). */
export function writeTxnBodyBytes(w: Writer, hdr: TxnHeader, txn: Txn | null): void {
  writeTxnHeader(w, hdr);
  if (txn !== null) writeTxnBody(w, txn);
}

/** Decodes an entry body. */
export function readTxnEntry(body: Uint8Array): TxnEntry {
  const r = new Reader(body);
  const hdr = readTxnHeader(r);
  const start = r.pos;
  let txn: Txn | null;
  try {
    txn = readTxnBody(r, hdr.type);
  } catch (e) {
    if (!(e instanceof JuteError)) throw e;
    if (hdr.type === OpCode.create) {
      // CreateTxnV0: path, data, acl, ephemeral. parentCVersion -1 means "parent's + 1".
      r.pos = start;
      const path = r.path();
      const data = r.latin1Buffer();
      const acl = readACLList(r) ?? [];
      const ephemeral = r.bool();
      txn = { type: OpCode.create, path, data, acl, ephemeral, parentCVersion: -1 };
    } else if (hdr.type === OpCode.closeSession) {
      txn = null;
    } else {
      throw e;
    }
  }
  return { hdr, txn };
}
