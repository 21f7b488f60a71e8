// The DataTree applied from txns: Stat semantics, the built-in nodes,
// ephemerals, multi, and the order in which watches fire.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataTree, NodeStat } from '../../src/tree/data-tree.js';
import type { Watcher } from '../../src/tree/watch-manager.js';
import { MODE_PERSISTENT, MODE_PERSISTENT_RECURSIVE, MODE_STANDARD } from '../../src/tree/watch-manager.js';
import { OpCode, EventType } from '../../src/jute/opcodes.js';
import { Err, KeeperError } from '../../src/jute/errors.js';
import type { Txn, TxnHeader } from '../../src/jute/txn.js';
import { OPEN_ACL_UNSAFE } from '../../src/tree/acl-cache.js';
import { hashSetOrder } from '../../src/util/java-hash-set.js';
import { scrambledChildNames } from '../support/child-names.js';
import { writeNodeStat } from '../../src/tree/znode.js';
import { Writer } from '../../src/jute/writer.js';
import { Reader } from '../../src/jute/reader.js';
import { readStat } from '../../src/jute/records.js';

const acl = OPEN_ACL_UNSAFE.slice();
/** Znode data as the tree keeps it: bytes as a latin1 string. */
const data = (s: string) => Buffer.from(s).toString('latin1');
let zxid = 0;
function hdr(type: number, session: [number, number] = [0, 1]): TxnHeader {
  zxid++;
  return { clientIdHi: session[0], clientIdLo: session[1], cxid: 1, zxid, time: 1000 + zxid, type };
}
function create(t: DataTree, path: string, opts: { ephemeral?: boolean; session?: [number, number]; d?: string | null } = {}) {
  const txn: Txn = { type: OpCode.create, path, data: opts.d === null ? null : data(opts.d ?? 'x'), acl, ephemeral: opts.ephemeral ?? false, parentCVersion: -1 };
  return t.processTxn(hdr(OpCode.create, opts.session), txn);
}
function del(t: DataTree, path: string) {
  return t.processTxn(hdr(OpCode.delete), { type: OpCode.delete, path });
}
function stat(t: DataTree, path: string): NodeStat {
  return NodeStat.of(t.getNode(path)!, false);
}

class RecordingWatcher implements Watcher {
  alive = true;
  constructor(readonly name: string, readonly log: string[]) {}
  process(type: number, path: string): void {
    this.log.push(`${this.name}:${type}:${path}`);
  }
}

test('a new tree has /, /zookeeper, /zookeeper/quota and a read-only /zookeeper/config', () => {
  const t = new DataTree({ extendedTypes: false });
  assert.deepEqual([...t.getNode('/')!.children!.keys()].sort(), ['zookeeper']);
  assert.deepEqual([...t.getNode('/zookeeper')!.children!.keys()].sort(), ['config', 'quota']);
  assert.equal(t.getNode(''), t.getNode('/'), '"" aliases the root');
  assert.equal(stat(t, '/').cversion, -1, 'Apache shows cversion -1 on a fresh root');
  assert.equal(stat(t, '/zookeeper').cversion, -2);
  assert.equal(stat(t, '/zookeeper/config').aversion, -1);
  assert.deepEqual(t.aclOf(t.getNode('/zookeeper/config')!), [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }]);
  assert.equal(t.nodeCount, 4);
});

test('create: czxid = mzxid = pzxid, the parent counts the child and moves its pzxid', () => {
  const t = new DataTree({ extendedTypes: false });
  const rc = create(t, '/a', { d: 'hello' });
  assert.equal(rc.err, 0);
  const s = stat(t, '/a');
  assert.equal(s.czxid, rc.stat!.czxid);
  assert.equal(s.mzxid, s.czxid);
  assert.equal(s.pzxid, s.czxid);
  assert.equal(s.ctime, s.mtime);
  assert.equal(s.dataLength, 5);
  assert.equal(s.version, 0);
  assert.equal(stat(t, '/').pzxid, s.czxid);
  assert.equal(stat(t, '/').numChildren, 2);
  assert.equal(create(t, '/a').err, Err.NODEEXISTS);
  assert.equal(create(t, '/missing/child').err, Err.NONODE);
});

test('cversion as clients see it counts creations plus deletions; the stored one counts creations', () => {
  const t = new DataTree({ extendedTypes: false });
  create(t, '/p');
  create(t, '/p/a');
  create(t, '/p/b');
  del(t, '/p/a');
  create(t, '/p/c');
  del(t, '/p/b');
  assert.equal(stat(t, '/p').cversion, 5);
  assert.equal(t.getNode('/p')!.cversion, 3, 'persisted form: creations only');
  assert.equal(stat(t, '/p').numChildren, 1);
  const lastDelete = zxid;
  assert.equal(stat(t, '/p').pzxid, lastDelete, 'pzxid is the zxid of the last child change');
});

