// Snapshots in Apache's format: round trips in every compression, sliced
// writing through a pool (inline and piscina), fuzzy snapshots made whole by
// replay, and damage detection.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { DataTree } from '../../src/tree/data-tree.js';
import { OpCode } from '../../src/jute/opcodes.js';
import {
  writeSnapshotSync, readSnapshotFile, SnapshotJob, SnapshotSlots, inlineChunkPool, decompress, SnapshotFormatError, type Compression,
} from '../../src/persistence/index.js';
import { tempDir } from '../support/zoonode.js';
import { hashSetOrder } from '../../src/util/java-hash-set.js';
import { sourceOf, targetOf, dumpTree } from '../support/tree-snapshot.js';
import { scrambledChildNames } from '../support/child-names.js';
import { TxnMaker } from '../support/txn-maker.js';

const digest = [{ perms: 3, id: { scheme: 'digest', id: 'alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=' } }];

function sampleTree(nodes = 200): { tree: DataTree; sessions: Map<bigint, number>; m: TxnMaker } {
  const tree = new DataTree({ extendedTypes: false });
  const m = new TxnMaker(tree);
  m.create('/app', Buffer.from('root of the app'));
  m.create('/app/null', null);
  m.create('/app/empty', Buffer.alloc(0));
  m.create('/app/bin', Buffer.from([0, 1, 2, 255, 254]));
  m.create('/app/secret', Buffer.from('s'), { acl: digest });
  m.create('/app/eph', null, { ephemeral: true });
  for (let i = 0; i < nodes; i++) m.create(`/app/n${i}`, Buffer.alloc(100, i & 0xff));
  m.setData('/app/n3', 'changed', 1);
  m.delete('/app/n4');
  m.apply({ type: OpCode.setACL, path: '/app/n5', acl: digest, version: 1 });
  return { tree, sessions: new Map([[BigInt(0x100) << 32n | 0x55n, 30000], [7n, 4000]]), m };
}

for (const compression of ['none', 'gz', 'snappy'] as Compression[]) {
  test(`a snapshot (${compression}) reads back as the same tree, ACLs and sessions`, () => {
    const dir = tempDir('snap');
    const { tree, sessions } = sampleTree();
    const r = writeSnapshotSync(sourceOf(tree, sessions), dir, tree.lastProcessedZxid, compression);
    assert.equal(path.basename(r.file), `snapshot.${tree.lastProcessedZxid.toString(16)}${compression === 'none' ? '' : `.${compression}`}`);
    const back = new DataTree({ extendedTypes: false });
    const backSessions = new Map<bigint, number>();
    const t = targetOf(back, backSessions);
    t.reset();
    readSnapshotFile(r.file, t);
    back.snapshotLoaded();
    back.finishRestore(tree.lastProcessedZxid);
    assert.deepEqual(dumpTree(back), dumpTree(tree));
    assert.deepEqual(backSessions, sessions);
    assert.deepEqual([...back.ephemeralsOf(0x100, 0x55)], ['/app/eph']);
    assert.equal(back.nodeCount, tree.nodeCount);
    fs.rmSync(dir, { recursive: true });
  });
}

test('a snapshot read through a window smaller than one node (a value bigger than the window too) is the same tree', () => {
  const dir = tempDir('snap');
  const { tree, sessions, m } = sampleTree(500);
  m.create('/app/big', Buffer.alloc(20_000, 7));
  m.create('/app/big/child', Buffer.from('after the big one'), { acl: digest });
  const r = writeSnapshotSync(sourceOf(tree, sessions), dir, tree.lastProcessedZxid, 'none');
  for (const windowBytes of [16, 64, 1000, 4096]) {
    const back = new DataTree({ extendedTypes: false });
    const backSessions = new Map<bigint, number>();
    const t = targetOf(back, backSessions);
    t.reset();
    assert.equal(readSnapshotFile(r.file, t, undefined, windowBytes).nodes, tree.nodeCount, `window ${windowBytes}`);
    back.snapshotLoaded();
    back.finishRestore(tree.lastProcessedZxid);
    assert.deepEqual(dumpTree(back), dumpTree(tree), `window ${windowBytes}`);
    assert.deepEqual(backSessions, sessions, `window ${windowBytes}`);
  }
  // Damage is still found through a small window: a flipped byte past the
  // first window, and a file cut short inside the nodes.
  const bytes = fs.readFileSync(r.file);
  const flipped = Buffer.from(bytes);
  flipped[bytes.length - 3000] ^= 0x01;
  fs.writeFileSync(r.file, flipped);
  assert.throws(() => readSnapshotFile(r.file, targetOf(new DataTree({ extendedTypes: false }), new Map()), undefined, 64),
    SnapshotFormatError);
  fs.writeFileSync(r.file, bytes.subarray(0, bytes.length >> 1));
  assert.throws(() => readSnapshotFile(r.file, targetOf(new DataTree({ extendedTypes: false }), new Map()), undefined, 64),
    /truncated or malformed/);
  fs.rmSync(dir, { recursive: true });
});

