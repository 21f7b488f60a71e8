// Test support (not a test file): the SIGKILL-under-load crash scenario,
// shared by test/integration/crash.test.ts (a few trials in `npm test`) and
// scripts/crash-loop.mjs (a hundred or more, on demand).
//
// One trial: start zoonode as a child process on the data directory, check
// the start-up (no errors, a torn tail truncated exactly when an independent
// scan sees one), take a new session and a write, check every node the test
// knows against the server, then load it with WRITERS sessions × DEPTH
// requests in flight (creates and setData of distinct values) and SIGKILL it
// after a random number of acknowledged writes. Every acknowledged write must
// be there after the restart, with at least the acknowledged version and the
// data sent for the version it has; nothing never sent may appear; zxids
// never go backwards. The load, the kill moment and the value sizes come from
// the seed, which every failure message prints.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnZoonode, stopChild, waitForStart, type ZoonodeChild } from './zoonode-process.js';
import { scanTxnLogFile, type LogFileScan } from './txn-log-file.js';
import { ZkClient } from '../../native-free-bench/zk-client.js';
import { OpCode, readStat, readStringList, writeCreate, writePathWatch, writeSetData } from '../../src/jute/index.js';
import { OPEN_ACL } from './compat-wire.js';

const WRITERS = 4;
/** Requests in flight per writer session. */
const DEPTH = 16;
/** The kill comes after this many acknowledged writes (a random number in the range). */
const KILL_AFTER_ACKS_MIN = 30;
const KILL_AFTER_ACKS_MAX = 1500;
/** ...or after this long, whichever is first. */
const LOAD_MS_MAX = 6000;
const VALUE_PAD_MAX = 3000;
const NONODE = -101;

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the test knows about one node. */
export interface NodeModel {
  path: string;
  /** values[v] is the data sent for version v (values[0] with the create). */
  values: string[];
  /** Highest version acknowledged (or seen after a restart); -1 while the create is unacknowledged. */
  acked: number;
}

export function logFiles(dataDir: string): string[] {
  const dir = path.join(dataDir, 'version-2');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((n) => /^log\.[0-9a-f]+$/.test(n)).map((n) => path.join(dir, n));
}

export function zoonodeArgs(workers: number): string[] {
  // Small snapCount and preAllocSize: kills land during snapshots and log extensions too.
  return [`workers=${workers}`, 'snapCount=300', 'preAllocSize=64', 'tickTime=500'];
}

/** Lines at ERROR level, and warnings about damaged or incomplete snapshots. */
export function startupProblems(output: string): string[] {
  return output.split('\n').filter((l) => / ERROR /.test(l) || /damaged|incomplete/.test(l));
}

export async function startOrFail(dataDir: string, workers: number, what: string): Promise<{ z: ZoonodeChild; port: number }> {
  const z = spawnZoonode(dataDir, zoonodeArgs(workers));
  const r = await waitForStart(z).catch(async (e: Error) => {
    await stopChild(z, 'SIGKILL').catch(() => undefined);
    throw e;
  });
  if (r.kind !== 'listening') throw new Error(`${what}: zoonode did not start (exit ${r.code ?? r.signal}):\n${z.output()}`);
  return { z, port: r.port };
}

export interface LoadResult {
  acks: number;
  maxAckedZxid: number;
  anomalies: string[];
  killedBy: 'acks' | 'time';
}

/**
 * WRITERS sessions, each with DEPTH requests in flight: creates of new nodes
 * and setData on nodes the writer owns, with distinct values. SIGKILLs the
 * server after `killAfter` acknowledged writes (or LOAD_MS_MAX).
 */
