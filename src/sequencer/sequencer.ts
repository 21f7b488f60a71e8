// The sequencer: the one thread that owns zxid assignment, sessions, the
// DataTree, watches and the outstanding proposals, so the commit path takes no
// locks. It drains every worker's request ring in batches and runs each
// request through the standalone pipeline:
//
//   prep (validate against tree + pending changes, assign zxid, build txn)
//     → log (append; group flush per batch)
//     → commit (durable; in an ensemble also a quorum of acks)
//     → apply (DataTree, fires watches: events are written before replies)
//     → reply (into the reply ring of the worker that owns the connection)
//
// Requests without a txn (reads, watches, sync) run at once unless their
// session has writes in the pipeline, in which case they wait behind them:
// per-session FIFO holds for reads and writes alike.
//
// It never blocks: storage is behind TxnLogPort, time behind Clock, and the
// thread that hosts it (runner.ts) supplies the wake-ups.

import { Logger } from '../util/log.js';
import { LatencyTracker } from '../util/latency.js';
import type { Clock } from '../util/clock.js';
import { assert } from '../util/assert.js';
import { Fifo } from '../util/fifo.js';
import { hex64, hiLoToBigInt, bigIntHi, bigIntLo } from '../util/long.js';
import { sessionPassword } from '../util/java-random.js';
import type { Config } from '../config/config.js';
import { replyBacklogBytesMax, sequencerBatchMax } from '../config/limits.js';
import { Reader, JuteError } from '../jute/reader.js';
import { Writer } from '../jute/writer.js';
import { OpCode, Xid, KeeperState, Perms, opName } from '../jute/opcodes.js';
import { Err, KeeperError, KeeperErrorWithBody, errName } from '../jute/errors.js';
import type { Txn, TxnHeader } from '../jute/txn.js';
import type { RingReader } from '../ring/spsc-ring.js';
import {
  CONNECT_FLAG_AUTH_IDS, CloseReason, MSG_HEADER_BYTES, REFUSED_FLAG_SEND_INVALID, REQ_CLOSED, REQ_CONNECT, REQ_PACKET, REQ_TOUCH,
} from '../ring/messages.js';
import { DataTree, type ApplyResult, type NodeStat } from '../tree/data-tree.js';
import { SessionTracker } from '../tree/session-tracker.js';
import { authenticate, permitted, type AclPolicy } from '../tree/acl.js';
import { byNamespace } from '../tree/quotas.js';
import { Prep } from './prep.js';
import { executeRead, isReadOp, type ReadContext } from './reads.js';
import { Conn, Session, connKey, type QueuedItem } from './session.js';
import { Proposal, ORIGIN_CLIENT, ORIGIN_CONNECT, ORIGIN_EXPIRY, ORIGIN_INTERNAL } from './proposal.js';
import type { ReplySink } from './reply-channel.js';
import type { TxnLogPort } from './txn-log-port.js';
import type { SnapshotSource } from '../persistence/snapshot-format.js';
import { ConnectionThrottle } from './connection-throttle.js';
import { SecurityGate } from './security-gate.js';
import type { ACL, Id } from '../jute/records.js';

/** What the sequencer asks of storage beyond the log: when and how to snapshot. */
export interface SnapshotScheduler {
  /** Count one committed txn; true when a snapshot is due. */
  noteTxn(): boolean;
  startSnapshot(source: SnapshotSource, zxid: number): Promise<unknown> | null;
}

const log = new Logger('sequencer');

/** Ops that become txns. */
function isWriteOp(type: number): boolean {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
    case OpCode.delete:
    case OpCode.setData:
    case OpCode.setACL:
    case OpCode.reconfig:
    case OpCode.multi:
    case OpCode.deleteContainer:
      return true;
    default:
      return false;
  }
}


export interface SequencerOptions {
  config: Config;
  clock: Clock;
  /** 0 for a standalone server; the high byte of every session id. */
  serverId: number;
  /** Sessions recovered from disk (id → timeout ms); they expire unless their clients return. */
  restoredSessions?: ReadonlyMap<bigint, number>;
  snapshots?: SnapshotScheduler;
  /** Called after a txn log failure while writes are refused; resolves true once the disk works again. */
  probeLog?: () => Promise<boolean>;
  /** Authentication (x509 ids, SASL, enforcement) and the audit log; none when absent. */
  security?: SecurityGate;
}

export interface SequencerStats {
  packetsReceived: number;
  packetsSent: number;
  proposals: number;
  commits: number;
  authFailed: number;
  connectionsRejected: number;
  throttledOps: number;
  /** Times the sequencer stopped taking requests (globalOutstandingLimit / request_throttle_max_requests reached). */
  requestThrottleWaits: number;
  /** Stalls detected (the expiry timer came late), their total and longest length (ms). */
  stalls: number;
  stallMsTotal: number;
  stallMsMax: number;
}

/**
 * Stall detection: the expiry timer arriving this much later than asked is
 * a stall of the sequencer (or of the whole process), and that time is
 * excluded from every session's deadline: tickTime/2, kept within these bounds.
 */
const stallMinMsFloor = 100;
const stallMinMsCeil = 500;
/** Batches drained right after a stall, before anything may expire (pings that queued up meanwhile). */
const stallDrainBatchesMax = 64;

export class Sequencer implements ReadContext {
  readonly tree: DataTree;
  readonly policy: AclPolicy;
  readonly stats: SequencerStats = {
    packetsReceived: 0, packetsSent: 0, proposals: 0, commits: 0, authFailed: 0, connectionsRejected: 0, throttledOps: 0,
    requestThrottleWaits: 0, stalls: 0, stallMsTotal: 0, stallMsMax: 0,
  };
  /** Records taken per drain of the rings (sequencer batch sizes). */
  readonly batchSize = new LatencyTracker();
  /** Called after each batch with the last applied zxid (the workers answer pings with it). */
  onZxid: (zxid: number) => void = () => {};

