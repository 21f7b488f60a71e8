// The lean load generator. One thread drives many raw sessions:
//
//   pipeline  S sessions, each keeping D requests in flight; every reply is
//             replaced at once by the next request (frames prebuilt by
//             frames.ts, copied and xid-patched into one buffer per refill,
//             one socket write per refill). Replies of a session arrive in
//             order, so send times live in a ring indexed by xid. Latency is
//             per request, send → reply, stamped once per socket read;
//             recorded into a Histogram, no promise or closure per request.
//   watch     N sessions each arm a data watch on one node; the caller writes
//             it and learns when the first and the last NodeDataChanged
//             arrived.
//   connect   open K sessions with C handshakes in flight; per-handshake
//             latency and the span of the whole storm.
//
// Times that cross threads are monoMs(), the process-wide monotonic clock
// (hrtime), so every thread and the coordinator agree on when a cell starts,
// measures and ends and when a watch event arrived. Per-request latencies are
// differences of performance.now() within one thread.
//
// Also here, for older callers (durability.ts): runLoad (one thread, in
// process, optional per-sample timeline), populate and percentile.

import net from 'node:net';
import { FrameDecoder } from '../src/jute/index.js';
import { Histogram, type HistogramData } from './histogram.js';
import { closeSessionFrame, connectFrame, frameGen, PING_FRAME, watchFrame, type FrameGen, type PipelineWorkload } from './frames.js';

/**
 * Milliseconds on the process-wide monotonic clock (CLOCK_MONOTONIC through
 * hrtime: the same in every thread, unlike performance.now(), whose origin is
 * per thread). Not for per-request use: it allocates.
 */
export function monoMs(): number {
  const t = process.hrtime();
  return t[0] * 1e3 + t[1] / 1e6;
}

const SESSION_TIMEOUT_MS = 30_000;
const PING_EVERY_MS = 8_000;
const OPEN_CONCURRENCY = 64;
const OPEN_TIMEOUT_MS = 20_000;
const CLOSE_TIMEOUT_MS = 5_000;
const DRAIN_TIMEOUT_MS = 10_000;
const FRAME_MAX = 64 * 1024 * 1024;
const XID_NOTIFICATION = -1;
const EVENT_NODE_DATA_CHANGED = 3;

/** Every raw session this thread has open, for pings. */
const live = new Set<RawSession>();
let pingTimer: NodeJS.Timeout | null = null;

function trackLive(s: RawSession, on: boolean): void {
  if (on) live.add(s); else live.delete(s);
  if (live.size > 0 && pingTimer === null) {
    pingTimer = setInterval(() => { for (const x of live) x.ping(); }, PING_EVERY_MS);
    pingTimer.unref();
  } else if (live.size === 0 && pingTimer !== null) {
    clearInterval(pingTimer);
    pingTimer = null;
  }
}

/**
 * A ZooKeeper session over a raw socket: handshake, then every frame goes to
 * `onFrame(frame, now)` where `now` is performance.now() taken once per read.
 */
class RawSession {
  readonly socket: net.Socket;
  sessionTimeoutMs = 0;
  ready = false;
  closed = false;
  onFrame: (f: Buffer, now: number) => void = () => {};
  /** Called after each socket read's frames were handled. */
  afterRead: (now: number) => void = () => {};
  private readonly decoder = new FrameDecoder(FRAME_MAX);
  private now = 0;
  private readyCb: ((err: Error | null, now: number) => void) | null = null;
  private readonly sink = (f: Buffer): boolean => {
    if (!this.ready) {
      this.handshakeDone(f);
      return true;
    }
    this.onFrame(f, this.now);
    return true;
  };

  constructor(host: string, port: number, readyCb: (err: Error | null, now: number) => void) {
    this.readyCb = readyCb;
    this.socket = net.connect({ host, port });
    this.socket.setNoDelay(true);
    this.socket.once('connect', () => this.socket.write(connectFrame(SESSION_TIMEOUT_MS)));
    this.socket.on('data', (chunk: Buffer) => {
      const now = performance.now();
      this.now = now;
      this.decoder.feed(chunk, this.sink);
      if (this.ready) this.afterRead(now);
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closed = true;
      trackLive(this, false);
      this.fail(new Error('connection closed before the session was established'));
    });
  }

