// Background snapshots inside the simulation. The server's SnapshotJob runs
// on node:fs with a piscina pool, so the simulator takes snapshots with this
// stand-in instead: the same file format (the real SnapshotEncoder and
// compression), the same steps as SnapshotJob (write to tmp.snapshot.<zxid>.<pid>
// in slices while the tree keeps changing — a fuzzy snapshot — then fsync,
// rename, fsync the directory), on the simulated disk, one scheduler event
// per slice. A crash between slices leaves a partial temporary file that was
// never renamed. A few snapshots are written as Apache writes them, straight
// under the final name, so a crash leaves a partial snapshot.<zxid> as an
// Apache data directory can hold.
//
// Scheduling follows Storage.noteTxn: a snapshot is due after snapCount/2
// plus a random part of snapCount/2 txns, and starting one rolls the log.

import path from 'node:path';
import { Writer } from '../jute/writer.js';
import { adler32 } from '../persistence/checksum.js';
import { compressChunk, extensionOf, SNAPPY_HEADER, type Compression } from '../persistence/compression.js';
import { snapshotName } from '../persistence/file-names.js';
import { tmpName } from '../persistence/snapshot-file.js';
import { SnapshotEncoder, writeSeal, type SnapshotSource } from '../persistence/snapshot-format.js';
import type { SnapshotScheduler } from '../sequencer/sequencer.js';
import type { Prng } from './prng.js';
import type { SimFs } from './sim-fs.js';
import type { Scheduler } from './sim-time.js';

export interface SimSnapshotOptions {
  dir: string;
  snapCount: number;
  compression: Compression;
  fsync: boolean;
  /** Roll the txn log (the next txn starts a new file). */
  roll(): void;
  /** Chance a snapshot is written straight under its final name, as Apache does. */
  apacheStyleRate: number;
  trace(what: string): void;
}

export class SimSnapshotter implements SnapshotScheduler {
  private txnsSince = 0;
  private randRoll: number;
  private running: Promise<unknown> | null = null;
  /** Bumped when the server stops: slices of a dead server's snapshot do nothing. */
  private alive = true;
  started = 0;
  completed = 0;
  failed = 0;

  constructor(private readonly fs: SimFs, private readonly sched: Scheduler, private readonly rng: Prng,
    private readonly opts: SimSnapshotOptions) {
    this.randRoll = this.newRoll();
  }

  private newRoll(): number {
    return this.rng.int(Math.max(1, Math.floor(this.opts.snapCount / 2)));
  }

  noteTxn(): boolean {
    this.txnsSince++;
    return this.running === null && this.txnsSince > Math.floor(this.opts.snapCount / 2) + this.randRoll;
  }

  get inProgress(): boolean {
    return this.running !== null;
  }

  /** The server died: whatever snapshot was being written stops where it is. */
  kill(): void {
    this.alive = false;
  }

  /** Resolves once no snapshot is being written. */
  idle(): Promise<void> {
    return this.running === null ? Promise.resolve() : this.running.then(() => undefined, () => undefined);
  }

  startSnapshot(source: SnapshotSource, zxid: number): Promise<unknown> | null {
    if (this.running !== null) return null;
    this.txnsSince = 0;
    this.randRoll = this.newRoll();
    this.opts.roll();
    this.started++;
    const p = this.write(source, zxid).then(
      () => { this.completed++; this.running = null; },
      (e: Error) => { this.failed++; this.running = null; throw e; },
    );
    this.running = p;
    return p;
  }

  private async write(source: SnapshotSource, zxid: number): Promise<void> {
    const o = this.opts;
    const name = snapshotName(zxid, extensionOf(o.compression));
    const apacheStyle = this.rng.chance(o.apacheStyleRate);
    const target = apacheStyle ? path.posix.join(o.dir, name) : tmpName(o.dir, name);
    o.trace(`snapshot 0x${zxid.toString(16)} begins${apacheStyle ? ' (under its final name, as Apache)' : ''}`);
    // As SnapshotJob: the sessions and ACLs are taken when the job starts.
    const enc = new SnapshotEncoder(source, zxid);
    const w = new Writer(64 * 1024);
    enc.begin(w);
    const fd = await this.call<number>((cb) => this.fs.open(target, 'w', cb));
    let pos = 0;
    let adler = 1;
    const put = async (bytes: Uint8Array): Promise<void> => {
      for (let off = 0; off < bytes.length;) {
        const n = await this.call<number>((cb) => this.fs.write(fd, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), off, bytes.length - off, pos + off, cb));
        off += n;
      }
      pos += bytes.length;
    };
    try {
      if (o.compression === 'snappy') await put(SNAPPY_HEADER);
      while (!enc.finished) {
        await this.pause(this.rng.range(0, 3));
        enc.step(w, this.rng.range(3, 40));
        adler = adler32(w.buf, 0, w.pos, adler);
        await put(compressChunk(w.copy(), o.compression));
        w.reset();
      }
      const seal = new Writer(32);
      writeSeal(seal, adler);
      await put(compressChunk(seal.copy(), o.compression));
      if (o.fsync) await this.call<undefined>((cb) => this.fs.fdatasync(fd, (e) => cb(e, undefined)));
      await this.call<undefined>((cb) => this.fs.close(fd, (e) => cb(e, undefined)));
      if (!apacheStyle) {
        await this.call<undefined>((cb) => this.fs.renameAsync(target, path.posix.join(o.dir, name), (e) => cb(e, undefined)));
        if (o.fsync) await this.call<undefined>((cb) => this.fs.fsyncDirAsync(o.dir, (e) => cb(e, undefined)));
      }
      o.trace(`snapshot 0x${zxid.toString(16)} written (${pos} bytes, ${enc.nodesWritten} nodes)`);
    } catch (e) {
      // As SnapshotJob.fail: the unfinished file goes.
      if (this.alive) {
        o.trace(`snapshot 0x${zxid.toString(16)} failed: ${(e as Error).message}`);
        this.fs.close(fd, () => undefined);
        this.fs.rmSync(target);
      }
      throw e;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => this.sched.after(ms, 'snapshot slice', () => { if (this.alive) resolve(); }));
  }

  private call<T>(fn: (cb: (err: NodeJS.ErrnoException | null, v: T) => void) => void): Promise<T> {
    return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
  }
}
