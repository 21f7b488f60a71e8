// AdminServer commands: Apache ZooKeeper 3.8's names, aliases and JSON shapes
// (test/fixtures/apache-admin/*.json are the real server's answers). Session
// ids are 64-bit numbers in these documents: they are carried as bigints and
// written digit for digit by toJson.

import fs from 'node:fs';
import os from 'node:os';
import {
  hostName, latencyTriple, zookeeperVersion, type ConnectionSnapshot, type DumpSnapshot, type ServerView, type WatchesSnapshot,
} from './view.js';

export type Json = null | boolean | number | bigint | string | Json[] | { [k: string]: Json };

/** Every command: its names (first is canonical) and whether it resets state. */
export const commandNames: readonly (readonly string[])[] = [
  ['configuration', 'conf', 'config'],
  ['connection_stat_reset', 'crst'],
  ['connections', 'cons'],
  ['dirs'],
  ['dump'],
  ['environment', 'env', 'envi'],
  ['get_trace_mask', 'gtmk'],
  ['hash'],
  ['initial_configuration', 'icfg'],
  ['is_read_only', 'isro'],
  ['last_snapshot', 'lsnp'],
  ['leader', 'lead'],
  ['monitor', 'mntr'],
  ['observer_connection_stat_reset', 'orst'],
  ['observers', 'obsr'],
  ['ruok'],
  ['server_stats', 'srvr'],
  ['set_trace_mask', 'stmk'],
  ['stat_reset', 'srst'],
  ['stats', 'stat'],
  ['system_properties', 'sysp'],
  ['voting_view'],
  ['watch_summary', 'wchs'],
  ['watches', 'wchc'],
  ['watches_by_path', 'wchp'],
  ['zabstate'],
];

const canonical = new Map<string, string>();
for (const names of commandNames) for (const n of names) canonical.set(n, names[0]!);

export function canonicalCommand(name: string): string | undefined {
  return canonical.get(name);
}

export function sid(hex: string): bigint {
  return BigInt.asIntN(64, BigInt(`0x${hex}`));
}

export function connectionJson(c: ConnectionSnapshot, detailed: boolean): { [k: string]: Json } {
  const o: { [k: string]: Json } = {
    remote_socket_address: `${c.address}:${c.port}`,
    interest_ops: c.interestOps,
    outstanding_requests: c.outstanding,
    packets_received: c.packetsReceived,
    packets_sent: c.packetsSent,
  };
  if (detailed && c.established) {
    Object.assign(o, {
      session_id: sid(c.sessionId),
      last_operation: c.lastOp,
      established: c.establishedMs,
      session_timeout: c.timeoutMs,
      last_cxid: c.lastCxid,
      last_zxid: c.lastZxid,
      last_response_time: c.lastResponseMs,
      last_latency: c.lastLatency,
      min_latency: c.minLatency,
      avg_latency: c.avgLatency,
      max_latency: c.maxLatency,
    });
  }
  return o;
}

export function serverStatsJson(v: ServerView): { [k: string]: Json } {
  const [min, avg, max] = latencyTriple(v.latency);
  const response = { last_buffer_size: v.responseSizeLast, min_buffer_size: v.responseSizeMin, max_buffer_size: v.responseSizeMax };
  return {
    version: zookeeperVersion(v.info),
    read_only: v.seq.readOnly,
    server_stats: {
      packets_sent: v.packetsSent,
      packets_received: v.packetsReceived,
      fsync_threshold_exceed_count: v.seq.fsyncsOverThreshold,
      client_response_stats: response,
      provider_null: false,
      data_dir_size: v.dataDirSize,
      log_dir_size: v.logDirSize,
      server_state: 'standalone',
      last_processed_zxid: v.seq.lastZxid,
      outstanding_requests: v.outstanding,
      avg_latency: avg,
      max_latency: max,
      min_latency: min,
      num_alive_client_connections: v.connections,
      uptime: v.uptimeMs,
      auth_failed_count: v.authFailed,
      non_mtlsremote_conn_count: 0,
      non_mtlslocal_conn_count: 0,
    },
    client_response: response,
    node_count: v.seq.nodeCount,
  };
}

