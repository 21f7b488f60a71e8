// Snapshot files: reading, writing at once (start-up, tests), and writing in
// slices while the server runs (SnapshotJob).
//
// A SnapshotJob never stalls its thread: it encodes the tree walk in slices
// of a couple of milliseconds, yielding to the event loop in between, and
// hands each encoded chunk to a pool (piscina workers) that checksums and
// compresses it. Results are written to a temporary file in order; the
// per-chunk Adler-32s are combined into the seal. The file is fsynced and
// renamed into place, then the directory is fsynced: a snapshot either exists
// whole under its name or not at all.

import fs from 'node:fs';
import path from 'node:path';
import { Logger } from '../util/log.js';
import { Writer } from '../jute/writer.js';
import { adler32, adler32Combine } from './checksum.js';
import { compressChunk, compressionOfName, decompress, extensionOf, SNAPPY_HEADER, type Compression } from './compression.js';
import { fsyncDir, snapshotName } from './file-names.js';
import { decodeSnapshot, SnapshotEncoder, writeSeal, type SnapshotSink, type SnapshotSource } from './snapshot-format.js';
import type { ChunkTask } from './snapshot-worker.js';

const log = new Logger('snapshot');

/** Runs chunk tasks (a piscina pool in the server, or inline). Returns u32 adler, u32 length, bytes. */
export interface ChunkPool {
  run(task: ChunkTask, options: { transferList: ArrayBuffer[] }): Promise<Uint8Array>;
}

