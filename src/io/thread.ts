// Entry point of an I/O worker thread. Worker 0 binds the client port and
// reports the listening fd; the other workers listen on that same fd (Node 20
// has no SO_REUSEPORT), so every worker accepts connections itself.

import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { setThreadTag, Logger } from '../util/log.js';
import { EventLoopLag } from '../util/event-loop-lag.js';
import { RingReader, RingWriter } from '../ring/spsc-ring.js';
import { AtomicDoorbell, AtomicPump } from '../ring/doorbell.js';
import { CTRL_LAST_ZXID_I64, CTRL_SEQUENCER_BELL, CTRL_STRIDE, CTRL_WORKER_BELL_BASE } from '../ring/layout.js';
import { FourLetterForwarder, serveQueries } from '../admin/control.js';
import { IoWorker } from './io-worker.js';
import { IpLimiter } from './ip-limiter.js';

export interface IoThreadData {
  index: number;
  ctrl: SharedArrayBuffer;
  requestRing: SharedArrayBuffer;
  replyRing: SharedArrayBuffer;
  frameSizeMax: number;
  tickMs: number;
  /** The shared per-IP connection table and its limit (maxClientCnxns; 0 = none). */
  ipTable: SharedArrayBuffer;
  maxClientCnxns: number;
  /** Worker 0 binds host:port; the others listen on the fd worker 0 reports. */
  listen: { host: string; port: number } | { fd: number };
}

const data = workerData as IoThreadData;
setThreadTag(`io${data.index}`);
const log = new Logger('io');
const ctrl32 = new Int32Array(data.ctrl);
const ctrl64 = new BigInt64Array(data.ctrl);
const lag = new EventLoopLag();
const forwarder = new FourLetterForwarder(parentPort!);
const worker = new IoWorker(
  {
    index: data.index,
    frameSizeMax: data.frameSizeMax,
    tickMs: data.tickMs,
    fourLetter: (word, arg) => forwarder.ask(word, arg),
    lastZxid: () => Number(Atomics.load(ctrl64, CTRL_LAST_ZXID_I64)),
    ipLimiter: data.maxClientCnxns > 0 ? new IpLimiter(data.ipTable, data.maxClientCnxns) : null,
    eventLoopLag: () => lag.read(),
  },
  new RingWriter(data.requestRing),
  new AtomicDoorbell(ctrl32, CTRL_SEQUENCER_BELL),
  new RingReader(data.replyRing),
);
const pump = new AtomicPump(ctrl32, CTRL_WORKER_BELL_BASE + data.index * CTRL_STRIDE,
  () => worker.drainReplies(), () => worker.hasReplies());
worker.start();
pump.start();

serveQueries(parentPort!, (what) => {
  switch (what) {
    case 'stats': return worker.snapshot();
    case 'connections': return worker.connections();
    case 'reset-connections': worker.resetConnectionStats(); return null;
    case 'reset': worker.resetStats(); return null;
    default: throw new Error(`unknown query ${what}`);
  }
});

const server = net.createServer({ noDelay: true }, (socket) => worker.accept(socket));
server.on('error', (err) => {
  parentPort!.postMessage({ type: 'listen-error', message: err.message, code: (err as NodeJS.ErrnoException).code });
});
const onListening = () => {
  const addr = server.address() as net.AddressInfo;
  const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
  parentPort!.postMessage({ type: 'listening', fd, address: addr.address, port: addr.port });
};
if ('fd' in data.listen) server.listen({ fd: data.listen.fd }, onListening);
else server.listen({ host: data.listen.host, port: data.listen.port }, onListening);

parentPort!.on('message', (msg: { type: string }) => {
  if (msg.type === 'stop') {
    worker.stop();
    pump.stop();
    lag.stop();
    if (!('fd' in data.listen)) {
      server.close();
    } else {
      // This thread listens on worker 0's fd. Worker 0 closes it, exactly
      // once; closing it here as well could close whatever file reused the
      // number. So this thread stops serving and idles until the process
      // exits, its handles untouched.
      server.unref();
      setInterval(() => {}, 1 << 30);
    }
    log.debug('stopped');
    parentPort!.postMessage({ type: 'stopped' });
  }
});
