// Bytes the server allocates per request, and where. Runs zoonode
// (workers=0, fsync as configured) in this process, drives it from a worker
// thread (another V8 heap: its allocations are not counted), and samples
// every allocation on the server's heap, those a scavenge collects included,
// with V8's sampling heap profiler. Each young-generation collection costs
// the thread a pause, so what a request allocates shows in its tail latency
// and its CPU time.
//
//   node dist/native-free-bench/alloc.js [--workload setData] [--sessions 1] [--depth 1]
//     [--seconds 3] [--top 25] [--interval 256]
//
// --workload connect opens --sessions sessions (default 1000), --depth
// handshakes in flight (default 16), keeps them open until the count is taken,
// and reports bytes per session opened instead of per request.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import inspector from 'node:inspector';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { configFromArgs, startServer } from '../src/main.js';
import { fourLetter } from './servers.js';
import { positiveArg } from './args.js';
import { ConnectRun, monoMs, runLoad, type Workload } from './load.js';
import { ZkClient } from './zk-client.js';
import { Histogram } from './histogram.js';

interface Opts { workload: Workload | 'connect'; sessions: number; depth: number; seconds: number; top: number; interval: number }

function parse(argv: string[]): Opts {
  const o: Opts = { workload: 'setData', sessions: 1, depth: 1, seconds: 3, top: 25, interval: 256 };
  let sessions = 0;
  let depth = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = (): number => positiveArg(a, argv[++i]);
    switch (a) {
      case '--workload': {
        const w = argv[++i];
        if (w !== 'getData' && w !== 'setData' && w !== 'exists' && w !== 'create' && w !== 'connect') {
          throw new Error('--workload: getData, setData, exists, create or connect');
        }
        o.workload = w;
        break;
      }
      case '--sessions': sessions = num(); break;
      case '--depth': depth = num(); break;
      case '--seconds': o.seconds = num(); break;
      case '--top': o.top = num(); break;
      case '--interval': o.interval = num(); break;
      default: throw new Error(`unknown option ${a}`);
    }
  }
  const storm = o.workload === 'connect';
  o.sessions = sessions || (storm ? 1000 : 1);
  o.depth = depth || (storm ? 16 : 1);
  return o;
}

interface LoadJob { port: number; o: Opts; warmupMs: number; durationMs: number }

/** The load, in its own thread. */
async function loadThread(job: LoadJob): Promise<void> {
  const { port, o } = job;
  if (o.workload === 'connect') {
    // Storm: sessions stay open until the parent has taken its count.
    const storm = new ConnectRun({ host: '127.0.0.1', port, sessions: o.sessions, concurrency: o.depth, deadline: monoMs() + 60_000 });
    const c = await storm.run(monoMs());
    const h = new Histogram();
    h.merge(c.hist);
    parentPort!.postMessage({ ops: c.opened, p50: h.percentile(0.5), p99: h.percentile(0.99) });
    await new Promise<void>((resolve) => parentPort!.once('message', () => resolve()));
    await storm.close();
    parentPort!.postMessage('closed');
    return;
  }
  const r = await runLoad({
    host: '127.0.0.1', port, sessions: o.sessions, inflightPerSession: o.depth, workload: o.workload, valueSize: 100,
    warmupMs: job.warmupMs, durationMs: job.durationMs, root: '/alloc',
  });
  parentPort!.postMessage(r);
}

interface SampleNode { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: SampleNode[] }

function frameName(n: SampleNode): string {
  const f = n.callFrame;
  const file = f.url.replace(/^.*\/dist\//, '').replace(/^file:\/\//, '');
  return `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zoonode-alloc-'));
  const cfg = configFromArgs('', false, [
    ['clientPort', '0'], ['clientPortAddress', '127.0.0.1'], ['dataDir', dir], ['workers', '0'], ['admin.enableServer', 'false'], ['maxClientCnxns', '0'],
  ].map(([key, value], i) => ({ source: 'alloc.js', line: i + 1, key: key!, value: value! })));
  const srv = await startServer(cfg);
  const session = new inspector.Session();
  session.connect();
  const post = <T>(method: string, params: object = {}): Promise<T> =>
    new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r as T))));
  const packets = async (): Promise<number> => Number(/zk_packets_received\s+(\d+)/.exec(await fourLetter(srv.port, 'mntr'))![1]);
  try {
    const storm = o.workload === 'connect';
    // One load thread; resolves with its result once it has taken it. A storm's
    // thread then waits for `release()` to close its sessions.
    const run = (warmupMs: number, durationMs: number) => new Promise<{ r: { ops: number; p50: number; p99: number }; release: () => Promise<void> }>((resolve, reject) => {
      const w = new Worker(fileURLToPath(import.meta.url), { workerData: { port: srv.port, o, warmupMs, durationMs } satisfies LoadJob });
      w.once('message', (r) => resolve({
        r,
        release: () => (storm ? new Promise<void>((done) => { w.once('message', () => done()); w.postMessage('close'); }) : Promise.resolve()),
      }));
      w.once('error', reject);
    });
    if (!storm) {
      const c = await ZkClient.connect('127.0.0.1', srv.port, { timeoutMs: 30000 });
      await c.create('/alloc', null);
      for (let s = 0; s < o.sessions; s++) await c.create(`/alloc/s${s}`, Buffer.alloc(100, 0x61));
      await c.close();
    }
    // Warm the server up (tier-up, buffers grown) before sampling.
    await (await run(500, 1500)).release();
    await post('HeapProfiler.enable');
    const before = storm ? 0 : await packets();
    await post('HeapProfiler.startSampling', {
      samplingInterval: o.interval, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true,
    });
    const { r, release } = await run(0, o.seconds * 1000);
    const { profile } = await post<{ profile: { head: SampleNode } }>('HeapProfiler.stopSampling');
    await release();
    // The load's connects and the mntr itself are a handful of requests.
    const ops = storm ? r.ops : (await packets()) - before;
    if (ops <= 0) throw new Error(storm ? 'no session was opened' : 'no request was served');
    const unit = storm ? 'session opened' : 'request';
    const sites = new Map<string, number>();
    let total = 0;
    const walk = (n: SampleNode, parent: string): void => {
      const name = frameName(n);
      if (n.selfSize > 0) {
        const key = `${parent} > ${name}`;
        sites.set(key, (sites.get(key) ?? 0) + n.selfSize);
        total += n.selfSize;
      }
      for (const c of n.children) walk(c, name);
    };
    walk(profile.head, '');
    process.stdout.write(storm
      ? `connect, ${o.sessions} sessions, ${o.depth} handshakes in flight: ${ops} opened `
      : `${o.workload}, ${o.sessions} session(s) x ${o.depth} in flight, ${o.seconds} s: ${ops} requests `);
    process.stdout.write(`(client p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms)\n`);
    process.stdout.write(`allocated on the server's heap: ${(total / ops).toFixed(0)} bytes per ${unit} (sampled every ${o.interval} B)\n`);
    process.stdout.write(`${storm ? 'bytes/session' : 'bytes/request'}  caller > allocating function\n`);
    for (const [k, v] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, o.top)) {
      process.stdout.write(`${(v / ops).toFixed(0).padStart(13)}  ${k.replace(/^ > /, '')}\n`);
    }
  } finally {
    session.disconnect();
    await srv.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (isMainThread) {
  main().then(() => process.exit(0), (e: Error) => { console.error(e.stack ?? e.message); process.exit(1); });
} else {
  void loadThread(workerData as LoadJob);
}
