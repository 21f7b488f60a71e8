// Reading txn logs for recovery, with Apache's format rules and zoonode's
// rules for damage:
//
//   - a zero length (preallocated zeros) or the end of the file ends a log;
//   - an entry that is cut short or fails its checksum, with nothing valid
//     after it in the file, is a torn tail: a write that a crash interrupted,
//     never acknowledged. The caller truncates it away, with a log line;
//   - an entry that fails its checksum with a valid entry after it is
//     corruption in the middle: recovery stops, naming the file and offset,
//     rather than build a partial tree;
//   - a file no longer than a file header holds no txn, whatever its bytes:
//     a crash or a full disk while the file was created and its header was
//     being written. The caller removes it.

import { adler32 } from './checksum.js';
import { ENTRY_END, FILE_HEADER_BYTES, FORMAT_VERSION, TXNLOG_MAGIC, readTxnEntry, type TxnEntry } from './txn-entry.js';
import { nodeStorageFs, type StorageFs } from './storage-fs.js';

export class CorruptLogError extends Error {
  override name = 'CorruptLogError';
  constructor(readonly file: string, readonly offset: number, detail: string) {
    super(`${file} at offset ${offset}: ${detail}`);
  }
}

export interface LogScan {
  file: string;
  entries: (TxnEntry & { offset: number })[];
  /** Offset just past the last valid entry. */
  validEnd: number;
  /** Set when the file ends in a torn entry starting at validEnd. */
  torn: { offset: number; reason: string } | null;
  firstZxid: number;
  lastZxid: number;
}

interface RawEntry { body: Buffer; end: number }

/** Parse the entry at p, or return why it is not a valid entry. */
function entryAt(buf: Buffer, p: number): RawEntry | string | null {
  if (p + 12 > buf.length) {
    for (let i = p; i < buf.length; i++) if (buf[i] !== 0) return 'entry header cut short';
    return null;
  }
  const len = buf.readInt32BE(p + 8);
  if (len === 0) return null; // end of the log (preallocated zeros)
  if (len < 0) return `negative entry length ${len}`;
  const end = p + 12 + len + 1;
  if (end > buf.length) return `entry of ${len} bytes runs past the end of the file`;
  if (buf[end - 1] !== ENTRY_END) return 'entry is not terminated (partial write)';
  const crc = buf.readUInt32BE(p + 4);
  const hiCrc = buf.readUInt32BE(p);
  const body = buf.subarray(p + 12, p + 12 + len);
  if (hiCrc !== 0 || adler32(body) !== crc) return 'checksum mismatch';
  return { body, end };
}

/** True if any valid entry starts somewhere in (from, end). */
function validEntryAfter(buf: Buffer, from: number): boolean {
  for (let q = from + 1; q + 13 <= buf.length; q++) {
    const len = buf.readInt32BE(q + 8);
    if (len <= 0 || q + 13 + len > buf.length) continue;
    if (buf[q + 12 + len] !== ENTRY_END) continue;
    const e = entryAt(buf, q);
    if (e !== null && typeof e !== 'string') return true;
  }
  return false;
}

/**
 * A log file read on demand: logs are preallocated (64 MiB of zeros by
 * default) and usually hold far fewer bytes of txns, so the file is read in
 * chunks as the scan advances and the zero tail past the last entry is never
 * read (nor its pages touched: the buffer is allocated unfilled).
 */
class LazyFile {
  readonly buf: Buffer;
  loaded = 0;
  private readonly size: number;

  constructor(private readonly fsys: StorageFs, private readonly file: string, private readonly fd: number, size: number) {
    this.size = size;
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Make [0, min(n, size)) readable; returns a view of what is loaded. */
  upTo(n: number): Buffer {
    const want = Math.min(n, this.size);
    while (this.loaded < want) {
      const len = Math.min(this.size - this.loaded, Math.max(want - this.loaded, LOG_READ_CHUNK));
      const got = this.fsys.readSync(this.fd, this.buf, this.loaded, len, this.loaded);
      if (got <= 0) throw new CorruptLogError(this.file, this.loaded, 'the file ended before its size');
      this.loaded += got;
    }
    return this.loaded === this.size ? this.buf : this.buf.subarray(0, this.loaded);
  }
}

const LOG_READ_CHUNK = 4 << 20;

/** Offset of the zxid in an entry's body (TxnHeader: clientId long, cxid int, zxid long). */
const ZXID_AT = 12;

/**
 * Reads one log file. Throws CorruptLogError for a bad header or corruption
 * before the tail. Entries below `fromZxid` are checked (checksum, end
 * marker) but not decoded.
 */
export function scanLogFile(file: string, fromZxid = 0, fsys: StorageFs = nodeStorageFs): LogScan {
  const size = fsys.statSync(file).size;
  const fd = fsys.openSync(file, 'r');
  try {
    return scanOpenLog(file, new LazyFile(fsys, file, fd, size), size, fromZxid);
  } finally {
    fsys.closeSync(fd);
  }
}

function scanOpenLog(file: string, lf: LazyFile, size: number, fromZxid: number): LogScan {
  let buf = lf.upTo(FILE_HEADER_BYTES + 1);
  if (size <= FILE_HEADER_BYTES) {
    // Created, and the header perhaps cut short: no room for a txn.
    return { file, entries: [], validEnd: size, torn: null, firstZxid: -1, lastZxid: -1 };
  }
  const magic = buf.readInt32BE(0);
  const version = buf.readInt32BE(4);
  if (magic !== TXNLOG_MAGIC) throw new CorruptLogError(file, 0, `not a txn log (magic 0x${(magic >>> 0).toString(16)}, expected ZKLG)`);
  if (version !== FORMAT_VERSION) throw new CorruptLogError(file, 4, `unsupported txn log version ${version}`);
  const entries: (TxnEntry & { offset: number })[] = [];
  let p = FILE_HEADER_BYTES;
  let torn: LogScan['torn'] = null;
  let firstZxid = -1;
  let lastZxid = -1;
  for (;;) {
    buf = lf.upTo(p + 12);
    if (p + 12 <= buf.length) {
      const len = buf.readInt32BE(p + 8);
      if (len > 0) buf = lf.upTo(p + 13 + len);
    }
    const e = entryAt(buf, p);
    if (e === null) break;
    if (typeof e === 'string') {
      buf = lf.upTo(size);
      if (validEntryAfter(buf, p)) throw new CorruptLogError(file, p, `${e}, and valid entries follow it`);
      torn = { offset: p, reason: e };
      break;
    }
    // Entries before the snapshot are checked (checksum, end marker) but not
    // decoded: only their zxid, read from the TxnHeader, matters.
    let z = e.body.length >= ZXID_AT + 8 ? e.body.readInt32BE(ZXID_AT) * 4294967296 + e.body.readUInt32BE(ZXID_AT + 4) : -1;
    let entry: TxnEntry | null = null;
    if (z < 0 || z >= fromZxid) {
      try {
        entry = readTxnEntry(e.body);
      } catch (err) {
        throw new CorruptLogError(file, p, `entry passes its checksum but does not decode: ${(err as Error).message}`);
      }
      z = entry.hdr.zxid;
    }
    // Apache 3.8 logs the error txn of a malformed request under the current
    // zxid, so a zxid may repeat; it replays such entries in file order, and so do we.
    if (firstZxid < 0) firstZxid = z;
    if (z > lastZxid) lastZxid = z;
    if (entry !== null && z >= fromZxid) entries.push({ ...entry, offset: p });
    p = e.end;
  }
  return { file, entries, validEnd: p, torn, firstZxid, lastZxid };
}
