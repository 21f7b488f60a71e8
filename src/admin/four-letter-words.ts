// Four-letter words in Apache ZooKeeper 3.8's text formats (see
// test/fixtures/apache-admin/*.txt for the real server's answers). Each
// formatter is a pure function of the data the hub gathered.

import os from 'node:os';
import {
  hostName, javaDate, javaDouble, javaHex, latencyTriple, maxFileDescriptors, openFileDescriptors, zookeeperVersion,
  type ConnectionSnapshot, type DumpSnapshot, type ServerInfo, type ServerView, type WatchesSnapshot,
} from './view.js';
import { quantile } from './stats.js';

/** One connection line of cons/stat: the short form before the handshake or without details. */
export function connectionLine(c: ConnectionSnapshot, detailed: boolean): string {
  const head = ` /${c.address}:${c.port}[${c.interestOps}](queued=${c.outstanding},recved=${c.packetsReceived},sent=${c.packetsSent}`;
  if (!detailed || !c.established) return `${head})`;
  // Apache leaves lcxid out while it is negative (after crst, or a ping).
  const lcxid = c.lastCxid >= 0 ? `lcxid=0x${javaHex(c.lastCxid)},` : '';
  return `${head},sid=0x${c.sessionId},lop=${c.lastOp},est=${c.establishedMs},to=${c.timeoutMs},` +
    `${lcxid}lzxid=0x${javaHex(c.lastZxid)},lresp=${c.lastResponseMs},llat=${c.lastLatency},` +
    `minlat=${c.minLatency},avglat=${c.avgLatency},maxlat=${c.maxLatency})`;
}

export function cons(conns: ConnectionSnapshot[]): string {
  return conns.map((c) => connectionLine(c, true) + '\n').join('') + '\n';
}

function statsBlock(v: ServerView): string {
  const [min, avg, max] = latencyTriple(v.latency);
  return `Latency min/avg/max: ${min}/${javaDouble(avg)}/${max}\n` +
    `Received: ${v.packetsReceived}\n` +
    `Sent: ${v.packetsSent}\n` +
    `Connections: ${v.connections}\n` +
    `Outstanding: ${v.outstanding}\n` +
    `Zxid: 0x${v.seq.lastZxid.toString(16)}\n` +
    `Mode: standalone\n` +
    `Node count: ${v.seq.nodeCount}\n`;
}

export function srvr(v: ServerView): string {
  return `Zookeeper version: ${zookeeperVersion(v.info)}\n${statsBlock(v)}`;
}

export function stat(v: ServerView, conns: ConnectionSnapshot[]): string {
  return `Zookeeper version: ${zookeeperVersion(v.info)}\nClients:\n` +
    conns.map((c) => connectionLine(c, false) + '\n').join('') + '\n' + statsBlock(v);
}

export function conf(v: ServerView): string {
  const c = v.info.config;
  return `clientPort=${c.clientPort}\n` +
    'secureClientPort=-1\n' +
    `dataDir=${c.dataDir}/version-2\n` +
    `dataDirSize=${v.dataDirSize}\n` +
    `dataLogDir=${c.dataLogDir}/version-2\n` +
    `dataLogSize=${v.logDirSize}\n` +
    `tickTime=${c.tickTime}\n` +
    `maxClientCnxns=${c.maxClientCnxns}\n` +
    `minSessionTimeout=${c.minSessionTimeout}\n` +
    `maxSessionTimeout=${c.maxSessionTimeout}\n` +
    'clientPortListenBacklog=-1\n' +
    'serverId=0\n';
}

/** envi: kazoo's server_version() reads zookeeper.version from this in one 8 KiB read, so it stays short. */
export function envi(info: ServerInfo): string {
  const mem = process.memoryUsage();
  const lines = [
    'Environment:',
    `zookeeper.version=${zookeeperVersion(info)}`,
    `host.name=${hostName()}`,
    `zoonode.version=${info.zoonodeVersion}`,
    `node.version=${process.version}`,
    `os.name=${os.type()}`,
    `os.arch=${process.arch === 'x64' ? 'amd64' : process.arch}`,
    `os.version=${os.release()}`,
    `user.name=${os.userInfo().username}`,
    `user.home=${os.homedir()}`,
    `user.dir=${process.cwd()}`,
    `os.memory.free=${Math.round(os.freemem() / 1048576)}MB`,
    `os.memory.max=${Math.round(os.totalmem() / 1048576)}MB`,
    `os.memory.total=${Math.round(mem.rss / 1048576)}MB`,
  ];
  return lines.join('\n') + '\n';
}

