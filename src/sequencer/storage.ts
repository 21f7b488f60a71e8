// The sequencer's storage: the DataTree and sessions adapted to the
// persistence layer's interfaces, recovery at start-up, snapshots taken every
// ~snapCount txns (randomised as Apache does, so servers of an ensemble do
// not snapshot together), and autopurge.

import { Logger } from '../util/log.js';
import { LatencyTracker } from '../util/latency.js';
import { hex64 } from '../util/long.js';
import type { Config } from '../config/config.js';
import { OpCode } from '../jute/opcodes.js';
import type { DataTree } from '../tree/data-tree.js';
import {
  recover, purge, SnapshotJob, SnapshotSlots, writeSnapshotSync, versionDir, TxnLog, parseCompression, nodeStorageFs,
  type ChunkPool, type Compression, type RecoveryReport, type SnapshotResult, type SnapshotSource, type StorageFs, type TxnEntry,
} from '../persistence/index.js';

const log = new Logger('storage');

export interface RestoredState {
  report: RecoveryReport;
  /** Session id → timeout (ms) of every session alive in the recovered state. */
  sessions: Map<bigint, number>;
}

/** The storage's surroundings: the real ones by default, simulated ones in src/testing. */
export interface StorageEnv {
  fs: StorageFs;
  /** Uniform in [0, 1): the snapshot interval's random part. */
  random(): number;
  /** Wall-clock milliseconds (when the last snapshot was written). */
  wallMs(): number;
}

const realEnv: StorageEnv = { fs: nodeStorageFs, random: Math.random, wallMs: Date.now };

export interface SessionView {
  /** Sessions whose createSession txn has been applied, with their timeouts. */
  sessionsForSnapshot(): Iterable<readonly [bigint, number]>;
}

export class Storage {
  readonly log: TxnLog;
  readonly snapDir: string;
  readonly logDir: string;
  readonly compression: Compression;
  private snapshotting: SnapshotJob | null = null;
  /** The snapshot jobs' chunk slots, allocated once (see SnapshotSlots). */
  private readonly slots = new SnapshotSlots();
  private txnsSinceSnapshot = 0;
  private randRoll: number;
  private purgeTimer: NodeJS.Timeout | null = null;
  lastSnapshot: SnapshotResult | null = null;
  /** Wall-clock time the last snapshot was written. */
  lastSnapshotAtMs = 0;
  snapshotsTaken = 0;
  readonly snapshotTime = new LatencyTracker();

  constructor(private readonly cfg: Config, private readonly pool: ChunkPool, private readonly env: StorageEnv = realEnv) {
    this.snapDir = versionDir(cfg.dataDir);
    this.logDir = versionDir(cfg.dataLogDir);
    env.fs.mkdirSync(this.snapDir);
    env.fs.mkdirSync(this.logDir);
    this.compression = parseCompression(cfg.snapshotCompressionMethod);
    this.log = new TxnLog({
      dir: this.logDir,
      preAllocBytes: cfg.preAllocSize * 1024,
      forceSync: cfg.forceSync,
      fsyncWarningThresholdMs: cfg.fsyncWarningThresholdMs,
      storage: env.fs,
      // This thread's idle time: batches are written inline while it has been
      // idle (never on a simulated disk, whose runs must not depend on the real loop).
      // nodeTiming.idleTime is eventLoopUtilization().idle without the object per call.
      loopIdleMs: cfg.inlineLogWrites && env === realEnv ? () => performance.nodeTiming.idleTime : undefined,
    });
    this.randRoll = this.newRoll();
  }

  private newRoll(): number {
    return Math.floor(this.env.random() * Math.max(1, Math.floor(this.cfg.snapCount / 2)));
  }

  /** Load the newest snapshot and replay the logs into the (empty) tree. */
  restore(tree: DataTree): RestoredState {
    const sessions = new Map<bigint, number>();
    const report = recover(
      { snapDir: this.snapDir, logDir: this.logDir, trustEmptySnapshot: this.cfg.snapshotTrustEmpty, fs: this.env.fs },
      {
        reset: () => { tree.clearForRestore(); sessions.clear(); },
        session: (id, timeout) => { sessions.set(id, timeout); },
        acl: (ref, acls) => tree.restoreAcl(ref, acls),
        node: (path, n) => tree.restoreNode(path, n),
        loaded: () => tree.snapshotLoaded(),
        apply: (e: TxnEntry) => {
          if (e.hdr.type === OpCode.createSession && e.txn !== null && e.txn.type === OpCode.createSession) {
            sessions.set(BigInt.asIntN(64, (BigInt(e.hdr.clientIdHi) << 32n) | BigInt(e.hdr.clientIdLo >>> 0)), e.txn.timeOut);
          } else if (e.hdr.type === OpCode.closeSession) {
            sessions.delete(BigInt.asIntN(64, (BigInt(e.hdr.clientIdHi) << 32n) | BigInt(e.hdr.clientIdLo >>> 0)));
          }
          tree.processTxn(e.hdr, e.txn);
        },
      },
    );
    tree.finishRestore(report.lastZxid);
    this.log.setRecovered(report.lastZxid);
    // Ephemerals whose session did not survive are deleted now (as Apache's loadData does).
    for (const id of [...tree.ephemerals.keys()]) {
      if (!sessions.has(id)) {
        log.info(`deleting ephemerals of dead session 0x${hex64(id)}`);
        const hi = Number(BigInt.asIntN(32, id >> 32n));
        const lo = Number(BigInt.asIntN(32, id));
        tree.killSession(hi, lo, tree.lastProcessedZxid, null);
      }
    }
    log.info(`recovered zxid 0x${report.lastZxid.toString(16)} from ${report.snapshotFile ?? 'an empty data directory'}` +
      ` + ${report.txnsReplayed} txn(s) from ${report.logFiles} log file(s) in ${report.ms.toFixed(0)} ms; ` +
      `${tree.nodeCount} nodes, ${sessions.size} session(s)`);
    return { report, sessions };
  }

