// Test support (not a test file) for differential tests: run one scripted
// conversation of raw Jute frames against a server and record a transcript
// that can be compared with the transcript of another server.
//
// A transcript holds, per request, the ReplyHeader (xid, zxid, err), the
// reply frame's length and the decoded reply body, and, per connection, the
// order in which frames (replies and watch events) arrived. Values that
// legitimately differ between two servers are normalised:
//   - ctime/mtime: 0 stays 0, anything else becomes 'T';
//   - ephemeralOwner: 0 stays 0, a session opened by the scenario becomes
//     'session:<label>', any other id 'session:?';
//   - zxids: relative to the last zxid the server had before the scenario's
//     first session was created (so a fresh server keeps its exact values);
//     0 and -1 are kept, older zxids become 'old'.
// Children lists are sorted (both servers return them in hash order).

import net from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { ZkClient, OPEN_ACL, type ConnectOptions, type Reply } from '../../native-free-bench/zk-client.js';
import {
  Reader, Writer, OpCode, Xid, FrameDecoder,
  readStat, readStringList, readACLList, readReplyHeader, readWatcherEvent, readConnectResponse,
  writeCreate, writePathWatch, writeSetData, writePathVersion, writePathOnly, writeSetACL, writePathInt,
  writeConnectRequest, writeReconfig,
  type RequestACL, type Stat,
} from '../../src/jute/index.js';

export { OPEN_ACL };

/**
 * Kill a child process (an Apache JVM, a zkCli) if this test process exits
 * without stopping it (a crash, a closed stdout pipe): after() hooks do not
 * run then, and a JVM would outlive the tests.
 */
export function killOnExit(child: ChildProcess): void {
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
}

export interface Target {
  name: string;
  host: string;
  port: number;
}

/** How to decode a successful reply body. */
export type BodyKind =
  | 'none' | 'path' | 'pathStat' | 'stat' | 'dataStat' | 'children' | 'children2'
  | 'aclStat' | 'int' | 'whoAmI' | 'stringList' | 'multi';

export interface Step {
  /** What the scenario called this request. */
  label: string;
  conn: string;
  xid: number;
  zxid: number | string;
  err: number;
  /** The reply frame's length field (ReplyHeader + body). */
  frameLen: number;
  body: unknown;
}

export interface Transcript {
  steps: Step[];
  /** Per connection: frames in arrival order ('reply <label>', 'event <type> <path> hdr=<xid>/<zxid>/<err>'). */
  arrivals: Record<string, string[]>;
  /** Free-form observations a scenario records (also compared). */
  notes: Record<string, unknown>;
}

export const EVENT_NAMES: Record<number, string> = {
  1: 'NodeCreated', 2: 'NodeDeleted', 3: 'NodeDataChanged', 4: 'NodeChildrenChanged',
  5: 'DataWatchRemoved', 6: 'ChildWatchRemoved', 7: 'PersistentWatchRemoved',
};

/** One scripted run against one server. */
export class Run {
  readonly transcript: Transcript = { steps: [], arrivals: {}, notes: {} };
  /** Session id → label, for ephemeralOwner normalisation. */
  readonly sessions = new Map<bigint, string>();
  /** Zxids at or below this are 'old'; others are shown relative to it. */
  base = -1;
  /** Sessions the scenario closed itself. */
  readonly closedSessions = new Set<bigint>();
  private readonly conns: Conn[] = [];

  constructor(readonly target: Target, readonly opts: { absoluteZxids?: boolean } = {}) {
    if (opts.absoluteZxids) this.base = 0;
  }

  /** Open a session (the first one fixes the zxid base with a probe read). */
  async connect(label: string, opts: ConnectOptions = {}): Promise<Conn> {
    const client = await ZkClient.connect(this.target.host, this.target.port, { ping: false, ...opts });
    const c = new Conn(this, label, client);
    this.conns.push(c);
    this.sessions.set(client.sessionId, label);
    if (this.base < 0) {
      // The probe's reply carries the zxid of this session's createSession.
      const r = await client.request(OpCode.exists, (w) => writePathWatch(w, { path: '/', watch: false }));
      this.base = r.hdr.zxid - 1;
    }
    return c;
  }

  /** Adopt an already connected client under a label (reconnects of a session). */
  adopt(label: string, client: ZkClient): Conn {
    const c = new Conn(this, label, client);
    this.conns.push(c);
    // A reopened session keeps the label it was first seen under.
    if (!this.sessions.has(client.sessionId)) this.sessions.set(client.sessionId, label);
    return c;
  }

