// One client connection on an I/O worker, for its whole life:
//
//   AWAIT_CONNECT ──ConnectRequest──▶ CONNECTING ──REP_CONNECTED──▶ OPEN
//        │ (a four-letter word instead: answer, close)   │ REP_REFUSED
//        └───────────────────────────────────────────────┴──▶ CLOSING ──▶ closed
//
// The connection frames the byte stream, decodes the handshake and the
// RequestHeader, answers pings itself (and tells the sequencer the session
// is alive), and forwards every other frame whole to the sequencer. Replies
// come back as frame bodies; the connection prefixes their length and writes
// them out once per drain of the reply ring.
//
// Backpressure, each stopping the decoder and pausing the socket:
//   - the request ring is full: the worker retries soon;
//   - the worker has globalOutstandingLimit (its share) requests in flight and
//     this connection has some of them (Apache's shouldThrottle): the worker
//     retries when replies come back;
//   - more than connectionOutboundSoftMax bytes of replies wait unread: input
//     resumes when the client has read them ('drain'). Replies to requests
//     already forwarded still come; past connectionOutboundHardMax queued
//     bytes the client is not reading at all and the connection is closed
//     (counted: slowConsumersClosed).

import type net from 'node:net';
import { Logger } from '../util/log.js';
import { TripleFifo } from '../util/fifo.js';
import { copyBytes } from '../util/copy.js';
import { FrameDecoder, FRAME_BAD_LENGTH } from '../jute/frame.js';
import { Reader } from '../jute/reader.js';
import { OpCode, Xid } from '../jute/opcodes.js';
import { readConnectRequest, type ConnectRequest, type Id } from '../jute/records.js';
import { connectionOutboundHardMax, connectionOutboundSoftMax } from '../config/limits.js';
import type { ConnectionSnapshot, LatencyTracker } from '../admin/stats.js';

const log = new Logger('io');

export const AWAIT_CONNECT = 0;
export const CONNECTING = 1;
export const OPEN = 2;
export const CLOSING = 3;
export const CLOSED = 4;

/** What a connection needs from its worker. */
export interface ConnectionHost {
  readonly frameSizeMax: number;
  /** Forward a ConnectRequest; false if the ring is full. */
  pushConnect(c: Connection, req: ConnectRequest): boolean;
  /** Forward a whole request frame; false if the ring is full. */
  pushPacket(c: Connection, frame: Buffer): boolean;
  /** The session behind this connection is alive (a ping was answered). */
  pushTouch(c: Connection): boolean;
  /** The socket is gone. */
  closed(c: Connection): void;
  /** The connection stopped on a full ring; retry it soon. */
  blocked(c: Connection): void;
  /** The connection stopped at the outstanding-request limit; retry it when replies have come back. */
  throttled(c: Connection): void;
  /** A throttled connection has nothing in flight any more: it may send one request whatever the limit. */
  throttledIdle(c: Connection): void;
  /** Requests in flight (forwarded, not yet answered) across this worker's connections before they stop reading. */
  readonly outstandingMax: number;
  /** A batch of input was forwarded: publish it to the sequencer. */
  inputDone(): void;
  /** Last applied zxid, for ping replies. */
  lastZxid(): number;
  /** Worker-wide counters the connection adds to. */
  readonly stats: HostStats;
  /** False when authentication is enforced: pings then go to the sequencer like any request. */
  readonly answerPings: boolean;
  /** If the first four bytes are a four-letter word, answer it (asynchronously) and return true. */
  fourLetterWord(c: Connection, word: number, rest: Buffer): boolean;
}

/** Counters a worker keeps across its connections. */
export interface HostStats {
  packetsReceived: number;
  packetsSent: number;
  bytesReceived: number;
  latency: LatencyTracker;
  readLatency: LatencyTracker;
  updateLatency: LatencyTracker;
  responseSizeLast: number;
  responseSizeMin: number;
  responseSizeMax: number;
  ringStalls: number;
  slowConsumersClosed: number;
  /** Requests forwarded and not yet answered, over all connections of the worker. */
  outstanding: number;
  /** Times a connection stopped reading at the outstanding-request limit. */
  outstandingThrottles: number;
  /** Times a connection stopped reading because its client left too many replies unread. */
  outboundPauses: number;
  /** Reply buffers handed to sockets (each one write or writev unless the socket was already backed up). */
  socketWrites: number;
}

