// A simulated disk for the simulator: an in-memory file system implementing
// persistence's StorageFs, with the failure behaviour of a real disk under a
// page cache:
//
//   - every file has a durable image and a page cache; writes and truncates
//     go to the cache and are remembered as pending until fsync/fdatasync
//     makes the cache durable;
//   - directory entries (create, rename, unlink) are pending until the
//     directory is fsynced;
//   - a process crash (SIGKILL) or exit keeps the page cache: what was
//     written stays readable but is still not durable (a power loss later can
//     lose it); calls in flight never complete;
//   - a machine crash (power loss) keeps, per file, none, all, or an
//     in-order prefix of the pending writes, the last one possibly torn (a
//     prefix of its bytes, then zeros, garbage or the old bytes); per
//     directory, an in-order prefix of the pending entry changes;
//   - chosen moments can fail: writes and fsyncs with EIO or ENOSPC (ENOSPC
//     after part of the write landed), short writes, and — for start-up
//     recovery — a crash or an EIO at the n-th synchronous call.
//
// Asynchronous calls complete as scheduler events after a simulated
// latency; a crash drops the completions still in flight. Everything random
// comes from the Prng it is given.

import path from 'node:path';
import type { StorageFs } from '../persistence/storage-fs.js';
import type { Prng } from './prng.js';
import type { Scheduler } from './sim-time.js';

/** Thrown by a synchronous call at the moment chosen for a crash (only while armed, during start-up). */
export class SimCrash extends Error {
  override name = 'SimCrash';
}

type PendingOp = { kind: 'write'; pos: number; bytes: Buffer } | { kind: 'truncate'; len: number };
type DirOp = { kind: 'link'; name: string; inode: Inode } | { kind: 'unlink'; name: string } | { kind: 'rename'; from: string; to: string; inode: Inode };

class Inode {
  data: Buffer = Buffer.alloc(0);
  size = 0;
  durable: Buffer = Buffer.alloc(0);
  pending: PendingOp[] = [];
  constructor(readonly id: number) {}
}

class Dir {
  entries = new Map<string, Inode>();
  durable = new Map<string, Inode>();
  pending: DirOp[] = [];
}

interface OpenFile {
  inode: Inode;
  path: string;
  writable: boolean;
}

export interface SimFsFaults {
  /** While clock < this, asynchronous writes/fsyncs/truncates fail with errorRate. */
  errorUntilMs: number;
  errorRate: number;
  /** Chance an asynchronous write of more than one byte takes only part of its bytes. */
  shortWriteRate: number;
  /** Chance an fdatasync takes 20-200 ms instead of 1-8 ms. */
  slowSyncRate: number;
  /** Injected bug: fsync reports success and makes nothing durable. */
  fsyncLies: boolean;
}

export interface SimFsStats {
  asyncOps: number;
  syncOps: number;
  fsyncs: number;
  ioErrors: number;
  shortWrites: number;
  processCrashes: number;
  machineCrashes: number;
  /** Machine crashes: pending writes lost, kept, torn; directory changes lost. */
  pendingWritesLost: number;
  pendingWritesKept: number;
  tornWrites: number;
  dirChangesLost: number;
  syncCrashes: number;
  syncErrors: number;
}

function errno(code: string, syscall: string, p: string): NodeJS.ErrnoException {
  const text: Record<string, string> = {
    ENOENT: 'no such file or directory', EEXIST: 'file already exists', EIO: 'i/o error', ENOSPC: 'no space left on device',
    EBADF: 'bad file descriptor', ENOTDIR: 'not a directory',
  };
  return Object.assign(new Error(`${code}: ${text[code] ?? code}, ${syscall} '${p}'`), { code, syscall, path: p });
}

export class SimFs implements StorageFs {
  readonly faults: SimFsFaults = { errorUntilMs: 0, errorRate: 0, shortWriteRate: 0, slowSyncRate: 0.05, fsyncLies: false };
  readonly stats: SimFsStats = {
    asyncOps: 0, syncOps: 0, fsyncs: 0, ioErrors: 0, shortWrites: 0, processCrashes: 0, machineCrashes: 0,
    pendingWritesLost: 0, pendingWritesKept: 0, tornWrites: 0, dirChangesLost: 0, syncCrashes: 0, syncErrors: 0,
  };
  /** Notable operations (opens, renames, fsyncs, faults), for the simulator's trace. */
  onTrace: (what: string) => void = () => {};

