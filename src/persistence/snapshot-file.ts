// Snapshot files: reading, writing at once (start-up, tests), and writing in
// slices while the server runs (SnapshotJob).
//
// A SnapshotJob never stalls its thread: it encodes the tree walk in slices
// of about a millisecond, yielding to the event loop in between, into a few
// SharedArrayBuffer slots that are reused chunk after chunk (a snapshot of
// a large tree allocates no buffer per chunk, which keeps the collector
// quiet while the server answers reads). The slots outlive the job
// (SnapshotSlots): a SharedArrayBuffer's memory goes back only once every
// thread that saw it has collected its handle, and the pool's workers
// hardly ever collect, so slots made per snapshot piled up (about 1 MB of
// resident memory per snapshot under churn with frequent small snapshots).
// A pool (piscina workers) checksums
// and compresses each slot in place; slots are written to a temporary file
// in order and then reused; the per-chunk Adler-32s are combined into the
// seal. The file is fsynced and
// renamed into place, then the directory is fsynced: a snapshot either exists
// whole under its name or not at all.

import fs from 'node:fs';
import path from 'node:path';
import { Logger } from '../util/log.js';
import { Writer } from '../jute/writer.js';
import { adler32, adler32Combine } from './checksum.js';
import { ByteWindow, WINDOW_BYTES } from './byte-window.js';
import { compressChunk, compressionOfName, decompress, extensionOf, SNAPPY_HEADER, type Compression } from './compression.js';
import { fsyncDir, snapshotName } from './file-names.js';
import { decodeSnapshot, SnapshotEncoder, writeSeal, type SnapshotSink, type SnapshotSource } from './snapshot-format.js';
import { processChunk, type ChunkResult, type ChunkTask } from './snapshot-worker.js';
import { nodeStorageFs, type StorageFs } from './storage-fs.js';

const log = new Logger('snapshot');

/** Runs chunk tasks: a piscina pool in the server, or inline. */
export interface ChunkPool {
  run(task: ChunkTask): Promise<ChunkResult>;
}

export const inlineChunkPool: ChunkPool = {
  run(task: ChunkTask): Promise<ChunkResult> {
    return Promise.resolve(processChunk(task));
  },
};

export interface SnapshotResult {
  file: string;
  zxid: number;
  nodes: number;
  bytes: number;
  ms: number;
}

/** Apache's quick validity check: a plain snapshot ends with int 1, '/' (the seal's path). */
export function looksComplete(file: string, fsys: StorageFs = nodeStorageFs): boolean {
  const c = compressionOfName(file);
  let size: number;
  try {
    size = fsys.statSync(file).size;
  } catch {
    return false;
  }
  if (size < 10) return false;
  if (c !== 'none') return true;
  const fd = fsys.openSync(file, 'r');
  try {
    const tail = Buffer.alloc(5);
    fsys.readSync(fd, tail, 0, 5, size - 5);
    return tail.readInt32BE(0) === 1 && tail[4] === 0x2f;
  } finally {
    fsys.closeSync(fd);
  }
}

/**
 * Read a snapshot file (any compression) into a sink; throws on any damage.
 * An uncompressed file is read through one reused window, never whole.
 */
export function readSnapshotFile(file: string, sink: SnapshotSink, fsys: StorageFs = nodeStorageFs,
  windowBytes = WINDOW_BYTES): { nodes: number } {
  const c = compressionOfName(file);
  if (c !== 'none') return decodeSnapshot(ByteWindow.ofBytes(decompress(fsys.readFileSync(file), c)), sink);
  const size = fsys.statSync(file).size;
  const fd = fsys.openSync(file, 'r');
  try {
    return decodeSnapshot(ByteWindow.ofFile(fsys, fd, size, windowBytes), sink);
  } finally {
    fsys.closeSync(fd);
  }
}

/** The name a snapshot is written under until it is complete and renamed. */
export function tmpName(dir: string, finalName: string): string {
  return path.join(dir, `tmp.${finalName}.${process.pid}`);
}

