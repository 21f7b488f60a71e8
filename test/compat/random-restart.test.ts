// Seeded random differential test with server restarts: a random
// differential seed's sequence made with restarts (GenOptions.restarts: at a
// few random points every connection is dropped, the server is stopped and
// started again on its data directory, and every session is reopened with
// its id and password) runs against a fresh Apache ZooKeeper 3.8 and a fresh
// zoonode, and the transcripts must agree as in random-differential.test.ts:
// every reply, event order, whether each session came back and with what
// timeout, the watch tables and mntr gauges at the end
// (test/support/random-restart.ts). Seeds 1, 3 and 4 failed before zoonode
// counted the root's "/" alias in its approximate data size after loading a
// snapshot, as Apache does. More seeds: random-differential-driver.js
// --restarts.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { isApacheInstalled } from '../support/apache.js';
import { compare, differenceReport, generate } from '../support/random-differential.js';
import { runWithRestarts } from '../support/random-restart.js';

const skip = isApacheInstalled() ? false : 'Apache ZooKeeper (Debian package zookeeper) is not installed';

const RUNS: { seed: number; quotas: boolean; workers: number }[] = [
  { seed: 1, quotas: false, workers: 0 },
  { seed: 3, quotas: false, workers: 0 },
  { seed: 4, quotas: false, workers: 2 },
  { seed: 2, quotas: true, workers: 0 },
];

describe('random differential with restarts: Apache ZooKeeper 3.8 vs zoonode', { skip }, () => {
  for (const r of RUNS) {
    test(`${r.quotas ? 'quota ' : ''}seed ${r.seed}, zoonode workers=${r.workers}`, { timeout: 120_000 }, async (t) => {
      const seq = generate(r.seed, { restarts: true, quotas: r.quotas });
      const restarts = seq.ops.filter((o) => o.k === 'restart').length;
      assert.ok(restarts >= 1, `seed ${r.seed} has no restart`);
      const { apache, zoonode } = await runWithRestarts(seq, r.workers);
      t.diagnostic(`${seq.ops.length} requests, ${restarts} restarts`);
      assert.ok(apache.steps.length >= seq.ops.length - restarts, `Apache answered ${apache.steps.length} requests of ${seq.ops.length}: ${JSON.stringify(apache.notes)}`);
      const reopened = Object.entries(apache.notes).filter(([k]) => k.endsWith(' restart'));
      assert.equal(reopened.length, restarts);
      for (const [k, v] of reopened) {
        for (const [slot, o] of Object.entries(v as Record<string, unknown>)) {
          assert.ok(typeof o === 'object' && o !== null && 'reopenedAs' in o, `${k}: Apache did not take back ${slot}'s session: ${JSON.stringify(o)}`);
        }
      }
      const { diffs } = compare(apache, zoonode);
      if (diffs.length > 0) assert.fail(differenceReport(seq, diffs, `--restarts ${r.quotas ? '--quotas ' : ''}--workers ${r.workers} --seeds ${r.seed}`));
    });
  }
});
