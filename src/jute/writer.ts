// A growable write cursor producing Jute's binary encoding. One Writer is
// reused for many records: reset() keeps the allocation, so steady-state
// encoding allocates nothing; bytes() hands out a view, valid until the next
// write.

/** Strings up to this length are tried as ASCII by a JS loop before the native UTF-8 encoder. */
const asciiLoopMax = 64;

export class Writer {
  buf: Buffer;
  view: DataView;
  pos = 0;

  constructor(initialCapacity = 4096) {
    this.buf = Buffer.allocUnsafe(initialCapacity);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  reset(): this {
    this.pos = 0;
    return this;
  }

  /** Write into `buf` from its start (it is replaced by a new buffer if it fills up). */
  attach(buf: Buffer): this {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = 0;
    return this;
  }

  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let cap = Math.max(16, this.buf.length * 2);
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  int(v: number): this {
    this.ensure(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
    return this;
  }

  /** Writes a JS number as a signed 64-bit long; exact for |v| < 2^53. */
  long(v: number): this {
    this.ensure(8);
    const hi = Math.floor(v / 4294967296);
    this.view.setInt32(this.pos, hi | 0);
    this.view.setUint32(this.pos + 4, v - hi * 4294967296);
    this.pos += 8;
    return this;
  }

  longHiLo(hi: number, lo: number): this {
    this.ensure(8);
    this.view.setInt32(this.pos, hi);
    this.view.setInt32(this.pos + 4, lo);
    this.pos += 8;
    return this;
  }

  bigLong(v: bigint): this {
    this.ensure(8);
    this.view.setBigInt64(this.pos, v);
    this.pos += 8;
    return this;
  }

  bool(v: boolean): this {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
    return this;
  }

  byte(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  buffer(v: Uint8Array | null): this {
    if (v === null) return this.int(-1);
    this.ensure(4 + v.length);
    this.view.setInt32(this.pos, v.length);
    this.buf.set(v, this.pos + 4);
    this.pos += 4 + v.length;
    return this;
  }

  /** A buffer held as a one-byte (latin1) string (see Reader.latin1Buffer). */
  latin1Buffer(v: string | null): this {
    if (v === null) return this.int(-1);
    const n = v.length;
    this.ensure(4 + n);
    this.view.setInt32(this.pos, n);
    if (n > 0) this.buf.write(v, this.pos + 4, n, 'latin1');
    this.pos += 4 + n;
    return this;
  }

  /** The string `${prefix}/${name}`, UTF-8, without building it. */
  pathJoin(prefix: string, name: string): this {
    this.ensure(4 + (prefix.length + 1 + name.length) * 3);
    const at = this.pos;
    let p = at + 4;
    if (prefix.length > 0) p += this.utf8At(prefix, p);
    this.buf[p++] = 0x2f;
    p += this.utf8At(name, p);
    this.view.setInt32(at, p - at - 4);
    this.pos = p;
    return this;
  }

  ustring(v: string | null): this {
    if (v === null) return this.int(-1);
    this.ensure(4 + v.length * 3);
    const n = this.utf8At(v, this.pos + 4);
    this.view.setInt32(this.pos, n);
    this.pos += 4 + n;
    return this;
  }

  /**
   * Writes v as UTF-8 at `at` (room checked by the caller); returns the byte
   * count. Short ASCII strings (paths, child names) are copied by a plain
   * loop: several times faster than a call into the native encoder.
   */
  private utf8At(v: string, at: number): number {
    const n = v.length;
    if (n <= asciiLoopMax) {
      const buf = this.buf;
      let i = 0;
      for (; i < n; i++) {
        const c = v.charCodeAt(i);
        if (c >= 0x80) break;
        buf[at + i] = c;
      }
      if (i === n) return n;
    }
    return this.buf.write(v, at, 'utf8');
  }

  /** Raw bytes with no length prefix. */
  raw(v: Uint8Array): this {
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
    return this;
  }

  /** Reserve an int to patch later (vector counts, frame lengths); returns its offset. */
  placeholder(): number {
    const at = this.pos;
    this.int(0);
    return at;
  }

  patchInt(at: number, v: number): void {
    this.view.setInt32(at, v);
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of what has been written, safe to keep. */
  copy(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}