export async function loadAndKill(
  z: ZoonodeChild, port: number, model: Map<string, NodeModel>, prefix: string, rand: () => number, killAfter: number,
): Promise<LoadResult> {
  const clients = await Promise.all(Array.from({ length: WRITERS }, () => ZkClient.connect('127.0.0.1', port, { timeoutMs: 4000 })));
  const res: LoadResult = { acks: 0, maxAckedZxid: 0, anomalies: [], killedBy: 'acks' };
  // Nodes the test already knows exist are shared out among the writers.
  const owned: NodeModel[][] = clients.map(() => []);
  let i = 0;
  for (const n of model.values()) if (n.acked >= 0) owned[i++ % WRITERS]!.push(n);
  let killed = false;
  const kill = (by: LoadResult['killedBy']): void => {
    if (killed) return;
    killed = true;
    res.killedBy = by;
    z.child.kill('SIGKILL');
  };
  const timer = setTimeout(() => kill('time'), LOAD_MS_MAX);
  let seq = 0;
  const value = (p: string, version: number): string => `${p}#v${version}:${'x'.repeat(Math.floor(rand() * VALUE_PAD_MAX))}`;
  // A lane stops at the first error reply (recorded as an anomaly).
  const lane = async (k: number): Promise<void> => {
    const c = clients[k]!;
    while (!killed && !c.closed) {
      const mine = owned[k]!;
      if (mine.length === 0 || rand() < 0.45) {
        const p = `${prefix}/w${k}-${seq++}`;
        const node: NodeModel = { path: p, values: [value(p, 0)], acked: -1 };
        model.set(p, node);
        const r = await c.request(OpCode.create, (w) => writeCreate(w, { path: p, data: Buffer.from(node.values[0]!), acl: OPEN_ACL, flags: 0, ttl: -1 }, false));
        if (r.hdr.err !== 0) { res.anomalies.push(`create ${p}: error ${r.hdr.err}`); return; }
        node.acked = Math.max(node.acked, 0);
        mine.push(node);
        res.maxAckedZxid = Math.max(res.maxAckedZxid, r.hdr.zxid);
      } else {
        const node = mine[Math.floor(rand() * mine.length)]!;
        const version = node.values.length;
        node.values.push(value(node.path, version));
        const r = await c.request(OpCode.setData, (w) => writeSetData(w, { path: node.path, data: Buffer.from(node.values[version]!), version: -1 }));
        if (r.hdr.err !== 0) { res.anomalies.push(`setData ${node.path} (version ${version}): error ${r.hdr.err}`); return; }
        const stat = readStat(r.body);
        if (stat.version !== version) res.anomalies.push(`setData ${node.path}: acknowledged as version ${stat.version}, expected ${version}`);
        node.acked = Math.max(node.acked, stat.version);
        res.maxAckedZxid = Math.max(res.maxAckedZxid, r.hdr.zxid);
      }
      if (++res.acks >= killAfter) kill('acks');
    }
  };
  try {
    await Promise.all(clients.flatMap((_, k) => Array.from({ length: DEPTH }, () => lane(k).catch(() => undefined))));
  } finally {
    clearTimeout(timer);
    kill('acks');
    for (const c of clients) c.destroy();
  }
  const exit = await stopChild(z, 'SIGKILL');
  assert.equal(exit.signal, 'SIGKILL', `zoonode exited by itself during the load (code ${exit.code}):\n${z.output().slice(-3000)}`);
  return res;
}

/**
 * Every node in the model against the restarted server. Returns the failures;
 * afterwards the model holds what the server has (it is now durable).
 */
export async function verify(port: number, model: Map<string, NodeModel>, prefixes: string[], minZxid: number): Promise<VerifyResult> {
  const failures: string[] = [];
  let acknowledged = 0;
  let lost = 0;
  const c = await ZkClient.connect('127.0.0.1', port, { timeoutMs: 10000 });
  try {
    const nodes = [...model.values()];
    for (let i = 0; i < nodes.length; i += 256) {
      const chunk = nodes.slice(i, i + 256);
      const replies = await Promise.all(chunk.map((n) => c.request(OpCode.getData, (w) => writePathWatch(w, { path: n.path, watch: false }))));
      for (let j = 0; j < chunk.length; j++) {
        const n = chunk[j]!;
        const r = replies[j]!;
        if (r.hdr.zxid < minZxid) failures.push(`the server answers with zxid 0x${r.hdr.zxid.toString(16)}, below the acknowledged 0x${minZxid.toString(16)}`);
        if (n.acked >= 0) acknowledged++;
        if (r.hdr.err === NONODE) {
          if (n.acked >= 0) {
            lost++;
            failures.push(`${n.path}: acknowledged (version ${n.acked}) but missing`);
          }
          else model.delete(n.path); // never acknowledged and not there: it never happened
          continue;
        }
        if (r.hdr.err !== 0) { failures.push(`${n.path}: getData error ${r.hdr.err}`); continue; }
        const data = Buffer.from(r.body.buffer() ?? new Uint8Array(0)).toString('utf8');
        const stat = readStat(r.body);
        if (stat.version < n.acked) {
          lost++;
          failures.push(`${n.path}: version ${stat.version}, but version ${n.acked} was acknowledged`);
        } else if (stat.version >= n.values.length) {
          failures.push(`${n.path}: version ${stat.version}, but only ${n.values.length - 1} setData were ever sent`);
        } else if (data !== n.values[stat.version]) {
          failures.push(`${n.path}: version ${stat.version} holds ${JSON.stringify(data.slice(0, 60))}…, sent ${JSON.stringify(n.values[stat.version]!.slice(0, 60))}…`);
        } else {
          n.values.length = stat.version + 1;
          n.acked = stat.version;
        }
      }
    }
    // Nothing that was never sent.
    for (const prefix of prefixes) {
      const r = await c.request(OpCode.getChildren, (w) => writePathWatch(w, { path: prefix, watch: false }));
      if (r.hdr.err !== 0) { failures.push(`${prefix}: getChildren error ${r.hdr.err}`); continue; }
      for (const name of readStringList(r.body) ?? []) {
        if (!model.has(`${prefix}/${name}`)) failures.push(`${prefix}/${name} exists but was never created by the test`);
      }
    }
  } finally {
    await c.close();
  }
  return {
    failures: failures.length > 20 ? [...failures.slice(0, 20), `… and ${failures.length - 20} more`] : failures,
    acknowledged,
    lost,
  };
}

