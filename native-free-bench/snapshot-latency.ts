// Read latency while a snapshot of a large tree is written, against the
// same server's steady state (issue target: p99.9 during a snapshot of
// >= 1M znodes at most 2x the steady p99.9).
//
// One zoonode process holds N znodes; readers run getData for the whole
// measurement while a trickle of setData (the same rate throughout) drives
// the txn count over snapCount, so snapshots start on their own, several
// times. Each read sample is classed by its completion time: inside a
// snapshot (between the server's "taking snapshot" and "wrote" log lines),
// or steady (more than 500 ms away from any snapshot). It also logs each
// server thread's CPU (ms per second, from /proc) inside the snapshots and in
// the steady state, to show what a snapshot adds and where.
//
// node dist/native-free-bench/snapshot-latency.js [--nodes 1000000] [--parents 500]
//   [--seconds 60] [--write-rate 500] [--snap-count 20000] [--workers 0]
//   [--sessions 4] [--inflight 4] [--apache] [--cpu-prof-dir DIR]
//   [--node-args '--trace-gc ...'] [--keep-log FILE-PREFIX]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ZkClient } from './zk-client.js';
import { populate, runLoad, percentile } from './load.js';
import { startApacheProcess, startZoonodeProcess, procStat, zoonodeSnapshotWindows, type ServerProcess } from './servers.js';

interface Args {
  nodes: number; parents: number; seconds: number; writeRate: number; snapCount: number;
  workers: string; sessions: number; inflight: number; apache: boolean; value: number; cpuProf: string | null; nodeArgs: string[]; keepLog: string | null;
}

function parse(argv: string[]): Args {
  const get = (n: string) => { const i = argv.indexOf(`--${n}`); return i >= 0 ? argv[i + 1] : undefined; };
  return {
    nodes: Number(get('nodes') ?? 1_000_000),
    parents: Number(get('parents') ?? 500),
    seconds: Number(get('seconds') ?? 60),
    writeRate: Number(get('write-rate') ?? 500),
    snapCount: Number(get('snap-count') ?? 20000),
    workers: get('workers') ?? '0',
    sessions: Number(get('sessions') ?? 4),
    inflight: Number(get('inflight') ?? 4),
    apache: argv.includes('--apache'),
    value: Number(get('value') ?? 100),
    cpuProf: get('cpu-prof-dir') ?? null,
    nodeArgs: (get('node-args') ?? '').split(' ').filter((a) => a !== ''),
    keepLog: get('keep-log') ?? null,
  };
}

const log = (m: string) => process.stderr.write(`[snapshot-latency] ${m}\n`);

/** setData at a fixed rate until stopped; returns the number written. */
function writeTrickle(client: ZkClient, ratePerSec: number, stopAt: number): Promise<number> {
  const value = Buffer.alloc(100, 7);
  const periodMs = 1000 / ratePerSec;
  let sent = 0;
  const t0 = performance.now();
  return new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (now >= stopAt) { resolve(sent); return; }
      const due = Math.floor((now - t0) / periodMs);
      // Bounded catch-up: at most one second's worth at once.
      for (let k = 0; sent < due && k < ratePerSec; k++, sent++) client.setData('/bench-trickle', value, -1).catch(() => undefined);
      setTimeout(tick, 5);
    };
    tick();
  });
}

interface Window { start: number; end: number }

/** Per-thread CPU of a process (ns, from /proc/<pid>/task/<tid>/schedstat), sampled over time. */
class ThreadSampler {
  readonly samples: { at: number; ns: Map<string, number> }[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number, everyMs: number) {
    this.timer = setInterval(() => this.take(), everyMs);
  }