  private readonly dirs = new Map<string, Dir>();
  private readonly fds = new Map<number, OpenFile>();
  private nextFd = 3;
  private nextInode = 1;
  /** Bumped by every crash: completions of calls issued before it are dropped. */
  private generation = 0;
  /** Synchronous calls left before a SimCrash / an EIO (-1: not armed). */
  private syncCrashIn = -1;
  private syncErrorIn = -1;
  /** A SimCrash was thrown: the process is dead, so every later call throws too (code that catches one cannot go on). */
  crashTriggered = false;

  constructor(private readonly sched: Scheduler, private readonly rng: Prng) {
    this.dirs.set('/', new Dir());
  }

  // ---- fault control --------------------------------------------------------

  /** Make the n-th synchronous call from now throw SimCrash (n >= 1), or disarm (-1). */
  armSyncCrash(n: number): void {
    this.syncCrashIn = n;
  }

  /** Make the n-th synchronous call from now fail with EIO (n >= 1), or disarm (-1). */
  armSyncError(n: number): void {
    this.syncErrorIn = n;
  }

  // ---- crashes ----------------------------------------------------------------

  /** The process exits: calls in flight never complete; the page cache stays as it is. */
  processExit(): void {
    this.generation++;
    this.fds.clear();
    this.syncCrashIn = -1;
    this.syncErrorIn = -1;
    this.crashTriggered = false;
  }

  /**
   * The process dies (kind 'process': the page cache survives) or the machine
   * loses power (kind 'machine': pending writes and directory changes survive
   * in part). Open files are gone either way. Returns a description.
   */
  crash(kind: 'process' | 'machine'): string {
    this.generation++;
    this.fds.clear();
    this.syncCrashIn = -1;
    this.syncErrorIn = -1;
    this.crashTriggered = false;
    const notes: string[] = [];
    if (kind === 'process') {
      this.stats.processCrashes++;
      return 'process crash: the page cache survives, not yet durable';
    }
    this.stats.machineCrashes++;
    for (const [dirPath, d] of this.dirs) {
      const n = d.pending.length;
      if (n > 0) {
        const k = this.rng.chance(0.3) ? 0 : this.rng.chance(0.4) ? n : this.rng.int(n + 1);
        for (let i = 0; i < k; i++) applyDirOp(d.durable, d.pending[i]!);
        this.stats.dirChangesLost += n - k;
        if (k < n) notes.push(`${dirPath}: ${n - k} of ${n} directory change(s) lost`);
      }
      d.entries = new Map(d.durable);
      d.pending = [];
    }
    for (const inode of this.allInodes()) {
      const n = inode.pending.length;
      if (n === 0) continue;
      let img: Buffer = Buffer.from(inode.durable);
      const mode = this.rng.weighted([30, 20, 20, 30]);
      let k = mode === 0 ? 0 : mode === 1 ? n : this.rng.int(n);
      if (mode === 3 && this.rng.chance(0.5)) k = n - 1;
      for (let i = 0; i < k; i++) img = applyOp(img, inode.pending[i]!);
      let what = mode === 0 ? 'all lost' : mode === 1 ? 'all kept' : `first ${k} kept`;
      if (mode === 3) {
        const op = inode.pending[k]!;
        if (op.kind === 'write' && op.bytes.length > 0) {
          const keep = this.rng.int(op.bytes.length);
          const fill = this.rng.int(3);
          const torn = Buffer.from(op.bytes);
          if (fill === 0) torn.fill(0, keep);
          else if (fill === 1) this.rng.bytes(torn.length - keep).copy(torn, keep);
          img = applyOp(img, { kind: 'write', pos: op.pos, bytes: fill === 2 ? torn.subarray(0, keep) : torn });
          this.stats.tornWrites++;
          what += `, write ${k + 1} torn after ${keep} of ${op.bytes.length} bytes${fill === 0 ? ' (zeros after)' : fill === 1 ? ' (garbage after)' : ''}`;
          k++;
        }
      }
      this.stats.pendingWritesKept += k;
      this.stats.pendingWritesLost += n - k;
      notes.push(`${this.nameOf(inode)}: ${n} pending write(s): ${what}`);
      this.settle(inode, img);
    }
    return `machine crash: ${notes.length === 0 ? 'nothing was pending' : notes.join('; ')}`;
  }

  private settle(inode: Inode, img: Buffer): void {
    inode.durable = Buffer.from(img);
    inode.data = Buffer.from(img);
    inode.size = img.length;
    inode.pending = [];
  }

  private allInodes(): Inode[] {
    const seen = new Map<number, Inode>();
    for (const d of this.dirs.values()) {
      for (const i of d.entries.values()) seen.set(i.id, i);
      for (const i of d.durable.values()) seen.set(i.id, i);
    }
    return [...seen.values()].sort((a, b) => a.id - b.id);
  }