  private readonly prep: Prep;
  private readonly sessions = new Map<bigint, Session>();
  private readonly tracker: SessionTracker<Session>;
  private readonly conns = new Map<number, Conn>();
  /** Proposals between prep and commit, in zxid order (they commit in that order). */
  private readonly pipeline = new Fifo<Proposal>(64);
  private lastZxid: number;
  private nextSessionId: bigint;
  private readonly w = new Writer(64 * 1024);
  private readonly ew = new Writer(1024);
  /** The last event encoded into ew (event() reuses it while type and path repeat). */
  private evType = 0;
  private evPath = '';
  private evBytes: Buffer = Buffer.alloc(0);
  private readonly r = new Reader(new Uint8Array(0));
  private readonly queuedReader = new Reader(new Uint8Array(0));
  private readonly minSessionTimeout: number;
  private readonly maxSessionTimeout: number;
  private rr = 0;
  private publishedZxid = -1;
  private readonly throttle: ConnectionThrottle;
  /** Proposals in flight plus requests parked behind them, at most, before requests are left in the rings (backpressure). */
  private readonly inflightMax: number;
  /** Requests parked in session queues behind their session's pending writes. */
  private queuedRequests = 0;
  private throttledSince = 0;
  /** When the expiry timer was asked to fire (clock ms); 0 before the first tick. */
  private tickDueAt = 0;
  /** A late expiry timer by at least this much is a stall. */
  private readonly stallMinMs: number;
  /** Since when no request could be taken (throttled, or replies waiting for ring room); 0 while taking them. */
  private inputBlockedSince = 0;
  /** The last interval excluded from session deadlines [from, until], so overlapping stalls count once. */
  private excludedFrom = 0;
  private excludedUntil = 0;
  /** Called when backpressure lifts (commits made room): the host wakes its pump. */
  onUnthrottle: () => void = () => {};
  /**
   * A watch fired: the event goes out only if the watcher may READ the node
   * it is about (the parent, for a children change), as Apache does since
   * its fix of CVE-2024-23944 (3.8.4, 3.9.2, and Debian's 3.8.0 builds). The
   * watch is used up either way.
   */
  private readonly eventSink = (conn: Conn, eventType: number, path: string, _zxid: number, acl: readonly ACL[]): void => {
    if (permitted(this.policy, acl, Perms.READ, conn.authInfo)) this.event(conn, eventType, path);
  };
  private readonly gate: SecurityGate;

  constructor(
    private readonly opts: SequencerOptions,
    private readonly inputs: readonly RingReader[],
    private readonly channels: readonly ReplySink[],
    private readonly txnLog: TxnLogPort,
    tree?: DataTree,
  ) {
    const cfg = opts.config;
    this.tree = tree ?? new DataTree({ extendedTypes: cfg.extendedTypesEnabled });
    this.gate = opts.security ?? new SecurityGate(null, null);
    const sec = this.gate.settings;
    this.policy = {
      skipACL: cfg.skipACL, superDigest: cfg.superDigest,
      schemes: sec === null ? undefined : new Set(sec.schemes), letAnySaslUserDoX: sec?.letAnySaslUserDoX ?? null,
    };
    this.prep = new Prep(this.tree, {
      extendedTypes: cfg.extendedTypesEnabled,
      reconfigEnabled: cfg.reconfigEnabled,
      policy: this.policy,
      enforceQuota: cfg.enforceQuota,
    });
    this.tracker = new SessionTracker(cfg.tickTime, opts.clock.nowMs());
    this.minSessionTimeout = cfg.minSessionTimeout;
    this.maxSessionTimeout = cfg.maxSessionTimeout;
    this.lastZxid = this.tree.lastProcessedZxid;
    this.nextSessionId = initialSessionId(opts.serverId, opts.clock.wallMs());
    const t = cfg.connectionThrottle;
    this.throttle = new ConnectionThrottle({
      maxTokens: t.tokens, fillTimeMs: t.fillTime, fillCount: t.fillCount, freezeTimeMs: t.freezeTime,
      dropIncrease: t.dropIncrease, dropDecrease: t.dropDecrease, decreaseRatio: t.decreaseRatio, weighted: t.weightEnabled,
    }, opts.clock.nowMs());
    this.inflightMax = cfg.requestThrottleMaxRequests > 0
      ? Math.min(cfg.globalOutstandingLimit, cfg.requestThrottleMaxRequests) : cfg.globalOutstandingLimit;
    this.stallMinMs = Math.min(stallMinMsCeil, Math.max(stallMinMsFloor, cfg.tickTime / 2));
    txnLog.onDurable = (zxid) => this.durableUpTo(zxid);
    txnLog.onFailure = (err) => this.onLogFailure(err);
    const now = opts.clock.nowMs();
    for (const [id, timeoutMs] of opts.restoredSessions ?? []) {
      const s = new Session(id, bigIntHi(id), bigIntLo(id), timeoutMs, sessionPassword(id));
      s.created = true;
      this.sessions.set(id, s);
      this.tracker.touch(s, now);
    }
  }

  /** The tree and live sessions as a snapshot reads them. */
  readonly snapshotSource: SnapshotSource = {
    sessions: () => {
      const out: [bigint, number][] = [];
      for (const s of this.sessions.values()) if (s.created) out.push([s.id, s.timeoutMs]);
      return out;
    },
    acls: () => this.tree.aclCache.entries(),
    root: () => this.tree.getNode('')!,
    requestsTaken: () => this.stats.packetsReceived,
  };

  /** Writes are refused (the txn log failed) until the disk works again. */
  get readOnly(): boolean {
    return this.logFailed;
  }

  private logFailed = false;
  private probeTimer: NodeJS.Timeout | null = null;

