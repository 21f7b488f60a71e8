// npm run bench [-- options]: starts a zoonode server process per workers=
// setting, drives each workload at each in-flight depth with the pipelined
// load generator, and reports throughput, latency percentiles, and the
// server's CPU-seconds and RSS read from /proc.
//
// Options: --quick (short cells), --workers 0,1,2  --depths 1,16,256
//          --workloads getData,setData  --duration MS  --out DIR

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ZkClient } from './zk-client.js';
import { runLoad, type Workload } from './load.js';

interface Args {
  quick: boolean;
  workers: number[];
  depths: number[];
  workloads: Workload[];
  durationMs: number;
  warmupMs: number;
  out: string;
  valueSize: number;
}

function parse(argv: string[]): Args {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i >= 0) return argv[i + 1];
    const eq = argv.find((a) => a.startsWith(`--${name}=`));
    return eq?.slice(name.length + 3);
  };
  const quick = argv.includes('--quick');
  const list = (name: string, dflt: string) => (get(name) ?? dflt).split(',').filter((x) => x !== '');
  return {
    quick,
    workers: list('workers', '0,1,2').map(Number),
    depths: list('depths', '1,16,256').map(Number),
    workloads: list('workloads', 'getData,setData') as Workload[],
    durationMs: Number(get('duration') ?? (quick ? 1000 : 4000)),
    warmupMs: quick ? 300 : 1000,
    out: get('out') ?? path.join('bench-results', new Date().toISOString().replace(/[:.]/g, '-')),
    valueSize: Number(get('value-size') ?? 100),
  };
}

/** Sessions x in-flight per session for a total in-flight depth. */
export function shape(depth: number): [number, number] {
  const sessions = Math.min(depth, 8);
  return [sessions, Math.max(1, Math.round(depth / sessions))];
}

interface ProcStat { cpuSeconds: number; rssBytes: number }

function procStat(pid: number): ProcStat {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rssPages = Number(fields[21]);
  return { cpuSeconds: ticks / 100, rssBytes: rssPages * 4096 };
}

async function startServer(workers: number, dataDir: string): Promise<{ child: ChildProcess; port: number }> {
  const bin = fileURLToPath(new URL('../../bin/zoonode.js', import.meta.url));
  const child = spawn(process.execPath, [bin, '--port', '0', '--data-dir', dataDir, 'clientPortAddress=127.0.0.1',
    `workers=${workers}`, 'maxClientCnxns=0', 'admin.enableServer=false'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr!.on('data', (d) => { out += d; });
  child.stdout!.on('data', (d) => { out += d; });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`zoonode did not start:\n${out}`)), 15000);
    const poll = setInterval(() => {
      const m = /listening for clients on [\d.]+:(\d+)/.exec(out);
      if (m) { clearTimeout(timer); clearInterval(poll); resolve(Number(m[1])); }
      if (child.exitCode !== null) { clearTimeout(timer); clearInterval(poll); reject(new Error(`zoonode exited:\n${out}`)); }
    }, 20);
  });
  return { child, port };
}

export interface Cell {
  server: string;
  workers: number;
  workload: Workload;
  depth: number;
  sessions: number;
  opsPerSec: number;
  p50: number;
  p99: number;
  p999: number;
  errors: number;
  serverCpuSeconds: number;
  opsPerCpuSecond: number;
  rssMiB: number;
}

async function prepare(port: number, root: string, sessions: number, valueSize: number): Promise<void> {
  const c = await ZkClient.connect('127.0.0.1', port, { timeoutMs: 30000 });
  try {
    if (await c.exists(root) === null) await c.create(root, null);
    for (let i = 0; i < sessions; i++) {
      const p = `${root}/s${i}`;
      if (await c.exists(p) === null) await c.create(p, Buffer.alloc(valueSize, 0x61));
    }
  } finally {
    await c.close();
  }
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  fs.mkdirSync(args.out, { recursive: true });
  const cells: Cell[] = [];
  const total = args.workers.length * args.workloads.length * args.depths.length;
  let done = 0;
  for (const workers of args.workers) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zoonode-bench-'));
    const { child, port } = await startServer(workers, dataDir);
    try {
      for (const workload of args.workloads) {
        for (const depth of args.depths) {
          const [sessions, perSession] = shape(depth);
          const root = `/bench-${workload}`;
          await prepare(port, root, sessions, args.valueSize);
          const before = procStat(child.pid!);
          const r = await runLoad({ host: '127.0.0.1', port, sessions, inflightPerSession: perSession, workload,
            valueSize: args.valueSize, warmupMs: args.warmupMs, durationMs: args.durationMs, root });
          const after = procStat(child.pid!);
          const cpu = after.cpuSeconds - before.cpuSeconds;
          done++;
          const cell: Cell = {
            server: 'zoonode', workers, workload, depth, sessions, opsPerSec: r.opsPerSec, p50: r.p50, p99: r.p99, p999: r.p999,
            errors: r.errors, serverCpuSeconds: cpu, opsPerCpuSecond: cpu > 0 ? r.ops / cpu : NaN, rssMiB: after.rssBytes / 1048576,
          };
          cells.push(cell);
          process.stderr.write(`[${done}/${total}] workers=${workers} ${workload} depth=${depth}: ${Math.round(r.opsPerSec)} ops/s, p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms\n`);
        }
      }
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const file = path.join(args.out, 'results.json');
  fs.writeFileSync(file, JSON.stringify({ machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version }, args, cells }, null, 2));
  const rows = cells.map((c) => `| ${c.workers} | ${c.workload} | ${c.depth} | ${Math.round(c.opsPerSec).toLocaleString('en-US')} | ${c.p50.toFixed(3)} | ${c.p99.toFixed(3)} | ${Math.round(c.opsPerCpuSecond).toLocaleString('en-US')} | ${c.rssMiB.toFixed(0)} |`);
  process.stdout.write(['| workers | workload | in flight | ops/s | p50 ms | p99 ms | ops per server CPU-s | server RSS MiB |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |', ...rows].join('\n') + '\n');
  process.stdout.write(`results: ${path.resolve(file)}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