/** Write a whole snapshot now (used at start-up, before serving, and in tests). */
export function writeSnapshotSync(
  source: SnapshotSource, dir: string, zxid: number, compression: Compression, fsync = true, fsys: StorageFs = nodeStorageFs,
): SnapshotResult {
  const t0 = performance.now();
  const enc = new SnapshotEncoder(source, zxid);
  const w = new Writer(1 << 20);
  enc.begin(w);
  while (!enc.finished) enc.step(w, 100_000);
  writeSeal(w, adler32(w.buf, 0, w.pos));
  const raw = w.bytes();
  const body = compression === 'snappy' ? Buffer.concat([SNAPPY_HEADER, compressChunk(raw, 'snappy')]) : Buffer.from(compressChunk(raw, compression));
  const name = snapshotName(zxid, extensionOf(compression));
  const tmp = tmpName(dir, name);
  const fd = fsys.openSync(tmp, 'w');
  try {
    // A write may take fewer bytes than asked: go on until all are written.
    for (let off = 0; off < body.length;) off += fsys.writeSync(fd, body, off, body.length - off, off);
    if (fsync) fsys.fsyncSync(fd);
  } finally {
    fsys.closeSync(fd);
  }
  const file = path.join(dir, name);
  fsys.renameSync(tmp, file);
  if (fsync) fsys.fsyncDir(dir);
  return { file, zxid, nodes: enc.nodesWritten, bytes: body.length, ms: performance.now() - t0 };
}

export interface SnapshotJobOptions {
  dir: string;
  zxid: number;
  compression: Compression;
  pool: ChunkPool;
  fsync: boolean;
  /** Encoding budget per slice before yielding to the event loop. */
  sliceMs?: number;
  /**
   * After a slice that spent its whole budget, wait this long before the
   * next (0: the next turn of the event loop) if the server took requests
   * since the previous slice (always, if the source does not count them).
   * Leaves the thread's core to request handling and the other threads
   * most of the time while clients are served; an idle server writes its
   * snapshot at full speed.
   */
  pauseMs?: number;
  /** Target size of an encoded chunk. */
  chunkBytes?: number;
  /** Chunks handed to the pool and not yet written, at most. */
  inflightMax?: number;
  /** Where the job takes its slots and gives them back (default: its own, dropped with it). */
  slots?: SnapshotSlots;
}

interface Slot {
  sab: SharedArrayBuffer;
  bytes: Buffer;
  /** One of the job's fixed slots (reused), not a one-off for an oversized chunk. */
  reusable: boolean;
}

function newSlot(bytes: number, reusable: boolean): Slot {
  const sab = new SharedArrayBuffer(bytes);
  return { sab, bytes: Buffer.from(sab), reusable };
}

/**
 * The chunk slots snapshot jobs take and give back, kept from one job to the
 * next (see the header): a server allocates its slots once, plus the
 * largest oversized one it has needed.
 */
export class SnapshotSlots {
  private readonly spare: Slot[] = [];
  private big: Slot | null = null;

  /** A fixed slot of exactly `bytes`. */
  take(bytes: number): Slot {
    const i = this.spare.findIndex((s) => s.sab.byteLength === bytes);
    return i < 0 ? newSlot(bytes, true) : this.spare.splice(i, 1)[0]!;
  }

  /** A slot of at least `bytes` for one chunk that outgrew the fixed slots. */
  takeBig(bytes: number): Slot {
    const big = this.big;
    if (big === null || big.sab.byteLength < bytes) return newSlot(bytes, false);
    this.big = null;
    return big;
  }

  /** A slot no thread is reading or writing any more. */
  give(slot: Slot): void {
    if (slot.reusable) this.spare.push(slot);
    else if (this.big === null || slot.sab.byteLength > this.big.sab.byteLength) this.big = slot;
  }

  /** Bytes held (for tests). */
  get bytesHeld(): number {
    return this.spare.reduce((n, s) => n + s.sab.byteLength, this.big?.sab.byteLength ?? 0);
  }
}

