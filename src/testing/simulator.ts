// The deterministic simulator (TigerBeetle's VOPR as the model): the real
// Sequencer, TxnLog, recovery and snapshot format run on a simulated disk
// (SimFs), simulated time (SimClock + Scheduler) and a simulated client
// population that speaks to the sequencer through real request and reply
// rings, as I/O workers do. One seed decides everything — client operations,
// session expiries, crashes, restarts, disk faults — so a failing seed replays
// exactly.
//
// Checks, against the reference model (model.ts):
//   - every reply: per-connection order, error code, result and stats as the
//     model computes them; zxids never go backwards for a client;
//   - every commit: the watch events it fires, per connection, before the
//     reply on that connection;
//   - every proposal: zxids consecutive, a request that was sent, a session
//     expired only after its timeout passed without a ping; and no live
//     session outlives its timeout by more than two ticks;
//   - every recovery (after crashes, clean restarts, crashes during recovery):
//     nothing acknowledged or reported durable is lost, nothing never proposed
//     is present, the tree is exactly the model's application of the
//     proposals up to the recovered zxid (every stat, the sequential
//     counters, ephemerals), and the sessions are the model's.
//
// Start-up mirrors SequencerRunner (runner.ts): Storage + recovery, then the
// Sequencer, a first snapshot for a new data directory or a background one
// after replaying txns. Keep the two in step.
//
// Not simulated: the piscina SnapshotJob (SimSnapshotter stands in, with the
// same file steps), the txn log's probe after a failure (a simulated operator
// restarts the server instead), containers, TTL nodes, ACLs other than open,
// and the I/O workers' socket code (the simulator writes and reads ring
// records as a worker does).

import { buildConfig, type Config } from '../config/config.js';
import { Err, errName } from '../jute/errors.js';
import { CreateFlag, OpCode, opName } from '../jute/opcodes.js';
import { Reader } from '../jute/reader.js';
import { readReplyHeader, readWatcherEvent } from '../jute/records.js';
import type { Txn, TxnHeader } from '../jute/txn.js';
import { Writer } from '../jute/writer.js';
import { inlineChunkPool, purge, parseCompression, type TxnLog } from '../persistence/index.js';
import {
  CloseReason, MSG_HEADER_BYTES, REFUSED_FLAG_SEND_INVALID, REP_CLOSE, REP_CONNECTED, REP_FRAME, REP_FRAME_CONT, REP_REFUSED,
  REQ_CLOSED, REQ_CONNECT, REQ_PACKET, REQ_TOUCH, writeMsgHeader,
} from '../ring/messages.js';
import { createRingBuffer, RingReader, RingWriter } from '../ring/spsc-ring.js';
import { ReplyChannel } from '../sequencer/reply-channel.js';
import { Sequencer } from '../sequencer/sequencer.js';
import { Storage } from '../sequencer/storage.js';
import type { TxnLogPort } from '../sequencer/txn-log-port.js';
import { DataTree } from '../tree/data-tree.js';
import type { ZNode } from '../tree/znode.js';
import { hiLoToBigInt } from '../util/long.js';
import { setLogSink } from '../util/log.js';
import { childPath, MNode, Model, parentOf, type ModelEvent, type Outcome } from './model.js';
import { Prng } from './prng.js';
import { SimCrash, SimFs, type SimFsStats } from './sim-fs.js';
import { decodeResult, describeOp, encodeRequest, isWrite, showResult, type Op, type SubOp } from './sim-ops.js';
import { SimSnapshotter } from './sim-snapshot.js';
import { SimClock, Scheduler, type SimEvent } from './sim-time.js';
import { Trace } from './trace.js';

/** Bugs the simulator can inject to prove that its checks fail when they must. */
export type SimBug = 'fsync-lies';

export interface SimOptions {
  seed: number;
  /** Client and fault actions to take (the run stops earlier at a failure). */
  steps: number;
  bug?: SimBug | null;
  /** Print every trace line as it happens (for replays). */
  echo?: ((line: string) => void) | null;
}

export interface SimStats {
  steps: number;
  events: number;
  requests: number;
  replies: number;
  proposals: number;
  commits: number;
  watchEvents: number;
  sessionsCreated: number;
  sessionsExpired: number;
  processCrashes: number;
  machineCrashes: number;
  crashesDuringRecovery: number;
  cleanRestarts: number;
  recoveries: number;
  startFailures: number;
  logFailures: number;
  errorWindows: number;
  snapshotsStarted: number;
  snapshotsWritten: number;
  purges: number;
  maxZxid: number;
  fs: SimFsStats;
}

export interface SimFailure {
  seed: number;
  step: number;
  event: number;
  timeMs: number;
  message: string;
  replay: string;
  trace: string[];
}

export interface SimResult {
  seed: number;
  ok: boolean;
  failure: SimFailure | null;
  traceHash: string;
  stats: SimStats;
  profile: string;
}

/** Trace lines a failure report shows. */
export const failureTraceLines = 60;
/** Requests in flight per client connection, at most. */
const depthMax = 4;
/** Full tree comparisons happen at least every this many commits (and after every recovery). */
const treeCheckEveryCommits = 25;
const tickTimeMs = 100;
const simRoots = ['/a', '/b', '/c'];
const childNames = ['x', 'y', 'z', 'q'];

interface Profile {
  workers: number;
  clientsMax: number;
  snapCount: number;
  preAllocKb: number;
  compression: 'none' | 'gz' | 'snappy';
  forceSync: boolean;
  crashWeight: number;
  machineCrashShare: number;
  errorWindowWeight: number;
  shortWriteRate: number;
  recoveryCrashRate: number;
  recoveryErrorRate: number;
}

function chooseProfile(rng: Prng): Profile {
  const forceSync = rng.chance(0.9);
  return {
    workers: rng.range(1, 2),
    clientsMax: rng.range(2, 7),
    snapCount: rng.range(8, 80),
    preAllocKb: rng.pick([1, 2, 4, 64]),
    compression: rng.pick(['none', 'none', 'gz', 'snappy'] as const),
    forceSync,
    crashWeight: rng.pick([0.3, 1, 2.5]),
    machineCrashShare: forceSync ? rng.pick([0.3, 0.7, 1]) : 0,
    errorWindowWeight: rng.pick([0, 0.4, 1.5]),
    shortWriteRate: rng.pick([0, 0.02, 0.2]),
    recoveryCrashRate: rng.pick([0, 0.15, 0.4]),
    recoveryErrorRate: rng.pick([0, 0.1]),
  };
}

function describeProfile(p: Profile): string {
  return `workers=${p.workers} clients<=${p.clientsMax} snapCount=${p.snapCount} preAllocSize=${p.preAllocKb}KB ` +
    `compression=${p.compression} forceSync=${p.forceSync ? 'yes' : 'no'} crashWeight=${p.crashWeight} ` +
    `machineCrashShare=${p.machineCrashShare} errorWindows=${p.errorWindowWeight} shortWrites=${p.shortWriteRate} ` +
    `recoveryCrashes=${p.recoveryCrashRate} recoveryErrors=${p.recoveryErrorRate}`;
}

const hexz = (z: number): string => `0x${z.toString(16)}`;
const sidName = (s: bigint): string => `s${(s & 0xffffffn).toString(16)}`;

interface PendingReq {
  xid: number;
  op: Op;
  sid: bigint;
  client: SimClient;
  conn: SimConn;
  /** zxid of its proposal, once proposed. */
  zxid: number;
  /** What the model says the server must answer, once committed. */
  expect: Outcome | null;
  /** Failed with the txn log: the server answers NOTREADONLY. */
  failed: boolean;
  answered: boolean;
}

class SimClient {
  sessionId: bigint | null = null;
  passwd: Buffer | null = null;
  timeoutMs = 0;
  conn: SimConn | null = null;
  silent = false;
  nextXid = 1;
  lastZxidSeen = 0;
  pingEvent: SimEvent | null = null;
  constructor(readonly id: number, readonly worker: number, readonly requestedTimeoutMs: number) {}
}

class SimConn {
  open = true;
  connected = false;
  closeSent = false;
  readonly pending: PendingReq[] = [];
  frag: { total: number; parts: Buffer[]; got: number } | null = null;
  constructor(readonly id: number, readonly client: SimClient, readonly worker: number, readonly newSession: boolean) {}
}

type ProposalKind = 'createSession' | 'expire' | 'request' | 'other';

