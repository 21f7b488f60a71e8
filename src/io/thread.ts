// Entry point of an I/O worker thread. Worker 0 binds the client port and
// reports the listening fd; the other workers listen on that same fd (Node 20
// has no SO_REUSEPORT), so every worker accepts connections itself.

import fs from 'node:fs';
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
import type { TlsMaterial } from '../security/keystores.js';

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
  /** This worker's share of globalOutstandingLimit. */
  outstandingMax: number;
  /** Worker 0 binds host:port; the others listen on the fd worker 0 reports. */
  listen: { host: string; port: number } | { fd: number };
  /** Whether other workers listen on worker 0's fds (workers >= 2). */
  listenShared: boolean;
  /** TLS and enforced authentication (src/security); absent means neither. */
  security?: IoSecurity;
}

/** What an I/O thread needs of the security settings. */
export interface IoSecurity {
  tls: TlsMaterial | null;
  portUnification: boolean;
  x509SuperUser: string | null;
  /** False when authentication is enforced (the sequencer answers pings). */
  answerPings: boolean;
  /** The TLS-only secureClientPort, bound like the client port (worker 0 binds, the others share its fd). */
  secureListen: { host: string; port: number } | { fd: number } | null;
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
    outstandingMax: data.outstandingMax,
    tls: data.security?.tls ?? null,
    portUnification: data.security?.portUnification ?? false,
    x509SuperUser: data.security?.x509SuperUser ?? null,
    answerPings: data.security?.answerPings ?? true,
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
const secureListen = data.security?.secureListen ?? null;
const secureServer = secureListen === null ? null : net.createServer({ noDelay: true }, (socket) => worker.acceptSecure(socket));
secureServer?.on('error', (err) => {
  parentPort!.postMessage({ type: 'listen-error', message: `secureClientPort: ${err.message}`, code: (err as NodeJS.ErrnoException).code });
});
const handleFd = (s: net.Server): number => (s as unknown as { _handle: { fd: number } })._handle.fd;
// A thread listening on worker 0's fd reports 'listening' only after its loop
// has been through a poll phase since listen(): libuv adds the fd to the
// thread's epoll set at the start of the next poll, and if worker 0 closed the
// fd before that (a server stopped right after it started), the add would fail
// and libuv aborts the process. The first setImmediate runs in this
// iteration's check phase, the second after the next poll.
const afterNextPoll = (fn: () => void) => setImmediate(() => setImmediate(fn));
const onListening = () => {
  const addr = server.address() as net.AddressInfo;
  const report = (secure: { fd: number; port: number; address: string } | null) => {
    const msg = { type: 'listening', fd: handleFd(server), address: addr.address, port: addr.port, secure };
    if ('fd' in data.listen) afterNextPoll(() => parentPort!.postMessage(msg));
    else parentPort!.postMessage(msg);
  };
  if (secureServer === null || secureListen === null) {
    report(null);
    return;
  }
  const onSecureListening = () => {
    const a = secureServer.address() as net.AddressInfo;
    report({ fd: handleFd(secureServer), port: a.port, address: a.address });
  };
  if ('fd' in secureListen) secureServer.listen({ fd: secureListen.fd }, onSecureListening);
  else secureServer.listen({ host: secureListen.host, port: secureListen.port }, onSecureListening);
};
if ('fd' in data.listen) server.listen({ fd: data.listen.fd }, onListening);
else server.listen({ host: data.listen.host, port: data.listen.port }, onListening);

/**
 * Keeps a just-closed shared listening fd number taken, by a /dev/null file
 * held for the life of the process. The workers that listened on it keep a
 * handle for that number until the process exits, and their teardown then
 * closes it again: without the plug, whatever had reused the number (another
 * thread's event-loop fd, say) would be closed under its owner, and libuv
 * aborts. Opens return the lowest free number, so this opens until it gets
 * `fd` (at most 256 tries), or gives up if another thread took it first.
 */
function plugFd(fd: number): void {
  const spare: number[] = [];
  try {
    for (let i = 0; i < 256; i++) {
      const got = fs.openSync('/dev/null', 'r');
      if (got === fd) return;
      spare.push(got);
      if (got > fd) {
        log.debug(`fd ${fd} of the shared listening socket was reused before it could be held`);
        return;
      }
    }
  } catch (e) {
    log.debug(`cannot hold fd ${fd} of the shared listening socket: ${(e as Error).message}`);
  } finally {
    for (const s of spare) fs.closeSync(s);
  }
}

parentPort!.on('message', (msg: { type: string; material?: TlsMaterial }) => {
  if (msg.type === 'tls-reload' && msg.material !== undefined) {
    try {
      worker.reloadTls(msg.material);
    } catch (e) {
      log.error(`TLS reload failed, keeping the previous certificates: ${(e as Error).message}`);
    }
    return;
  }
  if (msg.type === 'stop') {
    worker.stop();
    pump.stop();
    lag.stop();
    if (!('fd' in data.listen)) {
      const fds = data.listenShared ? [handleFd(server), secureServer?.listening ? handleFd(secureServer) : -1] : [];
      server.close();
      secureServer?.close();
      for (const fd of fds) if (fd >= 0) plugFd(fd);
    } else {
      // This thread listens on worker 0's fd. Worker 0 closes it, exactly
      // once; closing it here as well could close whatever file reused the
      // number. So this thread stops serving and idles until the process
      // exits, its handles untouched.
      server.unref();
      secureServer?.unref();
      setInterval(() => {}, 1 << 30);
    }
    log.debug('stopped');
    parentPort!.postMessage({ type: 'stopped' });
  }
});
