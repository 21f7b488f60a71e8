// The file system calls persistence makes, as one interface, so the same
// txn log, recovery, purge and snapshot code runs on node:fs in the server
// and on a simulated disk in the deterministic simulator (src/testing).
//
// Asynchronous calls (LogFs) serve the txn log while the server runs: the
// sequencer thread must never block on the disk. Synchronous calls serve
// start-up recovery, purge, snapshots written at once, and directory fsyncs.
// nodeStorageFs is the default everywhere: each method is the node:fs call
// itself, with no extra buffering or copies.

import fs from 'node:fs';

/** The asynchronous file calls the txn log makes. */
export interface LogFs {
  /** flags as node:fs takes them: 'wx', or O_* constants or-ed together. */
  open(p: string, flags: string | number, cb: (err: NodeJS.ErrnoException | null, fd: number) => void): void;
  write(fd: number, buf: Buffer, off: number, len: number, pos: number, cb: (err: NodeJS.ErrnoException | null, written: number) => void): void;
  fdatasync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void;
  ftruncate(fd: number, len: number, cb: (err: NodeJS.ErrnoException | null) => void): void;
  close(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void;
}

/** Every file call persistence makes. Errors are thrown (sync) or passed (async) as node:fs does, with `code` set. */
export interface StorageFs extends LogFs {
  readFileSync(p: string): Buffer;
  /** Names in a directory (throws ENOENT if it does not exist). */
  readdirSync(dir: string): string[];
  statSync(p: string): { size: number };
  openSync(p: string, flags: string): number;
  readSync(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number;
  /** Returns the bytes written, which may be fewer than len. */
  writeSync(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  /** Remove a file; no error if it is already gone. */
  rmSync(p: string): void;
  truncateSync(p: string, len: number): void;
  /** Create a directory and its parents. */
  mkdirSync(p: string): void;
  /** fsync a directory so a file created, renamed or removed in it survives a crash. */
  fsyncDir(dir: string): void;
}

function fsyncDirNode(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export const nodeStorageFs: StorageFs = {
  open: (p, flags, cb) => fs.open(p, flags, cb),
  write: (fd, buf, off, len, pos, cb) => fs.write(fd, buf, off, len, pos, cb),
  fdatasync: (fd, cb) => fs.fdatasync(fd, cb),
  ftruncate: (fd, len, cb) => fs.ftruncate(fd, len, cb),
  close: (fd, cb) => fs.close(fd, cb),
  readFileSync: (p) => fs.readFileSync(p),
  readdirSync: (dir) => fs.readdirSync(dir),
  statSync: (p) => fs.statSync(p),
  openSync: (p, flags) => fs.openSync(p, flags),
  readSync: (fd, buf, off, len, pos) => fs.readSync(fd, buf, off, len, pos),
  writeSync: (fd, buf, off, len, pos) => fs.writeSync(fd, buf, off, len, pos),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  closeSync: (fd) => fs.closeSync(fd),
  renameSync: (from, to) => fs.renameSync(from, to),
  rmSync: (p) => fs.rmSync(p, { force: true }),
  truncateSync: (p, len) => fs.truncateSync(p, len),
  mkdirSync: (p) => { fs.mkdirSync(p, { recursive: true }); },
  fsyncDir: fsyncDirNode,
};
