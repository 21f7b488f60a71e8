// Pause-aware session expiry with a real stall: zoonode (tickTime=200,
// sessions of 2 s) is stopped with SIGSTOP for 3 s, longer than the session
// timeout, then continued.
//   - A node-zookeeper-client session with an ephemeral survives: the stall
//     is the server's, not the client's (Apache ZooKeeper expires it).
//   - Sessions whose clients really went away, one just before the stop and
//     one while the server was stopped (socket closed, no closeSession),
//     still expire: within their timeout plus a couple of ticks, the stall
//     excluded.
// workers=0 and workers=2. Unit tests with an injected clock are in
// test/sequencer/session-stall.test.ts.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ZkClient } from '../../native-free-bench/zk-client.js';
import { tempDir } from '../support/zoonode.js';
import { Nzk, CreateMode, within } from '../support/nzk.js';
import { spawnZoonodeWithNofile, waitForStart, stopChild, mntr, metric } from './support.js';

const tickMs = 200;
const timeoutMs = 2000;
const stopMs = 3000;
/** Scheduling noise allowed on a shared 2-core machine, beyond the two ticks the design allows. */
const slackMs = 800;
const EPHEMERAL = 1;
const NodeDeleted = 2;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const workers of [0, 2]) {
  describe(`pause-aware session expiry, workers=${workers}`, () => {
    test(`SIGSTOP for ${stopMs} ms: a live session and its ephemeral survive; gone clients expire on time, the stall excluded`, async () => {
      const dataDir = tempDir('pause');
      const z = spawnZoonodeWithNofile(dataDir, [`workers=${workers}`, `tickTime=${tickMs}`, 'maxClientCnxns=0'], 4096);
      const clients: { destroy(): void }[] = [];
      let live: Nzk | null = null;
      try {
        const started = await waitForStart(z);
        assert.equal(started.kind, 'listening', z.output());
        const port = (started as { port: number }).port;
        const cs = `127.0.0.1:${port}`;

        live = await Nzk.connect(cs, { sessionTimeout: timeoutMs });
        let liveExpired = false;
        live.client.on('expired', () => { liveExpired = true; });
        live.client.on('state', (s: { name: string }) => { if (s.name === 'EXPIRED') liveExpired = true; });
        const liveSession = live.sessionIdHex;
        await live.create('/live', Buffer.from('x'), CreateMode.EPHEMERAL);

        // Clients that will go away without closing their sessions. No pings:
        // their last contact is the request made just before they go.
        const goneBefore = await ZkClient.connect('127.0.0.1', port, { timeoutMs, ping: false });
        const goneDuring = await ZkClient.connect('127.0.0.1', port, { timeoutMs, ping: false });
        clients.push(goneBefore, goneDuring);
        await goneBefore.create('/gone-before', null, EPHEMERAL);
        await goneDuring.create('/gone-during', null, EPHEMERAL);
        // A watcher (pinging, its own session survives like the live one) timestamps the deletions.
        const watcher = await ZkClient.connect('127.0.0.1', port, { timeoutMs: 4000 });
        clients.push(watcher);
        const deletedAt = new Map<string, number>();
        watcher.on('event', (e: { type: number; path: string }) => {
          if (e.type === NodeDeleted) deletedAt.set(e.path, performance.now());
        });
        assert.ok(await watcher.exists('/gone-before', true));
        assert.ok(await watcher.exists('/gone-during', true));

        await goneBefore.exists('/');
        const lastBefore = performance.now();
        goneBefore.destroy();
        await goneDuring.exists('/');
        const lastDuring = performance.now();

        const tStop = performance.now();
        process.kill(z.child.pid!, 'SIGSTOP');
        await sleep(stopMs / 3);
        goneDuring.destroy();
        await sleep(stopMs - stopMs / 3);
        process.kill(z.child.pid!, 'SIGCONT');
        const tCont = performance.now();
        const stall = tCont - tStop;

        await within((async () => {
          for (let i = 0; i < 400 && deletedAt.size < 2; i++) await sleep(25);
        })(), 20000, 'both gone sessions to expire');
        assert.equal(deletedAt.size, 2, 'both gone sessions expired');

        // The live session reconnects (its client saw no answers for 3 s) to the same session.
        const stat = await live.exists('/live').catch((e: Error) => {
          assert.fail(`the live session was lost (its client saw it expire: ${liveExpired}): ${e.message}`);
        });
        assert.ok(stat !== null, 'the live session\'s ephemeral survived the stall');
        assert.equal(live.sessionIdHex, liveSession, 'same session');
        assert.equal(liveExpired, false, 'the live client never saw its session expire');
        assert.ok(await watcher.exists('/live'), 'the watcher\'s session survived too');

        const before = deletedAt.get('/gone-before')! - lastBefore - stall;
        const during = deletedAt.get('/gone-during')! - lastDuring - stall;
        const stallLine = /sequencer stalled for (\d+) ms/.exec(z.output());
        const m = await mntr(port);
        console.log(`# workers=${workers}: stopped ${Math.round(stall)} ms (server measured ${stallLine?.[1] ?? '?'} ms, ` +
          `${metric(m, 'zk_zoonode_sequencer_stalls')} stall(s)); gone-before expired ${Math.round(before)} ms and gone-during ` +
          `${Math.round(during)} ms after their last request, the stall excluded (timeout ${timeoutMs} ms, tick ${tickMs} ms)`);
        assert.ok(stallLine !== null, 'the stall is logged');
        assert.ok(metric(m, 'zk_zoonode_sequencer_stalls') >= 1, 'the stall is counted');
        for (const [name, ms] of [['gone-before', before], ['gone-during', during]] as const) {
          assert.ok(ms >= timeoutMs - 50, `${name}: expired ${Math.round(ms)} ms after its last request: too early`);
          assert.ok(ms <= timeoutMs + 2 * tickMs + slackMs, `${name}: expired ${Math.round(ms)} ms after its last request: too late`);
        }
      } finally {
        if (z.child.exitCode === null) process.kill(z.child.pid!, 'SIGCONT');
        for (const c of clients) c.destroy();
        live?.kill();
        await stopChild(z, 'SIGTERM');
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
}
