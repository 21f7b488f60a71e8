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
// The SIGKILL scenario lives in test/support/crash-scenario.ts, shared with
// scripts/crash-loop.mjs, which runs it for a hundred trials or more.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startZoonode, tempDir } from '../support/zoonode.js';
import { spawnZoonode, stopChild, waitForStart, type ZoonodeChild } from '../support/zoonode-process.js';
import { scanTxnLogFile, type LogFileScan } from '../support/txn-log-file.js';
import { ZkClient } from '../../native-free-bench/zk-client.js';
import { OpCode } from '../../src/jute/index.js';
import {
  describeDir, logFiles, newCrashTrialsStats, probeWrite, runCrashTrials, startOrFail, startupProblems, tornTailLines,
} from '../support/crash-scenario.js';

const TRIALS = 5;
const baseSeed = process.env.ZOONODE_CRASH_SEED !== undefined ? Number(process.env.ZOONODE_CRASH_SEED) : Date.now() % 1_000_000_007;

for (const workers of [0, 2]) {
  test(`acknowledged writes survive SIGKILL at random moments, ${TRIALS} times (workers=${workers})`, async (t) => {
    const seed = baseSeed + workers;
    const dataDir = tempDir('crash');
    const stats = newCrashTrialsStats();
    try {
      await runCrashTrials({ workers, trials: TRIALS, seed, replay: `ZOONODE_CRASH_SEED=${baseSeed}`, dataDir }, stats);
    } finally {
      t.diagnostic(`seed ${seed} (ZOONODE_CRASH_SEED=${baseSeed}), workers=${workers}: ${stats.kills} kills, ` +
        `${stats.acks} acknowledged writes, ${stats.acknowledgedChecked} checked; history: ${stats.history.join('; ')}`);
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
