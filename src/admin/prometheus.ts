// /metrics in the Prometheus text exposition format (0.0.4), shaped as
// Apache ZooKeeper's PrometheusMetricsProvider writes it (simpleclient 0.x:
// values as Java doubles, summaries with quantile 0.5/0.9/0.99 plus _count
// and _sum). Apache's names where they exist; zoonode's own are prefixed
// zoonode_.

import { javaDouble, latencyTriple, maxFileDescriptors, openFileDescriptors, type ServerView } from './view.js';
import { quantile, type LatencySnapshot } from './stats.js';

class Exposition {
  private out = '';

  gauge(name: string, help: string, value: number, labels?: [string, string][][] | null, values?: number[]): void {
    this.out += `# HELP ${name} ${help}\n# TYPE ${name} gauge\n`;
    this.samples(name, value, labels, values);
  }

  counter(name: string, help: string, value: number, labels?: [string, string][][] | null, values?: number[]): void {
    this.out += `# HELP ${name} ${help}\n# TYPE ${name} counter\n`;
    this.samples(name, value, labels, values);
  }

  private samples(name: string, value: number, labels?: [string, string][][] | null, values?: number[]): void {
    if (labels && values) {
      labels.forEach((l, i) => { this.out += `${name}{${l.map(([k, v]) => `${k}="${v}",`).join('')}} ${javaDouble(values[i]!)}\n`; });
    } else {
      this.out += `${name} ${javaDouble(value)}\n`;
    }
  }

  summary(name: string, help: string, s: LatencySnapshot): void {
    this.out += `# HELP ${name} ${help}\n# TYPE ${name} summary\n`;
    for (const q of [0.5, 0.9, 0.99]) this.out += `${name}{quantile="${q}",} ${javaDouble(round3(quantile(s, q)))}\n`;
    this.out += `${name}_count ${javaDouble(s.count)}\n${name}_sum ${javaDouble(round3(s.sum))}\n`;
  }

