// The shape of results.json, and the medians and ratios computed from it.
// The HTML report and the terminal tables read only this.

import type { BenchOptions, WorkloadName } from './options.js';

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  java: string | null;
  kernel: string;
  os: string;
  dataDirFs: string;
  loadAvgStart: number[];
  loadAvgEnd?: number[];
}

export interface ServerInfo {
  /** 'apache' or 'zoonode-w<setting>'. */
  id: string;
  label: string;
  kind: 'zoonode' | 'apache';
  workers: string | null;
  workersResolved: number | null;
  version: string;
  startupMs: number;
  idleRssMiB: number;
  restarts: number;
}

/** One measurement of one cell on one server. */
export interface Sample {
  rep: number;
  /** Position of this run in the whole benchmark (for drift checks). */
  seq: number;
  /** Completed ops per second in the measured window (watch: notifications/s; connect: sessions/s). */
  opsPerSec: number;
  ops: number;
  p50: number;
  p99: number;
  p999: number;
  meanMs: number;
  maxMs: number;
  errors: number;
  firstError: number;
  serverCpuSeconds: number;
  clientCpuSeconds: number;
  /** ops / serverCpuSeconds. */
  opsPerServerCpuSecond: number;
  rssMiB: number;
  windowMs: number;
  loadAvg1: number;
  /** Workload-specific figures (watch: time to first; connect: close time, failures; delete: pool exhausted). */
  extra: Record<string, number | boolean | string>;
  error?: string;
}

export interface Summary {
  opsPerSec: number;
  opsPerServerCpuSecond: number;
  p50: number;
  p99: number;
  p999: number;
  rssMiB: number;
  serverCpuSeconds: number;
  clientCpuSeconds: number;
  errors: number;
}

export interface CellResult {
  workload: WorkloadName;
  valueSize: number;
  depth: number;
  sessions: number;
  perSession: number;
  server: string;
  samples: Sample[];
  /** Medians over the samples without an error (null if none). */
  median: Summary | null;
}

export interface Ratio {
  workload: WorkloadName;
  valueSize: number;
  depth: number;
  server: string;
  /** zoonode ÷ Apache of the medians; above 1 is better for ops/s and ops per CPU-second, below 1 is better for latencies and RSS. */
  opsPerSec: number;
  opsPerServerCpuSecond: number;
  p50: number;
  p99: number;
  p999: number;
  rssMiB: number;
}

export interface BenchResults {
  version: 1;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  command: string;
  options: BenchOptions;
  machine: Machine;
  servers: ServerInfo[];
  cells: CellResult[];
  ratios: Ratio[];
  notes: string[];
  /** This run against an earlier results.json (--baseline). */
  baseline?: { path: string; startedAt: string; rows: BaselineRow[] };
}

/** One cell of this run against the same cell (server, workload, value size, depth) of an earlier run: now ÷ then. */
export type BaselineRow = Pick<Ratio, 'workload' | 'valueSize' | 'depth' | 'server' | 'opsPerSec' | 'opsPerServerCpuSecond' | 'p99'> & {
  /** Ops/s or ops per CPU-second fell below slowerBelow of the earlier run's. */
  slower: boolean;
};

/** Below this fraction of the earlier run's ops/s or ops per CPU-second a cell is marked slower (runs on a shared machine vary by ±35 %). */
export const slowerBelow = 0.7;

/** Every cell with a median in both runs, now ÷ then; Apache's rows show how much the machine itself moved. */
export function compareBaseline(now: CellResult[], then: CellResult[]): BaselineRow[] {
  const key = (c: CellResult) => `${c.server}|${c.workload}|${c.valueSize}|${c.depth}`;
  const earlier = new Map(then.map((c) => [key(c), c]));
  const out: BaselineRow[] = [];
  for (const c of now) {
    const b = earlier.get(key(c));
    if (b === undefined || b.median === null || c.median === null) continue;
    const r = (f: (s: Summary) => number) => f(c.median!) / f(b.median!);
    const opsPerSec = r((s) => s.opsPerSec);
    const opsPerServerCpuSecond = r((s) => s.opsPerServerCpuSecond);
    out.push({
      workload: c.workload, valueSize: c.valueSize, depth: c.depth, server: c.server,
      opsPerSec, opsPerServerCpuSecond, p99: r((s) => s.p99),
      slower: opsPerSec < slowerBelow || opsPerServerCpuSecond < slowerBelow,
    });
  }
  return out;
}

export function median(xs: number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 === 1 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

export function summarize(samples: Sample[]): Summary | null {
  const ok = samples.filter((s) => s.error === undefined);
  if (ok.length === 0) return null;
  const m = (f: (s: Sample) => number) => median(ok.map(f));
  return {
    opsPerSec: m((s) => s.opsPerSec),
    opsPerServerCpuSecond: m((s) => s.opsPerServerCpuSecond),
    p50: m((s) => s.p50),
    p99: m((s) => s.p99),
    p999: m((s) => s.p999),
    rssMiB: m((s) => s.rssMiB),
    serverCpuSeconds: m((s) => s.serverCpuSeconds),
    clientCpuSeconds: m((s) => s.clientCpuSeconds),
    errors: ok.reduce((a, s) => a + s.errors, 0),
  };
}

export function ratios(cells: CellResult[]): Ratio[] {
  const out: Ratio[] = [];
  const key = (c: CellResult) => `${c.workload}|${c.valueSize}|${c.depth}`;
  const apache = new Map(cells.filter((c) => c.server === 'apache').map((c) => [key(c), c]));
  for (const c of cells) {
    if (c.server === 'apache') continue;
    const a = apache.get(key(c));
    if (a === undefined || a.median === null || c.median === null) continue;
    const r = (f: (s: Summary) => number) => f(c.median!) / f(a.median!);
    out.push({
      workload: c.workload, valueSize: c.valueSize, depth: c.depth, server: c.server,
      opsPerSec: r((s) => s.opsPerSec), opsPerServerCpuSecond: r((s) => s.opsPerServerCpuSecond),
      p50: r((s) => s.p50), p99: r((s) => s.p99), p999: r((s) => s.p999), rssMiB: r((s) => s.rssMiB),
    });
  }
  return out;
}

export function geomean(xs: number[]): number {
  const v = xs.filter((x) => Number.isFinite(x) && x > 0);
  if (v.length === 0) return NaN;
  return Math.exp(v.reduce((a, x) => a + Math.log(x), 0) / v.length);
}
