// Test support (not a test file): one whole fuzz run against a zoonode child
// process, shared by test/robustness/fuzz.test.ts (a few thousand frames)
// and scripts/fuzz-long.mjs (a million and more). The run:
//
//   start the server; a super session makes /fz and /fzbig; the canary
//   session takes its ephemeral and its watch;
//   warm-up round (every generator, the big ones included), then clean up
//   and let the fuzz sessions expire: the BASELINE (mntr counters, memory
//   after forced GC);
//   rounds of cheap cases plus one of each big case, the canary checked
//   after every round, until the round count or the frame target is met;
//   clean up and let the fuzz sessions expire again: the FINAL sample, which
//   must match the baseline's counters and stay within a bound of its memory;
//   the canary's watch must still fire and its ephemeral still be there;
//   optionally restart the server on its data directory and read back.
//
// Nothing here asserts: the report says what happened and the caller judges.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ZkClient } from '../../native-free-bench/zk-client.js';
import { waitForStart, stopChild } from './zoonode-process.js';
import { spawnFuzzServer, type FuzzServer, type MemorySample } from './fuzz-server.js';
import { FuzzGen, Prng, defaultSizes, type FuzzCase } from './fuzz-frames.js';
import {
  Canary, adminSession, cleanupTree, fuzzServerArgs, fuzzSessionTimeoutMs, mntr, newStats, rssOf, runCases, setupFuzzTree,
  type FuzzStats,
} from './fuzz-driver.js';

export interface FuzzRunOptions {
  workers: number;
  seed: number;
  /** Parallel fuzz connections. */
  lanes: number;
  /** Cheap cases per round (each round also runs one case of each big generator). */
  roundCases: number;
  /** Stop after this many rounds... */
  rounds: number;
  /** ...or once this many frames were sent, whichever comes first. */
  framesTarget: number;
  /** Restart the server at the end and read the canary's nodes back. */
  restart: boolean;
  /** Take a memory sample every this many rounds (0: only the baseline and the final one). */
  sampleEvery: number;
  /** Progress lines (rounds, samples). */
  progress?: (line: string) => void;
}

/** The mntr counters that must come back to the baseline once the fuzz sessions are gone. */
export const settledKeys = ['zk_znode_count', 'zk_ephemerals_count', 'zk_watch_count', 'zk_global_sessions', 'zk_num_alive_connections'] as const;

export interface Sample {
  counters: Record<string, number>;
  memory: MemorySample;
}

