// A minimal DER (ASN.1) reader: enough to walk X.509 certificates (their
// subject names) and PKCS#12 files. Every element is read with its bounds
// checked against its parent; a malformed input throws DerError, never reads
// past the buffer.
//
//   element := tag length content
//   length  := 0xxxxxxx | 1nnnnnnn <n bytes big-endian>   (n <= 4 here)

export class DerError extends Error {
  override name = 'DerError';
}

export const TAG_INTEGER = 0x02;
export const TAG_OCTET_STRING = 0x04;
export const TAG_NULL = 0x05;
export const TAG_OID = 0x06;
export const TAG_UTF8_STRING = 0x0c;
export const TAG_PRINTABLE_STRING = 0x13;
export const TAG_T61_STRING = 0x14;
export const TAG_IA5_STRING = 0x16;
export const TAG_GENERAL_STRING = 0x1b;
export const TAG_UNIVERSAL_STRING = 0x1c;
export const TAG_BMP_STRING = 0x1e;
export const TAG_SEQUENCE = 0x30;
export const TAG_SET = 0x31;

/** One element: its tag byte and where its encoding and its content lie in `buf`. */
export interface Der {
  readonly buf: Buffer;
  readonly tag: number;
  /** Offset of the tag byte (the whole encoding is buf[start, end)). */
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

/** Reads the element at `at`, which must end at or before `limit`. */
export function readDer(buf: Buffer, at = 0, limit = buf.length): Der {
  if (at + 2 > limit) throw new DerError(`truncated element at offset ${at}`);
  const tag = buf[at]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`multi-byte tag at offset ${at} is not supported`);
  let len = buf[at + 1]!;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError(`unsupported length encoding at offset ${at}`);
    if (p + n > limit) throw new DerError(`truncated length at offset ${at}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    p += n;
  }
  if (p + len > limit) throw new DerError(`element at offset ${at} runs past its container (${len} bytes)`);
  return { buf, tag, start: at, contentStart: p, end: p + len };
}

/** The elements inside a constructed element (SEQUENCE, SET, [n] EXPLICIT). */
export function children(d: Der): Der[] {
  const out: Der[] = [];
  let p = d.contentStart;
  while (p < d.end) {
    const c = readDer(d.buf, p, d.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

export function expectTag(d: Der, tag: number, what: string): Der {
  if (d.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${d.tag.toString(16)}`);
  return d;
}

/** The i-th child, which must exist. */
export function child(d: Der, i: number, what: string): Der {
  const c = children(d)[i];
  if (c === undefined) throw new DerError(`${what}: missing element ${i}`);
  return c;
}

export function content(d: Der): Buffer {
  return d.buf.subarray(d.contentStart, d.end);
}

export function encoding(d: Der): Buffer {
  return d.buf.subarray(d.start, d.end);
}

/** An OBJECT IDENTIFIER in dotted form. */
export function oid(d: Der): string {
  expectTag(d, TAG_OID, 'object identifier');
  const b = content(d);
  if (b.length === 0) throw new DerError('empty object identifier');
  const parts: number[] = [];
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if ((b[i]! & 0x80) === 0) {
      if (parts.length === 0) {
        const first = v < 80 ? Math.floor(v / 40) : 2;
        parts.push(first, v - first * 40);
      } else {
        parts.push(v);
      }
      v = 0;
    }
  }
  return parts.join('.');
}

/** A non-negative INTEGER that fits a JavaScript number. */
export function smallInt(d: Der): number {
  expectTag(d, TAG_INTEGER, 'integer');
  const b = content(d);
  if (b.length === 0 || b.length > 6 || (b[0]! & 0x80) !== 0) throw new DerError('integer out of range');
  let v = 0;
  for (const x of b) v = v * 256 + x;
  return v;
}
