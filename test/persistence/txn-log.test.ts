// The txn log: Apache's format on disk, group commit, fsync before durable,
// forceSync=no, failure handling, and the reader's torn-tail and corruption rules.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TxnLog, inlineChainMaxWorkMs, paddedSize } from '../../src/persistence/txn-log.js';
import { scanLogFile, CorruptLogError } from '../../src/persistence/txn-log-reader.js';
import { adler32, adler32Combine } from '../../src/persistence/checksum.js';
import { OpCode } from '../../src/jute/opcodes.js';
import type { Txn, TxnHeader } from '../../src/jute/txn.js';
import { tempDir } from '../support/zoonode.js';
import { FaultyFs } from '../support/faulty-fs.js';
import { nodeStorageFs, type StorageFs } from '../../src/persistence/storage-fs.js';

const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
function txn(zxid: number): [TxnHeader, Txn] {
  return [
    { clientIdHi: 0x100, clientIdLo: 7, cxid: zxid, zxid, time: 1_700_000_000_000 + zxid, type: OpCode.create },
    { type: OpCode.create, path: `/n${zxid}`, data: `value-${zxid}`, acl, ephemeral: false, parentCVersion: zxid },
  ];
}

function newLog(dir: string, opts: Partial<ConstructorParameters<typeof TxnLog>[0]> = {}) {
  return new TxnLog({ dir, preAllocBytes: 64 * 1024, forceSync: true, fsyncWarningThresholdMs: 1000, ...opts });
}

/** Poll a condition every millisecond, for at most ms. */
async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

