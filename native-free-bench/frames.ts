// Request frames for the load generator's workloads, built once per session
// with the project's Jute codec and then only copied and patched per request:
// the xid (offset 4) always, and for delete the ten sequence digits of the
// node name. Nothing here runs per request except write().

import { Writer, OpCode, CreateFlag, writeMultiRequest, writeConnectRequest } from '../src/jute/index.js';

/** Workloads driven as pipelines: every reply is replaced by the next request. */
export const PIPELINE_WORKLOADS = ['getData', 'exists', 'setData', 'create', 'delete', 'mixed', 'getChildren', 'multi'] as const;
export type PipelineWorkload = (typeof PIPELINE_WORKLOADS)[number];

/** setData ops in one multi. */
export const MULTI_OPS = 4;

const OPEN_ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

export interface FrameGen {
  /** Bytes of request k (the session's k-th request, from 0). */
  size(k: number): number;
  /** Writes request k with this xid at buf[off]; returns the bytes written. */
  write(buf: Buffer, off: number, xid: number, k: number): number;
}

function frame(body: (w: Writer) => void): Buffer {
  const w = new Writer(256);
  const lenAt = w.placeholder();
  w.int(0); // xid, patched per request
  body(w);
  w.patchInt(lenAt, w.pos - 4);
  return w.copy();
}

class FixedFrame implements FrameGen {
  constructor(private readonly bytes: Buffer) {}
  size(): number { return this.bytes.length; }
  write(buf: Buffer, off: number, xid: number): number {
    this.bytes.copy(buf, off);
    buf.writeInt32BE(xid, off + 4);
    return this.bytes.length;
  }
}

/** Deletes parent/n-0000000000, parent/n-0000000001, ... (the names sequential creates gave). */
class DeleteFrames implements FrameGen {
  private readonly bytes: Buffer;
  private readonly digitsAt: number;
  constructor(parent: string) {
    this.bytes = frame((w) => w.int(OpCode.delete).ustring(`${parent}/n-0000000000`).int(-1));
    this.digitsAt = this.bytes.length - 4 - 10;
  }
  size(): number { return this.bytes.length; }
  write(buf: Buffer, off: number, xid: number, k: number): number {
    this.bytes.copy(buf, off);
    buf.writeInt32BE(xid, off + 4);
    let at = off + this.digitsAt + 9;
    for (let i = 0; i < 10; i++) {
      buf[at--] = 0x30 + (k % 10);
      k = Math.floor(k / 10);
    }
    return this.bytes.length;
  }
}

/** getData or setData on one node, in a seeded order with the requested share of reads. */
class MixedFrames implements FrameGen {
  private readonly pattern: Uint8Array;
  constructor(private readonly read: Buffer, private readonly write_: Buffer, readRatio: number, seed: number) {
    const n = 1000;
    this.pattern = new Uint8Array(n);
    const reads = Math.round(readRatio * n);
    for (let i = 0; i < reads; i++) this.pattern[i] = 1;
    // Fisher-Yates with mulberry32, so both servers see the same sequence.
    let s = seed >>> 0;
    const rnd = () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      const x = this.pattern[i]!;
      this.pattern[i] = this.pattern[j]!;
      this.pattern[j] = x;
    }
  }
  private pick(k: number): Buffer {
    return this.pattern[k % this.pattern.length] === 1 ? this.read : this.write_;
  }
  size(k: number): number { return this.pick(k).length; }
  write(buf: Buffer, off: number, xid: number, k: number): number {
    const b = this.pick(k);
    b.copy(buf, off);
    buf.writeInt32BE(xid, off + 4);
    return b.length;
  }
}

export interface FrameOptions {
  workload: PipelineWorkload;
  /** The session's node (getData, exists, setData, mixed, getChildren), parent (create, delete) or base (multi: base/m0..m3). */
  path: string;
  value: Buffer;
  readRatio: number;
  seed: number;
}

export function frameGen(o: FrameOptions): FrameGen {
  const getData = () => frame((w) => w.int(OpCode.getData).ustring(o.path).bool(false));
  const setData = () => frame((w) => w.int(OpCode.setData).ustring(o.path).buffer(o.value).int(-1));
  switch (o.workload) {
    case 'getData': return new FixedFrame(getData());
    case 'exists': return new FixedFrame(frame((w) => w.int(OpCode.exists).ustring(o.path).bool(false)));
    case 'setData': return new FixedFrame(setData());
    case 'getChildren': return new FixedFrame(frame((w) => w.int(OpCode.getChildren).ustring(o.path).bool(false)));
    case 'create':
      return new FixedFrame(frame((w) => {
        w.int(OpCode.create).ustring(`${o.path}/n-`).buffer(o.value).int(1);
        w.int(OPEN_ACL[0]!.perms).ustring('world').ustring('anyone').int(CreateFlag.PERSISTENT_SEQUENTIAL);
      }));
    case 'delete': return new DeleteFrames(o.path);
    case 'mixed': return new MixedFrames(getData(), setData(), o.readRatio, o.seed);
    case 'multi':
      return new FixedFrame(frame((w) => {
        w.int(OpCode.multi);
        writeMultiRequest(w, Array.from({ length: MULTI_OPS }, (_, j) => ({
          type: OpCode.setData, req: { path: `${o.path}/m${j}`, data: o.value, version: -1 },
        })));
      }));
  }
}

/** A whole ConnectRequest frame (45 bytes with the readOnly byte, as the Java client sends). */
export function connectFrame(timeoutMs: number): Buffer {
  const w = new Writer(64);
  const lenAt = w.placeholder();
  writeConnectRequest(w, {
    protocolVersion: 0, lastZxidSeen: 0, timeOut: timeoutMs, sessionId: 0n, passwd: new Uint8Array(16),
    readOnly: false, withReadOnlyByte: true,
  });
  w.patchInt(lenAt, w.pos - 4);
  return w.copy();
}

export function closeSessionFrame(xid: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeInt32BE(8, 0);
  b.writeInt32BE(xid, 4);
  b.writeInt32BE(OpCode.closeSession, 8);
  return b;
}

export const PING_FRAME: Buffer = (() => {
  const b = Buffer.alloc(12);
  b.writeInt32BE(8, 0);
  b.writeInt32BE(-2, 4);
  b.writeInt32BE(OpCode.ping, 8);
  return b;
})();

/** getData(path, watch=true): arms a data watch. */
export function watchFrame(path: string): Buffer {
  return frame((w) => w.int(OpCode.getData).ustring(path).bool(true));
}
