// The Node floor: the least work a Node.js process can do to answer the
// frames the watch, connect and depth-1 read workloads send, written the
// obvious way on net.Socket. It is not a ZooKeeper server: no sessions, no
// log, no fsync, no ACLs, one flat map of paths, zeroed Stats. floor.ts runs
// it beside zoonode and Apache so a CPU or latency ratio can be read against
// what the runtime itself costs.
//
//   node dist/native-free-bench/floor-server.js   (prints "port N" when listening)
//
// Answers (floor-frames.ts): ConnectRequest, create, getData (remembers a
// watch), exists, setData (answers, then one NodeDataChanged frame per
// watcher), ping, closeSession, and the srvr four-letter word; anything else
// UNIMPLEMENTED.

import net from 'node:net';
import { FLOOR_FRAME_MAX, SRVR_WORD, answerFrame, connectResponse, forgetSink, type FloorSink } from './floor-frames.js';

const server = net.createServer((s) => {
  s.setNoDelay(true);
  const sink: FloorSink = { write: (b) => { s.write(b); }, end: (b) => { s.end(b); } };
  let pending: Buffer | null = null;
  let handshook = false;
  s.on('data', (chunk: Buffer) => {
    const buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
    let p = 0;
    while (buf.length - p >= 4) {
      const n = buf.readInt32BE(p);
      if (!handshook && n === SRVR_WORD) {
        s.end('Zookeeper version: node-floor\n');
        return;
      }
      if (n < 0 || n > FLOOR_FRAME_MAX) { s.destroy(); return; }
      if (buf.length - p < 4 + n) break;
      const f = buf.subarray(p + 4, p + 4 + n);
      p += 4 + n;
      if (!handshook) {
        handshook = true;
        s.write(connectResponse(f));
        continue;
      }
      answerFrame(sink, f);
    }
    pending = p === buf.length ? null : buf.subarray(p);
  });
  s.on('error', () => {});
  s.on('close', () => forgetSink(sink));
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`port ${(server.address() as net.AddressInfo).port}\n`);
});
