// Test support (not a test file): drives FuzzCases (fuzz-frames.ts) against a
// server over real sockets and checks what the server does with each, plus
// the pieces a fuzz run needs around that: a canary session that must keep
// working, the server's counters (mntr) and resident memory, an admin session
// (super) that sets up and cleans up, and a scan of the server's log.
//
// A case runs on its own fresh connection ('pre' cases, sent instead of a
// ConnectRequest) or on a lane's session ('post' cases; the lane opens a new
// session when the server closed the last one). After a case that leaves the
// connection usable the lane sends a probe (exists "/") and waits for its
// answer or for the close, so every case ends in a verdict, never a hang.

import fs from 'node:fs';
import net from 'node:net';
import { FrameDecoder, FRAME_BAD_LENGTH, OpCode, Xid, Err, readStat, writePathWatch, writeSetACL } from '../../src/jute/index.js';
import { digestId } from '../../src/tree/acl.js';
import { ZkClient, OPEN_ACL } from '../../native-free-bench/zk-client.js';
import { fourLetter } from './apache.js';
import { Wakeups, withTimeout } from './compat-wire.js';
import {
  KNOWN_ERRS, FZ_BIG, FZ_NODES, handshakeFrame, probeFrame, type FuzzCase, type Prng,
} from './fuzz-frames.js';

/** Password of the super user the fuzz servers are started with (see fuzzServerArgs). */
const SUPER = 'super:fuzz-admin';

/** zoo.cfg settings for a server under fuzz: short ticks (fuzz sessions expire soon after their connection), a super user for cleanup. */
export function fuzzServerArgs(workers: number): string[] {
  return [
    `workers=${workers}`, 'tickTime=500', 'minSessionTimeout=1000', 'maxSessionTimeout=60000', 'maxClientCnxns=0',
    'extendedTypesEnabled=true', `DigestAuthenticationProvider.superDigest=${digestId(SUPER)}`,
    '4lw.commands.whitelist=*', 'snapCount=2000',
  ];
}

/** Session timeout the fuzz lanes ask for: short, so the sessions of dropped connections go soon. */
export const fuzzSessionTimeoutMs = 2000;

interface ReplyHdr { xid: number; zxid: number; err: number; len: number }