/** Apache's lastOp names (FinalRequestProcessor), for cons. */
const opNames = new Map<number, string>([
  [OpCode.ping, 'PING'], [OpCode.multi, 'MULT'], [OpCode.multiRead, 'MLTR'], [OpCode.create, 'CREA'],
  [OpCode.create2, 'CREA'], [OpCode.createTTL, 'CREA'], [OpCode.createContainer, 'CREA'], [OpCode.delete, 'DELE'],
  [OpCode.deleteContainer, 'DELE'], [OpCode.setData, 'SETD'], [OpCode.reconfig, 'RECO'], [OpCode.setACL, 'SETA'],
  [OpCode.closeSession, 'CLOS'], [OpCode.sync, 'SYNC'], [OpCode.check, 'CHEC'], [OpCode.exists, 'EXIS'],
  [OpCode.getData, 'GETD'], [OpCode.setWatches, 'SETW'], [OpCode.setWatches2, 'STW2'], [OpCode.addWatch, 'ADDW'],
  [OpCode.getACL, 'GETA'], [OpCode.getChildren, 'GETC'], [OpCode.getChildren2, 'GETC'], [OpCode.getAllChildrenNumber, 'GETACN'],
  [OpCode.checkWatches, 'CHKW'], [OpCode.removeWatches, 'REMW'], [OpCode.whoAmI, 'HOMI'], [OpCode.getEphemerals, 'GETE'],
  [OpCode.createSession, 'SESS'],
]);

/** Requests that change state (Apache's updatelatency), as opposed to reads. */
function isUpdate(type: number): boolean {
  switch (type) {
    case OpCode.create: case OpCode.create2: case OpCode.createContainer: case OpCode.createTTL:
    case OpCode.delete: case OpCode.setData: case OpCode.setACL: case OpCode.multi: case OpCode.reconfig:
    case OpCode.closeSession: case OpCode.deleteContainer: case OpCode.createSession:
      return true;
    default:
      return false;
  }
}

// Replies are encoded into one buffer per connection. A connection's first
// buffer is small and comes from Node's shared pool (a connect storm makes one
// per session); when a drain's replies do not fit, what it holds is written
// at once and the next buffer is twice as large, up to OUT_MAX (a burst of
// small replies at high depth is written in a handful of writes, not one per
// 512 B). After a drain, and within one at OUT_MAX, the same buffer is filled
// again from its start whenever the socket has taken every byte
// (writableLength 0), so a busy connection allocates nothing per reply,
// whatever the value size; only bytes still queued in the socket pin a buffer.
const OUT_FIRST = 512;
const OUT_MAX = 256 * 1024;

export class Connection {
  state = AWAIT_CONNECT;
  /** Ids the connection proved before its handshake (a TLS client certificate), sent with its ConnectRequest. */
  authIds: Id[] | null = null;
  /** Whether the client's ConnectRequest carried the readOnly byte (the response mirrors it). */
  withReadOnlyByte = false;
  sessionId = 0n;
  timeoutMs = 0;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly openedAt = Date.now();
  packetsReceived = 0;
  packetsSent = 0;
  lastZxid = 0;
  /** Set while queued for flushOut() at the end of the current reply drain. */
  dirty = false;
  /** Requests forwarded to the sequencer and not yet answered. */
  outstanding = 0;
  // Per-connection statistics (cons). Outstanding requests are answered in
  // order, so a FIFO of (arrival time, type, xid) pairs each reply with its request.
  private readonly pending = new TripleFifo();
  /** When the ConnectRequest of a new session (id 0) arrived; -1 otherwise. Its answer counts as a createSession's. */
  private connectStartedAt = -1;
  // Until crst resets them, these start where Apache's do: Java's field
  // defaults (null, 0), so a reattached session's cons line shows lop=null,
  // lcxid=0x0, lzxid=0x0, and minlat stays 0.
  lastOp: string | null = null;
  lastCxid = 0;
  /** The zxid cons shows (Apache's lastZxid statistic): lastZxid as of the last answer. */
  statsZxid = 0;
  lastResponseMs = 0;
  lastLatency = 0;
  minLatency = 0;
  maxLatency = 0;
  latencySum = 0;
  latencyCount = 0;

