// A lean pipelined load generator: S sessions, each keeping D requests in
// flight, every reply immediately replaced by the next request. Request
// frames are prebuilt and only their xid is patched; replies are matched by
// xid to their send time. Latency is per request (send → reply), throughput
// is completed requests per second over the measured window.

import net from 'node:net';
import { FrameDecoder, Writer, OpCode, writeConnectRequest } from '../src/jute/index.js';

export type Workload = 'getData' | 'setData' | 'exists' | 'create';

export interface LoadOptions {
  host: string;
  port: number;
  sessions: number;
  inflightPerSession: number;
  workload: Workload;
  valueSize: number;
  warmupMs: number;
  durationMs: number;
  /** Path prefix prepared by prepare(); one node per session. */
  root: string;
  /** Node path for session i (default `${root}/s${i}`). */
  pathOf?: (session: number) => string;
  /** Keep every sample's completion time (wall-clock ms) for a timeline. */
  timeline?: boolean;
}

export interface LoadResult {
  ops: number;
  opsPerSec: number;
  p50: number;
  p99: number;
  p999: number;
  errors: number;
  /** With `timeline`: completion time (wall-clock ms) and latency (ms) of every sample. */
  at?: Float64Array;
  latency?: Float64Array;
}

function requestFrame(workload: Workload, path: string, value: Buffer): Buffer {
  const w = new Writer(256 + value.length);
  const lenAt = w.placeholder();
  w.int(0); // xid, patched per send
  switch (workload) {
    case 'getData': w.int(OpCode.getData).ustring(path).bool(false); break;
    case 'exists': w.int(OpCode.exists).ustring(path).bool(false); break;
    case 'setData': w.int(OpCode.setData).ustring(path).buffer(value).int(-1); break;
    case 'create':
      w.int(OpCode.create).ustring(`${path}/n-`).buffer(value);
      w.int(1).int(31).ustring('world').ustring('anyone').int(2); // PERSISTENT_SEQUENTIAL
      break;
  }
  w.patchInt(lenAt, w.pos - 4);
  return w.copy();
}

class Session {
  private readonly decoder = new FrameDecoder(64 * 1024 * 1024);
  private connected = false;
  private xid = 1;
  private readonly sentAt = new Float64Array(1 << 16);
  inflight = 0;

  constructor(
    readonly socket: net.Socket,
    private readonly frame: Buffer,
    private readonly depth: number,
    private readonly onReply: (latencyMs: number, err: number) => void,
    private readonly onReady: () => void,
    private readonly shouldContinue: () => boolean,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.decoder.feed(chunk, (f) => { this.onFrame(f); return true; });
      this.refill();
    });
  }

  handshake(timeoutMs: number): void {
    const w = new Writer(64);
    const lenAt = w.placeholder();
    writeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: 0, timeOut: timeoutMs, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false, withReadOnlyByte: true });
    w.patchInt(lenAt, w.pos - 4);
    this.socket.write(w.copy());
  }

  private onFrame(f: Buffer): void {
    if (!this.connected) {
      this.connected = true;
      this.onReady();
      return;
    }
    const xid = f.readInt32BE(0);
    if (xid < 0) return; // ping or event
    const err = f.readInt32BE(12);
    this.inflight--;
    this.onReply(performance.now() - this.sentAt[xid & 0xffff]!, err);
  }

  refill(): void {
    if (!this.connected || !this.shouldContinue()) return;
    if (this.inflight >= this.depth) return;
    this.socket.cork();
    while (this.inflight < this.depth) {
      const xid = this.xid;
      this.xid = (this.xid % 0x7ffffff0) + 1;
      const b = Buffer.from(this.frame);
      b.writeInt32BE(xid, 4);
      this.sentAt[xid & 0xffff] = performance.now();
      this.socket.write(b);
      this.inflight++;
    }
    this.socket.uncork();
  }
}

/** Percentile of a sorted array (nearest rank). */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i]!;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const value = Buffer.alloc(opts.valueSize, 0x61);
  let latencies = new Float64Array(1 << 20);
  let times = opts.timeline ? new Float64Array(1 << 20) : null;
  let count = 0;
  let errors = 0;
  let measuring = false;
  let stopping = false;
  const origin = performance.timeOrigin;
  const onReply = (ms: number, err: number) => {
    if (!measuring) return;
    if (err !== 0) errors++;
    if (count === latencies.length) {
      const next = new Float64Array(latencies.length * 2);
      next.set(latencies);
      latencies = next;
      if (times !== null) {
        const t = new Float64Array(times.length * 2);
        t.set(times);
        times = t;
      }
    }
    if (times !== null) times[count] = origin + performance.now();
    latencies[count++] = ms;
  };
  const sessions: Session[] = [];
  await Promise.all(Array.from({ length: opts.sessions }, (_, i) => new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host: opts.host, port: opts.port });
    socket.once('error', reject);
    const s = new Session(socket, requestFrame(opts.workload, opts.pathOf?.(i) ?? `${opts.root}/s${i}`, value), opts.inflightPerSession,
      onReply, () => resolve(), () => !stopping);
    socket.once('connect', () => s.handshake(30000));
    sessions.push(s);
  })));
  for (const s of sessions) s.refill();
  await new Promise((r) => setTimeout(r, opts.warmupMs));
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, opts.durationMs));
  measuring = false;
  const elapsed = performance.now() - t0;
  stopping = true;
  // Let in-flight requests finish (bounded), then close.
  const deadline = Date.now() + 5000;
  while (sessions.some((s) => s.inflight > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  for (const s of sessions) s.socket.destroy();
  const raw = opts.timeline ? Float64Array.from(latencies.subarray(0, count)) : undefined;
  const sorted = latencies.subarray(0, count).sort();
  return {
    at: times?.slice(0, count),
    latency: raw,
    ops: count,
    opsPerSec: count / (elapsed / 1000),
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
    errors,
  };
}

export interface PopulateOptions {
  host: string;
  port: number;
  parents: number;
  nodes: number;
  valueSize: number;
  sessions?: number;
  depth?: number;
  /** Called now and then with the number created so far. */
  progress?: (created: number) => void;
}

/** Creates `parents` parents (/bench-p<i>) and `nodes` children spread over them, pipelined. */
export async function populate(opts: PopulateOptions): Promise<{ ms: number }> {
  const { ZkClient } = await import('./zk-client.js');
  const t0 = performance.now();
  const admin = await ZkClient.connect(opts.host, opts.port, { timeoutMs: 30000 });
  for (let p = 0; p < opts.parents; p += 100) {
    await Promise.all(Array.from({ length: Math.min(100, opts.parents - p) }, (_, k) => admin.create(`/bench-p${p + k}`, null)));
  }
  await admin.close();
  const value = Buffer.alloc(opts.valueSize, 0x62);
  const sessions = opts.sessions ?? 8;
  const depth = opts.depth ?? 128;
  let next = 0;
  let created = 0;
  const clients = await Promise.all(Array.from({ length: sessions }, () => ZkClient.connect(opts.host, opts.port, { timeoutMs: 30000 })));
  await Promise.all(clients.map(async (c) => {
    const lane = async (): Promise<void> => {
      while (next < opts.nodes) {
        const i = next++;
        await c.create(`/bench-p${i % opts.parents}/n${i}`, value);
        if (++created % 50_000 === 0) opts.progress?.(created);
      }
    };
    await Promise.all(Array.from({ length: depth }, lane));
  }));
  await Promise.all(clients.map((c) => c.close()));
  return { ms: performance.now() - t0 };
}