export interface FuzzReport {
  seed: number;
  workers: number;
  stats: FuzzStats;
  rounds: number;
  /** Wall time of the rounds (warm-up and settling excluded). */
  fuzzMs: number;
  canaryChecks: number;
  canaryFailures: string[];
  baseline: Sample | null;
  final: Sample | null;
  /** Server memory every sampleEvery rounds (live figures after full collections; see fuzz-server-main.ts). */
  memoryByRound: MemorySample[];
  /** Whether the fuzz sessions expired within the wait (baseline, final). */
  settled: boolean[];
  watchAfter: string | null;
  /** The server was up (pid alive) after every round. */
  serverUp: boolean;
  stopExit: { code: number | null; signal: NodeJS.Signals | null } | null;
  restart: { problems: string[]; checks: string[] } | null;
  logProblems: string[];
  logLevels: Record<string, number>;
  /** Set when the run could not go on (the server died, a setup step failed). */
  aborted: string | null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function counters(port: number): Promise<Record<string, number>> {
  const m = await mntr('127.0.0.1', port);
  const out: Record<string, number> = {};
  for (const k of settledKeys) out[k] = Number(m.get(k));
  return out;
}

/**
 * The counters, read again for up to 3 s until they equal `want`: each mntr
 * comes on a connection of its own, and the server may count the previous
 * one until it has seen that close too. A real difference stays and is
 * returned as it is.
 */
async function countersLike(port: number, want: Record<string, number>): Promise<Record<string, number>> {
  return countersUntil(port, (c) => settledKeys.every((k) => c[k] === want[k]));
}

/** The counters, read again for up to 3 s until `ok` holds (the last reading otherwise). */
async function countersUntil(port: number, ok: (c: Record<string, number>) => boolean): Promise<Record<string, number>> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const c = await counters(port);
    if (ok(c) || Date.now() > deadline) return c;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Clean up what the fuzz left (nodes, through the admin session) and wait
 * until the fuzz sessions have expired: global sessions back to 2 (canary,
 * admin), and the fuzz connections are gone: 3 alive (canary, admin and the
 * mntr connection asking; under load the server may see the last closes a
 * moment after the client made them). Returns whether they did within the wait.
 */
async function settle(port: number, admin: ZkClient): Promise<boolean> {
  await cleanupTree(admin);
  const deadline = Date.now() + fuzzSessionTimeoutMs + 8000;
  for (;;) {
    const c = await counters(port);
    if (c.zk_global_sessions === 2 && c.zk_ephemerals_count === 1 && c.zk_num_alive_connections === 3) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function runFuzz(o: FuzzRunOptions): Promise<FuzzReport> {
  const say = o.progress ?? (() => {});
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zoonode-fuzz-'));
  const report: FuzzReport = {
    seed: o.seed, workers: o.workers, stats: newStats(), rounds: 0, fuzzMs: 0, canaryChecks: 0, canaryFailures: [],
    baseline: null, final: null, memoryByRound: [], settled: [], watchAfter: null, serverUp: true, stopExit: null,
    restart: null, logProblems: [], logLevels: {}, aborted: null,
  };
  const server = spawnFuzzServer(dataDir, fuzzServerArgs(o.workers));
  let admin: ZkClient | null = null;
  let canary: Canary | null = null;
  try {
    const st = await waitForStart(server);
    if (st.kind !== 'listening') throw new Error(`the server did not start: ${JSON.stringify(st)}\n${server.output()}`);
    const port = st.port;
    const host = '127.0.0.1';
    admin = await adminSession(host, port);
    canary = await Canary.start(host, port);
    const rng = new Prng(o.seed);
    const gen = new FuzzGen(rng.fork(), { ...defaultSizes });
    const driver = { host, port, lanes: o.lanes, caseMs: 10000, failuresMax: 100 };
    const stats = report.stats;
    const round = async (big: FuzzCase[]): Promise<void> => {
      await setupFuzzTree(admin!);
      const cases: FuzzCase[] = [];
      for (let i = 0; i < o.roundCases; i++) cases.push(gen.next());
      const cheap = cases.length;
      cases.push(...big);
      await runCases(driver, stats, rng.fork(), cases, (i) => i >= cheap);
      if (!alive(server.pid)) {
        report.serverUp = false;
        throw new Error('the server process is gone');
      }
      report.canaryChecks++;
      const c = await canary!.check();
      if (c !== null) report.canaryFailures.push(c);
    };

    say(`workers=${o.workers} seed=${o.seed}: warm-up round`);
    await round(gen.allBig());
    report.settled.push(await settle(port, admin));
    // settle() saw 3 connections, but its own mntr connection may still be
    // counted by the time the next one asks (seed 1969874895: a baseline of
    // 4 that no final sample could match).
    report.baseline = { counters: await countersUntil(port, (c) => c.zk_num_alive_connections === 3), memory: await server.memory() };
    say(`baseline: ${JSON.stringify(report.baseline)}`);

    const t0 = Date.now();
    const framesAtStart = stats.frames;
    while (report.rounds < o.rounds && stats.frames - framesAtStart < o.framesTarget) {
      await round([0, 1, 2, 3].map((i) => gen.big(i)));
      report.rounds++;
      if (o.sampleEvery > 0 && report.rounds % o.sampleEvery === 0) report.memoryByRound.push(await server.memory());
      if (report.rounds % 10 === 0 || report.rounds === o.rounds) {
        const rss = rssOf(server.pid);
        const secs = (Date.now() - t0) / 1000;
        say(`round ${report.rounds}: ${stats.frames - framesAtStart} frames in ${secs.toFixed(1)} s ` +
          `(${Math.round((stats.frames - framesAtStart) / secs)} frames/s), ${stats.connectionsOpened} connections, ` +
          `rss ${(rss / 1048576).toFixed(1)} MiB, ${stats.failures.length} case failures, ${report.canaryFailures.length} canary failures`);
      }
    }
    report.fuzzMs = Date.now() - t0;
    stats.framesInRounds = stats.frames - framesAtStart;

    report.settled.push(await settle(port, admin));
    report.final = { counters: await countersLike(port, report.baseline.counters), memory: await server.memory() };
    say(`final: ${JSON.stringify(report.final)}`);
    report.watchAfter = await canary.watchStillFires();
    await canary.close();
    canary = null;
    await admin.close();
    admin = null;
  } catch (e) {
    report.aborted = (e as Error).stack ?? String(e);
    if (!alive(server.pid)) report.serverUp = false;
  } finally {
    canary?.client.destroy();
    admin?.destroy();
    if (alive(server.pid)) report.stopExit = await stopChild(server, 'SIGTERM', 20000).catch((e: Error) => {
      report.aborted ??= e.message;
      return null;
    });
    report.logProblems = server.problems();
    report.logLevels = server.levels();
  }

  if (o.restart && report.aborted === null) report.restart = await restartCheck(dataDir);
  fs.rmSync(dataDir, { recursive: true, force: true });
  return report;
}

/**
 * Restart on the fuzzed data directory (snapshots and logs holding 1 MiB
 * paths, multis of tens of thousands of ops, error txns): it must start
 * cleanly and hold what the canary left (its watched node with the data
 * written last; its ephemeral gone with its closed session; none of the
 * fuzz's nodes, which the cleanup deleted).
 */
async function restartCheck(dataDir: string): Promise<{ problems: string[]; checks: string[] }> {
  const server: FuzzServer = spawnFuzzServer(dataDir, fuzzServerArgs(0));
  const checks: string[] = [];
  try {
    const st = await waitForStart(server);
    if (st.kind !== 'listening') return { problems: server.problems(), checks: [`did not restart: ${server.output()}`] };
    const c = await ZkClient.connect('127.0.0.1', st.port, { ping: false });
    try {
      const w = await c.getData('/canary/watched');
      if (w.data?.toString() !== 'w1') checks.push(`/canary/watched holds ${JSON.stringify(w.data?.toString())}, expected "w1"`);
      if ((await c.exists('/canary/eph')) !== null) checks.push('/canary/eph survived its closed session');
      const top = (await c.getChildren('/')).sort();
      if (JSON.stringify(top) !== '["canary","zookeeper"]') checks.push(`top-level nodes after the restart: ${JSON.stringify(top)}, expected canary and zookeeper`);
    } finally {
      await c.close();
    }
  } catch (e) {
    checks.push(`restart check: ${(e as Error).message}`);
  } finally {
    const exit = await stopChild(server, 'SIGTERM', 20000).catch((e: Error) => { checks.push(e.message); return null; });
    if (exit !== null && exit.code !== 0) checks.push(`the restarted server exited with ${JSON.stringify(exit)}`);
  }
  return { problems: server.problems(), checks };
}

const MiB = 1024 * 1024;

/**
 * How far live memory (heap snapshot bytes, ArrayBuffers included; see
 * fuzz-server-main.ts) may end above the baseline, per thread. Both samples
 * are taken in the same quiet state (fuzz nodes deleted, fuzz sessions
 * expired), after a warm-up round that ran every big generator once, so
 * buffers that keep their high-water size (the sequencer's reply writer,
 * grown by the largest reply: about 4.5 MiB for a huge multiRead; txn log
 * and snapshot buffers) are in both. Measured between such samples: within
 * -3..+4 MiB per thread over 10 rounds (30,000 frames, 3,000 connections).
 * 16 MiB is four times that; a leak of what the fuzz test sends (about 40
 * MiB of frames, 1 MiB frames among them) passes it, and so would a leak of
 * a few KiB per connection (1,000 to 3,000 of them) or per session.
 * RSS is bounded only loosely (it is reported): glibc keeps freed memory in
 * its arenas, V8 keeps heap pages, and dead ArrayBuffers V8 has not yet
 * reclaimed count in it, so it wanders by tens of MiB with no change in the
 * live figures (and rises for a long time in a long run; see README).
 */
export const memoryBounds = { live: 16 * MiB, rss: 256 * MiB };

export function mib(n: number): string {
  return `${(n / MiB).toFixed(1)} MiB`;
}

export function describeMemory(m: MemorySample): string {
  const threads = m.threads.map((t) => `${t.thread} ${mib(t.liveBytes)}`).join(', ');
  return `rss ${mib(m.rss)}; live: main ${mib(m.mainLiveBytes)}${threads ? `, ${threads}` : ''}; ` +
    `main after gc(): heapUsed ${mib(m.heapUsed)}, arrayBuffers ${mib(m.arrayBuffers)}`;
}

/** Everything wrong with a run, as sentences (empty: the run passed). rssMax overrides memoryBounds.rss. */
export function verdict(r: FuzzReport, rssMax = memoryBounds.rss): string[] {
  const out: string[] = [];
  if (r.aborted !== null) out.push(`the run stopped early: ${r.aborted}`);
  if (!r.serverUp) out.push('the server process died');
  for (const f of r.stats.failures) out.push(`case: ${f}`);
  for (const f of r.canaryFailures) out.push(`canary: ${f}`);
  if (r.aborted === null && r.watchAfter !== null) out.push(`the canary's watch or ephemeral did not survive: ${r.watchAfter}`);
  r.settled.forEach((ok, i) => { if (!ok) out.push(`the fuzz sessions did not expire, or their connections did not close, in time (${i === 0 ? 'baseline' : 'final'})`); });
  const base = r.baseline;
  const fin = r.final;
  if (base !== null && fin !== null) {
    for (const k of settledKeys) {
      if (fin.counters[k] !== base.counters[k]) out.push(`${k} is ${fin.counters[k]}, ${base.counters[k]} at the baseline`);
    }
    if (fin.counters.zk_ephemerals_count !== 1) out.push(`${fin.counters.zk_ephemerals_count} ephemerals left, the canary's only expected`);
    if (fin.counters.zk_watch_count !== 1) out.push(`${fin.counters.zk_watch_count} watches left, the canary's only expected`);
    const b = base.memory;
    const f = fin.memory;
    if (f.mainLiveBytes > b.mainLiveBytes + memoryBounds.live) {
      out.push(`main thread: ${mib(f.mainLiveBytes)} live, ${mib(b.mainLiveBytes)} at the baseline`);
    }
    if (f.threads.length !== (r.workers === 0 ? 0 : r.workers + 1)) out.push(`memory of ${f.threads.length} server threads sampled`);
    f.threads.forEach((th, i) => {
      const bt = b.threads[i];
      if (bt === undefined || bt.thread !== th.thread) out.push(`thread ${th.thread} has no baseline sample`);
      else if (th.liveBytes > bt.liveBytes + memoryBounds.live) out.push(`${th.thread}: ${mib(th.liveBytes)} live, ${mib(bt.liveBytes)} at the baseline`);
    });
    if (f.rss > b.rss + rssMax) out.push(`rss ${mib(f.rss)}, ${mib(b.rss)} at the baseline (bound: +${mib(rssMax)})`);
  } else if (r.aborted === null) {
    out.push('no baseline or final sample');
  }
  for (const l of r.logProblems) out.push(`server log: ${l}`);
  if (r.stopExit === null || r.stopExit.code !== 0) out.push(`the server did not stop cleanly: ${JSON.stringify(r.stopExit)}`);
  if (r.restart !== null) {
    for (const c of r.restart.checks) out.push(`after the restart: ${c}`);
    for (const l of r.restart.problems) out.push(`restarted server's log: ${l}`);
  }
  return out;
}

/** One paragraph on what a run did. */
export function summary(r: FuzzReport): string {
  const s = r.stats;
  const gens = [...s.byGen].sort((a, b) => b[1] - a[1]).map(([g, n]) => `${g} ${n}`).join(', ');
  const errs = [...s.errs].sort((a, b) => b[1] - a[1]).map(([e, n]) => `${e}:${n}`).join(' ');
  const secs = r.fuzzMs / 1000;
  return `workers=${r.workers} seed=${r.seed}: ${s.cases} cases, ${s.frames} frames (${mib(s.bytesSent)}) in ${r.rounds} rounds ` +
    `after the warm-up; ${secs.toFixed(1)} s of rounds, ${Math.round(s.framesInRounds / Math.max(secs, 0.001))} frames/s; ` +
    `${s.connectionsOpened} connections opened, ${s.closedByServer} closed by the server; ${s.replies} replies [${errs}]; ` +
    `${s.notifications} watch events; ${r.canaryChecks} canary checks, ${r.canaryFailures.length} failed; ` +
    `cases by generator: ${gens}; server log lines ${JSON.stringify(r.logLevels)}`;
}
