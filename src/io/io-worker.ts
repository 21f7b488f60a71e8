// An I/O worker: accepts client connections on the shared listening socket
// and owns them end to end. Requests go to the sequencer through this
// worker's request ring; replies and events come back through its reply
// ring, drained in batches with one socket write per connection per batch.
//
// The worker never waits on a lock: a full request ring pauses the sockets
// that have something to send (they are retried after the next reply drain
// or a short timer), and control records that must not be lost (a closed
// socket, a ping's touch) wait in a small queue of their own, ahead of any
// new input.

import type net from 'node:net';
import { Logger } from '../util/log.js';
import type { ConnectRequest, Id } from '../jute/records.js';
import type { RingReader, RingWriter } from '../ring/spsc-ring.js';
import type { Doorbell } from '../ring/doorbell.js';
import type { ReplySink } from '../sequencer/reply-channel.js';
import { replyBacklogBytesMax } from '../config/limits.js';
import { hiLoToBigInt } from '../util/long.js';
import {
  CONNECT_FLAG_AUTH_IDS, CONNECT_FLAG_HAS_READONLY, CONNECT_FLAG_READONLY, MSG_HEADER_BYTES, REFUSED_FLAG_SEND_INVALID,
  REP_CLOSE, REP_CONNECTED, REP_FRAME, REP_FRAME_CONT, REP_REFUSED, REQ_CLOSED, REQ_CONNECT, REQ_PACKET, REQ_TOUCH,
  writeMsgHeader,
} from '../ring/messages.js';
import { Connection, AWAIT_CONNECT, type ConnectionHost, type HostStats } from './connection.js';
import { fourLetterWordName } from './four-letter.js';
import { LatencyTracker, type ConnectionSnapshot, type WorkerSnapshot } from '../admin/stats.js';
import type { IpLimiter } from './ip-limiter.js';
import { TlsAcceptor } from '../security/tls-acceptor.js';
import { Fifo } from '../util/fifo.js';
import type { TlsMaterial } from '../security/keystores.js';

const log = new Logger('io');

function normalizeIp(addr: string): string {
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}

/** Reply records handled per drain before yielding to the event loop. */
const replyBatchMax = 4096;
const retryDelayMs = 1;

export interface IoWorkerOptions {
  index: number;
  frameSizeMax: number;
  tickMs: number;
  /** Answers a four-letter word (the admin hub, on the main thread or this one); `arg` is what followed it (stmk's mask). */
  fourLetter: (word: string, arg?: Buffer) => Promise<string>;
  /** Last applied zxid as published by the sequencer. */
  lastZxid: () => number;
  /** maxClientCnxns per client IP, shared by all workers (null: unlimited). */
  ipLimiter: IpLimiter | null;
  /** Event-loop delay of this thread (p99, max; ms). */
  eventLoopLag?: () => [number, number];
  /** TLS key and trust material, when secureClientPort or client.portUnification is set. */
  tls?: TlsMaterial | null;
  /** client.portUnification: a plaintext-port connection whose first byte is 0x16 is TLS. */
  portUnification?: boolean;
  /** X509AuthenticationProvider.superUser. */
  x509SuperUser?: string | null;
  /** False when authentication is enforced: pings go to the sequencer, which may refuse them. */
  answerPings?: boolean;
  /** This worker's share of globalOutstandingLimit: requests in flight before busy connections stop reading. */
  outstandingMax?: number;
}

/** A worker's share of globalOutstandingLimit (and of request_throttle_max_requests when lower). */
export function outstandingShare(globalOutstandingLimit: number, requestThrottleMaxRequests: number, workers: number): number {
  const limit = requestThrottleMaxRequests > 0 ? Math.min(globalOutstandingLimit, requestThrottleMaxRequests) : globalOutstandingLimit;
  return Math.max(1, Math.ceil(limit / Math.max(1, workers)));
}

