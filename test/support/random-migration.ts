// Test support (not a test file): seeded random migration checks. A seed's
// request sequence (random-differential.ts) runs against one server with a
// small snapCount, so its data directory ends up with several snapshots and
// txn logs. Its sessions are left open (their ephemerals and the session
// table are part of what moves) and the server stops. Then the directory is
// copied, and the same server restarted on the original and the other server
// started on the copy must serve the same tree: every node's data, ACL,
// Stat (as getData and getACL give it) and children, read as the superDigest
// user; and the sessions the run left open, each reopened with its id and
// password: whether the server takes it back, the timeout it negotiates, and
// the session's ephemerals (getEphemerals).
//
// Both directions: Apache ZooKeeper 3.8 writes and zoonode reads it, and
// zoonode writes and Apache reads it. Only servers reading the same files
// are compared, so times, session ids and Apache's randomised snapshot
// points need not agree between runs.

import fs from 'node:fs';
import path from 'node:path';
import { startZoonode, tempDir } from './zoonode.js';
import { startApache } from './apache.js';
import { killOnExit, Run, withTimeout, type Target } from './compat-wire.js';
import { ZkClient } from '../../native-free-bench/zk-client.js';
import { OpCode, readStringList, writePathOnly } from '../../src/jute/index.js';
import { diffTrees, readTree, type TreeView } from './zk-tree.js';
import { runSequence, serverSettings, superSession, type Sequence } from './random-differential.js';

export type Origin = 'apache' | 'zoonode';

export interface MigrationOptions {
  /** zoonode's worker threads (as writer and as reader). */
  workers: number;
  /** Both servers' snapCount (Apache randomises it within snapCount/2..snapCount). */
  snapCount: number;
}

export interface MigrationResult {
  /** How the origin's run went (notes: requests that got no reply). */
  ops: number;
  notes: Record<string, unknown>;
  /** Nodes in the tree the origin served after its restart. */
  nodes: number;
  /** Snapshots and txn logs the origin left. */
  files: { snapshots: number; logs: number };
  /** Sessions the run left open, and how many of them the origin took back after its restart. */
  sessions: { open: number; reopened: number };
  /** The other server's tree and sessions against the origin's, on the same files (empty: the same). */
  diffs: string[];
}

type OpenSession = ReturnType<Run['openSessions']>[number];
/** Per session label: 'expired', or the negotiated timeout and the session's ephemerals. */
type SessionsView = Record<string, 'expired' | { timeoutMs: number; ephemerals: string[] }>;

/** Reopen each session (after the tree is read: a reopened session changes nothing in it). */
async function sessionsOf(t: Target, open: readonly OpenSession[]): Promise<SessionsView> {
  const out: SessionsView = {};
  for (const s of open) {
    let c: ZkClient;
    try {
      c = await ZkClient.connect(t.host, t.port, { ping: false, sessionId: s.id, passwd: s.passwd, timeoutMs: s.timeoutMs });
    } catch (e) {
      if ((e as { code?: string }).code !== 'EXPIRED') throw e;
      out[s.label] = 'expired';
      continue;
    }
    try {
      const r = await withTimeout(c.request(OpCode.getEphemerals, (w) => writePathOnly(w, { path: '/' })), 5000, `getEphemerals on ${t.name}`);
      if (r.hdr.err !== 0) throw new Error(`getEphemerals on ${t.name}: error ${r.hdr.err}`);
      out[s.label] = { timeoutMs: c.timeoutMs, ephemerals: (readStringList(r.body) ?? []).sort() };
    } finally {
      c.destroy();
    }
  }
  return out;
}

function diffSessions(expected: SessionsView, actual: SessionsView): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
    const e = JSON.stringify(expected[k] ?? 'missing');
    const a = JSON.stringify(actual[k] ?? 'missing');
    if (e !== a) out.push(`session ${k}: ${e} expected, got ${a}`);
  }
  return out;
}

interface Started { target: Target; stop(): Promise<void> }

async function startOn(kind: Origin, dataDir: string, o: MigrationOptions): Promise<Started> {
  const settings = { ...serverSettings, snapCount: o.snapCount, dataDir };
  if (kind === 'apache') {
    const a = await startApache(settings);
    killOnExit(a.process);
    return { target: { name: 'apache', host: a.host, port: a.port }, stop: () => a.stop() };
  }
  const z = await startZoonode({ ...settings, workers: o.workers });
  return { target: { name: `zoonode(workers=${o.workers})`, host: z.host, port: z.port }, stop: () => z.stop() };
}

async function treeOf(t: Target, open: readonly OpenSession[]): Promise<{ tree: TreeView; sessions: SessionsView }> {
  const c = await superSession(t);
  try {
    const tree = await withTimeout(readTree(c), 30_000, `reading ${t.name}'s tree`);
    return { tree, sessions: await sessionsOf(t, open) };
  } finally {
    await c.close();
  }
}

/** What a server started on dataDir serves (then it stops). */
async function servedFrom(kind: Origin, dataDir: string, o: MigrationOptions, open: readonly OpenSession[]): Promise<{ tree: TreeView; sessions: SessionsView }> {
  const s = await startOn(kind, dataDir, o);
  try {
    return await treeOf(s.target, open);
  } finally {
    await s.stop();
  }
}

/** Run seq on a fresh `origin`, then compare the tree both servers serve from its files. */
export async function checkMigration(seq: Sequence, origin: Origin, o: MigrationOptions): Promise<MigrationResult> {
  const other: Origin = origin === 'apache' ? 'zoonode' : 'apache';
  const root = tempDir('migrate');
  const dirA = path.join(root, 'origin');
  const dirB = path.join(root, 'copy');
  fs.mkdirSync(dirA);
  try {
    const first = await startOn(origin, dirA, o);
    const run = new Run(first.target, { absoluteZxids: false });
    let open: OpenSession[] = [];
    try {
      await runSequence(run, seq);
    } catch (e) {
      run.note('aborted', (e as Error).message);
    } finally {
      open = run.openSessions();
      // Sessions stay open: their ephemerals and the session table migrate too.
      run.destroyAll();
      await first.stop();
    }
    fs.cpSync(dirA, dirB, { recursive: true });
    const names = fs.readdirSync(path.join(dirA, 'version-2'));
    const files = { snapshots: names.filter((n) => n.startsWith('snapshot.')).length, logs: names.filter((n) => n.startsWith('log.')).length };

    const expected = await servedFrom(origin, dirA, o, open);
    const actual = await servedFrom(other, dirB, o, open);
    return {
      ops: run.transcript.steps.length, notes: run.transcript.notes, nodes: expected.tree.size, files,
      sessions: { open: open.length, reopened: Object.values(expected.sessions).filter((s) => s !== 'expired').length },
      diffs: [...diffTrees(expected.tree, actual.tree), ...diffSessions(expected.sessions, actual.sessions)],
    };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