  zx(z: number): number | string {
    if (z === 0 || z === -1) return z;
    if (this.base < 0) return `?${z}`;
    if (z <= this.base) return 'old';
    return z - this.base;
  }

  owner(id: bigint): number | string {
    if (id === 0n) return 0;
    const label = this.sessions.get(id);
    return label === undefined ? 'session:?' : `session:${label}`;
  }

  stat(s: Stat): Record<string, unknown> {
    return {
      czxid: this.zx(s.czxid),
      mzxid: this.zx(s.mzxid),
      ctime: s.ctime === 0 ? 0 : 'T',
      mtime: s.mtime === 0 ? 0 : 'T',
      version: s.version,
      cversion: s.cversion,
      aversion: s.aversion,
      ephemeralOwner: this.owner(s.ephemeralOwner),
      dataLength: s.dataLength,
      numChildren: s.numChildren,
      pzxid: this.zx(s.pzxid),
    };
  }

  note(key: string, value: unknown): void {
    this.transcript.notes[key] = value;
  }

  /**
   * Close every session the scenario opened and did not close, reopening it
   * first if its connections are gone: a shared server must not see a stray
   * session expire (a closeSession txn) in the middle of a later scenario.
   */
  async closeAll(): Promise<void> {
    const bySession = new Map<bigint, Conn[]>();
    for (const c of this.conns) {
      const list = bySession.get(c.sessionId) ?? [];
      list.push(c);
      bySession.set(c.sessionId, list);
    }
    for (const [id, conns] of bySession) {
      if (this.closedSessions.has(id)) continue;
      let client = conns.find((c) => !c.client.closed)?.client;
      try {
        client ??= await ZkClient.connect(this.target.host, this.target.port, {
          sessionId: id, passwd: conns[0]!.client.passwd, ping: false, connectTimeoutMs: 5000,
        });
        await withTimeout(client.request(OpCode.closeSession, () => {}), 3000, 'closeSession');
      } catch {
        // already closed or expired
      } finally {
        client?.destroy();
      }
    }
    for (const c of this.conns) c.client.destroy();
  }

  /** Sessions opened and not closed by the scenario (each once), with what reopens them. */
  openSessions(): { label: string; id: bigint; passwd: Uint8Array; timeoutMs: number }[] {
    const out = new Map<bigint, { label: string; id: bigint; passwd: Uint8Array; timeoutMs: number }>();
    for (const c of this.conns) {
      const id = c.client.sessionId;
      if (this.closedSessions.has(id) || out.has(id)) continue;
      out.set(id, { label: this.sessions.get(id) ?? c.label, id, passwd: c.client.passwd, timeoutMs: c.client.timeoutMs });
    }
    return [...out.values()];
  }

