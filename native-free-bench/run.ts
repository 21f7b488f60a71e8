// npm run bench [-- options]: the load benchmark (see README.md beside this
// file for every option and what each number means).
//
// It starts one zoonode process per workers= setting and, with --compare
// apache, Apache ZooKeeper 3.8 beside them (same tickTime, same fsync
// setting), all on 127.0.0.1 with their own data directories. Then for each
// cell (workload × value size × in-flight depth) it runs every server in
// turn, in alternating order (A B1 B2 … then … B2 B1 A) for --repeat rounds,
// measuring throughput, latency percentiles, the server's CPU-seconds and RSS
// (/proc/<pid>) and the generator's own CPU. Medians over the repeats give
// the ratios zoonode ÷ Apache. Writes results.json, report.html and
// summary.md into bench-results/<timestamp>/ and prints their paths.
//
// `npm run bench -- --micro` runs the micro-benchmarks (micro.ts) instead.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ZkClient } from './zk-client.js';
import { ClientPool } from './client-pool.js';
import {
  javaDriverUnavailable, runJavaLoad, runJavaStepped, type JavaLoadOptions, type JavaStormResult, type JavaWatchResult,
} from './java-driver.js';
import { Histogram, type HistogramData } from './histogram.js';
import { monoMs, type ConnectResult, type FiredResult, type PipelineResult, type PipelineSpec } from './load.js';
import type { WorkerCall } from './load-worker.js';
import { MULTI_OPS, type PipelineWorkload } from './frames.js';
import {
  apacheInstalled, cpuSample, cpuSecondsBetween, diskUsage, fourLetter, procStat, startApacheProcess, startZoonodeProcess,
  type CpuSample, type ServerProcess,
} from './servers.js';
import { grid, parseOptions, shape, UsageError, type BenchOptions, type CellKey } from './options.js';
import { compareBaseline, ratios, summarize, type BenchResults, type CellResult, type Machine, type Sample, type ServerInfo } from './results.js';
import { renderHtml } from './report-html.js';
import { baselineLines, markdownSummary, terminalTable } from './report-text.js';

const HOST = '127.0.0.1';
const CALL_TIMEOUT_MS = 60_000;
const PREFILL_DEPTH = 64;
const PREFILL_MAX_TOTAL = 400_000;
const DELETE_RATE_FLOOR = 10_000;
/** Deletes run faster than creates: the pool is this many times what the create rate suggests. */
const DELETE_POOL_MARGIN = 3;
const WATCH_ROUND_TIMEOUT_MS = 15_000;
const STORM_TIMEOUT_MS = 60_000;

// ---- servers ---------------------------------------------------------------

class BenchServer {
  proc: ServerProcess | null = null;
  admin: ZkClient | null = null;
  dataDir = '';
  cellSeq = 0;
  /** The wide node for getChildren, made on first use (again after a restart). */
  wideNode: string | null = null;
  private generation = 0;

  constructor(readonly info: ServerInfo, private readonly o: BenchOptions, private readonly root: string) {}

  get pid(): number {
    return this.proc!.child.pid!;
  }

  async start(): Promise<void> {
    this.generation++;
    this.dataDir = path.join(this.root, `${this.info.id}-${this.generation}`);
    fs.mkdirSync(this.dataDir, { recursive: true });
    const t0 = performance.now();
    const forceSync = this.o.fsync ? 'yes' : 'no';
    if (this.info.kind === 'apache') {
      this.proc = await startApacheProcess(this.dataDir, { tickTime: this.o.tickTime, forceSync },
        { jvmArgs: [`-Dzookeeper.forceSync=${forceSync}`] });
    } else {
      // A bare zoo.cfg: conf/zoo.cfg would also open the metrics endpoint.
      const cfg = path.join(this.root, `${this.info.id}.zoo.cfg`);
      fs.writeFileSync(cfg, `tickTime=${this.o.tickTime}\ndataDir=${this.dataDir}\nclientPort=0\n`);
      const nodeArgs = this.o.serverCpuProf !== null
        ? ['--cpu-prof', '--cpu-prof-dir', path.join(this.o.serverCpuProf, `${this.info.id}-${this.generation}`)] : [];
      // workers as given, e.g. 'auto' or 'auto+inlineLogWrites=no' (zoo.cfg lines after '+').
      const [workers, ...extra] = this.info.workers!.split('+');
      const settings: Record<string, string> = { workers: workers!, forceSync, tickTime: String(this.o.tickTime) };
      for (const kv of extra) settings[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
      this.proc = await startZoonodeProcess(this.dataDir, settings,
        { config: cfg, nodeArgs });
      const m = /workers=(\d+)/.exec(this.proc.output());
      this.info.workersResolved = m ? Number(m[1]) : null;
    }
    this.info.startupMs = performance.now() - t0;
    const srvr = await fourLetter(this.proc.port, 'srvr').catch(() => '');
    this.info.version = (/version: ([^,\s]+)/i.exec(srvr)?.[1] ?? 'unknown').replace(/-\$\{[^}]*\}$/, '');
    this.admin = await ZkClient.connect(HOST, this.proc.port, { timeoutMs: 30_000 });
    this.info.idleRssMiB = procStat(this.pid).rssBytes / 1048576;
    this.wideNode = null;
  }