/** A new session and a create; 'ok' or what went wrong. */
export async function probeWrite(port: number, p: string): Promise<string> {
  let c: ZkClient | null = null;
  try {
    c = await ZkClient.connect('127.0.0.1', port, { timeoutMs: 4000, connectTimeoutMs: 5000 });
    const r = await c.request(OpCode.create, (w) => writeCreate(w, { path: p, data: null, acl: OPEN_ACL, flags: 0, ttl: -1 }, false));
    return r.hdr.err === 0 ? 'ok' : `create ${p}: error ${r.hdr.err}`;
  } catch (e) {
    return `${(e as Error).message}`;
  } finally {
    if (c !== null) await c.close();
  }
}

/** version-2's files, with what the independent scan finds in each log. */
export function describeDir(dataDir: string): string {
  const dir = path.join(dataDir, 'version-2');
  if (!fs.existsSync(dir)) return `${dir}: missing`;
  const lines = fs.readdirSync(dir).sort().map((n) => {
    let size: number;
    try {
      size = fs.statSync(path.join(dir, n)).size;
    } catch {
      return `  ${n} (gone: renamed or removed meanwhile)`;
    }
    if (!/^log\.[0-9a-f]+$/.test(n)) return `  ${n} (${size} bytes)`;
    try {
      const s = scanTxnLogFile(path.join(dir, n));
      const zx = s.entries.length > 0 ? `, zxids 0x${s.entries[0]!.zxid.toString(16)}..0x${s.entries.at(-1)!.zxid.toString(16)}` : '';
      return `  ${n} (${size} bytes): ${s.entries.length} entries${zx}, valid to ${s.validEnd} (${s.stop})${s.tailHasData ? ', data after that' : ''}`;
    } catch (e) {
      return `  ${n} (${size} bytes): ${(e as Error).message}`;
    }
  });
  return `${dir}:\n${lines.join('\n')}`;
}

/** Torn-tail lines zoonode logged, by file. */
export function tornTailLines(output: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of output.split('\n')) {
    const m = /(\S+\/log\.[0-9a-f]+): torn tail/.exec(line);
    if (m) out.set(m[1]!, line);
  }
  return out;
}

export interface VerifyResult {
  failures: string[];
  /** Nodes whose create (and maybe setData) had been acknowledged, checked. */
  acknowledged: number;
  /** Of those, missing or at an older version than acknowledged. */
  lost: number;
}

export interface CrashTrialsOptions {
  /** Worker threads for every start, or per start (trial 0 is the first start). */
  workers: number | ((trial: number) => number);
  /** SIGKILLs (each followed by a restart and a check). */
  trials: number;
  seed: number;
  /** How to replay, for messages (e.g. "ZOONODE_CRASH_SEED=123"). */
  replay: string;
  dataDir: string;
  /** Called after each restart's check. */
  onTrial?: (trial: number, stats: CrashTrialsStats) => void;
}

export interface CrashTrialsStats {
  kills: number;
  restarts: number;
  /** Writes acknowledged during the loads. */
  acks: number;
  /** Acknowledged nodes checked after restarts (a node counts once per check). */
  acknowledgedChecked: number;
  /** Acknowledged writes found missing or older after a restart. */
  lost: number;
  tornTails: number;
  history: string[];
}

/**
 * Runs `trials` SIGKILL-and-restart rounds on one data directory, then a
 * clean stop. Throws (an AssertionError naming the seed and the history) at
 * the first problem; `stats` shows how far it got either way.
 */
