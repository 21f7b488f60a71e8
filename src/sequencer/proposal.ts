// A proposal: a txn with its zxid, between prep and apply. The sequencer keeps
// outstanding proposals in a queue in zxid order and commits them in that
// order once the log reports them durable.

import type { Txn, TxnHeader } from '../jute/txn.js';
import type { Conn, Session } from './session.js';
import type { AuditInfo } from './security-gate.js';

export const ORIGIN_CLIENT = 0;
export const ORIGIN_CONNECT = 1;
export const ORIGIN_EXPIRY = 2;
export const ORIGIN_INTERNAL = 3;

export class Proposal {
  /** Set for a reply-bearing request; null for internal txns (expiry, reaper). */
  conn: Conn | null = null;
  xid = 0;
  /** The client's request type (create2 replies differ from create, multi from its txn). */
  requestType = 0;
  /** Set once durable in the log; commit requires it (and, in an ensemble, a quorum). */
  durable = false;
  /** What the audit log needs of the request (only when audit.enable is on and Apache audits the op). */
  audit: AuditInfo | null = null;

  constructor(
    readonly hdr: TxnHeader,
    readonly txn: Txn | null,
    readonly session: Session | null,
    readonly origin: number,
  ) {}

  get zxid(): number {
    return this.hdr.zxid;
  }
}
