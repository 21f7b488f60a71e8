// Quota bookkeeping and the container/TTL reaper's candidate rules.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataTree } from '../../src/tree/data-tree.js';
import { OpCode } from '../../src/jute/opcodes.js';
import type { Txn, TxnHeader } from '../../src/jute/txn.js';
import { StatsTrack, statsRewritten } from '../../src/tree/quotas.js';
import { reapCandidates, ttlOf } from '../../src/sequencer/container-reaper.js';
import { ttlOwner } from '../../src/tree/data-tree.js';

const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
let zxid = 0;
function apply(t: DataTree, txn: Txn, time = 1000): void {
  const hdr: TxnHeader = { clientIdHi: 0, clientIdLo: 1, cxid: 0, zxid: ++zxid, time, type: txn.type };
  const rc = t.processTxn(hdr, txn);
  assert.equal(rc.err, 0, `${txn.type} ${'path' in txn ? txn.path : ''}`);
}
const create = (path: string, data: string | null, time?: number) => ({ type: OpCode.create, path, data: data === null ? null : Buffer.from(data), acl, ephemeral: false, parentCVersion: -1 }) as Txn;
const stats = (t: DataTree, p: string) => t.getNode(`/zookeeper/quota${p}/zookeeper_stats`)!.data!.toString();

test('StatsTrack reads what zkCli writes, hard limits included', () => {
  const s = new StatsTrack('count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=10');
  assert.equal(s.count, -1);
  assert.equal(s.bytes, -1);
  assert.equal(s.countHardLimit, 10);
  assert.equal(s.byteHardLimit, -1);
  assert.equal(new StatsTrack('count=5,bytes=').bytes, -1);
});

test('StatsTrack.strict refuses what Apache 3.8\'s parser throws on, and reads the rest as it does', () => {
  const latin1 = (t: string) => Buffer.from(t, 'utf8').toString('latin1');
  const read = (t: string | null) => {
    const s = StatsTrack.strict(t === null ? null : latin1(t));
    return s === null ? null : Object.fromEntries(s.values);
  };
  // Java's split drops trailing empty strings: "count=" is a pair without a value.
  for (const bad of ['count=', 'count=5,bytes=', 'garbage', ',count=1', 'count=x', 'count=1.5', 'count= 1', 'count=9223372036854775808', '=']) {
    assert.equal(read(bad), null, JSON.stringify(bad));
  }
  assert.deepEqual(read(null), {});
  assert.deepEqual(read(''), {});
  assert.deepEqual(read('count=1,'), { count: 1 });
  assert.deepEqual(read('count=+5;;bytes=-7,,x=1=2'), { count: 5, bytes: -7, x: 1 });
  assert.deepEqual(read('a==5'), { a: -1 });
  assert.deepEqual(read('=5'), { '': 5 });
  assert.deepEqual(read('count=1,count=2'), { count: 2 });
  assert.deepEqual(read('count=-9223372036854775808'), { count: -9223372036854775808 });
});

test('a rewritten zookeeper_stats keeps the other keys a client put there, as Apache\'s StatsTrack.toString writes them', () => {
  assert.equal(statsRewritten(StatsTrack.strict('zz=9,bytes=3,count=4;aa=1')!, 5, 8), 'count=5,bytes=8=;aa=1;zz=9');
  assert.equal(statsRewritten(StatsTrack.strict('count=1,bytes=1=;countHardLimit=5')!, 2, 3), 'count=2,bytes=3=;countHardLimit=5');
  assert.equal(statsRewritten(StatsTrack.strict('count=0,bytes=0')!, 1, 2), 'count=1,bytes=2');
  assert.equal(statsRewritten(StatsTrack.strict('')!, 1, 2), 'count=1,bytes=2');
});

test('zookeeper_stats is counted when created and kept current by creates, setData and deletes', () => {
  const t = new DataTree({ extendedTypes: false });
  apply(t, create('/q', 'abc'));
  apply(t, create('/q/a', '12345'));
  apply(t, create('/zookeeper/quota/q', null));
  apply(t, create('/zookeeper/quota/q/zookeeper_limits', 'count=3,bytes=-1'));
  apply(t, create('/zookeeper/quota/q/zookeeper_stats', 'count=0,bytes=0'));
  assert.equal(stats(t, '/q'), 'count=2,bytes=8', 'counted from the subtree when the stats node appears');
  apply(t, create('/q/b', 'xy'));
  assert.equal(stats(t, '/q'), 'count=3,bytes=10');
  apply(t, { type: OpCode.setData, path: '/q/a', data: '1', version: 1 });
  assert.equal(stats(t, '/q'), 'count=3,bytes=6');
  apply(t, { type: OpCode.delete, path: '/q/b' });
  assert.equal(stats(t, '/q'), 'count=2,bytes=4');
  apply(t, create('/qq', 'not under /q'));
  assert.equal(stats(t, '/q'), 'count=2,bytes=4', '/qq is not under /q');
  assert.equal(t.quotaPrefixOf('/q/a/deep'), '/q');
  assert.equal(t.quotaPrefixOf('/qq'), null);
  apply(t, { type: OpCode.delete, path: '/zookeeper/quota/q/zookeeper_limits' });
  assert.equal(t.quotaPrefixOf('/q/a'), null, 'deleting the limits node removes the quota');
});