/** A snapshot written in slices while the server runs. Await `done`. */
export class SnapshotJob {
  readonly done: Promise<SnapshotResult>;
  private readonly encoder: SnapshotEncoder;
  private readonly requestsTaken: (() => number) | null;
  private readonly w = new Writer(0);
  private readonly t0 = performance.now();
  private readonly name: string;
  private readonly tmp: string;
  private fd = -1;
  private position = 0;
  private nextIndex = 0;
  private nextToWrite = 0;
  /** Finished chunks by index, waiting for their turn to be written. */
  private readonly results = new Map<number, { slot: Slot; length: number; result: ChunkResult }>();
  private readonly freeSlots: Slot[] = [];
  /** The slot the encoder is filling, or null while every slot is busy. */
  private current: Slot | null = null;
  private adler = 1;
  private writing = false;
  private encodingDone = false;
  private failed = false;
  private resolve!: (r: SnapshotResult) => void;
  private reject!: (e: Error) => void;
  private readonly sliceMs: number;
  private pauseMs: number;
  private spent = false;
  /** Encoding time since the last pause (or the start), in ms. */
  private worked = 0;
  /** The source's request count at the previous slice (-1: it does not count). */
  private requestsSeen: number;
  private readonly chunkBytes: number;
  private readonly slotCount: number;
  private readonly slots: SnapshotSlots;
  private scheduled = false;

  constructor(source: SnapshotSource, private readonly opts: SnapshotJobOptions) {
    this.sliceMs = opts.sliceMs ?? 1;
    this.pauseMs = opts.pauseMs ?? 0;
    this.chunkBytes = opts.chunkBytes ?? 1 << 20;
    this.slotCount = Math.max(1, opts.inflightMax ?? 4);
    this.done = new Promise((res, rej) => { this.resolve = res; this.reject = rej; });
    this.encoder = new SnapshotEncoder(source, opts.zxid);
    this.requestsTaken = source.requestsTaken?.bind(source) ?? null;
    this.requestsSeen = this.requestsTaken?.() ?? -1;
    this.name = snapshotName(opts.zxid, extensionOf(opts.compression));
    this.tmp = tmpName(opts.dir, this.name);
    this.slots = opts.slots ?? new SnapshotSlots();
    // Headroom: a step may run past chunkBytes by up to a few nodes.
    for (let i = 0; i < this.slotCount; i++) this.freeSlots.push(this.slots.take(this.chunkBytes + (this.chunkBytes >> 1)));
    try {
      this.fd = fs.openSync(this.tmp, 'w');
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    if (opts.compression === 'snappy') {
      fs.writeSync(this.fd, SNAPPY_HEADER, 0, SNAPPY_HEADER.length, 0);
      this.position = SNAPPY_HEADER.length;
    }
    this.takeSlot();
    this.encoder.begin(this.w);
    this.schedule();
  }

  private takeSlot(): boolean {
    const slot = this.freeSlots.pop();
    if (slot === undefined) return false;
    this.current = slot;
    this.w.attach(slot.bytes);
    return true;
  }

  private schedule(): void {
    if (this.scheduled || this.failed || this.encodingDone) return;
    this.scheduled = true;
    if (this.spent && this.pauseMs > 0 && this.serving()) setTimeout(this.slice, this.pauseMs);
    else setImmediate(this.slice);
  }

  /**
   * Stop pausing between slices: the server has logged enough txns for the
   * next snapshot to be due, so this one is falling behind the log (each
   * txn it does not cover is one more to replay at the next start).
   */
  hurry(): void {
    this.pauseMs = 0;
  }

  /** Whether the server took requests since the previous call (true when the source does not say). */
  private serving(): boolean {
    if (this.requestsTaken === null) return true;
    const n = this.requestsTaken();
    const moved = n !== this.requestsSeen;
    this.requestsSeen = n;
    return moved;
  }

  /** One slice: encode nodes until the budget is spent or a chunk is full. */
  private readonly slice = (): void => {
    this.scheduled = false;
    if (this.failed) return;
    if (this.current === null && !this.takeSlot()) return; // resumed when a slot is written
    // The budget spans slices: one that ends because its chunk is full
    // leaves the rest to the next, so the pause follows every sliceMs of
    // encoding however the chunks fall (a light load encodes a 1 MiB chunk
    // in under a millisecond, and then never paused).
    const start = performance.now();
    const deadline = start + this.sliceMs - this.worked;
    let now = start;
    while (!this.encoder.finished && this.w.pos < this.chunkBytes && now < deadline) {
      this.encoder.step(this.w, 64);
      now = performance.now();
    }
    this.worked += now - start;
    this.spent = now >= deadline;
    if (this.spent) this.worked = 0;
    if (this.w.pos >= this.chunkBytes || this.encoder.finished) this.emitChunk();
    if (this.encoder.finished) {
      this.encodingDone = true;
      this.maybeFinish();
    } else {
      this.schedule();
    }
  };

  private emitChunk(): void {
    const slot = this.current!;
    this.current = null;
    const length = this.w.pos;
    // A node bigger than the slot's headroom made the writer grow out of it:
    // this chunk goes in a slot of its own size.
    const own = this.w.buf.buffer !== slot.sab ? this.ownSlot(length) : slot;
    if (own !== slot) this.freeSlots.push(slot);
    const index = this.nextIndex++;
    this.opts.pool.run({ slot: own.sab, length, compression: this.opts.compression }).then(
      (result) => {
        this.results.set(index, { slot: own, length, result });
        void this.writeReady();
      },
      (e: Error) => this.fail(e),
    );
  }

  private ownSlot(length: number): Slot {
    const slot = this.slots.takeBig(length);
    this.w.buf.copy(slot.bytes, 0, 0, length);
    return slot;
  }

  private async writeReady(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (!this.failed && this.results.has(this.nextToWrite)) {
        const { slot, length, result } = this.results.get(this.nextToWrite)!;
        this.results.delete(this.nextToWrite);
        this.nextToWrite++;
        this.adler = this.nextToWrite === 1 ? result.adler : adler32Combine(this.adler, result.adler, length);
        await this.write(result.out ?? slot.bytes.subarray(0, result.outLength));
        if (slot.reusable) this.freeSlots.push(slot);
        else this.slots.give(slot);
        this.schedule();
      }
    } catch (e) {
      this.fail(e as Error);
    } finally {
      this.writing = false;
    }
    this.maybeFinish();
  }

