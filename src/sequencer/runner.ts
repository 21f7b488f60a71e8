// Hosts the Sequencer on the current thread's event loop: storage and
// recovery at start-up, the doorbell pump that drains request rings, the
// session-expiry timer, and an orderly stop. Used by the sequencer thread
// (threaded mode) and by main.ts in inline mode.

import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { Piscina } from 'piscina';
import type { Config } from '../config/config.js';
import type { Clock } from '../util/clock.js';
import { Logger } from '../util/log.js';
import { RingReader, RingWriter } from '../ring/spsc-ring.js';
import { AtomicDoorbell, AtomicPump } from '../ring/doorbell.js';
import { CTRL_LAST_ZXID_I64, CTRL_SEQUENCER_BELL, CTRL_STRIDE, CTRL_WORKER_BELL_BASE } from '../ring/layout.js';
import { DataTree } from '../tree/data-tree.js';
import { quotaMetrics } from '../tree/quotas.js';
import { ReplyChannel, type ReplySink } from './reply-channel.js';
import { Sequencer } from './sequencer.js';
import { Storage } from './storage.js';
import { ContainerReaper } from './container-reaper.js';
import { EventLoopLag } from '../util/event-loop-lag.js';
import { securitySettings, serverUser } from '../security/settings.js';
import { AuditLog } from '../security/audit-log.js';
import { SecurityGate } from './security-gate.js';
import type { DumpSnapshot, SequencerSnapshot, WatchesSnapshot } from '../admin/stats.js';

const log = new Logger('sequencer');

export interface SequencerHandles {
  ctrl: SharedArrayBuffer;
  requestRings: SharedArrayBuffer[];
  replyRings: SharedArrayBuffer[];
}

type Pump = { start(): void; stop(): void; kick(): void };

export class SequencerRunner {
  readonly sequencer: Sequencer;
  readonly storage: Storage;
  private readonly pump: Pump;
  private readonly pool: Piscina;
  private expiryTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly reaper: ContainerReaper;
  private readonly lag = new EventLoopLag();
  private readonly startedAtMs = Date.now();
  private readonly config: Config;
  private readonly clock: Clock;
  private readonly gate: SecurityGate;

  /**
   * Recovers the data directory and builds the sequencer. Throws (with the
   * file and offset) if the data directory cannot be recovered.
   *
   * `bells` are the doorbells of the workers' reply rings. In threaded mode
   * they are Atomics-based and the pump an AtomicPump; inline mode passes
   * same-thread doorbells and pump.
   */
  constructor(
    config: Config,
    clock: Clock,
    handles: SequencerHandles,
    /** With workers=0, the connections' own sink (no reply ring); otherwise null: a ring per worker. */
    sinks: ReplySink[] | null,
    makePump: ((drain: () => boolean, hasWork: () => boolean) => Pump) | null,
  ) {
    this.config = config;
    this.clock = clock;
    // The security settings were checked by main.ts; read here again (the JAAS users) on this thread.
    const security = securitySettings(config);
    this.gate = new SecurityGate(security, security.auditFile === null ? null : new AuditLog(security.auditFile, serverUser()));
    const ctrl32 = new Int32Array(handles.ctrl);
    const ctrl64 = new BigInt64Array(handles.ctrl);
    this.pool = new Piscina({
      filename: fileURLToPath(new URL('../persistence/snapshot-worker.js', import.meta.url)),
      minThreads: 0,
      maxThreads: 2,
      idleTimeout: 10_000,
    });
    this.storage = new Storage(config, this.pool);
    const tree = new DataTree({ extendedTypes: config.extendedTypesEnabled });
    const restored = this.storage.restore(tree);
    const inputs = handles.requestRings.map((sab) => new RingReader(sab));
    const channels = sinks ?? handles.replyRings.map((sab, i) => new ReplyChannel(
      new RingWriter(sab),
      new AtomicDoorbell(ctrl32, CTRL_WORKER_BELL_BASE + i * CTRL_STRIDE),
    ));
    this.sequencer = new Sequencer({
      // Apache's standalone server puts 1 in the top byte of its session ids (createSessionTrackerServerId).
      config, clock, serverId: 1,
      restoredSessions: restored.sessions,
      snapshots: this.storage,
      probeLog: () => this.storage.log.probe(),
      security: this.gate,
    }, inputs, channels, this.storage.log, tree);
    this.sequencer.onZxid = (z) => Atomics.store(ctrl64, CTRL_LAST_ZXID_I64, BigInt(z));
    this.sequencer.onUnthrottle = () => this.pump.kick();
    Atomics.store(ctrl64, CTRL_LAST_ZXID_I64, BigInt(tree.lastProcessedZxid));
    if (restored.report.snapshotFile === null) {
      // A new data directory gets its first snapshot before serving (as Apache's snapshot.0).
      this.storage.snapshotSync(this.sequencer.snapshotSource, tree.lastProcessedZxid);
    } else if (restored.report.txnsReplayed > 0) {
      // Fold the replayed txns into a snapshot, in the background.
      this.storage.startSnapshot(this.sequencer.snapshotSource, tree.lastProcessedZxid)?.catch((e: Error) => {
        log.error(`start-up snapshot failed: ${e.message}`);
      });
    }
    this.storage.startAutopurge();
    this.reaper = new ContainerReaper(tree, () => clock.wallMs(), {
      checkIntervalMs: config.containerCheckIntervalMs,
      maxPerMinute: config.containerMaxPerMinute,
      maxNeverUsedIntervalMs: config.containerMaxNeverUsedIntervalMs,
    }, (path) => {
      this.sequencer.deleteContainer(path);
      this.pump.kick();
    });
    const drain = () => this.sequencer.drain();
    const hasWork = () => this.sequencer.hasWork();
    this.pump = makePump !== null ? makePump(drain, hasWork) : new AtomicPump(ctrl32, CTRL_SEQUENCER_BELL, drain, hasWork);
  }

