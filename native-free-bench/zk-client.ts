// A small pure-JS ZooKeeper protocol client: handshake, pipelined requests
// matched to replies by xid, watch events, pings. It speaks raw frames so the
// benchmark can drive any server (zoonode or Apache) at a chosen in-flight
// depth, and so tests can send exactly the bytes they mean to (differential
// tests compare the replies of both servers byte for byte).

import net from 'node:net';
import tls from 'node:tls';
import { EventEmitter } from 'node:events';
import {
  Reader, Writer, OpCode, Xid, FrameDecoder, FRAME_BAD_LENGTH,
  readConnectResponse, readReplyHeader, readWatcherEvent, readStat, readStringList,
  writeConnectRequest, writeCreate, writePathWatch, writeSetData, writePathVersion, writePathOnly,
  type ACL, type ReplyHeader, type Stat, type WatcherEvent,
} from '../src/jute/index.js';

export const OPEN_ACL: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

export interface ConnectOptions {
  timeoutMs?: number;
  sessionId?: bigint;
  passwd?: Uint8Array;
  lastZxidSeen?: number;
  /** Send the 45-byte handshake with the readOnly byte (default true, like the Java client). */
  readOnlyByte?: boolean;
  /** Send pings every timeout/3 (default true). */
  ping?: boolean;
  connectTimeoutMs?: number;
  /** Connect over TLS with these options (the handshake is sent once TLS is up). */
  tls?: tls.ConnectionOptions;
}

export interface Reply {
  hdr: ReplyHeader;
  /** The whole reply frame (header included), copied. */
  frame: Buffer;
  /** A reader positioned after the ReplyHeader. */
  body: Reader;
}

export class KeeperReplyError extends Error {
  constructor(readonly code: number, readonly op: string) {
    super(`${op} failed with error ${code}`);
  }
}

export class ZkClient extends EventEmitter {
  sessionId = 0n;
  passwd: Uint8Array = new Uint8Array(16);
  timeoutMs = 0;
  /** The raw ConnectResponse frame (for differential tests). */
  connectFrame: Buffer = Buffer.alloc(0);
  readonly events: WatcherEvent[] = [];
  lastZxid = 0;
  closed = false;

  private xid = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private readonly decoder: FrameDecoder;
  private readonly w = new Writer(1024);
  private pingTimer: NodeJS.Timeout | null = null;
  private corked = false;
  private onConnect: ((frame: Buffer) => void) | null = null;

  /** This client's end of the connection (to find its line in cons). */
  get localPort(): number | undefined {
    return this.socket.localPort;
  }

