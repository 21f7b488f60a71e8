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
// Answers the same frames as floor-server.ts, with the same code (floor-frames.ts).

/* eslint-disable @typescript-eslint/no-explicit-any */
import { FLOOR_FRAME_MAX, SRVR_WORD, answerFrame, connectResponse, forgetSink, type FloorSink } from './floor-frames.js';

const binding = (process as unknown as { binding(name: string): any }).binding;
const { TCP, constants: TCPConstants } = binding('tcp_wrap');
const { WriteWrap, kReadBytesOrError, kArrayBufferOffset, kLastWriteWasAsync, streamBaseState } = binding('stream_wrap');

function writeDone(): void {
  // Nothing to do: the request object keeps the buffer alive until the write completes.
}

class Conn implements FloorSink {
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

  end(buf: Buffer): void {
    this.write(buf);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    forgetSink(this);
    this.handle.readStop();
    this.handle.close();
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
    if (!s.handshook && n === SRVR_WORD) {
      s.write(Buffer.from('Zookeeper version: node-floor-raw\n'));
      s.close();
      return;
    }
    if (n < 0 || n > FLOOR_FRAME_MAX) { s.close(); return; }
    if (buf.length - p < 4 + n) break;
    const f = buf.subarray(p + 4, p + 4 + n);
    p += 4 + n;
    if (!s.handshook) {
      s.handshook = true;
      s.write(connectResponse(f));
      continue;
    }
    answerFrame(s, f);
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
