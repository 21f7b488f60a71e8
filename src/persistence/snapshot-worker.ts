// piscina task for snapshots: checksum and compress one chunk off the
// sequencer thread. The chunk arrives transferred (not copied); the result
// goes back transferred as one buffer:
//   u32 adler32 of the input, u32 input length, then the (compressed) bytes.

import { Piscina } from 'piscina';
import { adler32 } from './checksum.js';
import { compressChunk, type Compression } from './compression.js';

export interface ChunkTask {
  buf: Uint8Array;
  compression: Compression;
}

export default function processChunk(task: ChunkTask): Uint8Array {
  const adler = adler32(task.buf);
  const body = compressChunk(task.buf, task.compression);
  const out = new Uint8Array(8 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, adler);
  view.setUint32(4, task.buf.length);
  out.set(body, 8);
  return Piscina.move(out) as unknown as Uint8Array;
}