  private handshakeDone(f: Buffer): void {
    // ConnectResponse: int protocolVersion, int timeOut, long sessionId, buffer passwd, [bool readOnly]
    this.sessionTimeoutMs = f.length >= 8 ? f.readInt32BE(4) : 0;
    if (this.sessionTimeoutMs <= 0) {
      this.fail(new Error('the server refused the session'));
      this.socket.destroy();
      return;
    }
    this.ready = true;
    trackLive(this, true);
    const cb = this.readyCb;
    this.readyCb = null;
    cb?.(null, this.now);
  }

  private fail(e: Error): void {
    const cb = this.readyCb;
    this.readyCb = null;
    cb?.(e, performance.now());
  }

  write(b: Buffer): void {
    if (!this.closed) this.socket.write(b);
  }

  ping(): void {
    if (this.ready && !this.closed) this.socket.write(PING_FRAME);
  }

  /** closeSession, then wait (bounded) for the server to close the socket. */
  close(xid: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.socket.destroy(); resolve(); }, CLOSE_TIMEOUT_MS);
      this.socket.once('close', () => { clearTimeout(timer); resolve(); });
      this.onFrame = () => {};
      this.afterRead = () => {};
      if (this.ready) this.socket.write(closeSessionFrame(xid));
      else this.socket.destroy();
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Opens `count` sessions, at most OPEN_CONCURRENCY handshakes at a time. */
async function openSessions(host: string, port: number, count: number): Promise<RawSession[]> {
  const out: RawSession[] = new Array(count);
  let next = 0;
  const deadline = Date.now() + OPEN_TIMEOUT_MS + count * 20;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      out[i] = await new Promise<RawSession>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`session ${i} to ${host}:${port}: no handshake within ${OPEN_TIMEOUT_MS} ms`)), OPEN_TIMEOUT_MS);
        const s: RawSession = new RawSession(host, port, (err) => {
          clearTimeout(timer);
          if (err) reject(err); else resolve(s);
        });
      });
      if (Date.now() > deadline) throw new Error('opening sessions took too long');
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, count) }, lane));
  } catch (e) {
    for (const s of out) s?.destroy();
    throw e;
  }
  return out;
}

async function closeSessions(sessions: readonly RawSession[]): Promise<void> {
  await Promise.all(sessions.map((s) => s.close(0x7ffffff0)));
}

// ---- pipeline ----------------------------------------------------------------

export interface PipelineSpec {
  host: string;
  port: number;
  workload: PipelineWorkload;
  valueSize: number;
  /** Share of reads in `mixed` (0..1). */
  readRatio: number;
  seed: number;
  /** Requests in flight per session. */
  depth: number;
  /** One entry per session: its node, parent or base path (see frames.ts). */
  paths: string[];
  /** Requests per session before it stops (0 = until the end time). */
  countPerSession: number;
  /** Keep every measured sample (completion time, latency) for a timeline. */
  timeline?: boolean;
}

/** When to start sending, start measuring and stop sending, in monoMs(). */
export interface RunTimes {
  startAt: number;
  measureAt: number;
  endAt: number;
}

export interface PipelineResult {
  hist: HistogramData;
  /** Replies completed inside the measured window. */
  ops: number;
  /** Error replies among them. */
  errors: number;
  /** The first error code seen (0 if none). */
  firstError: number;
  /** Every session reached countPerSession before endAt. */
  exhausted: boolean;
  /** monoMs() of the last measured reply. */
  lastReplyAt: number;
  /** Requests completed per session (all phases). */
  completed: number[];
  /** With `timeline`: wall-clock completion time (ms since the epoch) and latency of every measured sample. */
  at?: Float64Array;
  latency?: Float64Array;
}

