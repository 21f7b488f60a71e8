// The txn log writer: Apache's log format with group commit.
//
// append() encodes a txn into the current segment's pending buffer; flush()
// starts a write of everything pending if none is in flight. While a write
// and its fsync are in flight, new txns accumulate, and the next write covers
// them all: one fsync per batch, however many txns. Only after the fsync is
// onDurable(zxid) called: the sequencer replies only then (durability first;
// forceSync=no skips the fsync, as in Apache). On node:fs the files are
// opened with O_DSYNC, so the write itself is the sync (one thread-pool round
// trip per batch, not two); elsewhere write then fdatasync.
//
// Inline writes: when the thread has been idle since the previous batch (its
// event loop slept), nothing else is waiting for it, and a round trip
// through libuv's thread pool only adds two thread wake-ups (the pool thread,
// then this one). The batch's write is then made on this thread (writeSync;
// with O_DSYNC it returns once the bytes are durable), one event-loop turn
// after flush() so replies already published go out first. The same holds
// when the previous batch was written inline and the work that queued up
// behind it was short: two clients writing in turn never let the loop sleep
// (each one's request arrives during the other's write), yet the thread has
// next to nothing to overlap with the disk. The pool pays off only when the
// work it overlaps is longer than its own round trip (inlineChainMaxWorkMs),
// so a busy thread keeps the pool. A write that takes
// longer than inlineWriteMaxMs sends every write through the pool for
// inlineBackoffMs: a slow disk never holds the thread twice in a row.
// Durability is the same either way: onDurable only after the write.
//
// A segment is one log file, named after its first zxid and preallocated in
// preAllocSize steps (a sparse extension, as Apache does) so that a zero
// length marks the end. roll() makes the next append start a new file.
//
// On a write or fsync error (ENOSPC, EIO) the log stops taking txns: it
// truncates the file back to the end of the last durable txn (so recovery
// never replays a txn that a client was told failed), and reports the error
// once through onFailure. probe() later tells whether the disk works again.
// If the cut-back itself fails, the txns after the last durable one are in
// doubt: a restart may or may not replay them. The error then says so
// (inDoubt), clients must not be told those writes failed, and the log takes
// no more txns in this process (reusing their zxids could contradict what
// recovery finds).
//
// Never blocks the thread, except for an inline write (above).

import fs from 'node:fs';
import path from 'node:path';
import { Logger } from '../util/log.js';
import { LatencyTracker } from '../util/latency.js';
import { Writer } from '../jute/writer.js';
import type { Txn, TxnHeader } from '../jute/txn.js';
import { adler32 } from './checksum.js';
import { logName } from './file-names.js';
import { ENTRY_END, TXNLOG_MAGIC, writeFileHeader, writeTxnBodyBytes } from './txn-entry.js';
import { nodeStorageFs, type LogFs, type StorageFs } from './storage-fs.js';

export type { LogFs };

const log = new Logger('txnlog');

/** What onFailure reports. inDoubt: txns not durable could not be cut from the log (see the header). */
export interface TxnLogFailure extends NodeJS.ErrnoException {
  inDoubt?: boolean;
}

export interface TxnLogOptions {
  /** The version-2 directory under dataLogDir. */
  dir: string;
  /** Preallocation step in bytes (zoo.cfg preAllocSize is in KB). */
  preAllocBytes: number;
  forceSync: boolean;
  fsyncWarningThresholdMs: number;
  /** The file system (node:fs unless the simulator gives another). */
  storage?: StorageFs;
  /** The log's asynchronous calls, replaceable by a faulty double in tests (default: storage's). */
  fsio?: LogFs;
  /**
   * Open log files with O_DSYNC, so that a write returns only once its bytes
   * are on stable storage (what write + fdatasync gives): one call per batch
   * instead of two, each a round trip through libuv's thread pool. Default:
   * with forceSync on node:fs. Off on the simulator's disk and test doubles,
   * whose crash model counts fdatasync calls.
   */
  dsync?: boolean;
  /**
   * Cumulative time (ms) this thread's event loop has spent idle, waiting
   * for events (performance.eventLoopUtilization().idle). Given, and on
   * node:fs, batches are written inline while the loop has been idle since
   * the previous batch (see the header). Absent: every write goes through
   * the thread pool.
   */
  loopIdleMs?: () => number;
  /** An inline write slower than this (ms) sends writes through the pool for inlineBackoffMs (default inlineWriteMaxMs). */
  inlineWriteMaxMs?: number;
  /** The clock (ms) for write times and the inline-write rule (default performance.now; tests give their own). */
  now?: () => number;
}

