// JavaHashSet against orders Apache ZooKeeper 3.8 gave: a session's
// ephemeral paths as getEphemerals lists them and as a closeSession deletes
// them (test/fixtures/apache-ephemeral-order.json), and small cases worked
// out from java.util.HashMap's rules.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { JavaHashSet } from '../../src/util/java-hash-set.js';

const recorded = JSON.parse(fs.readFileSync(new URL('../../../test/fixtures/apache-ephemeral-order.json', import.meta.url), 'utf8')) as {
  rounds: { ops: string[]; apacheOrder: string[] }[];
};

test('a session\'s ephemerals come out in the order Apache 3.8 gave (12 recorded rounds of creates and deletes)', () => {
  assert.equal(recorded.rounds.length, 12);
  let reordered = 0;
  for (const [i, r] of recorded.rounds.entries()) {
    const s = new JavaHashSet();
    const inserted: string[] = [];
    for (const op of r.ops) {
      const p = op.slice(1);
      if (op[0] === '+') { s.add(p); inserted.push(p); } else { s.delete(p); inserted.splice(inserted.indexOf(p), 1); }
    }
    assert.deepEqual(s.cloneOrder(), r.apacheOrder, `round ${i}`);
    if (JSON.stringify(inserted) !== JSON.stringify(r.apacheOrder)) reordered++;
  }
  // The fixture is worth something only if Apache's order is not the creation order.
  assert.ok(reordered >= 10, `${reordered} rounds differ from creation order`);
});

test('the set\'s own order keeps its grown table; its clone is re-bucketed for its size', () => {
  // '/sx/d/e1', '/sx/d/e2', '/sx/d/s-0000000002' fall in buckets 15, 14, 0 of 16
  // (7, 6, 0 of the clone's 8): Apache deleted them s-, e2, e1 when the session expired.
  const s = new JavaHashSet();
  for (const p of ['/sx/d/e1', '/sx/d/e2', '/sx/d/s-0000000002']) s.add(p);
  assert.deepEqual(s.order(), ['/sx/d/s-0000000002', '/sx/d/e2', '/sx/d/e1']);
  assert.deepEqual(s.cloneOrder(), ['/sx/d/s-0000000002', '/sx/d/e2', '/sx/d/e1']);
  // Grown to 32 buckets by 13 members, then shrunk to 2: the set's own order
  // goes by 32 buckets, the clone's by 4.
  const g = new JavaHashSet();
  const names = Array.from({ length: 13 }, (_, i) => `/n${i}`);
  for (const n of names) g.add(n);
  for (const n of names.slice(2)) g.delete(n);
  assert.equal(g.size, 2);
  const by = (cap: number) => [...names.slice(0, 2)].sort((x, y) => bucket(x, cap) - bucket(y, cap));
  assert.deepEqual(g.order(), by(32));
  assert.deepEqual(g.cloneOrder(), by(4));
});

test('the clone\'s pending changes: a removed path goes, an added one joins its bucket after the members there', () => {
  const s = new JavaHashSet();
  s.add('/a');
  s.add('/b');
  // The clone of two members has 4 buckets; '/c' is added after '/b'.
  const order = s.cloneOrder([[false, '/a'], [true, '/c'], [true, '/b']]);
  const expected = ['/b', '/c'].sort((x, y) => bucket(x, 4) - bucket(y, 4));
  assert.deepEqual(order, expected);
  assert.equal(s.size, 2, 'the set itself is unchanged');
  // An empty set's clone starts at 16 buckets, like a new HashSet.
  const fresh = ['/x', '/y', '/z'].sort((x, y) => bucket(x, 16) - bucket(y, 16));
  assert.deepEqual(new JavaHashSet().cloneOrder([[true, '/x'], [true, '/y'], [true, '/z']]), fresh);
});

/** A path's bucket in a table of cap buckets: String.hashCode spread as HashMap.hash does. */
function bucket(p: string, cap: number): number {
  let h = 0;
  for (let i = 0; i < p.length; i++) h = (Math.imul(h, 31) + p.charCodeAt(i)) | 0;
  return (h ^ (h >>> 16)) & (cap - 1);
}
