// The Node floor one level lower: floor-server.ts's frames answered on Node's
// internal stream handles (process.binding('tcp_wrap') and 'stream_wrap'),
// with no net.Socket, no streams and no per-socket event emitters. It measures
// what a server could save by going under net.Socket; it is not how zoonode
// is built (those bindings are undocumented, deprecated as an API, may change
// in any Node release, and TLS needs a net.Socket). floor.ts runs it with
// --raw-floor.
//
//   node dist/native-free-bench/floor-server-raw.js   (prints "port N" when listening)
//
// Answers the same frames as floor-server.ts: ConnectRequest, create, getData
// (remembers a watch), exists, setData (answers, then one NodeDataChanged
// frame per watcher), ping, closeSession, and srvr; anything else UNIMPLEMENTED.

/* eslint-disable @typescript-eslint/no-explicit-any */
const binding = (process as unknown as { binding(name: string): any }).binding;
const { TCP, constants: TCPConstants } = binding('tcp_wrap');
const { WriteWrap, kReadBytesOrError, kArrayBufferOffset, kLastWriteWasAsync, streamBaseState } = binding('stream_wrap');

const OP_CREATE = 1;
const OP_EXISTS = 3;
const OP_GET_DATA = 4;
const OP_SET_DATA = 5;
const OP_PING = 11;
const OP_CLOSE = -11;
const ERR_NONODE = -101;
const ERR_UNIMPLEMENTED = -6;
const STAT_BYTES = 68;
const EVENT_NODE_DATA_CHANGED = 3;
const STATE_SYNC_CONNECTED = 3;
const FRAME_MAX = 64 * 1024 * 1024;

const data = new Map<string, Buffer>([['/', Buffer.alloc(0)]]);
const watchers = new Map<string, Set<Conn>>();
let nextSession = 1n;

function reply(xid: number, err: number, bodyLen: number): Buffer {
  const b = Buffer.alloc(4 + 16 + bodyLen);
  b.writeInt32BE(16 + bodyLen, 0);
  b.writeInt32BE(xid, 4);
  b.writeInt32BE(err, 16);
  return b;
}

function ustring(f: Buffer, at: number): [string, number] {
  const n = f.readInt32BE(at);
  return [f.toString('utf8', at + 4, at + 4 + n), at + 4 + n];
}

function writeDone(): void {
  // Nothing to do: the request object keeps the buffer alive until the write completes.
}

class Conn {
  pending: Buffer | null = null;
  handshook = false;
  closed = false;

  constructor(readonly handle: any) {}

  write(buf: Buffer): void {
    if (this.closed) return;
    const req = new WriteWrap();
    req.handle = this.handle;
    req.oncomplete = writeDone;
    req.async = false;
    req.bytes = 0;
    req.buffer = null;
    if (this.handle.writeBuffer(req, buf) !== 0) { this.close(); return; }
    if (streamBaseState[kLastWriteWasAsync]) req.buffer = buf;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const set of watchers.values()) set.delete(this);
    this.handle.readStop();
    this.handle.close();
  }
}