  async stop(): Promise<void> {
    if (this.admin !== null) await this.admin.close().catch(() => undefined);
    this.admin = null;
    if (this.proc !== null) await this.proc.stop();
    this.proc = null;
    if (this.dataDir !== '') fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  async restart(): Promise<void> {
    await this.stop();
    this.info.restarts++;
    await this.start();
  }

  alive(): boolean {
    return this.proc !== null && this.proc.child.exitCode === null && this.proc.child.signalCode === null
      && this.admin !== null && !this.admin.closed;
  }
}

function serverInfos(o: BenchOptions, withApache: boolean): ServerInfo[] {
  const base = { version: '', startupMs: 0, idleRssMiB: 0, restarts: 0, workersResolved: null };
  const out: ServerInfo[] = [];
  if (withApache) out.push({ ...base, id: 'apache', label: 'Apache ZooKeeper', kind: 'apache', workers: null });
  for (const w of o.workers) out.push({ ...base, id: `zoonode-w${w}`, label: `zoonode workers=${w}`, kind: 'zoonode', workers: w });
  return out;
}

// ---- measuring -------------------------------------------------------------

interface Probe { serverCpu: CpuSample; clientCpu: number; rssBytes: number; at: number }

function probe(pid: number): Probe {
  const c = process.cpuUsage();
  return { serverCpu: cpuSample(pid), clientCpu: (c.user + c.system) / 1e6, rssBytes: procStat(pid).rssBytes, at: monoMs() };
}

/** Takes a probe at monoMs() `at`, or earlier when now() is called. */
function probeAt(pid: number, at: number): { result: Promise<Probe>; now: () => void } {
  let resolve!: (p: Probe) => void;
  const result = new Promise<Probe>((r) => { resolve = r; });
  let done = false;
  const take = () => { if (!done) { done = true; clearTimeout(timer); resolve(probe(pid)); } };
  const timer = setTimeout(take, Math.max(0, at - monoMs()));
  return { result, now: take };
}

function emptySample(rep: number, seq: number): Sample {
  return {
    rep, seq, opsPerSec: NaN, ops: 0, p50: NaN, p99: NaN, p999: NaN, meanMs: NaN, maxMs: NaN, errors: 0, firstError: 0,
    serverCpuSeconds: NaN, clientCpuSeconds: NaN, opsPerServerCpuSecond: NaN, rssMiB: NaN, windowMs: 0, loadAvg1: os.loadavg()[0]!, extra: {},
  };
}

function fill(s: Sample, hist: Histogram, ops: number, windowMs: number, p0: Probe, p1: Probe): void {
  s.ops = ops;
  s.windowMs = windowMs;
  s.opsPerSec = windowMs > 0 ? ops / (windowMs / 1000) : NaN;
  s.p50 = hist.percentile(0.5);
  s.p99 = hist.percentile(0.99);
  s.p999 = hist.percentile(0.999);
  s.meanMs = hist.meanMs;
  s.maxMs = hist.total > 0 ? hist.maxMs : NaN;
  s.serverCpuSeconds = cpuSecondsBetween(p0.serverCpu, p1.serverCpu);
  s.clientCpuSeconds = p1.clientCpu - p0.clientCpu;
  s.opsPerServerCpuSecond = s.serverCpuSeconds > 0 ? ops / s.serverCpuSeconds : NaN;
  s.rssMiB = p1.rssBytes / 1048576;
}

function merge(hs: HistogramData[]): Histogram {
  const h = new Histogram();
  for (const x of hs) h.merge(x);
  return h;
}

/** A sample from a Java driver's result: its own percentiles, the server probed around it. */
function fillFromJava(s: Sample, r: { ops: number; p50: number; p99: number; p999: number }, windowMs: number, p0: Probe, p1: Probe): void {
  s.ops = r.ops;
  s.windowMs = windowMs;
  s.opsPerSec = windowMs > 0 ? r.ops / (windowMs / 1000) : NaN;
  s.p50 = r.p50;
  s.p99 = r.p99;
  s.p999 = r.p999;
  s.serverCpuSeconds = cpuSecondsBetween(p0.serverCpu, p1.serverCpu);
  s.clientCpuSeconds = NaN;
  s.opsPerServerCpuSecond = s.serverCpuSeconds > 0 ? r.ops / s.serverCpuSeconds : NaN;
  s.rssMiB = p1.rssBytes / 1048576;
  s.extra.client = 'java';
  if (r.ops === 0) throw new Error('nothing completed in the measured part');
}

class Runner {
  private seq = 0;
  /** Create throughput seen per server/size/depth, to size the delete cell's pool. */
  private readonly createRate = new Map<string, number>();
  private readonly deleteRate = new Map<string, number>();

