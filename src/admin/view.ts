// The server as an operator sees it: one consistent view assembled from the
// snapshots of every thread, with Apache's derived figures (latency in ms,
// the "Zookeeper version" string, directory sizes). Formatters for four-letter
// words, AdminServer commands and Prometheus read only this.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config/config.js';
import {
  mergeLatency, type ConnectionSnapshot, type DumpSnapshot, type LatencySnapshot, type SequencerSnapshot,
  type WatchesSnapshot, type WorkerSnapshot,
} from './stats.js';

/** The Apache ZooKeeper release whose protocol and behaviour zoonode serves. */
export const ZK_COMPAT_VERSION = '3.9.5';

export interface ServerInfo {
  config: Config;
  zoonodeVersion: string;
  startedAtMs: number;
}

export function zookeeperVersion(info: ServerInfo): string {
  return `${ZK_COMPAT_VERSION}-zoonode-${info.zoonodeVersion}, built on ${new Date(info.startedAtMs).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export interface ServerView {
  info: ServerInfo;
  seq: SequencerSnapshot;
  workers: WorkerSnapshot[];
  latency: LatencySnapshot;
  packetsReceived: number;
  packetsSent: number;
  connections: number;
  outstanding: number;
  responseSizeLast: number;
  responseSizeMin: number;
  responseSizeMax: number;
  connectionsRejected: number;
  /** Failed TLS handshakes, over all I/O threads (Apache's unsuccessful_handshake). */
  tlsHandshakesFailed: number;
  /**
   * auth_failed_count as Apache reports it: failed authentications (SASL,
   * x509 ACL login) plus failed TLS handshakes, which Apache's Netty server
   * counts there too.
   */
  authFailed: number;
  dataDirSize: number;
  logDirSize: number;
  uptimeMs: number;
}

export function buildView(info: ServerInfo, seq: SequencerSnapshot, workers: WorkerSnapshot[]): ServerView {
  let packetsReceived = 0;
  let packetsSent = 0;
  let connections = 0;
  // Client requests forwarded and not yet answered, as the workers count
  // them (writes in flight included, so the sequencer's proposals are not
  // added again): Apache's requests in process.
  let outstanding = 0;
  let last = -1;
  let min = Infinity;
  let max = -1;
  let rejected = seq.connectionsRejected;
  let tlsFailed = 0;
  for (const w of workers) {
    packetsReceived += w.packetsReceived;
    packetsSent += w.packetsSent;
    connections += w.connections;
    outstanding += w.outstanding;
    if (w.responseSizeLast >= 0) last = w.responseSizeLast;
    if (w.responseSizeMin >= 0 && w.responseSizeMin < min) min = w.responseSizeMin;
    if (w.responseSizeMax > max) max = w.responseSizeMax;
    rejected += w.connectionsRejected;
    tlsFailed += w.tlsHandshakesFailed;
  }
  return {
    info, seq, workers,
    latency: mergeLatency(workers.map((w) => w.latency)),
    packetsReceived, packetsSent, connections, outstanding,
    responseSizeLast: last, responseSizeMin: min === Infinity ? -1 : min, responseSizeMax: max,
    connectionsRejected: rejected,
    tlsHandshakesFailed: tlsFailed,
    authFailed: seq.authFailed + tlsFailed,
    dataDirSize: dirSize(path.join(info.config.dataDir, 'version-2')),
    logDirSize: dirSize(path.join(info.config.dataLogDir, 'version-2')),
    uptimeMs: Date.now() - info.startedAtMs,
  };
}

/** Sum of file sizes in a directory (Apache's FileUtils.sizeOfDirectory on version-2). */
export function dirSize(dir: string): number {
  let total = 0;
  try {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isFile()) total += fs.statSync(path.join(dir, e.name)).size;
    }
  } catch {
    return 0;
  }
  return total;
}

/** Latency as Apache reports it: min and max whole ms, avg rounded to 4 decimals. */
export function latencyTriple(l: LatencySnapshot): [number, number, number] {
  const avg = l.count === 0 ? 0 : Math.round((l.sum / l.count) * 10000) / 10000;
  return [Math.floor(l.min), avg, Math.floor(l.max)];
}

/** A double as Java prints it (integers keep a ".0"). */
export function javaDouble(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Number.isInteger(x) ? `${x}.0` : String(x);
}

/** A long as Java's Long.toHexString prints it (two's complement for negatives). */
export function javaHex(n: number): string {
  return BigInt.asUintN(64, BigInt(Math.trunc(n))).toString(16);
}

/** java.util.Date.toString() in UTC: "Sun Nov 22 05:00:13 UTC 2026". */
export function javaDate(ms: number): string {
  const d = new Date(ms);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${day} ${mon} ${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

export function openFileDescriptors(): number {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

export function maxFileDescriptors(): number {
  try {
    const limits = fs.readFileSync('/proc/self/limits', 'utf8');
    const m = /Max open files\s+(\d+)/.exec(limits);
    return m ? Number(m[1]) : -1;
  } catch {
    return -1;
  }
}

export function hostName(): string {
  return os.hostname();
}

export type { ConnectionSnapshot, DumpSnapshot, WatchesSnapshot };
