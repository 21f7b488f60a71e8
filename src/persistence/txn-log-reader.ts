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
  /** The decoded entries, unless they went to an EntrySink. */
  entries: (TxnEntry & { offset: number })[];
  /** Entries at or after fromZxid, decoded. */
  decoded: number;
  /** Offset just past the last valid entry. */
  validEnd: number;
  /** Set when the file ends in a torn entry starting at validEnd. */
  torn: { offset: number; reason: string } | null;
  firstZxid: number;
  lastZxid: number;
}

interface RawEntry { body: Buffer; end: number }

/** Parse the entry at p (bytes up to `end` are the file's loaded bytes from the window's base), or return why it is not a valid entry. */
function entryAt(buf: Buffer, p: number, end: number): RawEntry | string | null {
  if (p + 12 > end) {
    for (let i = p; i < end; i++) if (buf[i] !== 0) return 'entry header cut short';
    return null;
  }
  const len = buf.readInt32BE(p + 8);
  if (len === 0) return null; // end of the log (preallocated zeros)
  if (len < 0) return `negative entry length ${len}`;
  const stop = p + 12 + len + 1;
  if (stop > end) return `entry of ${len} bytes runs past the end of the file`;
  if (buf[stop - 1] !== ENTRY_END) return 'entry is not terminated (partial write)';
  const crc = buf.readUInt32BE(p + 4);
  const hiCrc = buf.readUInt32BE(p);
  if (hiCrc !== 0 || adler32(buf, p + 12, p + 12 + len) !== crc) return 'checksum mismatch';
  return { body: buf.subarray(p + 12, p + 12 + len), end: stop };
}

/** True if any valid entry starts somewhere in (from, end). */
function validEntryAfter(buf: Buffer, from: number, end: number): boolean {
  for (let q = from + 1; q + 13 <= end; q++) {
    const len = buf.readInt32BE(q + 8);
    if (len <= 0 || q + 13 + len > end) continue;
    if (buf[q + 12 + len] !== ENTRY_END) continue;
    const e = entryAt(buf, q, end);
    if (e !== null && typeof e !== 'string') return true;
  }
  return false;
}

/**
 * A log file read through one reused buffer as the scan advances. Logs are
 * preallocated (64 MiB of zeros by default): the zero tail past the last
 * entry is read at most one chunk deep. Reusing the buffer matters on this
 * VM, where each fresh page costs ~15 us to fault in (a buffer of the file's
 * size cost ~0.2 s per 30 MB of log at restart).
 */
class LogWindow {
  buf: Buffer;
  /** File offset of buf[0]. */
  base = 0;
  /** Bytes loaded in buf. */
  len = 0;

  constructor(private readonly fsys: StorageFs, private readonly file: string, private readonly fd: number,
    private readonly size: number, windowBytes: number) {
    this.buf = Buffer.allocUnsafe(Math.max(16, Math.min(size, windowBytes)));
  }

  /**
   * Make the file's bytes [from, min(to, size)) loaded; afterwards buf[0]
   * is file offset `base` (<= from) and buf[0, len) is loaded. Reads fill
   * the buffer as far as the file goes.
   */
  range(from: number, to: number): void {
    const want = Math.min(to, this.size);
    if (from >= this.base && want <= this.base + this.len) return;
    if (from >= this.base && from <= this.base + this.len) {
      const drop = from - this.base;
      this.buf.copy(this.buf, 0, drop, this.len);
      this.len -= drop;
    } else {
      this.len = 0;
    }
    this.base = from;
    const need = want - from;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    while (this.len < need) {
      const len = Math.min(this.buf.length - this.len, this.size - (this.base + this.len));
      const got = this.fsys.readSync(this.fd, this.buf, this.len, len, this.base + this.len);
      if (got <= 0) throw new CorruptLogError(this.file, this.base + this.len, 'the file ended before its size');
      this.len += got;
    }
  }
}

const LOG_READ_CHUNK = 4 << 20;

/** Offset of the zxid in an entry's body (TxnHeader: clientId long, cxid int, zxid long). */
const ZXID_AT = 12;

/** Called with each decoded entry at or after fromZxid, in file order. */
export type EntrySink = (entry: TxnEntry, offset: number) => void;

/**
 * Reads one log file. Throws CorruptLogError for a bad header or corruption
 * before the tail. Entries below `fromZxid` are checked (checksum, end
 * marker) but not decoded. With `onEntry`, entries go to it as they are
 * decoded and `entries` stays empty (recovery applies them without keeping
 * a file's worth alive); `decoded` counts them either way. `windowBytes`
 * sizes the read buffer (it grows for a bigger entry).
 */
export function scanLogFile(file: string, fromZxid = 0, fsys: StorageFs = nodeStorageFs, onEntry?: EntrySink,
  windowBytes = LOG_READ_CHUNK): LogScan {
  const size = fsys.statSync(file).size;
  const fd = fsys.openSync(file, 'r');
  try {
    return scanOpenLog(file, new LogWindow(fsys, file, fd, size, windowBytes), size, fromZxid, onEntry ?? null);
  } finally {
    fsys.closeSync(fd);
  }
}

function scanOpenLog(file: string, win: LogWindow, size: number, fromZxid: number, onEntry: EntrySink | null): LogScan {
  const entries: (TxnEntry & { offset: number })[] = [];
  if (size <= FILE_HEADER_BYTES) {
    // Created, and the header perhaps cut short: no room for a txn.
    return { file, entries, decoded: 0, validEnd: size, torn: null, firstZxid: -1, lastZxid: -1 };
  }
  win.range(0, FILE_HEADER_BYTES + 1);
  const magic = win.buf.readInt32BE(0);
  const version = win.buf.readInt32BE(4);
  if (magic !== TXNLOG_MAGIC) throw new CorruptLogError(file, 0, `not a txn log (magic 0x${(magic >>> 0).toString(16)}, expected ZKLG)`);
  if (version !== FORMAT_VERSION) throw new CorruptLogError(file, 4, `unsupported txn log version ${version}`);
  let p = FILE_HEADER_BYTES;
  let torn: LogScan['torn'] = null;
  let firstZxid = -1;
  let lastZxid = -1;
  let decoded = 0;
  for (;;) {
    win.range(p, p + 12);
    let q = p - win.base;
    if (q + 12 <= win.len) {
      const len = win.buf.readInt32BE(q + 8);
      if (len > 0) {
        win.range(p, p + 13 + len);
        q = p - win.base;
      }
    }
    const e = entryAt(win.buf, q, win.len);
    if (e === null) break;
    if (typeof e === 'string') {
      win.range(p, size);
      if (validEntryAfter(win.buf, p - win.base, win.len)) throw new CorruptLogError(file, p, `${e}, and valid entries follow it`);
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
    if (entry !== null && z >= fromZxid) {
      decoded++;
      if (onEntry !== null) onEntry(entry, p);
      else entries.push({ ...entry, offset: p });
    }
    p = win.base + e.end;
  }
  return { file, entries, decoded, validEnd: p, torn, firstZxid, lastZxid };
}