  constructor(private readonly o: BenchOptions, private readonly pool: ClientPool) {}

  private threadOf(i: number): number {
    return i % this.pool.size;
  }

  private async createTree(admin: ZkClient, paths: [string, Buffer | null][]): Promise<void> {
    for (let i = 0; i < paths.length; i += 500) {
      await Promise.all(paths.slice(i, i + 500).map(([p, v]) => admin.create(p, v)));
    }
  }

  async cell(server: BenchServer, key: CellKey, rep: number, timing = { warmupMs: this.o.warmupMs, durationMs: this.o.durationMs }): Promise<Sample> {
    const sample = emptySample(rep, ++this.seq);
    try {
      if (this.o.client === 'java') {
        if (key.workload === 'watch') await this.javaWatchCell(server, key, sample);
        else if (key.workload === 'connect') await this.javaConnectCell(server, key, sample);
        else await this.javaCell(server, key, sample, timing);
      } else if (key.workload === 'watch') await this.watchCell(server, key, sample);
      else if (key.workload === 'connect') await this.connectCell(server, key, sample);
      else await this.pipelineCell(server, key, sample, timing);
    } catch (e) {
      sample.error = (e as Error).message.split('\n')[0]!;
      await this.pool.each(() => ({ op: 'close' }), CALL_TIMEOUT_MS).catch(() => undefined);
      if (!server.alive()) {
        sample.error += ' (server restarted)';
        await server.restart();
      }
    }
    return sample;
  }

  /** Runs a pipeline on the client threads; session i on thread i mod N. */
  private async pipeline(spec: Omit<PipelineSpec, 'paths'>, paths: string[], times: (now: number) => { startAt: number; measureAt: number; endAt: number },
    pid: number): Promise<{ results: PipelineResult[]; p0: Probe; p1: Probe; measureAt: number; endAt: number }> {
    const mine = (t: number) => paths.filter((_, i) => this.threadOf(i) === t);
    await this.pool.each((t) => mine(t).length === 0 ? null : { op: 'open-pipeline', spec: { ...spec, paths: mine(t) } }, CALL_TIMEOUT_MS);
    try {
      const tm = times(monoMs());
      const first = probeAt(pid, tm.measureAt);
      const last = probeAt(pid, tm.endAt);
      const budget = tm.endAt - monoMs() + CALL_TIMEOUT_MS;
      const results = (await this.pool.each<PipelineResult>((t) => mine(t).length === 0 ? null : { op: 'run', times: tm }, budget))
        .filter((r): r is PipelineResult => r !== null);
      last.now();
      first.now();
      return { results, p0: await first.result, p1: await last.result, measureAt: tm.measureAt, endAt: tm.endAt };
    } finally {
      await this.pool.each((t) => mine(t).length === 0 ? null : { op: 'close' }, CALL_TIMEOUT_MS);
    }
  }