test('null data and empty data are different and both round-trip', () => {
  const t = new DataTree({ extendedTypes: false });
  create(t, '/n', { d: null });
  create(t, '/e', { d: '' });
  assert.equal(t.getNode('/n')!.data, null);
  assert.equal(t.getNode('/e')!.data, '');
  assert.equal(stat(t, '/n').dataLength, 0);
});

test('setData bumps version and mzxid only; setACL bumps only aversion', () => {
  const t = new DataTree({ extendedTypes: false });
  create(t, '/a');
  const before = stat(t, '/a');
  t.processTxn(hdr(OpCode.setData), { type: OpCode.setData, path: '/a', data: data('zz'), version: 1 });
  const after = stat(t, '/a');
  assert.equal(after.version, 1);
  assert.equal(after.mzxid, zxid);
  assert.equal(after.czxid, before.czxid);
  assert.equal(after.pzxid, before.pzxid);
  assert.equal(after.dataLength, 2);
  t.processTxn(hdr(OpCode.setACL), { type: OpCode.setACL, path: '/a', acl: [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }], version: 1 });
  const acled = stat(t, '/a');
  assert.equal(acled.aversion, 1);
  assert.equal(acled.version, 1);
  assert.equal(acled.mzxid, after.mzxid);
});

test('ephemerals are listed per session, shown with their owner, and go with the session', () => {
  const t = new DataTree({ extendedTypes: false });
  const s1: [number, number] = [0x100, 0x42];
  create(t, '/app');
  create(t, '/app/e1', { ephemeral: true, session: s1 });
  create(t, '/app/e2', { ephemeral: true, session: s1 });
  assert.deepEqual([...t.ephemeralsOf(...s1)].sort(), ['/app/e1', '/app/e2']);
  const s = stat(t, '/app/e1');
  assert.equal(s.ownerHi, 0x100);
  assert.equal(s.ownerLo, 0x42);
  const log: string[] = [];
  t.dataWatches.add('/app/e1', new RecordingWatcher('w', log), MODE_STANDARD);
  t.processTxn(hdr(OpCode.closeSession, s1), { type: OpCode.closeSession, paths2Delete: ['/app/e1', '/app/e2'] });
  assert.equal(t.getNode('/app/e1'), undefined);
  assert.equal(t.getNode('/app/e2'), undefined);
  assert.equal(t.ephemeralsOf(...s1).size, 0);
  assert.deepEqual(log, [`w:${EventType.NodeDeleted}:/app/e1`]);
});

test('a failed multi applies nothing and reports OK-rolled-back, the error, then RUNTIMEINCONSISTENCY', () => {
  const t = new DataTree({ extendedTypes: false });
  create(t, '/m');
  const rc = t.processTxn(hdr(OpCode.multi), {
    type: OpCode.multi,
    txns: [
      { type: OpCode.create, path: '/m/x', data: null, acl, ephemeral: false, parentCVersion: -1 },
      { type: OpCode.error, err: Err.NONODE },
      { type: OpCode.delete, path: '/m' },
    ],
  });
  assert.equal(rc.err, Err.NONODE);
  assert.deepEqual(rc.multi!.map((r) => r.err), [Err.OK, Err.NONODE, Err.RUNTIMEINCONSISTENCY]);
  assert.equal(t.getNode('/m/x'), undefined);
  assert.ok(t.getNode('/m'));
});

test('lastProcessedZxid follows applied txns, errors included', () => {
  const t = new DataTree({ extendedTypes: false });
  create(t, '/z');
  const z = zxid;
  assert.equal(t.lastProcessedZxid, z);
  t.processTxn(hdr(OpCode.error), { type: OpCode.error, err: Err.NODEEXISTS });
  assert.equal(t.lastProcessedZxid, z + 1);
});

test('watch order: NodeCreated then the parent\'s NodeChildrenChanged; one-shot watches fire once', () => {
  const t = new DataTree({ extendedTypes: false });
  const log: string[] = [];
  const a = new RecordingWatcher('a', log);
  create(t, '/w');
  t.statNode('/w/c', a);
  t.watchChildren('/w', a);
  create(t, '/w/c');
  create(t, '/w/d');
  assert.deepEqual(log, [`a:${EventType.NodeCreated}:/w/c`, `a:${EventType.NodeChildrenChanged}:/w`]);
});