function onFrame(s: Conn, f: Buffer): void {
  const xid = f.readInt32BE(0);
  const type = f.readInt32BE(4);
  switch (type) {
    case OP_GET_DATA: {
      const [path, at] = ustring(f, 8);
      const d = data.get(path);
      if (d === undefined) { s.write(reply(xid, ERR_NONODE, 0)); return; }
      const r = reply(xid, 0, 4 + d.length + STAT_BYTES);
      r.writeInt32BE(d.length, 20);
      d.copy(r, 24);
      s.write(r);
      if (f[at] === 1) {
        let set = watchers.get(path);
        if (set === undefined) watchers.set(path, set = new Set());
        set.add(s);
      }
      return;
    }
    case OP_EXISTS: {
      const [path] = ustring(f, 8);
      s.write(data.has(path) ? reply(xid, 0, STAT_BYTES) : reply(xid, ERR_NONODE, 0));
      return;
    }
    case OP_SET_DATA: {
      const [path, at] = ustring(f, 8);
      if (!data.has(path)) { s.write(reply(xid, ERR_NONODE, 0)); return; }
      const n = f.readInt32BE(at);
      data.set(path, Buffer.from(f.subarray(at + 4, at + 4 + Math.max(0, n))));
      s.write(reply(xid, 0, STAT_BYTES));
      const set = watchers.get(path);
      if (set !== undefined) {
        watchers.delete(path);
        const p = Buffer.from(path);
        for (const w of set) {
          const e = reply(-1, 0, 12 + p.length);
          e.writeInt32BE(-1, 8);
          e.writeInt32BE(-1, 12);
          e.writeInt32BE(EVENT_NODE_DATA_CHANGED, 20);
          e.writeInt32BE(STATE_SYNC_CONNECTED, 24);
          e.writeInt32BE(p.length, 28);
          p.copy(e, 32);
          w.write(e);
        }
      }
      return;
    }
    case OP_CREATE: {
      const [path, at] = ustring(f, 8);
      const n = f.readInt32BE(at);
      data.set(path, Buffer.from(f.subarray(at + 4, at + 4 + Math.max(0, n))));
      const p = Buffer.from(path);
      const r = reply(xid, 0, 4 + p.length);
      r.writeInt32BE(p.length, 20);
      p.copy(r, 24);
      s.write(r);
      return;
    }
    case OP_PING: s.write(reply(xid, 0, 0)); return;
    case OP_CLOSE: s.write(reply(xid, 0, 0)); s.close(); return;
    default: s.write(reply(xid, ERR_UNIMPLEMENTED, 0));
  }
}

/** The handle's read callback: `this` is the handle; the byte count and offset are in streamBaseState. */
function onRead(this: { conn: Conn }, arrayBuffer: ArrayBuffer): void {
  const nread: number = streamBaseState[kReadBytesOrError];
  const s = this.conn;
  if (nread < 0) { s.close(); return; }
  if (nread === 0) return;
  const chunk = Buffer.from(arrayBuffer, streamBaseState[kArrayBufferOffset], nread);
  const buf = s.pending === null ? chunk : Buffer.concat([s.pending, chunk]);
  let p = 0;
  while (buf.length - p >= 4) {
    const n = buf.readInt32BE(p);
    if (!s.handshook && n === 0x73727672) { // "srvr"
      s.write(Buffer.from('Zookeeper version: node-floor-raw\n'));
      s.close();
      return;
    }
    if (n < 0 || n > FRAME_MAX) { s.close(); return; }
    if (buf.length - p < 4 + n) break;
    const f = buf.subarray(p + 4, p + 4 + n);
    p += 4 + n;
    if (!s.handshook) {
      // ConnectResponse {protocolVersion, timeOut, sessionId, passwd(16), readOnly}
      s.handshook = true;
      const r = Buffer.alloc(4 + 37);
      r.writeInt32BE(37, 0);
      r.writeInt32BE(f.readInt32BE(12), 8);
      r.writeBigInt64BE(nextSession++, 12);
      r.writeInt32BE(16, 20);
      s.write(r);
      continue;
    }
    onFrame(s, f);
    if (s.closed) return;
  }
  s.pending = p === buf.length ? null : buf.subarray(p);
}

const server = new TCP(TCPConstants.SERVER);
let err: number = server.bind('127.0.0.1', Number(process.argv[2] ?? 0));
if (err !== 0) throw new Error(`bind failed (${err})`);
server.onconnection = (status: number, handle: any) => {
  if (status !== 0) return;
  handle.setNoDelay(true);
  handle.conn = new Conn(handle);
  handle.onread = onRead;
  handle.readStart();
};
err = server.listen(511);
if (err !== 0) throw new Error(`listen failed (${err})`);
const address: { port?: number } = {};
server.getsockname(address);
process.stdout.write(`port ${address.port}\n`);
// The listening handle keeps the process alive; SIGTERM ends it.