  /** JIT warm-up of a freshly started server: a mixed read/write load, not recorded. */
  async warm(server: BenchServer): Promise<void> {
    if (this.o.serverWarmupMs <= 0) return;
    const s = await this.cell(server, { workload: 'mixed', valueSize: 100, depth: 64 }, -1, { warmupMs: 0, durationMs: this.o.serverWarmupMs });
    if (s.error !== undefined) throw new Error(`${server.info.id}: warm-up failed: ${s.error}`);
  }

  private async pipelineCell(server: BenchServer, key: CellKey, s: Sample, timing: { warmupMs: number; durationMs: number }): Promise<void> {
    const o = this.o;
    const admin = server.admin!;
    const workload = key.workload as PipelineWorkload;
    const { sessions, perSession } = shape(key.depth, o.sessions);
    const root = `/zb${++server.cellSeq}`;
    const value = Buffer.alloc(key.valueSize, 0x61);
    const tree: [string, Buffer | null][] = [[root, null]];
    const node = (i: number) => `${root}/s${i}`;
    for (let i = 0; i < sessions; i++) {
      const withValue = workload !== 'create' && workload !== 'delete' && workload !== 'multi';
      tree.push([node(i), withValue ? value : null]);
      if (workload === 'multi') for (let j = 0; j < MULTI_OPS; j++) tree.push([`${node(i)}/m${j}`, value]);
    }
    await this.createTree(admin, tree);
    let paths = Array.from({ length: sessions }, (_, i) => node(i));
    if (workload === 'getChildren') {
      const wide = server.wideNode ?? await this.makeWide(server);
      paths = paths.map(() => wide);
    }
    const spec = { host: HOST, port: server.proc!.port, valueSize: key.valueSize, readRatio: o.readRatio, seed: o.seed };
    let countPerSession = 0;
    if (workload === 'delete') {
      // Deletes need nodes: create a pool first (not measured), sized from the create rate seen.
      // Sized from the delete rate of an earlier repeat, else from the create rate with a wide margin (deletes
      // run faster), at least DELETE_RATE_FLOOR/s: a cell slowed by a noisy neighbour must not starve the deletes.
      const cellId = `${server.info.id}|${key.valueSize}|${key.depth}`;
      const seen = this.deleteRate.get(cellId);
      const rate = Math.max(DELETE_RATE_FLOOR, seen !== undefined ? seen * 1.5 : (this.createRate.get(cellId) ?? 20_000) * DELETE_POOL_MARGIN);
      const total = Math.min(PREFILL_MAX_TOTAL, Math.ceil(rate * (timing.warmupMs + timing.durationMs) / 1000) + sessions * perSession);
      countPerSession = Math.ceil(total / sessions);
      await this.pipeline({ ...spec, workload: 'create', depth: Math.max(perSession, PREFILL_DEPTH), countPerSession }, paths,
        (now) => ({ startAt: now + 5, measureAt: now + 5, endAt: now + 300_000 }), server.pid);
      s.extra.pool = countPerSession * sessions;
    }
    const r = await this.pipeline({ ...spec, workload, depth: perSession, countPerSession }, paths, (now) => {
      const startAt = now + 20;
      return { startAt, measureAt: startAt + timing.warmupMs, endAt: startAt + timing.warmupMs + timing.durationMs };
    }, server.pid);
    const exhausted = r.results.length > 0 && r.results.every((x) => x.exhausted);
    const ops = r.results.reduce((a, x) => a + x.ops, 0);
    if (exhausted && ops === 0) throw new Error(`the pool of ${s.extra.pool} nodes ran out before the measured window`);
    const windowEnd = exhausted ? Math.max(...r.results.map((x) => x.lastReplyAt)) : r.endAt;
    fill(s, merge(r.results.map((x) => x.hist)), ops, windowEnd - r.measureAt, r.p0, r.p1);
    s.errors = r.results.reduce((a, x) => a + x.errors, 0);
    s.firstError = r.results.find((x) => x.firstError !== 0)?.firstError ?? 0;
    if (exhausted) s.extra.poolExhausted = true;
    if (ops === 0) throw new Error('no reply completed in the measured window');
    if (workload === 'create') this.createRate.set(`${server.info.id}|${key.valueSize}|${key.depth}`, s.opsPerSec);
    if (workload === 'delete') this.deleteRate.set(`${server.info.id}|${key.valueSize}|${key.depth}`, s.opsPerSec);
  }

