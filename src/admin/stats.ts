// Counters the threads keep and the snapshots they hand to the admin hub on
// request. Recording is a few arithmetic operations on preallocated arrays
// (no allocation per request); snapshots are plain objects, built only when
// an operator asks (four-letter word, AdminServer, /metrics scrape).

export { LatencyTracker, mergeLatency, quantile, bucketUpper, type LatencySnapshot } from '../util/latency.js';
import type { LatencySnapshot } from '../util/latency.js';
import type { QuotaMetrics } from '../tree/quotas.js';

/** One client connection as `cons` and /commands/connections show it. */
export interface ConnectionSnapshot {
  address: string;
  port: number;
  /** 1 while reading, 0 while paused (Apache's interest ops). */
  interestOps: number;
  outstanding: number;
  packetsReceived: number;
  packetsSent: number;
  /** 0 until the handshake completes. */
  sessionId: string;
  /** null before any answer on a reattached session (Java's default; cons prints "null"). */
  lastOp: string | null;
  establishedMs: number;
  timeoutMs: number;
  lastCxid: number;
  lastZxid: number;
  lastResponseMs: number;
  lastLatency: number;
  minLatency: number;
  avgLatency: number;
  maxLatency: number;
  /** The handshake is done (Apache prints the long form only then). */
  established: boolean;
}

export interface WorkerSnapshot {
  index: number;
  connections: number;
  packetsReceived: number;
  packetsSent: number;
  bytesReceived: number;
  outstanding: number;
  latency: LatencySnapshot;
  readLatency: LatencySnapshot;
  updateLatency: LatencySnapshot;
  responseSizeLast: number;
  responseSizeMin: number;
  responseSizeMax: number;
  connectionsRejected: number;
  /** TLS handshakes that failed or were refused (a bad, missing, expired or untrusted certificate; plaintext on a TLS port). */
  tlsHandshakesFailed: number;
  /** Times a connection stopped because the request ring was full. */
  ringStalls: number;
  /** Bytes waiting in the request ring (as seen by this producer) and its capacity. */
  ringUsedBytes: number;
  ringCapacity: number;
  /** Connections closed for not reading their replies. */
  slowConsumersClosed: number;
  /** Times a connection stopped reading at the outstanding-request limit (globalOutstandingLimit). */
  outstandingThrottles: number;
  /** Times a connection stopped reading because its client left too many replies unread. */
  outboundPauses: number;
  /** Reply buffers handed to client sockets (about one write syscall each). */
  socketWrites: number;
  eventLoopLagP99Ms: number;
  eventLoopLagMaxMs: number;
}

export interface SequencerSnapshot {
  startedAtMs: number;
  lastZxid: number;
  nodeCount: number;
  /** Data + child watches, as mntr's zk_watch_count. */
  watchCount: number;
  /** wchs: data watches only (as Apache reports them). */
  dataWatchConnections: number;
  dataWatchPaths: number;
  dataWatches: number;
  ephemeralsCount: number;
  approximateDataSize: number;
  globalSessions: number;
  outstandingRequests: number;
  readOnly: boolean;
  proposals: number;
  commits: number;
  authFailed: number;
  connectionsRejected: number;
  throttledOps: number;
  /** Times the sequencer stopped taking requests (in-flight limit reached). */
  requestThrottleWaits: number;
  /** Stalls excluded from session deadlines: count, total and longest (ms). */
  stalls: number;
  stallMsTotal: number;
  stallMsMax: number;
  /** The tree-holding thread's V8 heap: used and ceiling (heapMaxMb), bytes. */
  heapUsedBytes: number;
  heapLimitBytes: number;
  /** Its young generation's semi-space (V8's new space), bytes: 64 MiB when the sequencer has a thread of its own. */
  youngGenerationBytes: number;
  fsyncs: number;
  fsyncMsTotal: number;
  fsyncMsMax: number;
  fsyncsOverThreshold: number;
  /** Txn log batches written on the sequencer's thread, through the thread pool, and inline ones that were slow. */
  inlineLogWrites: number;
  pooledLogWrites: number;
  slowInlineLogWrites: number;
  fsyncLatency: LatencySnapshot;
  snapshotsTaken: number;
  snapshotLatency: LatencySnapshot;
  lastSnapshotZxid: number;
  lastSnapshotTimeMs: number;
  batchSize: LatencySnapshot;
  dataDir: string;
  dataLogDir: string;
  eventLoopLagP99Ms: number;
  eventLoopLagMaxMs: number;
  /** Per-namespace quota limits and usage (Apache's quota_*_per_namespace gauge sets). */
  quotas: QuotaMetrics;
  /** [namespace, writes refused by a hard quota] (Apache's quota_exceeded_error_per_namespace). */
  quotaExceeded: [string, number][];
}

export interface DumpSnapshot {
  /** Expiry bucket time (wall-clock ms) → session ids (hex). */
  sessionsByExpiry: [number, string[]][];
  /** Session id (hex) → ephemeral paths. */
  ephemerals: [string, string[]][];
}

export interface WatchesSnapshot {
  /** Session id (hex) → watched paths (data watches, as Apache reports). */
  bySession: [string, string[]][];
  /** Path → session ids (hex). */
  byPath: [string, string[]][];
}
