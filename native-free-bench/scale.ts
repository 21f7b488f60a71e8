// Scale: a tree far past V8's 2^24-entry Map ceiling (issue target: 20 M
// znodes load and serve within 24 GiB). Creates N znodes through the client
// protocol, reads a sample under load, restarts the server on the same data
// directory (snapshot + log replay) and reads again; reports the creation
// rate, resident memory, bytes per znode, restart-to-first-read and read
// latency.
//
// node dist/native-free-bench/scale.js [--nodes 20000000] [--parents 2000]
//   [--value 100] [--workers 1] [--read-seconds 10] [--sessions 8] [--keep DIR (also gets the server's logs)]
//   [--snap-count 2000000] [--snapshot-wait 1200] [--node-args "--trace-gc ..."]
//
// A read sample that begins while the server is writing a snapshot of the
// whole tree (the load starts one near the end, and a restart starts one at
// once, as Apache does) is reported as such; the bench then waits for that
// snapshot to be written (at most --snapshot-wait seconds) and takes a second,
// steady sample.
//
// snapCount is raised from Apache's 100,000 by default: at 20 M znodes that
// default would write some 200 snapshots of up to 4 GB each (no autopurge
// within the run), over 400 GB of disk.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ZkClient } from './zk-client.js';
import { populate, runLoad } from './load.js';
import { diskUsage, procStat, startZoonodeProcess, zoonodeSnapshotWindows, type ServerProcess } from './servers.js';

interface Args {
  nodes: number; parents: number; value: number; workers: string; readSeconds: number; sessions: number; keep: string | null; snapCount: number;
  snapshotWaitSeconds: number; nodeArgs: string[];
}

function parse(argv: string[]): Args {
  const get = (n: string) => { const i = argv.indexOf(`--${n}`); return i >= 0 ? argv[i + 1] : undefined; };
  return {
    nodes: Number(get('nodes') ?? 20_000_000),
    parents: Number(get('parents') ?? 2000),
    value: Number(get('value') ?? 100),
    workers: get('workers') ?? '1',
    readSeconds: Number(get('read-seconds') ?? 10),
    sessions: Number(get('sessions') ?? 8),
    keep: get('keep') ?? null,
    snapCount: Number(get('snap-count') ?? 2_000_000),
    snapshotWaitSeconds: Number(get('snapshot-wait') ?? 1200),
    nodeArgs: (get('node-args') ?? '').split(' ').filter((a) => a !== ''),
  };
}

const log = (m: string) => process.stderr.write(`[scale] ${new Date().toISOString()} ${m}\n`);

