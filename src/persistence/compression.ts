// Snapshot compression as Apache's SnapStream writes it, chosen by file
// extension: ".gz" is gzip (Java's GZIPOutputStream; a stream of several gzip
// members reads back as one), ".snappy" is snappy-java's stream framing:
//
//   snappy-stream = header block*
//   header        = bytes 82 'S' 'N' 'A' 'P' 'P' 'Y' 00, int version 1, int compatible 1
//   block         = int compressedLength, raw snappy of at most 32 KiB of input
//
// The functions here are pure (buffers in, buffers out) so they can run in a
// piscina worker.

import zlib from 'node:zlib';
import SnappyJS from 'snappyjs';

export type Compression = 'none' | 'gz' | 'snappy';

export const SNAPPY_HEADER = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
const SNAPPY_BLOCK = 32 * 1024;

export function compressionOfName(name: string): Compression {
  if (name.endsWith('.gz')) return 'gz';
  if (name.endsWith('.snappy')) return 'snappy';
  return 'none';
}

export function extensionOf(c: Compression): string {
  return c === 'none' ? '' : `.${c}`;
}

/** zoo.cfg's snapshot.compression.method value: gz, snappy, or anything else for none (as Apache). */
export function parseCompression(value: string | undefined): Compression {
  const v = (value ?? '').trim().toLowerCase();
  return v === 'gz' ? 'gz' : v === 'snappy' ? 'snappy' : 'none';
}

/** Compress one chunk of the stream (for snappy: blocks only; the stream header is written once by the caller). */
export function compressChunk(buf: Uint8Array, c: Compression): Uint8Array {
  switch (c) {
    case 'none': return buf;
    case 'gz': return zlib.gzipSync(buf, { level: 6 });
    case 'snappy': {
      const parts: Buffer[] = [];
      for (let off = 0; off < buf.length; off += SNAPPY_BLOCK) {
        const block = SnappyJS.compress(buf.subarray(off, Math.min(buf.length, off + SNAPPY_BLOCK))) as Uint8Array;
        const len = Buffer.alloc(4);
        len.writeInt32BE(block.length);
        parts.push(len, Buffer.from(block.buffer, block.byteOffset, block.byteLength));
      }
      return Buffer.concat(parts);
    }
  }
}

export function decompress(file: Buffer, c: Compression): Buffer {
  switch (c) {
    case 'none': return file;
    case 'gz': return zlib.gunzipSync(file);
    case 'snappy': {
      if (file.length < 16 || !file.subarray(0, 8).equals(SNAPPY_HEADER.subarray(0, 8))) {
        throw new Error('not a snappy stream (bad magic header)');
      }
      const parts: Buffer[] = [];
      let p = 16;
      while (p < file.length) {
        // Concatenated streams repeat the header; skip it.
        if (p + 16 <= file.length && file.subarray(p, p + 8).equals(SNAPPY_HEADER.subarray(0, 8))) { p += 16; continue; }
        if (p + 4 > file.length) throw new Error(`snappy stream cut short at offset ${p}`);
        const len = file.readInt32BE(p);
        p += 4;
        if (len < 0 || p + len > file.length) throw new Error(`snappy block of ${len} bytes runs past the end at offset ${p - 4}`);
        const out = SnappyJS.uncompress(file.subarray(p, p + len)) as Uint8Array;
        parts.push(Buffer.from(out.buffer, out.byteOffset, out.byteLength));
        p += len;
      }
      return Buffer.concat(parts);
    }
  }
}
