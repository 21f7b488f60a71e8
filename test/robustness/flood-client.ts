// Test support (not a test file): the client side of the flood tests, run
// as a child process so that its open-file limit can be raised (prlimit)
// without touching the test runner's. Talks to its parent over IPC.
//
//   node flood-client.js hold  <port> <count> <concurrency> <timeoutMs>
//     opens `count` connections, each with a real handshake (a new session),
//     `concurrency` handshakes in flight at most; reports
//     {type: 'held', connected, failed, ms, firstError}; keeps them open until
//     the parent sends {type: 'close'} (or goes away), then reports
//     {type: 'closed', stillOpen} and exits. A connection the server closes
//     while held is counted in stillOpen's complement.
//   node flood-client.js storm <port> <count> <concurrency> <timeoutMs>
//     `count` times: connect, handshake, close at once (no closeSession);
//     reports {type: 'storm', ok, refused, errors, ms, firstError} and exits.
//     `refused` = the server closed the connection without answering the
//     handshake (the connection throttle's answer).

import net from 'node:net';
import { newSessionFrame, connectResponseBytes } from './support.js';

const [mode, portArg, countArg, concArg, timeoutArg] = process.argv.slice(2);
const port = Number(portArg);
const count = Number(countArg);
const concurrency = Number(concArg);
const timeoutMs = Number(timeoutArg);
const hello = newSessionFrame(timeoutMs);
const handshakeTimeoutMs = 30_000;

type Outcome = 'ok' | 'refused' | 'error';

function send(msg: unknown): void {
  process.send!(msg);
}

/** One connection and handshake; resolves with the socket (still open) on success. */
function handshake(): Promise<{ outcome: Outcome; socket: net.Socket | null; error?: string }> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let got = 0;
    let settled = false;
    const finish = (outcome: Outcome, error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (outcome !== 'ok') s.destroy();
      resolve({ outcome, socket: outcome === 'ok' ? s : null, error });
    };
    const timer = setTimeout(() => finish('error', 'handshake timed out'), handshakeTimeoutMs);
    s.setNoDelay(true);
    s.on('connect', () => s.write(hello));
    s.on('data', (d: Buffer) => {
      if (settled) return;
      got += d.length;
      if (got >= connectResponseBytes) {
        // timeOut 0 would mean an invalid session: not expected for a new one.
        finish(d.length >= 12 && d.readInt32BE(8) > 0 ? 'ok' : 'error', 'bad ConnectResponse');
      }
    });
    s.on('error', (e) => finish('error', e.message));
    s.on('close', () => finish(got === 0 ? 'refused' : 'error', 'closed mid-handshake'));
  });
}

async function pool(n: number, each: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(concurrency, n) }, async () => {
    while (next < n) await each(next++);
  });
  await Promise.all(runners);
}

async function hold(): Promise<void> {
  const sockets: net.Socket[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let closedByServer = 0;
  const t0 = performance.now();
  await pool(count, async () => {
    const r = await handshake();
    if (r.socket === null) {
      failed++;
      firstError ??= `${r.outcome}: ${r.error ?? ''}`;
      return;
    }
    r.socket.on('close', () => { closedByServer++; });
    sockets.push(r.socket);
  });
  send({ type: 'held', connected: sockets.length, failed, ms: performance.now() - t0, firstError });
  const closeAll = () => {
    const stillOpen = sockets.length - closedByServer;
    for (const s of sockets) s.destroy();
    send({ type: 'closed', stillOpen });
    process.disconnect();
  };
  process.on('message', (m: { type: string }) => { if (m.type === 'close') closeAll(); });
  process.on('disconnect', () => process.exit(0));
}

async function storm(): Promise<void> {
  let ok = 0;
  let refused = 0;
  let errors = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  await pool(count, async () => {
    const r = await handshake();
    if (r.outcome === 'ok') {
      ok++;
      r.socket!.destroy();
    } else if (r.outcome === 'refused') {
      refused++;
    } else {
      errors++;
      firstError ??= r.error;
    }
  });
  send({ type: 'storm', ok, refused, errors, ms: performance.now() - t0, firstError });
  process.disconnect();
}

if (mode === 'hold') void hold();
else if (mode === 'storm') void storm();
else throw new Error(`flood-client: unknown mode ${mode}`);