test('a flipped byte fails the seal', () => {
  const dir = tempDir('snap');
  const { tree, sessions } = sampleTree();
  const r = writeSnapshotSync(sourceOf(tree, sessions), dir, 9, 'none');
  const bytes = fs.readFileSync(r.file);
  bytes[200] ^= 0x01;
  fs.writeFileSync(r.file, bytes);
  const back = new DataTree({ extendedTypes: false });
  assert.throws(() => readSnapshotFile(r.file, targetOf(back, new Map())), SnapshotFormatError);
  fs.rmSync(dir, { recursive: true });
});

for (const [name, makePool] of [
  ['inline', () => ({ pool: inlineChunkPool, close: async () => {} })],
  ['piscina', () => {
    const p = new Piscina({ filename: fileURLToPath(new URL('../../src/persistence/snapshot-worker.js', import.meta.url)), maxThreads: 2 });
    return { pool: p, close: () => p.destroy() };
  }],
] as const) {
  test(`a sliced snapshot through the ${name} pool equals the one written at once`, async () => {
    const { tree, sessions } = sampleTree(3000);
    const { pool, close } = makePool();
    try {
      for (const compression of ['none', 'gz', 'snappy'] as Compression[]) {
        const a = tempDir('snap');
        const b = tempDir('snap');
        const once = writeSnapshotSync(sourceOf(tree, sessions), a, tree.lastProcessedZxid, compression);
        const job = new SnapshotJob(sourceOf(tree, sessions), { dir: b, zxid: tree.lastProcessedZxid, compression, pool, fsync: true, chunkBytes: 4096, sliceMs: 1 });
        const sliced = await job.done;
        assert.equal(path.basename(sliced.file), path.basename(once.file));
        assert.equal(sliced.nodes, once.nodes);
        assert.deepEqual(decompress(fs.readFileSync(sliced.file), compression), decompress(fs.readFileSync(once.file), compression),
          `${compression}: same uncompressed bytes, same seal`);
        assert.deepEqual(fs.readdirSync(b), [path.basename(sliced.file)], 'no temporary file left behind');
        fs.rmSync(a, { recursive: true });
        fs.rmSync(b, { recursive: true });
      }
    } finally {
      await close();
    }
  });
}

test('a sliced snapshot pauses between slices only while the server takes requests', async () => {
  const { tree, sessions } = sampleTree(3000);
  const run = async (requestsTaken: () => number): Promise<{ ms: number; file: Buffer }> => {
    const dir = tempDir('snap');
    const t0 = performance.now();
    // A tiny slice budget: about one 64-node step per slice, some 45 slices, each followed by a 10 ms pause when busy.
    const job = new SnapshotJob({ ...sourceOf(tree, sessions), requestsTaken }, {
      dir, zxid: tree.lastProcessedZxid, compression: 'none', pool: inlineChunkPool, fsync: false, chunkBytes: 4096, sliceMs: 0.01, pauseMs: 10,
    });
    const r = await job.done;
    const out = { ms: performance.now() - t0, file: fs.readFileSync(r.file) };
    fs.rmSync(dir, { recursive: true });
    return out;
  };
  let served = 0;
  const busy = await run(() => ++served); // a request came in before every slice
  const idle = await run(() => 42); // no request during the whole snapshot
  assert.ok(busy.ms >= 40 * 10, `a busy server's snapshot pauses after each slice (${busy.ms.toFixed(0)} ms)`);
  assert.ok(idle.ms < busy.ms / 2, `an idle server's snapshot does not pause (${idle.ms.toFixed(0)} ms vs ${busy.ms.toFixed(0)} ms busy)`);
  assert.deepEqual(idle.file, busy.file, 'pacing changes nothing in the file');
});

