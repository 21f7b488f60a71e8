// Entry point of an I/O worker thread. Worker 0 binds the client port and
// reports the listening fd; the other workers listen on that same fd (Node 20
// has no SO_REUSEPORT), so every worker accepts connections itself.

import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { setThreadTag, Logger } from '../util/log.js';
import { RingReader, RingWriter } from '../ring/spsc-ring.js';
import { AtomicDoorbell, AtomicPump } from '../ring/doorbell.js';
import { CTRL_LAST_ZXID_I64, CTRL_SEQUENCER_BELL, CTRL_STRIDE, CTRL_WORKER_BELL_BASE } from '../ring/layout.js';
import { IoWorker } from './io-worker.js';
import { parseWhitelist } from './four-letter.js';

export interface IoThreadData {
  index: number;
  ctrl: SharedArrayBuffer;
  requestRing: SharedArrayBuffer;
  replyRing: SharedArrayBuffer;
  frameSizeMax: number;
  tickMs: number;
  fourLetterWhitelist: string;
  /** Worker 0 binds host:port; the others listen on the fd worker 0 reports. */
  listen: { host: string; port: number } | { fd: number };
}

const data = workerData as IoThreadData;
setThreadTag(`io${data.index}`);
const log = new Logger('io');
const ctrl32 = new Int32Array(data.ctrl);
const ctrl64 = new BigInt64Array(data.ctrl);
const worker = new IoWorker(
  {
    index: data.index,
    frameSizeMax: data.frameSizeMax,
    tickMs: data.tickMs,
    fourLetter: { whitelist: parseWhitelist(data.fourLetterWhitelist) },
    lastZxid: () => Number(Atomics.load(ctrl64, CTRL_LAST_ZXID_I64)),
  },
  new RingWriter(data.requestRing),
  new AtomicDoorbell(ctrl32, CTRL_SEQUENCER_BELL),
  new RingReader(data.replyRing),
);
const pump = new AtomicPump(ctrl32, CTRL_WORKER_BELL_BASE + data.index * CTRL_STRIDE,
  () => worker.drainReplies(), () => worker.hasReplies());
worker.start();
pump.start();

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
