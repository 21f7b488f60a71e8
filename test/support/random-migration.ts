// Test support (not a test file): seeded random migration checks. A seed's
// request sequence (random-differential.ts) runs against one server with a
// small snapCount, so its data directory ends up with several snapshots and
// txn logs. Its sessions are left open (their ephemerals and the session
// table are part of what moves) and the server stops. Then the directory is
// copied, and the same server restarted on the original and the other server
// started on the copy must serve the same tree: every node's data, ACL,
// Stat (as getData and getACL give it) and children, read as the superDigest
// user.
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
import { addDigestAuth, diffTrees, readTree, type TreeView } from './zk-tree.js';
import { runSequence, serverSettings, SUPER_CRED, type Sequence } from './random-differential.js';

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
  /** The other server's tree against the origin's, on the same files (empty: the same). */
  diffs: string[];
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

async function treeOf(t: Target): Promise<TreeView> {
  const c = await ZkClient.connect(t.host, t.port, { ping: false });
  try {
    await withTimeout(addDigestAuth(c, SUPER_CRED), 5000, 'addauth as the super user');
    return await withTimeout(readTree(c), 30_000, `reading ${t.name}'s tree`);
  } finally {
    await c.close();
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
    try {
      await runSequence(run, seq);
    } catch (e) {
      run.note('aborted', (e as Error).message);
    } finally {
      // Sessions stay open: their ephemerals and the session table migrate too.
      run.destroyAll();
      await first.stop();
    }
    fs.cpSync(dirA, dirB, { recursive: true });
    const names = fs.readdirSync(path.join(dirA, 'version-2'));
    const files = { snapshots: names.filter((n) => n.startsWith('snapshot.')).length, logs: names.filter((n) => n.startsWith('log.')).length };

    const again = await startOn(origin, dirA, o);
    let expected: TreeView;
    try {
      expected = await treeOf(again.target);
    } finally {
      await again.stop();
    }
    const reader = await startOn(other, dirB, o);
    let actual: TreeView;
    try {
      actual = await treeOf(reader.target);
    } finally {
      await reader.stop();
    }
    return { ops: run.transcript.steps.length, notes: run.transcript.notes, nodes: expected.size, files, diffs: diffTrees(expected, actual) };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