  /**
   * The txn log failed (ENOSPC, EIO): every write not yet durable fails with
   * NOTREADONLY (the log was cut back, so none of them will be replayed),
   * their pending changes are dropped, and writes are refused while reads go
   * on. The disk is probed until it works again.
   *
   * If the log could not be cut back (err.inDoubt), those writes may or may
   * not be replayed after a restart: their clients lose the connection
   * instead of hearing that the write failed (as when a server dies).
   */
  private onLogFailure(err: Error): void {
    if (this.logFailed) return;
    this.logFailed = true;
    const inDoubt = (err as { inDoubt?: boolean }).inDoubt === true;
    log.error(`txn log failed (${err.message}): refusing writes with NOTREADONLY and serving reads; ` +
      (inDoubt ? 'writes resume after a restart' : 'writes resume once the log directory is writable again'));
    const failed = this.pipeline.toArray();
    this.pipeline.clear();
    this.prep.reset();
    this.lastZxid = this.tree.lastProcessedZxid;
    const touched = new Set<Session>();
    for (const p of failed) {
      const s = p.session;
      if (s !== null) {
        const i = s.queue.findIndex((q) => q.kind === 'proposal' && q.proposal === p);
        if (i >= 0 && p.origin === ORIGIN_CLIENT && p.conn !== null && !inDoubt) {
          // The NOTREADONLY answer keeps the write's place: what the session sent before it is answered first.
          s.queue[i] = { kind: 'error', conn: p.conn, xid: p.xid, err: Err.NOTREADONLY };
          this.queuedRequests++;
        } else if (i >= 0) {
          s.queue.splice(i, 1);
        }
        touched.add(s);
      }
      if (p.origin === ORIGIN_CONNECT && s !== null) {
        // The session never became durable: it does not exist (nor do requests pipelined behind its handshake).
        for (const q of s.queue) if (q.kind !== 'proposal') this.queuedRequests--;
        s.queue.length = 0;
        this.sessions.delete(s.id);
        this.tracker.remove(s);
        if (p.conn !== null && p.conn.alive) {
          this.channels[p.conn.worker]!.refused(p.conn.connId, 0);
          this.detach(p.conn);
        }
        touched.delete(s);
      } else if (p.hdr.type === OpCode.closeSession && s !== null) {
        s.closing = false;
        this.tracker.touch(s, this.opts.clock.nowMs());
      }
      if (p.origin === ORIGIN_CLIENT && p.conn !== null && inDoubt && p.conn.alive) {
        this.channels[p.conn.worker]!.close(p.conn.connId, CloseReason.serverShutdown);
        this.detach(p.conn);
      }
    }
    for (const s of touched) this.runQueued(s);
    this.publish();
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    const probe = this.opts.probeLog;
    if (probe === undefined || this.probeTimer !== null) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = null;
      probe().then((ok) => {
        if (ok) {
          this.logFailed = false;
          log.info('txn log writable again: accepting writes');
        } else {
          this.scheduleProbe();
        }
      }, () => this.scheduleProbe());
    }, 5000);
    this.probeTimer.unref();
  }

  // ---- the loop ---------------------------------------------------------------

  /** True if any input ring has records or an overflow can be retried. */
  hasWork(): boolean {
    for (const ch of this.channels) if (ch.backlogged) return true;
    if (this.throttled) return false;
    for (const ring of this.inputs) if (ring.hasData()) return true;
    return false;
  }

  /**
   * Too many proposals in flight, or requests parked behind them: new
   * requests wait in the rings (and sockets pause behind them). Like Apache's
   * globalOutstandingLimit, reads waiting for their session's writes count.
   */
  get throttled(): boolean {
    return this.pipeline.size + this.queuedRequests >= this.inflightMax;
  }

  /** Replies parked for full reply rings: take no new request until they drain. */
  private replyBacklogged(): boolean {
    for (const ch of this.channels) if (ch.backlogBytes > replyBacklogBytesMax) return true;
    return false;
  }

  /**
   * One batch: retry overflowed replies, take up to sequencerBatchMax records
   * per input ring (round-robin start), flush the log once for the batch,
   * publish replies. Returns true if work was left for another batch.
   */
  drain(): boolean {
    let backlog = false;
    for (const ch of this.channels) if (!ch.retryOverflow()) backlog = true;
    let more = false;
    if (this.throttled) {
      if (this.throttledSince === 0) {
        this.throttledSince = this.opts.clock.nowMs();
        this.stats.requestThrottleWaits++;
        log.warn(`request throttle: ${this.pipeline.size} txns in flight and ${this.queuedRequests} requests behind them ` +
          `(limit ${this.inflightMax}); new requests wait until the txn log catches up`);
      }
      backlog = true;
    }
    if (!backlog) {
      if (this.inputBlockedSince !== 0) this.inputResumed();
      const n = this.inputs.length;
      const before = this.stats.packetsReceived;
      // One clock reading per batch: sessions touched by its requests share it.
      this.batchNowMs = this.opts.clock.nowMs();
      for (let k = 0; k < n; k++) {
        const i = (this.rr + k) % n;
        if (this.drainRing(i)) more = true;
      }
      const taken = this.stats.packetsReceived - before;
      if (taken > 0) this.batchSize.record(taken, this.batchNowMs);
      this.rr = (this.rr + 1) % Math.max(1, n);
      this.txnLog.flush();
    }
    this.publish();
    let overflow = false;
    for (const ch of this.channels) if (ch.backlogged) overflow = true;
    if ((backlog || this.throttled || this.replyBacklogged()) && this.inputBlockedSince === 0) {
      this.inputBlockedSince = this.opts.clock.nowMs();
    }
    // Throttled: nothing to do until commits make room (they wake the pump), so do not spin.
    return more || overflow;
  }

  /**
   * Requests flow again after input was blocked. Pings waited in the rings
   * meanwhile, unseen: a long enough block is a stall for the sessions.
   */
  private inputResumed(): void {
    const now = this.opts.clock.nowMs();
    const since = this.inputBlockedSince;
    this.inputBlockedSince = 0;
    if (now - since >= this.stallMinMs) this.excludeStall(since, now, 'no request could be taken: throttled or reply rings full');
  }

  /**
   * The sequencer could not hear clients from `from` to `to`: move every
   * session deadline later by that time (counted once where stalls overlap).
   */
  private excludeStall(from: number, to: number, why: string): void {
    const a = this.excludedFrom;
    const b = this.excludedUntil;
    // The part of [from, to] outside the last excluded interval [a, b].
    const ms = Math.round(Math.max(0, Math.min(to, a) - from) + Math.max(0, to - Math.max(from, b)));
    if (from <= b && to >= a) {
      this.excludedFrom = Math.min(a, from);
      this.excludedUntil = Math.max(b, to);
    } else {
      this.excludedFrom = from;
      this.excludedUntil = to;
    }
    if (ms <= 0) return;
    this.tracker.excludeStall(ms);
    const st = this.stats;
    st.stalls++;
    st.stallMsTotal += ms;
    if (ms > st.stallMsMax) st.stallMsMax = ms;
    log.warn(`sequencer stalled for ${ms} ms; session deadlines moved by ${ms} ms (${why})`);
  }

  /** The clock when the current input batch began (drainRing's callees use it). */
  private batchNowMs = 0;

  private drainRing(worker: number): boolean {
    const ring = this.inputs[worker]!;
    let n = 0;
    for (; n < sequencerBatchMax; n++) {
      // Backpressure: leave requests in the ring while too many are in flight
      // or too many replies wait for room in a reply ring.
      if (this.throttled || this.replyBacklogged()) break;
      const at = ring.next();
      if (at < 0) break;
      const view = ring.view;
      const kind = view.getUint8(at);
      const flags = view.getUint8(at + 1);
      const connId = view.getUint32(at + 4);
      const r = this.r.reset(ring.buf, view, at + MSG_HEADER_BYTES, at + ring.length);
      switch (kind) {
        case REQ_PACKET: this.onPacket(worker, connId, r); break;
        case REQ_CONNECT: this.onConnect(worker, connId, flags, r); break;
        case REQ_TOUCH: this.onTouch(worker, connId); break;
        case REQ_CLOSED: this.onClosed(worker, connId); break;
        default: throw new Error(`sequencer: unknown request record kind ${kind} from worker ${worker}`);
      }
      ring.release();
    }
    ring.publish();
    return n === sequencerBatchMax;
  }

  /** Publish replies and the applied zxid. Also called after asynchronous commits. */
  publish(): void {
    // The zxid first: a worker that sees a reply must see a zxid at least as new.
    const z = this.tree.lastProcessedZxid;
    if (z !== this.publishedZxid) {
      this.publishedZxid = z;
      this.onZxid(z);
    }
    for (const ch of this.channels) ch.flush();
  }

  // ---- connections and sessions ---------------------------------------------

  private onConnect(worker: number, connId: number, flags: number, r: Reader): void {
    const protocolVersion = r.int();
    const lastZxidSeen = r.long();
    const timeOut = r.int();
    const sidHi = r.longHi();
    const sidLo = r.longLo();
    const passwd = Buffer.from(r.buffer() ?? new Uint8Array(0));
    const address = r.ustring() ?? '';
    const port = r.int();
    let proved: Id[] | null = null;
    if (flags & CONNECT_FLAG_AUTH_IDS) {
      proved = [];
      for (let n = r.int(); n > 0; n--) proved.push({ scheme: r.ustring() ?? '', id: r.ustring() ?? '' });
    }
    const key = connKey(worker, connId);
    const channel = this.channels[worker]!;
    const sid = hiLoToBigInt(sidHi, sidLo);
    void protocolVersion;
    void flags;

    if (lastZxidSeen > this.tree.lastProcessedZxid) {
      log.info(`refusing session 0x${hex64(sid)} from ${address}:${port}: client has seen zxid 0x${hex64(lastZxidSeen)}, ` +
        `ours is 0x${hex64(this.tree.lastProcessedZxid)}; client must try another server`);
      channel.refused(connId, 0);
      return;
    }
    if (!this.throttle.check(sid === 0n, this.opts.clock.nowMs())) {
      this.stats.connectionsRejected++;
      if (this.stats.connectionsRejected % 100 === 1) {
        log.warn(`connection throttle: refusing ${address}:${port} (${this.stats.connectionsRejected} refused so far)`);
      }
      channel.refused(connId, 0);
      return;
    }
    const timeoutMs = Math.min(this.maxSessionTimeout, Math.max(this.minSessionTimeout, timeOut));
    const conn = new Conn(worker, connId, address, port, this.eventSink);
    this.conns.set(key, conn);

    if (sid === 0n) {
      if (this.logFailed) {
        // A new session needs a txn; a reconnect of an existing one does not.
        log.warn(`refusing a new session from ${address}:${port}: writes are suspended (txn log failure)`);
        this.conns.delete(key);
        conn.alive = false;
        channel.refused(connId, 0);
        return;
      }
      const id = this.nextSessionId;
      this.nextSessionId = BigInt.asIntN(64, id + 1n);
      const session = new Session(id, bigIntHi(id), bigIntLo(id), timeoutMs, sessionPassword(id));
      this.sessions.set(id, session);
      this.tracker.touch(session, this.opts.clock.nowMs());
      session.conn = conn;
      conn.session = session;
      if (proved !== null) this.gate.connectIds(conn, proved);
      const p = this.newProposal(session, 0, OpCode.createSession, { type: OpCode.createSession, timeOut: timeoutMs }, ORIGIN_CONNECT);
      p.conn = conn;
      session.queue.push({ kind: 'proposal', proposal: p });
      if (log.enabled('debug')) log.debug(`new session 0x${hex64(id)} for ${address}:${port}, timeout ${timeoutMs} ms`);
      return;
    }

    const session = this.sessions.get(sid);
    // As Apache: a reconnect attempt for a session closes the session's
    // current connection first, before the password is checked.
    const old = session?.conn ?? null;
    if (old !== null && old !== conn) {
      this.detach(old);
      this.channels[old.worker]!.close(old.connId, CloseReason.sessionReconnected);
    }
    if (session === undefined || session.closing || !Buffer.from(session.passwd).equals(passwd)) {
      log.info(session === undefined || session.closing
        ? `invalid session 0x${hex64(sid)} for client ${address}:${port}, probably expired`
        : `incorrect password from ${address}:${port} for session 0x${hex64(sid)}`);
      this.conns.delete(key);
      conn.alive = false;
      channel.refused(connId, REFUSED_FLAG_SEND_INVALID);
      return;
    }
    session.timeoutMs = timeoutMs;
    this.tracker.touch(session, this.opts.clock.nowMs());
    session.conn = conn;
    conn.session = session;
    if (proved !== null) this.gate.connectIds(conn, proved);
    channel.connected(connId, timeoutMs, session.idHi, session.idLo, session.passwd, this.tree.lastProcessedZxid);
    if (log.enabled('debug')) log.debug(`session 0x${hex64(sid)} reconnected from ${address}:${port}`);
  }

  private onTouch(worker: number, connId: number): void {
    const s = this.conns.get(connKey(worker, connId))?.session;
    if (s !== undefined && s !== null && !s.closing) this.tracker.touch(s, this.batchNowMs);
  }

  private onClosed(worker: number, connId: number): void {
    const conn = this.conns.get(connKey(worker, connId));
    if (conn !== undefined) this.detach(conn);
  }

  /** Forget a connection: its watches go, its session stays until it expires. */
  private detach(conn: Conn): void {
    if (!conn.alive) return;
    conn.alive = false;
    this.conns.delete(connKey(conn.worker, conn.connId));
    this.tree.removeWatcher(conn);
    const s = conn.session;
    if (s !== null && s.conn === conn) s.conn = null;
  }

  /**
   * Expire sessions whose deadline has passed. Returns ms until the next
   * check; the host calls again then. A call that comes late by stallMinMs
   * or more means this thread (or the whole process: GC, a suspended VM,
   * SIGSTOP) stood still, and clients could not reach it: that time is
   * excluded from every deadline. Pings that queued up during the stall are
   * then drained, and expiry waits one more tick so that I/O threads that
   * stood still too can hand over what their sockets hold; a session whose
   * client is really gone expires at its deadline with the stall left out.
   * Likewise nothing expires while input is blocked (throttled), since
   * pings wait unseen in the rings; that time is excluded when it ends.
   */
  tick(): number {
    const now = this.opts.clock.nowMs();
    let defer = false;
    if (this.tickDueAt !== 0 && now - this.tickDueAt >= this.stallMinMs) {
      this.excludeStall(this.tickDueAt, now, 'the session expiry timer fired late');
      for (let i = 0; i < stallDrainBatchesMax && this.drain(); i++) { /* input first */ }
      defer = true;
    }
    if (this.inputBlockedSince !== 0 && now - this.inputBlockedSince >= this.stallMinMs) defer = true;
    if (defer) {
      this.tickDueAt = now + this.tracker.tickMs;
      return this.tracker.tickMs;
    }
    const expired = this.tracker.expire(now);
    const expiring: string[] = [];
    for (const s of expired) {
      if (s.closing) continue;
      if (this.logFailed) {
        // Expiry is a txn too: keep the session until writes work again.
        this.tracker.touch(s, now);
        continue;
      }
      expiring.push(`0x${hex64(s.id)}`);
      const p = this.newProposal(s, 0, OpCode.closeSession, this.prep.closeSession(s, this.lastZxid + 1), ORIGIN_EXPIRY);
      s.queue.push({ kind: 'proposal', proposal: p });
    }
    if (expiring.length === 1) log.info(`expiring session ${expiring[0]}: its timeout passed without a ping or request`);
    else if (expiring.length > 1) {
      log.info(`expiring ${expiring.length} sessions whose timeouts passed: ${expiring.slice(0, 5).join(', ')}` +
        `${expiring.length > 5 ? `, and ${expiring.length - 5} more` : ''}`);
    }
    if (expired.length > 0) {
      this.txnLog.flush();
      this.publish();
    }
    const after = this.opts.clock.nowMs();
    const wait = Math.max(1, this.tracker.waitMs(after));
    this.tickDueAt = after + wait;
    return wait;
  }

  // ---- requests -------------------------------------------------------------

  private onPacket(worker: number, connId: number, r: Reader): void {
    const conn = this.conns.get(connKey(worker, connId));
    // A packet behind a refused handshake, or from a connection already replaced: drop it.
    if (conn === undefined || conn.session === null) return;
    const session = conn.session;
    this.stats.packetsReceived++;
    let xid: number;
    let type: number;
    try {
      xid = r.int();
      type = r.int();
    } catch {
      this.channels[worker]!.close(connId, CloseReason.sessionClosed);
      return;
    }
    if (!session.closing) this.tracker.touch(session, this.batchNowMs);
    // Apache answers every ping with xid -2, whatever xid it came with.
    if (type === OpCode.ping) xid = Xid.ping;

    if (type === OpCode.auth) {
      this.onAuth(conn, xid, r);
      return;
    }
    if (type === OpCode.sasl) {
      this.onSasl(conn, xid, r);
      return;
    }
    if (this.gate.enforced && !this.gate.mayProceed(conn)) {
      // Apache's AuthenticationHelper: answer, then close the connection (the session lives on until it expires).
      this.replyHeader(conn, xid, 0, Err.SESSIONCLOSEDREQUIRESASLAUTH);
      this.channels[conn.worker]!.close(conn.connId, CloseReason.authFailed);
      this.detach(conn);
      return;
    }
    if (isWriteOp(type) || type === OpCode.closeSession) {
      this.propose(conn, session, xid, type, r);
      return;
    }
    if (!isReadOp(type)) {
      // Apache's UnimplementedRequestProcessor: answer, then close the connection.
      log.warn(`received packet of unknown type ${type} from session 0x${hex64(session.id)}; closing its connection`);
      this.replyHeader(conn, xid, -1, Err.UNIMPLEMENTED);
      this.channels[conn.worker]!.close(conn.connId, CloseReason.sessionClosed);
      this.detach(conn);
      return;
    }
    if (session.queue.length > 0) {
      session.queue.push({ kind: 'request', conn, xid, type, body: Buffer.from(r.buf.subarray(r.pos, r.end)) });
      this.queuedRequests++;
      return;
    }
    this.runRead(conn, session, xid, type, r);
  }

  private onAuth(conn: Conn, xid: number, r: Reader): void {
    // AuthPacket {int type, ustring scheme, buffer auth}
    let scheme: string | null;
    let auth: Uint8Array | null;
    try {
      r.int();
      scheme = r.ustring();
      auth = r.buffer();
    } catch (e) {
      if (!(e instanceof JuteError)) throw e;
      // As Apache: an AuthPacket that does not decode closes the connection, unanswered.
      log.warn(`malformed auth packet from ${conn.address}:${conn.port} (${e.message}); closing the connection`);
      this.channels[conn.worker]!.close(conn.connId, CloseReason.authFailed);
      this.detach(conn);
      return;
    }
    const ids = scheme === null ? null
      : scheme === 'x509' ? this.gate.x509Ids(conn) : authenticate(this.policy, scheme, auth, conn.address);
    if (ids === null) {
      this.gate.auditAuth(conn, `auth:${scheme}`, 'failure');
      this.stats.authFailed++;
      log.warn(`authentication failed for scheme '${scheme}' from ${conn.address}:${conn.port}; closing the connection`);
      this.replyHeader(conn, xid, 0, Err.AUTHFAILED);
      this.channels[conn.worker]!.close(conn.connId, CloseReason.authFailed);
      this.detach(conn);
      return;
    }
    for (const id of ids) conn.addAuth(id);
    this.gate.auditAuth(conn, `auth:${scheme}`, 'success');
    this.replyHeader(conn, xid, 0, Err.OK);
  }

  /**
   * SASL (opcode 102): GetSASLRequest {buffer token} → ReplyHeader {xid, 0,
   * err} + SetSASLResponse {buffer token}, answered at once as Apache's
   * processSasl does. A failed login closes the connection after the reply.
   */
  private onSasl(conn: Conn, xid: number, r: Reader): void {
    let token: Uint8Array | null;
    try {
      token = r.buffer();
    } catch (e) {
      if (!(e instanceof JuteError)) throw e;
      log.warn(`malformed SASL packet from ${conn.address}:${conn.port} (${e.message}); closing the connection`);
      this.channels[conn.worker]!.close(conn.connId, CloseReason.authFailed);
      this.detach(conn);
      return;
    }
    const out = this.gate.sasl(conn, token);
    if (out.err !== Err.OK) this.stats.authFailed++;
    const w = this.w.reset();
    w.int(xid).long(0).int(out.err).buffer(out.token);
    this.send(conn, w);
    if (out.close) {
      this.channels[conn.worker]!.close(conn.connId, CloseReason.authFailed);
      this.detach(conn);
    }
  }

  private runRead(conn: Conn, session: Session, xid: number, type: number, r: Reader): void {
    const w = this.w.reset();
    w.int(xid).long(this.tree.lastProcessedZxid).int(Err.OK);
    try {
      if (session.closing) throw new KeeperError(Err.SESSIONEXPIRED);
      executeRead(this, conn, type, r, w);
    } catch (e) {
      const code = errorCode(e);
      if (code === Err.UNIMPLEMENTED) log.debug(`${opName(type)} is not implemented yet; answered UNIMPLEMENTED`);
      w.reset().int(xid).long(this.tree.lastProcessedZxid).int(code);
      if (e instanceof KeeperErrorWithBody) w.raw(e.bodyBytes);
    }
    this.send(conn, w);
  }

  private propose(conn: Conn, session: Session, xid: number, type: number, r: Reader): void {
    if (this.logFailed) {
      // No txn can be made durable: answer in order, without a zxid.
      if (session.queue.length === 0) this.replyHeader(conn, xid, this.tree.lastProcessedZxid, Err.NOTREADONLY);
      else {
        session.queue.push({ kind: 'error', conn, xid, err: Err.NOTREADONLY });
        this.queuedRequests++;
      }
      return;
    }
    const zxid = this.lastZxid + 1;
    const audit = this.gate.audit === null ? null : this.gate.auditInfo(type, r);
    let txn: Txn;
    let hdrType = type;
    try {
      txn = type === OpCode.closeSession
        ? this.prep.closeSession(session, zxid)
        : this.prep.prepare(type, r, zxid, session, conn.authInfo);
    } catch (e) {
      // A refused write still takes a zxid and is logged as an error txn, as
      // Apache does; so does a malformed record (MARSHALLINGERROR), as 3.8 does.
      if (e instanceof JuteError) log.warn(`malformed ${opName(type)} from session 0x${hex64(session.id)}: ${e.message}`);
      txn = { type: OpCode.error, err: errorCode(e) };
      hdrType = OpCode.error;
    }
    const p = this.newProposal(session, xid, hdrType, txn, ORIGIN_CLIENT);
    p.conn = conn;
    p.xid = xid;
    p.requestType = type;
    p.audit = audit;
    session.queue.push({ kind: 'proposal', proposal: p });
  }

  /** The container/TTL reaper asks for a node to go: a deleteContainer txn with no session. */
  deleteContainer(path: string): void {
    if (this.logFailed) return;
    let txn: Txn;
    let type: number = OpCode.deleteContainer;
    try {
      txn = this.prep.deleteContainer(path, this.lastZxid + 1);
      log.info(`deleting container or expired TTL node ${path}`);
    } catch (e) {
      if (!(e instanceof KeeperError)) throw e;
      txn = { type: OpCode.error, err: e.code };
      type = OpCode.error;
    }
    this.newProposal(null, 0, type, txn, ORIGIN_INTERNAL);
    this.txnLog.flush();
  }

  private newProposal(session: Session | null, cxid: number, type: number, txn: Txn | null, origin: number): Proposal {
    const zxid = ++this.lastZxid;
    assert(zxid <= Number.MAX_SAFE_INTEGER, 'zxid beyond 2^53');
    const hdr: TxnHeader = {
      clientIdHi: session?.idHi ?? 0, clientIdLo: session?.idLo ?? 0, cxid, zxid, time: this.opts.clock.wallMs(), type,
    };
    const p = new Proposal(hdr, txn, session, origin);
    this.pipeline.push(p);
    this.stats.proposals++;
    this.txnLog.append(hdr, txn);
    return p;
  }

  // ---- commit -----------------------------------------------------------------

  /** The log reports everything up to zxid durable: commit in zxid order. */
  private durableUpTo(zxid: number): void {
    const pipe = this.pipeline;
    while (pipe.size > 0 && pipe.peek()!.zxid <= zxid) {
      const p = pipe.shift()!;
      p.durable = true;
      this.commit(p);
    }
    // The log may report durability outside a drain (an fsync completing):
    // what the commits produced must reach the workers now.
    this.publish();
    if (this.throttledSince !== 0 && !this.throttled) {
      const ms = this.opts.clock.nowMs() - this.throttledSince;
      this.throttledSince = 0;
      log.info(`request throttle released after ${ms.toFixed(0)} ms`);
      this.onUnthrottle();
    }
  }

  private commit(p: Proposal): void {
    this.stats.commits++;
    // Audit: the ephemerals a closeSession deletes, in the order it deletes them (read before it applies).
    const ephemerals = this.gate.audit !== null && p.hdr.type === OpCode.closeSession && p.session !== null
      ? this.tree.sessionDeletionOrder(p.hdr.clientIdHi, p.hdr.clientIdLo, p.txn?.type === OpCode.closeSession ? p.txn.paths2Delete : null) : null;
    const rc = this.tree.processTxn(p.hdr, p.txn);
    this.prep.applied(p.zxid);
    const session = p.session;
    if (ephemerals !== null) this.gate.auditEphemerals(session!.id, ephemerals, (path) => this.tree.getNode(path) === undefined);
    if (p.audit !== null && p.conn !== null) this.gate.auditWrite(p.conn, p.requestType, p.audit, rc, p.hdr.type === OpCode.error);

    if (p.hdr.type === OpCode.createSession && session !== null) session.created = true;

    if (p.origin === ORIGIN_CONNECT) {
      const conn = p.conn!;
      if (conn.alive && session !== null && session.conn === conn) {
        this.channels[conn.worker]!.connected(conn.connId, session.timeoutMs, session.idHi, session.idLo, session.passwd,
          this.tree.lastProcessedZxid);
      }
    } else if (p.origin === ORIGIN_CLIENT && p.conn !== null) {
      this.replyToWrite(p, rc);
    }

    if (p.hdr.type === OpCode.closeSession && session !== null) {
      this.sessions.delete(session.id);
      this.tracker.remove(session);
      const conn = session.conn;
      if (conn !== null) {
        this.channels[conn.worker]!.close(conn.connId,
          p.origin === ORIGIN_EXPIRY ? CloseReason.sessionExpired : CloseReason.sessionClosed);
        this.detach(conn);
      }
    }

    // After the session table has taken this txn in: a snapshot named after
    // it must not list a session it closed.
    const snaps = this.opts.snapshots;
    if (snaps !== undefined && snaps.noteTxn()) {
      snaps.startSnapshot(this.snapshotSource, this.tree.lastProcessedZxid)?.catch((e: Error) => {
        log.error(`snapshot failed: ${e.message}; the txn log keeps every change, the next snapshot will be tried later`);
      });
    }

    if (session !== null) {
      const head = session.queue.shift();
      assert(head !== undefined && head.kind === 'proposal' && head.proposal === p,
        `commit of 0x${p.zxid.toString(16)} is not at the head of its session's queue`);
      this.runQueued(session);
    }
  }

  /** Run the requests that waited behind a session's writes, up to its next pending write. */
  private runQueued(session: Session): void {
    const q = session.queue;
    while (q.length > 0 && q[0]!.kind !== 'proposal') {
      const item = q.shift() as Exclude<QueuedItem, { kind: 'proposal' }>;
      this.queuedRequests--;
      if (item.kind === 'error') {
        this.replyHeader(item.conn, item.xid, this.tree.lastProcessedZxid, item.err);
        continue;
      }
      const r = this.queuedReader.reset(item.body, new DataView(item.body.buffer, item.body.byteOffset, item.body.byteLength), 0, item.body.length);
      this.runRead(item.conn, session, item.xid, item.type, r);
    }
  }

  private replyToWrite(p: Proposal, rc: ApplyResult): void {
    const conn = p.conn!;
    const w = this.w.reset();
    const zxid = this.tree.lastProcessedZxid;
    if (p.requestType === OpCode.multi && p.hdr.type === OpCode.multi) {
      // A multi answers OK with per-op results, failed or not.
      w.int(p.xid).long(zxid).int(Err.OK);
      writeMultiResults(w, rc.multi!);
    } else if (rc.err !== 0) {
      w.int(p.xid).long(zxid).int(rc.err);
    } else {
      w.int(p.xid).long(zxid).int(Err.OK);
      switch (p.requestType) {
        case OpCode.create:
          w.ustring(rc.path);
          break;
        case OpCode.create2:
        case OpCode.createContainer:
        case OpCode.createTTL:
          w.ustring(rc.path);
          writeStat(w, rc.stat!);
          break;
        case OpCode.setData:
        case OpCode.setACL:
          writeStat(w, rc.stat!);
          break;
        default:
          break;
      }
    }
    this.send(conn, w);
  }

  // ---- output ---------------------------------------------------------------

  private send(conn: Conn, w: Writer): void {
    if (!conn.alive) return;
    this.stats.packetsSent++;
    this.channels[conn.worker]!.frame(conn.connId, w.buf, w.pos);
  }

  private replyHeader(conn: Conn, xid: number, zxid: number, err: number): void {
    const w = this.w.reset();
    w.int(xid).long(zxid).int(err);
    this.send(conn, w);
  }

  /** A WatchedEvent frame: ReplyHeader {-1, -1, 0} then WatcherEvent {type, SyncConnected, path}. */
  event(conn: Conn, eventType: number, path: string): void {
    if (!conn.alive) return;
    // A change fires the same event at every watcher: encode it once.
    if (eventType !== this.evType || path !== this.evPath) {
      const w = this.ew.reset();
      w.int(Xid.notification).long(-1).int(Err.OK).int(eventType).int(KeeperState.SyncConnected).ustring(path);
      this.evType = eventType;
      this.evPath = path;
      this.evBytes = w.bytes();
    }
    this.stats.packetsSent++;
    this.channels[conn.worker]!.frame(conn.connId, this.evBytes);
  }

  // ---- introspection ----------------------------------------------------------

  /** Session sets by expiry time and ephemerals by session (the dump command). */
  dumpSessions(): { byExpiry: [number, string[]][]; ephemerals: [string, string[]][] } {
    const byExpiry = this.tracker.buckets().map(([t, ss]) => [t, ss.map((s) => hex64(s.id))] as [number, string[]]);
    const ephemerals: [string, string[]][] = [];
    for (const [id, paths] of this.tree.ephemerals) ephemerals.push([hex64(id), paths.order()]);
    return { byExpiry, ephemerals };
  }

  /** Data watches by session and by path (wchc, wchp: Apache reports data watches only). */
  watchReport(): { bySession: [string, string[]][]; byPath: [string, string[]][] } {
    const sid = (w: unknown) => {
      const s = (w as Conn).session;
      return s === null ? '0' : hex64(s.id);
    };
    const bySession: [string, string[]][] = [];
    for (const [w, paths] of this.tree.dataWatches.watchers()) bySession.push([sid(w), [...paths.keys()]]);
    const byPath: [string, string[]][] = [];
    for (const [p, ws] of this.tree.dataWatches.paths()) byPath.push([p, [...ws.keys()].map(sid)]);
    return { bySession, byPath };
  }

  resetStats(): void {
    this.stats.packetsReceived = 0;
    this.stats.packetsSent = 0;
    this.batchSize.reset();
    // Apache's counter set keeps its keys at zero.
    for (const ns of this.prep.quotaExceeded.keys()) this.prep.quotaExceeded.set(ns, 0);
  }

  /** [namespace, writes refused by a hard quota] since start or srst. */
  quotaExceededCounts(): [string, number][] {
    return byNamespace(this.prep.quotaExceeded);
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  get outstandingCount(): number {
    return this.pipeline.size;
  }

  /** The last zxid assigned (>= the last applied). */
  get lastAssignedZxid(): number {
    return this.lastZxid;
  }

  describeError(code: number): string {
    return errName(code);
  }
}