test('watch order on delete: data watchers, then child watchers not yet told, then the parent', () => {
  const t = new DataTree({ extendedTypes: false });
  const log: string[] = [];
  const a = new RecordingWatcher('a', log);
  const b = new RecordingWatcher('b', log);
  create(t, '/p');
  create(t, '/p/x');
  t.watchData('/p/x', a);
  t.watchChildren('/p/x', a);
  t.watchChildren('/p/x', b);
  t.watchChildren('/p', b);
  del(t, '/p/x');
  assert.deepEqual(log, [
    `a:${EventType.NodeDeleted}:/p/x`,
    `b:${EventType.NodeDeleted}:/p/x`,
    `b:${EventType.NodeChildrenChanged}:/p`,
  ]);
  assert.equal(t.dataWatches.size + t.childWatches.size, 0, 'one-shot watches are consumed');
});

test('persistent watches stay; recursive ones see descendants but never NodeChildrenChanged', () => {
  const t = new DataTree({ extendedTypes: false });
  const log: string[] = [];
  const p = new RecordingWatcher('p', log);
  const r = new RecordingWatcher('r', log);
  create(t, '/top');
  t.dataWatches.add('/top', p, MODE_PERSISTENT);
  t.childWatches.add('/top', p, MODE_PERSISTENT);
  t.dataWatches.add('/top', r, MODE_PERSISTENT_RECURSIVE);
  create(t, '/top/a');
  t.processTxn(hdr(OpCode.setData), { type: OpCode.setData, path: '/top/a', data: null, version: 1 });
  t.processTxn(hdr(OpCode.setData), { type: OpCode.setData, path: '/top', data: null, version: 1 });
  t.processTxn(hdr(OpCode.setData), { type: OpCode.setData, path: '/top', data: null, version: 2 });
  assert.deepEqual(log, [
    `r:${EventType.NodeCreated}:/top/a`,
    `p:${EventType.NodeChildrenChanged}:/top`,
    `r:${EventType.NodeDataChanged}:/top/a`,
    `p:${EventType.NodeDataChanged}:/top`,
    `r:${EventType.NodeDataChanged}:/top`,
    `p:${EventType.NodeDataChanged}:/top`,
    `r:${EventType.NodeDataChanged}:/top`,
  ]);
});

test('a path with many watchers: one-shot ones fire once and go, persistent ones stay, a watcher holding both keeps the persistent one', () => {
  const t = new DataTree({ extendedTypes: false });
  const log: string[] = [];
  create(t, '/hot');
  const once = Array.from({ length: 200 }, (_, i) => new RecordingWatcher(`s${i}`, log));
  const keep = new RecordingWatcher('p', log);
  const both = new RecordingWatcher('b', log);
  for (const w of once) t.dataWatches.add('/hot', w, MODE_STANDARD);
  t.dataWatches.add('/hot', keep, MODE_PERSISTENT);
  t.dataWatches.add('/hot', both, MODE_STANDARD);
  t.dataWatches.add('/hot', both, MODE_PERSISTENT);
  assert.equal(t.dataWatches.size, 202);
  const set = (v: number) => t.processTxn(hdr(OpCode.setData), { type: OpCode.setData, path: '/hot', data: null, version: v });
  set(1);
  assert.equal(log.length, 202, 'every watcher once, the one with two modes too');
  assert.deepEqual(new Set(log).size, 202);
  assert.equal(t.dataWatches.size, 2, 'the one-shot watches are consumed');
  assert.deepEqual([...t.dataWatches.watchersOf('/hot')!].map(([w, m]) => `${(w as RecordingWatcher).name}:${m}`).sort(),
    [`b:${MODE_PERSISTENT}`, `p:${MODE_PERSISTENT}`]);
  assert.equal(t.dataWatches.modes('/hot', both), MODE_PERSISTENT);
  assert.equal(t.dataWatches.pathsOf(once[0]!), undefined, 'a fired one-shot watcher holds no path');
  log.length = 0;
  set(2);
  assert.deepEqual(log.sort(), [`b:${EventType.NodeDataChanged}:/hot`, `p:${EventType.NodeDataChanged}:/hot`]);
  // Down to one persistent watcher, and its watch still fires.
  t.dataWatches.removeModes('/hot', both, MODE_PERSISTENT);
  log.length = 0;
  set(3);
  assert.deepEqual(log, [`p:${EventType.NodeDataChanged}:/hot`]);
  // Re-armed one-shot watches on the same path fire again, once.
  for (const w of once.slice(0, 3)) t.dataWatches.add('/hot', w, MODE_STANDARD);
  log.length = 0;
  set(4);
  assert.equal(log.length, 4);
  assert.equal(t.dataWatches.size, 1);
  assert.equal(t.dataWatches.pathCount, 1);
});