  private write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      const at = this.position;
      this.position += bytes.length;
      const go = (off: number): void => {
        fs.write(this.fd, bytes, off, bytes.length - off, at + off, (err, n) => {
          if (err) reject(err);
          else if (off + n < bytes.length) go(off + n);
          else resolve();
        });
      };
      go(0);
    });
  }

  private finishing = false;

  private maybeFinish(): void {
    if (!this.encodingDone || this.nextToWrite < this.nextIndex || this.writing || this.failed || this.finishing) return;
    this.finishing = true;
    void (async () => {
      try {
        const seal = new Writer(32);
        writeSeal(seal, this.adler);
        await this.write(compressChunk(seal.bytes(), this.opts.compression));
        if (this.opts.fsync) await new Promise<void>((res, rej) => fs.fdatasync(this.fd, (e) => (e ? rej(e) : res())));
        await new Promise<void>((res, rej) => fs.close(this.fd, (e) => (e ? rej(e) : res())));
        this.fd = -1;
        const file = path.join(this.opts.dir, this.name);
        await fs.promises.rename(this.tmp, file);
        if (this.opts.fsync) fsyncDir(this.opts.dir);
        this.giveBackSlots();
        this.resolve({ file, zxid: this.opts.zxid, nodes: this.encoder.nodesWritten, bytes: this.position, ms: performance.now() - this.t0 });
      } catch (e) {
        this.fail(e as Error);
      }
    })();
  }

  private fail(e: Error): void {
    if (this.failed) return;
    this.failed = true;
    log.error(`snapshot ${this.name} failed: ${e.message}`);
    if (this.fd >= 0) {
      try { fs.closeSync(this.fd); } catch { /* already closed */ }
      this.fd = -1;
    }
    fs.rmSync(this.tmp, { force: true });
    this.giveBackSlots();
    this.reject(e);
  }

  /** Free slots go back for the next job; one still in a worker or a write is left to the collector. */
  private giveBackSlots(): void {
    if (this.current !== null) this.freeSlots.push(this.current);
    this.current = null;
    for (const s of this.freeSlots) this.slots.give(s);
    this.freeSlots.length = 0;
  }
}

/** Remove temporary snapshot files a crash left behind. */
export function removeStaleTemporaries(dir: string, fsys: StorageFs = nodeStorageFs): void {
  let names: string[] = [];
  try {
    names = fsys.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (n.startsWith('tmp.snapshot.')) {
      log.info(`removing unfinished snapshot ${path.join(dir, n)}`);
      fsys.rmSync(path.join(dir, n));
    }
  }
}