export function dumpJson(d: DumpSnapshot): { [k: string]: Json } {
  const expiry: { [k: string]: Json } = {};
  for (const [t, ids] of d.sessionsByExpiry) expiry[String(Math.round(t))] = ids.map(sid);
  const eph: { [k: string]: Json } = {};
  for (const [id, paths] of d.ephemerals) eph[String(sid(id))] = paths;
  return { expiry_time_to_session_ids: expiry, session_id_to_ephemeral_paths: eph };
}

export function watchesJson(w: WatchesSnapshot): { [k: string]: Json } {
  const o: { [k: string]: Json } = {};
  for (const [s, paths] of w.bySession) o[String(sid(s))] = paths;
  return { session_id_to_watched_paths: o };
}

export function watchesByPathJson(w: WatchesSnapshot): { [k: string]: Json } {
  const o: { [k: string]: Json } = {};
  for (const [p, sids] of w.byPath) o[p] = sids.map(sid);
  return { path_to_session_ids: o };
}

export function environmentJson(v: ServerView): { [k: string]: Json } {
  return {
    'zookeeper.version': zookeeperVersion(v.info),
    'host.name': hostName(),
    'zoonode.version': v.info.zoonodeVersion,
    'node.version': process.version,
    'os.name': os.type(),
    'os.arch': process.arch === 'x64' ? 'amd64' : process.arch,
    'os.version': os.release(),
    'user.name': os.userInfo().username,
    'user.home': os.homedir(),
    'user.dir': process.cwd(),
    'os.memory.free': `${Math.round(os.freemem() / 1048576)}MB`,
    'os.memory.max': `${Math.round(os.totalmem() / 1048576)}MB`,
    'os.memory.total': `${Math.round(process.memoryUsage().rss / 1048576)}MB`,
  };
}

export function systemPropertiesJson(): { [k: string]: Json } {
  const o: { [k: string]: Json } = {
    'file.encoding': 'UTF-8',
    'file.separator': '/',
    'line.separator': '\n',
    'os.arch': process.arch,
    'os.name': os.type(),
    'os.version': os.release(),
    'path.separator': ':',
    'user.dir': process.cwd(),
    'user.home': os.homedir(),
    'user.name': os.userInfo().username,
    'node.version': process.version,
  };
  for (const [k, v] of Object.entries(process.versions)) o[`node.versions.${k}`] = v ?? null;
  return o;
}

/** The configuration file as read at start-up (or, without a file, the lines given), as Apache shows it. */
export function initialConfigurationJson(configFile: string | null, lines: readonly { key: string; value: string }[]): { [k: string]: Json } {
  if (configFile !== null) {
    try {
      return { initial_configuration: fs.readFileSync(configFile, 'utf8') };
    } catch {
      // fall through to the lines given
    }
  }
  return { initial_configuration: lines.map((l) => `${l.key}=${l.value}\n`).join('') };
}

export function configurationJson(v: ServerView): { [k: string]: Json } {
  const c = v.info.config;
  return {
    client_port: c.clientPort,
    data_dir: `${c.dataDir}/version-2`,
    data_log_dir: `${c.dataLogDir}/version-2`,
    tick_time: c.tickTime,
    max_client_cnxns: c.maxClientCnxns,
    min_session_timeout: c.minSessionTimeout,
    max_session_timeout: c.maxSessionTimeout,
    server_id: 0,
    client_port_listen_backlog: -1,
  };
}

/** JSON with 64-bit integers (bigint) written exactly, indented as Jackson's pretty printer does. */
export function toJson(value: Json, indent = ''): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  const inner = indent + '  ';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[ ]';
    if (value.every((x) => x === null || typeof x !== 'object')) return `[ ${value.map((x) => toJson(x)).join(', ')} ]`;
    return `[ ${value.map((x) => toJson(x, indent)).join(', ')} ]`;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return '{ }';
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)} : ${toJson(value[k]!, inner)}`).join(',\n')}\n${indent}}`;
}
