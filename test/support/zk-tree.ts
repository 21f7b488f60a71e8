// Test support (not a test file): read a whole ZooKeeper tree through the
// client protocol (data, ACL, every Stat field, children) so that two servers
// — or one server before and after a restart — can be compared exactly.
// Also digest authentication and the few requests ZkClient has no method for.

import crypto from 'node:crypto';
import { ZkClient, type Reply } from '../../native-free-bench/zk-client.js';
import {
  OpCode, Xid, readStat, readGetACLResponse, readCreate2Response, readMultiResponse, readStringList,
  writeAuthPacket, writeCreate, writePathOnly, writePathWatch, writeSetACL, writeMultiRequest,
  type ACL, type MultiOp, type MultiResult, type Stat,
} from '../../src/jute/index.js';

/** A Stat with ephemeralOwner as hex, so it prints and compares as JSON. */
export interface StatView {
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: string;
  dataLength: number;
  numChildren: number;
}

export interface NodeView {
  /** Hex of the data; null when the server returned a null buffer. */
  data: string | null;
  /** The Stat that came with getData. */
  stat: StatView;
  acl: ACL[];
  /** The Stat that came with getACL. */
  aclStat: StatView;
  /** Sorted. */
  children: string[];
}

export type TreeView = Map<string, NodeView>;

export function statView(s: Stat): StatView {
  return {
    czxid: s.czxid, mzxid: s.mzxid, pzxid: s.pzxid, ctime: s.ctime, mtime: s.mtime,
    version: s.version, cversion: s.cversion, aversion: s.aversion,
    ephemeralOwner: BigInt.asUintN(64, s.ephemeralOwner).toString(16),
    dataLength: s.dataLength, numChildren: s.numChildren,
  };
}

/** digest scheme id for "user:password" (user:base64(sha1(user:password))). */
export function digestId(userPassword: string): string {
  const user = userPassword.slice(0, userPassword.indexOf(':'));
  return `${user}:${crypto.createHash('sha1').update(userPassword, 'utf8').digest('base64')}`;
}

/** addauth digest user:password; throws unless the server answers err 0. */
export async function addDigestAuth(c: ZkClient, userPassword: string): Promise<void> {
  const r = await c.request(OpCode.auth, (w) => writeAuthPacket(w, { type: 0, scheme: 'digest', auth: Buffer.from(userPassword, 'utf8') }), Xid.auth);
  if (r.hdr.err !== 0) throw new Error(`addauth digest failed with error ${r.hdr.err}`);
}

function expectOk(r: Reply, what: string): Reply {
  if (r.hdr.err !== 0) throw new Error(`${what} failed with error ${r.hdr.err}`);
  return r;
}

export async function getAcl(c: ZkClient, path: string): Promise<{ acl: ACL[]; stat: Stat }> {
  const r = expectOk(await c.request(OpCode.getACL, (w) => writePathOnly(w, { path })), `getACL ${path}`);
  return readGetACLResponse(r.body);
}

export async function setAcl(c: ZkClient, path: string, acl: ACL[], version: number): Promise<Stat> {
  const r = expectOk(await c.request(OpCode.setACL, (w) => writeSetACL(w, { path, acl, version })), `setACL ${path}`);
  return readStat(r.body);
}

/** createContainer (19) or createTTL (21); returns the created path. */
export async function createSpecial(
  c: ZkClient, kind: 'container' | 'ttl', path: string, data: Uint8Array | null, acl: ACL[], ttlMs = -1,
): Promise<string> {
  const type = kind === 'container' ? OpCode.createContainer : OpCode.createTTL;
  const flags = kind === 'container' ? 4 : 5;
  const r = expectOk(await c.request(type, (w) => writeCreate(w, { path, data, acl, flags, ttl: ttlMs }, kind === 'ttl')), `${kind} ${path}`);
  return readCreate2Response(r.body).path;
}

/** multi; returns the reply error and the per-op results. */
export async function multi(c: ZkClient, ops: MultiOp[]): Promise<{ err: number; results: MultiResult[] }> {
  const r = await c.request(OpCode.multi, (w) => writeMultiRequest(w, ops));
  return { err: r.hdr.err, results: r.hdr.err === 0 ? readMultiResponse(r.body) : [] };
}

