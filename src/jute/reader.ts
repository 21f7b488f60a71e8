// A bounds-checked read cursor over bytes in Jute's binary encoding:
// big-endian ints and longs, booleans as one byte, buffers and strings as an
// int32 length (-1 = null) then the bytes. Buffers come back as views, not
// copies: a caller that keeps one past the life of the input copies it.

export class JuteError extends Error {
  override name = 'JuteError';
  /** The record ran past the end of the bytes (more input could complete it), rather than being malformed. */
  readonly truncated: boolean;
  constructor(message: string, truncated = false) {
    super(message);
    this.truncated = truncated;
  }
}

export class Reader {
  buf: Buffer;
  view: DataView;
  pos: number;
  end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.pos = start;
    this.end = end;
  }

  /** Re-point this cursor at another range, so hot paths reuse one Reader. */
  reset(bytes: Buffer, view: DataView, start: number, end: number): this {
    this.buf = bytes;
    this.view = view;
    this.pos = start;
    this.end = end;
    return this;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): number {
    const p = this.pos;
    if (n < 0 || p + n > this.end) {
      throw new JuteError(`record truncated: need ${n} bytes at offset ${p}, have ${this.end - p}`, n >= 0);
    }
    this.pos = p + n;
    return p;
  }

  int(): number {
    return this.view.getInt32(this.need(4));
  }

  /** A long as a JS number; exact for |v| < 2^53 (zxids, times, TTLs). */
  long(): number {
    const p = this.need(8);
    return this.view.getInt32(p) * 4294967296 + this.view.getUint32(p + 4);
  }

  /** The high (signed) word of the long at the cursor; call longLo() next. */
  longHi(): number {
    return this.view.getInt32(this.need(4));
  }

  longLo(): number {
    return this.view.getInt32(this.need(4));
  }

  bigLong(): bigint {
    return this.view.getBigInt64(this.need(8));
  }

  bool(): boolean {
    return this.buf[this.need(1)] !== 0;
  }

  byte(): number {
    return this.view.getInt8(this.need(1));
  }

  /** Length-prefixed bytes as a view into the input; null for length -1. */
  buffer(): Uint8Array | null {
    const len = this.int();
    if (len === -1) return null;
    if (len < -1) throw new JuteError(`negative buffer length ${len}`);
    const p = this.need(len);
    return this.buf.subarray(p, p + len);
  }

  /**
   * A buffer copied out as a one-byte (latin1) string: how the tree keeps
   * znode data. A string costs a 16-byte header in the V8 heap, where a
   * Uint8Array of its own costs a few hundred bytes of objects and
   * off-heap bookkeeping, and it never aliases the input (a ring slot).
   */
  latin1Buffer(): string | null {
    const len = this.int();
    if (len === -1) return null;
    if (len < -1) throw new JuteError(`negative buffer length ${len}`);
    const p = this.need(len);
    return this.buf.toString('latin1', p, p + len);
  }

  /** Length-prefixed UTF-8 string; null for length -1. Invalid UTF-8 decodes to U+FFFD, as Java does. */
  ustring(): string | null {
    const len = this.int();
    if (len === -1) return null;
    if (len < -1) throw new JuteError(`negative string length ${len}`);
    const p = this.need(len);
    return this.buf.toString('utf8', p, p + len);
  }

  /** A string that must be present (a znode path): null is a marshalling error, as it is for Apache. */
  path(): string {
    const s = this.ustring();
    if (s === null) throw new JuteError('null path');
    return s;
  }

  /**
   * Vector length: -1 means null; any other negative count is an empty
   * vector, as Apache's BinaryInputArchive reads it (its index is done at a
   * count <= 0), so the fields after it are read next; a positive count must
   * fit in what is left (each element takes at least minElementBytes).
   */
  vectorLength(minElementBytes: number): number {
    const n = this.int();
    if (n < -1) return 0;
    if (n > 0 && n * minElementBytes > this.end - this.pos) {
      throw new JuteError(`vector of ${n} elements cannot fit in ${this.end - this.pos} bytes`, true);
    }
    return n;
  }
}