interface Proposal {
  txn: Txn | null;
  /** Commits made when it was prepped. */
  commitSeqAtPrep: number;
  /**
   * For each path it deletes: the commit count when the prep record it
   * checked that path's children against was first computed (see recordSeq).
   */
  checkedSince: Map<string, number> | null;
  zxid: number;
  time: number;
  type: number;
  sid: bigint;
  cxid: number;
  kind: ProposalKind;
  timeoutMs: number;
  req: PendingReq | null;
}

class Server {
  alive = true;
  stopping = false;
  pumpEvent: SimEvent | null = null;
  tickEvent: SimEvent | null = null;
  commitsSinceTreeCheck = 0;
  constructor(
    readonly storage: Storage,
    readonly log: TxnLog,
    readonly tree: DataTree,
    readonly seq: Sequencer,
    readonly port: TxnLogPort,
    readonly reqWriters: RingWriter[],
    readonly repReaders: RingReader[],
    readonly snap: SimSnapshotter,
  ) {}
}

class Failure extends Error {}

function toBytes(d: unknown): Buffer | null {
  if (d === null || d === undefined) return null;
  if (typeof d === 'string') return Buffer.from(d, 'latin1');
  const u = d as Uint8Array;
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** A node's child names (whether the tree keeps them in a Set or a Map). */
function childNamesOf(n: ZNode): string[] {
  return n.children === null ? [] : [...n.children.keys()];
}

function ownerOf(n: ZNode): bigint {
  return hiLoToBigInt(n.ownerHi, n.ownerLo);
}

export class Simulation {
  readonly stats: SimStats;
  readonly profile: Profile;
  private readonly rng: Prng;
  private readonly actionRng: Prng;
  private readonly opRng: Prng;
  private readonly snapRng: Prng;
  private readonly clock = new SimClock(1_700_000_000_000);
  private readonly sched = new Scheduler(this.clock);
  private readonly fs: SimFs;
  private readonly trace: Trace;
  private readonly cfg: Config;
  private model = new Model();
  private genesis = true;
  private server: Server | null = null;
  private restartEvent: SimEvent | null = null;
  private readonly clients: SimClient[] = [];
  private readonly conns = new Map<number, SimConn>();
  private nextConnId = 1;
  private pending: Proposal[] = [];
  private lastProposed = 0;
  /** Requests sent and not yet committed or failed, by session:xid. */
  private readonly inflight = new Map<string, PendingReq>();
  /** Sessions whose close is proposed and not yet committed. */
  private readonly closing = new Set<bigint>();
  /** When the sequencer last consumed a record of the session (or the server started). */
  private readonly heard = new Map<bigint, number>();
  /** Sessions with records written since the last pump. */
  private readonly unheard = new Set<bigint>();
  private readonly timeouts = new Map<bigint, number>();
  private readonly createZxid = new Map<bigint, number>();
  /** Watch events the commit being checked must deliver, by connection. */
  private readonly expectedEvents = new Map<number, ModelEvent[]>();
  private maxSeenZxid = 0;
  /** Commits applied to the model so far. */
  private commitSeq = 0;
  /** Parent path → commitSeq of the last closeSession that deleted an ephemeral child of it. */
  private readonly closedUnder = new Map<string, number>();
  /**
   * Path → the newest prep change record for it (Apache's outstandingChanges,
   * mirrored only as far as the NOTEMPTY quirk needs): the zxid that made it,
   * and the commit count when the chain of records it was copied from began.
   */
  private readonly recordSeq = new Map<string, { zxid: number; seq: number }>();
  /** The latest writes answered OK, to name them if a recovery loses them. */
  private readonly recentAcks: PendingReq[] = [];
  private logFailed = false;
  /** The txn log could not cut its failed txns away: they are decided by the next recovery. */
  private logInDoubt = false;
  private failure: string | null = null;
  private step = 0;
  private syncFaultArmed = false;
  private readonly scratch = new Writer(64 * 1024);

  constructor(private readonly opts: SimOptions) {
    this.rng = new Prng(opts.seed);
    this.profile = chooseProfile(this.rng);
    this.actionRng = this.rng.fork();
    this.opRng = this.rng.fork();
    this.snapRng = this.rng.fork();
    this.fs = new SimFs(this.sched, this.rng.fork());
    this.fs.faults.shortWriteRate = this.profile.shortWriteRate;
    this.fs.faults.fsyncLies = opts.bug === 'fsync-lies';
    this.trace = new Trace(() => this.clock.now, opts.echo ?? null);
    this.fs.onTrace = (what) => this.trace.add(`disk: ${what}`);
    const settings: Record<string, string> = {
      dataDir: '/sim/data',
      tickTime: String(tickTimeMs),
      snapCount: String(this.profile.snapCount),
      preAllocSize: String(this.profile.preAllocKb),
      forceSync: this.profile.forceSync ? 'yes' : 'no',
      'snapshot.compression.method': this.profile.compression,
    };
    const lines = Object.entries(settings).map(([key, value], i) => ({ source: 'simulator', line: i + 1, key, value }));
    this.cfg = buildConfig(lines, null, 2);
    this.stats = {
      steps: 0, events: 0, requests: 0, replies: 0, proposals: 0, commits: 0, watchEvents: 0, sessionsCreated: 0, sessionsExpired: 0,
      processCrashes: 0, machineCrashes: 0, crashesDuringRecovery: 0, cleanRestarts: 0, recoveries: 0, startFailures: 0,
      logFailures: 0, errorWindows: 0, snapshotsStarted: 0, snapshotsWritten: 0, purges: 0, maxZxid: 0, fs: this.fs.stats,
    };
  }

  // ---- the run --------------------------------------------------------------------

  async run(): Promise<SimResult> {
    const onUnhandled = (e: unknown): void => {
      this.fail(`an error escaped the simulated world: ${(e as Error)?.stack ?? String(e)}`);
    };
    process.on('unhandledRejection', onUnhandled);
    setLogSink((level, component, msg) => this.trace.note(`${level} [${component}] ${msg}`));
    let event = 0;
    try {
      this.trace.add(`seed ${this.opts.seed}: ${describeProfile(this.profile)}`);
      this.restartEvent = this.sched.after(0, 'boot', () => this.restart());
      this.sched.after(1, 'action', () => this.action());
      while (this.step < this.opts.steps && this.failure === null) {
        const ev = this.sched.next();
        if (ev === undefined) break;
        event++;
        this.guard(ev.label, ev.run);
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.failure === null) this.guard('liveness check', () => this.checkLiveness());
      }
      // The end: one more crash and recovery, checked like the others.
      if (this.failure === null) {
        this.guard('final crash', () => {
          if (this.server === null) return;
          this.crash(this.profile.machineCrashShare > 0 ? 'machine' : 'process', false);
        });
        this.guard('final recovery', () => {
          if (this.restartEvent !== null) this.restartEvent.cancelled = true;
          this.restart(false);
        });
        for (let i = 0; i < 50 && this.failure === null && this.server === null; i++) this.guard('final recovery', () => this.restart(false));
      }
    } finally {
      setLogSink(null);
      process.off('unhandledRejection', onUnhandled);
      if (this.server !== null) {
        this.server.snap.kill();
        this.countSnapshots(this.server);
      }
    }
    this.stats.steps = this.step;
    this.stats.events = event;
    this.stats.maxZxid = Math.max(this.stats.maxZxid, this.model.lastZxid);
    const f = this.failure;
    return {
      seed: this.opts.seed,
      ok: f === null,
      traceHash: this.trace.digest(),
      stats: this.stats,
      profile: describeProfile(this.profile),
      failure: f === null ? null : {
        seed: this.opts.seed, step: this.step, event, timeMs: this.clock.now, message: f,
        replay: `node dist/src/testing/vopr.js --seed ${this.opts.seed} --steps ${this.opts.steps}${this.opts.bug ? ` --bug ${this.opts.bug}` : ''}`,
        trace: this.trace.last(failureTraceLines),
      },
    };
  }

  private guard(what: string, fn: () => void): void {
    if (this.failure !== null) return;
    try {
      fn();
    } catch (e) {
      if (e instanceof Failure) this.fail(e.message);
      else this.fail(`${what} threw: ${(e as Error)?.stack ?? String(e)}`);
    }
  }

  private fail(message: string): void {
    if (this.failure !== null) return;
    this.failure = message;
    this.trace.add(`FAILURE: ${message.split('\n')[0]}`);
  }

  private check(cond: boolean, message: () => string): void {
    if (!cond) throw new Failure(message());
  }

  // ---- actions ----------------------------------------------------------------------

  private action(): void {
    this.step++;
    this.sched.after(Math.round(this.actionRng.exp(4)), 'action', () => this.action());
    const srv = this.server;
    const up = srv !== null && !srv.stopping;
    const weights = [
      70, // 0 op
      this.clients.length < this.profile.clientsMax ? 6 : 0, // 1 new client
      4, // 2 reconnect
      2, // 3 disconnect
      1.5, // 4 silence
      1.5, // 5 wake
      1.5, // 6 closeSession
      this.profile.crashWeight, // 7 crash
      0.4, // 8 clean restart
      this.profile.errorWindowWeight, // 9 disk errors
      0.4, // 10 purge
    ];
    const a = this.actionRng.weighted(weights);
    const pickClient = (pred: (c: SimClient) => boolean): SimClient | null => {
      const cs = this.clients.filter(pred);
      return cs.length === 0 ? null : this.actionRng.pick(cs);
    };
    const ready = (c: SimClient): boolean => c.conn !== null && c.conn.open && c.conn.connected && !c.silent && !c.conn.closeSent;
    switch (a) {
      case 0: {
        if (!up) return;
        const c = pickClient((x) => ready(x) && x.conn!.pending.length < depthMax);
        if (c !== null) {
          this.sendOp(c, this.makeOp());
          return;
        }
        // Nobody can send: bring a client in instead.
        const idle = pickClient((x) => x.conn === null && !x.silent);
        if (idle !== null) this.connect(idle);
        else if (this.clients.length < this.profile.clientsMax) this.newClient(up);
        return;
      }
      case 1:
        this.newClient(up);
        return;
      case 2: {
        if (!up) return;
        const c = pickClient((x) => x.conn === null && !x.silent);
        if (c !== null) this.connect(c);
        return;
      }
      case 3: {
        if (!up) return;
        const c = pickClient((x) => x.conn !== null && x.conn.open && !x.conn.closeSent);
        if (c !== null) this.disconnect(c);
        return;
      }
      case 4: {
        const c = pickClient((x) => !x.silent && x.sessionId !== null);
        if (c === null) return;
        c.silent = true;
        this.stopPing(c);
        this.trace.add(`c${c.id}: goes silent (session ${c.sessionId === null ? '-' : sidName(c.sessionId)})`);
        return;
      }
      case 5: {
        const c = pickClient((x) => x.silent);
        if (c === null) return;
        c.silent = false;
        this.trace.add(`c${c.id}: wakes up`);
        if (c.conn !== null && c.conn.connected) this.startPing(c);
        else if (c.conn === null && up) this.connect(c);
        return;
      }
      case 6: {
        if (!up) return;
        const c = pickClient((x) => ready(x) && x.conn!.pending.length < depthMax);
        if (c !== null) this.sendOp(c, { t: 'closeSession' });
        return;
      }
      case 7:
        if (srv !== null) this.crash(this.actionRng.chance(this.profile.machineCrashShare) ? 'machine' : 'process', true);
        return;
      case 8:
        if (up) this.cleanRestart('operator restart');
        return;
      case 9: {
        const f = this.fs.faults;
        f.errorUntilMs = this.clock.now + this.actionRng.range(5, 150);
        f.errorRate = this.actionRng.pick([0.2, 0.5, 1]);
        this.stats.errorWindows++;
        this.trace.add(`disk: I/O errors until ${f.errorUntilMs} (rate ${f.errorRate})`);
        return;
      }
      case 10: {
        if (!up) return;
        const r = purge(srv.storage.snapDir, srv.storage.logDir, 3, this.fs);
        this.stats.purges++;
        this.trace.add(`purge: deleted ${r.deleted.length} file(s): ${r.deleted.map((p) => p.split('/').pop()).join(' ')}`);
        return;
      }
    }
  }

  private newClient(up: boolean): void {
    const c = new SimClient(this.clients.length, this.clients.length % this.profile.workers,
      this.actionRng.range(2 * tickTimeMs - 50, 12 * tickTimeMs));
    this.clients.push(c);
    this.trace.add(`c${c.id}: new client (timeout ${c.requestedTimeoutMs} ms)`);
    if (up) this.connect(c);
  }

  // ---- operations --------------------------------------------------------------------

  private userPaths(): string[] {
    const out: string[] = [];
    for (const p of this.model.nodes.keys()) if (p !== '/' && !p.startsWith('/zookeeper')) out.push(p);
    return out;
  }

  private randomPath(depthMax: number): string {
    let p = this.opRng.pick(simRoots);
    const depth = this.opRng.range(0, depthMax);
    for (let i = 0; i < depth; i++) p += `/${this.opRng.pick(childNames)}`;
    return p;
  }

  /** An existing node most of the time, sometimes any path in the namespace. */
  private somePath(): string {
    const existing = this.userPaths();
    if (existing.length > 0 && this.opRng.chance(0.7)) return this.opRng.pick(existing);
    return this.randomPath(2);
  }

  private data(): Buffer | null {
    const k = this.opRng.weighted([55, 12, 10, 18, 5]);
    switch (k) {
      case 0: return this.opRng.bytes(this.opRng.range(1, 40));
      case 1: return null;
      case 2: return Buffer.alloc(0);
      case 3: return this.opRng.bytes(this.opRng.range(100, 2000));
      default: return this.opRng.bytes(this.opRng.range(2000, 8000));
    }
  }

  private version(path: string): number {
    const k = this.opRng.weighted([50, 40, 10]);
    if (k === 0) return -1;
    if (k === 1) return this.model.nodes.get(path)?.version ?? 0;
    return this.opRng.range(0, 5);
  }

  private createOp(): SubOp & { t: 'create' } {
    const existing = this.userPaths();
    const roots = simRoots.filter((r) => this.model.nodes.has(r)).length;
    const parent = this.opRng.chance(roots < simRoots.length ? 0.5 : 0.05) ? '/'
      : existing.length > 0 && this.opRng.chance(0.7) ? this.opRng.pick(existing) : this.randomPath(1);
    const flags = this.opRng.pick([CreateFlag.PERSISTENT, CreateFlag.PERSISTENT, CreateFlag.EPHEMERAL,
      CreateFlag.PERSISTENT_SEQUENTIAL, CreateFlag.EPHEMERAL_SEQUENTIAL]);
    const sequential = flags === CreateFlag.PERSISTENT_SEQUENTIAL || flags === CreateFlag.EPHEMERAL_SEQUENTIAL;
    const name = sequential ? 's-' : parent === '/' ? this.opRng.pick(simRoots).slice(1) : this.opRng.pick(childNames);
    return { t: 'create', path: childPath(parent, name), data: this.data(), flags, withStat: this.opRng.chance(0.5) };
  }

  private subOp(): SubOp {
    switch (this.opRng.weighted([35, 25, 25, 15])) {
      case 0: return this.createOp();
      case 1: { const path = this.somePath(); return { t: 'delete', path, version: this.version(path) }; }
      case 2: { const path = this.somePath(); return { t: 'setData', path, data: this.data(), version: this.version(path) }; }
      default: { const path = this.somePath(); return { t: 'check', path, version: this.version(path) }; }
    }
  }

  private makeOp(): Op {
    const big = this.model.nodes.size > 300;
    const k = this.opRng.weighted([big ? 10 : 25, 18, big ? 30 : 12, 8, 12, 8, 8, 3]);
    switch (k) {
      case 0: return this.createOp();
      case 1: { const path = this.somePath(); return { t: 'setData', path, data: this.data(), version: this.version(path) }; }
      case 2: { const path = this.somePath(); return { t: 'delete', path, version: this.version(path) }; }
      case 3: return { t: 'multi', ops: Array.from({ length: this.opRng.range(1, 4) }, () => this.subOp()) };
      case 4: return { t: 'getData', path: this.opRng.chance(0.05) ? '/zookeeper' : this.somePath(), watch: this.opRng.chance(0.4) };
      case 5: return { t: 'exists', path: this.somePath(), watch: this.opRng.chance(0.4) };
      case 6: {
        const path = this.opRng.chance(0.15) ? '/' : this.somePath();
        return { t: this.opRng.chance(0.5) ? 'getChildren' : 'getChildren2', path, watch: this.opRng.chance(0.4) };
      }
      default: return { t: 'sync', path: this.somePath() };
    }
  }

  // ---- the simulated I/O worker ----------------------------------------------------------

  private put(worker: number, kind: number, connId: number, payload: Uint8Array): void {
    const srv = this.server!;
    const ring = srv.reqWriters[worker]!;
    const at = ring.reserve(MSG_HEADER_BYTES + payload.length);
    this.check(at >= 0, () => `request ring ${worker} is full (the simulator keeps it far from full)`);
    writeMsgHeader(ring.view, at, kind, 0, connId);
    ring.buf.set(payload, at + MSG_HEADER_BYTES);
    ring.commit();
    ring.publish();
    this.schedulePump(srv);
  }

  private connect(c: SimClient): void {
    const conn = new SimConn(this.nextConnId++, c, c.worker, c.sessionId === null);
    this.conns.set(conn.id, conn);
    c.conn = conn;
    const w = this.scratch.reset();
    w.int(0).long(c.lastZxidSeen).int(c.requestedTimeoutMs).bigLong(c.sessionId ?? 0n).buffer(c.passwd ?? Buffer.alloc(16))
      .ustring('127.0.0.1').int(40000 + conn.id);
    this.trace.add(`c${c.id}: connect conn ${conn.id} ${c.sessionId === null ? 'new session' : `session ${sidName(c.sessionId)}`}` +
      ` lastZxid ${hexz(c.lastZxidSeen)}`);
    if (c.sessionId !== null) this.unheard.add(c.sessionId);
    this.put(c.worker, REQ_CONNECT, conn.id, w.copy());
  }

  private disconnect(c: SimClient): void {
    const conn = c.conn!;
    this.trace.add(`c${c.id}: closes conn ${conn.id}`);
    this.put(conn.worker, REQ_CLOSED, conn.id, Buffer.alloc(0));
    this.dropConn(conn);
  }

  /** The client side of a connection is gone: its watches and outstanding replies with it. */
  private dropConn(conn: SimConn): void {
    if (!conn.open) return;
    conn.open = false;
    this.model.dropWatches(conn.id);
    this.expectedEvents.delete(conn.id);
    const c = conn.client;
    if (c.conn === conn) {
      c.conn = null;
      this.stopPing(c);
    }
  }

  private sendOp(c: SimClient, op: Op): void {
    const conn = c.conn!;
    const xid = c.nextXid++;
    const w = this.scratch.reset();
    encodeRequest(w, xid, op);
    const req: PendingReq = { xid, op, sid: c.sessionId!, client: c, conn, zxid: -1, expect: null, failed: false, answered: false };
    conn.pending.push(req);
    this.inflight.set(`${req.sid}:${xid}`, req);
    if (op.t === 'closeSession') conn.closeSent = true;
    this.stats.requests++;
    this.trace.add(`c${c.id}: xid ${xid} ${describeOp(op)}`);
    this.unheard.add(req.sid);
    this.put(conn.worker, REQ_PACKET, conn.id, w.copy());
  }

  private startPing(c: SimClient): void {
    this.stopPing(c);
    const every = Math.max(1, Math.floor(c.timeoutMs / 3));
    const ping = (): void => {
      c.pingEvent = null;
      const conn = c.conn;
      const srv = this.server;
      if (conn === null || !conn.open || !conn.connected || c.silent || srv === null || srv.stopping) return;
      this.unheard.add(c.sessionId!);
      this.put(conn.worker, REQ_TOUCH, conn.id, Buffer.alloc(0));
      c.pingEvent = this.sched.after(every, `ping c${c.id}`, ping);
    };
    c.pingEvent = this.sched.after(every, `ping c${c.id}`, ping);
  }

  private stopPing(c: SimClient): void {
    if (c.pingEvent !== null) c.pingEvent.cancelled = true;
    c.pingEvent = null;
  }

  private schedulePump(srv: Server): void {
    if (srv.pumpEvent !== null || !srv.alive) return;
    srv.pumpEvent = this.sched.after(0, 'pump', () => {
      srv.pumpEvent = null;
      if (!srv.alive || srv.stopping) return;
      for (let i = 0; i < 1000 && srv.seq.drain(); i++) { /* batches */ }
      if (srv.reqWriters.every((r) => r.freeBytes() === r.capacity)) {
        for (const s of this.unheard) this.heard.set(s, this.clock.now);
        this.unheard.clear();
      }
      this.collect(srv);
    });
  }

  private scheduleTick(srv: Server, ms: number): void {
    srv.tickEvent = this.sched.after(ms, 'tick', () => {
      srv.tickEvent = null;
      if (!srv.alive || srv.stopping) return;
      const next = srv.seq.tick();
      this.collect(srv);
      this.schedulePump(srv);
      this.scheduleTick(srv, next);
    });
  }

  // ---- the txn log tap ---------------------------------------------------------------------

  private onPropose(hdr: TxnHeader, txn: Txn | null): void {
    this.check(hdr.zxid === this.lastProposed + 1,
      () => `proposal zxid ${hexz(hdr.zxid)} does not follow the last proposed ${hexz(this.lastProposed)}`);
    this.check(hdr.time === this.clock.wallMs(), () => `proposal ${hexz(hdr.zxid)} has time ${hdr.time}, the clock says ${this.clock.wallMs()}`);
    this.lastProposed = hdr.zxid;
    this.stats.proposals++;
    const sid = hiLoToBigInt(hdr.clientIdHi, hdr.clientIdLo);
    const p: Proposal = {
      txn, commitSeqAtPrep: this.commitSeq, checkedSince: null, zxid: hdr.zxid, time: hdr.time, type: hdr.type, sid, cxid: hdr.cxid,
      kind: 'other', timeoutMs: 0, req: null,
    };
    if (hdr.type === OpCode.createSession) {
      p.kind = 'createSession';
      p.timeoutMs = (txn as { timeOut: number }).timeOut;
      this.check(!this.timeouts.has(sid), () => `createSession ${hexz(hdr.zxid)} reuses session id ${sid.toString(16)}`);
      this.timeouts.set(sid, p.timeoutMs);
      this.heard.set(sid, this.clock.now);
    } else if (hdr.type === OpCode.closeSession && hdr.cxid === 0) {
      p.kind = 'expire';
      const h = this.heard.get(sid) ?? 0;
      const t = this.timeouts.get(sid) ?? 0;
      this.check(this.clock.now >= h + t, () => `session ${sidName(sid)} expired at ${this.clock.now} ms, but it was last heard from ` +
        `at ${h} ms and its timeout is ${t} ms`);
      this.closing.add(sid);
    } else {
      const req = this.inflight.get(`${sid}:${hdr.cxid}`);
      this.check(req !== undefined && isWrite(req.op), () => `proposal ${hexz(hdr.zxid)} (${opName(hdr.type)}) names session ` +
        `${sidName(sid)} cxid ${hdr.cxid}, which is no write request in flight`);
      p.kind = 'request';
      p.req = req!;
      req!.zxid = hdr.zxid;
      this.trackRecords(p, req!.op);
      if (req!.op.t === 'closeSession') this.closing.add(sid);
    }
    this.pending.push(p);
    this.trace.add(`propose ${hexz(p.zxid)} ${opName(hdr.type)} ${sidName(sid)} cxid ${hdr.cxid}`);
  }

  private onDurable(srv: Server, zxid: number): void {
    if (srv !== this.server || !srv.alive) return;
    this.guard('commit', () => {
      while (this.pending.length > 0 && this.pending[0]!.zxid <= zxid && this.failure === null) {
        const p = this.pending.shift()!;
        this.commitModel(p, true);
        srv.port.onDurable(p.zxid);
        this.collect(srv);
        this.afterCommit(srv, p);
      }
      srv.port.onDurable(zxid);
      this.collect(srv);
    });
  }

  private onLogFailure(srv: Server, err: Error): void {
    if (srv !== this.server || !srv.alive) return;
    this.guard('log failure', () => {
      this.stats.logFailures++;
      this.logFailed = true;
      this.recordSeq.clear(); // the sequencer's prep forgets its change records
      if ((err as { inDoubt?: boolean }).inDoubt === true) {
        // Not cut away: they stay "maybe" until the next recovery decides; their clients lose the connection.
        this.logInDoubt = true;
        this.trace.add(`txn log failed: ${err.message}; ${this.pending.length} proposal(s) not durable are in doubt`);
        for (const p of this.pending) if (p.kind === 'expire' || p.req?.op.t === 'closeSession') this.closing.delete(p.sid);
        srv.port.onFailure(err);
        this.collect(srv);
        this.sched.after(this.actionRng.range(50, 400), 'restart after log failure', () => {
          if (this.server === srv && srv.alive && !srv.stopping) this.cleanRestart('restart after the txn log failed');
        });
        return;
      }
      this.trace.add(`txn log failed: ${err.message}; ${this.pending.length} proposal(s) not durable fail`);
      for (const p of this.pending) {
        if (p.req !== null) {
          p.req.failed = true;
          this.inflight.delete(`${p.sid}:${p.req.xid}`);
        }
        if (p.kind === 'expire' || p.req?.op.t === 'closeSession') this.closing.delete(p.sid);
        if (p.kind === 'createSession') this.timeouts.delete(p.sid);
      }
      this.pending = [];
      this.lastProposed = this.model.lastZxid;
      srv.port.onFailure(err);
      this.collect(srv);
      // The operator notices and restarts the server once the disk is back.
      this.sched.after(this.actionRng.range(50, 400), 'restart after log failure', () => {
        if (this.server === srv && srv.alive && !srv.stopping) this.cleanRestart('restart after the txn log failed');
      });
    });
  }

  /** Apply a committed proposal to the model; `live`: the server is up and its replies are checked. */
  private commitModel(p: Proposal, live: boolean): void {
    this.stats.commits++;
    this.commitSeq++;
    let outcome: Outcome | null = null;
    switch (p.kind) {
      case 'createSession':
        this.model.createSession(p.zxid, p.sid, p.timeoutMs);
        this.createZxid.set(p.sid, p.zxid);
        this.stats.sessionsCreated++;
        break;
      case 'expire':
        this.closing.delete(p.sid);
        outcome = this.model.closeSession(p.zxid, p.time, p.sid);
        this.noteClosed();
        this.stats.sessionsExpired++;
        break;
      case 'request': {
        const req = p.req!;
        this.inflight.delete(`${p.sid}:${req.xid}`);
        outcome = this.model.write(p.zxid, p.time, p.sid, req.op, this.notEmptyQuirk(p));
        req.expect = outcome;
        if (req.op.t === 'closeSession') {
          this.closing.delete(p.sid);
          this.noteClosed();
        }
        const failedTxn = p.type === OpCode.error;
        this.check(req.op.t === 'multi' || failedTxn === (outcome.err !== 0), () => `txn ${hexz(p.zxid)} for ${describeOp(req.op)} ` +
          `is ${opName(p.type)}, but the model says ${outcome!.err === 0 ? 'it succeeds' : errName(outcome!.err)}`);
        break;
      }
      default:
        this.model.noop(p.zxid);
    }
    this.trace.add(`commit ${hexz(p.zxid)}${outcome !== null && outcome.err !== 0 ? ` (${errName(outcome.err)})` : ''}`);
    this.expectedEvents.clear();
    if (!live) return;
    for (const ev of this.model.events) {
      const conn = this.conns.get(ev.conn);
      if (conn === undefined || !conn.open) continue;
      let list = this.expectedEvents.get(ev.conn);
      if (list === undefined) this.expectedEvents.set(ev.conn, list = []);
      list.push(ev);
    }
  }

  /** Note the change records a request's prep makes, and what its deletes checked children against. */
  private trackRecords(p: Proposal, op: Op): void {
    const live = (path: string): number | null => {
      const r = this.recordSeq.get(path);
      return r !== undefined && r.zxid > this.model.lastZxid ? r.seq : null;
    };
    const touch = (path: string): void => {
      const prev = live(path);
      this.recordSeq.set(path, { zxid: p.zxid, seq: prev === null ? p.commitSeqAtPrep : Math.min(prev, p.commitSeqAtPrep) });
    };
    const visit = (o: SubOp): void => {
      switch (o.t) {
        case 'create': touch(parentOf(o.path)); break;
        case 'delete': {
          const prev = live(o.path);
          (p.checkedSince ??= new Map()).set(o.path, prev === null ? p.commitSeqAtPrep : Math.min(prev, p.commitSeqAtPrep));
          touch(parentOf(o.path));
          touch(o.path);
          break;
        }
        case 'setData': touch(o.path); break;
        case 'check': break;
      }
    };
    if (op.t === 'multi') op.ops.forEach(visit);
    else if (op.t === 'create' || op.t === 'delete' || op.t === 'setData') visit(op);
  }

  private noteClosed(): void {
    for (const path of this.model.closedPaths) this.closedUnder.set(parentOf(path), this.commitSeq);
  }

  /**
   * Deletes the server refused NOTEMPTY because a closeSession committed
   * after the prep record they checked was made still counted its ephemerals
   * as children (as Apache's PrepRequestProcessor does: a closeSession's prep
   * does not lower its ephemerals' parents' child counts, and records are
   * copied from record to record while txns are in flight).
   */
  private notEmptyQuirk(p: Proposal): Set<string> | null {
    const req = p.req!;
    const txn = p.txn;
    if (txn === null) return null;
    const out = new Set<string>();
    /** `earlier`: the ops of the same multi before this one, whose creates and deletes count for the parent's children. */
    const consider = (path: string, earlier: readonly SubOp[]): void => {
      const since = p.checkedSince?.get(path) ?? p.commitSeqAtPrep;
      const node = this.model.nodes.get(path);
      if (node === undefined || (this.closedUnder.get(path) ?? 0) <= since) return;
      let children = node.children.size;
      for (const o of earlier) {
        if (parentOf(o.path) !== path) continue;
        if (o.t === 'delete') children--;
        else if (o.t === 'create') children++;
      }
      if (children === 0) out.add(path);
    };
    if (req.op.t === 'delete' && txn.type === OpCode.error && txn.err === Err.NOTEMPTY) consider(req.op.path, []);
    if (req.op.t === 'multi' && txn.type === OpCode.multi) {
      const ops = req.op.ops;
      txn.txns.forEach((t, i) => {
        const op = ops[i];
        if (op !== undefined && op.t === 'delete' && t.type === OpCode.error && t.err === Err.NOTEMPTY) consider(op.path, ops.slice(0, i));
      });
    }
    return out.size > 0 ? out : null;
  }

  private afterCommit(srv: Server, p: Proposal): void {
    for (const [connId, evs] of this.expectedEvents) {
      const conn = this.conns.get(connId);
      if (conn === undefined || !conn.open || evs.length === 0) continue;
      // The session closing in this commit may lose its connection before its own events go out.
      if (p.kind !== 'request' && p.kind !== 'expire') continue;
      if ((p.kind === 'expire' || p.req?.op.t === 'closeSession') && conn.client.sessionId === p.sid) continue;
      throw new Failure(`commit ${hexz(p.zxid)}: connection ${connId} did not get the watch event(s) ` +
        evs.map((e) => `${eventName(e.type)} ${e.path}`).join(', '));
    }
    this.expectedEvents.clear();
    if (p.req !== null && p.req.conn.open && !p.req.answered) {
      throw new Failure(`commit ${hexz(p.zxid)}: ${describeOp(p.req.op)} (c${p.req.client.id} xid ${p.req.xid}) got no reply`);
    }
    if (p.kind === 'expire') {
      for (const c of this.clients) {
        this.check(!(c.sessionId === p.sid && c.conn !== null && c.conn.open && c.conn.connected),
          () => `session ${sidName(p.sid)} expired but connection ${c.conn!.id} of c${c.id} was not closed`);
      }
    }
    if (++srv.commitsSinceTreeCheck >= treeCheckEveryCommits && this.failure === null) {
      srv.commitsSinceTreeCheck = 0;
      this.compareTree(srv, `after commit ${hexz(p.zxid)}`);
    }
  }

  // ---- output of the sequencer --------------------------------------------------------------

  private collect(srv: Server): void {
    if (!srv.alive) return;
    for (let w = 0; w < srv.repReaders.length; w++) {
      const r = srv.repReaders[w]!;
      for (let at = r.next(); at >= 0; at = r.next()) {
        const v = r.view;
        const kind = v.getUint8(at);
        const flags = v.getUint8(at + 1);
        const connId = v.getUint32(at + 4);
        const body = at + MSG_HEADER_BYTES;
        const len = r.length - MSG_HEADER_BYTES;
        const conn = this.conns.get(connId);
        this.check(conn !== undefined, () => `the server wrote to connection ${connId}, which never existed`);
        this.check(conn!.worker === w, () => `the server wrote to connection ${connId} on worker ${w}; it lives on worker ${conn!.worker}`);
        if (conn!.open) this.record(conn!, kind, flags, Buffer.from(r.buf.subarray(body, body + len)));
        r.release();
      }
      r.publish();
    }
    if (srv.seq.hasWork()) this.schedulePump(srv);
  }

  private record(conn: SimConn, kind: number, flags: number, payload: Buffer): void {
    switch (kind) {
      case REP_CONNECTED: {
        const timeout = payload.readInt32BE(0);
        const sid = payload.readBigInt64BE(4);
        const passwd = Buffer.from(payload.subarray(12, 28));
        const lastZxid = payload.readInt32BE(28) * 4294967296 + payload.readUInt32BE(32);
        this.onConnected(conn, timeout, sid, passwd, lastZxid);
        return;
      }
      case REP_REFUSED:
        this.onRefused(conn, flags);
        return;
      case REP_CLOSE:
        this.onClose(conn, flags);
        return;
      case REP_FRAME: {
        this.check(conn.frag === null, () => `connection ${conn.id}: a new frame began before the last one was complete`);
        const total = payload.readUInt32BE(0);
        const part = payload.subarray(4);
        if (part.length >= total) this.onFrame(conn, part.subarray(0, total));
        else conn.frag = { total, parts: [part], got: part.length };
        return;
      }
      case REP_FRAME_CONT: {
        const f = conn.frag;
        this.check(f !== null, () => `connection ${conn.id}: a frame continuation without a frame`);
        f!.parts.push(payload);
        f!.got += payload.length;
        if (f!.got >= f!.total) {
          conn.frag = null;
          this.onFrame(conn, Buffer.concat(f!.parts).subarray(0, f!.total));
        }
        return;
      }
      default:
        throw new Failure(`unknown reply record kind ${kind} for connection ${conn.id}`);
    }
  }

  private onConnected(conn: SimConn, timeout: number, sid: bigint, passwd: Buffer, lastZxid: number): void {
    const c = conn.client;
    this.check(!conn.connected, () => `connection ${conn.id} was connected twice`);
    const expectTimeout = Math.min(this.cfg.maxSessionTimeout, Math.max(this.cfg.minSessionTimeout, c.requestedTimeoutMs));
    this.check(timeout === expectTimeout, () => `c${c.id}: negotiated timeout ${timeout}, expected ${expectTimeout}`);
    if (conn.newSession) {
      this.check(this.model.sessions.has(sid), () => `c${c.id}: connected to session ${sidName(sid)}, whose createSession is not committed`);
      this.check(this.createZxid.get(sid) === lastZxid, () => `c${c.id}: connected with zxid ${hexz(lastZxid)}, ` +
        `its createSession is ${hexz(this.createZxid.get(sid) ?? -1)}`);
      this.check(!this.clients.some((o) => o !== c && o.sessionId === sid), () => `session ${sidName(sid)} given to two clients`);
    } else {
      this.check(sid === c.sessionId, () => `c${c.id}: reconnect of ${sidName(c.sessionId!)} answered with session ${sidName(sid)}`);
      this.check(this.model.sessions.has(sid), () => `c${c.id}: session ${sidName(sid)} reconnected although its close is committed`);
      this.check(passwd.equals(c.passwd!), () => `c${c.id}: reconnect answered with another password`);
      this.check(lastZxid >= c.lastZxidSeen, () => `c${c.id}: reconnected to a server at zxid ${hexz(lastZxid)}, ` +
        `behind the ${hexz(c.lastZxidSeen)} the client has seen`);
    }
    this.trace.add(`c${c.id}: connected conn ${conn.id} session ${sidName(sid)} zxid ${hexz(lastZxid)}`);
    conn.connected = true;
    c.sessionId = sid;
    c.passwd = passwd;
    c.timeoutMs = timeout;
    c.lastZxidSeen = Math.max(c.lastZxidSeen, lastZxid);
    this.maxSeenZxid = Math.max(this.maxSeenZxid, lastZxid);
    if (!c.silent) this.startPing(c);
  }

  private onRefused(conn: SimConn, flags: number): void {
    const c = conn.client;
    const sid = c.sessionId;
    if ((flags & REFUSED_FLAG_SEND_INVALID) !== 0) {
      this.check(sid !== null && (!this.model.sessions.has(sid) || this.closing.has(sid)),
        () => `c${c.id}: session ${sid === null ? '-' : sidName(sid)} refused as expired, but it is alive`);
      this.trace.add(`c${c.id}: session ${sidName(sid!)} expired (refused)`);
      c.sessionId = null;
      c.passwd = null;
    } else {
      this.check(conn.newSession && this.logFailed, () => `c${c.id}: connection ${conn.id} refused` +
        (conn.newSession ? ' (a new session while the txn log works)' : ` (reconnect with lastZxid ${hexz(c.lastZxidSeen)}: ` +
          'the server is behind what the client has seen)'));
      this.trace.add(`c${c.id}: new session refused (txn log failed)`);
    }
    this.dropConn(conn);
  }

  private onClose(conn: SimConn, reason: number): void {
    const c = conn.client;
    const sid = c.sessionId;
    if (reason === CloseReason.sessionExpired || reason === CloseReason.sessionClosed) {
      this.check(sid !== null && !this.model.sessions.has(sid), () => `c${c.id}: connection ${conn.id} closed ` +
        `(${reason === CloseReason.sessionExpired ? 'expired' : 'closed'}), but session ${sid === null ? '-' : sidName(sid)} is alive`);
      this.check(reason === CloseReason.sessionExpired || conn.closeSent, () => `c${c.id}: session closed without a closeSession`);
      this.trace.add(`c${c.id}: conn ${conn.id} closed: session ${sidName(sid!)} ${reason === CloseReason.sessionExpired ? 'expired' : 'closed'}`);
      c.sessionId = null;
      c.passwd = null;
    } else if (reason === CloseReason.serverShutdown && this.logInDoubt) {
      this.trace.add(`c${c.id}: conn ${conn.id} closed: its write is in doubt`);
    } else {
      throw new Failure(`c${c.id}: connection ${conn.id} closed by the server (reason ${reason})`);
    }
    this.dropConn(conn);
  }

  private onFrame(conn: SimConn, frame: Buffer): void {
    const r = new Reader(frame);
    const h = readReplyHeader(r);
    if (h.xid === -1) {
      const e = readWatcherEvent(r);
      const list = this.expectedEvents.get(conn.id) ?? [];
      const i = list.findIndex((x) => x.type === e.type && x.path === e.path);
      this.check(i >= 0, () => `connection ${conn.id} got watch event ${eventName(e.type)} ${e.path}, which the model does not fire ` +
        `(expected: ${list.map((x) => `${eventName(x.type)} ${x.path}`).join(', ') || 'none'})`);
      list.splice(i, 1);
      this.stats.watchEvents++;
      this.trace.add(`conn ${conn.id}: event ${eventName(e.type)} ${e.path}`);
      return;
    }
    this.onReply(conn, h.xid, h.zxid, h.err, frame.subarray(16));
  }

  private onReply(conn: SimConn, xid: number, zxid: number, err: number, body: Buffer): void {
    const c = conn.client;
    const req = conn.pending[0];
    this.check(req !== undefined && req.xid === xid, () => `c${c.id}: reply to xid ${xid} out of order ` +
      `(the oldest request waiting is ${req === undefined ? 'none' : `xid ${req.xid}`})`);
    conn.pending.shift();
    req!.answered = true;
    this.stats.replies++;
    const pendingEvents = this.expectedEvents.get(conn.id) ?? [];
    this.check(pendingEvents.length === 0, () => `c${c.id}: reply to xid ${xid} came before the watch event(s) ` +
      pendingEvents.map((e) => `${eventName(e.type)} ${e.path}`).join(', '));
    this.check(zxid >= c.lastZxidSeen, () => `c${c.id}: reply zxid ${hexz(zxid)} is older than ${hexz(c.lastZxidSeen)}, already seen`);
    c.lastZxidSeen = zxid;
    this.maxSeenZxid = Math.max(this.maxSeenZxid, zxid);
    const op = req!.op;
    const what = `c${c.id} xid ${xid} ${describeOp(op)}`;
    this.trace.add(`c${c.id}: reply xid ${xid} ${err === 0 ? 'ok' : errName(err)} zxid ${hexz(zxid)}`);
    if (isWrite(op)) {
      const exp = req!.expect;
      if (exp === null) {
        this.check(err === Err.NOTREADONLY && this.logFailed, () => `${what}: answered ${errName(err)} at zxid ${hexz(zxid)} ` +
          'without being committed');
        this.check(zxid === this.model.lastZxid, () => `${what}: NOTREADONLY at zxid ${hexz(zxid)}, the last committed is ${hexz(this.model.lastZxid)}`);
        this.inflight.delete(`${req!.sid}:${xid}`);
        return;
      }
      this.check(zxid === req!.zxid, () => `${what}: reply zxid ${hexz(zxid)}, its txn is ${hexz(req!.zxid)}`);
      this.check(err === exp.err, () => `${what}: answered ${errName(err)}, the model says ${errName(exp.err)}`);
      if (err === 0) this.compareResult(what, op, body, exp);
      this.recentAcks.push(req!);
      if (this.recentAcks.length > 200) this.recentAcks.splice(0, 100);
      return;
    }
    if (err === Err.SESSIONEXPIRED && this.closing.has(req!.sid)) return;
    const exp = this.model.read(op, conn.id);
    this.check(zxid === this.model.lastZxid, () => `${what}: read at zxid ${hexz(zxid)}, the last committed is ${hexz(this.model.lastZxid)}`);
    this.check(err === exp.err, () => `${what}: answered ${errName(err)}, the model says ${errName(exp.err)}`);
    if (err === 0) this.compareResult(what, op, body, exp);
  }

  private compareResult(what: string, op: Op, body: Buffer, exp: Outcome): void {
    const got = showResult(decodeResult(op, body));
    const want = showResult(exp.result);
    this.check(got === want, () => `${what}: the reply differs from the model\n  server: ${got}\n  model:  ${want}`);
  }

  // ---- crashes and restarts ------------------------------------------------------------------

  /** Everything the dead server held in memory is gone; the disk keeps what the crash kind allows. */
  private crash(kind: 'process' | 'machine', scheduleRestart: boolean): void {
    const srv = this.server;
    if (srv !== null) this.teardown(srv);
    if (kind === 'process') this.stats.processCrashes++;
    else this.stats.machineCrashes++;
    this.trace.add(`CRASH (${kind})`);
    this.trace.add(`disk: ${this.fs.crash(kind)}`);
    // A process takes a few milliseconds to start again (session ids come from the wall clock).
    if (scheduleRestart) this.scheduleRestart(this.actionRng.range(5, 300));
  }

  private teardown(srv: Server): void {
    srv.alive = false;
    srv.snap.kill();
    this.countSnapshots(srv);
    if (srv.pumpEvent !== null) srv.pumpEvent.cancelled = true;
    if (srv.tickEvent !== null) srv.tickEvent.cancelled = true;
    this.server = null;
    for (const conn of this.conns.values()) this.dropConn(conn);
    this.conns.clear();
    this.model.dropAllWatches();
    this.expectedEvents.clear();
    this.unheard.clear();
    this.logFailed = false;
    this.logInDoubt = false;
  }

  private countSnapshots(srv: Server): void {
    this.stats.snapshotsStarted += srv.snap.started;
    this.stats.snapshotsWritten += srv.snap.completed;
  }

  private scheduleRestart(ms: number): void {
    if (this.restartEvent !== null) this.restartEvent.cancelled = true;
    this.restartEvent = this.sched.after(ms, 'restart', () => this.restart());
  }

  private cleanRestart(why: string): void {
    const srv = this.server!;
    srv.stopping = true;
    this.stats.cleanRestarts++;
    this.trace.add(`STOP (${why})`);
    if (srv.pumpEvent !== null) srv.pumpEvent.cancelled = true;
    if (srv.tickEvent !== null) srv.tickEvent.cancelled = true;
    void srv.snap.idle().then(() => srv.storage.close()).then(() => {
      if (this.server !== srv || !srv.alive) return; // crashed meanwhile
      this.trace.add('stopped');
      this.teardown(srv);
      this.fs.processExit();
      this.scheduleRestart(this.actionRng.range(5, 100));
    }, (e: Error) => this.fail(`clean stop failed: ${e.stack ?? e.message}`));
  }

  /** Start a server on the disk as it is: recovery, the checks of recovery, then serving. */
  private restart(armFaults = true): void {
    this.restartEvent = null;
    if (this.server !== null) return;
    this.syncFaultArmed = false;
    if (armFaults && this.actionRng.chance(this.profile.recoveryCrashRate)) {
      this.fs.armSyncCrash(this.actionRng.range(1, 60));
      this.syncFaultArmed = true;
    } else if (armFaults && this.actionRng.chance(this.profile.recoveryErrorRate)) {
      this.fs.armSyncError(this.actionRng.range(1, 60));
      this.syncFaultArmed = true;
    }
    this.trace.add(`START${this.syncFaultArmed ? ' (a fault is armed during start-up)' : ''}`);
    let srv: Server;
    let sessions: ReadonlyMap<bigint, number>;
    const errorsBefore = this.fs.stats.syncErrors;
    try {
      [srv, sessions] = this.boot();
      if (this.fs.crashTriggered) {
        srv.snap.kill();
        throw new SimCrash('simulated crash (caught inside start-up)');
      }
    } catch (e) {
      if (e instanceof SimCrash || this.fs.crashTriggered) {
        this.stats.crashesDuringRecovery++;
        this.crash(this.profile.machineCrashShare > 0 && this.actionRng.chance(this.profile.machineCrashShare) ? 'machine' : 'process', true);
        return;
      }
      if (this.fs.stats.syncErrors > errorsBefore) {
        this.stats.startFailures++;
        this.trace.add(`start failed on the injected I/O error: ${(e as Error).message}`);
        this.fs.crash('process');
        this.scheduleRestart(this.actionRng.range(10, 200));
        return;
      }
      throw new Failure(`the server did not start: ${(e as Error).stack ?? String(e)}\nfiles:\n  ${this.fs.listing().join('\n  ')}`);
    } finally {
      this.fs.armSyncCrash(-1);
      this.fs.armSyncError(-1);
    }
    this.server = srv;
    this.verifyRecovery(srv, sessions);
    this.scheduleTick(srv, srv.seq.tick());
    // Clients that were connected come back.
    for (const c of this.clients) {
      if (c.conn === null && !c.silent) this.sched.after(this.actionRng.range(0, 50), `reconnect c${c.id}`, () => {
        if (this.server === srv && srv.alive && !srv.stopping && c.conn === null && !c.silent) this.connect(c);
      });
    }
  }

  private boot(): [Server, ReadonlyMap<bigint, number>] {
    const cfg = this.cfg;
    const storage = new Storage(cfg, inlineChunkPool, {
      fs: this.fs, random: () => this.snapRng.float(), wallMs: () => this.clock.wallMs(),
    });
    const tree = new DataTree({ extendedTypes: cfg.extendedTypesEnabled });
    const restored = storage.restore(tree);
    const log = storage.log;
    const reqSabs = Array.from({ length: this.profile.workers }, () => createRingBuffer(1 << 18));
    const repSabs = Array.from({ length: this.profile.workers }, () => createRingBuffer(1 << 18));
    const channels = repSabs.map((sab) => new ReplyChannel(new RingWriter(sab), { ring: () => {} }));
    const snap = new SimSnapshotter(this.fs, this.sched, this.snapRng, {
      dir: storage.snapDir, snapCount: this.profile.snapCount, compression: parseCompression(cfg.snapshotCompressionMethod),
      fsync: cfg.forceSync, roll: () => log.roll(), apacheStyleRate: 0.05, trace: (what) => this.trace.add(what),
    });
    // The tap: every proposal, durability report and failure passes the simulator on its way.
    let srvRef: Server | null = null;
    const port: TxnLogPort = {
      onDurable: () => {},
      onFailure: () => {},
      append: (hdr, txn) => {
        this.guard('proposal', () => this.onPropose(hdr, txn));
        log.append(hdr, txn);
      },
      flush: () => log.flush(),
    };
    log.onDurable = (z) => this.onDurable(srvRef!, z);
    log.onFailure = (e) => this.onLogFailure(srvRef!, e);
    const seq = new Sequencer({
      config: cfg, clock: this.clock, serverId: 1, restoredSessions: restored.sessions, snapshots: snap,
    }, reqSabs.map((sab) => new RingReader(sab)), channels, port, tree);
    const srv = new Server(storage, log, tree, seq, port, reqSabs.map((sab) => new RingWriter(sab)),
      repSabs.map((sab) => new RingReader(sab)), snap);
    srvRef = srv;
    seq.onUnthrottle = () => this.schedulePump(srv);
    if (restored.report.snapshotFile === null) {
      storage.snapshotSync(seq.snapshotSource, tree.lastProcessedZxid);
    } else if (restored.report.txnsReplayed > 0) {
      snap.startSnapshot(seq.snapshotSource, tree.lastProcessedZxid)?.catch(() => undefined);
    }
    this.stats.recoveries++;
    this.trace.add(`recovered zxid ${hexz(tree.lastProcessedZxid)} from ${restored.report.snapshotFile?.split('/').pop() ?? 'no snapshot'}` +
      ` + ${restored.report.txnsReplayed} txn(s); ${restored.report.tornTails.length} torn tail(s), ` +
      `${restored.report.emptyLogsRemoved.length} empty log(s) removed; ${restored.sessions.size} session(s)`);
    return [srv, restored.sessions];
  }

  /** After a start: what the disk gave back must be exactly the model's state at some zxid no older than anything acknowledged. */
  private verifyRecovery(srv: Server, sessions: ReadonlyMap<bigint, number>): void {
    const tree = srv.tree;
    const R = tree.lastProcessedZxid;
    if (this.genesis) {
      this.check(R === 0, () => `a new data directory recovered zxid ${hexz(R)}`);
      this.genesis = false;
      this.model = modelOf(tree);
      this.lastProposed = 0;
      return;
    }
    if (R < this.maxSeenZxid) {
      const lost = this.recentAcks.filter((r) => r.zxid > R).map((r) => `c${r.client.id} xid ${r.xid} ${describeOp(r.op)} @${hexz(r.zxid)}`);
      throw new Failure(`LOST ACKNOWLEDGED WRITES: recovered zxid ${hexz(R)}, but clients were answered up to zxid ` +
        `${hexz(this.maxSeenZxid)}${lost.length > 0 ? ` (${lost.slice(0, 5).join('; ')})` : ''}`);
    }
    this.check(R >= this.model.lastZxid, () => `LOST DURABLE TXNS: recovered zxid ${hexz(R)}, but the txn log reported ` +
      `${hexz(this.model.lastZxid)} durable`);
    const maxProposed = this.pending.length > 0 ? this.pending[this.pending.length - 1]!.zxid : this.model.lastZxid;
    this.check(R <= maxProposed, () => `recovered zxid ${hexz(R)}, but nothing beyond ${hexz(maxProposed)} was ever proposed`);
    let maybe = 0;
    for (const p of this.pending) {
      if (p.zxid > R) break;
      this.commitModel(p, false);
      maybe++;
    }
    const dropped = this.pending.length - maybe;
    this.trace.add(`recovery kept ${maybe} unacknowledged proposal(s), dropped ${dropped}`);
    this.pending = [];
    this.inflight.clear();
    this.closing.clear();
    this.recordSeq.clear();
    this.expectedEvents.clear();
    this.lastProposed = R;
    this.check(this.model.lastZxid === R, () => `recovered zxid ${hexz(R)}, the model's last is ${hexz(this.model.lastZxid)}`);
    this.compareTree(srv, `after recovery to ${hexz(R)}`);
    const want = [...this.model.sessions].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([s, t]) => `${sidName(s)}:${t}`).join(' ');
    const got = [...sessions].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([s, t]) => `${sidName(s)}:${t}`).join(' ');
    this.check(want === got, () => `recovered sessions differ from the model\n  server: ${got}\n  model:  ${want}`);
    for (const s of this.model.sessions.keys()) this.heard.set(s, this.clock.now);
    this.unheard.clear();
  }

  /** The server's tree, node by node, against the model. */
  private compareTree(srv: Server, when: string): void {
    const diffs = diffTree(srv.tree, this.model);
    this.check(diffs.length === 0, () => `the tree differs from the model ${when}:\n  ${diffs.slice(0, 12).join('\n  ')}` +
      `${diffs.length > 12 ? `\n  … and ${diffs.length - 12} more` : ''}`);
  }

  private checkLiveness(): void {
    const srv = this.server;
    this.stats.maxZxid = Math.max(this.stats.maxZxid, this.model.lastZxid);
    if (srv === null || srv.stopping || this.logFailed) return;
    const now = this.clock.now;
    for (const [sid, timeout] of this.model.sessions) {
      if (this.closing.has(sid) || this.unheard.has(sid)) continue;
      const h = this.heard.get(sid) ?? 0;
      this.check(now <= h + timeout + 2 * tickTimeMs + 20, () => `session ${sidName(sid)} (timeout ${timeout} ms) was last heard ` +
        `from at ${h} ms and is still not expired at ${now} ms`);
    }
  }
}

