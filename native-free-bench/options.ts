// Command-line options of `npm run bench` and the grid of cells they select.
// Every option is documented in native-free-bench/README.md; the defaults of
// a full run and of --quick live here and nowhere else.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PIPELINE_WORKLOADS } from './frames.js';

export const WORKLOADS = [...PIPELINE_WORKLOADS, 'watch', 'connect'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export interface BenchOptions {
  quick: boolean;
  compareApache: boolean;
  /** zoonode workers= settings, as given ('0', '1', '2', 'auto'). */
  workers: string[];
  workloads: WorkloadName[];
  /** Total requests in flight (pipeline), watchers (watch) or handshakes in flight (connect). */
  depths: number[];
  /** Sessions for every depth (null: min(depth, 8)). */
  sessions: number | null;
  valueSizes: number[];
  /** Workloads that sweep every value size; the others use the first one. */
  sizedWorkloads: WorkloadName[];
  warmupMs: number;
  durationMs: number;
  /** Load each freshly started server this long (mixed, not recorded) before the first cell: JIT warm-up. */
  serverWarmupMs: number;
  repeat: number;
  clientThreads: number;
  /** Load generator: our own client threads, or the official Java client's async API (java/ZkAsyncLoad.java). */
  client: 'native' | 'java';
  readRatio: number;
  children: number;
  watchers: number[];
  watchRounds: number;
  watchWarmupRounds: number;
  stormSessions: number;
  /** Unmeasured storms of the same size and depth before each measured one (both servers). */
  stormWarmup: number;
  fsync: boolean;
  tickTime: number;
  out: string;
  dataRoot: string;
  /** Profile every zoonode server (node --cpu-prof) into this directory. */
  serverCpuProf: string | null;
  /** An earlier run's results.json: each cell is also reported as now ÷ then. */
  baseline: string | null;
  seed: number;
  /** Restart a server on a fresh data directory once its directory grows past this many bytes. */
  dataDirMaxBytes: number;
}

export function defaultClientThreads(): number {
  const cores = os.availableParallelism();
  return cores <= 2 ? 1 : Math.min(4, Math.floor(cores / 2));
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z');
}

export function defaults(quick: boolean): BenchOptions {
  return {
    quick,
    compareApache: false,
    workers: quick ? ['0', 'auto'] : ['0', '1', '2', 'auto'],
    workloads: [...WORKLOADS],
    depths: quick ? [1, 64] : [1, 16, 128, 512],
    sessions: null,
    valueSizes: [100, 1024, 102400],
    sizedWorkloads: ['getData', 'setData'],
    warmupMs: quick ? 250 : 500,
    durationMs: quick ? 750 : 1500,
    serverWarmupMs: quick ? 1000 : 3000,
    repeat: quick ? 1 : 3,
    clientThreads: defaultClientThreads(),
    client: 'native',
    readRatio: 0.9,
    children: 1000,
    watchers: quick ? [500] : [100, 1000],
    watchRounds: quick ? 10 : 30,
    watchWarmupRounds: 2,
    stormSessions: quick ? 300 : 1000,
    stormWarmup: quick ? 0 : 1,
    fsync: true,
    tickTime: 2000,
    out: path.join('bench-results', timestamp()),
    dataRoot: os.tmpdir(),
    serverCpuProf: null,
    baseline: null,
    seed: 1,
    dataDirMaxBytes: 2 * 1024 ** 3,
  };
}

export class UsageError extends Error {}

const positiveInts = (name: string, v: string): number[] => v.split(',').filter((x) => x !== '').map((x) => {
  const n = Number(x);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name}: expected positive integers, got '${x}'`);
  return n;
});

const positiveInt = (name: string, v: string): number => positiveInts(name, v)[0] ?? (() => { throw new UsageError(`--${name}: missing value`); })();

function names(name: string, v: string): WorkloadName[] {
  const out = v.split(',').filter((x) => x !== '');
  for (const w of out) {
    if (!(WORKLOADS as readonly string[]).includes(w)) throw new UsageError(`--${name}: unknown workload '${w}' (one of ${WORKLOADS.join(', ')})`);
  }
  return out as WorkloadName[];
}

/** Parses `--name value` and `--name=value` forms. */
export function parseOptions(argv: readonly string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const o = defaults(quick);
  let inflight: number | null = null;
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument '${a}'`);
    let value: string | undefined;
    const eq = a.indexOf('=');
    if (eq >= 0) { value = a.slice(eq + 1); a = a.slice(0, eq); }
    const need = (): string => {
      if (value !== undefined) return value;
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--quick': break;
      case '--micro': break;
      case '--tiny': break;
      case '--compare': {
        const v = need();
        if (v !== 'apache') throw new UsageError(`--compare: only 'apache' is known, got '${v}'`);
        o.compareApache = true;
        break;
      }
      case '--workers': {
        o.workers = need().split(',').filter((x) => x !== '');
        // A setting may carry zoo.cfg lines for that server: auto+inlineLogWrites=no.
        for (const w of o.workers) {
          const [n, ...extra] = w.split('+');
          if (n !== 'auto' && !/^\d+$/.test(n!)) throw new UsageError(`--workers: expected numbers or 'auto', got '${w}'`);
          for (const kv of extra) if (!/^[\w.]+=\S*$/.test(kv)) throw new UsageError(`--workers: expected key=value after '+', got '${kv}' in '${w}'`);
        }
        break;
      }
      case '--workloads': o.workloads = names('workloads', need()); break;
      case '--depths': o.depths = positiveInts('depths', need()); break;
      case '--sessions': o.sessions = positiveInt('sessions', need()); break;
      case '--inflight': inflight = positiveInt('inflight', need()); break;
      case '--value-sizes': o.valueSizes = positiveInts('value-sizes', need()); break;
      case '--sized-workloads': o.sizedWorkloads = names('sized-workloads', need()); break;
      case '--warmup': o.warmupMs = Number(need()); break;
      case '--duration': o.durationMs = positiveInt('duration', need()); break;
      case '--server-warmup': o.serverWarmupMs = Number(need()); break;
      case '--repeat': o.repeat = positiveInt('repeat', need()); break;
      case '--client-threads': o.clientThreads = positiveInt('client-threads', need()); break;
      case '--client': {
        const v = need();
        if (v !== 'native' && v !== 'java') throw new UsageError(`--client: expected native or java, got '${v}'`);
        o.client = v;
        break;
      }
      case '--read-ratio': {
        o.readRatio = Number(need());
        if (!(o.readRatio >= 0 && o.readRatio <= 1)) throw new UsageError('--read-ratio: expected a number from 0 to 1');
        break;
      }
      case '--children': o.children = positiveInt('children', need()); break;
      case '--watchers': o.watchers = positiveInts('watchers', need()); break;
      case '--watch-rounds': o.watchRounds = positiveInt('watch-rounds', need()); break;
      case '--storm-sessions': o.stormSessions = positiveInt('storm-sessions', need()); break;
      case '--storm-warmup': {
        const v = need();
        if (!/^\d+$/.test(v)) throw new UsageError(`--storm-warmup: expected a whole number (0 or more), got '${v}'`);
        o.stormWarmup = Number(v);
        break;
      }
      case '--fsync': {
        const v = need();
        if (v !== 'on' && v !== 'off') throw new UsageError(`--fsync: expected on or off, got '${v}'`);
        o.fsync = v === 'on';
        break;
      }
      case '--tick-time': o.tickTime = positiveInt('tick-time', need()); break;
      case '--out': o.out = need(); break;
      case '--data-dir': o.dataRoot = need(); break;
      case '--server-cpu-prof': o.serverCpuProf = path.resolve(need()); break;
      case '--baseline':
        o.baseline = path.resolve(need());
        if (!fs.existsSync(o.baseline)) throw new UsageError(`--baseline: no such file ${o.baseline} (give an earlier run's results.json)`);
        break;
      case '--seed': o.seed = positiveInt('seed', need()); break;
      default: throw new UsageError(`unknown option ${a} (see native-free-bench/README.md)`);
    }
  }
  if (!(o.warmupMs >= 0)) throw new UsageError('--warmup: expected milliseconds >= 0');
  if (inflight !== null) {
    o.sessions ??= 8;
    o.depths = [o.sessions * inflight];
  }
  if (o.workers.length === 0) throw new UsageError('--workers: at least one setting');
  if (o.client === 'java') {
    const javaWorkloads: WorkloadName[] = ['getData', 'exists', 'mixed', 'setData', 'create', 'watch', 'connect'];
    const other = o.workloads.filter((w) => !javaWorkloads.includes(w));
    if (argv.some((a) => a.startsWith('--workloads')) && other.length > 0) throw new UsageError(`--client java drives only ${javaWorkloads.join(', ')}; not ${other.join(', ')}`);
    o.workloads = o.workloads.filter((w) => javaWorkloads.includes(w));
  }
  return o;
}

/** Sessions and requests in flight per session for a total in-flight depth. */
export function shape(depth: number, sessions: number | null): { sessions: number; perSession: number } {
  const s = sessions ?? Math.min(depth, 8);
  return { sessions: s, perSession: Math.max(1, Math.ceil(depth / s)) };
}

export interface CellKey {
  workload: WorkloadName;
  valueSize: number;
  /** See BenchOptions.depths. */
  depth: number;
}

export function grid(o: BenchOptions): CellKey[] {
  const out: CellKey[] = [];
  for (const workload of o.workloads) {
    const sizes = o.sizedWorkloads.includes(workload) ? o.valueSizes : o.valueSizes.slice(0, 1);
    const depths = workload === 'watch' ? o.watchers : o.depths;
    for (const valueSize of sizes) for (const depth of depths) out.push({ workload, valueSize, depth });
  }
  return out;
}