  private readonly decoder: FrameDecoder;
  private readPaused = false;
  private blockedOnRing = false;
  private blockedOnLimit = false;
  private blockedOnOutput = false;
  private out: Buffer | null = null;
  private outLen = 0;
  /** Size of the next reply buffer (see OUT_MAX). */
  private outChunk = OUT_FIRST;
  /** Start of the bytes in `out` not yet handed to the socket; `outLen` is their end. */
  private outStart = 0;
  private closeAfterFlush = false;
  /** Bytes still owed to the frame started by the last REP_FRAME (fragmented replies). */
  private frameRemaining = 0;

  constructor(readonly id: number, readonly socket: net.Socket, private readonly host: ConnectionHost) {
    this.remoteAddress = normalizeAddress(socket.remoteAddress ?? '');
    this.remotePort = socket.remotePort ?? 0;
    this.decoder = new FrameDecoder(host.frameSizeMax);
    this.decoder.onFirstWord = (word, rest) => this.host.fourLetterWord(this, word, rest);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      if (log.enabled('debug')) log.debug(`connection ${this.describe()} error: ${err.message}`);
    });
    socket.on('close', () => this.onSocketClose());
    socket.on('drain', () => this.onDrain());
  }

  describe(): string {
    return `${this.remoteAddress}:${this.remotePort}${this.sessionId !== 0n ? ` session 0x${this.sessionId.toString(16)}` : ''}`;
  }

  // ---- input ------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.state >= CLOSING) return;
    const status = this.decoder.feed(chunk, this.sink);
    this.host.inputDone();
    this.afterDecode(status);
  }

  /** Retry after the request ring had no room. */
  retry(): void {
    if (this.state >= CLOSING || !this.blockedOnRing) return;
    this.blockedOnRing = false;
    this.resumeInput();
  }

  /** Retry after the outstanding-request limit was reached. */
  retryThrottled(): void {
    if (this.state >= CLOSING || !this.blockedOnLimit) return;
    this.blockedOnLimit = false;
    this.resumeInput();
  }

  private resumeInput(): void {
    const status = this.decoder.resume(this.sink);
    this.host.inputDone();
    this.afterDecode(status);
    this.updateReadPause();
  }

  private afterDecode(status: number): void {
    if (status === FRAME_BAD_LENGTH) {
      log.warn(`closing ${this.describe()}: frame length ${this.decoder.badLength} outside 0..${this.host.frameSizeMax} (jute.maxbuffer)`);
      this.destroy();
    }
  }

  private readonly sink = (frame: Buffer): boolean => {
    if (this.state === AWAIT_CONNECT) return this.onConnectFrame(frame);
    if (this.state >= CLOSING) return true;
    if (frame.length < 8) {
      log.warn(`closing ${this.describe()}: request of ${frame.length} bytes has no complete header`);
      this.destroy();
      return true;
    }
    const stats = this.host.stats;
    if (this.socket.writableLength > connectionOutboundSoftMax) {
      // The client is not reading its replies: read nothing more from it until it does.
      if (!this.readPaused) stats.outboundPauses++;
      this.blockedOnOutput = true;
      this.pauseReading();
      return false;
    }
    if (this.outstanding > 0 && stats.outstanding >= this.host.outstandingMax) {
      stats.outstandingThrottles++;
      this.blockedOnLimit = true;
      this.pauseReading();
      this.host.throttled(this);
      return false;
    }
    const type = frame.readInt32BE(4);
    if (type === OpCode.ping && this.state === OPEN && this.outstanding === 0 && this.host.answerPings) {
      // Nothing of this session is in flight, so answering here keeps its
      // order; the zxid is never older than one the client has seen. The
      // touch goes first: with the ring full the ping waits (a flood of
      // pings must not pile up touches in memory).
      if (!this.host.pushTouch(this)) return this.stopOnFullRing();
      this.packetsReceived++;
      stats.packetsReceived++;
      stats.bytesReceived += frame.length + 4;
      this.writeReplyHeader(Xid.ping, Math.max(this.host.lastZxid(), this.lastZxid), 0);
      this.answered(performance.now(), OpCode.ping, Xid.ping);
      this.flushOut();
      return true;
    }
    // Anything else, pings behind pending requests included, is answered by
    // the sequencer in the session's order.
    if (!this.host.pushPacket(this, frame)) return this.stopOnFullRing();
    this.packetsReceived++;
    stats.packetsReceived++;
    stats.bytesReceived += frame.length + 4;
    this.outstanding++;
    stats.outstanding++;
    this.pending.push(performance.now(), type, frame.readInt32BE(0));
    return true;
  };

  private onConnectFrame(frame: Buffer): boolean {
    let req: ConnectRequest;
    try {
      req = readConnectRequest(new Reader(frame));
    } catch (e) {
      log.warn(`closing ${this.describe()}: malformed ConnectRequest (${(e as Error).message})`);
      this.destroy();
      return true;
    }
    this.withReadOnlyByte = req.withReadOnlyByte;
    if (!this.host.pushConnect(this, req)) return this.stopOnFullRing();
    this.state = CONNECTING;
    // Apache counts the ConnectRequest as a received packet.
    this.packetsReceived++;
    const stats = this.host.stats;
    stats.packetsReceived++;
    stats.bytesReceived += frame.length + 4;
    if (req.sessionId === 0n) this.connectStartedAt = performance.now();
    return true;
  }

  /** A request was answered: per-connection and worker latency, last op. */
  private answered(t0: number, type: number, xid: number): void {
    const now = performance.now();
    const ms = now - t0;
    this.lastOp = opNames.get(type) ?? 'NA';
    this.lastCxid = xid;
    this.statsZxid = this.lastZxid;
    this.lastResponseMs = now;
    this.lastLatency = ms;
    if (ms < this.minLatency) this.minLatency = ms;
    if (ms > this.maxLatency) this.maxLatency = ms;
    this.latencySum += ms;
    this.latencyCount++;
    const s = this.host.stats;
    s.latency.record(ms, now);
    (isUpdate(type) ? s.updateLatency : s.readLatency).record(ms, now);
  }

  private stopOnFullRing(): boolean {
    this.host.stats.ringStalls++;
    this.blockedOnRing = true;
    this.pauseReading();
    this.host.blocked(this);
    return false;
  }

  /**
   * A four-letter word arrived (before it is answered, so that cons and stat
   * list this connection as Apache does: one packet received, not selected).
   */
  fourLetterWordTaken(): void {
    this.packetsReceived = 1;
    this.host.stats.packetsReceived++;
    this.state = CLOSING;
  }

  /** A four-letter word's answer of `chars` characters is being sent: Apache counts one packet per 8192 (its writer's buffer). */
  fourLetterWordAnswered(chars: number): void {
    const packets = Math.ceil(chars / 8192);
    this.packetsSent += packets;
    this.host.stats.packetsSent += packets;
  }

  private pauseReading(): void {
    if (!this.readPaused) {
      this.readPaused = true;
      this.socket.pause();
    }
  }

  private updateReadPause(): void {
    const outputFull = this.socket.writableLength > connectionOutboundSoftMax;
    const wantPause = this.blockedOnRing || this.blockedOnLimit || this.blockedOnOutput || outputFull;
    if (wantPause && !this.readPaused) {
      if (outputFull) this.host.stats.outboundPauses++;
      this.readPaused = true;
      this.socket.pause();
    } else if (!wantPause && this.readPaused) {
      this.readPaused = false;
      this.socket.resume();
    }
  }

  private onDrain(): void {
    if (this.state >= CLOSING) return;
    if (this.blockedOnOutput && this.socket.writableLength <= connectionOutboundSoftMax) {
      this.blockedOnOutput = false;
      this.resumeInput();
    } else {
      this.updateReadPause();
    }
  }

  // ---- output -----------------------------------------------------------------

  private reserveOut(n: number): Buffer {
    const out = this.out;
    if (out === null || this.outLen + n > out.length) {
      if (out !== null && this.outLen > this.outStart) {
        // This drain's replies outgrow the buffer: write what it holds now.
        this.writeOut();
        if (this.outChunk < OUT_MAX) this.outChunk = Math.min(OUT_MAX, Math.max(this.outChunk * 2, out.length * 2));
        if (this.socket.writableLength === 0 && n <= out.length && out.length >= this.outChunk) {
          // Taken whole by the kernel, and already the largest buffer: fill
          // it again. A smaller one is replaced by the next size, or a burst
          // of small replies would go out a few hundred bytes per write.
          this.outStart = this.outLen = 0;
          return out;
        }
      } else if (out !== null && this.outChunk < OUT_MAX && n > out.length) {
        this.outChunk = Math.min(OUT_MAX, Math.max(this.outChunk * 2, n));
      }
      this.out = Buffer.allocUnsafe(Math.max(this.outChunk, n));
      this.outStart = this.outLen = 0;
    }
    return this.out!;
  }

  private writeOut(): void {
    const out = this.out!;
    this.socket.write(out.subarray(this.outStart, this.outLen));
    this.host.stats.socketWrites++;
    this.outStart = this.outLen;
  }

  private writeReplyHeader(xid: number, zxid: number, err: number): void {
    const b = this.reserveOut(20);
    let p = this.outLen;
    b.writeInt32BE(16, p);
    b.writeInt32BE(xid, p + 4);
    const hi = Math.floor(zxid / 4294967296);
    b.writeInt32BE(hi | 0, p + 8);
    b.writeUInt32BE(zxid - hi * 4294967296, p + 12);
    b.writeInt32BE(err, p + 16);
    p += 20;
    this.outLen = p;
    this.packetsSent++;
    this.countSent(20);
  }

  private countSent(frameBytes: number): void {
    const s = this.host.stats;
    s.packetsSent++;
    s.responseSizeLast = frameBytes;
    if (frameBytes < s.responseSizeMin) s.responseSizeMin = frameBytes;
    if (frameBytes > s.responseSizeMax) s.responseSizeMax = frameBytes;
  }

  /** Start a reply frame of `total` bytes, of which `bytes` is the first part. */
  frameStart(total: number, src: Buffer, start: number, end: number): void {
    if (this.state >= CLOSED) return;
    // Room for the whole frame when it fits one buffer, so its fragments do not split it.
    const b = this.reserveOut(4 + (total <= OUT_MAX - 4 ? total : end - start));
    b.writeInt32BE(total, this.outLen);
    copyBytes(src, start, end, b, this.outLen + 4);
    this.outLen += 4 + (end - start);
    this.frameRemaining = total - (end - start);
    this.packetsSent++;
    this.countSent(4 + total);
    if (total >= 16) {
      // ReplyHeader {xid, zxid, err}: a reply (not an event) settles one
      // outstanding request; remember the newest zxid the client has seen.
      const zxid = src.readInt32BE(start + 4) * 4294967296 + src.readUInt32BE(start + 8);
      if (zxid > this.lastZxid) this.lastZxid = zxid;
      if (src.readInt32BE(start) !== Xid.notification && this.outstanding > 0) {
        this.outstanding--;
        this.host.stats.outstanding--;
        if (this.outstanding === 0 && this.blockedOnLimit) this.host.throttledIdle(this);
        const p = this.pending;
        if (p.size > 0) {
          this.answered(p.first(), p.second(), p.third());
          p.shift();
        }
      }
    }
  }

  frameContinue(src: Buffer, start: number, end: number): void {
    if (this.state >= CLOSED) return;
    const b = this.reserveOut(end - start);
    copyBytes(src, start, end, b, this.outLen);
    this.outLen += end - start;
    this.frameRemaining -= end - start;
  }

  /** Write out what this drain produced (one syscall per connection per drain, unless it outgrew the buffer). */
  flushOut(): void {
    if (this.outLen > this.outStart) this.writeOut();
    if (this.state >= CLOSED) return;
    const queued = this.socket.writableLength;
    if (queued === 0) {
      // The kernel took every byte: the buffer is free again.
      this.outStart = this.outLen = 0;
    } else if (this.out !== null && this.out.length - this.outLen < 256) {
      this.out = null; // still referenced by the socket's queue; the next reply starts a new one
    }
    if (queued > connectionOutboundHardMax) {
      log.warn(`closing ${this.describe()}: ${queued} bytes of replies unread (limit ${connectionOutboundHardMax})`);
      this.host.stats.slowConsumersClosed++;
      this.destroy();
      return;
    }
    if (this.closeAfterFlush && this.frameRemaining === 0) {
      this.state = CLOSING;
      this.socket.end();
      return;
    }
    this.updateReadPause();
  }

  // ---- verdicts from the sequencer -------------------------------------------

  connected(timeoutMs: number, sessionId: bigint, passwd: Buffer, zxid: number): void {
    if (this.state !== CONNECTING) return;
    if (zxid > this.lastZxid) this.lastZxid = zxid;
    this.sessionId = sessionId;
    this.timeoutMs = timeoutMs;
    this.state = OPEN;
    this.writeConnectResponse(timeoutMs, sessionId, passwd);
    // A new session's answer is its createSession's (Apache: lop SESS, cxid 0, a write's latency).
    if (this.connectStartedAt >= 0) this.answered(this.connectStartedAt, OpCode.createSession, 0);
    this.connectStartedAt = -1;
  }

  /** The session is invalid (expired, wrong password): answer timeout 0, then close. */
  refused(sendInvalid: boolean): void {
    if (this.state >= CLOSING) return;
    if (sendInvalid) this.writeConnectResponse(0, 0n, Buffer.alloc(16));
    this.closeAfterFlush = true;
  }

  closeSoon(): void {
    if (this.state >= CLOSING) return;
    this.closeAfterFlush = true;
  }

  private writeConnectResponse(timeoutMs: number, sessionId: bigint, passwd: Buffer): void {
    // ConnectResponse {int protocolVersion, int timeOut, long sessionId, buffer passwd, [boolean readOnly]}
    const body = 4 + 4 + 8 + 4 + passwd.length + (this.withReadOnlyByte ? 1 : 0);
    const b = this.reserveOut(4 + body);
    let p = this.outLen;
    b.writeInt32BE(body, p); p += 4;
    b.writeInt32BE(0, p); p += 4;
    b.writeInt32BE(timeoutMs, p); p += 4;
    b.writeBigInt64BE(sessionId, p); p += 8;
    b.writeInt32BE(passwd.length, p); p += 4;
    passwd.copy(b, p); p += passwd.length;
    if (this.withReadOnlyByte) b[p++] = 0;
    this.outLen = p;
    this.packetsSent++;
    this.countSent(4 + body);
  }

  get paused(): boolean {
    return this.readPaused;
  }

  /** crst: reset this connection's counters. */
  resetStats(): void {
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.lastOp = 'NA';
    this.lastCxid = -1;
    this.statsZxid = -1;
    this.lastResponseMs = 0;
    this.lastLatency = 0;
    this.minLatency = Infinity;
    this.maxLatency = 0;
    this.latencySum = 0;
    this.latencyCount = 0;
  }

  snapshot(): ConnectionSnapshot {
    return {
      address: this.remoteAddress,
      port: this.remotePort,
      interestOps: this.readPaused || this.state >= CLOSING ? 0 : 1,
      outstanding: this.outstanding,
      packetsReceived: this.packetsReceived,
      packetsSent: this.packetsSent,
      sessionId: this.sessionId.toString(16),
      lastOp: this.lastOp,
      establishedMs: this.openedAt,
      timeoutMs: this.timeoutMs,
      lastCxid: this.lastCxid,
      lastZxid: this.statsZxid,
      lastResponseMs: Math.floor(this.lastResponseMs),
      lastLatency: Math.floor(this.lastLatency),
      minLatency: this.minLatency === Infinity ? 0 : Math.floor(this.minLatency),
      avgLatency: this.latencyCount === 0 ? 0 : Math.floor(this.latencySum / this.latencyCount),
      maxLatency: Math.floor(this.maxLatency),
      established: this.state === OPEN,
    };
  }

  destroy(): void {
    if (this.state === CLOSED) return;
    this.state = CLOSED;
    this.decoder.close();
    this.socket.destroy();
  }

  private onSocketClose(): void {
    this.state = CLOSED;
    this.decoder.close();
    this.out = null;
    // Replies still owed to this connection will find no one: stop counting them.
    this.host.stats.outstanding -= this.outstanding;
    this.outstanding = 0;
    this.host.closed(this);
  }
}

/** IPv4 clients on a dual-stack socket show as ::ffff:a.b.c.d; ACLs and whoAmI want a.b.c.d. */
export function normalizeAddress(addr: string): string {
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}
