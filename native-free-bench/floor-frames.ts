// The frames the Node floor servers answer (floor-server.ts on net.Socket,
// floor-server-raw.ts on Node's internal stream handles): one flat map of
// paths, zeroed Stats, one-shot data watches. Both servers share this code so
// that the only difference between them is the transport.

/** Where a floor server writes a connection's replies and events. */
export interface FloorSink {
  write(b: Buffer): void;
  /** Write b, then close the connection. */
  end(b: Buffer): void;
}

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

/** The first four bytes of the srvr four-letter word, read as a frame length. */
export const SRVR_WORD = 0x73727672;
export const FLOOR_FRAME_MAX = 64 * 1024 * 1024;

const data = new Map<string, Buffer>([['/', Buffer.alloc(0)]]);
const watchers = new Map<string, Set<FloorSink>>();
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

/** ConnectResponse {protocolVersion, timeOut, sessionId, passwd(16), readOnly} for a ConnectRequest frame. */
export function connectResponse(f: Buffer): Buffer {
  const r = Buffer.alloc(4 + 37);
  r.writeInt32BE(37, 0);
  r.writeInt32BE(f.readInt32BE(12), 8);
  r.writeBigInt64BE(nextSession++, 12);
  r.writeInt32BE(16, 20);
  return r;
}

/** A connection went away: drop its watches. */
export function forgetSink(s: FloorSink): void {
  for (const set of watchers.values()) set.delete(s);
}

/** Answer one request frame (after the handshake). */
export function answerFrame(s: FloorSink, f: Buffer): void {
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
    case OP_CLOSE: s.end(reply(xid, 0, 0)); return;
    default: s.write(reply(xid, ERR_UNIMPLEMENTED, 0));
  }
}
