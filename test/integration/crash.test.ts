// Crash safety of zoonode's txn log and snapshots, with zoonode as a child
// process that is SIGKILLed mid-load:
//
//   - every write the server acknowledged (reply with err 0) is there after
//     the restart, with at least the acknowledged version, and the data of
//     whatever version the node has is the data that was sent for it;
//   - nothing that was never sent appears; zxids never go backwards;
//   - the restart is clean: no damaged-snapshot warnings, no errors; a torn
//     tail is truncated with a log line naming the file (and only then);
//   - a log damaged in the middle (valid entries after the damage) stops
//     start-up with a message naming the file and the offset, and the file
//     is left as it was;
//   - a log whose last entry is cut short starts fine, says "torn tail", and
//     loses only that entry;
//   - a crash between creating the next log file and its first durable txn
//     leaves a log holding no txn under the name the next txn will want: the
//     restarted server must still take writes.
//
// The writer load, the kill moment and the value sizes come from a seed,
// printed in every failure message (ZOONODE_CRASH_SEED=<n> replays a run).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startZoonode, tempDir } from '../support/zoonode.js';
import { spawnZoonode, stopChild, waitForStart, type ZoonodeChild } from '../support/zoonode-process.js';
import { scanTxnLogFile, type LogFileScan } from '../support/txn-log-file.js';
import { ZkClient } from '../../native-free-bench/zk-client.js';
import { OpCode, readStat, readStringList, writeCreate, writePathWatch, writeSetData } from '../../src/jute/index.js';
import { OPEN_ACL } from '../support/compat-wire.js';

const TRIALS = 5;
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

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const baseSeed = process.env.ZOONODE_CRASH_SEED !== undefined ? Number(process.env.ZOONODE_CRASH_SEED) : Date.now() % 1_000_000_007;

/** What the test knows about one node. */
interface NodeModel {
  path: string;
  /** values[v] is the data sent for version v (values[0] with the create). */
  values: string[];
  /** Highest version acknowledged (or seen after a restart); -1 while the create is unacknowledged. */
  acked: number;
}

function logFiles(dataDir: string): string[] {
  const dir = path.join(dataDir, 'version-2');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((n) => /^log\.[0-9a-f]+$/.test(n)).map((n) => path.join(dir, n));
}

function zoonodeArgs(workers: number): string[] {
  // Small snapCount and preAllocSize: kills land during snapshots and log extensions too.
  return [`workers=${workers}`, 'snapCount=300', 'preAllocSize=64', 'tickTime=500'];
}

/** Lines at ERROR level, and warnings about damaged or incomplete snapshots. */
function startupProblems(output: string): string[] {
  return output.split('\n').filter((l) => / ERROR /.test(l) || /damaged|incomplete/.test(l));
}

async function startOrFail(dataDir: string, workers: number, what: string): Promise<{ z: ZoonodeChild; port: number }> {
  const z = spawnZoonode(dataDir, zoonodeArgs(workers));
  const r = await waitForStart(z).catch(async (e: Error) => {
    await stopChild(z, 'SIGKILL').catch(() => undefined);
    throw e;
  });
  if (r.kind !== 'listening') throw new Error(`${what}: zoonode did not start (exit ${r.code ?? r.signal}):\n${z.output()}`);
  return { z, port: r.port };
}