  private take(): void {
    const ns = new Map<string, number>();
    try {
      for (const tid of fs.readdirSync(`/proc/${this.pid}/task`)) {
        try {
          const comm = fs.readFileSync(`/proc/${this.pid}/task/${tid}/comm`, 'utf8').trim();
          ns.set(`${comm}:${tid}`, Number(fs.readFileSync(`/proc/${this.pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
        } catch { /* the thread exited */ }
      }
    } catch { return; }
    this.samples.push({ at: Date.now(), ns });
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** CPU ms per second of each thread over the sampled spans that fall inside `wins` (or outside all of them, 500 ms away). */
  rates(wins: Window[], inside: boolean): Record<string, number> {
    const total = new Map<string, number>();
    let spanMs = 0;
    for (let i = 1; i < this.samples.length; i++) {
      const a = this.samples[i - 1]!;
      const b = this.samples[i]!;
      const inWin = wins.some((w) => a.at >= w.start && b.at <= w.end);
      const away = wins.every((w) => b.at < w.start - 500 || a.at > w.end + 500);
      if (inside ? !inWin : !away) continue;
      spanMs += b.at - a.at;
      for (const [k, v] of b.ns) total.set(k, (total.get(k) ?? 0) + (v - (a.ns.get(k) ?? v)) / 1e6);
    }
    const out: Record<string, number> = {};
    for (const [k, v] of [...total].sort((x, y) => y[1] - x[1])) if (v > 0) out[k] = Math.round((v / spanMs) * 1000);
    return out;
  }
}

/** Snapshot windows from Apache's log: "Creating new log file"/"Snapshotting: 0x.. to ..", ends unknown → none. */
function apacheWindows(out: string): Window[] {
  // Apache logs the start of a snapshot only ("Snapshotting: 0x... to ..."); its
  // end shows in no INFO line, so its windows are estimated by the next line of
  // SyncThread activity. Reported for reference only.
  const wins: Window[] = [];
  for (const line of out.split('\n')) {
    const m = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}).*Snapshotting: /.exec(line);
    if (m) {
      const t = Date.parse(m[1]!.replace(' ', 'T').replace(',', '.'));
      wins.push({ start: t, end: t + 2000 });
    }
  }
  return wins;
}

async function measure(kind: 'zoonode' | 'apache', args: Args): Promise<Record<string, number>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `zoonode-snaplat-${kind}-`));
  const settings = { snapCount: args.snapCount };
  let proc: ServerProcess | null = null;
  try {
    proc = kind === 'zoonode'
      ? await startZoonodeProcess(dir, { ...settings, workers: args.workers },
        { config: '/dev/null', nodeArgs: [...args.nodeArgs, ...(args.cpuProf !== null ? ['--cpu-prof', `--cpu-prof-dir=${args.cpuProf}`] : [])] })
      : await startApacheProcess(dir, settings);
    log(`${kind}: populating ${args.nodes} znodes`);
    await populate({ host: '127.0.0.1', port: proc.port, parents: args.parents, nodes: args.nodes, valueSize: args.value });
    const writer = await ZkClient.connect('127.0.0.1', proc.port, { timeoutMs: 30000 });
    await writer.create('/bench-trickle', Buffer.alloc(100)).catch(() => undefined);
    // Let the snapshots the populate started finish before measuring.
    await new Promise((r) => setTimeout(r, 5000));
    const logFrom = proc.output().length;
    const sampler = new ThreadSampler(proc.child.pid!, 100);
    const stopAt = performance.now() + args.seconds * 1000;
    const trickle = writeTrickle(writer, args.writeRate, stopAt);
    const load = await runLoad({
      host: '127.0.0.1', port: proc.port, sessions: args.sessions, inflightPerSession: args.inflight, workload: 'getData',
      valueSize: args.value, warmupMs: 0, durationMs: args.seconds * 1000, root: '',
      pathOf: (i) => `/bench-p${i % args.parents}/n${i}`, timeline: true,
    });
    const written = await trickle;
    sampler.stop();
    const rss = procStat(proc.child.pid!).rssBytes;
    await writer.close();
    const out = proc.output().slice(logFrom);
    if (args.keepLog !== null) fs.writeFileSync(`${args.keepLog}.${kind}.log`, proc.output());
    // A snapshot still being written when the load ended is left out (nothing
    // tells how long it ran on).
    const wins = kind === 'zoonode' ? zoonodeSnapshotWindows(out).filter((w) => w.end !== Infinity) : apacheWindows(out);
    const during: number[] = [];
    const steady: number[] = [];
    const at = load.at!;
    const lat = load.latency!;
    const warm = at.length > 0 ? at[0]! + 3000 : 0;
    for (let i = 0; i < at.length; i++) {
      const t = at[i]!;
      if (t < warm) continue;
      if (wins.some((w) => t >= w.start && t <= w.end)) during.push(lat[i]!);
      else if (wins.every((w) => t < w.start - 500 || t > w.end + 500)) steady.push(lat[i]!);
    }
    const pct = (xs: number[], p: number) => (xs.length === 0 ? NaN : percentile(Float64Array.from(xs).sort(), p));
    const r = {
      snapshots: wins.length,
      snapshotMsMedian: wins.length ? wins.map((w) => w.end - w.start).sort((a, b) => a - b)[wins.length >> 1]! : NaN,
      writes: written, reads: load.ops, readsPerSec: load.opsPerSec,
      duringSamples: during.length, steadySamples: steady.length,
      duringP50: pct(during, 0.5), duringP99: pct(during, 0.99), duringP999: pct(during, 0.999),
      steadyP50: pct(steady, 0.5), steadyP99: pct(steady, 0.99), steadyP999: pct(steady, 0.999),
      rssMiB: rss / 1048576,
    };
    log(`${kind}: ${JSON.stringify(r)}`);
    log(`${kind}: server threads, CPU ms per second, during snapshots: ${JSON.stringify(sampler.rates(wins, true))}`);
    log(`${kind}: server threads, CPU ms per second, steady: ${JSON.stringify(sampler.rates(wins, false))}`);
    return r;
  } finally {
    await proc?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  const results: Record<string, unknown> = { zoonode: await measure('zoonode', args) };
  if (args.apache) results.apache = await measure('apache', args);
  const z = results.zoonode as Record<string, number>;
  process.stdout.write(JSON.stringify({ args, results }, null, 2) + '\n');
  process.stdout.write(`zoonode p99.9 during snapshot / steady p99.9 = ${(z.duringP999! / z.steadyP999!).toFixed(2)}\n`);
}

main().catch((e) => { console.error(e); process.exit(1); });