async function firstRead(proc: ServerProcess, pathName: string, t0: number): Promise<number> {
  for (let i = 0; i < 1_000_000; i++) {
    try {
      const c = await ZkClient.connect('127.0.0.1', proc.port, { timeoutMs: 30000, connectTimeoutMs: 2000 });
      try {
        const d = await c.getData(pathName);
        if (d.data !== null) return performance.now() - t0;
      } finally {
        c.destroy();
      }
    } catch {
      // not serving yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no first read');
}

/**
 * Snapshots the server logged that overlap [fromMs, toMs] (wall clock): a
 * read sample taken while a snapshot of the whole tree is being written is
 * slower, and its figures say little about steady reads without this.
 */
function snapshotsDuring(proc: ServerProcess, fromMs: number, toMs: number): { began: string; wrote: string | null; ms: number | null }[] {
  return zoonodeSnapshotWindows(proc.output())
    .filter((w) => w.start <= toMs && w.end >= fromMs)
    .map((w) => {
      const done = w.end !== Infinity;
      return { began: new Date(w.start).toISOString(), wrote: done ? new Date(w.end).toISOString() : null, ms: done ? w.end - w.start : null };
    });
}

/** Wait (at most `seconds`) until no snapshot is being written; true if none is. */
async function snapshotSettled(proc: ServerProcess, seconds: number): Promise<boolean> {
  const until = performance.now() + seconds * 1000;
  for (;;) {
    if (!zoonodeSnapshotWindows(proc.output()).some((w) => w.end === Infinity)) return true;
    if (performance.now() > until) return false;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Reads as they come (possibly during a snapshot); when that sample overlapped
 * a snapshot, a second one once it has been written.
 */
async function readSamples(proc: ServerProcess, args: Args, label: string): Promise<Record<string, unknown>> {
  const first = await readSample(proc, args);
  log(`${label}: ${JSON.stringify(first)}`);
  if ((first.snapshotsDuring as unknown[]).length === 0) return { steady: first };
  const waitFrom = performance.now();
  if (!(await snapshotSettled(proc, args.snapshotWaitSeconds))) {
    log(`${label}: the snapshot was still being written after ${args.snapshotWaitSeconds} s`);
    return { duringSnapshot: first, steady: null };
  }
  log(`${label}: waited ${((performance.now() - waitFrom) / 1000).toFixed(1)} s for the snapshot`);
  const steady = await readSample(proc, args);
  log(`${label}, after the snapshot: ${JSON.stringify(steady)}`);
  return { duringSnapshot: first, steady };
}

async function readSample(proc: ServerProcess, args: Args): Promise<Record<string, unknown>> {
  const warmupMs = 1000;
  const from = Date.now() + warmupMs; // the figures come from after the warm-up
  const r = await runLoad({
    host: '127.0.0.1', port: proc.port, sessions: 4, inflightPerSession: 16, workload: 'getData', valueSize: args.value,
    warmupMs, durationMs: args.readSeconds * 1000, root: '',
    // Spread the readers over the whole key space (session i reads one node).
    pathOf: (i) => { const n = Math.floor((i + 0.5) * (args.nodes / 4)); return `/bench-p${n % args.parents}/n${n}`; },
  });
  return { readsPerSec: r.opsPerSec, p50: r.p50, p99: r.p99, p999: r.p999, errors: r.errors, snapshotsDuring: snapshotsDuring(proc, from, Date.now()) };
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  const dir = args.keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'zoonode-scale-'));
  fs.mkdirSync(dir, { recursive: true });
  const settings = { workers: args.workers, snapCount: args.snapCount };
  const result: Record<string, unknown> = { args, machine: { cpus: os.cpus().length, memGiB: os.totalmem() / 2 ** 30, node: process.version } };
  const serverOpts = { config: '/dev/null', nodeArgs: args.nodeArgs };
  let proc = await startZoonodeProcess(dir, settings, serverOpts);
  try {
    log(`populating ${args.nodes} znodes x ${args.value} B under ${args.parents} parents (workers=${args.workers})`);
    let lastAt = performance.now();
    let lastN = 0;
    const pop = await populate({
      host: '127.0.0.1', port: proc.port, parents: args.parents, nodes: args.nodes, valueSize: args.value, sessions: args.sessions,
      progress: (n) => {
        if (n % 1_000_000 !== 0) return;
        const now = performance.now();
        const rss = procStat(proc.child.pid!).rssBytes;
        log(`${n} created, ${((n - lastN) / ((now - lastAt) / 1000)).toFixed(0)}/s, server RSS ${(rss / 2 ** 30).toFixed(2)} GiB`);
        lastAt = now;
        lastN = n;
      },
    });
    const rssLoaded = procStat(proc.child.pid!).rssBytes;
    result.populate = { seconds: pop.ms / 1000, createsPerSec: args.nodes / (pop.ms / 1000), rssGiB: rssLoaded / 2 ** 30,
      rssBytesPerZnode: rssLoaded / args.nodes };
    log(`populated in ${(pop.ms / 1000).toFixed(0)} s; RSS ${(rssLoaded / 2 ** 30).toFixed(2)} GiB (${(rssLoaded / args.nodes).toFixed(0)} B/znode)`);
    result.readsAfterPopulate = await readSamples(proc, args, 'reads');
    await proc.stop();
    if (args.keep !== null) fs.writeFileSync(path.join(dir, 'server-loaded.log'), proc.output());
    const disk = diskUsage(dir);
    result.diskGiB = disk.allocated / 2 ** 30;
    const t0 = performance.now();
    proc = await startZoonodeProcess(dir, settings, serverOpts);
    const last = args.nodes - 1;
    const ms = await firstRead(proc, `/bench-p${last % args.parents}/n${last}`, t0);
    const rssRestarted = procStat(proc.child.pid!).rssBytes;
    result.restart = { restartToFirstReadMs: ms, rssGiB: rssRestarted / 2 ** 30, rssBytesPerZnode: rssRestarted / args.nodes };
    log(`restart-to-first-read ${(ms / 1000).toFixed(1)} s; RSS ${(rssRestarted / 2 ** 30).toFixed(2)} GiB`);
    result.readsAfterRestart = await readSamples(proc, args, 'reads after restart');
    const recovered = /recovered zxid \S+ from .* in (\d+) ms; (\d+) nodes/.exec(proc.output());
    if (recovered) result.recovery = { ms: Number(recovered[1]), nodes: Number(recovered[2]) };
  } finally {
    await proc.stop();
    if (args.keep !== null) fs.writeFileSync(path.join(dir, 'server-restarted.log'), proc.output());
    if (args.keep === null) fs.rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