test('a sliced snapshot pauses after each slice budget of encoding even when full chunks end the slices first', async () => {
  const { tree, sessions } = sampleTree(20_000);
  const run = async (chunkBytes: number): Promise<{ asked: number; file: Buffer }> => {
    const dir = tempDir('snap');
    let asked = 0;
    // requestsTaken is asked once per pause decision: after every spent budget.
    const requestsTaken = () => ++asked;
    const job = new SnapshotJob({ ...sourceOf(tree, sessions), requestsTaken }, {
      dir, zxid: tree.lastProcessedZxid, compression: 'none', pool: inlineChunkPool, fsync: false, chunkBytes, sliceMs: 0.5, pauseMs: 1,
    });
    const r = await job.done;
    const out = { asked: asked - 1, file: fs.readFileSync(r.file) }; // the constructor asks once
    fs.rmSync(dir, { recursive: true });
    return out;
  };
  // 256-byte chunks: every slice ends after one 64-node step, well inside its 0.5 ms budget.
  const small = await run(256);
  const big = await run(1 << 20);
  assert.ok(big.asked >= 4, `pauses with chunks bigger than a slice (${big.asked} pause decisions)`);
  // The same encoding (and more: a chunk per step) in small chunks pauses at
  // least half as often; counting only slices that ran out their own budget
  // gave 5 against 30 here.
  assert.ok(small.asked >= big.asked / 2, `chunks that fill before the budget: ${small.asked} pause decisions, ${big.asked} with 1 MiB chunks`);
  assert.deepEqual(small.file, big.file);
});

test('snapshot jobs reuse one set of chunk slots, and a reused slot\'s old bytes never reach a file', async () => {
  // The server keeps its slots from one snapshot to the next: slots made per
  // job piled up in the pool's workers (about 1 MB of resident memory per
  // snapshot with frequent small snapshots), as their collector rarely runs.
  const { tree, sessions, m } = sampleTree(3000);
  m.create('/big', 'A'.repeat(20_000)); // larger than a 4 KiB chunk's headroom: a slot of its own
  const pool = new Piscina({ filename: fileURLToPath(new URL('../../src/persistence/snapshot-worker.js', import.meta.url)), maxThreads: 2 });
  const slots = new SnapshotSlots();
  const held: number[] = [];
  try {
    for (let round = 0; round < 3; round++) {
      // New bytes of the same sizes: every chunk, the oversized one too, is as long as in the round before.
      for (let i = 0; i < 50; i++) m.setData(`/app/n${(round * 50 + i) * 7 % 3000}`, `round ${round} `.padEnd(100, 'x'), round + 1);
      m.setData('/big', String.fromCharCode(66 + round).repeat(20_000), round + 1);
      for (const compression of ['none', 'gz'] as Compression[]) {
        const a = tempDir('snap');
        const b = tempDir('snap');
        const once = writeSnapshotSync(sourceOf(tree, sessions), a, tree.lastProcessedZxid, compression);
        const job = new SnapshotJob(sourceOf(tree, sessions), { dir: b, zxid: tree.lastProcessedZxid, compression, pool, fsync: false, chunkBytes: 4096, sliceMs: 1, slots });
        const sliced = await job.done;
        assert.deepEqual(decompress(fs.readFileSync(sliced.file), compression), decompress(fs.readFileSync(once.file), compression),
          `round ${round}, ${compression}: the same bytes as a snapshot written at once`);
        held.push(slots.bytesHeld);
        fs.rmSync(a, { recursive: true });
        fs.rmSync(b, { recursive: true });
      }
    }
  } finally {
    await pool.destroy();
  }
  // Four fixed slots of 6 KiB and the oversized chunk's own slot, held once across six snapshots.
  assert.ok(held[0]! > 4 * 6144 + 20_000, `four fixed slots and the oversized chunk's slot: ${held[0]} bytes`);
  assert.deepEqual(held, held.map(() => held[0]), `slots held after each job: ${held.join(', ')}`);
});

test('a paced snapshot told to hurry stops pausing and writes the same file', async () => {
  const { tree, sessions } = sampleTree(3000);
  const run = async (hurryAfter: number): Promise<{ ms: number; file: Buffer }> => {
    const dir = tempDir('snap');
    const t0 = performance.now();
    let served = 0;
    let job: SnapshotJob | null = null;
    // Busy before every slice; the storage calls hurry() once the next snapshot is due.
    const requestsTaken = () => {
      if (++served === hurryAfter) job!.hurry();
      return served;
    };
    job = new SnapshotJob({ ...sourceOf(tree, sessions), requestsTaken }, {
      dir, zxid: tree.lastProcessedZxid, compression: 'none', pool: inlineChunkPool, fsync: false, chunkBytes: 4096, sliceMs: 0.01, pauseMs: 10,
    });
    const r = await job.done;
    const out = { ms: performance.now() - t0, file: fs.readFileSync(r.file) };
    fs.rmSync(dir, { recursive: true });
    return out;
  };
  const paced = await run(Infinity);
  const hurried = await run(3);
  assert.ok(paced.ms >= 40 * 10, `paced: a pause after each slice (${paced.ms.toFixed(0)} ms)`);
  assert.ok(hurried.ms < paced.ms / 2, `hurried after 3 slices: ${hurried.ms.toFixed(0)} ms vs ${paced.ms.toFixed(0)} ms paced`);
  assert.deepEqual(hurried.file, paced.file);
});

