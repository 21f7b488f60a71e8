// Builds a DataTree from txns as a server would apply them, and keeps the
// txns (header and body) for writing a log after a snapshot: zxids count up
// from 1, and every txn comes from one session.

import type { DataTree } from '../../src/tree/data-tree.js';
import { OpCode } from '../../src/jute/opcodes.js';
import type { ACL } from '../../src/jute/records.js';
import type { Txn, TxnHeader } from '../../src/jute/txn.js';
import { OPEN_ACL } from '../../native-free-bench/zk-client.js';

export class TxnMaker {
  zxid = 0;
  readonly applied: { hdr: TxnHeader; txn: Txn }[] = [];
  constructor(readonly tree: DataTree) {}

  apply(txn: Txn): void {
    const zxid = ++this.zxid;
    const hdr: TxnHeader = { clientIdHi: 0x100, clientIdLo: 0x55, cxid: zxid, zxid, time: 1_700_000_000_000 + zxid, type: txn.type };
    this.tree.processTxn(hdr, txn);
    this.applied.push({ hdr, txn });
  }

  create(p: string, data: Buffer | string | null, opts: { ephemeral?: boolean; acl?: ACL[] } = {}): void {
    this.apply({
      type: OpCode.create, path: p, data: typeof data === 'string' || data === null ? data : data.toString('latin1'),
      acl: opts.acl ?? OPEN_ACL, ephemeral: opts.ephemeral ?? false, parentCVersion: -1,
    });
  }

  delete(p: string): void {
    this.apply({ type: OpCode.delete, path: p });
  }

  setData(p: string, data: string, version: number): void {
    this.apply({ type: OpCode.setData, path: p, data, version });
  }
}