interface LoadResult {
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
async function loadAndKill(
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
async function verify(port: number, model: Map<string, NodeModel>, prefixes: string[], minZxid: number): Promise<string[]> {
  const failures: string[] = [];
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
        if (r.hdr.err === NONODE) {
          if (n.acked >= 0) failures.push(`${n.path}: acknowledged (version ${n.acked}) but missing`);
          else model.delete(n.path); // never acknowledged and not there: it never happened
          continue;
        }
        if (r.hdr.err !== 0) { failures.push(`${n.path}: getData error ${r.hdr.err}`); continue; }
        const data = Buffer.from(r.body.buffer() ?? new Uint8Array(0)).toString('utf8');
        const stat = readStat(r.body);
        if (stat.version < n.acked) {
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
  return failures.length > 20 ? [...failures.slice(0, 20), `… and ${failures.length - 20} more`] : failures;
}

/** A new session and a create; 'ok' or what went wrong. */
async function probeWrite(port: number, p: string): Promise<string> {
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
function describeDir(dataDir: string): string {
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
function tornTailLines(output: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of output.split('\n')) {
    const m = /(\S+\/log\.[0-9a-f]+): torn tail/.exec(line);
    if (m) out.set(m[1]!, line);
  }
  return out;
}

for (const workers of [0, 2]) {
  test(`acknowledged writes survive SIGKILL at random moments, ${TRIALS} times (workers=${workers})`, async (t) => {
    const seed = baseSeed + workers;
    const rand = mulberry32(seed);
    const dataDir = tempDir('crash');
    const model = new Map<string, NodeModel>();
    const prefixes: string[] = [];
    let maxAckedZxid = 0;
    const history: string[] = [];
    const ctx = (): string => `seed ${seed} (ZOONODE_CRASH_SEED=${baseSeed}), workers=${workers}; history: ${history.join('; ')}`;
    let running: ZoonodeChild | null = null;
    let stage = 'start';
    try {
      for (let trial = 0; trial <= TRIALS; trial++) {
        stage = `restart ${trial}`;
        // What the files look like before the server sees them: a torn tail?
        const scans: LogFileScan[] = logFiles(dataDir).map((f) => scanTxnLogFile(f));
        const torn = scans.filter((s) => s.tailHasData);
        const { z, port } = await startOrFail(dataDir, workers, `restart ${trial} (${ctx()})`);
        running = z;
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
        if (logged.size > 0) history.push(`restart ${trial} truncated a torn tail`);
        if (/removing unfinished snapshot/.test(out)) history.push(`restart ${trial} removed an unfinished snapshot`);
        if (/holds no txn/.test(out)) history.push(`restart ${trial} removed a log holding no txn`);
        stage = `first write after restart ${trial}`;
        const probe = await probeWrite(port, `/alive-${trial}`);
        assert.equal(probe, 'ok', `restart ${trial}: the recovered server must take a new session and a write (${ctx()})\n` +
          `${describeDir(dataDir)}\nserver output:\n${z.output().slice(-2500)}`);
        if (trial > 0) {
          stage = `verify after restart ${trial}`;
          const failures = await verify(port, model, prefixes, maxAckedZxid);
          assert.deepEqual(failures, [], `after SIGKILL ${trial} (${ctx()}):\n${out.slice(-3000)}`);
        }
        if (trial === TRIALS) {
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
        history.push(`trial ${trial}: killed after ${r.acks} acks (${r.killedBy}), zxid 0x${r.maxAckedZxid.toString(16)}`);
        assert.deepEqual(r.anomalies, [], `trial ${trial}: replies during the load (${ctx()})`);
        maxAckedZxid = Math.max(maxAckedZxid, r.maxAckedZxid);
      }
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      throw new Error(`${stage}: ${(e as Error).message} (${ctx()})\n${describeDir(dataDir)}\n` +
        `server output:\n${running?.output().slice(-4000) ?? '(none running)'}`, { cause: e });
    } finally {
      t.diagnostic(`${ctx()}; ${model.size} nodes checked`);
      if (running !== null) await stopChild(running, 'SIGKILL').catch(() => undefined);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
}

/** A data directory with one session's creates of /d and /d/n0../d/n{count-1} in one log; the last txn is the last create. */
async function makeDataDir(count: number): Promise<{ dataDir: string; log: string; scan: LogFileScan }> {
  const dataDir = tempDir('crash');
  try {
    const z = await startZoonode({ workers: 0, dataDir, 'admin.enableServer': false });
    try {
      const c = await ZkClient.connect(z.host, z.port, { timeoutMs: 30000 });
      await c.create('/d', null);
      for (let i = 0; i < count; i++) await c.create(`/d/n${i}`, Buffer.from(`value ${i} `.repeat(10)));
      c.destroy(); // no closeSession: the last txn stays the last create
    } finally {
      await z.stop();
    }
    const logs = logFiles(dataDir);
    assert.equal(logs.length, 1, `one log file: ${logs.join(' ')}`);
    const scan = scanTxnLogFile(logs[0]!);
    assert.equal(scan.entries.length, count + 2, 'createSession, /d and the creates');
    assert.equal(scan.tailHasData, false);
    return { dataDir, log: logs[0]!, scan };
  } catch (e) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
}

for (const [workers, where] of [[0, 'body'], [2, 'checksum']] as const) {
  test(`a log damaged in the middle (its ${where}) stops start-up naming the file and offset (workers=${workers})`, async () => {
    const { dataDir, log, scan } = await makeDataDir(40);
    try {
      const target = scan.entries[Math.floor(scan.entries.length / 2)]!;
      const at = where === 'body' ? target.offset + 12 + Math.floor(target.bodyLength / 2) : target.offset + 4;
      const fd = fs.openSync(log, 'r+');
      const bytes = Buffer.alloc(4);
      fs.readSync(fd, bytes, 0, 4, at);
      for (let i = 0; i < 4; i++) bytes[i] = bytes[i]! ^ 0xa5;
      fs.writeSync(fd, bytes, 0, 4, at);
      fs.closeSync(fd);
      const buf = fs.readFileSync(log);
      const damaged = scanTxnLogFile(log);
      assert.equal(damaged.validEnd, target.offset, 'the damage breaks exactly the target entry');

      const z = spawnZoonode(dataDir, [`workers=${workers}`]);
      const r = await waitForStart(z).finally(() => stopChild(z, 'SIGKILL').catch(() => undefined));
      const out = z.output();
      assert.equal(r.kind, 'exited', `zoonode must refuse to start on a log damaged in the middle:\n${out}`);
      assert.notEqual(r.kind === 'exited' ? r.code : 0, 0, `exit code:\n${out}`);
      assert.ok(out.includes(log), `the message names the file ${log}:\n${out}`);
      const offsets = [...out.matchAll(/offset (\d+)/g)].map((m) => Number(m[1]));
      assert.ok(offsets.some((o) => o >= target.offset && o < target.end),
        `the message names the offset of the damaged entry (${target.offset}..${target.end - 1}); offsets mentioned: ${offsets.join(', ')}:\n${out}`);
      assert.doesNotMatch(out, /torn tail/, 'damage with valid entries after it is not a torn tail');
      assert.ok(fs.readFileSync(log).equals(buf), 'the damaged log is left exactly as it was');
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
}

for (const [workers, how] of [[0, 'cut'], [2, 'zeroed']] as const) {
  test(`a log whose last entry is ${how === 'cut' ? 'cut short' : 'half zeros'} starts, logs a torn tail and loses only that entry (workers=${workers})`, async () => {
    const count = 40;
    const { dataDir, log, scan } = await makeDataDir(count);
    let running: ZoonodeChild | null = null;
    try {
      const last = scan.entries[scan.entries.length - 1]!;
      assert.equal(last.type, OpCode.create);
      const mid = last.offset + 12 + Math.floor(last.bodyLength / 2);
      if (how === 'cut') {
        fs.truncateSync(log, mid);
      } else {
        const fd = fs.openSync(log, 'r+');
        fs.writeSync(fd, Buffer.alloc(last.end - mid), 0, last.end - mid, mid);
        fs.closeSync(fd);
      }
      const { z, port } = await startOrFail(dataDir, workers, 'start on a torn tail');
      running = z;
      const out = z.output();
      const torn = tornTailLines(out);
      assert.ok(torn.has(log), `a torn-tail line naming ${log}:\n${out}`);
      assert.match(torn.get(log)!, new RegExp(`offset ${last.offset}\\b`), 'the torn tail starts at the cut entry');
      assert.deepEqual(startupProblems(out), [], `no errors at start-up:\n${out}`);
      const c = await ZkClient.connect('127.0.0.1', port, { timeoutMs: 10000 });
      assert.equal(await c.exists(`/d/n${count - 1}`), null, 'the torn create is gone');
      assert.notEqual(await c.exists(`/d/n${count - 2}`), null, 'the create before it is kept');
      assert.equal((await c.getChildren('/d')).length, count - 1);
      await c.create('/after', Buffer.from('written after recovery'));
      await c.close();
      const exit = await stopChild(z, 'SIGTERM');
      running = null;
      assert.equal(exit.code, 0, `clean stop:\n${z.output()}`);

      // A second start: the log was truncated, so no torn tail this time, and nothing lost.
      const again = await startOrFail(dataDir, workers, 'second start');
      running = again.z;
      assert.doesNotMatch(again.z.output(), /torn tail/, 'the torn tail was dealt with the first time');
      const c2 = await ZkClient.connect('127.0.0.1', again.port, { timeoutMs: 10000 });
      assert.equal((await c2.getData('/after')).data!.toString(), 'written after recovery');
      assert.equal((await c2.getChildren('/d')).length, count - 1);
      assert.equal(await c2.exists(`/d/n${count - 1}`), null);
      await c2.close();
      await stopChild(again.z, 'SIGTERM');
      running = null;
    } finally {
      if (running !== null) await stopChild(running, 'SIGKILL').catch(() => undefined);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
}

// A crash after the server created its next log file (named after the next
// zxid) but before a txn in it was durable leaves a file that holds no txn.
// After the restart the next txn has that same zxid, so the server must
// reuse (or replace) that file — Apache's FileTxnLog opens it with a
// truncating FileOutputStream — and go on taking writes. (Apache 3.8.0 does
// so for the last three; on the empty file it refuses to start at all.
// zoonode's recovery accepts an empty file, so it must then take writes too.)
const leftovers = [
  { workers: 2, what: 'nothing (0 bytes)', bytes: () => Buffer.alloc(0) },
  { workers: 0, what: 'only a file header', bytes: () => logHeader() },
  { workers: 2, what: 'a file header and preallocated zeros', bytes: () => Buffer.concat([logHeader(), Buffer.alloc(64 * 1024 - 16)]) },
  { workers: 0, what: 'a file header and a torn first entry', bytes: () => Buffer.concat([logHeader(), Buffer.from('00000000075bcd150000006400000001', 'hex'), Buffer.alloc(20, 7)]) },
] as const;

function logHeader(): Buffer {
  return Buffer.from('5a4b4c47000000020000000000000000', 'hex'); // "ZKLG", version 2, dbid 0
}

for (const { workers, what, bytes } of leftovers) {
  test(`a next log file holding ${what} (a crash before its first txn was durable) does not block writes (workers=${workers})`, async () => {
    const count = 5;
    const { dataDir, log, scan } = await makeDataDir(count);
    let running: ZoonodeChild | null = null;
    try {
      const lastZxid = scan.entries.at(-1)!.zxid;
      const next = path.join(path.dirname(log), `log.${(lastZxid + 1).toString(16)}`);
      fs.writeFileSync(next, bytes());
      const { z, port } = await startOrFail(dataDir, workers, `start with ${path.basename(next)} left over`);
      running = z;
      const probe = await probeWrite(port, '/after');
      assert.equal(probe, 'ok', `after recovering to zxid 0x${lastZxid.toString(16)}, the first new txn (0x${(lastZxid + 1).toString(16)}) ` +
        `must be logged although ${path.basename(next)} exists:\n${describeDir(dataDir)}\nserver output:\n${z.output()}`);
      const exit = await stopChild(z, 'SIGTERM');
      running = null;
      assert.equal(exit.code, 0, `clean stop:\n${z.output()}`);
      const again = await startOrFail(dataDir, workers, 'second start');
      running = again.z;
      const c = await ZkClient.connect('127.0.0.1', again.port, { timeoutMs: 10000 });
      assert.notEqual(await c.exists('/after'), null, `the write after the restart is durable:\n${describeDir(dataDir)}\n${again.z.output()}`);
      assert.equal((await c.getChildren('/d')).length, count);
      await c.close();
      await stopChild(again.z, 'SIGTERM');
      running = null;
    } finally {
      if (running !== null) await stopChild(running, 'SIGKILL').catch(() => undefined);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
}