  private nameOf(inode: Inode): string {
    for (const [dp, d] of this.dirs) {
      for (const [n, i] of d.entries) if (i === inode) return path.posix.join(dp, n);
    }
    return `inode ${inode.id}`;
  }

  // ---- inspection (for the simulator's checks and failure reports) ----------

  /** Every file: path, size, and how many writes are not yet durable. */
  listing(): string[] {
    const out: string[] = [];
    for (const [dp, d] of [...this.dirs].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      for (const [n, i] of [...d.entries].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        out.push(`${path.posix.join(dp, n)} ${i.size} bytes${i.pending.length > 0 ? `, ${i.pending.length} pending` : ''}`);
      }
    }
    return out;
  }

  // ---- namespace helpers --------------------------------------------------------

  private dirOf(p: string, syscall: string): [Dir, string] {
    const d = this.dirs.get(path.posix.dirname(p));
    if (d === undefined) throw errno('ENOENT', syscall, p);
    return [d, path.posix.basename(p)];
  }

  private lookup(p: string, syscall: string): Inode {
    const [d, name] = this.dirOf(p, syscall);
    const i = d.entries.get(name);
    if (i === undefined) throw errno('ENOENT', syscall, p);
    return i;
  }

  private link(d: Dir, name: string, inode: Inode): void {
    d.entries.set(name, inode);
    d.pending.push({ kind: 'link', name, inode });
  }

  private file(fd: number, syscall: string): OpenFile {
    const f = this.fds.get(fd);
    if (f === undefined) throw errno('EBADF', syscall, `fd ${fd}`);
    return f;
  }

  private openNow(p: string, flags: string): number {
    const [d, name] = this.dirOf(p, 'open');
    let inode = d.entries.get(name);
    const create = flags.startsWith('w') || flags.startsWith('a');
    if (inode !== undefined && flags.includes('x')) throw errno('EEXIST', 'open', p);
    if (inode === undefined) {
      if (!create) throw errno('ENOENT', 'open', p);
      inode = new Inode(this.nextInode++);
      this.link(d, name, inode);
      this.onTrace(`create ${name}`);
    } else if (flags.startsWith('w')) {
      truncateInode(inode, 0);
    }
    const fd = this.nextFd++;
    this.fds.set(fd, { inode, path: p, writable: flags !== 'r' });
    return fd;
  }

  private writeNow(fd: number, buf: Uint8Array, off: number, len: number, pos: number): void {
    const f = this.file(fd, 'write');
    if (!f.writable) throw errno('EBADF', 'write', f.path);
    writeInode(f.inode, Buffer.from(buf.buffer, buf.byteOffset + off, len), pos);
  }

  private fsyncNow(fd: number, lie: boolean): void {
    const f = this.file(fd, 'fsync');
    this.stats.fsyncs++;
    if (lie) return;
    f.inode.durable = Buffer.from(f.inode.data.subarray(0, f.inode.size));
    f.inode.pending = [];
  }

  // ---- asynchronous calls (LogFs) -------------------------------------------

  private async<T>(what: string, latencyMs: number, cb: (err: NodeJS.ErrnoException | null, v: T) => void, fail: T,
    body: () => T): void {
    this.stats.asyncOps++;
    const gen = this.generation;
    this.sched.after(latencyMs, what, () => {
      if (gen !== this.generation) return; // the process died meanwhile
      let v: T;
      try {
        v = body();
      } catch (e) {
        cb(e as NodeJS.ErrnoException, fail);
        return;
      }
      cb(null, v);
    });
  }

  private injectError(): string | null {
    if (this.sched.clock.now >= this.faults.errorUntilMs || !this.rng.chance(this.faults.errorRate)) return null;
    this.stats.ioErrors++;
    return this.rng.chance(0.5) ? 'EIO' : 'ENOSPC';
  }

  open(p: string, flags: string, cb: (err: NodeJS.ErrnoException | null, fd: number) => void): void {
    this.async('open', this.rng.int(2), cb, -1, () => this.openNow(p, flags));
  }

