// Test support (not a test file): an independent reader of Apache's txn log
// framing, written from the format (not from zoonode's reader), so tests can
// find entry offsets to damage and can tell whether a file ends in a torn
// entry before the server under test looks at it.
//
//   log   = int "ZKLG", int 2, long dbid, entry*, zero padding
//   entry = long adler32(body), int length, body, byte 0x42
//   body  = TxnHeader{long clientId, int cxid, long zxid, long time, int type}, record...

import fs from 'node:fs';

export interface LogEntryInfo {
  /** Offset of the entry's checksum field. */
  offset: number;
  /** Offset just past the entry's 0x42. */
  end: number;
  bodyLength: number;
  zxid: number;
  type: number;
}

export interface LogFileScan {
  file: string;
  size: number;
  entries: LogEntryInfo[];
  /** Offset just past the last valid entry. */
  validEnd: number;
  /** Why scanning stopped: 'zero length', 'end of file', or what was wrong with the next entry. */
  stop: string;
  /** True if a non-zero byte follows validEnd (a torn or damaged entry, not just padding). */
  tailHasData: boolean;
}

const MAGIC = 0x5a4b4c47;

export function adler32Of(buf: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < buf.length;) {
    const n = Math.min(3800, buf.length - i);
    for (const end = i + n; i < end; i++) {
      a += buf[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

export function scanTxnLogFile(file: string): LogFileScan {
  const buf = fs.readFileSync(file);
  const entries: LogEntryInfo[] = [];
  const nonZeroFrom = (from: number): boolean => buf.subarray(from).some((b) => b !== 0);
  if (buf.length < 16 || buf.readInt32BE(0) !== MAGIC || buf.readInt32BE(4) !== 2) {
    // A file created but never given its header (a crash right after creating it) holds nothing.
    if (!nonZeroFrom(0)) return { file, size: buf.length, entries, validEnd: 0, stop: 'no header (all zeros)', tailHasData: false };
    throw new Error(`${file}: not a version-2 txn log`);
  }
  let p = 16;
  let stop = 'end of file';
  for (;;) {
    if (p + 12 > buf.length) { stop = 'end of file'; break; }
    const len = buf.readInt32BE(p + 8);
    if (len === 0) { stop = 'zero length'; break; }
    if (len < 28 || p + 12 + len + 1 > buf.length) { stop = `bad length ${len}`; break; }
    const body = buf.subarray(p + 12, p + 12 + len);
    const crc = buf.readBigUInt64BE(p);
    if (crc !== BigInt(adler32Of(body))) { stop = 'checksum mismatch'; break; }
    if (buf[p + 12 + len] !== 0x42) { stop = 'no end-of-record byte'; break; }
    entries.push({
      offset: p,
      end: p + 12 + len + 1,
      bodyLength: len,
      zxid: Number(body.readBigInt64BE(12)),
      type: body.readInt32BE(28),
    });
    p += 12 + len + 1;
  }
  return { file, size: buf.length, entries, validEnd: p, stop, tailHasData: nonZeroFrom(p) };
}