  private constructor(private readonly socket: net.Socket) {
    super();
    this.decoder = new FrameDecoder(64 * 1024 * 1024);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      const status = this.decoder.feed(chunk, (frame) => {
        this.onFrame(Buffer.from(frame));
        return true;
      });
      if (status === FRAME_BAD_LENGTH) socket.destroy(new Error('bad frame length from server'));
    });
    socket.on('close', () => this.onClose());
    socket.on('error', () => {});
  }

  static connect(host: string, port: number, opts: ConnectOptions = {}): Promise<ZkClient> {
    return new Promise((resolve, reject) => {
      const socket = opts.tls === undefined ? net.connect({ host, port }) : tls.connect({ ...opts.tls, host, port });
      const c = new ZkClient(socket);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, opts.connectTimeoutMs ?? 10000);
      const onError = (e: Error) => { clearTimeout(timer); reject(e); };
      const onEarlyClose = () => { clearTimeout(timer); reject(new Error('connection closed during handshake')); };
      socket.once('error', onError);
      socket.once('close', onEarlyClose);
      socket.once(opts.tls === undefined ? 'connect' : 'secureConnect', () => {
        const w = new Writer(64);
        const lenAt = w.placeholder();
        writeConnectRequest(w, {
          protocolVersion: 0,
          lastZxidSeen: opts.lastZxidSeen ?? 0,
          timeOut: opts.timeoutMs ?? 30000,
          sessionId: opts.sessionId ?? 0n,
          passwd: opts.passwd ?? new Uint8Array(16),
          readOnly: false,
          withReadOnlyByte: opts.readOnlyByte ?? true,
        });
        w.patchInt(lenAt, w.pos - 4);
        socket.write(w.copy());
      });
      c.onConnect = (frame) => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.off('close', onEarlyClose);
        c.connectFrame = frame;
        const rsp = readConnectResponse(new Reader(frame));
        c.sessionId = rsp.sessionId;
        c.passwd = rsp.passwd;
        c.timeoutMs = rsp.timeOut;
        if (rsp.timeOut <= 0) {
          socket.destroy();
          reject(Object.assign(new Error('session expired or invalid'), { code: 'EXPIRED' }));
          return;
        }
        if (opts.ping ?? true) {
          c.pingTimer = setInterval(() => c.ping(), Math.max(100, Math.floor(rsp.timeOut / 3)));
          c.pingTimer.unref();
        }
        resolve(c);
      };
    });
  }

  private onFrame(frame: Buffer): void {
    if (this.onConnect !== null) {
      const cb = this.onConnect;
      this.onConnect = null;
      cb(frame);
      return;
    }
    const r = new Reader(frame);
    const hdr = readReplyHeader(r);
    if (hdr.xid === Xid.notification) {
      const ev = readWatcherEvent(r);
      this.events.push(ev);
      this.emit('event', ev, hdr);
      return;
    }
    if (hdr.xid === Xid.ping) return;
    if (hdr.zxid > 0) this.lastZxid = hdr.zxid;
    const p = this.pending.get(hdr.xid);
    if (p === undefined) {
      this.emit('unexpected', hdr, frame);
      return;
    }
    this.pending.delete(hdr.xid);
    this.emit('reply', hdr);
    p.resolve({ hdr, frame, body: r });
  }

  private onClose(): void {
    this.closed = true;
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    const err = new Error('connection closed');
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.emit('close');
  }

  /** Batch several sends into one write: cork(), send..., uncork(). */
  cork(): void {
    if (!this.corked) { this.corked = true; this.socket.cork(); }
  }

  uncork(): void {
    if (this.corked) { this.corked = false; this.socket.uncork(); }
  }

  nextXid(): number {
    const x = this.xid;
    this.xid = (this.xid + 1) & 0x7fffffff || 1;
    return x;
  }

  /** Send a request whose record is written by `body`; resolves with the reply (errors included). */
  request(type: number, body: (w: Writer) => void, xid = this.nextXid()): Promise<Reply> {
    const w = this.w.reset();
    const lenAt = w.placeholder();
    w.int(xid).int(type);
    body(w);
    w.patchInt(lenAt, w.pos - 4);
    return this.sendFrame(xid, w.copy());
  }

  /** Send bytes as-is (a whole frame, length included) and expect a reply with this xid. */
  sendFrame(xid: number, bytes: Buffer): Promise<Reply> {
    return new Promise((resolve, reject) => {
      if (this.closed) { reject(new Error('connection closed')); return; }
      this.pending.set(xid, { resolve, reject });
      this.socket.write(bytes);
    });
  }

  /** Write bytes without expecting a reply. */
  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  ping(): void {
    if (this.closed) return;
    const b = Buffer.alloc(12);
    b.writeInt32BE(8, 0);
    b.writeInt32BE(Xid.ping, 4);
    b.writeInt32BE(OpCode.ping, 8);
    this.socket.write(b);
  }

  private async ok(p: Promise<Reply>, op: string): Promise<Reply> {
    const r = await p;
    if (r.hdr.err !== 0) throw new KeeperReplyError(r.hdr.err, op);
    return r;
  }

  async create(path: string, data: Uint8Array | null, flags = 0, acl: ACL[] = OPEN_ACL): Promise<string> {
    const r = await this.ok(this.request(OpCode.create, (w) => writeCreate(w, { path, data, acl, flags, ttl: -1 }, false)), 'create');
    return r.body.path();
  }

  async getData(path: string, watch = false): Promise<{ data: Buffer | null; stat: Stat }> {
    const r = await this.ok(this.request(OpCode.getData, (w) => writePathWatch(w, { path, watch })), 'getData');
    const d = r.body.buffer();
    return { data: d === null ? null : Buffer.from(d), stat: readStat(r.body) };
  }

  async setData(path: string, data: Uint8Array | null, version = -1): Promise<Stat> {
    const r = await this.ok(this.request(OpCode.setData, (w) => writeSetData(w, { path, data, version })), 'setData');
    return readStat(r.body);
  }

  async exists(path: string, watch = false): Promise<Stat | null> {
    const r = await this.request(OpCode.exists, (w) => writePathWatch(w, { path, watch }));
    if (r.hdr.err === -101) return null;
    if (r.hdr.err !== 0) throw new KeeperReplyError(r.hdr.err, 'exists');
    return readStat(r.body);
  }

  async getChildren(path: string, watch = false): Promise<string[]> {
    const r = await this.ok(this.request(OpCode.getChildren, (w) => writePathWatch(w, { path, watch })), 'getChildren');
    return readStringList(r.body) ?? [];
  }

  async delete(path: string, version = -1): Promise<void> {
    await this.ok(this.request(OpCode.delete, (w) => writePathVersion(w, { path, version })), 'delete');
  }

  async sync(path: string): Promise<void> {
    await this.ok(this.request(OpCode.sync, (w) => writePathOnly(w, { path })), 'sync');
  }

  /** closeSession, then close the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.request(OpCode.closeSession, () => {});
    } catch {
      // the server may close first
    }
    this.destroy();
  }

  /** Drop the connection without closing the session. */
  destroy(): void {
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.socket.destroy();
  }

  /** Resolves with the next event matching `pred`, or rejects after ms. */
  waitEvent(pred: (e: WatcherEvent) => boolean, ms = 5000): Promise<WatcherEvent> {
    const seen = this.events.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.off('event', on); reject(new Error('timed out waiting for a watch event')); }, ms);
      const on = (e: WatcherEvent) => {
        if (pred(e)) { clearTimeout(timer); this.off('event', on); resolve(e); }
      };
      this.on('event', on);
    });
  }

  /** Whether the server closes the connection within ms. */
  closedWithin(ms = 5000): Promise<boolean> {
    return this.waitClosed(ms).then(() => true, () => false);
  }

  /** Resolves when the server closes the connection, or rejects after ms. */
  waitClosed(ms = 5000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for the server to close')), ms);
      this.once('close', () => { clearTimeout(timer); resolve(); });
    });
  }
}