class PipeSession {
  inflight = 0;
  issued = 0;
  completed = 0;
  private xid = 1;
  private readonly sentAt: Float64Array;
  private readonly mask: number;

  constructor(readonly raw: RawSession, private readonly gen: FrameGen, private readonly depth: number,
    private readonly limit: number, private readonly run: PipelineRun) {
    let cap = 16;
    while (cap < 2 * depth) cap *= 2;
    this.sentAt = new Float64Array(cap);
    this.mask = cap - 1;
    raw.onFrame = (f, now) => this.onFrame(f, now);
    raw.afterRead = () => this.refill();
  }

  private onFrame(f: Buffer, now: number): void {
    const xid = f.readInt32BE(0);
    if (xid < 0) return; // ping reply or watch event
    this.inflight--;
    this.completed++;
    this.run.reply(now - this.sentAt[xid & this.mask]!, f.readInt32BE(12), now);
    if (this.completed === this.limit) this.run.sessionDone();
  }

  refill(): void {
    if (!this.run.sending) return;
    let n = this.depth - this.inflight;
    if (this.limit > 0 && this.limit - this.issued < n) n = this.limit - this.issued;
    if (n <= 0) return;
    let bytes = 0;
    for (let i = 0; i < n; i++) bytes += this.gen.size(this.issued + i);
    const buf = Buffer.allocUnsafe(bytes);
    let off = 0;
    const stamp = performance.now();
    for (let i = 0; i < n; i++) {
      const xid = this.xid;
      this.xid = xid >= 0x7ffffff0 ? 1 : xid + 1;
      off += this.gen.write(buf, off, xid, this.issued++);
      this.sentAt[xid & this.mask] = stamp;
    }
    this.inflight += n;
    this.raw.write(buf);
  }
}

/** One thread's share of a pipeline cell. */
export class PipelineRun {
  sending = false;
  private sessions: PipeSession[] = [];
  private raws: RawSession[] = [];
  private readonly hist = new Histogram();
  private ops = 0;
  private errors = 0;
  private firstError = 0;
  private lastReplyAt = 0;
  private measureLocal = Infinity;
  private endLocal = Infinity;
  private active = 0;
  private exhausted = false;
  private finish: (() => void) | null = null;
  private at: Float64Array | null = null;
  private lat: Float64Array | null = null;

  constructor(private readonly spec: PipelineSpec) {}

  async open(): Promise<void> {
    const s = this.spec;
    this.raws = await openSessions(s.host, s.port, s.paths.length);
    const value = Buffer.alloc(s.valueSize, 0x61);
    this.sessions = this.raws.map((raw, i) => new PipeSession(raw,
      frameGen({ workload: s.workload, path: s.paths[i]!, value, readRatio: s.readRatio, seed: s.seed + i }),
      s.depth, s.countPerSession, this));
    this.active = this.sessions.length;
    if (s.timeline) {
      this.at = new Float64Array(1 << 16);
      this.lat = new Float64Array(1 << 16);
    }
  }

  reply(latencyMs: number, err: number, now: number): void {
    if (now < this.measureLocal || now >= this.endLocal) return;
    this.hist.record(latencyMs);
    if (err !== 0) {
      this.errors++;
      if (this.firstError === 0) this.firstError = err;
    }
    if (this.at !== null) this.keep(now, latencyMs);
    this.ops++;
    this.lastReplyAt = now;
  }

  private keep(now: number, latencyMs: number): void {
    if (this.ops === this.at!.length) {
      const a = new Float64Array(this.at!.length * 2); a.set(this.at!); this.at = a;
      const l = new Float64Array(this.lat!.length * 2); l.set(this.lat!); this.lat = l;
    }
    this.at![this.ops] = performance.timeOrigin + now;
    this.lat![this.ops] = latencyMs;
  }

  sessionDone(): void {
    if (--this.active === 0) {
      this.exhausted = true;
      this.sending = false;
      this.finish?.();
    }
  }

