// Regressions for the bugs the simulator found in the txn log, recovery and
// the sequencer, each pinned down with a small deterministic setup (the
// simulated disk, the sequencer harness, or a faulty fs over a temp dir), so
// they stay covered whatever seeds the simulator happens to draw.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { TxnLog, type TxnLogFailure } from '../../src/persistence/txn-log.js';
import { scanLogFile } from '../../src/persistence/txn-log-reader.js';
import { recover, type RecoveryTarget } from '../../src/persistence/recovery.js';
import { writeSnapshotSync } from '../../src/persistence/snapshot-file.js';
import { OpCode } from '../../src/jute/opcodes.js';
import { Err } from '../../src/jute/errors.js';
import { writeCreate, writePathWatch, writeSetData } from '../../src/jute/records.js';
import type { Txn, TxnHeader } from '../../src/jute/txn.js';
import type { SnapshotSource } from '../../src/persistence/snapshot-format.js';
import { Prng } from '../../src/testing/prng.js';
import { SimFs } from '../../src/testing/sim-fs.js';
import { SimClock, Scheduler } from '../../src/testing/sim-time.js';
import { OPEN_ACL } from '../../src/testing/sim-ops.js';
import { Harness } from '../support/sequencer-harness.js';
import { FaultyFs } from '../support/faulty-fs.js';
import { tempDir } from '../support/zoonode.js';

const dir = '/d/version-2';

function txn(zxid: number): [TxnHeader, Txn] {
  return [
    { clientIdHi: 0x100, clientIdLo: 7, cxid: zxid, zxid, time: 1_700_000_000_000 + zxid, type: OpCode.create },
    { type: OpCode.create, path: `/n${zxid}`, data: null, acl: OPEN_ACL, ephemeral: false, parentCVersion: zxid },
  ];
}

function simDisk(seed = 1): { sched: Scheduler; disk: SimFs } {
  const sched = new Scheduler(new SimClock(0));
  const disk = new SimFs(sched, new Prng(seed));
  disk.mkdirSync(dir);
  return { sched, disk };
}

function simLog(disk: SimFs, forceSync = true): TxnLog {
  return new TxnLog({ dir, preAllocBytes: 4096, forceSync, fsyncWarningThresholdMs: 1000, storage: disk });
}

/** Run the simulated disk's completions until pred holds (bounded). */
async function drive(sched: Scheduler, pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 10_000 && !pred(); i++) {
    const ev = sched.next();
    if (ev !== undefined) ev.run();
    await new Promise<void>((r) => setImmediate(r));
    if (ev === undefined && sched.size === 0 && !pred()) break;
  }
  assert.ok(pred(), `${what} did not happen`);
}

const nullTarget = (counts: { applied: number }): RecoveryTarget => ({
  reset: () => { counts.applied = 0; },
  session: () => {},
  acl: () => {},
  node: () => {},
  apply: () => { counts.applied++; },
});

test('the txn log header is written whole even when the disk takes fewer bytes per write (a short header made the log unreadable)', async () => {
  // Every write of more than one byte is cut short somewhere; the seeds vary where.
  for (let seed = 1; seed <= 10; seed++) {
    const { sched, disk } = simDisk(seed);
    disk.faults.shortWriteRate = 1;
    const log = simLog(disk);
    let durable = -1;
    log.onDurable = (z) => { durable = z; };
    for (let z = 1; z <= 5; z++) log.append(...txn(z));
    log.flush();
    await drive(sched, () => durable === 5, `seed ${seed}: txns 1..5 durable`);
    assert.ok(disk.stats.shortWrites > 0, 'writes were cut short');
    assert.deepEqual(scanLogFile(`${dir}/log.1`, 0, disk).entries.map((e) => e.hdr.zxid), [1, 2, 3, 4, 5], `seed ${seed}`);
  }
});

test('a txn appended while a log failure is being handled is dropped with the failed ones, not thrown at the sequencer', async () => {
  const { sched, disk } = simDisk();
  const log = simLog(disk);
  const failures: Error[] = [];
  log.onFailure = (e) => failures.push(e);
  disk.faults.errorUntilMs = Infinity;
  disk.faults.errorRate = 1;
  log.append(...txn(1));
  log.flush();
  await drive(sched, () => log.failed !== null, 'the write failure');
  assert.equal(failures.length, 0, 'the cut-back is still in progress');
  assert.doesNotThrow(() => log.append(...txn(2)), 'the sequencer has not heard of the failure yet');
  await drive(sched, () => failures.length === 1, 'the failure report');
  assert.throws(() => log.append(...txn(3)), /txn log is failed/);
});

