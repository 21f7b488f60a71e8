// A full disk: writes fail with NOTREADONLY (nothing half-applied), reads go
// on, writes resume once space is freed, and a restart recovers exactly the
// acknowledged writes. Uses a small tmpfs (needs root, as CI runs); skips
// with a message where mounting is not allowed.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startZoonode, tempDir } from '../support/zoonode.js';
import { ZkClient, KeeperReplyError } from '../../native-free-bench/zk-client.js';

const NOTREADONLY = -119;

function tryMount(dir: string, size: string): string | null {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  return r.status === 0 ? null : (r.stderr || r.error?.message || `exit ${r.status}`).trim();
}

function fillDisk(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (let i = 0; i < 10_000; i++) fs.writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

async function until<T>(f: () => Promise<T | null>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a full disk', () => {
  let mountPoint = '';
  let mountError: string | null = null;
  before(() => {
    mountPoint = tempDir('tmpfs');
    mountError = tryMount(mountPoint, '3m');
  });
  after(() => {
    if (mountError === null) spawnSync('umount', [mountPoint]);
    fs.rmSync(mountPoint, { recursive: true, force: true });
  });

  for (const workers of [0, 2]) {
    test(`fails writes with NOTREADONLY, keeps reads, resumes, and loses nothing acknowledged (workers=${workers})`, async (t) => {
      if (mountError !== null) {
        t.skip(`cannot mount a tmpfs here (${mountError})`);
        return;
      }
      const dataDir = path.join(mountPoint, `w${workers}`);
      fs.mkdirSync(dataDir);
      const acked = new Map<string, string>();
      let z = await startZoonode({ workers, dataDir, preAllocSize: 64 });
      try {
        const c = await ZkClient.connect(z.host, z.port, { timeoutMs: 30000 });
        for (let i = 0; i < 20; i++) {
          await c.create(`/before${i}`, Buffer.from(`v${i}`));
          acked.set(`/before${i}`, `v${i}`);
        }
        const filler = fillDisk(mountPoint);
        // Writes now fail, each with NOTREADONLY; none is applied.
        let failures = 0;
        for (let i = 0; i < 200 && failures < 5; i++) {
          try {
            await c.create(`/during${i}`, Buffer.alloc(2000, 7));
            acked.set(`/during${i}`, Buffer.alloc(2000, 7).toString());
          } catch (e) {
            assert.ok(e instanceof KeeperReplyError, String(e));
            assert.equal(e.code, NOTREADONLY);
            failures++;
          }
        }
        assert.equal(failures, 5, 'writes are refused once the disk is full');
        // Reads go on, on the same session.
        assert.equal((await c.getData('/before3')).data!.toString(), 'v3');
        assert.ok((await c.getChildren('/')).includes('before19'));
        // Free the disk: writes come back within the probe interval.
        fs.rmSync(filler);
        const stat = await until(async () => {
          try {
            return await c.setData('/before0', Buffer.from('after'));
          } catch (e) {
            if (e instanceof KeeperReplyError && e.code === NOTREADONLY) return null;
            throw e;
          }
        }, 15000, 'writes to resume');
        assert.equal(stat.version, 1);
        acked.set('/before0', 'after');
        await c.create('/after', Buffer.from('a'));
        acked.set('/after', 'a');
        await c.close();
      } finally {
        await z.stop();
      }
      // Restart on the same directory: every acknowledged write, nothing else.
      z = await startZoonode({ workers, dataDir, preAllocSize: 64 });
      try {
        const c = await ZkClient.connect(z.host, z.port, { timeoutMs: 30000 });
        for (const [p, v] of acked) assert.equal((await c.getData(p)).data!.toString(), v, p);
        const children = await c.getChildren('/');
        const unacked = children.filter((n) => n.startsWith('during') && !acked.has(`/${n}`));
        assert.deepEqual(unacked, [], 'no refused write came back after the restart');
        await c.close();
      } finally {
        await z.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    });
  }
});