/** A raw client connection that records every frame the server sends. */
export class FuzzConn {
  closed = false;
  /** We closed or half-closed it ourselves. */
  ended = false;
  /** The ConnectResponse arrived. */
  open = false;
  sessionTimeoutMs = 0;
  /** Frames before the handshake completed (pre cases: a refusal's ConnectResponse). */
  preFrames = 0;
  /** Plain text expected (a four-letter word's answer): bytes are counted, not framed. */
  text = false;
  textBytes = 0;
  readonly replies: ReplyHdr[] = [];
  notifications = 0;
  /** Frames that break the protocol (shorter than a ReplyHeader, bad length). */
  readonly violations: string[] = [];
  private awaitingConnect = false;
  private readonly decoder = new FrameDecoder(512 * 1024 * 1024);
  private readonly wakeups = new Wakeups();

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (this.text) {
        this.textBytes += chunk.length;
        return;
      }
      const st = this.decoder.feed(chunk, (f) => { this.onFrame(f); return true; });
      if (st === FRAME_BAD_LENGTH) {
        this.violations.push(`server sent a frame length of ${this.decoder.badLength}`);
        socket.destroy();
      }
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => { this.closed = true; this.wake(); });
  }

  static connect(host: string, port: number, ms = 10000): Promise<FuzzConn> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port });
      const timer = setTimeout(() => { s.destroy(); reject(new Error(`connect to ${host}:${port} timed out`)); }, ms);
      s.once('error', (e) => { clearTimeout(timer); reject(e); });
      s.once('connect', () => { clearTimeout(timer); resolve(new FuzzConn(s)); });
    });
  }

  private onFrame(f: Buffer): void {
    if (this.awaitingConnect) {
      this.awaitingConnect = false;
      // ConnectResponse {int protocolVersion, int timeOut, long sessionId, buffer passwd, [bool]}
      if (f.length < 36) {
        this.violations.push(`ConnectResponse of ${f.length} bytes`);
        return;
      }
      this.sessionTimeoutMs = f.readInt32BE(4);
      this.open = this.sessionTimeoutMs > 0;
      return;
    }
    if (!this.open) {
      this.preFrames++;
      return;
    }
    if (f.length < 16) {
      this.violations.push(`reply frame of ${f.length} bytes (a ReplyHeader takes 16)`);
      return;
    }
    const xid = f.readInt32BE(0);
    const zxid = f.readInt32BE(4) * 4294967296 + f.readUInt32BE(8);
    const err = f.readInt32BE(12);
    if (xid === Xid.notification && zxid === -1 && err === 0) {
      this.notifications++;
      return;
    }
    this.replies.push({ xid, zxid, err, len: f.length });
  }

  private wake(): void {
    this.wakeups.wake();
  }

  /** Resolves true once pred() holds, false after ms. */
  until(pred: () => boolean, ms: number): Promise<boolean> {
    return this.wakeups.until(pred, ms);
  }

  /** Sends a ConnectRequest and waits for the ConnectResponse; an error text or null. */
  async handshake(timeoutMs: number, withReadOnlyByte: boolean, ms = 10000): Promise<string | null> {
    this.awaitingConnect = true;
    this.socket.write(handshakeFrame(timeoutMs, withReadOnlyByte));
    if (!(await this.until(() => !this.awaitingConnect || this.closed, ms))) return `no ConnectResponse within ${ms} ms`;
    if (!this.open) return this.closed && this.awaitingConnect ? 'closed during the handshake' : 'handshake refused (timeout 0)';
    return null;
  }

  /** Writes bytes in one to three pieces split at random points (the server must reassemble). */
  send(b: Buffer, rng: Prng): void {
    if (this.closed) return;
    if (b.length < 2 || rng.chance(0.5)) {
      this.socket.write(b);
      return;
    }
    const cut1 = rng.range(1, b.length - 1);
    const cut2 = rng.chance(0.5) ? rng.range(cut1, b.length) : b.length;
    this.socket.write(b.subarray(0, cut1));
    this.socket.write(b.subarray(cut1, cut2));
    if (cut2 < b.length) this.socket.write(b.subarray(cut2));
  }

  end(): void {
    if (!this.closed) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

// ---- running cases -------------------------------------------------------------

export interface FuzzStats {
  cases: number;
  /** Frames written: handshakes, case frames, probes (a random-bytes chunk counts as one). */
  frames: number;
  /** Frames written in the measured rounds (the warm-up excluded; set by the run). */
  framesInRounds: number;
  bytesSent: number;
  connectionsOpened: number;
  /** Connections the server closed (not by our half-close or destroy). */
  closedByServer: number;
  replies: number;
  notifications: number;
  /** Reply codes seen, by code. */
  errs: Map<number, number>;
  /** Cases run, by generator. */
  byGen: Map<string, number>;
  failures: string[];
}

export function newStats(): FuzzStats {
  return {
    cases: 0, frames: 0, framesInRounds: 0, bytesSent: 0, connectionsOpened: 0, closedByServer: 0, replies: 0, notifications: 0,
    errs: new Map(), byGen: new Map(), failures: [],
  };
}

export interface DriverOptions {
  host: string;
  port: number;
  /** Parallel connections. */
  lanes: number;
  /** A case's verdict must come within this (big cases get four times as long). */
  caseMs: number;
  /** Failures kept in the report (counting goes on). */
  failuresMax: number;
}

const PROBE_XID = 0x7ffffff0;

/** One lane: a session reused across post cases until the server closes it. */
class Lane {
  conn: FuzzConn | null = null;
  private probeXid = PROBE_XID;
  /** When the session was last used: an idle one may be near its expiry, so it is replaced rather than reused. */
  private lastUse = 0;

  constructor(private readonly opts: DriverOptions, private readonly stats: FuzzStats, private readonly rng: Prng) {}

  private fail(c: FuzzCase, why: string): void {
    this.stats.failures.push(`${c.gen}: ${c.label}: ${why}`);
  }

  private async fresh(): Promise<FuzzConn> {
    const conn = await FuzzConn.connect(this.opts.host, this.opts.port);
    this.stats.connectionsOpened++;
    conn.socket.once('close', () => {
      if (!conn.ended) this.stats.closedByServer++;
    });
    return conn;
  }

  private async session(): Promise<FuzzConn | string> {
    const idle = Date.now() - this.lastUse > fuzzSessionTimeoutMs / 4;
    this.lastUse = Date.now();
    if (this.conn !== null && !this.conn.closed && !idle) return this.conn;
    this.retire();
    const conn = await this.fresh();
    this.stats.frames++;
    const err = await conn.handshake(fuzzSessionTimeoutMs, this.rng.chance(0.5));
    if (err !== null) {
      conn.ended = true;
      conn.destroy();
      return err;
    }
    this.conn = conn;
    return conn;
  }

  /** Drop the current connection (its session expires on its own). */
  retire(): void {
    const c = this.conn;
    if (c === null) return;
    this.stats.notifications += c.notifications;
    c.notifications = 0;
    if (!c.closed) {
      c.ended = true;
      c.destroy();
    }
    this.conn = null;
  }

  private count(c: FuzzCase): void {
    const s = this.stats;
    s.cases++;
    s.frames += c.frames;
    s.bytesSent += c.bytes.length;
    s.byGen.set(c.gen, (s.byGen.get(c.gen) ?? 0) + 1);
  }

  async run(c: FuzzCase, big: boolean): Promise<void> {
    this.count(c);
    const ms = big ? this.opts.caseMs * 4 : this.opts.caseMs;
    if (c.phase === 'pre') {
      const conn = await this.fresh();
      conn.text = c.expect.kind === 'text';
      conn.send(c.bytes, this.rng);
      if (c.endAfter) {
        conn.ended = true;
        conn.end();
      }
      if (!(await conn.until(() => conn.closed, ms))) {
        this.fail(c, `the server neither closed the connection nor answered within ${ms} ms`);
      } else if (c.expect.kind === 'closeNow' && conn.preFrames > 0) {
        this.fail(c, `expected a close without a reply; got ${conn.preFrames} frame(s) first`);
      } else if (c.expect.kind === 'text' && conn.textBytes === 0) {
        this.fail(c, 'the four-letter word got no answer before the close');
      }
      for (const v of conn.violations) this.fail(c, v);
      conn.destroy();
      return;
    }

    const got = await this.session();
    if (typeof got === 'string') {
      this.fail(c, `could not open a session for the case: ${got}`);
      return;
    }
    const conn = got;
    const base = conn.replies.length;
    conn.send(c.bytes, this.rng);
    const e = c.expect;
    let probe = -1;
    if (e.kind === 'closeNow' || e.kind === 'unimplemented') {
      if (!(await conn.until(() => conn.closed, ms))) {
        this.fail(c, `expected the server to close the connection; still open after ${ms} ms`);
        this.retire();
        return;
      }
    } else if (c.endAfter) {
      conn.ended = true;
      conn.end();
      if (!(await conn.until(() => conn.closed, ms))) this.fail(c, `the server did not close after our FIN within ${ms} ms`);
    } else {
      probe = this.probeXid;
      this.probeXid = this.probeXid === 0x7ffffffe ? PROBE_XID : this.probeXid + 1;
      conn.socket.write(probeFrame(probe));
      this.stats.frames++;
      const seen = () => conn.replies.length > base && conn.replies[conn.replies.length - 1]!.xid === probe;
      if (!(await conn.until(() => conn.closed || seen(), ms))) {
        this.fail(c, `neither an answer to the probe nor a close within ${ms} ms (${conn.replies.length - base} replies so far)`);
        this.retire();
        return;
      }
    }
    this.lastUse = Date.now();
    for (const v of conn.violations.splice(0)) this.fail(c, v);
    const replies = conn.replies.slice(base);
    const probeAnswered = probe !== -1 && replies.length > 0 && replies[replies.length - 1]!.xid === probe;
    if (probeAnswered) {
      const p = replies.pop()!;
      if (p.err !== 0) this.fail(c, `probe exists("/") answered ${p.err}`);
    }
    this.stats.replies += replies.length;
    for (const r of replies) this.stats.errs.set(r.err, (this.stats.errs.get(r.err) ?? 0) + 1);
    this.check(c, replies, conn.closed, probeAnswered);
    if (conn.closed) this.retire();
    else if (this.rng.chance(0.05)) this.retire();
  }

  private check(c: FuzzCase, replies: ReplyHdr[], closed: boolean, probeAnswered: boolean): void {
    const e = c.expect;
    for (const r of replies) {
      if (!KNOWN_ERRS.has(r.err)) this.fail(c, `reply xid ${r.xid} carries unknown error code ${r.err}`);
    }
    const reqs = c.reqs;
    const xidMatches = (i: number, r: ReplyHdr) => {
      const q = reqs?.[i];
      return q === undefined || r.xid === q.xid || (q.type === OpCode.ping && r.xid === Xid.ping);
    };
    if (reqs !== undefined && replies.length > reqs.length) {
      this.fail(c, `${replies.length} replies to ${reqs.length} request(s): ${describe(replies)}`);
    }
    replies.forEach((r, i) => {
      if (!xidMatches(i, r)) this.fail(c, `reply ${i} has xid ${r.xid}, expected ${reqs![i]!.xid} (replies out of order?)`);
    });
    switch (e.kind) {
      case 'closeNow':
        if (replies.length > 0) this.fail(c, `expected a close without a reply; got ${describe(replies)}`);
        break;
      case 'unimplemented':
        if (replies.length !== 1 || replies[0]!.err !== Err.UNIMPLEMENTED) {
          this.fail(c, `expected one UNIMPLEMENTED reply, then a close; got ${describe(replies)}`);
        }
        break;
      case 'answered': {
        if (replies.length !== e.errs.length) {
          this.fail(c, `expected ${e.errs.length} replies; got ${describe(replies)}${closed ? ' and a close' : ''}`);
        }
        replies.forEach((r, i) => {
          const allowed = e.errs[i];
          if (allowed != null && !allowed.includes(r.err)) this.fail(c, `reply ${i} (xid ${r.xid}): error ${r.err}, expected one of [${allowed.join(', ')}]`);
        });
        if (!e.thenClose && !c.endAfter && !probeAnswered) this.fail(c, 'the server closed the connection; it should have stayed open');
        break;
      }
      case 'any':
      case 'text':
        break;
    }
  }
}

function describe(replies: ReplyHdr[]): string {
  if (replies.length === 0) return 'no reply';
  const shown = replies.slice(0, 6).map((r) => `{xid ${r.xid}, err ${r.err}}`).join(', ');
  return replies.length > 6 ? `${shown}, ... (${replies.length} in all)` : shown;
}

/**
 * Runs cases on `lanes` connections in parallel; bigAt(i) says whether case i
 * is one of the expensive ones (it gets more time). Failures go to stats.
 */
export async function runCases(opts: DriverOptions, stats: FuzzStats, rng: Prng, cases: FuzzCase[], bigAt: (i: number) => boolean = () => false): Promise<void> {
  const lanes = Array.from({ length: opts.lanes }, () => new Lane(opts, stats, rng.fork()));
  let next = 0;
  await Promise.all(lanes.map(async (lane) => {
    while (next < cases.length) {
      const i = next++;
      try {
        await lane.run(cases[i]!, bigAt(i));
      } catch (e) {
        stats.failures.push(`${cases[i]!.gen}: ${cases[i]!.label}: driver error: ${(e as Error).message}`);
        lane.retire();
      }
      cases[i] = undefined as unknown as FuzzCase;
      if (stats.failures.length > opts.failuresMax) stats.failures.length = opts.failuresMax;
    }
    lane.retire();
  }));
}

// ---- one case, for comparing servers ----------------------------------------------

/** What a server did with one post case on a fresh session: comparable between servers. */
export interface Outcome {
  /** The replies to the case's frames, in order: [err, frame length]. */
  replies: [number, number][];
  /** 'answered': the probe after the case was answered; 'closed': the server closed; 'silent': neither within the time. */
  end: 'answered' | 'closed' | 'silent';
}

/**
 * Runs one 'post' case (endAfter false) on a fresh session and reports the
 * outcome; the session is closed afterwards if the connection survived.
 * Reply lengths of errors are the header alone on both servers; lengths of
 * successful replies depend on the data, which the caller keeps identical.
 */
export async function outcomeOf(host: string, port: number, c: FuzzCase, ms: number): Promise<Outcome> {
  const conn = await FuzzConn.connect(host, port);
  try {
    const err = await conn.handshake(fuzzSessionTimeoutMs, true);
    if (err !== null) throw new Error(`handshake: ${err}`);
    conn.socket.write(c.bytes);
    conn.socket.write(probeFrame(PROBE_XID));
    const answered = () => conn.replies.some((r) => r.xid === PROBE_XID);
    await conn.until(() => conn.closed || answered(), ms);
    const replies = conn.replies.filter((r) => r.xid !== PROBE_XID).map((r) => [r.err, r.len] as [number, number]);
    const end = answered() ? 'answered' : conn.closed ? 'closed' : 'silent';
    if (end === 'answered') {
      conn.socket.write(Buffer.from([0, 0, 0, 8, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xf5]));
      await conn.until(() => conn.closed, 2000);
    }
    return { replies, end };
  } finally {
    conn.destroy();
  }
}

// ---- the canary ----------------------------------------------------------------

/**
 * A session on its own connection that must keep working through the fuzz:
 * it holds an ephemeral node and a data watch, and check() does a
 * create/setData/getData/delete round trip with the results verified.
 */
export class Canary {
  round = 0;
  private constructor(readonly client: ZkClient, readonly host: string, readonly port: number) {}

  static async start(host: string, port: number): Promise<Canary> {
    const client = await ZkClient.connect(host, port, { timeoutMs: 30000 });
    const c = new Canary(client, host, port);
    if ((await client.exists('/canary')) === null) await client.create('/canary', Buffer.from('canary'));
    await client.create('/canary/eph', Buffer.from('held'), 1);
    if ((await client.exists('/canary/watched')) === null) await client.create('/canary/watched', Buffer.from('w0'));
    await client.getData('/canary/watched', true);
    return c;
  }

  /** One round trip; the failure, or null. */
  async check(): Promise<string | null> {
    const n = ++this.round;
    const c = this.client;
    const p = `/canary/c${n}`;
    try {
      if (c.closed) return 'the canary connection was closed';
      const created = await withTimeout(c.create(p, Buffer.from(`one-${n}`)), 10000, 'canary create');
      if (created !== p) return `canary create returned ${created}`;
      const st = await withTimeout(c.setData(p, Buffer.from(`two-${n}`), 0), 10000, 'canary setData');
      if (st.version !== 1) return `canary setData gave version ${st.version}`;
      const got = await withTimeout(c.getData(p), 10000, 'canary getData');
      if (got.data?.toString() !== `two-${n}` || got.stat.version !== 1) {
        return `canary getData read ${JSON.stringify(got.data?.toString())} v${got.stat.version}, wrote "two-${n}" v1`;
      }
      await withTimeout(c.delete(p, 1), 10000, 'canary delete');
      if ((await withTimeout(c.exists(p), 10000, 'canary exists')) !== null) return `${p} still exists after its delete`;
      const eph = await withTimeout(c.exists('/canary/eph'), 10000, 'canary exists eph');
      if (eph === null || eph.ephemeralOwner !== c.sessionId) return `the canary's ephemeral is gone or changed owner (${eph?.ephemeralOwner})`;
      if (c.events.length > 0) return `the canary's watch fired during the fuzz: ${JSON.stringify(c.events)}`;
      return null;
    } catch (e) {
      return `canary round ${n}: ${(e as Error).message}`;
    }
  }

  /** The watch still fires: another session changes the watched node and the canary hears of it. */
  async watchStillFires(): Promise<string | null> {
    const other = await ZkClient.connect(this.host, this.port, { ping: false });
    try {
      const ev = this.client.waitEvent((e) => e.path === '/canary/watched', 10000);
      await other.setData('/canary/watched', Buffer.from('w1'));
      const e = await ev;
      if (e.type !== 3) return `the canary's watch fired type ${e.type}, expected NodeDataChanged (3)`;
      const eph = await other.exists('/canary/eph');
      if (eph === null || eph.ephemeralOwner !== this.client.sessionId) return 'another session does not see the canary ephemeral';
      return null;
    } catch (e) {
      return `the canary's watch: ${(e as Error).message}`;
    } finally {
      await other.close();
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

// ---- setup and cleanup -----------------------------------------------------------

/** A session authenticated as the super user (fuzzServerArgs). */
export async function adminSession(host: string, port: number): Promise<ZkClient> {
  const c = await ZkClient.connect(host, port, { timeoutMs: 30000 });
  const r = await c.request(OpCode.auth, (w) => { w.int(0).ustring('digest').buffer(Buffer.from(SUPER)); }, Xid.auth);
  if (r.hdr.err !== 0) throw new Error(`super auth failed: ${r.hdr.err}`);
  return c;
}

/** The nodes the generators aim at. */
export async function setupFuzzTree(admin: ZkClient): Promise<void> {
  for (const [p, d] of [...FZ_NODES, [FZ_BIG, ''] as [string, string]]) {
    if ((await admin.exists(p)) === null) await admin.create(p, Buffer.from(d));
  }
}

/**
 * Put the tree back as it was before the fuzz: every node except /zookeeper
 * and the canary's goes (what the fuzz made, /fz and /fzbig included), and
 * the root's data and ACL are reset. Returns how many nodes were deleted.
 */
export async function cleanupTree(admin: ZkClient, keep: readonly string[] = ['/zookeeper', '/canary']): Promise<number> {
  let deleted = 0;
  const walk = async (p: string): Promise<void> => {
    let kids: string[];
    try {
      kids = await admin.getChildren(p);
    } catch {
      return;
    }
    for (const k of kids) {
      const child = p === '/' ? `/${k}` : `${p}/${k}`;
      if (keep.includes(child)) continue;
      await walk(child);
      const r = await admin.request(OpCode.delete, (w) => { w.ustring(child).int(-1); });
      if (r.hdr.err === 0) deleted++;
    }
  };
  await walk('/');
  await admin.request(OpCode.setACL, (w) => writeSetACL(w, { path: '/', acl: OPEN_ACL, version: -1 }));
  const root = await admin.request(OpCode.getData, (w) => writePathWatch(w, { path: '/', watch: false }));
  const data = root.body.buffer();
  readStat(root.body);
  if (data !== null && data.length > 0) await admin.setData('/', Buffer.alloc(0));
  return deleted;
}

// ---- the server's side -------------------------------------------------------------

/** mntr as key → value. */
export async function mntr(host: string, port: number): Promise<Map<string, string>> {
  const text = await fourLetter(port, 'mntr', host, 10000);
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab > 0) m.set(line.slice(0, tab), line.slice(tab + 1));
  }
  if (m.size === 0) throw new Error(`mntr gave no answer: ${JSON.stringify(text)}`);
  return m;
}

/** Resident set size of a process in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/**
 * Log lines that mean trouble: ERROR lines, and anything that is not one of
 * the server's log lines (an uncaught exception's stack, a Node warning).
 */
export function logProblems(output: string): string[] {
  const logLine = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO |WARN ) \[/;
  return output.split('\n').filter((l) => l !== '' && !logLine.test(l));
}

/** Counts of the server's log lines by level (for reports). */
export function logLevels(output: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of output.matchAll(/^\S+ (DEBUG|INFO|WARN|ERROR) /gm)) out[m[1]!] = (out[m[1]!] ?? 0) + 1;
  return out;
}

