// The framing loop: a byte stream in, length-prefixed frames out.
//
//   stream = frame*
//   frame  = int32 length (big-endian, 0 <= length <= frameSizeMax) then length bytes
//
// Frames that arrive whole inside one chunk are handed out as views of that
// chunk (no copy). Only a frame split across chunks is assembled, into a
// buffer sized from its length, and only after the length passed the limit:
// an oversized frame is refused before a byte of its body is buffered.
// A consumer may ask to stop (backpressure); the unread tail is kept and
// handed out by resume().

export const FRAME_OK = 0;
export const FRAME_BAD_LENGTH = 1;
export const FRAME_STOPPED = 2;
export const FRAME_CLOSED = 3;
export type FrameStatus = typeof FRAME_OK | typeof FRAME_BAD_LENGTH | typeof FRAME_STOPPED | typeof FRAME_CLOSED;

/** Returns false to stop delivering frames until resume(). The view is valid only during the call. */
export type FrameSink = (frame: Buffer) => boolean;

// Buffers for assembling split frames, shared by every decoder on the thread.
// A frame is only lent to the sink for the duration of the call, so its buffer
// can take the next split frame: large requests (a 100 KiB setData arrives in
// several reads) then cost no allocation each, and no garbage for the GC.
const ASSEMBLY_MIN = 64 * 1024;
/** Larger frames (jute.maxbuffer can be raised far above 1 MiB) get a buffer of their own, not kept. */
const ASSEMBLY_MAX = 4 * 1024 * 1024;
const ASSEMBLY_POOL = 4;
const assemblyPool: Buffer[] = [];

function takeAssembly(len: number): Buffer {
  for (let i = 0; i < assemblyPool.length; i++) {
    const b = assemblyPool[i]!;
    if (b.length >= len) {
      assemblyPool[i] = assemblyPool[assemblyPool.length - 1]!;
      assemblyPool.pop();
      return b;
    }
  }
  if (len < ASSEMBLY_MIN / 4 || len > ASSEMBLY_MAX) return Buffer.allocUnsafe(len);
  let cap = ASSEMBLY_MIN;
  while (cap < len) cap *= 2;
  return Buffer.allocUnsafe(cap);
}

function giveAssembly(b: Buffer): void {
  if (b.length < ASSEMBLY_MIN || b.length > ASSEMBLY_MAX) return;
  if (assemblyPool.length < ASSEMBLY_POOL) {
    assemblyPool.push(b);
    return;
  }
  // Keep the largest ones.
  let min = 0;
  for (let i = 1; i < assemblyPool.length; i++) if (assemblyPool[i]!.length < assemblyPool[min]!.length) min = i;
  if (assemblyPool[min]!.length < b.length) assemblyPool[min] = b;
}

export class FrameDecoder {
  /** The first four bytes of the stream, if a hook wants them (four-letter words). */
  onFirstWord: ((word: number, rest: Buffer) => boolean) | null = null;
  badLength = 0;

  private header = Buffer.alloc(4);
  private headerFill = 0;
  /** The frame being assembled: a view of `bodyStore`, exactly its length. */
  private body: Buffer | null = null;
  private bodyStore: Buffer | null = null;
  private bodyFill = 0;
  private tail: Buffer | null = null;
  private closed = false;
  private sawFirst = false;

  constructor(public frameSizeMax: number) {}

  /** True while a partial frame or a stopped tail is held. */
  hasPending(): boolean {
    return this.headerFill > 0 || this.body !== null || this.tail !== null;
  }

  close(): void {
    this.closed = true;
    this.tail = null;
    this.body = null;
    if (this.bodyStore !== null) giveAssembly(this.bodyStore);
    this.bodyStore = null;
  }

  feed(chunk: Buffer, sink: FrameSink): FrameStatus {
    if (this.closed) return FRAME_CLOSED;
    if (this.tail !== null) {
      // Still stopped: keep bytes in arrival order.
      this.tail = Buffer.concat([this.tail, chunk]);
      return FRAME_STOPPED;
    }
    return this.run(chunk, 0, sink);
  }

  resume(sink: FrameSink): FrameStatus {
    if (this.closed) return FRAME_CLOSED;
    const t = this.tail;
    if (t === null) return FRAME_OK;
    this.tail = null;
    return this.run(t, 0, sink);
  }

  private run(chunk: Buffer, pos: number, sink: FrameSink): FrameStatus {
    const end = chunk.length;
    while (pos < end) {
      if (this.body !== null) {
        // Continue a frame split across chunks.
        const body = this.body;
        const n = Math.min(body.length - this.bodyFill, end - pos);
        chunk.copy(body, this.bodyFill, pos, pos + n);
        this.bodyFill += n;
        pos += n;
        if (this.bodyFill < body.length) return FRAME_OK;
        this.body = null;
        const store = this.bodyStore!;
        this.bodyStore = null;
        const accepted = sink(body);
        if (!accepted && !this.closed) {
          // Refused: keep the whole frame (length included) ahead of the rest.
          const len = Buffer.allocUnsafe(4);
          len.writeInt32BE(body.length);
          this.tail = Buffer.concat([len, body, chunk.subarray(pos)]);
        }
        giveAssembly(store);
        if (this.closed) return FRAME_CLOSED;
        if (!accepted) return FRAME_STOPPED;
        continue;
      }
      const frameAt = pos - this.headerFill;
      let len: number;
      if (this.headerFill === 0 && end - pos >= 4) {
        len = chunk.readInt32BE(pos);
        pos += 4;
      } else {
        const n = Math.min(4 - this.headerFill, end - pos);
        chunk.copy(this.header, this.headerFill, pos, pos + n);
        this.headerFill += n;
        pos += n;
        if (this.headerFill < 4) return FRAME_OK;
        this.headerFill = 0;
        len = this.header.readInt32BE(0);
      }
      if (!this.sawFirst) {
        this.sawFirst = true;
        if (this.onFirstWord !== null && this.onFirstWord(len, chunk.subarray(pos))) {
          this.closed = true;
          return FRAME_CLOSED;
        }
      }
      if (len < 0 || len > this.frameSizeMax) {
        this.badLength = len;
        this.close();
        return FRAME_BAD_LENGTH;
      }
      if (end - pos >= len) {
        const frame = chunk.subarray(pos, pos + len);
        pos += len;
        if (!sink(frame)) return this.stop(chunk, frameAt, len);
        if (this.closed) return FRAME_CLOSED;
      } else {
        const store = takeAssembly(len);
        const body = store.length === len ? store : store.subarray(0, len);
        chunk.copy(body, 0, pos, end);
        this.bodyStore = store;
        this.body = body;
        this.bodyFill = end - pos;
        return FRAME_OK;
      }
    }
    return FRAME_OK;
  }

  /** The sink refused the frame of `len` bytes whose length prefix starts at frameAt (maybe in the previous chunk). */
  private stop(chunk: Buffer, frameAt: number, len: number): FrameStatus {
    if (this.closed) return FRAME_CLOSED;
    if (frameAt >= 0) {
      this.tail = Buffer.from(chunk.subarray(frameAt));
    } else {
      // The length prefix straddled chunks: rebuild it.
      const prefix = Buffer.allocUnsafe(4);
      prefix.writeInt32BE(len);
      this.tail = Buffer.concat([prefix, chunk.subarray(frameAt + 4)]);
    }
    return FRAME_STOPPED;
  }
}
