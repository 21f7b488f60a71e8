// Test support (not a test file): Apache ZooKeeper's own file tools (Debian
// package), to check that files zoonode writes are readable by Apache's code:
//   SnapshotFormatter [-d] <snapshot>   prints every node's stat (and data, base64) and the sessions
//   TxnLogToolkit <log>                 prints every txn; "CRC ERROR - " before a bad one
// and parsers for what they print.

import { spawn } from 'node:child_process';
import { apacheJar } from './apache.js';
import { killOnExit } from './compat-wire.js';

export const snapshotFormatterClass = 'org.apache.zookeeper.server.SnapshotFormatter';
export const txnLogToolkitClass = 'org.apache.zookeeper.server.persistence.TxnLogToolkit';

export interface ToolRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs one of Apache's main classes; kills it after ms. */
export function runApacheTool(mainClass: string, args: string[], ms = 30000): Promise<ToolRun> {
  return new Promise((resolve) => {
    const child = spawn('/usr/bin/java', [
      // A short run: C1 only starts faster.
      '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Dsun.stdout.encoding=UTF-8', '-Dsun.stderr.encoding=UTF-8', '-Dfile.encoding=UTF-8',
      '-cp', `/etc/zookeeper/conf:${apacheJar}`, mainClass, ...args,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    killOnExit(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${ms} ms)`;
      child.kill('SIGKILL');
    }, ms);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs fn over items with at most `limit` at a time, results in item order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

export interface FormattedNode {
  czxid: number;
  mzxid: number;
  pzxid: number;
  cversion: number;
  dataVersion: number;
  aclVersion: number;
  ephemeralOwner: bigint;
  /** Base64 (with -d); "" for null or empty data. */
  data: string | null;
  dataLength: number | null;
}

export interface FormattedSnapshot {
  count: number;
  nodes: Map<string, FormattedNode>;
  /** Session id (unsigned) → timeout. */
  sessions: Map<bigint, number>;
  lastZxid: number;
}

/** Parses SnapshotFormatter's text output (with or without -d). */
export function parseSnapshotFormatter(text: string): FormattedSnapshot {
  const lines = text.split('\n');
  const countMatch = /ZNode Details \(count=(\d+)\):/.exec(text);
  if (countMatch === null) throw new Error(`no "ZNode Details" in SnapshotFormatter output:\n${text.slice(0, 2000)}`);
  const nodes = new Map<string, FormattedNode>();
  const sessions = new Map<bigint, number>();
  let current: FormattedNode | null = null;
  let inSessions = false;
  let lastZxid = -1;
  const hex = (s: string): bigint => BigInt.asUintN(64, BigInt(s.trim()));
  for (const line of lines) {
    if (line.startsWith('Session Details')) { inSessions = true; current = null; continue; }
    const last = /^Last zxid: 0x([0-9a-f]+)/.exec(line);
    if (last) { lastZxid = parseInt(last[1]!, 16); continue; }
    if (line === '----' || line.startsWith('ZNode Details')) { current = null; continue; }
    if (inSessions) {
      const m = /^(0x[0-9a-f]+), (\d+), (\d+)$/.exec(line);
      if (m) sessions.set(hex(m[1]!), Number(m[2]));
      continue;
    }
    if (current === null) {
      if (line.length === 0) continue;
      current = { czxid: -1, mzxid: -1, pzxid: -1, cversion: 0, dataVersion: 0, aclVersion: 0, ephemeralOwner: 0n, data: null, dataLength: null };
      nodes.set(line, current);
      continue;
    }
    const kv = /^ {2}(\w+) = (.*)$/.exec(line);
    if (!kv) continue;
    const [, key, value] = kv as unknown as [string, string, string];
    switch (key) {
      case 'cZxid': current.czxid = Number(hex(value)); break;
      case 'mZxid': current.mzxid = Number(hex(value)); break;
      case 'pZxid': current.pzxid = Number(hex(value)); break;
      case 'cversion': current.cversion = Number(value); break;
      case 'dataVersion': current.dataVersion = Number(value); break;
      case 'aclVersion': current.aclVersion = Number(value); break;
      case 'ephemeralOwner': current.ephemeralOwner = hex(value); break;
      case 'data': current.data = value; break;
      case 'dataLength': current.dataLength = Number(value); break;
      default: break;
    }
  }
  return { count: Number(countMatch[1]), nodes, sessions, lastZxid };
}

export interface FormattedLog {
  /** From "EOF reached after N txns." (-1 if absent). */
  count: number;
  txns: { session: bigint; zxid: number; op: string }[];
  /** Paths of plain create txns ("create /path,data,acl,..."). */
  createdPaths: string[];
  crcErrors: number;
}

/** Parses TxnLogToolkit's dump output. */
export function parseTxnLogToolkit(text: string): FormattedLog {
  const txns: FormattedLog['txns'] = [];
  for (const m of text.matchAll(/session 0x([0-9a-f]+) cxid 0x[0-9a-f]+ zxid 0x([0-9a-f]+) (\w+)/g)) {
    txns.push({ session: BigInt(`0x${m[1]!}`), zxid: parseInt(m[2]!, 16), op: m[3]! });
  }
  const createdPaths = [...text.matchAll(/ zxid 0x[0-9a-f]+ create (\/[^,\n]*),/g)].map((m) => m[1]!);
  const count = /EOF reached after (\d+) txns\./.exec(text);
  return {
    count: count ? Number(count[1]) : -1,
    txns,
    createdPaths,
    crcErrors: (text.match(/CRC ERROR/g) ?? []).length,
  };
}
