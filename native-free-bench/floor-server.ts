// The Node floor: the least work a Node.js process can do to answer the
// frames the watch, connect and depth-1 read workloads send, written the
// obvious way on net.Socket. It is not a ZooKeeper server: no sessions, no
// log, no fsync, no ACLs, one flat map of paths, zeroed Stats. floor.ts runs
// it beside zoonode and Apache so a CPU or latency ratio can be read against
// what the runtime itself costs.
//
//   node dist/native-free-bench/floor-server.js   (prints "port N" when listening)
//
// Answers: ConnectRequest, create, getData (remembers a watch), exists,
// setData (answers, then one NodeDataChanged frame per watcher), ping,
// closeSession, and the srvr four-letter word; anything else UNIMPLEMENTED.

import net from 'node:net';

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

const data = new Map<string, Buffer>([['/', Buffer.alloc(0)]]);
const watchers = new Map<string, Set<net.Socket>>();
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

function onFrame(s: net.Socket, f: Buffer): void {
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

const server = net.createServer((s) => {
  s.setNoDelay(true);
  let pending: Buffer | null = null;
  let handshook = false;
  s.on('data', (chunk: Buffer) => {
    const buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
    let p = 0;
    while (buf.length - p >= 4) {
      const n = buf.readInt32BE(p);
      if (!handshook && n === 0x73727672) { // "srvr"
        s.end('Zookeeper version: node-floor\n');
        return;
      }
      if (n < 0 || n > 64 * 1024 * 1024) { s.destroy(); return; }
      if (buf.length - p < 4 + n) break;
      const f = buf.subarray(p + 4, p + 4 + n);
      p += 4 + n;
      if (!handshook) {
        // ConnectResponse {protocolVersion, timeOut, sessionId, passwd(16), readOnly}
        handshook = true;
        const r = Buffer.alloc(4 + 37);
        r.writeInt32BE(37, 0);
        r.writeInt32BE(f.readInt32BE(12), 8);
        r.writeBigInt64BE(nextSession++, 12);
        r.writeInt32BE(16, 20);
        s.write(r);
        continue;
      }
      onFrame(s, f);
    }
    pending = p === buf.length ? null : buf.subarray(p);
  });
  s.on('error', () => {});
  s.on('close', () => { for (const set of watchers.values()) set.delete(s); });
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`port ${(server.address() as net.AddressInfo).port}\n`);
});