test('a fuzzy snapshot taken while the tree changes, plus the txns after its zxid, rebuilds the live tree', async () => {
  const dir = tempDir('snap');
  const { tree, sessions, m } = sampleTree(2000);
  const snapZxid = tree.lastProcessedZxid;
  const job = new SnapshotJob(sourceOf(tree, sessions), { dir, zxid: snapZxid, compression: 'none', pool: inlineChunkPool, fsync: false, chunkBytes: 2048, sliceMs: 0.05 });
  // Keep changing the tree while the snapshot walks it.
  let i = 0;
  const churn = setInterval(() => {
    for (let k = 0; k < 20; k++, i++) {
      switch (i % 4) {
        case 0: m.create(`/app/new${i}`, Buffer.from(`v${i}`)); break;
        case 1: m.delete(`/app/n${(i * 7) % 2000}`); break;
        case 2: m.setData(`/app/n${(i * 13) % 2000}`, `w${i}`, i); break;
        case 3: m.create(`/app/new${i - 3}/child`, null); break;
      }
    }
  }, 0);
  const r = await job.done;
  clearInterval(churn);
  assert.ok(i > 0, 'the tree changed during the snapshot');
  const back = new DataTree({ extendedTypes: false });
  const t = targetOf(back, new Map());
  t.reset();
  readSnapshotFile(r.file, t);
  // Nodes created after the snapshot's zxid are left to the replay (see SnapshotEncoder).
  const late = [...back.walk()].filter(([, n]) => n.czxid > snapZxid).map(([p]) => p);
  assert.deepEqual(late, [], 'nodes created after the snapshot\'s zxid are not in it');
  assert.ok([...tree.walk()].some(([, n]) => n.czxid > snapZxid), 'the live tree has such nodes');
  back.snapshotLoaded();
  back.finishRestore(snapZxid);
  for (const e of m.applied) if (e.hdr.zxid > snapZxid) t.apply({ hdr: e.hdr, txn: e.txn });
  assert.deepEqual(dumpTree(back), dumpTree(tree));
  fs.rmSync(dir, { recursive: true });
});

test('a snapshot lists each node\'s children in Apache\'s order, and reading it back rebuilds the sets as Apache would', () => {
  const dir = tempDir('snap');
  const tree = new DataTree({ extendedTypes: false });
  const m = new TxnMaker(tree);
  m.create('/co', null);
  const names = scrambledChildNames();
  for (const n of names) m.create(`/co/${n}`, null);
  for (const n of names.slice(0, 33)) m.delete(`/co/${n}`);
  m.create('/full', null);
  for (const n of names) m.create(`/full/${n}`, null);
  const live = tree.getNode('/co')!.childNames();
  assert.equal(tree.getNode('/co')!.childTable, 64);
  const r = writeSnapshotSync(sourceOf(tree, new Map()), dir, tree.lastProcessedZxid, 'none');

  const back = new DataTree({ extendedTypes: false });
  const t = targetOf(back, new Map());
  const order: string[] = [];
  t.reset();
  readSnapshotFile(r.file, { ...t, node: (p, n) => { order.push(p); t.node(p, n); } });
  back.snapshotLoaded();
  back.finishRestore(tree.lastProcessedZxid);
  // Parents first, each node's children in the order getChildren lists them (Apache's serializeNode walk).
  const kids = (parent: string) => order.filter((p) => p.startsWith(`${parent}/`) && p.lastIndexOf('/') === parent.length).map((p) => p.slice(parent.length + 1));
  assert.deepEqual(kids('/co'), live);
  assert.deepEqual(kids('/full'), tree.getNode('/full')!.childNames());
  assert.notDeepEqual(kids('/full'), names, 'not creation order');
  assert.deepEqual(order.slice(0, 2), ['', '/zookeeper']);
  // Rebuilt by adds in the file's order, as Apache's deserialize does: the
  // shrunk set gets a table for its 7 children (16), the full one the same order.
  assert.equal(back.getNode('/co')!.childTable, 16);
  assert.deepEqual(back.getNode('/co')!.childNames(), hashSetOrder(live, 16));
  assert.deepEqual(back.getNode('/full')!.childNames(), tree.getNode('/full')!.childNames());
  fs.rmSync(dir, { recursive: true });
});