export class IoWorker implements ConnectionHost {
  readonly frameSizeMax: number;
  readonly stats: HostStats = {
    packetsReceived: 0, packetsSent: 0, bytesReceived: 0,
    latency: new LatencyTracker(), readLatency: new LatencyTracker(), updateLatency: new LatencyTracker(),
    responseSizeLast: -1, responseSizeMin: Infinity, responseSizeMax: -1, ringStalls: 0, slowConsumersClosed: 0,
    outstanding: 0, outstandingThrottles: 0, outboundPauses: 0, socketWrites: 0,
  };
  readonly outstandingMax: number;
  connectionsRejected = 0;
  private readonly conns = new Map<number, Connection>();
  private nextId = 1;
  private readonly blockedConns = new Set<Connection>();
  /** Connections stopped at the outstanding-request limit, oldest first; retried as replies come back. */
  private readonly throttledConns = new Set<Connection>();
  /** Throttled connections whose last request was answered: each may send one more at once (Apache's rule). */
  private readonly idleThrottled: Connection[] = [];
  private readonly pendingControl: Buffer[] = [];
  /** Connections given replies in this drain, flushed at its end. */
  private readonly dirty = new Fifo<Connection>();
  private retryTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private inputUnpublished = false;
  private stopping = false;
  /** Handshakes for TLS connections (null without TLS). */
  private readonly tls: TlsAcceptor | null;
  readonly answerPings: boolean;
  /** Port unification: sockets whose first byte has not arrived yet. */
  private readonly undecided = new Set<net.Socket>();

  constructor(
    private readonly opts: IoWorkerOptions,
    private readonly requests: RingWriter,
    private readonly sequencerBell: Doorbell,
    private readonly replies: RingReader,
  ) {
    this.frameSizeMax = opts.frameSizeMax;
    this.answerPings = opts.answerPings ?? true;
    this.tls = opts.tls ? new TlsAcceptor(opts.tls, {
      x509SuperUser: opts.x509SuperUser ?? null,
      adopt: (socket, ids) => this.adopt(socket, ids),
    }) : null;
    this.outstandingMax = opts.outstandingMax ?? Infinity;
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  start(): void {
    // Connections that never complete a handshake are closed after 10 ticks, as Apache does.
    this.sweepTimer = setInterval(() => this.sweep(), this.opts.tickMs);
    this.sweepTimer.unref();
  }

  /** A connection on the client port: plaintext, or TLS too with client.portUnification. */
  accept(socket: net.Socket): void {
    if (!this.admit(socket)) return;
    if (this.tls === null || !this.opts.portUnification) {
      this.adopt(socket, null);
      return;
    }
    // Port unification: the first byte decides (0x16 = a TLS handshake
    // record, as Apache's DualModeSslHandler); the bytes read go back first.
    // A client that sends nothing is closed like one that never completes a handshake.
    socket.setTimeout(10 * this.opts.tickMs, () => socket.destroy());
    this.undecided.add(socket);
    socket.once('close', () => this.undecided.delete(socket));
    socket.once('data', (chunk: Buffer) => {
      this.undecided.delete(socket);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === 0x16) {
        this.tls!.accept(socket);
      } else {
        this.adopt(socket, null);
        socket.resume();
      }
    });
  }

  /** A connection on the TLS-only secureClientPort. */
  acceptSecure(socket: net.Socket): void {
    if (!this.admit(socket)) return;
    this.tls!.accept(socket);
  }

  /** New TLS material (the key or trust store files changed). */
  reloadTls(material: TlsMaterial): void {
    this.tls?.reload(material);
  }

  /** TLS handshakes refused or failed since start. */
  get tlsFailures(): number {
    return this.tls?.failures ?? 0;
  }

