// A file read through one reused buffer, for start-up recovery.
//
// Recovery used to read a snapshot whole (readFileSync) and each log into a
// buffer of the file's size. On this VM a fresh page costs ~15 us to fault
// in, which made reading a 180 MB snapshot take 500-700 ms where reading it
// through a reused 4 MiB buffer takes 15 ms. A decoder reads records from
// `reader`; when one runs past the loaded bytes (a JuteError with
// `truncated`), it calls refill() with the record's start and decodes the
// record again from position 0. The buffer grows only for a record bigger
// than half of it.

import { Reader } from '../jute/reader.js';
import { adler32 } from './checksum.js';
import type { StorageFs } from './storage-fs.js';

export const WINDOW_BYTES = 4 << 20;

export class ByteWindow {
  buf: Buffer;
  /** Valid bytes in buf. */
  len = 0;
  /** File offset of buf[0]. */
  base = 0;
  readonly reader: Reader;
  private eof = false;
  /** Adler-32 of the file's bytes before buf[adlerDone]. */
  private adler = 1;
  private adlerDone = 0;

  private constructor(
    private readonly readAt: ((buf: Buffer, off: number, len: number, pos: number) => number) | null,
    buf: Buffer, len: number,
  ) {
    this.buf = buf;
    this.len = len;
    this.eof = readAt === null;
    this.reader = new Reader(buf, 0, len);
  }

  /** A window over bytes already in memory (a decompressed snapshot): refill() has nothing to add. */
  static ofBytes(bytes: Buffer): ByteWindow {
    return new ByteWindow(null, bytes, bytes.length);
  }

  /** A window over an open file, filled from its start. */
  static ofFile(fsys: StorageFs, fd: number, size: number, windowBytes = WINDOW_BYTES): ByteWindow {
    const w = new ByteWindow((buf, off, len, pos) => fsys.readSync(fd, buf, off, len, pos),
      Buffer.allocUnsafe(Math.max(16, Math.min(size, windowBytes))), 0);
    w.refill(0);
    return w;
  }

  /**
   * Drop the bytes before `keep` (a position in buf), move the rest to the
   * front and read more after them; the reader then covers the window from
   * 0. Returns false when the file has nothing more (the reader is left as it
   * was).
   */
  refill(keep: number): boolean {
    if (this.eof) return false;
    if (keep > this.adlerDone) {
      this.adler = adler32(this.buf, this.adlerDone, keep, this.adler);
      this.adlerDone = keep;
    }
    const tail = this.len - keep;
    let buf = this.buf;
    if (tail * 2 > buf.length) buf = Buffer.allocUnsafe(buf.length * 2);
    this.buf.copy(buf, 0, keep, this.len);
    this.buf = buf;
    this.base += keep;
    this.adlerDone -= keep;
    this.len = tail;
    let read = false;
    while (this.len < buf.length) {
      const n = this.readAt!(buf, this.len, buf.length - this.len, this.base + this.len);
      if (n <= 0) {
        this.eof = true;
        break;
      }
      this.len += n;
      read = true;
    }
    const r = this.reader;
    r.reset(buf, r.buf === buf ? r.view : new DataView(buf.buffer, buf.byteOffset, buf.byteLength), 0, this.len);
    return read;
  }

  /** Load everything from `keep` to the end of the file into the window; the reader is left at `keep`'s bytes. */
  loadRest(keep: number): void {
    const at = this.base + keep;
    for (let from = keep; this.refill(from);) from = 0;
    this.reader.pos = at - this.base;
  }

  /** Adler-32 of every byte of the file before buf[end]; calls must not go backwards. */
  adlerTo(end: number): number {
    if (end < this.adlerDone) throw new Error('adlerTo went backwards');
    this.adler = adler32(this.buf, this.adlerDone, end, this.adler);
    this.adlerDone = end;
    return this.adler;
  }
}