test('a closed watcher\'s watches are all removed', () => {
  const t = new DataTree({ extendedTypes: false });
  const w = new RecordingWatcher('w', []);
  for (let i = 0; i < 100; i++) t.statNode(`/n${i}`, w);
  t.watchChildren('/', w);
  assert.equal(t.dataWatches.size, 100);
  t.removeWatcher(w);
  assert.equal(t.dataWatches.size, 0);
  assert.equal(t.childWatches.size, 0);
  assert.equal(t.dataWatches.pathCount, 0);
});

test('deleting a missing node is NONODE and changes nothing', () => {
  const t = new DataTree({ extendedTypes: false });
  assert.equal(del(t, '/nope').err, Err.NONODE);
  assert.throws(() => t.setData('/nope', null, 1, 1, 1), KeeperError);
});

test('replay deleting a node that a fuzzy snapshot caught with children drops the children too (counts, ephemerals)', () => {
  // The snapshot walk saw /b re-created with a child /b/y (txns 3 and 4 of
  // the log); replay from the snapshot's zxid then applies delete /b (txn 2)
  // to that /b before re-creating it. Found by the simulator (seed 332655082).
  const t = new DataTree({ extendedTypes: false });
  const base = t.nodeCount;
  t.createNode('/b', 'v', null, 0, 0, -1, 3, 1000);
  t.createNode('/b/y', null, null, 0x1234, 5, -1, 4, 1000);
  assert.deepEqual([...t.ephemeralsOf(0x1234, 5)], ['/b/y']);
  t.deleteNode('/b', 2);
  assert.equal(t.nodeCount, base, 'the child is not counted once unreachable');
  assert.deepEqual([...t.ephemeralsOf(0x1234, 5)], [], "the child's ephemeral entry went with it");
  t.createNode('/b', 'v', null, 0, 0, -1, 3, 1000);
  t.createNode('/b/y', null, null, 0x1234, 5, -1, 4, 1000);
  assert.equal(t.nodeCount, base + 2);
  assert.equal(t.getNode('/b/y')?.czxid, 4);
});

test('children are listed in the order Apache 3.8 listed them (its HashSet: 8 buckets, doubled as it fills, never shrunk)', () => {
  const t = new DataTree({ extendedTypes: false });
  assert.deepEqual(t.getNode('/zookeeper')!.childNames(), ['config', 'quota'], 'as Apache lists /zookeeper');
  create(t, '/co');
  const names = scrambledChildNames();
  const co = t.getNode('/co')!;
  const tables: number[] = [];
  const listed: string[][] = [];
  for (const n of names) {
    create(t, `/co/${n}`);
    tables.push(co.childTable);
    listed.push(co.childNames());
  }
  // Recorded from Apache 3.8 (test/compat/differential-more.test.ts, the children order scenario).
  assert.deepEqual(names.slice(0, 7), ['job0', 'n17', 'lease34', 'x10', 'job27', 'n3', 'lease20']);
  assert.deepEqual(listed[5], ['job0', 'job27', 'lease34', 'n17', 'n3', 'x10']);
  assert.deepEqual(listed[6], ['job0', 'n17', 'n3', 'x10', 'job27', 'lease34', 'lease20'], 'the 7th child doubled the table to 16');
  assert.deepEqual([tables[0], tables[5], tables[6], tables[11], tables[12], tables[23], tables[24], tables[39]], [8, 8, 16, 16, 32, 32, 64, 64]);
  for (const n of names.slice(0, 35)) del(t, `/co/${n}`);
  assert.deepEqual(co.childNames(), ['n14', 'job38', 'x21', 'lease31', 'x7']);
  for (const n of names.slice(35)) del(t, `/co/${n}`);
  assert.equal(co.children, null);
  assert.equal(co.childTable, 64, 'an emptied set keeps its table');
  for (const n of ['c1', 'b1', 'a1']) create(t, `/co/${n}`);
  assert.deepEqual(co.childNames(), ['b1', 'c1', 'a1'], 'as Apache listed them in the emptied set of 64');
  assert.deepEqual(hashSetOrder(['c1', 'b1', 'a1'], 8), ['a1', 'c1', 'b1'], 'a fresh set of 8 would differ');
});