function errorCode(e: unknown): number {
  if (e instanceof KeeperError) return e.code;
  if (e instanceof JuteError) return Err.MARSHALLINGERROR;
  throw e;
}

/** MultiResponse: (MultiHeader{type, false, err} result)* MultiHeader{-1, true, -1}. */
function writeMultiResults(w: Writer, results: readonly ApplyResult[]): void {
  for (const r of results) {
    switch (r.type) {
      case OpCode.create:
        w.int(OpCode.create).bool(false).int(0).ustring(r.path);
        break;
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL:
        w.int(OpCode.create2).bool(false).int(0).ustring(r.path);
        writeStat(w, r.stat!);
        break;
      case OpCode.delete:
      case OpCode.deleteContainer:
        w.int(OpCode.delete).bool(false).int(0);
        break;
      case OpCode.setData:
        w.int(OpCode.setData).bool(false).int(0);
        writeStat(w, r.stat!);
        break;
      case OpCode.check:
        w.int(OpCode.check).bool(false).int(0);
        break;
      default:
        // error (the failed op, RUNTIMEINCONSISTENCY after it, OK for ops rolled back before it)
        w.int(OpCode.error).bool(false).int(r.err).int(r.err);
        break;
    }
  }
  w.int(-1).bool(true).int(-1);
}

function writeStat(w: Writer, s: NodeStat): void {
  w.long(s.czxid).long(s.mzxid).long(s.ctime).long(s.mtime).int(s.version).int(s.cversion).int(s.aversion)
    .longHiLo(s.ownerHi, s.ownerLo).int(s.dataLength).int(s.numChildren).long(s.pzxid);
}

/**
 * Apache's SessionTrackerImpl.initializeNextSessionId: the low 40 bits of the
 * clock in ms shifted up 16, with the server id in the high byte.
 */
export function initialSessionId(serverId: number, wallMs: number): bigint {
  let id = (BigInt.asUintN(64, BigInt(wallMs) << 24n) >> 8n) | (BigInt(serverId) << 56n);
  id = BigInt.asIntN(64, id);
  if (id === -(1n << 63n)) id++;
  return id;
}

