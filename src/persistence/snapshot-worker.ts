// piscina task for snapshots: checksum and compress one chunk off the
// sequencer thread. The chunk lives in a SharedArrayBuffer slot that the
// snapshot job reuses chunk after chunk, so no buffer is allocated or
// transferred per chunk. An uncompressed chunk stays where it is; a
// compressed one is written back into the same slot when it fits (it almost
// always does), else returned as its own buffer.

import { adler32 } from './checksum.js';
import { compressChunk, type Compression } from './compression.js';

export interface ChunkTask {
  /** The slot holding the chunk at [0, length). */
  slot: SharedArrayBuffer;
  length: number;
  compression: Compression;
}

export interface ChunkResult {
  /** Adler-32 of the uncompressed chunk. */
  adler: number;
  /** Bytes to write: in the slot at [0, outLength) unless `out` is set. */
  outLength: number;
  out: Uint8Array | null;
}

export function processChunk(task: ChunkTask): ChunkResult {
  const buf = new Uint8Array(task.slot, 0, task.length);
  const adler = adler32(buf);
  if (task.compression === 'none') return { adler, outLength: task.length, out: null };
  const body = compressChunk(buf, task.compression);
  if (body.length <= task.slot.byteLength) {
    new Uint8Array(task.slot).set(body);
    return { adler, outLength: body.length, out: null };
  }
  return { adler, outLength: body.length, out: body };
}

export default processChunk;
