// Test support: a LogFs over the real file system whose calls can be held,
// failed or counted, to test the txn log's ordering and failure handling.

import fs from 'node:fs';
import type { LogFs } from '../../src/persistence/txn-log.js';

type Cb<T> = (err: NodeJS.ErrnoException | null, v: T) => void;

export class FaultyFs implements LogFs {
  readonly calls: string[] = [];
  /** When set, fdatasync calls wait here until release(). */
  holdSync = false;
  private held: (() => void)[] = [];
  /** Fail the next write that would end past this many bytes of the file (ENOSPC). */
  failWritesPast = Infinity;
  failSync = false;

  release(): void {
    const h = this.held;
    this.held = [];
    for (const f of h) f();
  }

  get heldCount(): number {
    return this.held.length;
  }

  open(p: string, flags: string | number, cb: Cb<number>): void {
    this.calls.push(`open ${p.split('/').pop()}`);
    fs.open(p, flags, cb);
  }

  write(fd: number, buf: Buffer, off: number, len: number, pos: number, cb: Cb<number>): void {
    if (pos + len > this.failWritesPast && len > 1) {
      this.calls.push(`write ENOSPC @${pos}`);
      // A partial write reaches the disk before the error, as a full disk does.
      const part = Math.max(0, Math.min(len, this.failWritesPast - pos));
      fs.write(fd, buf, off, part, pos, () => {
        const e = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        cb(e, 0);
      });
      return;
    }
    this.calls.push(`write ${len}@${pos}`);
    fs.write(fd, buf, off, len, pos, cb);
  }

  fdatasync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void {
    const go = () => {
      if (this.failSync) {
        this.calls.push('fdatasync EIO');
        cb(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
        return;
      }
      this.calls.push('fdatasync');
      fs.fdatasync(fd, cb);
    };
    if (this.holdSync) this.held.push(go);
    else go();
  }

  ftruncate(fd: number, len: number, cb: (err: NodeJS.ErrnoException | null) => void): void {
    this.calls.push(`ftruncate ${len}`);
    fs.ftruncate(fd, len, cb);
  }

  close(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void {
    this.calls.push('close');
    fs.close(fd, cb);
  }
}
