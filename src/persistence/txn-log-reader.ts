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

/** Reads one log file whole. Throws CorruptLogError for a bad header or corruption before the tail. */
export function scanLogFile(file: string, fromZxid = 0, fsys: StorageFs = nodeStorageFs): LogScan {
  const buf = fsys.readFileSync(file);
  if (buf.length <= FILE_HEADER_BYTES) {
    // Created, and the header perhaps cut short: no room for a txn.
    return { file, entries: [], validEnd: buf.length, torn: null, firstZxid: -1, lastZxid: -1 };
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
    const e = entryAt(buf, p);
    if (e === null) break;
    if (typeof e === 'string') {
      if (validEntryAfter(buf, p)) throw new CorruptLogError(file, p, `${e}, and valid entries follow it`);
      torn = { offset: p, reason: e };
      break;
    }
    let entry: TxnEntry;
    try {
      entry = readTxnEntry(e.body);
    } catch (err) {
      throw new CorruptLogError(file, p, `entry passes its checksum but does not decode: ${(err as Error).message}`);
    }
    // Apache 3.8 logs the error txn of a malformed request under the current
    // zxid, so a zxid may repeat; it replays such entries in file order, and so do we.
    const z = entry.hdr.zxid;
    if (firstZxid < 0) firstZxid = z;
    if (z > lastZxid) lastZxid = z;
    if (z >= fromZxid) entries.push({ ...entry, offset: p });
    p = e.end;
  }
  return { file, entries, validEnd: p, torn, firstZxid, lastZxid };
}