  start(): void {
    this.gate.auditServer('serverStart');
    this.pump.start();
    this.reaper.start();
    this.scheduleExpiry(this.sequencer.tick());
  }

  private scheduleExpiry(ms: number): void {
    if (this.stopped) return;
    this.expiryTimer = setTimeout(() => {
      this.scheduleExpiry(this.sequencer.tick());
      this.pump.kick();
    }, ms);
  }

  // ---- for the admin hub ----------------------------------------------------------

  snapshot(): SequencerSnapshot {
    const seq = this.sequencer;
    const tree = seq.tree;
    const logStats = this.storage.log.stats;
    const heap = v8.getHeapStatistics();
    const [lagP99, lagMax] = this.lag.read();
    let ephemerals = 0;
    for (const set of tree.ephemerals.values()) ephemerals += set.size;
    return {
      startedAtMs: this.startedAtMs,
      lastZxid: tree.lastProcessedZxid,
      // Apache's count is its nodes map's size, which holds the root twice ("/" and its "" alias).
      nodeCount: tree.nodeCount + 1,
      // Apache 3.8 registers a persistent recursive watch with its child
      // watches as well as its data watches (3.9 no longer does; zoonode keeps
      // it with the data watches only), and counts both.
      watchCount: tree.dataWatches.size + tree.childWatches.size + tree.dataWatches.recursiveWatches,
      dataWatchConnections: tree.dataWatches.watcherCount(),
      dataWatchPaths: tree.dataWatches.pathCount,
      dataWatches: tree.dataWatches.size,
      ephemeralsCount: ephemerals,
      approximateDataSize: tree.approximateDataSize,
      globalSessions: seq.sessionCount,
      outstandingRequests: seq.outstandingCount,
      readOnly: seq.readOnly,
      proposals: seq.stats.proposals,
      commits: seq.stats.commits,
      authFailed: seq.stats.authFailed,
      connectionsRejected: seq.stats.connectionsRejected,
      throttledOps: seq.stats.throttledOps,
      requestThrottleWaits: seq.stats.requestThrottleWaits,
      stalls: seq.stats.stalls,
      stallMsTotal: seq.stats.stallMsTotal,
      stallMsMax: seq.stats.stallMsMax,
      heapUsedBytes: heap.used_heap_size,
      heapLimitBytes: heap.heap_size_limit,
      youngGenerationBytes: v8.getHeapSpaceStatistics().find((sp) => sp.space_name === 'new_space')?.space_size ?? 0,
      fsyncs: logStats.fsyncs,
      fsyncMsTotal: logStats.fsyncMsTotal,
      fsyncMsMax: logStats.fsyncMsMax,
      fsyncsOverThreshold: logStats.fsyncsOverThreshold,
      inlineLogWrites: logStats.inlineWrites,
      pooledLogWrites: logStats.pooledWrites,
      slowInlineLogWrites: logStats.slowInlineWrites,
      fsyncLatency: this.storage.log.fsyncTime.snapshot(),
      snapshotsTaken: this.storage.snapshotsTaken,
      snapshotLatency: this.storage.snapshotTime.snapshot(),
      lastSnapshotZxid: this.storage.lastSnapshot?.zxid ?? 0,
      lastSnapshotTimeMs: this.storage.lastSnapshotAtMs,
      batchSize: seq.batchSize.snapshot(),
      dataDir: this.config.dataDir,
      dataLogDir: this.config.dataLogDir,
      eventLoopLagP99Ms: lagP99,
      eventLoopLagMaxMs: lagMax,
      quotas: quotaMetrics((p) => tree.getNode(p)),
      quotaExceeded: seq.quotaExceededCounts(),
    };
  }

  dump(): DumpSnapshot {
    const d = this.sequencer.dumpSessions();
    const offset = Date.now() - this.clock.nowMs();
    return { sessionsByExpiry: d.byExpiry.map(([t, ids]) => [t + offset, ids]), ephemerals: d.ephemerals };
  }

  watches(): WatchesSnapshot {
    return this.sequencer.watchReport();
  }

  resetStats(): void {
    this.sequencer.resetStats();
  }

  /** Wake the pump (a same-thread producer rang). */
  kick(): void {
    this.pump.kick();
  }

  /** This thread's event-loop delay [p99, max] in ms (also the inline I/O worker's: same thread). */
  eventLoopLag(): [number, number] {
    return this.lag.read();
  }

  /** Stop taking requests; write out what the log holds; close files and workers. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.pump.stop();
    this.reaper.stop();
    this.lag.stop();
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.gate.auditServer('serverStop');
    await this.gate.audit?.close();
    await this.storage.close();
    await this.pool.destroy();
  }
}