export function dirs(v: ServerView): string {
  return `datadir_size: ${v.dataDirSize}\nlogdir_size: ${v.logDirSize}\n`;
}

/** dump: sessions by expiry bucket, ephemerals by session, connections grouped by their session's bucket. */
export function dump(d: DumpSnapshot, conns: ConnectionSnapshot[], tickMs: number): string {
  const bucketOfSession = new Map<string, number>();
  for (const [t, ids] of d.sessionsByExpiry) for (const id of ids) bucketOfSession.set(id, t);
  let out = 'SessionTracker dump:\n';
  const sessions = d.sessionsByExpiry.reduce((n, [, ids]) => n + ids.length, 0);
  out += `Session Sets (${d.sessionsByExpiry.length})/(${sessions}):\n`;
  for (const [t, ids] of d.sessionsByExpiry) {
    out += `${ids.length} expire at ${javaDate(t)}:\n`;
    for (const id of ids) out += `\t0x${id}\n`;
  }
  out += 'ephemeral nodes dump:\n';
  out += `Sessions with Ephemerals (${d.ephemerals.length}):\n`;
  for (const [id, paths] of d.ephemerals) {
    out += `0x${id}:\n`;
    for (const p of paths) out += `\t${p}\n`;
  }
  out += 'Connections dump:\n';
  const groups = new Map<number, ConnectionSnapshot[]>();
  for (const c of conns) {
    const t = (c.established ? bucketOfSession.get(c.sessionId) : undefined) ?? (Math.floor((c.establishedMs + 10 * tickMs) / tickMs) + 1) * tickMs;
    const g = groups.get(t) ?? [];
    g.push(c);
    groups.set(t, g);
  }
  const sorted = [...groups.entries()].sort((a, b) => a[0] - b[0]);
  out += `Connections Sets (${sorted.length})/(${conns.length}):\n`;
  for (const [t, cs] of sorted) {
    out += `${cs.length} expire at ${javaDate(t)}:\n`;
    for (const c of cs) out += `\tip: /${c.address}:${c.port} sessionId: 0x${c.established ? c.sessionId : '0'}\n`;
  }
  return out;
}

export function wchs(v: ServerView): string {
  return `${v.seq.dataWatchConnections} connections watching ${v.seq.dataWatchPaths} paths\nTotal watches:${v.seq.dataWatches}\n`;
}

export function wchc(w: WatchesSnapshot): string {
  return w.bySession.map(([sid, paths]) => `0x${sid}\n${paths.map((p) => `\t${p}\n`).join('')}`).join('') + '\n';
}

export function wchp(w: WatchesSnapshot): string {
  return w.byPath.map(([p, sids]) => `${p}\n${sids.map((s) => `\t0x${s}\n`).join('')}`).join('') + '\n';
}