  run(times: RunTimes): Promise<PipelineResult> {
    const shift = performance.now() - monoMs();
    this.measureLocal = times.measureAt + shift;
    this.endLocal = times.endAt + shift;
    return new Promise((resolve) => {
      const timers: NodeJS.Timeout[] = [];
      const done = () => {
        for (const t of timers) clearTimeout(t);
        this.finish = null;
        resolve(this.result());
      };
      this.finish = done;
      timers.push(setTimeout(() => {
        this.sending = true;
        for (const s of this.sessions) s.refill();
      }, Math.max(0, times.startAt + shift - performance.now())));
      timers.push(setTimeout(() => {
        this.sending = false;
        // Let what is in flight come back (bounded), then report.
        const drainUntil = performance.now() + DRAIN_TIMEOUT_MS;
        const poll = () => {
          if (this.finish === null) return;
          if (this.sessions.every((s) => s.inflight === 0 || s.raw.closed) || performance.now() > drainUntil) done();
          else timers.push(setTimeout(poll, 2));
        };
        poll();
      }, Math.max(0, this.endLocal - performance.now())));
      if (this.sessions.length === 0) done();
    });
  }

  private result(): PipelineResult {
    const shift = monoMs() - performance.now();
    return {
      hist: this.hist.data(),
      ops: this.ops,
      errors: this.errors,
      firstError: this.firstError,
      exhausted: this.exhausted,
      lastReplyAt: this.lastReplyAt + shift,
      completed: this.sessions.map((s) => s.completed),
      ...(this.at !== null ? { at: this.at.slice(0, this.ops), latency: this.lat!.slice(0, this.ops) } : {}),
    };
  }

  close(): Promise<void> {
    return closeSessions(this.raws);
  }
}

// ---- watch fan-out -----------------------------------------------------------

export interface WatchSpec {
  host: string;
  port: number;
  /** The node every watcher watches. */
  path: string;
  watchers: number;
}

/** Arrival times (monoMs) of a round's first and last NodeDataChanged. */
export interface FiredResult { first: number; last: number; notified: number }

export class WatchRun {
  private raws: RawSession[] = [];
  private notified: Uint8Array = new Uint8Array(0);
  private count = 0;
  private first = Infinity;
  private last = 0;
  private onFired: ((r: FiredResult) => void) | null = null;
  private armReplies = 0;
  private onArmed: (() => void) | null = null;
  private watchBytes: Buffer = Buffer.alloc(0);

  constructor(private readonly spec: WatchSpec) {}

  async open(): Promise<void> {
    this.raws = await openSessions(this.spec.host, this.spec.port, this.spec.watchers);
    this.notified = new Uint8Array(this.raws.length);
    this.watchBytes = watchFrame(this.spec.path);
    this.raws.forEach((raw, i) => {
      raw.onFrame = (f) => {
        const xid = f.readInt32BE(0);
        if (xid === XID_NOTIFICATION) {
          if (f.readInt32BE(16) === EVENT_NODE_DATA_CHANGED && this.notified[i] === 0) this.arrived(i);
        } else if (xid > 0) {
          if (++this.armReplies === this.raws.length) { const cb = this.onArmed; this.onArmed = null; cb?.(); }
        }
      };
    });
  }

  private arrived(i: number): void {
    this.notified[i] = 1;
    this.count++;
    const t = monoMs();
    if (t < this.first) this.first = t;
    if (t > this.last) this.last = t;
    if (this.count === this.raws.length) this.report();
  }

  private report(): void {
    const cb = this.onFired;
    this.onFired = null;
    cb?.({ first: this.first, last: this.last, notified: this.count });
  }

  /** Arm every watcher (getData with watch); resolves when all replied. */
  arm(): Promise<void> {
    this.notified.fill(0);
    this.count = 0;
    this.first = Infinity;
    this.last = 0;
    this.armReplies = 0;
    return new Promise((resolve) => {
      this.onArmed = resolve;
      for (const raw of this.raws) {
        const b = Buffer.from(this.watchBytes);
        b.writeInt32BE(1, 4);
        raw.write(b);
      }
      if (this.raws.length === 0) resolve();
    });
  }