function eventName(type: number): string {
  return ['', 'NodeCreated', 'NodeDeleted', 'NodeDataChanged', 'NodeChildrenChanged'][type] ?? `event ${type}`;
}

/** The model's starting point: the tree a new data directory starts with. */
function modelOf(tree: DataTree): Model {
  const m = new Model();
  const walk = (p: string, n: ZNode): void => {
    const mn = new MNode(toBytes(n.data), n.czxid, n.mzxid, n.pzxid, n.ctime, n.mtime, n.version, n.cversion, n.aversion, ownerOf(n));
    for (const c of childNamesOf(n)) mn.children.add(c);
    m.nodes.set(p, mn);
    for (const c of childNamesOf(n)) walk(childPath(p, c), tree.getNode(childPath(p, c))!);
  };
  walk('/', tree.getNode('/')!);
  m.lastZxid = tree.lastProcessedZxid;
  return m;
}

/** Differences between the server's tree and the model (empty when equal). */
export function diffTree(tree: DataTree, model: Model): string[] {
  const out: string[] = [];
  const real = new Map<string, ZNode>();
  const walk = (p: string, n: ZNode): void => {
    real.set(p, n);
    for (const c of childNamesOf(n)) {
      const cp = childPath(p, c);
      const cn = tree.getNode(cp);
      if (cn === undefined) out.push(`${cp}: listed as a child of ${p} but missing from the node map`);
      else walk(cp, cn);
    }
  };
  const root = tree.getNode('/');
  if (root === undefined) return ['the root is missing'];
  walk('/', root);
  if (tree.nodeCount !== real.size) out.push(`the node map holds ${tree.nodeCount} nodes, ${real.size} are reachable from the root`);
  for (const p of model.paths()) {
    const m = model.nodes.get(p)!;
    const r = real.get(p);
    if (r === undefined) {
      out.push(`${p}: missing (the model has it: czxid ${hexz(m.czxid)}, version ${m.version})`);
      continue;
    }
    const fields: [string, unknown, unknown][] = [
      ['czxid', r.czxid, m.czxid], ['mzxid', r.mzxid, m.mzxid], ['pzxid', r.pzxid, m.pzxid], ['ctime', r.ctime, m.ctime],
      ['mtime', r.mtime, m.mtime], ['version', r.version, m.version], ['cversion', r.cversion, m.cversion],
      ['aversion', r.aversion, m.aversion], ['ephemeralOwner', ownerOf(r), m.owner], ['numChildren', r.children?.size ?? 0, m.children.size],
    ];
    for (const [f, a, b] of fields) if (a !== b) out.push(`${p}: ${f} is ${String(a)}, the model says ${String(b)}`);
    const rd = toBytes(r.data);
    const md = m.data;
    if (!(rd === null ? md === null : md !== null && rd.equals(md))) {
      out.push(`${p}: data is ${rd === null ? 'null' : `${rd.length} bytes`}, the model says ${md === null ? 'null' : `${md.length} bytes`}`);
    }
  }
  for (const [p, r] of real) if (!model.nodes.has(p)) out.push(`${p}: present (czxid ${hexz(r.czxid)}) but the model has no such node`);
  // The ephemeral index matches the nodes, and every ephemeral belongs to a live session.
  let indexed = 0;
  for (const [owner, paths] of tree.ephemerals) {
    for (const p of paths) {
      indexed++;
      const m = model.nodes.get(p);
      if (m === undefined || m.owner !== owner) out.push(`${p}: listed as an ephemeral of ${sidName(owner)}, which the model does not say`);
    }
    if (!model.sessions.has(owner)) out.push(`session ${sidName(owner)} owns ephemerals but is not alive in the model`);
  }
  let modelEphemerals = 0;
  for (const n of model.nodes.values()) if (n.owner !== 0n) modelEphemerals++;
  if (indexed !== modelEphemerals) out.push(`${indexed} ephemerals indexed, the model has ${modelEphemerals}`);
  return out;
}

/** Run one seed. */
export function simulate(opts: SimOptions): Promise<SimResult> {
  return new Simulation(opts).run();
}

/** A failure as the simulator prints it: seed, step, the replay command, the last events. */
export function formatFailure(f: SimFailure): string {
  return [
    `SIMULATION FAILED: seed ${f.seed}, step ${f.step} (event ${f.event}, simulated time ${(f.timeMs / 1000).toFixed(3)} s)`,
    `  ${f.message.split('\n').join('\n  ')}`,
    `replay: ${f.replay}`,
    `last ${f.trace.length} trace lines:`,
    ...f.trace.map((l) => `  ${l}`),
  ].join('\n');
}