/** mntr: Apache's keys first, in Apache's order, then the summaries zoonode measures. */
export function mntr(v: ServerView): string {
  const [min, avg, max] = latencyTriple(v.latency);
  const s = v.seq;
  const rows: [string, string | number][] = [
    ['version', zookeeperVersion(v.info)],
    ['server_state', 'standalone'],
    ['ephemerals_count', s.ephemeralsCount],
    ['num_alive_connections', v.connections],
    ['avg_latency', javaDouble(avg)],
    ['outstanding_requests', v.outstanding],
    ['znode_count', s.nodeCount],
    ['global_sessions', s.globalSessions],
    ['non_mtls_remote_conn_count', 0],
    ['last_client_response_size', v.responseSizeLast],
    ['packets_sent', v.packetsSent],
    ['packets_received', v.packetsReceived],
    ['max_client_response_size', v.responseSizeMax],
    ['connection_drop_probability', '0.0'],
    ['watch_count', s.watchCount],
    ['auth_failed_count', v.authFailed],
    ['min_latency', min],
    ['max_file_descriptor_count', maxFileDescriptors()],
    ['approximate_data_size', s.approximateDataSize],
    ['open_file_descriptor_count', openFileDescriptors()],
    ['local_sessions', 0],
    ['uptime', v.uptimeMs],
    ['max_latency', max],
    ['outstanding_tls_handshake', 0],
    ['min_client_response_size', v.responseSizeMin],
    ['non_mtls_local_conn_count', 0],
    ['proposal_count', s.proposals],
    ['throttled_ops', s.throttledOps],
    ['connection_rejected', v.connectionsRejected],
    ['fsync_threshold_exceed_count', s.fsyncsOverThreshold],
    ['snap_count', s.snapshotsTaken],
    ['commit_count', s.commits],
  ];
  const summary = (name: string, l: import('./stats.js').LatencySnapshot) => {
    const a = l.count === 0 ? 0 : l.sum / l.count;
    rows.push([`avg_${name}`, javaDouble(Math.round(a * 10000) / 10000)], [`min_${name}`, Math.floor(l.min)],
      [`max_${name}`, Math.floor(l.max)], [`cnt_${name}`, l.count], [`sum_${name}`, Math.floor(l.sum)]);
  };
  summary('fsynctime', s.fsyncLatency);
  summary('snapshottime', s.snapshotLatency);
  const rl = v.latency;
  rows.push(['p50_request_latency', Math.floor(quantile(rl, 0.5))], ['p95_request_latency', Math.floor(quantile(rl, 0.95))],
    ['p99_request_latency', Math.floor(quantile(rl, 0.99))], ['p999_request_latency', Math.floor(quantile(rl, 0.999))]);
  // zoonode's own counters (as /metrics names them): overload, slow readers, stalls.
  const sum = (f: (w: (typeof v.workers)[number]) => number) => v.workers.reduce((n, w) => n + f(w), 0);
  rows.push(
    ['zoonode_slow_consumers_closed', sum((w) => w.slowConsumersClosed)],
    ['zoonode_outbound_pauses', sum((w) => w.outboundPauses)],
    ['zoonode_socket_writes', sum((w) => w.socketWrites)],
    ['zoonode_outstanding_throttles', sum((w) => w.outstandingThrottles)],
    ['zoonode_request_throttle_waits', s.requestThrottleWaits],
    ['zoonode_sequencer_stalls', s.stalls],
    ['zoonode_sequencer_stall_ms_total', s.stallMsTotal],
    ['zoonode_sequencer_stall_ms_max', s.stallMsMax],
    ['zoonode_sequencer_heap_used_bytes', s.heapUsedBytes],
    ['zoonode_sequencer_heap_limit_bytes', s.heapLimitBytes],
    ['zoonode_sequencer_young_generation_bytes', s.youngGenerationBytes],
    ['zoonode_txnlog_inline_writes', s.inlineLogWrites],
    ['zoonode_txnlog_pooled_writes', s.pooledLogWrites],
    ['zoonode_txnlog_slow_inline_writes', s.slowInlineLogWrites],
  );
  // Apache's gauge and counter sets: one row per namespace, named <namespace>_<metric>.
  const perNamespace = (metric: string, pairs: [string, number][]) => { for (const [ns, n] of pairs) rows.push([`${ns}_${metric}`, n]); };
  perNamespace('quota_count_limit_per_namespace', s.quotas.countLimit);
  perNamespace('quota_bytes_limit_per_namespace', s.quotas.bytesLimit);
  perNamespace('quota_count_usage_per_namespace', s.quotas.countUsage);
  perNamespace('quota_bytes_usage_per_namespace', s.quotas.bytesUsage);
  perNamespace('quota_exceeded_error_per_namespace', s.quotaExceeded);
  return rows.map(([k, val]) => `zk_${k}\t${val}\n`).join('');
}

export function isro(readOnly: boolean): string {
  return readOnly ? 'ro' : 'rw';
}