test('once a snapshot is loaded, every quota is recounted; txns replayed after it update the counts as they did live', () => {
  const t = new DataTree({ extendedTypes: false });
  apply(t, create('/r', null));
  apply(t, create('/r/x', 'data'));
  apply(t, create('/zookeeper/quota/r', null));
  apply(t, create('/zookeeper/quota/r/zookeeper_limits', 'count=-1,bytes=100'));
  apply(t, create('/zookeeper/quota/r/zookeeper_stats', 'count=99,bytes=99'));
  t.getNode('/zookeeper/quota/r/zookeeper_stats')!.data = 'count=7,bytes=7';
  t.quotaPaths.clear();
  t.snapshotLoaded();
  assert.ok(t.quotaPaths.has('/r'));
  assert.equal(stats(t, '/r'), 'count=2,bytes=4');
  // The log after the snapshot: a create counts, a client's rewrite of the
  // stats stands, and later changes count from it, not from a recount.
  apply(t, create('/r/y', 'yy'));
  assert.equal(stats(t, '/r'), 'count=3,bytes=6');
  apply(t, { type: OpCode.setData, path: '/zookeeper/quota/r/zookeeper_stats', data: 'count=50,bytes=50', version: -1 });
  apply(t, create('/r/z', 'z'));
  t.finishRestore(zxid);
  assert.equal(stats(t, '/r'), 'count=51,bytes=51');
});

test('reaper candidates: used empty containers, never-used ones only past the limit, expired TTL nodes without children', () => {
  const t = new DataTree({ extendedTypes: true });
  const container = (path: string, time: number) => apply(t, { type: OpCode.createContainer, path, data: null, acl, parentCVersion: -1 }, time);
  const ttlNode = (path: string, ttl: number, time: number) => apply(t, { type: OpCode.createTTL, path, data: null, acl, parentCVersion: -1, ttl }, time);
  container('/used', 1000);
  apply(t, create('/used/child', null));
  apply(t, { type: OpCode.delete, path: '/used/child' });
  container('/never', 1000);
  container('/busy', 1000);
  apply(t, create('/busy/child', null));
  ttlNode('/t1', 500, 1000);
  ttlNode('/t2', 5000, 1000);
  ttlNode('/t3', 500, 1000);
  apply(t, create('/t3/child', null));
  assert.equal(ttlOf(...ttlOwner(5000)), 5000);
  assert.equal(ttlOf(...ttlOwner(2 ** 40 - 1)), 2 ** 40 - 1);
  assert.deepEqual(reapCandidates(t, 1400, 0).sort(), ['/used']);
  assert.deepEqual(reapCandidates(t, 1600, 0).sort(), ['/t1', '/used'], 'TTL counts from mtime');
  assert.deepEqual(reapCandidates(t, 7000, 0).sort(), ['/t1', '/t2', '/used'], 'a TTL node with children stays');
  assert.deepEqual(reapCandidates(t, 7000, 3000).sort(), ['/never', '/t1', '/t2', '/used'], 'maxNeverUsedIntervalMs');
});

test('reaper candidates come in the order Apache 3.8 deleted them (a HashSet of the candidates)', () => {
  const t = new DataTree({ extendedTypes: true });
  apply(t, create('/ro', null));
  const containers = Array.from({ length: 12 }, (_, i) => `/ro/c${i}`);
  for (const p of containers) {
    apply(t, { type: OpCode.createContainer, path: p, data: null, acl, parentCVersion: -1 });
    apply(t, create(`${p}/k`, null));
  }
  for (const p of containers) apply(t, { type: OpCode.delete, path: `${p}/k` });
  // Recorded from Apache 3.8 (test/compat/differential-more.test.ts, the reaper order scenario).
  assert.deepEqual(reapCandidates(t, 2000, 0),
    ['/ro/c11', '/ro/c9', '/ro/c8', '/ro/c5', '/ro/c4', '/ro/c7', '/ro/c6', '/ro/c1', '/ro/c0', '/ro/c3', '/ro/c2', '/ro/c10']);
});