test('a node\'s children table follows HashMap\'s rule through random creates and deletes', () => {
  const t = new DataTree({ extendedTypes: false });
  create(t, '/rt');
  const n = t.getNode('/rt')!;
  let seed = 7;
  const rand = (k: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % k; };
  const inserted: string[] = [];
  let table = 8;
  for (let step = 0; step < 3000; step++) {
    // Mostly adds early on, mostly deletes later, so the set grows, shrinks and grows again.
    const addBias = step % 1000 < 600 ? 3 : 1;
    if (inserted.length === 0 || rand(addBias + 1) !== 0) {
      const name = `k${rand(400)}`;
      if (inserted.includes(name)) continue;
      create(t, `/rt/${name}`);
      inserted.push(name);
      if (inserted.length > table * 0.75) table *= 2;
    } else {
      const name = inserted.splice(rand(inserted.length), 1)[0]!;
      del(t, `/rt/${name}`);
    }
    if (step % 50 === 0) {
      assert.equal(n.childTable, table, `step ${step}`);
      assert.deepEqual(n.childNames(), hashSetOrder(inserted, table), `step ${step}`);
    }
  }
  assert.ok(table >= 256, `the set grew to ${table} buckets`);
});

test('ctime and mtime keep every millisecond of a Java long, before 1970 and far ahead, in the tree and on the wire', () => {
  // The tree keeps each time as two 32-bit words; these cross every boundary between them.
  const times = [0, -1, -4294967296, -4294967297, 4294967295, 4294967296, 1765000000999, 253402300799999, 2 ** 53 - 1, -(2 ** 53 - 1)];
  const t = new DataTree({ extendedTypes: false });
  for (const [i, time] of times.entries()) {
    zxid++;
    const path = `/t${i}`;
    t.processTxn({ clientIdHi: 0, clientIdLo: 1, cxid: 1, zxid, time, type: OpCode.create },
      { type: OpCode.create, path, data: null, acl, ephemeral: false, parentCVersion: -1 });
    const later = times[(i + 3) % times.length]!;
    t.setData(path, data('v'), 1, zxid, later);
    const s = stat(t, path);
    assert.equal(s.ctime, time, `${path} ctime`);
    assert.equal(s.mtime, later, `${path} mtime`);
    const w = new Writer(128);
    writeNodeStat(w, t.getNode(path)!, false);
    const wire = readStat(new Reader(w.bytes()));
    assert.equal(wire.ctime, time, `${path} ctime on the wire`);
    assert.equal(wire.mtime, later, `${path} mtime on the wire`);
  }
});

test('czxid, mzxid and pzxid keep zxids of any epoch, in the tree and on the wire', () => {
  // An ensemble's zxids carry the epoch in their high word; these cross the int32 and uint32 edges.
  const epochs = [0, 1, 0x7fff, 0x80000, 0x1fffff];
  const lows = [1, 0x7fffffff, 0x80000000, 0xfffffffe];
  const zxids = epochs.flatMap((e) => lows.map((l) => e * 4294967296 + l));
  const t = new DataTree({ extendedTypes: false });
  const time = 1765000000000;
  t.processTxn({ clientIdHi: 0, clientIdLo: 1, cxid: 1, zxid: zxids[0]!, time, type: OpCode.create },
    { type: OpCode.create, path: '/p', data: null, acl, ephemeral: false, parentCVersion: -1 });
  for (let i = 1; i + 1 < zxids.length; i += 2) {
    const created = zxids[i]!;
    const changed = zxids[i + 1]!;
    const path = `/p/c${i}`;
    t.processTxn({ clientIdHi: 0, clientIdLo: 1, cxid: 1, zxid: created, time, type: OpCode.create },
      { type: OpCode.create, path, data: null, acl, ephemeral: false, parentCVersion: -1 });
    t.setData(path, data('v'), 1, changed, time);
    const s = stat(t, path);
    assert.equal(s.czxid, created, `${path} czxid`);
    assert.equal(s.mzxid, changed, `${path} mzxid`);
    assert.equal(s.pzxid, created, `${path} pzxid`);
    assert.equal(stat(t, '/p').pzxid, created, '/p pzxid follows its newest child');
    const w = new Writer(128);
    writeNodeStat(w, t.getNode(path)!, false);
    const wire = readStat(new Reader(w.bytes()));
    assert.equal(wire.czxid, created, `${path} czxid on the wire`);
    assert.equal(wire.mzxid, changed, `${path} mzxid on the wire`);
    assert.equal(wire.pzxid, created, `${path} pzxid on the wire`);
  }
});