  /** Write a snapshot at once (a new data directory; before serving). */
  snapshotSync(source: SnapshotSource, zxid: number): void {
    const r = writeSnapshotSync(source, this.snapDir, zxid, this.compression, this.cfg.forceSync, this.env.fs);
    this.noteSnapshot(r);
  }

  private noteSnapshot(r: SnapshotResult): void {
    this.lastSnapshot = r;
    this.lastSnapshotAtMs = this.env.wallMs();
    this.snapshotsTaken++;
    this.snapshotTime.record(r.ms, performance.now());
    log.info(`wrote ${r.file}: ${r.nodes} nodes, ${r.bytes} bytes in ${r.ms.toFixed(0)} ms`);
  }

  /** Count a logged txn; returns true when a snapshot is due (and none is running). */
  noteTxn(): boolean {
    this.txnsSinceSnapshot++;
    if (this.txnsSinceSnapshot <= Math.floor(this.cfg.snapCount / 2) + this.randRoll) return false;
    if (this.snapshotting === null) return true;
    // Due again while the last one still runs (writes outpace its paced
    // slices): let it run flat out rather than let the log tail grow. A
    // 1 M-znode populate left a 220 k-txn tail, 3 s of replay at restart.
    this.snapshotting.hurry();
    return false;
  }

  get snapshotInProgress(): boolean {
    return this.snapshotting !== null;
  }

  /** Roll the log and start a fuzzy snapshot of the tree as of `zxid`. */
  startSnapshot(source: SnapshotSource, zxid: number): Promise<SnapshotResult> | null {
    if (this.snapshotting !== null) return null;
    this.txnsSinceSnapshot = 0;
    this.randRoll = this.newRoll();
    this.log.roll();
    const job = new SnapshotJob(source, {
      dir: this.snapDir, zxid, compression: this.compression, pool: this.pool, fsync: this.cfg.forceSync, slots: this.slots,
      // 1 ms slices, each followed by a 3 ms pause while clients are served
      // (none on an idle server). Measured on 2 cores with reads saturating
      // them (snapshot-latency.js, 1 M znodes): read p99.9 during a snapshot
      // against the steady p99.9 was 2.3-2.9x with no pause, 1.8-2.9x with
      // 1 ms, 1.5-2.1x with 2 ms, 1.3-1.9x with 3 ms, 1.4x with 4 ms; the
      // snapshot took 2.6-3.4, 4-4.5, 5-6.5 and 8 s. (The chunk threads keep the
      // default priority: at nice 19 a busy machine starved them and
      // snapshots stopped finishing.) The slice length, at workers=1,
      // alternating with 1/3 ms (2026-12-07, 1.59-2.19x over seven runs):
      // 2 ms slices and 6 ms pauses gave 2.19-2.33x (three runs); 0.5 and
      // 1.5 ms gave 2.40-4.20x, but Node's timers cut a 1.5 ms pause to 1 ms,
      // so those snapshots ran at a third of the thread and took 2-3 s.
      sliceMs: 1, pauseMs: 3,
    });
    this.snapshotting = job;
    log.info(`taking snapshot 0x${zxid.toString(16)}`);
    return job.done.then(
      (r) => {
        this.snapshotting = null;
        this.noteSnapshot(r);
        return r;
      },
      (e: Error) => {
        this.snapshotting = null;
        throw e;
      },
    );
  }

  /** autopurge: every purgeInterval hours keep snapRetainCount snapshots (0 = off, as Apache). */
  startAutopurge(): void {
    if (this.cfg.autopurgePurgeInterval <= 0) return;
    const everyMs = this.cfg.autopurgePurgeInterval * 3600 * 1000;
    log.info(`autopurge: every ${this.cfg.autopurgePurgeInterval} h, keeping ${this.cfg.autopurgeSnapRetainCount} snapshots`);
    this.purgeTimer = setInterval(() => this.purgeNow(), everyMs);
    this.purgeTimer.unref();
  }

  purgeNow(): void {
    try {
      purge(this.snapDir, this.logDir, this.cfg.autopurgeSnapRetainCount, this.env.fs);
    } catch (e) {
      log.warn(`autopurge failed: ${(e as Error).message}`);
    }
  }

  async close(): Promise<void> {
    if (this.purgeTimer !== null) clearInterval(this.purgeTimer);
    if (this.snapshotting !== null) await this.snapshotting.done.catch(() => undefined);
    await this.log.close();
  }
}