  /** A pipeline workload driven by the official Java client's async API (java/ZkAsyncLoad.java). */
  private async javaCell(server: BenchServer, key: CellKey, s: Sample, timing: { warmupMs: number; durationMs: number }): Promise<void> {
    const { sessions, perSession } = shape(key.depth, this.o.sessions);
    const root = `/zj${++server.cellSeq}`;
    let first: { result: Promise<Probe>; now: () => void } | null = null;
    let last: { result: Promise<Probe>; now: () => void } | null = null;
    let measureAt = 0;
    const r = await runJavaLoad({
      host: HOST, port: server.proc!.port, workload: key.workload as JavaLoadOptions['workload'], sessions,
      inflightPerSession: perSession, valueSize: key.valueSize, warmupMs: timing.warmupMs, durationMs: timing.durationMs, root,
    }, () => {
      measureAt = monoMs() + timing.warmupMs;
      first = probeAt(server.pid, measureAt);
      last = probeAt(server.pid, measureAt + timing.durationMs);
    });
    if (first === null || last === null) throw new Error('the Java driver never started its load');
    const f = first as { result: Promise<Probe>; now: () => void };
    const l = last as { result: Promise<Probe>; now: () => void };
    l.now();
    f.now();
    const p0 = await f.result;
    const p1 = await l.result;
    fillFromJava(s, r, timing.durationMs, p0, p1);
    s.errors = r.errors;
  }

  /** Watch fan-out with the Java client: its WATCHERS handles and writer in one JVM (java/ZkAsyncLoad.java watch). */
  private async javaWatchCell(server: BenchServer, key: CellKey, s: Sample): Promise<void> {
    const o = this.o;
    const spec = {
      kind: 'watch' as const, host: HOST, port: server.proc!.port, watchers: key.depth, rounds: o.watchRounds,
      warmupRounds: o.watchWarmupRounds, valueSize: key.valueSize, root: `/zj${++server.cellSeq}`,
    };
    await runJavaStepped<JavaWatchResult>(spec, async (go) => {
      const p0 = probe(server.pid);
      const r = await go();
      const p1 = probe(server.pid);
      fillFromJava(s, r, r.sumLastMs, p0, p1);
      s.errors = r.missed;
      s.extra.rounds = r.rounds;
      s.extra.timeToFirstP50 = r.firstP50;
    }, (o.watchWarmupRounds + o.watchRounds) * WATCH_ROUND_TIMEOUT_MS + 120_000);
  }

  /** Connect storm with the Java client: one ZooKeeper handle per session (java/ZkAsyncLoad.java storm). */
  private async javaConnectCell(server: BenchServer, key: CellKey, s: Sample): Promise<void> {
    const spec = { kind: 'storm' as const, host: HOST, port: server.proc!.port, sessions: this.o.stormSessions, concurrency: key.depth, warmupStorms: this.o.stormWarmup };
    await runJavaStepped<JavaStormResult>(spec, async (go) => {
      const p0 = probe(server.pid);
      const r = await go();
      const p1 = probe(server.pid);
      fillFromJava(s, r, r.spanMs, p0, p1);
      s.errors = r.failed;
      s.extra.serverCpuMsPerSession = r.ops > 0 ? (s.serverCpuSeconds * 1000) / r.ops : NaN;
      s.extra.warmupSessions = r.warmupOps;
    }, STORM_TIMEOUT_MS + 180_000);
  }

  private async makeWide(server: BenchServer): Promise<string> {
    const p = `/zb-wide-${this.o.children}`;
    const tree: [string, Buffer | null][] = Array.from({ length: this.o.children }, (_, i) => [`${p}/child-${String(i).padStart(6, '0')}`, null]);
    await server.admin!.create(p, null);
    await this.createTree(server.admin!, tree);
    server.wideNode = p;
    return p;
  }

