// Overload: many sessions pipeline writes and reads far beyond what the
// sequencer (and the fsync behind every write) keeps up with. The excess
// must turn into backpressure, never into unbounded queues:
//   - requests in flight (mntr zk_outstanding_requests) stay within
//     globalOutstandingLimit plus one per connection (a connection with
//     nothing in flight may always send one, as in Apache's shouldThrottle);
//   - the server's resident memory stays bounded;
//   - every request is answered, in order, and each read sees its own
//     session's preceding write;
//   - a canary's latency is reported (not asserted).
// workers=0 and workers=2, against a spawned zoonode.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ZkClient, type Reply } from '../../native-free-bench/zk-client.js';
import { OpCode, writeSetData, writePathWatch } from '../../src/jute/index.js';
import { tempDir } from '../support/zoonode.js';
import { spawnZoonodeWithNofile, waitForStart, stopChild, rssBytes, RssSampler, mntr, metric, quantileOf, MntrPoller, type ZoonodeChild } from './support.js';

const MB = 1024 * 1024;
const sessions = 40;
const perSession = 2500;
const limit = 1000;
const f1 = (x: number) => x.toFixed(1);

for (const workers of [0, 2]) {
  describe(`overload, workers=${workers}`, () => {
    let z: ZoonodeChild;
    let port = 0;
    let dataDir = '';

    before(async () => {
      dataDir = tempDir('overload');
      z = spawnZoonodeWithNofile(dataDir, [`workers=${workers}`, 'maxClientCnxns=0', `globalOutstandingLimit=${limit}`], 4096);
      const started = await waitForStart(z);
      assert.equal(started.kind, 'listening', z.output());
      port = (started as { port: number }).port;
    });

    after(async () => {
      if (z) await stopChild(z, 'SIGTERM');
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    test(`${sessions} sessions x ${perSession} pipelined writes and reads: in-flight bounded, memory bounded, all answered in order`, async () => {
      const clients: ZkClient[] = [];
      for (let i = 0; i < sessions; i++) {
        const c = await ZkClient.connect('127.0.0.1', port, { timeoutMs: 30000 });
        await c.create(`/s${i}`, Buffer.from('init'));
        clients.push(c);
      }
      const canary = await ZkClient.connect('127.0.0.1', port, { timeoutMs: 30000 });
      await canary.create('/canary', Buffer.from('0'));
      const pid = z.child.pid!;
      const rssBefore = rssBytes(pid);
      const sampler = new RssSampler(pid);

      // Poll what operators see: requests in flight (from a thread of its own:
      // building and answering the load keeps this one busy).
      const poller = new MntrPoller(port, 'zk_outstanding_requests');

      // The load: every session sends all its requests at once, alternating
      // setData(v_j) and getData, without waiting for any answer.
      const t0 = performance.now();
      const all = clients.map((c, i) => {
        const path = `/s${i}`;
        const order: number[] = [];
        c.on('reply', (hdr: { xid: number }) => order.push(hdr.xid));
        const sent: number[] = [];
        const replies: Promise<Reply>[] = [];
        c.cork();
        for (let j = 0; j < perSession; j++) {
          const xid = c.nextXid();
          sent.push(xid);
          if (j % 2 === 0) {
            replies.push(c.request(OpCode.setData, (w) => writeSetData(w, { path, data: Buffer.from(`v${j}`), version: -1 }), xid));
          } else {
            replies.push(c.request(OpCode.getData, (w) => writePathWatch(w, { path, watch: false }), xid));
          }
        }
        c.uncork();
        return Promise.all(replies).then((rs) => ({ rs, sent, order }));
      });
      // The canary, started once the load is written (building it keeps this
      // process busy): one setData + getData at a time, each answer checked.
      const canaryLat: number[] = [];
      let loadDone = false;
      const canaryRun = (async () => {
        for (let i = 0; i < 100_000 && !loadDone; i++) {
          const t0 = performance.now();
          await canary.setData('/canary', Buffer.from(`c${i}`));
          assert.equal((await canary.getData('/canary')).data?.toString(), `c${i}`);
          canaryLat.push(performance.now() - t0);
        }
      })();

      const results = await Promise.all(all);
      const ms = performance.now() - t0;
      loadDone = true;
      await canaryRun;
      const { max: maxOutstanding, polls } = await poller.stop();
      const peak = sampler.stop();

      for (const [i, { rs, sent, order }] of results.entries()) {
        assert.deepEqual(order, sent, `session ${i}: replies in the order the requests were sent`);
        for (let j = 0; j < rs.length; j++) {
          assert.equal(rs[j]!.hdr.err, 0, `session ${i} request ${j}`);
          if (j % 2 === 1) {
            const data = rs[j]!.body.buffer();
            assert.equal(Buffer.from(data!).toString(), `v${j - 1}`, `session ${i}: read ${j} sees the write before it`);
          }
        }
      }
      const m = await mntr(port);
      const total = sessions * perSession;
      console.log(`# workers=${workers}: ${total} pipelined requests (50% setData) from ${sessions} sessions in ${f1(ms)} ms ` +
        `= ${Math.round(total / (ms / 1000))} req/s; max zk_outstanding_requests ${maxOutstanding} (limit ${limit}, ${polls} polls); ` +
        `throttle stops: connections ${metric(m, 'zk_zoonode_outstanding_throttles')}, sequencer ` +
        `${metric(m, 'zk_zoonode_request_throttle_waits')}; RSS ${f1(rssBefore / MB)} MB, peak ${f1(peak / MB)} MB; ` +
        `canary ${canaryLat.length} rounds p50 ${f1(quantileOf(canaryLat, 0.5))} ms p99 ${f1(quantileOf(canaryLat, 0.99))} ms`);
      // A connection with nothing in flight may send one more (Apache's rule), hence + connections.
      assert.ok(maxOutstanding <= limit + sessions + 2, `outstanding requests peaked at ${maxOutstanding}`);
      assert.ok(maxOutstanding > 0, `the poller saw the load (${polls} mntr answers read)`);
      assert.ok(metric(m, 'zk_zoonode_outstanding_throttles') > 0, 'the limit was reached: connections stopped reading');
      assert.ok(canaryLat.length > 0, 'the canary made progress under load');
      // 100k requests of ~30 bytes and their replies: a few MB at most in flight.
      assert.ok(peak - rssBefore < 150 * MB, `server RSS grew by ${f1((peak - rssBefore) / MB)} MB`);
      for (const c of clients) c.destroy();
      canary.destroy();
    });
  });
}