  text(): string {
    return this.out;
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export function metricsText(v: ServerView): string {
  const e = new Exposition();
  const s = v.seq;
  const [min, avg, max] = latencyTriple(v.latency);
  e.gauge('znode_count', 'znode_count', s.nodeCount);
  e.gauge('watch_count', 'watch_count', s.watchCount);
  e.gauge('ephemerals_count', 'ephemerals_count', s.ephemeralsCount);
  e.gauge('approximate_data_size', 'approximate_data_size', s.approximateDataSize);
  e.gauge('global_sessions', 'global_sessions', s.globalSessions);
  e.gauge('local_sessions', 'local_sessions', 0);
  e.gauge('num_alive_connections', 'num_alive_connections', v.connections);
  e.gauge('outstanding_requests', 'outstanding_requests', v.outstanding);
  e.gauge('packets_received', 'packets_received', v.packetsReceived);
  e.gauge('packets_sent', 'packets_sent', v.packetsSent);
  e.gauge('avg_latency', 'avg_latency', avg);
  e.gauge('min_latency', 'min_latency', min);
  e.gauge('max_latency', 'max_latency', max);
  e.gauge('uptime', 'uptime', v.uptimeMs);
  e.gauge('last_client_response_size', 'last_client_response_size', v.responseSizeLast);
  e.gauge('min_client_response_size', 'min_client_response_size', v.responseSizeMin);
  e.gauge('max_client_response_size', 'max_client_response_size', v.responseSizeMax);
  e.gauge('open_file_descriptor_count', 'open_file_descriptor_count', openFileDescriptors());
  e.gauge('max_file_descriptor_count', 'max_file_descriptor_count', maxFileDescriptors());
  e.gauge('auth_failed_count', 'auth_failed_count', v.authFailed);
  e.counter('unsuccessful_handshake', 'unsuccessful_handshake', v.tlsHandshakesFailed);
  e.counter('connection_rejected', 'connection_rejected', v.connectionsRejected);
  e.counter('throttled_ops', 'throttled_ops', s.throttledOps);
  e.counter('fsync_threshold_exceed_count', 'fsync_threshold_exceed_count', s.fsyncsOverThreshold);
  e.counter('proposal_count', 'proposal_count', s.proposals);
  e.counter('commit_count', 'commit_count', s.commits);
  e.counter('snap_count', 'snap_count', s.snapshotsTaken);
  e.summary('fsynctime', 'fsynctime', s.fsyncLatency);
  e.summary('snapshottime', 'snapshottime', s.snapshotLatency);
  e.summary('requestlatency', 'request latency (ms), read and update', v.latency);
  const readLat = v.workers.map((w) => w.readLatency);
  const updateLat = v.workers.map((w) => w.updateLatency);
  e.summary('readlatency', 'readlatency', mergeAll(readLat));
  e.summary('updatelatency', 'updatelatency', mergeAll(updateLat));
  // Apache's per-namespace gauge and counter sets, labelled key="<namespace>".
  const byKey = (pairs: [string, number][]): [[string, string][][], number[]] =>
    [pairs.map(([ns]) => [['key', ns]] as [string, string][]), pairs.map(([, n]) => n)];
  const q = s.quotas;
  e.gauge('quota_count_limit_per_namespace', 'quota_count_limit_per_namespace', 0, ...byKey(q.countLimit));
  e.gauge('quota_bytes_limit_per_namespace', 'quota_bytes_limit_per_namespace', 0, ...byKey(q.bytesLimit));
  e.gauge('quota_count_usage_per_namespace', 'quota_count_usage_per_namespace', 0, ...byKey(q.countUsage));
  e.gauge('quota_bytes_usage_per_namespace', 'quota_bytes_usage_per_namespace', 0, ...byKey(q.bytesUsage));
  e.counter('quota_exceeded_error_per_namespace', 'quota_exceeded_error_per_namespace', 0, ...byKey(s.quotaExceeded));
  // zoonode's own: per worker, rings, batching, event loops.
  const w = v.workers;
  const byWorker = w.map((x) => [['worker', String(x.index)]] as [string, string][]);
  e.gauge('zoonode_worker_connections', 'client connections per I/O worker', 0, byWorker, w.map((x) => x.connections));
  e.gauge('zoonode_request_ring_used_bytes', 'bytes waiting in each worker\'s request ring', 0, byWorker, w.map((x) => x.ringUsedBytes));
  e.gauge('zoonode_request_ring_capacity_bytes', 'capacity of each worker\'s request ring', 0, byWorker, w.map((x) => x.ringCapacity));
  e.counter('zoonode_request_ring_stalls', 'times a connection paused on a full request ring', 0, byWorker, w.map((x) => x.ringStalls));
  e.counter('zoonode_slow_consumers_closed', 'connections closed for leaving too many replies unread', 0, byWorker, w.map((x) => x.slowConsumersClosed));
  e.counter('zoonode_outbound_pauses', 'times a connection stopped reading because its client left too many replies unread', 0, byWorker, w.map((x) => x.outboundPauses));
  e.counter('zoonode_socket_writes', 'reply buffers handed to client sockets (about one write syscall each)', 0, byWorker, w.map((x) => x.socketWrites));
  e.counter('zoonode_outstanding_throttles', 'times a connection stopped reading at the worker\'s share of globalOutstandingLimit', 0, byWorker, w.map((x) => x.outstandingThrottles));
  e.counter('zoonode_request_throttle_waits', 'times the sequencer stopped taking requests (in-flight limit reached)', s.requestThrottleWaits);
  e.counter('zoonode_sequencer_stalls', 'stalls (late expiry timer, or input blocked) excluded from session deadlines', s.stalls);
  e.counter('zoonode_sequencer_stall_ms_total', 'total stall time excluded from session deadlines (ms)', s.stallMsTotal);
  e.gauge('zoonode_sequencer_stall_ms_max', 'longest stall excluded from session deadlines (ms)', s.stallMsMax);
  e.gauge('zoonode_sequencer_heap_used_bytes', 'V8 heap in use on the thread that holds the tree', s.heapUsedBytes);
  e.gauge('zoonode_sequencer_heap_limit_bytes', 'V8 heap ceiling of the thread that holds the tree (heapMaxMb)', s.heapLimitBytes);
  e.gauge('zoonode_sequencer_young_generation_bytes', 'V8 semi-space size (new space) of the thread that holds the tree', s.youngGenerationBytes);
  e.summary('zoonode_sequencer_batch_size', 'requests the sequencer took per drain of the rings', s.batchSize);
  const threads: [string, string][][] = [[['thread', 'sequencer']], ...w.map((x) => [['thread', `io${x.index}`]] as [string, string][])];
  e.gauge('zoonode_event_loop_lag_p99_ms', 'event-loop delay p99 per thread (ms)', 0, threads, [s.eventLoopLagP99Ms, ...w.map((x) => x.eventLoopLagP99Ms)]);
  e.gauge('zoonode_event_loop_lag_max_ms', 'event-loop delay max per thread (ms)', 0, threads, [s.eventLoopLagMaxMs, ...w.map((x) => x.eventLoopLagMaxMs)]);
  e.counter('zoonode_txnlog_inline_writes', 'txn log batches written on the sequencer thread (it had been idle)', s.inlineLogWrites);
  e.counter('zoonode_txnlog_pooled_writes', 'txn log batches written through the thread pool', s.pooledLogWrites);
  e.counter('zoonode_txnlog_slow_inline_writes', 'inline txn log writes slower than 50 ms (each sends writes through the pool for 10 s)', s.slowInlineLogWrites);
  e.gauge('zoonode_read_only', 'writes are refused (txn log failure)', s.readOnly ? 1 : 0);
  return e.text();
}

function mergeAll(xs: LatencySnapshot[]): LatencySnapshot {
  let out: LatencySnapshot = { min: 0, max: 0, sum: 0, count: 0, last: 0, hist: [] };
  for (const x of xs) {
    out = {
      min: out.count === 0 ? x.min : Math.min(out.min, x.min), max: Math.max(out.max, x.max), sum: out.sum + x.sum,
      count: out.count + x.count, last: x.last, hist: x.hist.map((h, i) => h + (out.hist[i] ?? 0)),
    };
  }
  return out;
}