test('when the cut-back after a failure fails too, the failure says the txns are in doubt and the log takes no more writes', async () => {
  const { sched, disk } = simDisk();
  const log = simLog(disk);
  let durable = -1;
  log.onDurable = (z) => { durable = z; };
  const failures: TxnLogFailure[] = [];
  log.onFailure = (e) => failures.push(e);
  for (let z = 1; z <= 3; z++) log.append(...txn(z));
  log.flush();
  await drive(sched, () => durable === 3, 'txns 1..3 durable');
  disk.faults.errorUntilMs = Infinity;
  disk.faults.errorRate = 1;
  log.append(...txn(4));
  log.flush();
  await drive(sched, () => failures.length === 1, 'the failure report');
  assert.equal(failures[0]!.inDoubt, true);
  disk.faults.errorUntilMs = 0;
  let probed: boolean | null = null;
  void log.probe().then((ok) => { probed = ok; });
  await drive(sched, () => probed !== null, 'the probe');
  assert.equal(probed, false, 'writes must not resume in this process: txn 4 may be on disk');
});

test('the sequencer answers in order after a log failure: a read queued between two failed writes comes between their NOTREADONLY answers', () => {
  const h = new Harness();
  h.connect(1);
  h.run();
  h.log.auto = false;
  h.packet(1, 1, OpCode.create, (w) => writeCreate(w, { path: '/a', data: null, acl: OPEN_ACL, flags: 0, ttl: -1 }, false));
  h.packet(1, 2, OpCode.exists, (w) => writePathWatch(w, { path: '/', watch: false }));
  h.packet(1, 3, OpCode.setData, (w) => writeSetData(w, { path: '/', data: null, version: -1 }));
  assert.deepEqual(h.run().filter((o) => o.kind === 'reply'), [], 'the writes wait for the log, the read waits behind them');
  h.log.onFailure(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
  const replies = h.output().flatMap((o) => (o.kind === 'reply' ? [[o.xid, o.err]] : []));
  assert.deepEqual(replies, [[1, Err.NOTREADONLY], [2, Err.OK], [3, Err.NOTREADONLY]]);
});

test('writes in doubt after a log failure lose their connection instead of hearing NOTREADONLY', () => {
  const h = new Harness();
  h.connect(1);
  h.run();
  h.log.auto = false;
  h.packet(1, 1, OpCode.create, (w) => writeCreate(w, { path: '/a', data: null, acl: OPEN_ACL, flags: 0, ttl: -1 }, false));
  h.run();
  h.log.onFailure(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', inDoubt: true }));
  const out = h.output();
  assert.deepEqual(out.filter((o) => o.kind === 'reply'), [], 'no answer: the write may be replayed after a restart');
  assert.ok(out.some((o) => o.kind === 'close' && o.connId === 1), `the connection is closed: ${JSON.stringify(out)}`);
});

test('a snapshot started by a closeSession commit does not list the closed session (it came back after a restart)', () => {
  const listed: bigint[][] = [];
  const h = new Harness({}, {
    snapshots: {
      noteTxn: () => true,
      startSnapshot: (source: SnapshotSource) => {
        listed.push([...source.sessions()].map(([id]) => id));
        return null;
      },
    },
  });
  h.connect(1);
  const connected = h.run().find((o) => o.kind === 'connected');
  assert.ok(connected !== undefined && connected.kind === 'connected');
  assert.deepEqual(listed.at(-1), [connected.sessionId], 'the snapshot at the createSession commit lists the session');
  h.packet(1, 1, OpCode.closeSession);
  h.run();
  assert.deepEqual(listed.at(-1), [], 'the snapshot at the closeSession commit does not');
});

test('a batch that spans a log roll syncs the older file before writing the newer (a crash could leave a gap recovery refuses)', async () => {
  const tmp = tempDir('roll');
  try {
    const ffs = new FaultyFs();
    const log = new TxnLog({ dir: tmp, preAllocBytes: 4096, forceSync: true, fsyncWarningThresholdMs: 1000, fsio: ffs });
    const durable = new Promise<void>((resolve) => { log.onDurable = (z) => { if (z === 2) resolve(); }; });
    log.append(...txn(1));
    log.roll();
    log.append(...txn(2));
    log.flush();
    await durable;
    await log.close();
    const firstSync = ffs.calls.indexOf('fdatasync');
    const secondOpen = ffs.calls.indexOf('open log.2');
    assert.ok(firstSync >= 0 && secondOpen > firstSync, `log.1 is synced before log.2 is created: ${ffs.calls.join(', ')}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('recovery removes a log file whose header a crash or a full disk cut short (it refused to start)', () => {
  const { disk } = simDisk();
  const fd = disk.openSync(`${dir}/log.1`, 'w');
  disk.writeSync(fd, Buffer.from('5a4b4c470000', 'hex'), 0, 6, 0);
  disk.closeSync(fd);
  const counts = { applied: 0 };
  const report = recover({ snapDir: dir, logDir: dir, trustEmptySnapshot: false, fs: disk }, nullTarget(counts));
  assert.deepEqual(report.emptyLogsRemoved, [`${dir}/log.1`]);
  assert.deepEqual(disk.readdirSync(dir), []);
});

test('recovery makes the txns it replays durable (after a process crash they may sit only in the page cache)', async () => {
  const { sched, disk } = simDisk(7);
  const log = simLog(disk, false);
  let durable = -1;
  log.onDurable = (z) => { durable = z; };
  for (let z = 1; z <= 3; z++) log.append(...txn(z));
  log.flush();
  await drive(sched, () => durable === 3, 'txns written');
  disk.crash('process');
  assert.match(disk.listing().join('\n'), /log\.1 \d+ bytes, \d+ pending/, 'written, not durable');
  const counts = { applied: 0 };
  const first = recover({ snapDir: dir, logDir: dir, trustEmptySnapshot: true, fs: disk }, nullTarget(counts));
  assert.equal(first.lastZxid, 3);
  assert.doesNotMatch(disk.listing().join('\n'), /pending/, 'nothing recovery served is left unsynced');
  disk.crash('machine');
  const again = recover({ snapDir: dir, logDir: dir, trustEmptySnapshot: true, fs: disk }, nullTarget(counts));
  assert.equal(again.lastZxid, 3, 'a power loss after the restart keeps what clients may have seen');
});

test('recovery makes durable a cut-back it found only in the page cache (else a power loss brings back txns whose zxids were reused)', async () => {
  const { sched, disk } = simDisk(3);
  const log = simLog(disk);
  let durable = -1;
  log.onDurable = (z) => { durable = z; };
  for (let z = 1; z <= 5; z++) log.append(...txn(z));
  log.flush();
  await drive(sched, () => durable === 5, 'txns 1..5 durable');
  // As TxnLog.fail leaves it when the fsync after its truncate fails: txns 4 and 5 cut in the page cache only.
  const cut = scanLogFile(`${dir}/log.1`, 0, disk).entries[3]!.offset;
  disk.truncateSync(`${dir}/log.1`, cut);
  // A snapshot at zxid 3, so recovery replays nothing from log.1 (it only reads it).
  writeSnapshotSync(new Harness().seq.snapshotSource, dir, 3, 'none', true, disk);
  disk.processExit();
  const counts = { applied: 0 };
  assert.equal(recover({ snapDir: dir, logDir: dir, trustEmptySnapshot: true, fs: disk }, nullTarget(counts)).lastZxid, 3);
  assert.doesNotMatch(disk.listing().join('\n'), /pending/, 'the cut is durable before the server serves');
  disk.crash('machine');
  assert.equal(recover({ snapDir: dir, logDir: dir, trustEmptySnapshot: true, fs: disk }, nullTarget(counts)).lastZxid, 3);
});

test('after a failed batch that spans a roll, the newer file is cut back first and the older one not at all if that fails (no gap)', async () => {
  const { sched, disk } = simDisk(5);
  // Fail the sync and the truncate of the newer file only.
  const names = new Map<number, string>();
  const failing = (fd: number): boolean => names.get(fd) === 'log.3';
  const eio = (): NodeJS.ErrnoException => Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
  const fsio = {
    open: (p: string, flags: string, cb: (e: NodeJS.ErrnoException | null, fd: number) => void) =>
      disk.open(p, flags, (e, fd) => { if (e === null) names.set(fd, p.split('/').pop()!); cb(e, fd); }),
    write: disk.write.bind(disk),
    close: disk.close.bind(disk),
    fdatasync: (fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => (failing(fd) ? cb(eio()) : disk.fdatasync(fd, cb)),
    ftruncate: (fd: number, len: number, cb: (e: NodeJS.ErrnoException | null) => void) => (failing(fd) ? cb(eio()) : disk.ftruncate(fd, len, cb)),
  };
  const log = new TxnLog({ dir, preAllocBytes: 4096, forceSync: true, fsyncWarningThresholdMs: 1000, storage: disk, fsio });
  let durable = -1;
  log.onDurable = (z) => { durable = z; };
  const failures: TxnLogFailure[] = [];
  log.onFailure = (e) => failures.push(e);
  log.append(...txn(1));
  log.flush();
  await drive(sched, () => durable === 1, 'txn 1 durable');
  log.append(...txn(2));
  log.roll();
  log.append(...txn(3));
  log.flush();
  await drive(sched, () => failures.length === 1, 'the failure report');
  assert.equal(failures[0]!.inDoubt, true);
  assert.deepEqual(scanLogFile(`${dir}/log.1`, 0, disk).entries.map((e) => e.hdr.zxid), [1, 2], 'the older file keeps txn 2');
  assert.deepEqual(scanLogFile(`${dir}/log.3`, 0, disk).entries.map((e) => e.hdr.zxid), [3]);
  const counts = { applied: 0 };
  assert.equal(recover({ snapDir: dir, logDir: dir, trustEmptySnapshot: true, fs: disk }, nullTarget(counts)).lastZxid, 3,
    'recovery sees no gap');
});