/** A write that is expected to fail with `err` (Apache logs an error txn for it). */
export async function expectError(p: Promise<Reply>, err: number, what: string): Promise<void> {
  const r = await p;
  if (r.hdr.err !== err) throw new Error(`${what}: expected error ${err}, got ${r.hdr.err}`);
}

/**
 * Every node reachable from "/", level by level with the requests of a level
 * pipelined. The client should be authenticated well enough to read them all.
 */
export async function readTree(c: ZkClient, nodesMax = 20000): Promise<TreeView> {
  const out: TreeView = new Map();
  let level = ['/'];
  while (level.length > 0) {
    if (out.size + level.length > nodesMax) throw new Error(`tree has more than ${nodesMax} nodes`);
    const views = await Promise.all(level.map(async (path) => {
      const [d, a, ch] = await Promise.all([
        c.request(OpCode.getData, (w) => writePathWatch(w, { path, watch: false })),
        c.request(OpCode.getACL, (w) => writePathOnly(w, { path })),
        c.request(OpCode.getChildren, (w) => writePathWatch(w, { path, watch: false })),
      ]);
      expectOk(d, `getData ${path}`);
      expectOk(a, `getACL ${path}`);
      expectOk(ch, `getChildren ${path}`);
      const data = d.body.buffer();
      const stat = readStat(d.body);
      const acl = readGetACLResponse(a.body);
      // In the order the server lists them (Apache's HashSet order, kept by zoonode too).
      const children = readStringList(ch.body) ?? [];
      const view: NodeView = {
        data: data === null ? null : Buffer.from(data).toString('hex'),
        stat: statView(stat),
        acl: acl.acl,
        aclStat: statView(acl.stat),
        children,
      };
      return [path, view] as const;
    }));
    const next: string[] = [];
    for (const [path, view] of views) {
      out.set(path, view);
      for (const child of view.children) next.push(path === '/' ? `/${child}` : `${path}/${child}`);
    }
    level = next;
  }
  return out;
}

function short(v: unknown): string {
  const s = JSON.stringify(v);
  return s.length > 160 ? `${s.slice(0, 160)}…(${s.length} chars)` : s;
}

/**
 * Human-readable differences between two trees (empty when identical).
 * `childOrder: false` compares each node's children as a set.
 */
export function diffTrees(expected: TreeView, actual: TreeView, opts: { diffsMax?: number; childOrder?: boolean } = {}): string[] {
  const diffsMax = opts.diffsMax ?? 40;
  const listed = opts.childOrder === false ? (c: string[]): string => JSON.stringify([...c].sort()) : (c: string[]): string => JSON.stringify(c);
  const out: string[] = [];
  for (const [path, e] of expected) {
    const a = actual.get(path);
    if (a === undefined) {
      out.push(`${path}: missing`);
      continue;
    }
    if (e.data !== a.data) out.push(`${path}: data ${short(e.data)} expected, got ${short(a.data)}`);
    for (const k of Object.keys(e.stat) as (keyof StatView)[]) {
      if (e.stat[k] !== a.stat[k]) out.push(`${path}: stat.${k} ${e.stat[k]} expected, got ${a.stat[k]}`);
      if (e.aclStat[k] !== a.aclStat[k]) out.push(`${path}: getACL stat.${k} ${e.aclStat[k]} expected, got ${a.aclStat[k]}`);
    }
    if (JSON.stringify(e.acl) !== JSON.stringify(a.acl)) out.push(`${path}: acl ${short(e.acl)} expected, got ${short(a.acl)}`);
    if (listed(e.children) !== listed(a.children)) {
      out.push(`${path}: children ${short(e.children)} expected, got ${short(a.children)}${opts.childOrder === false ? ' (as sets)' : ''}`);
    }
  }
  for (const path of actual.keys()) if (!expected.has(path)) out.push(`${path}: unexpected node`);
  return out.length > diffsMax ? [...out.slice(0, diffsMax), `… and ${out.length - diffsMax} more`] : out;
}