  private async watchCell(server: BenchServer, key: CellKey, s: Sample): Promise<void> {
    const o = this.o;
    const admin = server.admin!;
    const root = `/zb${++server.cellSeq}`;
    const node = `${root}/w`;
    const value = Buffer.alloc(key.valueSize, 0x61);
    await admin.create(root, null);
    await admin.create(node, value);
    const share = (t: number) => Array.from({ length: key.depth }, (_, i) => i).filter((i) => this.threadOf(i) === t).length;
    const each = <T>(call: (t: number) => WorkerCall, timeoutMs = CALL_TIMEOUT_MS) => this.pool.each<T>((t) => share(t) === 0 ? null : call(t), timeoutMs);
    await each((t) => ({ op: 'open-watch', spec: { host: HOST, port: server.proc!.port, path: node, watchers: share(t) } }));
    try {
      const hist = new Histogram();
      const firsts: number[] = [];
      let sumLast = 0;
      let missed = 0;
      let p0: Probe | null = null;
      for (let round = 0; round < o.watchWarmupRounds + o.watchRounds; round++) {
        await each(() => ({ op: 'arm' }));
        const measured = round >= o.watchWarmupRounds;
        if (measured && p0 === null) p0 = probe(server.pid);
        const t0 = monoMs();
        const write = admin.setData(node, value);
        const fired = (await each<FiredResult>(() => ({ op: 'fired', timeoutMs: WATCH_ROUND_TIMEOUT_MS }), WATCH_ROUND_TIMEOUT_MS + CALL_TIMEOUT_MS))
          .filter((x): x is FiredResult => x !== null);
        await write;
        const notified = fired.reduce((a, f) => a + f.notified, 0);
        if (!measured) continue;
        missed += key.depth - notified;
        const last = Math.max(...fired.map((f) => f.last)) - t0;
        hist.record(last);
        sumLast += last;
        firsts.push(Math.min(...fired.map((f) => f.first)) - t0);
      }
      const p1 = probe(server.pid);
      const notifications = key.depth * o.watchRounds - missed;
      fill(s, hist, notifications, sumLast, p0!, p1);
      s.errors = missed;
      s.extra.rounds = o.watchRounds;
      s.extra.timeToFirstP50 = firsts.sort((a, b) => a - b)[firsts.length >> 1] ?? NaN;
    } finally {
      await each(() => ({ op: 'close' }));
    }
  }

  private async connectCell(server: BenchServer, key: CellKey, s: Sample): Promise<void> {
    // Threads in use: each needs at least one handshake in flight.
    const T = Math.min(this.pool.size, key.depth, this.o.stormSessions);
    const total = this.o.stormSessions;
    const split = (n: number, t: number) => Math.floor(n / T) + (t < n % T ? 1 : 0);
    // One storm over the client threads, starting at `startAt`; the sessions stay open until a 'close'.
    const storm = async (startAt: number) => (await this.pool.each<ConnectResult>((t) => t >= T ? null : {
      op: 'storm', startAt,
      spec: { host: HOST, port: server.proc!.port, sessions: split(total, t), concurrency: split(key.depth, t), deadline: startAt + STORM_TIMEOUT_MS },
    }, STORM_TIMEOUT_MS + CALL_TIMEOUT_MS)).filter((x): x is ConnectResult => x !== null);
    let warmupSessions = 0;
    for (let w = 0; w < this.o.stormWarmup; w++) {
      // The same storm unmeasured first: the session path warm, as the other workloads' are.
      try {
        for (const r of await storm(monoMs() + 30)) warmupSessions += r.opened;
      } finally {
        await this.pool.each(() => ({ op: 'close' }), CALL_TIMEOUT_MS);
      }
    }
    const startAt = monoMs() + 30;
    const first = probeAt(server.pid, startAt);
    try {
      const results = await storm(startAt);
      const p1 = probe(server.pid);
      first.now();
      const p0 = await first.result;
      const opened = results.reduce((a, r) => a + r.opened, 0);
      const span = Math.max(...results.map((r) => r.lastDone)) - Math.min(...results.map((r) => r.firstStart));
      fill(s, merge(results.map((r) => r.hist)), opened, span, p0, p1);
      s.errors = results.reduce((a, r) => a + r.failed, 0);
      s.extra.serverCpuMsPerSession = opened > 0 ? (s.serverCpuSeconds * 1000) / opened : NaN;
      s.extra.warmupSessions = warmupSessions;
    } finally {
      const c0 = monoMs();
      await this.pool.each(() => ({ op: 'close' }), CALL_TIMEOUT_MS);
      s.extra.closeAllMs = monoMs() - c0;
    }
  }
}

// ---- machine ---------------------------------------------------------------

function machine(o: BenchOptions): Machine {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const javaLine = java.status === 0 ? (java.stderr || java.stdout).split('\n')[0]!.trim() : null;
  let osName = os.type();
  try {
    osName = /PRETTY_NAME="([^"]+)"/.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? osName;
  } catch { /* not Linux */ }
  let fsType = 'unknown';
  try {
    const dir = path.resolve(o.dataRoot);
    let best = '';
    for (const line of fs.readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [, mnt, type] = line.split(' ');
      if (mnt !== undefined && type !== undefined && (dir === mnt || dir.startsWith(mnt.endsWith('/') ? mnt : `${mnt}/`)) && mnt.length > best.length) {
        best = mnt;
        fsType = `${type} (${mnt})`;
      }
    }
  } catch { /* no /proc */ }
  return {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3 * 10) / 10,
    node: process.version,
    java: javaLine,
    kernel: `${os.type()} ${os.release()}`,
    os: osName,
    dataDirFs: fsType,
    loadAvgStart: os.loadavg(),
  };
}