  /** maxClientCnxns per IP, before any handshake. */
  private admit(socket: net.Socket): boolean {
    if (this.stopping) {
      socket.destroy();
      return false;
    }
    const limiter = this.opts.ipLimiter;
    const ip = normalizeIp(socket.remoteAddress ?? '');
    if (limiter !== null && !limiter.acquire(ip)) {
      this.connectionsRejected++;
      log.warn(`too many connections from ${ip} (max is ${limiter.max}); closing the new one`);
      socket.destroy();
      return false;
    }
    if (limiter !== null) socket.once('close', () => limiter.release(ip));
    return true;
  }

  /** A connection ready for the protocol (TLS handshake done, with the ids its certificate proved). */
  private adopt(socket: net.Socket, authIds: Id[] | null): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    let id = this.nextId;
    while (this.conns.has(id) || id === 0) id = (id + 1) >>> 0;
    this.nextId = (id + 1) >>> 0;
    const c = new Connection(id, socket, this);
    if (authIds !== null && authIds.length > 0) c.authIds = authIds;
    this.conns.set(id, c);
  }

  private sweep(): void {
    const deadline = Date.now() - 10 * this.opts.tickMs;
    for (const c of this.conns.values()) {
      if (c.state === AWAIT_CONNECT && c.openedAt < deadline) {
        log.info(`closing ${c.describe()}: no handshake within ${10 * this.opts.tickMs} ms`);
        c.destroy();
      }
    }
  }

  // ---- ConnectionHost: towards the sequencer ---------------------------------

  pushConnect(c: Connection, req: ConnectRequest): boolean {
    if (this.pendingControl.length > 0) return false;
    const addr = Buffer.from(c.remoteAddress, 'utf8');
    const ids = c.authIds === null ? null
      : c.authIds.map((i) => [Buffer.from(i.scheme, 'utf8'), Buffer.from(i.id, 'utf8')] as const);
    let idBytes = 0;
    if (ids !== null) { idBytes = 4; for (const [a, b] of ids) idBytes += 8 + a.length + b.length; }
    const size = MSG_HEADER_BYTES + 4 + 8 + 4 + 8 + 4 + req.passwd.length + 4 + addr.length + 4 + idBytes;
    const ring = this.requests;
    const at = ring.reserve(size);
    if (at < 0) return false;
    const v = ring.view;
    let flags = 0;
    if (req.withReadOnlyByte) flags |= CONNECT_FLAG_HAS_READONLY;
    if (req.readOnly) flags |= CONNECT_FLAG_READONLY;
    if (ids !== null) flags |= CONNECT_FLAG_AUTH_IDS;
    writeMsgHeader(v, at, REQ_CONNECT, flags, c.id);
    let p = at + MSG_HEADER_BYTES;
    v.setInt32(p, req.protocolVersion); p += 4;
    const hi = Math.floor(req.lastZxidSeen / 4294967296);
    v.setInt32(p, hi | 0); v.setUint32(p + 4, req.lastZxidSeen - hi * 4294967296); p += 8;
    v.setInt32(p, req.timeOut); p += 4;
    v.setBigInt64(p, req.sessionId); p += 8;
    v.setInt32(p, req.passwd.length); p += 4;
    ring.buf.set(req.passwd, p); p += req.passwd.length;
    v.setInt32(p, addr.length); p += 4;
    ring.buf.set(addr, p); p += addr.length;
    v.setInt32(p, c.remotePort); p += 4;
    if (ids !== null) {
      v.setInt32(p, ids.length); p += 4;
      for (const [a, b] of ids) {
        v.setInt32(p, a.length); p += 4;
        ring.buf.set(a, p); p += a.length;
        v.setInt32(p, b.length); p += 4;
        ring.buf.set(b, p); p += b.length;
      }
    }
    ring.commit();
    this.inputUnpublished = true;
    return true;
  }

  pushPacket(c: Connection, frame: Buffer): boolean {
    if (this.pendingControl.length > 0) return false;
    const ring = this.requests;
    const at = ring.reserve(MSG_HEADER_BYTES + frame.length);
    if (at < 0) return false;
    writeMsgHeader(ring.view, at, REQ_PACKET, 0, c.id);
    ring.buf.set(frame, at + MSG_HEADER_BYTES);
    ring.commit();
    this.inputUnpublished = true;
    return true;
  }

  /** A touch goes straight into the ring or not at all (false: the caller waits like a full ring). */
  pushTouch(c: Connection): boolean {
    if (this.pendingControl.length > 0) return false;
    const at = this.requests.reserve(MSG_HEADER_BYTES);
    if (at < 0) return false;
    writeMsgHeader(this.requests.view, at, REQ_TOUCH, 0, c.id);
    this.requests.commit();
    this.inputUnpublished = true;
    return true;
  }

  closed(c: Connection): void {
    if (this.conns.get(c.id) !== c) return;
    this.conns.delete(c.id);
    this.blockedConns.delete(c);
    this.throttledConns.delete(c);
    // The sequencer knows the connection once its ConnectRequest went out.
    if (c.state !== AWAIT_CONNECT || c.sessionId !== 0n) this.pushControl(REQ_CLOSED, c.id);
    this.inputDone();
  }

  private pushControl(kind: number, connId: number): void {
    if (this.pendingControl.length === 0) {
      const at = this.requests.reserve(MSG_HEADER_BYTES);
      if (at >= 0) {
        writeMsgHeader(this.requests.view, at, kind, 0, connId);
        this.requests.commit();
        this.inputUnpublished = true;
        return;
      }
    }
    const rec = Buffer.alloc(MSG_HEADER_BYTES);
    writeMsgHeader(new DataView(rec.buffer, rec.byteOffset, rec.length), 0, kind, 0, connId);
    this.pendingControl.push(rec);
    this.scheduleRetry();
  }

  blocked(c: Connection): void {
    this.blockedConns.add(c);
    this.scheduleRetry();
  }

  throttled(c: Connection): void {
    this.throttledConns.add(c);
  }

  throttledIdle(c: Connection): void {
    this.idleThrottled.push(c);
  }

  /**
   * Replies came back. A throttled connection with nothing in flight sends
   * its next request now (so a light client never waits behind heavy ones);
   * the others read again, oldest first, while the worker is under the limit.
   */
  private retryThrottled(): void {
    for (const c of this.idleThrottled) {
      if (this.throttledConns.delete(c)) c.retryThrottled();
    }
    this.idleThrottled.length = 0;
    for (const c of this.throttledConns) {
      if (this.stats.outstanding >= this.outstandingMax) break;
      this.throttledConns.delete(c);
      c.retryThrottled();
    }
  }

  inputDone(): void {
    if (!this.inputUnpublished) return;
    this.inputUnpublished = false;
    this.requests.publish();
    this.sequencerBell.ring();
  }

  lastZxid(): number {
    return this.opts.lastZxid();
  }

  /** A known four-letter word is answered asynchronously, then the connection closes. */
  fourLetterWord(c: Connection, word: number, rest: Buffer): boolean {
    const name = fourLetterWordName(word);
    if (name === null) return false;
    c.fourLetterWordTaken();
    this.opts.fourLetter(name, name === 'stmk' ? Buffer.from(rest) : undefined).then(
      (text) => {
        if (c.socket.destroyed) return;
        c.fourLetterWordAnswered(text.length);
        c.socket.end(text);
      },
      (e: Error) => { log.warn(`four-letter word ${name} failed: ${e.message}`); c.socket.destroy(); },
    );
    return true;
  }

  // ---- statistics ---------------------------------------------------------------

  snapshot(): WorkerSnapshot {
    const s = this.stats;
    const outstanding = s.outstanding;
    const [lagP99, lagMax] = this.opts.eventLoopLag?.() ?? [0, 0];
    return {
      index: this.opts.index,
      connections: this.conns.size,
      packetsReceived: s.packetsReceived,
      packetsSent: s.packetsSent,
      bytesReceived: s.bytesReceived,
      outstanding,
      latency: s.latency.snapshot(),
      readLatency: s.readLatency.snapshot(),
      updateLatency: s.updateLatency.snapshot(),
      responseSizeLast: s.responseSizeLast,
      responseSizeMin: s.responseSizeMin === Infinity ? -1 : s.responseSizeMin,
      responseSizeMax: s.responseSizeMax,
      connectionsRejected: this.connectionsRejected,
      tlsHandshakesFailed: this.tlsFailures,
      ringStalls: s.ringStalls,
      ringUsedBytes: this.requests.capacity - this.requests.freeBytes(),
      ringCapacity: this.requests.capacity,
      slowConsumersClosed: s.slowConsumersClosed,
      outstandingThrottles: s.outstandingThrottles,
      outboundPauses: s.outboundPauses,
      socketWrites: s.socketWrites,
      eventLoopLagP99Ms: lagP99,
      eventLoopLagMaxMs: lagMax,
    };
  }

  connections(): ConnectionSnapshot[] {
    return [...this.conns.values()].map((c) => c.snapshot());
  }

  /** crst */
  resetConnectionStats(): void {
    for (const c of this.conns.values()) c.resetStats();
  }

  /** srst */
  resetStats(): void {
    const s = this.stats;
    s.packetsReceived = 0;
    s.packetsSent = 0;
    s.bytesReceived = 0;
    s.latency.reset();
    s.readLatency.reset();
    s.updateLatency.reset();
    s.responseSizeLast = -1;
    s.responseSizeMin = Infinity;
    s.responseSizeMax = -1;
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== null) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.retryBlocked();
    }, retryDelayMs);
  }

  private retryBlocked(): void {
    while (this.pendingControl.length > 0) {
      const rec = this.pendingControl[0]!;
      const at = this.requests.reserve(rec.length);
      if (at < 0) break;
      this.requests.buf.set(rec, at);
      this.requests.commit();
      this.inputUnpublished = true;
      this.pendingControl.shift();
    }
    this.inputDone();
    if (this.pendingControl.length === 0 && this.blockedConns.size > 0) {
      const list = [...this.blockedConns];
      this.blockedConns.clear();
      for (const c of list) c.retry();
    }
    if (this.pendingControl.length > 0 || this.blockedConns.size > 0) this.scheduleRetry();
  }

  // ---- replies ---------------------------------------------------------------

  /** Drain one batch of the reply ring. Returns true if records were left for another batch. */
  drainReplies(): boolean {
    const ring = this.replies;
    let n = 0;
    for (; n < replyBatchMax; n++) {
      const at = ring.next();
      if (at < 0) break;
      const v = ring.view;
      const kind = v.getUint8(at);
      const flags = v.getUint8(at + 1);
      const c = this.conns.get(v.getUint32(at + 4));
      const body = at + MSG_HEADER_BYTES;
      if (c !== undefined) {
        switch (kind) {
          case REP_FRAME:
            c.frameStart(v.getUint32(body), ring.buf, body + 4, at + ring.length);
            break;
          case REP_FRAME_CONT:
            c.frameContinue(ring.buf, body, at + ring.length);
            break;
          case REP_CONNECTED: {
            const timeoutMs = v.getInt32(body);
            const sessionId = v.getBigInt64(body + 4);
            const zxid = v.getInt32(body + 28) * 4294967296 + v.getUint32(body + 32);
            c.connected(timeoutMs, sessionId, Buffer.from(ring.buf.subarray(body + 12, body + 28)), zxid);
            break;
          }
          case REP_REFUSED:
            c.refused((flags & REFUSED_FLAG_SEND_INVALID) !== 0);
            break;
          case REP_CLOSE:
            c.closeSoon();
            break;
          default:
            throw new Error(`io worker ${this.opts.index}: unknown reply record kind ${kind}`);
        }
        this.markDirty(c);
      }
      ring.release();
    }
    ring.publish();
    this.flushDirty();
    return n === replyBatchMax;
  }

  private markDirty(c: Connection): void {
    if (!c.dirty) {
      c.dirty = true;
      this.dirty.push(c);
    }
  }

  /** Write out what the connections were given since the last flush, then let the held-back ones read again. */
  flushDirty(): void {
    for (let c = this.dirty.shift(); c !== undefined; c = this.dirty.shift()) {
      c.dirty = false;
      c.flushOut();
    }
    if (this.blockedConns.size > 0 || this.pendingControl.length > 0) this.retryBlocked();
    if (this.throttledConns.size > 0 || this.idleThrottled.length > 0) this.retryThrottled();
  }

  // The same records handed over directly (workers=0: see DirectReplies).

  replyFrame(connId: number, body: Buffer, total: number): void {
    const c = this.conns.get(connId);
    if (c === undefined) return;
    c.frameStart(total, body, 0, total);
    this.markDirty(c);
  }

  replyConnected(connId: number, timeoutMs: number, idHi: number, idLo: number, passwd: Uint8Array, lastZxid: number): void {
    const c = this.conns.get(connId);
    if (c === undefined) return;
    c.connected(timeoutMs, hiLoToBigInt(idHi, idLo), Buffer.from(passwd), lastZxid);
    this.markDirty(c);
  }

  replyRefused(connId: number, flags: number): void {
    const c = this.conns.get(connId);
    if (c === undefined) return;
    c.refused((flags & REFUSED_FLAG_SEND_INVALID) !== 0);
    this.markDirty(c);
  }

  replyClose(connId: number): void {
    const c = this.conns.get(connId);
    if (c === undefined) return;
    c.closeSoon();
    this.markDirty(c);
  }

  hasReplies(): boolean {
    return this.replies.hasData();
  }

  /** Stop accepting and close every connection (server shutdown). */
  stop(): void {
    this.stopping = true;
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.tls?.close();
    for (const s of this.undecided) s.destroy();
    for (const c of [...this.conns.values()]) c.destroy();
  }
}