  /** Resolves when every watcher has its event, or after timeoutMs with those that arrived. */
  fired(timeoutMs: number): Promise<FiredResult> {
    return new Promise((resolve) => {
      if (this.count === this.raws.length) { resolve({ first: this.first, last: this.last, notified: this.count }); return; }
      const timer = setTimeout(() => { this.onFired = null; resolve({ first: this.first, last: this.last, notified: this.count }); }, timeoutMs);
      this.onFired = (r) => { clearTimeout(timer); resolve(r); };
    });
  }

  close(): Promise<void> {
    return closeSessions(this.raws);
  }
}

// ---- connect storm -----------------------------------------------------------

export interface ConnectSpec {
  host: string;
  port: number;
  sessions: number;
  /** Handshakes in flight at once. */
  concurrency: number;
  /** monoMs() after which no new connection is started. */
  deadline: number;
}

export interface ConnectResult {
  hist: HistogramData;
  opened: number;
  failed: number;
  /** monoMs() of the first connect and of the last established session. */
  firstStart: number;
  lastDone: number;
}

export class ConnectRun {
  private raws: RawSession[] = [];

  constructor(private readonly spec: ConnectSpec) {}

  async run(startAt: number): Promise<ConnectResult> {
    const s = this.spec;
    const hist = new Histogram();
    let next = 0;
    let failed = 0;
    let firstStart = Infinity;
    let lastDone = 0;
    const wait = startAt - monoMs();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const lane = async (): Promise<void> => {
      while (next < s.sessions && monoMs() < s.deadline) {
        next++;
        const t0 = performance.now();
        if (firstStart === Infinity) firstStart = monoMs();
        const raw = await new Promise<RawSession | null>((resolve) => {
          const timer = setTimeout(() => { r.destroy(); resolve(null); }, OPEN_TIMEOUT_MS);
          const r: RawSession = new RawSession(s.host, s.port, (err, now) => {
            clearTimeout(timer);
            if (err) { resolve(null); return; }
            hist.record(now - t0);
            resolve(r);
          });
        });
        if (raw === null) failed++;
        else {
          this.raws.push(raw);
          lastDone = monoMs();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(s.concurrency, s.sessions)) }, lane));
    return { hist: hist.data(), opened: this.raws.length, failed, firstStart, lastDone };
  }

  close(): Promise<void> {
    return closeSessions(this.raws);
  }
}

// ---- one-thread API (durability.ts and quick checks) ---------------------------

export type Workload = 'getData' | 'setData' | 'exists' | 'create';

export interface LoadOptions {
  host: string;
  port: number;
  sessions: number;
  inflightPerSession: number;
  workload: Workload | PipelineWorkload;
  valueSize: number;
  warmupMs: number;
  durationMs: number;
  /** Path prefix prepared by the caller; one node per session. */
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

/** Percentile of a sorted array (nearest rank). */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i]!;
}

/** Drives one pipeline cell from this thread. */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const run = new PipelineRun({
    host: opts.host, port: opts.port, workload: opts.workload, valueSize: opts.valueSize, readRatio: 0.9, seed: 1,
    depth: opts.inflightPerSession, countPerSession: 0, timeline: opts.timeline ?? false,
    paths: Array.from({ length: opts.sessions }, (_, i) => opts.pathOf?.(i) ?? `${opts.root}/s${i}`),
  });
  await run.open();
  const startAt = monoMs() + 5;
  const r = await run.run({ startAt, measureAt: startAt + opts.warmupMs, endAt: startAt + opts.warmupMs + opts.durationMs });
  await run.close();
  const hist = Histogram.from(r.hist);
  const measured = r.exhausted ? Math.max(1, r.lastReplyAt - (startAt + opts.warmupMs)) : opts.durationMs;
  return {
    ops: r.ops,
    opsPerSec: r.ops / (measured / 1000),
    p50: hist.percentile(0.5),
    p99: hist.percentile(0.99),
    p999: hist.percentile(0.999),
    errors: r.errors,
    ...(r.at !== undefined ? { at: r.at, latency: r.latency } : {}),
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
