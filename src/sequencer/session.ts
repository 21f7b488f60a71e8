// Sessions and client connections as the sequencer sees them.
//
// A Session outlives its connections: it is created by a createSession txn,
// survives disconnects until it expires, and is reattached by a reconnect
// with id + password. A Conn is one client socket on one I/O worker; it owns
// the watches set through it (Apache's watches are per connection) and the
// ids it authenticated with.
//
// Per-session FIFO: `queue` holds, in arrival order, the session's writes
// still in the pipeline and the requests that arrived behind them. A request
// runs only when everything before it in the queue has finished.

import type { ACL, Id } from '../jute/records.js';
import { clientIpId } from '../tree/acl.js';
import type { Watcher } from '../tree/watch-manager.js';
import { javaStringHash } from '../util/java-hash-set.js';
import type { Expirable } from '../tree/session-tracker.js';
import type { Proposal } from './proposal.js';

export class Session implements Expirable {
  expiresAt = 0;
  conn: Conn | null = null;
  closing = false;
  /** Its createSession txn has been applied (snapshots list only such sessions). */
  created = false;
  /** Writes in the pipeline and requests waiting behind them, oldest first. */
  readonly queue: QueuedItem[] = [];

  constructor(
    readonly id: bigint,
    readonly idHi: number,
    readonly idLo: number,
    public timeoutMs: number,
    readonly passwd: Uint8Array,
  ) {}
}

/** A request parked behind its session's pending writes. */
export interface QueuedRequest {
  kind: 'request';
  conn: Conn;
  xid: number;
  type: number;
  /** A copy of the request record (the ring's bytes are reused). */
  body: Buffer;
}

export interface QueuedProposal {
  kind: 'proposal';
  proposal: Proposal;
}

/** An error answer that keeps its place behind the session's pending writes. */
export interface QueuedError {
  kind: 'error';
  conn: Conn;
  xid: number;
  err: number;
}

export type QueuedItem = QueuedRequest | QueuedProposal | QueuedError;

export type EventSink = (conn: Conn, eventType: number, path: string, zxid: number, acl: readonly ACL[]) => void;

export class Conn implements Watcher {
  session: Session | null = null;
  alive = true;
  readonly authInfo: Id[];
  /** The connection's SASL exchange (a DigestMd5Server), once it sent a SASL packet. */
  saslServer: unknown = null;

  constructor(
    readonly worker: number,
    readonly connId: number,
    readonly address: string,
    readonly port: number,
    private readonly sink: EventSink,
  ) {
    this.authInfo = [{ scheme: 'ip', id: clientIpId(address) }];
  }

  /**
   * Adds an authenticated id (once). The ids are kept in the order Apache's
   * connections hold them, a ConcurrentHashMap-backed set: by hash bucket
   * of the Id, which is the order whoAmI, the audit log's user field and an
   * `auth` ACL's expansion show. Returns false if the id was there already.
   */
  addAuth(id: Id): boolean {
    const a = this.authInfo;
    if (a.some((x) => x.scheme === id.scheme && x.id === id.id)) return false;
    a.push(id);
    if (a.length > 1) {
      let n = 16;
      while (a.length >= n - (n >>> 2)) n <<= 1;
      const order = a.map((x, i) => [javaIdBucket(x, n), i, x] as const);
      order.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
      for (let i = 0; i < order.length; i++) a[i] = order[i]![2];
    }
    return true;
  }

  process(eventType: number, path: string, zxid: number, acl: readonly ACL[]): void {
    if (this.alive) this.sink(this, eventType, path, zxid, acl);
  }
}

/** Map key for a connection: worker index and worker-local id. */
export function connKey(worker: number, connId: number): number {
  return worker * 4294967296 + connId;
}

/** The bucket of an Id (jute's Id.hashCode) in a ConcurrentHashMap table of n slots. */
function javaIdBucket(id: Id, n: number): number {
  const h = (Math.imul(Math.imul(17, 37) + javaStringHash(id.scheme) | 0, 37) + javaStringHash(id.id)) | 0;
  return ((h ^ (h >>> 16)) & 0x7fffffff) & (n - 1);
}