  write(fd: number, buf: Buffer, off: number, len: number, pos: number, cb: (err: NodeJS.ErrnoException | null, written: number) => void): void {
    // The bytes are taken now, as the kernel copies them when the call is made.
    const bytes = Buffer.from(buf.subarray(off, off + len));
    this.async('write', this.rng.int(2), cb, 0, () => {
      const f = this.file(fd, 'write');
      const code = this.injectError();
      if (code !== null) {
        let part = 0;
        if (code === 'ENOSPC' && len > 1) {
          // A full disk takes what fits before it refuses.
          part = this.rng.int(len);
          if (part > 0) this.writeNow(fd, bytes, 0, part, pos);
        }
        this.onTrace(`write ${path.posix.basename(f.path)} @${pos}+${len}: ${code}${part > 0 ? ` after ${part} bytes` : ''}`);
        throw errno(code, 'write', f.path);
      }
      let n = len;
      if (len > 1 && this.rng.chance(this.faults.shortWriteRate)) {
        n = this.rng.range(1, len - 1);
        this.stats.shortWrites++;
        this.onTrace(`write ${path.posix.basename(f.path)} @${pos}+${len}: short, ${n} bytes`);
      }
      this.writeNow(fd, bytes, 0, n, pos);
      return n;
    });
  }

  fdatasync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void {
    const slow = this.rng.chance(this.faults.slowSyncRate);
    const latency = slow ? this.rng.range(20, 200) : this.rng.range(1, 8);
    this.async<undefined>('fdatasync', latency, (e) => cb(e), undefined, () => {
      const f = this.file(fd, 'fdatasync');
      const code = this.injectError();
      if (code !== null) {
        this.onTrace(`fdatasync ${path.posix.basename(f.path)}: ${code}`);
        throw errno(code === 'ENOSPC' ? 'EIO' : code, 'fdatasync', f.path);
      }
      // The injected bug (fsyncLies) is in the txn log's fdatasync: acknowledging before durable.
      this.fsyncNow(fd, this.faults.fsyncLies);
      return undefined;
    });
  }

  ftruncate(fd: number, len: number, cb: (err: NodeJS.ErrnoException | null) => void): void {
    this.async<undefined>('ftruncate', this.rng.int(2), (e) => cb(e), undefined, () => {
      const f = this.file(fd, 'ftruncate');
      const code = this.injectError();
      if (code !== null) {
        this.onTrace(`ftruncate ${path.posix.basename(f.path)} to ${len}: EIO`);
        throw errno('EIO', 'ftruncate', f.path);
      }
      truncateInode(f.inode, len);
      return undefined;
    });
  }

