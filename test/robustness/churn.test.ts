// Churn leaves nothing behind (workers=0 and 2): rounds of sessions that
// create ephemeral sequential nodes, set data, exists, child and persistent
// recursive watches, create and delete nodes under one-off ACLs, and then
// leave by closeSession, by a dropped connection, or by a dropped connection
// with requests still pipelined (native-free-bench/churn-load.ts), with a
// snapshot every few dozen txns. Once the dropped sessions have expired the
// server's watch, ephemeral, node and connection counts are back where they
// started, and a restart from the data directory the churn wrote (many
// snapshots, many rolled logs) comes back with the same tree.
// native-free-bench/churn.js runs the same load for minutes and samples
// the server's memory against Apache's.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ZkClient } from '../../native-free-bench/zk-client.js';
import { CHURN_ROOT, churnCounts, churnRound, prepareChurn } from '../../native-free-bench/churn-load.js';
import { startZoonode, tempDir } from '../support/zoonode.js';

const rounds = 25;
const sessions = 20;
const timeoutMs = 4000;

async function tree(c: ZkClient): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string): Promise<void> => {
    out.push(p);
    for (const name of (await c.getChildren(p)).sort()) await walk(`${p}/${name}`);
  };
  await walk(CHURN_ROOT);
  return out;
}

for (const workers of [0, 2]) {
  test(`churn leaves no watch, ephemeral, node or connection behind, and restarts to the same tree (workers=${workers})`, async () => {
    const dataDir = tempDir('churn');
    const settings = { dataDir, workers, snapCount: 40, maxClientCnxns: 0, '4lw.commands.whitelist': '*' };
    let z = await startZoonode(settings);
    let control: ZkClient | null = null;
    try {
      control = await ZkClient.connect('127.0.0.1', z.port, { timeoutMs: 30000 });
      await prepareChurn(control);
      const before = await churnCounts(z.port);
      const treeBefore = await tree(control);
      let failures = 0;
      let firstFailure: string | null = null;
      for (let r = 0; r < rounds; r++) {
        const res = await churnRound(z.port, control, r, sessions, timeoutMs);
        failures += res.connectFailures;
        firstFailure ??= res.firstFailure;
      }
      assert.equal(failures, 0, `every session opened (first failure: ${firstFailure})`);
      const during = await churnCounts(z.port);
      assert.ok(during.ephemerals > before.ephemerals, `dropped sessions still hold their ephemerals right after the churn (${during.ephemerals})`);
      // The dropped sessions expire within their timeout plus a tick or two.
      const deadline = Date.now() + timeoutMs * 3 + 4000;
      let now = during;
      while (Date.now() < deadline) {
        now = await churnCounts(z.port);
        if (isDeepStrictEqual(now, before)) break;
        await new Promise((res) => setTimeout(res, 200));
      }
      assert.deepEqual(now, before, 'watches, ephemerals, znodes, connections: as before the churn');
      assert.deepEqual(await tree(control), treeBefore);
      const files = fs.readdirSync(path.join(dataDir, 'version-2'));
      const snapshots = files.filter((f) => f.startsWith('snapshot.')).length;
      assert.ok(snapshots >= 10, `snapshots taken during the churn: ${snapshots}`);

      await control.close();
      control = null;
      await z.stop();
      z = await startZoonode(settings);
      control = await ZkClient.connect('127.0.0.1', z.port, { timeoutMs: 30000 });
      assert.deepEqual(await tree(control), treeBefore, 'the restarted server has the same tree');
      const { watches, ephemerals, znodes } = await churnCounts(z.port);
      assert.deepEqual([watches, ephemerals, znodes], [0, 0, before.znodes]);
    } finally {
      await control?.close();
      await z.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
}