export const inlineChunkPool: ChunkPool = {
  run(task: ChunkTask): Promise<Uint8Array> {
    const adler = adler32(task.buf);
    const body = compressChunk(task.buf, task.compression);
    const out = new Uint8Array(8 + body.length);
    const v = new DataView(out.buffer);
    v.setUint32(0, adler);
    v.setUint32(4, task.buf.length);
    out.set(body, 8);
    return Promise.resolve(out);
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
export function looksComplete(file: string): boolean {
  const c = compressionOfName(file);
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return false;
  }
  if (st.size < 10) return false;
  if (c !== 'none') return true;
  const fd = fs.openSync(file, 'r');
  try {
    const tail = Buffer.alloc(5);
    fs.readSync(fd, tail, 0, 5, st.size - 5);
    return tail.readInt32BE(0) === 1 && tail[4] === 0x2f;
  } finally {
    fs.closeSync(fd);
  }
}

/** Read a snapshot file (any compression) into a sink; throws on any damage. */
export function readSnapshotFile(file: string, sink: SnapshotSink): { nodes: number } {
  const bytes = decompress(fs.readFileSync(file), compressionOfName(file));
  let doneTo = 0;
  let acc = 1;
  const adlerOf = (end: number): number => {
    if (end < doneTo) {
      doneTo = 0;
      acc = 1;
    }
    acc = adler32(bytes, doneTo, end, acc);
    doneTo = end;
    return acc;
  };
  return decodeSnapshot(bytes, sink, adlerOf);
}

function tmpName(dir: string, finalName: string): string {
  return path.join(dir, `tmp.${finalName}.${process.pid}`);
}

/** Write a whole snapshot now (used at start-up, before serving, and in tests). */
export function writeSnapshotSync(source: SnapshotSource, dir: string, zxid: number, compression: Compression, fsync = true): SnapshotResult {
  const t0 = performance.now();
  const enc = new SnapshotEncoder(source);
  const w = new Writer(1 << 20);
  enc.begin(w);
  while (!enc.finished) enc.step(w, 100_000);
  writeSeal(w, adler32(w.buf, 0, w.pos));
  const raw = w.bytes();
  const body = compression === 'snappy' ? Buffer.concat([SNAPPY_HEADER, compressChunk(raw, 'snappy')]) : Buffer.from(compressChunk(raw, compression));
  const name = snapshotName(zxid, extensionOf(compression));
  const tmp = tmpName(dir, name);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, body);
    if (fsync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  const file = path.join(dir, name);
  fs.renameSync(tmp, file);
  if (fsync) fsyncDir(dir);
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
  /** Target size of an encoded chunk. */
  chunkBytes?: number;
  /** Chunks handed to the pool and not yet written, at most. */
  inflightMax?: number;
}

/** A snapshot written in slices while the server runs. Await `done`. */
export class SnapshotJob {
  readonly done: Promise<SnapshotResult>;
  private readonly encoder: SnapshotEncoder;
  private w = new Writer(1 << 20);
  private readonly t0 = performance.now();
  private readonly name: string;
  private readonly tmp: string;
  private fd = -1;
  private position = 0;
  private nextIndex = 0;
  private nextToWrite = 0;
  private readonly results = new Map<number, Uint8Array>();
  private inflight = 0;
  private adler = 1;
  private writing = false;
  private encodingDone = false;
  private failed = false;
  private resolve!: (r: SnapshotResult) => void;
  private reject!: (e: Error) => void;
  private readonly sliceMs: number;
  private readonly chunkBytes: number;
  private readonly inflightMax: number;
  private scheduled = false;

  constructor(source: SnapshotSource, private readonly opts: SnapshotJobOptions) {
    this.sliceMs = opts.sliceMs ?? 2;
    this.chunkBytes = opts.chunkBytes ?? 1 << 20;
    this.inflightMax = opts.inflightMax ?? 4;
    this.done = new Promise((res, rej) => { this.resolve = res; this.reject = rej; });
    this.encoder = new SnapshotEncoder(source);
    this.name = snapshotName(opts.zxid, extensionOf(opts.compression));
    this.tmp = tmpName(opts.dir, this.name);
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
    this.encoder.begin(this.w);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.failed || this.encodingDone) return;
    this.scheduled = true;
    setImmediate(this.slice);
  }

  /** One slice: encode nodes until the budget is spent or a chunk is full. */
  private readonly slice = (): void => {
    this.scheduled = false;
    if (this.failed) return;
    if (this.inflight >= this.inflightMax) return; // resumed when a chunk comes back
    const deadline = performance.now() + this.sliceMs;
    while (!this.encoder.finished && this.w.pos < this.chunkBytes && performance.now() < deadline) {
      this.encoder.step(this.w, 256);
    }
    if (this.w.pos >= this.chunkBytes || this.encoder.finished) this.emitChunk();
    if (this.encoder.finished) {
      this.encodingDone = true;
      this.maybeFinish();
    } else {
      this.schedule();
    }
  };

  private emitChunk(): void {
    if (this.w.pos === 0) return;
    const buf = new Uint8Array(this.w.pos);
    buf.set(this.w.buf.subarray(0, this.w.pos));
    this.w.reset();
    const index = this.nextIndex++;
    this.inflight++;
    this.opts.pool.run({ buf, compression: this.opts.compression }, { transferList: [buf.buffer as ArrayBuffer] }).then(
      (out) => {
        this.results.set(index, out);
        void this.writeReady();
      },
      (e: Error) => this.fail(e),
    );
  }

  private async writeReady(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (!this.failed && this.results.has(this.nextToWrite)) {
        const out = this.results.get(this.nextToWrite)!;
        this.results.delete(this.nextToWrite);
        this.nextToWrite++;
        const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
        this.adler = this.nextToWrite === 1 ? v.getUint32(0) : adler32Combine(this.adler, v.getUint32(0), v.getUint32(4));
        await this.write(out.subarray(8));
        this.inflight--;
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
    if (!this.encodingDone || this.inflight > 0 || this.writing || this.failed || this.finishing) return;
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
    this.reject(e);
  }
}

/** Remove temporary snapshot files a crash left behind. */
export function removeStaleTemporaries(dir: string): void {
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (n.startsWith('tmp.snapshot.')) {
      log.info(`removing unfinished snapshot ${path.join(dir, n)}`);
      fs.rmSync(path.join(dir, n), { force: true });
    }
  }
}