export async function runCrashTrials(opts: CrashTrialsOptions, stats: CrashTrialsStats): Promise<void> {
  const { trials, seed, dataDir } = opts;
  const workersAt = (trial: number): number => (typeof opts.workers === 'number' ? opts.workers : opts.workers(trial));
  let workers = workersAt(0);
  const rand = mulberry32(seed);
  const model = new Map<string, NodeModel>();
  const prefixes: string[] = [];
  let maxAckedZxid = 0;
  const history = stats.history;
  const ctx = (): string => `seed ${seed} (${opts.replay}), workers=${workers}; history: ${history.slice(-12).join('; ')}`;
  let running: ZoonodeChild | null = null;
  let stage = 'start';
  try {
    for (let trial = 0; trial <= trials; trial++) {
      stage = `restart ${trial}`;
      workers = workersAt(trial);
      // What the files look like before the server sees them: a torn tail?
      const scans: LogFileScan[] = logFiles(dataDir).map((f) => scanTxnLogFile(f));
      const torn = scans.filter((s) => s.tailHasData);
      const { z, port } = await startOrFail(dataDir, workers, `restart ${trial} (${ctx()})`);
      running = z;
      stats.restarts++;
      const out = z.output();
      const problems = startupProblems(out);
      assert.deepEqual(problems, [], `restart ${trial}: start-up problems (${ctx()}):\n${out.slice(-4000)}`);
      const logged = tornTailLines(out);
      for (const s of torn) {
        assert.ok(logged.has(s.file), `restart ${trial}: ${s.file} ends in a torn entry at offset ${s.validEnd} (${s.stop}), ` +
          `but zoonode did not log a torn tail for it (${ctx()}):\n${out.slice(-4000)}`);
      }
      for (const [file, line] of logged) {
        assert.ok(torn.some((s) => s.file === file), `restart ${trial}: zoonode truncated ${file}, which ended in valid entries only ` +
          `(independent scan: ${JSON.stringify(scans.find((s) => s.file === file)?.stop)}) (${ctx()}):\n${line}`);
      }
      stats.tornTails += logged.size;
      if (logged.size > 0) history.push(`restart ${trial} truncated a torn tail`);
      if (/removing unfinished snapshot/.test(out)) history.push(`restart ${trial} removed an unfinished snapshot`);
      if (/holds no txn/.test(out)) history.push(`restart ${trial} removed a log holding no txn`);
      stage = `first write after restart ${trial}`;
      const probe = await probeWrite(port, `/alive-${trial}`);
      assert.equal(probe, 'ok', `restart ${trial}: the recovered server must take a new session and a write (${ctx()})\n` +
        `${describeDir(dataDir)}\nserver output:\n${z.output().slice(-2500)}`);
      if (trial > 0) {
        stage = `verify after restart ${trial}`;
        const v = await verify(port, model, prefixes, maxAckedZxid);
        stats.acknowledgedChecked += v.acknowledged;
        stats.lost += v.lost;
        assert.deepEqual(v.failures, [], `after SIGKILL ${trial} (${ctx()}):\n${out.slice(-3000)}`);
      }
      opts.onTrial?.(trial, stats);
      if (trial === trials) {
        const exit = await stopChild(z, 'SIGTERM');
        running = null;
        assert.equal(exit.code, 0, `clean stop after the last restart (${ctx()}):\n${z.output().slice(-3000)}`);
        break;
      }
      stage = `load ${trial}`;
      const prefix = `/t${trial}`;
      const setup = await ZkClient.connect('127.0.0.1', port, { timeoutMs: 4000 });
      await setup.create(prefix, null);
      maxAckedZxid = Math.max(maxAckedZxid, setup.lastZxid);
      setup.destroy();
      prefixes.push(prefix);
      const killAfter = KILL_AFTER_ACKS_MIN + Math.floor(rand() * (KILL_AFTER_ACKS_MAX - KILL_AFTER_ACKS_MIN));
      const r = await loadAndKill(z, port, model, prefix, rand, killAfter);
      running = null;
      stats.kills++;
      stats.acks += r.acks;
      history.push(`trial ${trial}: killed after ${r.acks} acks (${r.killedBy}), zxid 0x${r.maxAckedZxid.toString(16)}`);
      assert.deepEqual(r.anomalies, [], `trial ${trial}: replies during the load (${ctx()})`);
      maxAckedZxid = Math.max(maxAckedZxid, r.maxAckedZxid);
    }
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    throw new Error(`${stage}: ${(e as Error).message} (${ctx()})\n${describeDir(dataDir)}\n` +
      `server output:\n${running?.output().slice(-4000) ?? '(none running)'}`, { cause: e });
  } finally {
    if (running !== null) await stopChild(running, 'SIGKILL').catch(() => undefined);
  }
}

export function newCrashTrialsStats(): CrashTrialsStats {
  return { kills: 0, restarts: 0, acks: 0, acknowledgedChecked: 0, lost: 0, tornTails: 0, history: [] };
}