  /** Drop every socket without closing sessions (cleanup after a failure). */
  destroyAll(): void {
    for (const c of this.conns) c.client.destroy();
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** One session's connection inside a Run. */
export class Conn {
  readonly arrivals: string[];
  private readonly labels = new Map<number, string>();

  constructor(readonly run: Run, readonly label: string, readonly client: ZkClient) {
    this.arrivals = run.transcript.arrivals[label] ??= [];
    client.on('event', (ev: { type: number; path: string | null; state: number }, hdr: { xid: number; zxid: number; err: number }) => {
      this.arrivals.push(`event ${EVENT_NAMES[ev.type] ?? ev.type} ${ev.path} state=${ev.state} hdr=${hdr.xid}/${hdr.zxid}/${hdr.err}`);
    });
    client.on('reply', (hdr: { xid: number }) => {
      this.arrivals.push(`reply ${this.labels.get(hdr.xid) ?? `xid ${hdr.xid}`}`);
    });
    client.on('unexpected', (hdr: { xid: number; zxid: number; err: number }) => {
      this.arrivals.push(`unexpected frame hdr=${hdr.xid}/${run.zx(hdr.zxid)}/${hdr.err}`);
    });
  }

  get sessionId(): bigint {
    return this.client.sessionId;
  }

  /** Send one request and record its reply. */
  async req(label: string, type: number, write: (w: Writer) => void, kind: BodyKind, ms = 5000): Promise<Step & { reply: Reply }> {
    const xid = this.client.nextXid();
    this.labels.set(xid, label);
    const reply = await withTimeout(this.client.request(type, write, xid), ms, `${this.run.target.name} ${label}`);
    return this.record(label, reply, kind);
  }

  /** Send a prebuilt frame (length included) and record its reply. */
  async reqFrame(label: string, xid: number, bytes: Buffer, kind: BodyKind, ms = 5000): Promise<Step & { reply: Reply }> {
    this.labels.set(xid, label);
    const reply = await withTimeout(this.client.sendFrame(xid, bytes), ms, `${this.run.target.name} ${label}`);
    return this.record(label, reply, kind);
  }

  private record(label: string, reply: Reply, kind: BodyKind): Step & { reply: Reply } {
    const run = this.run;
    const body = reply.hdr.err === 0 ? decodeBody(run, kind, reply.body) : {};
    const rest = reply.body.remaining();
    const step: Step = {
      label,
      conn: this.label,
      xid: reply.hdr.xid,
      zxid: run.zx(reply.hdr.zxid),
      err: reply.hdr.err,
      frameLen: reply.frame.length,
      body: rest === 0 ? body : { decoded: body, trailingBytes: rest },
    };
    run.transcript.steps.push(step);
    return { ...step, reply };
  }

  // ---- requests by name ------------------------------------------------------

  create(label: string, path: string, data: Uint8Array | null, flags = 0,
    opts: { op?: number; acl?: RequestACL[] | null; ttl?: number } = {}): Promise<Step & { reply: Reply }> {
    const op = opts.op ?? OpCode.create;
    const withTtl = op === OpCode.createTTL;
    const acl = opts.acl === undefined ? OPEN_ACL : opts.acl;
    return this.req(label, op, (w) => writeCreate(w, { path, data, acl, flags, ttl: opts.ttl ?? -1 }, withTtl),
      op === OpCode.create ? 'path' : 'pathStat');
  }

  delete(label: string, path: string, version = -1) {
    return this.req(label, OpCode.delete, (w) => writePathVersion(w, { path, version }), 'none');
  }

  exists(label: string, path: string, watch = false) {
    return this.req(label, OpCode.exists, (w) => writePathWatch(w, { path, watch }), 'stat');
  }

  getData(label: string, path: string, watch = false) {
    return this.req(label, OpCode.getData, (w) => writePathWatch(w, { path, watch }), 'dataStat');
  }

  setData(label: string, path: string, data: Uint8Array | null, version = -1) {
    return this.req(label, OpCode.setData, (w) => writeSetData(w, { path, data, version }), 'stat');
  }

  getChildren(label: string, path: string, watch = false) {
    return this.req(label, OpCode.getChildren, (w) => writePathWatch(w, { path, watch }), 'children');
  }

  getChildren2(label: string, path: string, watch = false) {
    return this.req(label, OpCode.getChildren2, (w) => writePathWatch(w, { path, watch }), 'children2');
  }

  getACL(label: string, path: string) {
    return this.req(label, OpCode.getACL, (w) => writePathOnly(w, { path }), 'aclStat');
  }

  setACL(label: string, path: string, acl: RequestACL[] | null, version = -1) {
    return this.req(label, OpCode.setACL, (w) => writeSetACL(w, { path, acl, version }), 'stat');
  }

  sync(label: string, path: string) {
    return this.req(label, OpCode.sync, (w) => writePathOnly(w, { path }), 'path');
  }

  getAllChildrenNumber(label: string, path: string) {
    return this.req(label, OpCode.getAllChildrenNumber, (w) => writePathOnly(w, { path }), 'int');
  }

  getEphemerals(label: string, prefix: string) {
    return this.req(label, OpCode.getEphemerals, (w) => writePathOnly(w, { path: prefix }), 'stringList');
  }

  whoAmI(label: string) {
    return this.req(label, OpCode.whoAmI, () => {}, 'whoAmI');
  }

  checkWatches(label: string, path: string, type: number) {
    return this.req(label, OpCode.checkWatches, (w) => writePathInt(w, { path, value: type }), 'none');
  }

  removeWatches(label: string, path: string, type: number) {
    return this.req(label, OpCode.removeWatches, (w) => writePathInt(w, { path, value: type }), 'none');
  }

  reconfig(label: string) {
    return this.req(label, OpCode.reconfig,
      (w) => writeReconfig(w, { joiningServers: null, leavingServers: null, newMembers: 'server.1=127.0.0.1:2888:3888;2181', curConfigId: -1 }),
      'stat');
  }

  /** closeSession: records the reply; the caller waits for the server to close the socket. */
  async closeSession(label: string) {
    const step = await this.req(label, OpCode.closeSession, () => {}, 'none');
    if (step.err === 0) this.run.closedSessions.add(this.sessionId);
    return step;
  }
}

function decodeBody(run: Run, kind: BodyKind, r: Reader): unknown {
  switch (kind) {
    case 'none': return {};
    case 'path': return { path: r.ustring() };
    case 'pathStat': return { path: r.ustring(), stat: run.stat(readStat(r)) };
    case 'stat': return { stat: run.stat(readStat(r)) };
    case 'dataStat': {
      const d = r.buffer();
      return { data: d === null ? null : Buffer.from(d).toString('latin1'), stat: run.stat(readStat(r)) };
    }
    // Children in the order the server lists them: Apache's HashSet order, which zoonode keeps (ZNode.childNames).
    case 'children': return { children: readStringList(r) };
    case 'children2': return { children: readStringList(r), stat: run.stat(readStat(r)) };
    case 'aclStat': return { acl: readACLList(r), stat: run.stat(readStat(r)) };
    case 'int': return { value: r.int() };
    // getEphemerals: in the order of Apache's HashSet, which zoonode keeps (JavaHashSet).
    case 'stringList': return { strings: readStringList(r) };
    case 'multi': {
      // MultiResponse: (MultiHeader{type, done, err} result)* until done.
      const results: unknown[] = [];
      for (let i = 0; i < 10000; i++) {
        const type = r.int();
        const done = r.bool();
        const err = r.int();
        if (done) return { results, end: [type, err] };
        switch (type) {
          case OpCode.create: results.push({ type, err, path: r.ustring() }); break;
          case OpCode.create2: results.push({ type, err, path: r.ustring(), stat: run.stat(readStat(r)) }); break;
          case OpCode.setData: results.push({ type, err, stat: run.stat(readStat(r)) }); break;
          case OpCode.getData: {
            const d = r.buffer();
            results.push({ type, err, data: d === null ? null : Buffer.from(d).toString('latin1'), stat: run.stat(readStat(r)) });
            break;
          }
          case OpCode.getChildren: results.push({ type, err, children: readStringList(r) }); break;
          case OpCode.error: results.push({ type, err, errorResponse: r.int() }); break;
          default: results.push({ type, err });
        }
      }
      return { results, unterminated: true };
    }
    case 'whoAmI': {
      const n = r.int();
      const out: { scheme: string | null; user: string | null }[] = [];
      for (let i = 0; i < n && i < 1000; i++) out.push({ scheme: r.ustring(), user: r.ustring() });
      // The server keeps a connection's ids in a hash set: order is not part of the protocol.
      out.sort((a, b) => `${a.scheme}\u0000${a.user}`.localeCompare(`${b.scheme}\u0000${b.user}`));
      return { clientInfo: out };
    }
  }
}

// ---- building frames by hand ------------------------------------------------

/** A whole request frame (length prefix included) with the given xid, type and record. */
export function requestFrame(xid: number, type: number, write: (w: Writer) => void): Buffer {
  const w = new Writer(256);
  const at = w.placeholder();
  w.int(xid).int(type);
  write(w);
  w.patchInt(at, w.pos - 4);
  return w.copy();
}

/** A setData frame whose length field is exactly `frameLen` (the data is padded to fit). */
export function setDataFrameOfLength(xid: number, path: string, frameLen: number, fill: number): Buffer {
  // xid + type + path + data length + version
  const overhead = 4 + 4 + 4 + Buffer.byteLength(path) + 4 + 4;
  const dataLen = frameLen - overhead;
  if (dataLen < 0) throw new Error('frame too short for setData');
  const data = Buffer.alloc(dataLen, fill);
  const f = requestFrame(xid, OpCode.setData, (w) => writeSetData(w, { path, data, version: -1 }));
  if (f.length !== frameLen + 4) throw new Error(`built ${f.length - 4}-byte frame, wanted ${frameLen}`);
  return f;
}

export interface HandshakeOptions {
  withReadOnlyByte: boolean;
  sessionId?: bigint;
  passwd?: Uint8Array;
  lastZxidSeen?: number;
  timeOut?: number;
}

/** A ConnectRequest frame (length prefix included): 44 bytes of record, 45 with the readOnly byte. */
export function connectRequestFrame(o: HandshakeOptions): Buffer {
  const w = new Writer(64);
  const at = w.placeholder();
  writeConnectRequest(w, {
    protocolVersion: 0,
    lastZxidSeen: o.lastZxidSeen ?? 0,
    timeOut: o.timeOut ?? 30000,
    sessionId: o.sessionId ?? 0n,
    passwd: o.passwd ?? new Uint8Array(16),
    readOnly: false,
    withReadOnlyByte: o.withReadOnlyByte,
  });
  w.patchInt(at, w.pos - 4);
  return w.copy();
}

// ---- a raw socket that records every frame ------------------------------------

/** Waits on socket events: wake() releases every waiter, which re-checks its condition (bounded in time). */
export class Wakeups {
  private waiters: (() => void)[] = [];

  wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves true once pred() holds, false after ms. */
  async until(pred: () => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
    return true;
  }
}

/** A socket that records every frame the server sends, in order, and whether it closed. */
export class RawConn {
  readonly frames: Buffer[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder(64 * 1024 * 1024);
  private readonly wakeups = new Wakeups();

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.decoder.feed(chunk, (f) => {
        this.frames.push(Buffer.from(f));
        return true;
      });
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static open(host: string, port: number, ms = 5000): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port });
      const timer = setTimeout(() => { s.destroy(); reject(new Error(`connect ${host}:${port} timed out`)); }, ms);
      s.once('error', (e) => { clearTimeout(timer); reject(e); });
      s.once('connect', () => { clearTimeout(timer); resolve(new RawConn(s)); });
    });
  }

  private wake(): void {
    this.wakeups.wake();
  }

  write(b: Buffer): void {
    if (!this.closed) this.socket.write(b);
  }

  /** Wait until at least n frames arrived or the socket closed (bounded). */
  async waitFrames(n: number, ms = 5000): Promise<void> {
    if (!(await this.wakeups.until(() => this.frames.length >= n || this.closed, ms))) {
      throw new Error(`timed out waiting for ${n} frames (have ${this.frames.length})`);
    }
  }

  /** Wait for the server to close the socket; false if it did not within ms. */
  waitClosed(ms = 5000): Promise<boolean> {
    return this.wakeups.until(() => this.closed, ms);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Decoded ConnectResponse frame plus its raw length. */
export function describeConnectResponse(frame: Buffer) {
  const rsp = readConnectResponse(new Reader(frame));
  return {
    length: frame.length,
    protocolVersion: rsp.protocolVersion,
    timeOut: rsp.timeOut,
    sessionIdZero: rsp.sessionId === 0n,
    passwdLength: rsp.passwd.length,
    passwdAllZero: rsp.passwd.every((b) => b === 0),
    withReadOnlyByte: rsp.withReadOnlyByte,
    readOnly: rsp.readOnly,
    sessionId: rsp.sessionId,
    passwd: Buffer.from(rsp.passwd),
  };
}

/** A frame as {hdr, event?} for transcripts of raw connections. */
export function describeFrame(run: Run, f: Buffer): Record<string, unknown> {
  const r = new Reader(f);
  const hdr = readReplyHeader(r);
  const out: Record<string, unknown> = { len: f.length, xid: hdr.xid, zxid: run.zx(hdr.zxid), err: hdr.err };
  if (hdr.xid === Xid.notification) {
    const ev = readWatcherEvent(r);
    out.event = `${EVENT_NAMES[ev.type] ?? ev.type} ${ev.path}`;
  }
  return out;
}

/** Diff two transcripts into readable lines (empty when equal). */
export function diffTranscripts(expected: Transcript, actual: Transcript, max = 40): string[] {
  const out: string[] = [];
  const n = Math.max(expected.steps.length, actual.steps.length);
  for (let i = 0; i < n && out.length < max; i++) {
    const e = expected.steps[i];
    const a = actual.steps[i];
    const es = JSON.stringify(e);
    const as = JSON.stringify(a);
    if (es !== as) out.push(`step ${i} (${e?.label ?? a?.label}):\n    apache:  ${es}\n    zoonode: ${as}`);
  }
  const conns = new Set([...Object.keys(expected.arrivals), ...Object.keys(actual.arrivals)]);
  for (const c of conns) {
    const es = JSON.stringify(expected.arrivals[c] ?? []);
    const as = JSON.stringify(actual.arrivals[c] ?? []);
    if (es !== as) out.push(`arrival order on ${c}:\n    apache:  ${es}\n    zoonode: ${as}`);
  }
  const keys = new Set([...Object.keys(expected.notes), ...Object.keys(actual.notes)]);
  for (const k of keys) {
    const es = JSON.stringify(expected.notes[k], bigintJson);
    const as = JSON.stringify(actual.notes[k], bigintJson);
    if (es !== as) out.push(`note ${k}:\n    apache:  ${es}\n    zoonode: ${as}`);
  }
  return out;
}

function bigintJson(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}
