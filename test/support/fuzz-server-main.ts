// Test support (not a test file): the zoonode command line with a memory
// probe, for fuzz runs. `node --expose-gc dist/test/support/fuzz-server-main.js
// <zoonode arguments>` runs exactly what bin/zoonode.js runs; started with an
// IPC channel (fuzz-server.ts), it answers the message 'memory' with live
// memory, garbage excluded: for this (main) thread, where with workers=0
// every structure of the server lives, and for each of the server's own
// threads (sequencer, I/O workers), the bytes reachable in a heap snapshot,
// ArrayBuffer backing stores included. A snapshot is the measure because
// V8 collects fully before taking one: under the fuzz, dead ArrayBuffers
// piled up (hundreds of MiB over a long run) that gc(), even the
// 'last-resort' kind, left counted in process.memoryUsage().arrayBuffers,
// while a heap snapshot released them (process.memoryUsage() after gc() is
// reported too). Worker threads are seen by wrapping worker_threads.Worker
// before the server's modules load; only threads started from dist/src
// count (piscina's snapshot helpers come and go).

import v8 from 'node:v8';
import workerThreads from 'node:worker_threads';
import { syncBuiltinESMExports } from 'node:module';

const gc = (globalThis as { gc?: () => void }).gc;
const serverThreads = new Map<InstanceType<typeof workerThreads.Worker>, string>();

const Base = workerThreads.Worker;
class TrackedWorker extends Base {
  constructor(file: string | URL, options?: workerThreads.WorkerOptions) {
    super(file, options);
    const name = String(file);
    if (name.includes('/dist/src/')) {
      serverThreads.set(this, name.slice(name.indexOf('/dist/src/') + 10));
      this.once('exit', () => serverThreads.delete(this));
    }
  }
}
workerThreads.Worker = TrackedWorker;
syncBuiltinESMExports();

/** Live bytes of a heap (a worker's, or this thread's for null): the sum of self sizes in a heap snapshot. */
async function liveBytes(w: InstanceType<typeof workerThreads.Worker> | null): Promise<number> {
  const stream = w === null ? v8.getHeapSnapshot() : await w.getHeapSnapshot();
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c as Buffer);
  const snap = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
    snapshot: { meta: { node_fields: string[] } };
    nodes: number[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const stride = fields.length;
  const at = fields.indexOf('self_size');
  let sum = 0;
  for (let i = at; i < snap.nodes.length; i += stride) sum += snap.nodes[i]!;
  return sum;
}

if (process.send !== undefined) {
  process.on('message', (m) => {
    if (m !== 'memory') return;
    void (async () => {
      const threads: { thread: string; liveBytes: number }[] = [];
      for (const [w, thread] of serverThreads) {
        try {
          threads.push({ thread, liveBytes: await liveBytes(w) });
        } catch {
          // the thread exited meanwhile
        }
      }
      const mainLiveBytes = await liveBytes(null);
      gc?.();
      gc?.();
      process.send!({ collected: gc !== undefined, ...process.memoryUsage(), mainLiveBytes, threads });
    })();
  });
  // The channel must not keep the process alive once the server stops.
  process.channel?.unref();
}

const { main } = await import('../../src/main.js');
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    if (process.connected) process.disconnect();
    setTimeout(() => process.exit(code), 3000).unref();
  },
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