function durableUpTo(log: TxnLog, zxid: number, ms = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not durable up to ${zxid} in ${ms} ms`)), ms);
    const prev = log.onDurable;
    log.onDurable = (z) => {
      prev(z);
      if (z >= zxid) { clearTimeout(timer); resolve(); }
    };
  });
}

test('Adler-32 matches the reference value, and combining chunk checksums gives the whole', () => {
  assert.equal(adler32(Buffer.from('Wikipedia')), 0x11e60398);
  const big = Buffer.alloc(100_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
  for (const cut of [0, 1, 5551, 5552, 65521, 99_999]) {
    const a = adler32(big.subarray(0, cut));
    const b = adler32(big.subarray(cut));
    assert.equal(adler32Combine(a, b, big.length - cut), adler32(big), `cut at ${cut}`);
  }
});

test('txns written through the log read back identically, in Apache\'s file layout', async () => {
  const dir = tempDir('log');
  const log = newLog(dir);
  const done = durableUpTo(log, 40);
  for (let z = 1; z <= 40; z++) log.append(...txn(z));
  log.flush();
  await done;
  await log.close();
  assert.deepEqual(fs.readdirSync(dir), ['log.1']);
  const file = path.join(dir, 'log.1');
  const bytes = fs.readFileSync(file);
  assert.equal(bytes.readInt32BE(0), 0x5a4b4c47, 'ZKLG');
  assert.equal(bytes.readInt32BE(4), 2);
  assert.equal(bytes.length % (64 * 1024), 0, 'preallocated in preAllocSize steps');
  const scan = scanLogFile(file);
  assert.equal(scan.torn, null);
  assert.equal(scan.entries.length, 40);
  assert.deepEqual(scan.entries[9]!.hdr, txn(10)[0]);
  assert.deepEqual(scan.entries[9]!.txn, txn(10)[1]);
  fs.rmSync(dir, { recursive: true });
});

test('preallocation follows Apache\'s FilePadding', () => {
  assert.equal(paddedSize(16, 0, 65536), 65536);
  assert.equal(paddedSize(1000, 65536, 65536), 65536);
  assert.equal(paddedSize(65536 - 4096, 65536, 65536), 131072);
  assert.equal(paddedSize(200_000, 65536, 65536), 262144);
});

test('group commit: txns appended during an fsync are covered by the next one; durable only after fsync', async () => {
  const dir = tempDir('log');
  const ffs = new FaultyFs();
  const log = newLog(dir, { fsio: ffs });
  const durable: number[] = [];
  log.onDurable = (z) => durable.push(z);
  ffs.holdSync = true;
  log.append(...txn(1));
  log.flush();
  await until(() => ffs.heldCount === 1);
  for (let z = 2; z <= 100; z++) { log.append(...txn(z)); log.flush(); }
  assert.deepEqual(durable, [], 'nothing is durable before its fsync completes');
  ffs.holdSync = false;
  const all = durableUpTo(log, 100);
  ffs.release();
  await all;
  assert.deepEqual(durable, [1, 100]);
  assert.equal(ffs.calls.filter((c) => c === 'fdatasync').length, 2, '100 txns, 2 fsyncs');
  const syncAt = ffs.calls.indexOf('fdatasync');
  assert.ok(ffs.calls.slice(0, syncAt).some((c) => c.startsWith('write')), 'write before fsync');
  await log.close();
  fs.rmSync(dir, { recursive: true });
});

test('forceSync=no writes without fsync', async () => {
  const dir = tempDir('log');
  const ffs = new FaultyFs();
  const log = newLog(dir, { fsio: ffs, forceSync: false });
  const done = durableUpTo(log, 5);
  for (let z = 1; z <= 5; z++) log.append(...txn(z));
  log.flush();
  await done;
  assert.equal(ffs.calls.filter((c) => c.startsWith('fdatasync')).length, 0);
  await log.close();
  assert.equal(scanLogFile(path.join(dir, 'log.1')).entries.length, 5);
  fs.rmSync(dir, { recursive: true });
});

test('roll() starts the next txn in a new file named after it', async () => {
  const dir = tempDir('log');
  const log = newLog(dir);
  const done = durableUpTo(log, 6);
  for (let z = 1; z <= 3; z++) log.append(...txn(z));
  log.roll();
  for (let z = 4; z <= 6; z++) log.append(...txn(z));
  log.flush();
  await done;
  await log.close();
  assert.deepEqual(fs.readdirSync(dir).sort(), ['log.1', 'log.4']);
  assert.deepEqual(scanLogFile(path.join(dir, 'log.4')).entries.map((e) => e.hdr.zxid), [4, 5, 6]);
  fs.rmSync(dir, { recursive: true });
});

test('a write failure (ENOSPC) reports once, cuts the file back to the last durable txn, and refuses more', async () => {
  const dir = tempDir('log');
  const ffs = new FaultyFs();
  const log = newLog(dir, { fsio: ffs });
  const first = durableUpTo(log, 10);
  for (let z = 1; z <= 10; z++) log.append(...txn(z));
  log.flush();
  await first;
  const goodSize = scanLogFile(path.join(dir, 'log.1')).validEnd;
  ffs.failWritesPast = goodSize + 50;
  const failures: Error[] = [];
  const failed = new Promise<void>((r) => { log.onFailure = (e) => { failures.push(e); r(); }; });
  for (let z = 11; z <= 20; z++) log.append(...txn(z));
  log.flush();
  await failed;
  assert.equal(failures.length, 1);
  assert.equal((failures[0] as NodeJS.ErrnoException).code, 'ENOSPC');
  assert.throws(() => log.append(...txn(21)), /txn log is failed/);
  const scan = scanLogFile(path.join(dir, 'log.1'));
  assert.equal(scan.torn, null, 'nothing of the failed batch remains');
  assert.deepEqual(scan.entries.map((e) => e.hdr.zxid), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(fs.statSync(path.join(dir, 'log.1')).size, goodSize);
  ffs.failWritesPast = Infinity;
  assert.equal(await log.probe(), true, 'the disk works again');
  const resumed = durableUpTo(log, 11);
  log.append(...txn(11));
  log.flush();
  await resumed;
  await log.close();
  assert.ok(fs.readdirSync(dir).includes('log.b'), 'after a failure the log continues in a new file');
  fs.rmSync(dir, { recursive: true });
});

test('an fsync failure also fails the batch and cuts it back', async () => {
  const dir = tempDir('log');
  const ffs = new FaultyFs();
  const log = newLog(dir, { fsio: ffs });
  const first = durableUpTo(log, 3);
  for (let z = 1; z <= 3; z++) log.append(...txn(z));
  log.flush();
  await first;
  ffs.failSync = true;
  const failed = new Promise<Error>((r) => { log.onFailure = r; });
  const durable: number[] = [];
  log.onDurable = (z) => durable.push(z);
  for (let z = 4; z <= 6; z++) log.append(...txn(z));
  log.flush();
  assert.equal(((await failed) as NodeJS.ErrnoException).code, 'EIO');
  assert.deepEqual(durable, [], 'a batch whose fsync failed is never reported durable');
  ffs.failSync = false;
  assert.deepEqual(scanLogFile(path.join(dir, 'log.1')).entries.map((e) => e.hdr.zxid), [1, 2, 3]);
  fs.rmSync(dir, { recursive: true });
});

/** The open-file flags (octal, from /proc/self/fdinfo) of this process's descriptors for a file. */
function openFlags(file: string): number[] {
  const out: number[] = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    let target: string;
    try { target = fs.readlinkSync(`/proc/self/fd/${fd}`); } catch { continue; }
    if (target !== file) continue;
    const m = /^flags:\s+([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'));
    if (m !== null) out.push(parseInt(m[1]!, 8));
  }
  return out;
}

test('on node:fs with forceSync the log file is opened O_DSYNC: each batch is one write, no separate fdatasync', { skip: process.platform !== 'linux' && 'reads /proc/self/fdinfo' }, async () => {
  const dir = tempDir('log');
  const log = newLog(dir);
  const first = durableUpTo(log, 10);
  for (let z = 1; z <= 10; z++) log.append(...txn(z));
  log.flush();
  await first;
  const file = path.join(dir, 'log.1');
  const flags = openFlags(file);
  assert.equal(flags.length, 1, 'the log holds one descriptor for its file');
  assert.ok((flags[0]! & fs.constants.O_DSYNC) !== 0, `O_DSYNC set (flags 0${flags[0]!.toString(8)})`);
  assert.equal(log.stats.fsyncs, 1, 'the synchronous write counts as the batch\'s fsync (fsynctime metric)');
  const second = durableUpTo(log, 20);
  for (let z = 11; z <= 20; z++) log.append(...txn(z));
  log.flush();
  await second;
  assert.equal(log.stats.fsyncs, 2);
  await log.close();
  assert.deepEqual(scanLogFile(file).entries.map((e) => e.hdr.zxid), Array.from({ length: 20 }, (_, i) => i + 1));

  // forceSync=no: a plain descriptor.
  const dir2 = tempDir('log');
  const nosync = newLog(dir2, { forceSync: false });
  const d2 = durableUpTo(nosync, 1);
  nosync.append(...txn(1));
  nosync.flush();
  await d2;
  const f2 = openFlags(path.join(dir2, 'log.1'));
  assert.equal(f2.length, 1);
  assert.equal(f2[0]! & fs.constants.O_DSYNC, 0, 'no O_DSYNC without forceSync');
  assert.equal(nosync.stats.fsyncs, 0);
  await nosync.close();
  fs.rmSync(dir, { recursive: true });
  fs.rmSync(dir2, { recursive: true });
});

test('with O_DSYNC a write failure (ENOSPC) still cuts the file back to the last durable txn', async () => {
  const dir = tempDir('log');
  const ffs = new FaultyFs();
  const log = newLog(dir, { fsio: ffs, dsync: true });
  const first = durableUpTo(log, 10);
  for (let z = 1; z <= 10; z++) log.append(...txn(z));
  log.flush();
  await first;
  assert.equal(ffs.calls.filter((c) => c.startsWith('fdatasync')).length, 0, 'durable without an fdatasync call');
  assert.ok((openFlags(path.join(dir, 'log.1'))[0]! & fs.constants.O_DSYNC) !== 0);
  const goodSize = scanLogFile(path.join(dir, 'log.1')).validEnd;
  ffs.failWritesPast = goodSize + 50;
  const failed = new Promise<Error>((r) => { log.onFailure = r; });
  const durable: number[] = [];
  log.onDurable = (z) => durable.push(z);
  for (let z = 11; z <= 20; z++) log.append(...txn(z));
  log.flush();
  assert.equal(((await failed) as NodeJS.ErrnoException).code, 'ENOSPC');
  assert.deepEqual(durable, [], 'the failed batch is never reported durable');
  const scan = scanLogFile(path.join(dir, 'log.1'));
  assert.equal(scan.torn, null, 'the part of the batch that reached the disk was cut off');
  assert.deepEqual(scan.entries.map((e) => e.hdr.zxid), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(fs.statSync(path.join(dir, 'log.1')).size, goodSize);
  fs.rmSync(dir, { recursive: true });
});

// ---- inline writes: a batch written on the log's own thread when its loop has been idle ----

/** node:fs with its synchronous writes recorded in `order` (and failing past failPast bytes, ENOSPC). */
function recordingFs(order: string[], onWriteSync: () => void = () => {}): StorageFs & { failPast: number } {
  const rfs = {
    ...nodeStorageFs,
    failPast: Infinity,
    writeSync(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number {
      if (len > 1 && pos + len > rfs.failPast) {
        // A partial write reaches the disk before the error, as a full disk does.
        const part = Math.max(0, Math.min(len, rfs.failPast - pos));
        if (part > 0) fs.writeSync(fd, buf, off, part, pos);
        order.push('writeSync ENOSPC');
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
      order.push('writeSync');
      onWriteSync();
      return fs.writeSync(fd, buf, off, len, pos);
    },
  };
  return rfs;
}

/** A loop-idle clock that moves only when told: idle.ms += x is the loop having slept. */
function idleClock() {
  const c = { ms: 0, read: () => c.ms };
  return c;
}

test('inline writes: a batch after the loop slept is written on this thread, after replies already queued, and is durable only then', { skip: process.platform !== 'linux' && 'reads /proc/self/fdinfo' }, async () => {
  const dir = tempDir('log');
  const order: string[] = [];
  const idle = idleClock();
  // The clock stands still: writes take no time, so any work after one is longer than it.
  const log = newLog(dir, { storage: recordingFs(order), dsync: true, loopIdleMs: idle.read, now: () => 0 });
  const durable: number[] = [];
  log.onDurable = (z) => { durable.push(z); order.push(`durable ${z}`); };
  idle.ms += 1;
  const first = durableUpTo(log, 10);
  for (let z = 1; z <= 10; z++) log.append(...txn(z));
  // A reply published by the same batch (a read answered) is queued before the flush.
  setImmediate(() => order.push('reply'));
  log.flush();
  log.append(...txn(11)); // appended before the write starts: joins the batch
  assert.deepEqual(durable, [], 'not durable at flush()');
  await first;
  assert.deepEqual(order, ['reply', 'writeSync', 'durable 11'], 'the queued reply went first; one write for the batch');
  assert.equal(log.stats.inlineWrites, 1);
  assert.equal(log.stats.pooledWrites, 0);
  assert.equal(log.stats.fsyncs, 1, 'the O_DSYNC write is the batch\'s fsync');
  const file = path.join(dir, 'log.1');
  assert.ok((openFlags(file)[0]! & fs.constants.O_DSYNC) !== 0, 'the file is O_DSYNC, so writeSync returns once durable');

  // The loop did not sleep since: the next batch goes through the thread pool.
  order.length = 0;
  const second = durableUpTo(log, 20);
  for (let z = 12; z <= 20; z++) log.append(...txn(z));
  log.flush();
  await second;
  assert.deepEqual(order, ['durable 20'], 'no synchronous write');
  assert.equal(log.stats.pooledWrites, 1);

  // Slept again: inline again.
  idle.ms += 0.05;
  order.length = 0;
  const third = durableUpTo(log, 21);
  log.append(...txn(21));
  log.flush();
  await third;
  assert.deepEqual(order, ['writeSync', 'durable 21']);
  assert.equal(log.stats.inlineWrites, 2);
  assert.equal(log.stats.fsyncs, 3, 'every batch, inline or pooled, is one O_DSYNC write and counted as its fsync');
  await log.close();
  assert.deepEqual(scanLogFile(file).entries.map((e) => e.hdr.zxid), Array.from({ length: 21 }, (_, i) => i + 1));
  fs.rmSync(dir, { recursive: true });
});

test('inline writes: after an inline batch, the next stays inline while the work since was shorter than a pool round trip and than the write', async () => {
  const dir = tempDir('log');
  const order: string[] = [];
  const idle = idleClock();
  const clock = { ms: 1000 };
  // A synchronous write takes writeMs by this clock.
  let writeMs = 2;
  const log = newLog(dir, { storage: recordingFs(order, () => { clock.ms += writeMs; }), dsync: true, loopIdleMs: idle.read, now: () => clock.ms });
  const batch = async (z: number, workMs: number) => {
    clock.ms += workMs;
    const d = durableUpTo(log, z);
    log.append(...txn(z));
    log.flush();
    await d;
  };
  idle.ms += 1;
  await batch(1, 0);
  assert.equal(log.stats.inlineWrites, 1, 'the loop slept: inline');
  // Two clients writing in turn: the other's request arrived during the
  // write and took 0.05 ms to handle; the loop never slept.
  await batch(2, inlineChainMaxWorkMs / 2);
  assert.equal(log.stats.inlineWrites, 2, 'little work since: inline again');
  assert.equal(log.stats.pooledWrites, 0);
  // A busy thread: more work since the last write than a pool round trip costs.
  await batch(3, inlineChainMaxWorkMs * 2);
  assert.equal(log.stats.pooledWrites, 1, 'more work than the pool costs: the pool');
  // After a pooled batch there is no write time to compare with: the pool until the loop sleeps.
  await batch(4, 0);
  assert.equal(log.stats.pooledWrites, 2);
  // A disk quicker than the work since its last write: the pool.
  writeMs = inlineChainMaxWorkMs / 10;
  idle.ms += 1;
  await batch(5, 0);
  assert.equal(log.stats.inlineWrites, 3);
  await batch(6, inlineChainMaxWorkMs / 2);
  assert.equal(log.stats.pooledWrites, 3, 'more work since than the write took: the pool');
  assert.deepEqual(order, ['writeSync', 'writeSync', 'writeSync']);
  await log.close();
  assert.deepEqual(scanLogFile(path.join(dir, 'log.1')).entries.map((e) => e.hdr.zxid), [1, 2, 3, 4, 5, 6]);
  fs.rmSync(dir, { recursive: true });
});

test('inline writes: a slow one sends the following batches through the thread pool', async () => {
  const dir = tempDir('log');
  const order: string[] = [];
  const idle = idleClock();
  // Every inline write counts as slow.
  const log = newLog(dir, { storage: recordingFs(order), dsync: true, loopIdleMs: idle.read, inlineWriteMaxMs: -1 });
  for (let z = 1; z <= 5; z++) {
    idle.ms += 1; // the loop slept before every batch
    const d = durableUpTo(log, z);
    log.append(...txn(z));
    log.flush();
    await d;
  }
  assert.equal(log.stats.inlineWrites, 1, 'only the first batch was written inline');
  assert.equal(log.stats.slowInlineWrites, 1);
  assert.equal(log.stats.pooledWrites, 4, 'after the slow write, the pool, although the loop kept sleeping');
  assert.deepEqual(order, ['writeSync']);
  await log.close();
  assert.equal(scanLogFile(path.join(dir, 'log.1')).entries.length, 5);
  fs.rmSync(dir, { recursive: true });
});

test('inline writes: ENOSPC cuts the file back to the last durable txn, as a pooled write does', async () => {
  const dir = tempDir('log');
  const order: string[] = [];
  const idle = idleClock();
  const rfs = recordingFs(order);
  const log = newLog(dir, { storage: rfs, dsync: true, loopIdleMs: idle.read });
  idle.ms += 1;
  const first = durableUpTo(log, 10);
  for (let z = 1; z <= 10; z++) log.append(...txn(z));
  log.flush();
  await first;
  const goodSize = scanLogFile(path.join(dir, 'log.1')).validEnd;
  rfs.failPast = goodSize + 50;
  const failed = new Promise<Error>((r) => { log.onFailure = r; });
  const durable: number[] = [];
  log.onDurable = (z) => durable.push(z);
  idle.ms += 1;
  for (let z = 11; z <= 20; z++) log.append(...txn(z));
  log.flush();
  assert.equal(((await failed) as NodeJS.ErrnoException).code, 'ENOSPC');
  assert.deepEqual(order, ['writeSync', 'writeSync ENOSPC'], 'both batches were inline');
  assert.deepEqual(durable, [], 'the failed batch is never reported durable');
  const scan = scanLogFile(path.join(dir, 'log.1'));
  assert.equal(scan.torn, null, 'the part of the batch that reached the disk was cut off');
  assert.deepEqual(scan.entries.map((e) => e.hdr.zxid), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(fs.statSync(path.join(dir, 'log.1')).size, goodSize);
  fs.rmSync(dir, { recursive: true });
});

test('inline writes need the log\'s own disk: with a separate async fsio every batch goes through it', async () => {
  const dir = tempDir('log');
  const idle = idleClock();
  const ffs = new FaultyFs();
  const log = newLog(dir, { fsio: ffs, loopIdleMs: idle.read });
  idle.ms += 1;
  const d = durableUpTo(log, 3);
  for (let z = 1; z <= 3; z++) log.append(...txn(z));
  log.flush();
  await d;
  assert.equal(log.stats.inlineWrites, 0);
  assert.ok(ffs.calls.some((c) => c.startsWith('write')), 'the write went through the given fsio');
  await log.close();
  fs.rmSync(dir, { recursive: true });
});

async function writeLog(dir: string, n: number): Promise<string> {
  const log = newLog(dir);
  const done = durableUpTo(log, n);
  for (let z = 1; z <= n; z++) log.append(...txn(z));
  log.flush();
  await done;
  await log.close();
  return path.join(dir, 'log.1');
}

for (const windowBytes of [undefined, 16, 50]) {
  const through = windowBytes === undefined ? '' : ` (read through a ${windowBytes}-byte window)`;
  test(`a tail cut anywhere inside the last entry is a torn tail, never an error${through}`, async () => {
    const dir = tempDir('log');
    const file = await writeLog(dir, 5);
    const full = fs.readFileSync(file);
    const scan = scanLogFile(file, 0, undefined, undefined, windowBytes);
    const lastStart = scan.entries[4]!.offset;
    const copy = path.join(dir, 'cut');
    for (let cut = lastStart + 1; cut < scan.validEnd; cut++) {
      fs.writeFileSync(copy, full.subarray(0, cut));
      const s = scanLogFile(copy, 0, undefined, undefined, windowBytes);
      assert.deepEqual(s.entries.map((e) => e.hdr.zxid), [1, 2, 3, 4], `cut at ${cut}`);
      // Only zero bytes after the last entry look like preallocation: a clean end.
      const onlyZeros = full.subarray(lastStart, cut).every((b) => b === 0);
      assert.equal(s.torn?.offset, onlyZeros ? undefined : lastStart, `cut at ${cut}`);
    }
    // The same entry partly written over preallocated zeros.
    const zeroed = Buffer.from(full);
    zeroed.fill(0, lastStart + 20, scan.validEnd);
    fs.writeFileSync(copy, zeroed);
    assert.equal(scanLogFile(copy, 0, undefined, undefined, windowBytes).torn?.offset, lastStart);
    fs.rmSync(dir, { recursive: true });
  });
}

for (const windowBytes of [undefined, 16, 50]) {
  const through = windowBytes === undefined ? '' : ` (read through a ${windowBytes}-byte window)`;
  test(`corruption with valid entries after it stops the read, naming the file and offset${through}`, async () => {
    const dir = tempDir('log');
    const file = await writeLog(dir, 5);
    const scan = scanLogFile(file);
    const at = scan.entries[2]!.offset;
    const bytes = fs.readFileSync(file);
    bytes[at + 30] ^= 0xff;
    fs.writeFileSync(file, bytes);
    assert.throws(() => scanLogFile(file, 0, undefined, undefined, windowBytes), (e: unknown) => {
      assert.ok(e instanceof CorruptLogError);
      assert.equal(e.file, file);
      assert.equal(e.offset, at);
      assert.match(e.message, /checksum mismatch, and valid entries follow it/);
      return true;
    });
    fs.rmSync(dir, { recursive: true });
  });
}

test('entries bigger than the read window, streamed to a sink, are the entries a whole read gives', async () => {
  const dir = tempDir('log');
  const log = newLog(dir);
  const done = durableUpTo(log, 30);
  for (let z = 1; z <= 30; z++) {
    const [hdr, t] = txn(z);
    // Every fifth value is 3000 bytes: bigger than the 256-byte window below.
    log.append(hdr, { ...t, data: z % 5 === 0 ? String.fromCharCode(z).repeat(3000) : `value-${z}` } as Txn);
  }
  log.flush();
  await done;
  await log.close();
  const file = path.join(dir, 'log.1');
  const whole = scanLogFile(file, 11);
  assert.deepEqual(whole.entries.map((e) => e.hdr.zxid), Array.from({ length: 20 }, (_, i) => i + 11), 'from zxid 11 on');
  const streamed: { zxid: number; data: unknown; offset: number }[] = [];
  const scan = scanLogFile(file, 11, undefined, (e, offset) => {
    streamed.push({ zxid: e.hdr.zxid, data: (e.txn as { data: unknown }).data, offset });
  }, 256);
  assert.deepEqual(streamed, whole.entries.map((e) => ({ zxid: e.hdr.zxid, data: (e.txn as { data: unknown }).data, offset: e.offset })));
  assert.deepEqual(scan.entries, [], 'entries given to the sink are not kept');
  assert.equal(scan.decoded, 20);
  assert.equal(scan.validEnd, whole.validEnd);
  assert.equal(scan.lastZxid, 30);
  assert.equal(scan.firstZxid, 1);
  fs.rmSync(dir, { recursive: true });
});