// ---- the run ---------------------------------------------------------------

export interface BenchOutput { results: BenchResults; json: string; html: string; markdown: string }

function fmtDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

function fmtOps(x: number): string {
  if (!Number.isFinite(x)) return '-';
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e4 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(0);
}

export async function runBench(o: BenchOptions, log: (line: string, transient?: boolean) => void = () => {}): Promise<BenchOutput> {
  const started = new Date();
  const t0 = performance.now();
  const m = machine(o);
  const notes: string[] = [];
  let withApache = false;
  if (o.compareApache) {
    if (apacheInstalled()) withApache = true;
    else {
      const msg = 'Apache ZooKeeper is not installed (no /usr/share/java/zookeeper.jar or /usr/bin/java; on Debian: apt-get install zookeeper): ' +
        'measuring zoonode only, no ratios.';
      notes.push(msg);
      log(msg);
    }
  }
  if (o.client === 'java') {
    const why = javaDriverUnavailable();
    if (why !== null) throw new Error(`--client java: ${why}`);
    notes.push('Load generated by the official Java client (async API, native-free-bench/java/ZkAsyncLoad.java).');
  }
  fs.mkdirSync(o.dataRoot, { recursive: true });
  const root = fs.mkdtempSync(path.join(o.dataRoot, 'zoonode-bench-'));
  const servers = serverInfos(o, withApache).map((info) => new BenchServer(info, o, root));
  const cleanup = () => { fs.rmSync(root, { recursive: true, force: true }); };
  process.once('exit', cleanup);
  const pool = await ClientPool.start(o.clientThreads);
  const cells: CellResult[] = [];
  try {
    const runner = new Runner(o, pool);
    for (const s of servers) {
      await s.start();
      log(`started ${s.info.label} (${s.info.version}${s.info.workersResolved !== null ? `, ${s.info.workersResolved} I/O worker thread(s)` : ''}) in ${s.info.startupMs.toFixed(0)} ms`);
      await runner.warm(s);
    }
    const keys = grid(o);
    const total = keys.length * o.repeat * servers.length;
    let done = 0;
    const runStart = performance.now();
    for (const key of keys) {
      const { sessions, perSession } = key.workload === 'watch' ? { sessions: key.depth, perSession: 1 }
        : key.workload === 'connect' ? { sessions: o.stormSessions, perSession: 1 } : shape(key.depth, o.sessions);
      const byServer = new Map(servers.map((s) => [s.info.id, { workload: key.workload, valueSize: key.valueSize, depth: key.depth, sessions, perSession,
        server: s.info.id, samples: [] as Sample[], median: null } as CellResult]));
      for (let rep = 0; rep < o.repeat; rep++) {
        const order = rep % 2 === 0 ? servers : [...servers].reverse();
        for (const server of order) {
          const sample = await runner.cell(server, key, rep);
          byServer.get(server.info.id)!.samples.push(sample);
          done++;
          const elapsed = performance.now() - runStart;
          const left = (elapsed / done) * (total - done);
          const what = `${server.info.id} ${key.workload} ${key.valueSize}B x${key.depth}`;
          const how = sample.error !== undefined ? `ERROR ${sample.error}`
            : `${fmtOps(sample.opsPerSec)} ops/s p50 ${sample.p50.toFixed(2)} p99 ${sample.p99.toFixed(2)} ms, ${fmtOps(sample.opsPerServerCpuSecond)} ops/CPU-s`;
          log(`[${done}/${total} ${fmtDuration(elapsed)} elapsed, ~${fmtDuration(left)} left] ${what}: ${how}`, true);
        }
      }
      for (const c of byServer.values()) {
        c.median = summarize(c.samples);
        cells.push(c);
      }
      // Keep data directories bounded (large values fill txn logs fast).
      for (const s of servers) {
        if (s.dataDir !== '' && diskUsage(s.dataDir).allocated > o.dataDirMaxBytes) {
          log(`${s.info.id}: data directory over ${(o.dataDirMaxBytes / 1024 ** 3).toFixed(1)} GiB, restarting it on a fresh one`);
          await s.restart();
          await runner.warm(s);
        }
      }
    }
  } finally {
    for (const s of servers) await s.stop().catch(() => undefined);
    await pool.stop();
    cleanup();
    process.off('exit', cleanup);
  }
  m.loadAvgEnd = os.loadavg();
  const results: BenchResults = {
    version: 1,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    durationSeconds: (performance.now() - t0) / 1000,
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    options: o,
    machine: m,
    servers: servers.map((s) => s.info),
    cells,
    ratios: ratios(cells),
    notes,
  };
  if (o.baseline !== null) {
    const then = JSON.parse(fs.readFileSync(o.baseline, 'utf8')) as BenchResults;
    results.baseline = { path: o.baseline, startedAt: then.startedAt, rows: compareBaseline(cells, then.cells) };
  }
  fs.mkdirSync(o.out, { recursive: true });
  const json = path.resolve(o.out, 'results.json');
  const html = path.resolve(o.out, 'report.html');
  const markdown = path.resolve(o.out, 'summary.md');
  fs.writeFileSync(json, JSON.stringify(results, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1) + '\n');
  fs.writeFileSync(html, renderHtml(results));
  fs.writeFileSync(markdown, markdownSummary(results));
  return { results, json, html, markdown };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--micro')) {
    const { runMicro } = await import('./micro.js');
    await runMicro({ tiny: argv.includes('--tiny'), log: (l) => process.stdout.write(l + '\n') });
    return;
  }
  let o: BenchOptions;
  try {
    o = parseOptions(argv);
  } catch (e) {
    if (e instanceof UsageError) { process.stderr.write(`bench: ${e.message}\n`); process.exit(2); }
    throw e;
  }
  const tty = process.stderr.isTTY;
  let transientShown = false;
  const log = (line: string, transient = false) => {
    if (tty && transient) {
      process.stderr.write(`\r\x1b[K${line.slice(0, (process.stderr.columns ?? 160) - 1)}`);
      transientShown = true;
      return;
    }
    if (transientShown) { process.stderr.write('\r\x1b[K'); transientShown = false; }
    process.stderr.write(line + '\n');
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => { process.stderr.write(`\nbench: ${sig}, stopping servers\n`); process.exit(130); });
  }
  const out = await runBench(o, log);
  if (transientShown) process.stderr.write('\r\x1b[K');
  process.stdout.write(terminalTable(out.results) + '\n');
  for (const n of out.results.notes) process.stdout.write(`note: ${n}\n`);
  for (const l of baselineLines(out.results)) process.stdout.write(l + '\n');
  process.stdout.write(`took ${fmtDuration(out.results.durationSeconds * 1000)}\n`);
  process.stdout.write(`results: ${out.json}\nreport:  ${out.html}\nsummary: ${out.markdown}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