/** An inline write that took longer than this sends writes through the thread pool for a while. */
export const inlineWriteMaxMs = 50;
/** How long writes stay off the thread after a slow inline write. */
export const inlineBackoffMs = 10_000;
/**
 * After an inline batch, the next is inline too (though the loop did not
 * sleep) if less than this much time (ms), all of it work, has passed: about
 * what a round trip through the thread pool costs here (two thread wake-ups),
 * which is all the pool could save by overlapping that work with the write.
 */
export const inlineChainMaxWorkMs = 0.1;

function call<T>(fn: (cb: (err: NodeJS.ErrnoException | null, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

/** Apache's FilePadding.calculateFileSizeWithPadding. */
export function paddedSize(position: number, fileSize: number, preAlloc: number): number {
  if (preAlloc > 0 && position + 4096 >= fileSize) {
    if (position > fileSize) {
      fileSize = position + preAlloc;
      fileSize -= fileSize % preAlloc;
    } else {
      fileSize += preAlloc;
    }
  }
  return fileSize;
}

class Segment {
  fd = -1;
  /** Bytes written to the file (header included). */
  position = 0;
  /** End of the last txn known durable. */
  durablePosition = 0;
  /** Preallocated size. */
  size = 0;
  pending = new Writer(64 * 1024);
  pendingLastZxid = -1;
  sealed = false;
  txns = 0;

  constructor(readonly name: string, readonly firstZxid: number) {}
}

export interface TxnLogStats {
  fsyncs: number;
  fsyncMsTotal: number;
  fsyncMsMax: number;
  lastFsyncMs: number;
  fsyncsOverThreshold: number;
  txnsWritten: number;
  bytesWritten: number;
  /** Batches written on the log's own thread (inline), and through the thread pool. */
  inlineWrites: number;
  pooledWrites: number;
  /** Inline writes slower than inlineWriteMaxMs (each turned inline writes off for inlineBackoffMs). */
  slowInlineWrites: number;
}

export class TxnLog {
  onDurable: (zxid: number) => void = () => {};
  onFailure: (err: Error) => void = () => {};
  readonly stats: TxnLogStats = {
    fsyncs: 0, fsyncMsTotal: 0, fsyncMsMax: 0, lastFsyncMs: 0, fsyncsOverThreshold: 0, txnsWritten: 0, bytesWritten: 0,
    inlineWrites: 0, pooledWrites: 0, slowInlineWrites: 0,
  };
  /** fsync durations (ms), for the fsynctime metric. */
  readonly fsyncTime = new LatencyTracker();

  private readonly segments: Segment[] = [];
  private inflight = false;
  private failure: Error | null = null;
  private spare: Writer | null = null;
  private lastAppended = -1;
  private durable = -1;
  private closing: (() => void) | null = null;
  /** A failure left txns that were not durable in the log: no more writes in this process. */
  private inDoubt = false;
  /** onFailure has been called for the current failure. */
  private failureReported = false;
  private readonly fsio: LogFs;
  private readonly storage: StorageFs;

  private readonly dsync: boolean;
  /** This thread's loop idle time, or null: inline writes are off. */
  private readonly loopIdleMs: (() => number) | null;
  /** Loop idle time when the last batch was flushed. */
  private idleAtLastBatch = 0;
  /** Time before which writes go through the pool (after a slow inline write). */
  private inlineOffUntil = 0;
  /**
   * Until when a batch flushed without the loop having slept is still
   * written inline: the end of the last batch, if that one was inline, plus
   * the shorter of inlineChainMaxWorkMs and its write time (else -Infinity).
   */
  private inlineChainUntil = -Infinity;
  private readonly now: () => number;
  private readonly inlineWriteMaxMs: number;
  private readonly runInline = (): void => this.startBatch(true);

  constructor(private readonly opts: TxnLogOptions) {
    this.storage = opts.storage ?? nodeStorageFs;
    this.fsio = opts.fsio ?? this.storage;
    this.dsync = opts.forceSync && (opts.dsync ?? this.fsio === nodeStorageFs);
    // Inline writes need the synchronous call to reach the same disk as the
    // asynchronous one (no separate fsio), and the sync to be the write
    // itself (O_DSYNC) or none (forceSync=no).
    const inlineOk = opts.fsio === undefined && (this.dsync || !opts.forceSync);
    this.loopIdleMs = inlineOk ? opts.loopIdleMs ?? null : null;
    this.inlineWriteMaxMs = opts.inlineWriteMaxMs ?? inlineWriteMaxMs;
    this.now = opts.now ?? (() => performance.now());
    if (this.loopIdleMs !== null) this.idleAtLastBatch = this.loopIdleMs();
  }

  get failed(): Error | null {
    return this.failure;
  }

  get lastDurableZxid(): number {
    return this.durable;
  }

  /** The last zxid recovery found on disk: durable before this process wrote anything. */
  setRecovered(zxid: number): void {
    if (this.durable < zxid) this.durable = zxid;
  }

  /** Txns appended to the current (newest) segment: the sequencer's snapshot trigger counts them. */
  get currentSegmentTxns(): number {
    const s = this.segments[this.segments.length - 1];
    return s === undefined || s.sealed ? 0 : s.txns;
  }

  append(hdr: TxnHeader, txn: Txn | null): void {
    if (this.failure !== null) {
      // While the failure is being handled (cut-back in progress) the sequencer
      // has not heard of it and still proposes: such txns fail with the rest.
      if (!this.failureReported) return;
      throw new Error(`txn log is failed: ${this.failure.message}`);
    }
    let seg = this.segments[this.segments.length - 1];
    if (seg === undefined || seg.sealed) {
      seg = new Segment(logName(hdr.zxid), hdr.zxid);
      this.segments.push(seg);
    }
    const w = seg.pending;
    const at = w.pos;
    w.ensure(12);
    w.pos += 12;
    const bodyStart = w.pos;
    writeTxnBodyBytes(w, hdr, txn);
    const len = w.pos - bodyStart;
    const crc = adler32(w.buf, bodyStart, w.pos);
    w.view.setUint32(at, 0);
    w.view.setUint32(at + 4, crc);
    w.view.setInt32(at + 8, len);
    w.byte(ENTRY_END);
    seg.pendingLastZxid = hdr.zxid;
    seg.txns++;
    this.stats.txnsWritten++;
    this.lastAppended = hdr.zxid;
  }

  /** The next append starts a new log file. */
  roll(): void {
    const seg = this.segments[this.segments.length - 1];
    if (seg !== undefined) seg.sealed = true;
  }

  flush(): void {
    if (this.inflight || this.failure !== null) return;
    if (!this.segments.some((s) => s.pending.pos > 0)) return;
    this.inflight = true;
    if (this.inlineNow()) {
      // One event-loop turn first: replies and events already published
      // (reads answered in the same batch) are written out before the thread
      // waits for the disk, and txns appended meanwhile join this batch.
      setImmediate(this.runInline);
    } else {
      this.startBatch(false);
    }
  }

  /**
   * Whether the next batch is written on this thread: the disk has been
   * quick, and either the loop slept since the last batch or that batch was
   * written inline and little time has passed since (the loop did not sleep,
   * so that time was all work): less than inlineChainMaxWorkMs, and less than
   * the write took.
   */
  private inlineNow(): boolean {
    if (this.loopIdleMs === null) return false;
    const idle = this.loopIdleMs();
    const slept = idle > this.idleAtLastBatch;
    this.idleAtLastBatch = idle;
    const now = this.now();
    if (now < this.inlineOffUntil) return false;
    return slept || now < this.inlineChainUntil;
  }

  private startBatch(inline: boolean): void {
    if (inline) this.stats.inlineWrites++;
    else this.stats.pooledWrites++;
    // Set again only by an inline batch that succeeds.
    this.inlineChainUntil = -Infinity;
    if (inline) {
      let zxid: number | null;
      try {
        zxid = this.writeInlineQuick();
      } catch (err) {
        this.batchFailed(err as NodeJS.ErrnoException);
        return;
      }
      if (zxid !== null) {
        this.batchDone(zxid);
        return;
      }
    }
    this.writeBatch(inline).then(this.onBatchDone, this.onBatchFailed);
  }

  private readonly onBatchDone = (zxid: number): void => this.batchDone(zxid);
  private readonly onBatchFailed = (err: NodeJS.ErrnoException): void => this.batchFailed(err);

  private batchDone(zxid: number): void {
    this.inflight = false;
    if (zxid >= 0) {
      this.durable = zxid;
      this.onDurable(zxid);
    }
    if (this.closing !== null && !this.segments.some((s) => s.pending.pos > 0)) {
      const done = this.closing;
      this.closing = null;
      void this.closeAll().then(done, done);
      return;
    }
    this.flush();
  }

  private batchFailed(err: NodeJS.ErrnoException): void {
    this.inflight = false;
    void this.fail(err);
  }

  /**
   * An inline batch in the common case, with no promise or microtask: one
   * file, open, with room for the batch, and no separate sync (O_DSYNC, or
   * forceSync=no). Returns the durable zxid, or null when the batch needs
   * writeBatch. Throws what the write throws (the batch then fails as there).
   */
  private writeInlineQuick(): number | null {
    if (this.segments.length !== 1) return null;
    const seg = this.segments[0]!;
    const len = seg.pending.pos;
    if (seg.fd < 0 || len === 0 || (this.opts.forceSync && !this.dsync)) return null;
    if (paddedSize(seg.position + len, seg.size, this.opts.preAllocBytes) !== seg.size) return null;
    const lastZxid = seg.pendingLastZxid;
    const buf = this.takePending(seg);
    const t0 = this.now();
    this.writeAllSync(seg, buf, len);
    const ms = this.now() - t0;
    this.wrote(seg, buf, len, ms, true);
    seg.durablePosition = seg.position;
    this.inlineChainUntil = this.now() + Math.min(inlineChainMaxWorkMs, ms);
    return lastZxid;
  }

  /** Writes buf's first len bytes at the segment's position, on this thread (a write may take fewer bytes than asked). */
  private writeAllSync(seg: Segment, buf: Writer, len: number): void {
    for (let off = 0; off < len;) off += this.storage.writeSync(seg.fd, buf.buf, off, len - off, seg.position + off);
  }

  /** Hands a segment's pending bytes over for writing; the segment appends to the spare buffer meanwhile. */
  private takePending(seg: Segment): Writer {
    const buf = seg.pending;
    seg.pending = this.spare ?? new Writer(64 * 1024);
    this.spare = null;
    return buf;
  }

  /** After a segment's batch is written (with O_DSYNC, durable): times, position, the buffer back as the spare. */
  private wrote(seg: Segment, buf: Writer, len: number, ms: number, inline: boolean): void {
    if (inline && ms > this.inlineWriteMaxMs) this.slowInline(ms, seg);
    // With O_DSYNC the write was the sync: its time is the fsync time.
    if (this.dsync) this.recordFsync(ms, seg);
    seg.position += len;
    this.stats.bytesWritten += len;
    buf.reset();
    this.spare = buf;
  }

  /**
   * Write and fsync everything pending, oldest segment first (the data writes
   * on this thread if inline). Returns the highest durable zxid, or -1.
   */
  private async writeBatch(inline: boolean): Promise<number> {
    let durableZxid = -1;
    let writeMs = 0;
    const touched: Segment[] = [];
    for (const seg of this.segments) {
      if (seg.pending.pos === 0) continue;
      if (seg.fd < 0) await this.open(seg);
      const lastZxid = seg.pendingLastZxid;
      const buf = this.takePending(seg);
      const len = buf.pos;
      const newSize = paddedSize(seg.position + len, seg.size, this.opts.preAllocBytes);
      if (newSize !== seg.size) {
        await call<number>((cb) => this.fsio.write(seg.fd, ZERO_BYTE, 0, 1, newSize - 1, cb));
        seg.size = newSize;
      }
      const t0 = this.now();
      if (inline) {
        this.writeAllSync(seg, buf, len);
      } else {
        for (let off = 0; off < len;) {
          off += await call<number>((cb) => this.fsio.write(seg.fd, buf.buf, off, len - off, seg.position + off, cb));
        }
      }
      const ms = this.now() - t0;
      writeMs += ms;
      this.wrote(seg, buf, len, ms, inline);
      touched.push(seg);
      durableZxid = lastZxid;
      // Each file is synced before the next one is written: a later log must
      // never hold txns while an earlier one can still lose some (recovery
      // would find a gap). This adds a wait only when a batch spans a roll.
      if (this.opts.forceSync && !this.dsync) {
        const t1 = this.now();
        await call<void>((cb) => this.fsio.fdatasync(seg.fd, (err) => cb(err, undefined)));
        this.recordFsync(this.now() - t1, seg);
      }
    }
    // Only now: a failure before this point cuts the whole batch back, in every file.
    for (const seg of touched) seg.durablePosition = seg.position;
    // Close segments that are complete and superseded.
    while (this.segments.length > 1 && this.segments[0]!.sealed && this.segments[0]!.pending.pos === 0) {
      const old = this.segments.shift()!;
      if (old.fd >= 0) await call<void>((cb) => this.fsio.close(old.fd, (err) => cb(err, undefined)));
    }
    if (inline) this.inlineChainUntil = this.now() + Math.min(inlineChainMaxWorkMs, writeMs);
    return durableZxid;
  }

  private slowInline(ms: number, seg: Segment): void {
    this.stats.slowInlineWrites++;
    this.inlineOffUntil = this.now() + inlineBackoffMs;
    log.warn(`an inline write to the txn log ${seg.name} took ${ms.toFixed(1)} ms (over ${this.inlineWriteMaxMs} ms); ` +
      `writes go through the thread pool for the next ${inlineBackoffMs / 1000} s`);
  }

  private recordFsync(ms: number, seg: Segment): void {
    const s = this.stats;
    s.fsyncs++;
    this.fsyncTime.record(ms, performance.now());
    s.fsyncMsTotal += ms;
    s.lastFsyncMs = ms;
    if (ms > s.fsyncMsMax) s.fsyncMsMax = ms;
    if (ms > this.opts.fsyncWarningThresholdMs) {
      s.fsyncsOverThreshold++;
      log.warn(`fsync of the txn log ${seg.name} took ${ms.toFixed(0)} ms (over fsync.warningthresholdms=${this.opts.fsyncWarningThresholdMs}); ` +
        'every write waits for it');
    }
  }

  private async open(seg: Segment): Promise<void> {
    const file = path.join(this.opts.dir, seg.name);
    log.info(`creating txn log ${file}`);
    seg.fd = await call<number>((cb) => this.fsio.open(file, this.dsync ? DSYNC_CREATE : 'wx', cb));
    const w = new Writer(16);
    writeFileHeader(w, TXNLOG_MAGIC);
    // A write may take fewer bytes than asked: a header with a hole would make the whole file unreadable.
    for (let off = 0; off < 16;) off += await call<number>((cb) => this.fsio.write(seg.fd, w.buf, off, 16 - off, off, cb));
    seg.position = 16;
    seg.durablePosition = 16;
    // The directory entry must survive a crash too.
    this.storage.fsyncDir(this.opts.dir);
  }

  private async fail(err: NodeJS.ErrnoException): Promise<void> {
    if (this.failure !== null) return;
    this.failure = err;
    log.error(`txn log write failed (${err.code ?? err.message}); no more writes are accepted until the disk is writable again. ` +
      `The log is cut back to the last durable txn 0x${this.durable.toString(16)}.`);
    // Newest file first, and none older once a cut fails: an older file must
    // never lose txns that a newer one keeps (recovery would find a gap).
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const seg = this.segments[i]!;
      seg.pending.reset();
      if (seg.fd < 0) continue;
      try {
        if (this.inDoubt) throw new Error('a newer log file could not be cut back');
        // Cut back to what was durable: recovery must not replay failed txns.
        await call<void>((cb) => this.fsio.ftruncate(seg.fd, seg.durablePosition, (e) => cb(e, undefined)));
        await call<void>((cb) => this.fsio.fdatasync(seg.fd, (e) => cb(e, undefined)));
      } catch (e) {
        this.inDoubt = true;
        log.error(`could not cut ${seg.name} back to offset ${seg.durablePosition}: ${(e as Error).message}; ` +
          `the txns after 0x${this.durable.toString(16)} may or may not be there after a restart, ` +
          'so no write is accepted until the server restarts');
      }
      await call<void>((cb) => this.fsio.close(seg.fd, (e) => cb(e, undefined))).catch(() => undefined);
      seg.fd = -1;
    }
    this.segments.length = 0;
    if (this.inDoubt) (err as TxnLogFailure).inDoubt = true;
    this.failureReported = true;
    this.onFailure(err);
  }

  /**
   * After a failure: try a small write + fsync in the log directory. On
   * success the log accepts txns again, starting a new file.
   */
  async probe(): Promise<boolean> {
    if (this.failure === null) return true;
    if (this.inDoubt) return false;
    const file = path.join(this.opts.dir, `.probe-${process.pid}`);
    try {
      const fd = await call<number>((cb) => this.fsio.open(file, 'w', cb));
      try {
        await call<number>((cb) => this.fsio.write(fd, Buffer.alloc(this.opts.preAllocBytes > 0 ? Math.min(this.opts.preAllocBytes, 1 << 20) : 4096), 0, 4096, 0, cb));
        await call<void>((cb) => this.fsio.fdatasync(fd, (e) => cb(e, undefined)));
      } finally {
        await call<void>((cb) => this.fsio.close(fd, (e) => cb(e, undefined))).catch(() => undefined);
      }
      this.storage.rmSync(file);
      this.failure = null;
      this.failureReported = false;
      log.info('the txn log directory is writable again; accepting writes');
      return true;
    } catch {
      this.storage.rmSync(file);
      return false;
    }
  }

  /** Write what is pending, then close every file. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.failure !== null) { resolve(); return; }
      if (!this.inflight && !this.segments.some((s) => s.pending.pos > 0)) {
        void this.closeAll().then(resolve, resolve);
        return;
      }
      this.closing = resolve;
      this.flush();
    });
  }

  private async closeAll(): Promise<void> {
    for (const seg of this.segments) {
      if (seg.fd >= 0) {
        await call<void>((cb) => this.fsio.close(seg.fd, (e) => cb(e, undefined))).catch(() => undefined);
        seg.fd = -1;
      }
    }
    this.segments.length = 0;
  }

  get lastAppendedZxid(): number {
    return this.lastAppended;
  }
}

const ZERO_BYTE = Buffer.alloc(1);
/** 'wx' (create, fail if it exists, write only) plus O_DSYNC. */
const DSYNC_CREATE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_DSYNC;