  close(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void {
    this.async<undefined>('close', 0, (e) => cb(e), undefined, () => {
      this.file(fd, 'close');
      this.fds.delete(fd);
      return undefined;
    });
  }

  /** Asynchronous rename and directory fsync, for the simulator's background snapshots. */
  renameAsync(from: string, to: string, cb: (err: NodeJS.ErrnoException | null) => void): void {
    this.async<undefined>('rename', this.rng.int(2), (e) => cb(e), undefined, () => {
      this.renameNow(from, to);
      return undefined;
    });
  }

  fsyncDirAsync(dir: string, cb: (err: NodeJS.ErrnoException | null) => void): void {
    this.async<undefined>('fsyncDir', this.rng.range(1, 4), (e) => cb(e), undefined, () => {
      this.fsyncDirNow(dir);
      return undefined;
    });
  }

  // ---- synchronous calls --------------------------------------------------------

  private sync(what: string): void {
    this.stats.syncOps++;
    if (this.crashTriggered) throw new SimCrash(`simulated crash (already dead at ${what})`);
    if (this.syncCrashIn > 0 && --this.syncCrashIn === 0) {
      this.syncCrashIn = -1;
      this.crashTriggered = true;
      this.stats.syncCrashes++;
      this.onTrace(`crash at ${what}`);
      throw new SimCrash(`simulated crash at ${what}`);
    }
    if (this.syncErrorIn > 0 && --this.syncErrorIn === 0) {
      this.syncErrorIn = -1;
      this.stats.syncErrors++;
      this.onTrace(`${what}: EIO (injected)`);
      throw errno('EIO', what.split(' ')[0]!, what.split(' ')[1] ?? '');
    }
  }

  readFileSync(p: string): Buffer {
    this.sync(`read ${p}`);
    const i = this.lookup(p, 'open');
    return Buffer.from(i.data.subarray(0, i.size));
  }

  readdirSync(dir: string): string[] {
    this.sync(`readdir ${dir}`);
    const d = this.dirs.get(dir);
    if (d === undefined) throw errno('ENOENT', 'scandir', dir);
    return [...d.entries.keys()].sort();
  }

  statSync(p: string): { size: number } {
    this.sync(`stat ${p}`);
    return { size: this.lookup(p, 'stat').size };
  }

  openSync(p: string, flags: string): number {
    this.sync(`open ${p}`);
    return this.openNow(p, flags);
  }

  readSync(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number {
    this.sync(`read fd`);
    const f = this.file(fd, 'read');
    const n = Math.max(0, Math.min(len, f.inode.size - pos));
    buf.set(f.inode.data.subarray(pos, pos + n), off);
    return n;
  }

  writeSync(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number {
    this.sync(`write ${this.fds.get(fd)?.path ?? `fd ${fd}`}`);
    this.writeNow(fd, buf, off, len, pos);
    return len;
  }

  fsyncSync(fd: number): void {
    this.sync(`fsync ${this.fds.get(fd)?.path ?? `fd ${fd}`}`);
    this.fsyncNow(fd, false);
  }

  closeSync(fd: number): void {
    this.file(fd, 'close');
    this.fds.delete(fd);
  }

  renameSync(from: string, to: string): void {
    this.sync(`rename ${from}`);
    this.renameNow(from, to);
  }

  private renameNow(from: string, to: string): void {
    const [df, nf] = this.dirOf(from, 'rename');
    const [dt, nt] = this.dirOf(to, 'rename');
    const inode = df.entries.get(nf);
    if (inode === undefined) throw errno('ENOENT', 'rename', from);
    this.onTrace(`rename ${nf} -> ${nt}`);
    if (df === dt) {
      df.entries.delete(nf);
      df.entries.set(nt, inode);
      df.pending.push({ kind: 'rename', from: nf, to: nt, inode });
    } else {
      df.entries.delete(nf);
      df.pending.push({ kind: 'unlink', name: nf });
      this.link(dt, nt, inode);
    }
  }

  rmSync(p: string): void {
    this.sync(`unlink ${p}`);
    const [d, name] = this.dirOf(p, 'unlink');
    if (!d.entries.has(name)) return;
    this.onTrace(`unlink ${name}`);
    d.entries.delete(name);
    d.pending.push({ kind: 'unlink', name });
  }

  truncateSync(p: string, len: number): void {
    this.sync(`truncate ${p}`);
    this.onTrace(`truncate ${path.posix.basename(p)} to ${len}`);
    truncateInode(this.lookup(p, 'truncate'), len);
  }

  mkdirSync(p: string): void {
    let cur = '/';
    for (const part of p.split('/').filter((s) => s !== '')) {
      cur = path.posix.join(cur, part);
      if (!this.dirs.has(cur)) this.dirs.set(cur, new Dir());
    }
  }

  fsyncDir(dir: string): void {
    this.sync(`fsyncdir ${dir}`);
    this.fsyncDirNow(dir);
  }

  private fsyncDirNow(dir: string): void {
    const d = this.dirs.get(dir);
    if (d === undefined) throw errno('ENOENT', 'fsync', dir);
    d.durable = new Map(d.entries);
    d.pending = [];
  }
}

function ensure(inode: Inode, end: number): void {
  if (end <= inode.data.length) return;
  const grown = Buffer.alloc(Math.max(end, inode.data.length * 2, 4096));
  inode.data.copy(grown, 0, 0, inode.size);
  inode.data = grown;
}

function writeInode(inode: Inode, bytes: Buffer, pos: number): void {
  const end = pos + bytes.length;
  ensure(inode, end);
  if (pos > inode.size) inode.data.fill(0, inode.size, pos);
  bytes.copy(inode.data, pos);
  if (end > inode.size) inode.size = end;
  inode.pending.push({ kind: 'write', pos, bytes: Buffer.from(bytes) });
}

function truncateInode(inode: Inode, len: number): void {
  ensure(inode, len);
  if (len > inode.size) inode.data.fill(0, inode.size, len);
  else inode.data.fill(0, len, inode.size);
  inode.size = len;
  inode.pending.push({ kind: 'truncate', len });
}

/** An on-disk image with one more pending operation applied. */
function applyOp(img: Buffer, op: PendingOp): Buffer {
  if (op.kind === 'truncate') {
    if (op.len <= img.length) return img.subarray(0, op.len);
    return Buffer.concat([img, Buffer.alloc(op.len - img.length)]);
  }
  const end = op.pos + op.bytes.length;
  const out = end > img.length ? Buffer.concat([img, Buffer.alloc(end - img.length)]) : img;
  op.bytes.copy(out, op.pos);
  return out;
}

function applyDirOp(entries: Map<string, Inode>, op: DirOp): void {
  switch (op.kind) {
    case 'link': entries.set(op.name, op.inode); break;
    case 'unlink': entries.delete(op.name); break;
    case 'rename':
      entries.delete(op.from);
      entries.set(op.to, op.inode);
      break;
  }
}