/**
 * The sequencer's reply sink when it shares the I/O thread (workers=0):
 * each reply goes straight into its connection's output buffer, with no
 * reply ring between them (the ring's copy and record decoding cost about
 * 1.5 µs per reply). Connections are written out at the end of the batch,
 * when `flush` rings the pump, as with the ring. What has not been written
 * out yet counts as the backlog a full ring would be: past
 * replyBacklogBytesMax the sequencer takes no new request until the pump
 * (`drain`) has written it, so a client that asks for much more than it
 * reads has its input paused before it is closed, as with the ring.
 */
export class DirectReplies implements ReplySink {
  private wrote = false;
  backlogBytes = 0;

  constructor(private readonly io: () => IoWorker, private readonly bell: Doorbell) {}

  get backlogged(): boolean {
    return this.backlogBytes > replyBacklogBytesMax;
  }

  frame(connId: number, body: Buffer, total = body.length): void {
    this.io().replyFrame(connId, body, total);
    this.backlogBytes += total;
    this.wrote = true;
  }

  connected(connId: number, timeoutMs: number, idHi: number, idLo: number, passwd: Uint8Array, lastZxid: number): void {
    this.io().replyConnected(connId, timeoutMs, idHi, idLo, passwd, lastZxid);
    this.wrote = true;
  }

  refused(connId: number, flags: number): void {
    this.io().replyRefused(connId, flags);
    this.wrote = true;
  }

  close(connId: number, _reason: number): void {
    this.io().replyClose(connId);
    this.wrote = true;
  }

  retryOverflow(): boolean {
    return !this.backlogged;
  }

  flush(): void {
    if (!this.wrote) return;
    this.wrote = false;
    this.bell.ring();
  }

  /** The I/O pump's drain: the (empty) reply ring, then every connection given replies is written out. */
  drain(): boolean {
    const more = this.io().drainReplies();
    this.backlogBytes = 0;
    return more;
  }
}
