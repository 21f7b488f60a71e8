// Across a restart: the tree and sessions come back; a client that returns
// keeps its session and ephemerals, one that does not has them expire on
// time. Plus `zoonode purge`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startZoonode, tempDir } from '../support/zoonode.js';
import { ZkClient } from '../../native-free-bench/zk-client.js';

const bin = fileURLToPath(new URL('../../../bin/zoonode.js', import.meta.url));

for (const workers of [0, 2]) {
  test(`sessions survive a restart; the one whose client never returns expires (workers=${workers})`, async () => {
    const dataDir = tempDir('restart');
    let z = await startZoonode({ workers, dataDir, tickTime: 200 });
    const a = await ZkClient.connect(z.host, z.port, { timeoutMs: 1200 });
    const b = await ZkClient.connect(z.host, z.port, { timeoutMs: 1200 });
    await a.create('/a-eph', null, 1);
    await b.create('/b-eph', null, 1);
    await a.create('/persistent', Buffer.from('kept'));
    a.destroy();
    b.destroy();
    await z.stop();
    // Sessions restored from disk get a fresh timeout from when the server starts tracking them.
    const restartedAt = Date.now();
    z = await startZoonode({ workers, dataDir, tickTime: 200 });
    try {
      // b returns with its id and password; a does not.
      const b2 = await ZkClient.connect(z.host, z.port, { timeoutMs: 1200, sessionId: b.sessionId, passwd: b.passwd });
      assert.equal(b2.sessionId, b.sessionId);
      const watcher = await ZkClient.connect(z.host, z.port, { timeoutMs: 4000 });
      assert.notEqual(await watcher.exists('/a-eph', true), null, 'a\'s ephemeral is back after the restart');
      const ev = await watcher.waitEvent((e) => e.path === '/a-eph', 6000);
      assert.equal(ev.type, 2, 'NodeDeleted when a\'s session expires');
      const after = Date.now() - restartedAt;
      assert.ok(after >= 1150 && after < 4500, `a's session expired ${after} ms after the restart (timeout 1200 ms)`);
      assert.notEqual(await watcher.exists('/b-eph'), null, 'b came back: its ephemeral stays');
      assert.equal((await watcher.getData('/persistent')).data!.toString(), 'kept');
      await b2.close();
      await watcher.close();
    } finally {
      await z.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
}

test('zoonode purge keeps the newest snapshots and the logs they need', async () => {
  const dataDir = tempDir('purge');
  // snapCount=4: a snapshot (and a new log) every few txns.
  for (let round = 0; round < 5; round++) {
    const z = await startZoonode({ workers: 0, dataDir, snapCount: 4 });
    const c = await ZkClient.connect(z.host, z.port);
    for (let i = 0; i < 6; i++) await c.create(`/r${round}-${i}`, null);
    await c.close();
    await z.stop();
  }
  const dir = path.join(dataDir, 'version-2');
  const snapsBefore = fs.readdirSync(dir).filter((n) => n.startsWith('snapshot.'));
  assert.ok(snapsBefore.length > 3, `enough snapshots to purge: ${snapsBefore.join(' ')}`);
  const refused = spawnSync(process.execPath, [bin, 'purge', dataDir, '-n', '2'], { encoding: 'utf8', timeout: 10000 });
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /must be at least 3, got 2/);
  const r = spawnSync(process.execPath, [bin, 'purge', dataDir, '-n', '3'], { encoding: 'utf8', timeout: 10000 });
  assert.equal(r.status, 0, r.stderr);
  const snapsAfter = fs.readdirSync(dir).filter((n) => n.startsWith('snapshot.'));
  assert.equal(snapsAfter.length, 3);
  assert.match(r.stdout, /kept 3 snapshot\(s\)/);
  // The purged directory still recovers to the full tree.
  const z = await startZoonode({ workers: 0, dataDir });
  try {
    const c = await ZkClient.connect(z.host, z.port);
    const children = (await c.getChildren('/')).filter((n) => n.startsWith('r'));
    assert.equal(children.length, 30);
    await c.close();
  } finally {
    await z.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
