// Recovery: snapshot + log replay, falling back past a damaged snapshot,
// refusing a gap in the logs, truncating a torn tail, and Apache's
// snapshot.trust.empty rule.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DataTree } from '../../src/tree/data-tree.js';
import { OpCode } from '../../src/jute/opcodes.js';
import type { Txn, TxnHeader } from '../../src/jute/txn.js';
import { TxnLog, recover, RecoveryError, writeSnapshotSync, scanLogFile } from '../../src/persistence/index.js';
import { tempDir } from '../support/zoonode.js';
import { sourceOf, targetOf, dumpTree } from '../support/tree-snapshot.js';

const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const hdr = (zxid: number, type: number): TxnHeader => ({ clientIdHi: 1, clientIdLo: 2, cxid: zxid, zxid, time: 1e12 + zxid, type });
const create = (zxid: number): [TxnHeader, Txn] => [hdr(zxid, OpCode.create),
  { type: OpCode.create, path: `/n${zxid}`, data: `d${zxid}`, acl, ephemeral: false, parentCVersion: -1 }];

/** Writes txns [from, to] into log files, rolling at each zxid in `rollAt`. */
async function writeTxns(dir: string, from: number, to: number, rollAt: number[] = []): Promise<void> {
  const log = new TxnLog({ dir, preAllocBytes: 65536, forceSync: false, fsyncWarningThresholdMs: 1000 });
  const done = new Promise<void>((r) => { log.onDurable = (z) => { if (z >= to) r(); }; });
  for (let z = from; z <= to; z++) {
    if (rollAt.includes(z)) log.roll();
    log.append(...create(z));
  }
  log.flush();
  await done;
  await log.close();
}

function liveTree(upTo: number): DataTree {
  const t = new DataTree({ extendedTypes: false });
  for (let z = 1; z <= upTo; z++) t.processTxn(...create(z));
  return t;
}

function recoverInto(dir: string, trustEmptySnapshot = false) {
  const tree = new DataTree({ extendedTypes: false });
  const report = recover({ snapDir: dir, logDir: dir, trustEmptySnapshot }, targetOf(tree, new Map()));
  tree.finishRestore(report.lastZxid);
  return { tree, report };
}

test('snapshot plus the logs after it, across rolled files, gives the whole tree', async () => {
  const dir = tempDir('rec');
  writeSnapshotSync(sourceOf(new DataTree({ extendedTypes: false }), new Map()), dir, 0, 'none');
  await writeTxns(dir, 1, 30, [11, 21]);
  writeSnapshotSync(sourceOf(liveTree(15), new Map()), dir, 15, 'none');
  const { tree, report } = recoverInto(dir);
  assert.equal(report.snapshotZxid, 15);
  assert.equal(report.txnsReplayed, 15);
  assert.equal(report.lastZxid, 30);
  assert.deepEqual(dumpTree(tree), dumpTree(liveTree(30)));
  fs.rmSync(dir, { recursive: true });
});

test('a damaged newest snapshot is skipped for an older one and the logs cover the rest', async () => {
  const dir = tempDir('rec');
  writeSnapshotSync(sourceOf(new DataTree({ extendedTypes: false }), new Map()), dir, 0, 'none');
  await writeTxns(dir, 1, 20);
  const r = writeSnapshotSync(sourceOf(liveTree(12), new Map()), dir, 12, 'none');
  const b = fs.readFileSync(r.file);
  b[40] ^= 0xff;
  fs.writeFileSync(r.file, b);
  const { tree, report } = recoverInto(dir);
  assert.equal(report.snapshotZxid, 0);
  assert.equal(report.lastZxid, 20);
  assert.deepEqual(dumpTree(tree), dumpTree(liveTree(20)));
  fs.rmSync(dir, { recursive: true });
});

test('a missing log stops recovery and names what is missing', async () => {
  const dir = tempDir('rec');
  writeSnapshotSync(sourceOf(new DataTree({ extendedTypes: false }), new Map()), dir, 0, 'none');
  await writeTxns(dir, 1, 30, [11, 21]);
  fs.rmSync(path.join(dir, 'log.b'));
  assert.throws(() => recoverInto(dir), (e: unknown) => {
    assert.ok(e instanceof RecoveryError);
    assert.match(e.message, /txns 0xb to 0x14 are missing: .*log\.1 ends at 0xa and .*log\.15 continues at 0x15/);
    return true;
  });
  fs.rmSync(dir, { recursive: true });
});

test('a torn tail is truncated away and the txns before it survive', async () => {
  const dir = tempDir('rec');
  writeSnapshotSync(sourceOf(new DataTree({ extendedTypes: false }), new Map()), dir, 0, 'none');
  await writeTxns(dir, 1, 10);
  const file = path.join(dir, 'log.1');
  const scan = scanLogFile(file);
  const cutAt = scan.entries[9]!.offset + 25;
  const bytes = fs.readFileSync(file);
  bytes.fill(0, cutAt);
  fs.writeFileSync(file, bytes);
  const { tree, report } = recoverInto(dir);
  assert.equal(report.lastZxid, 9);
  assert.equal(report.tornTails.length, 1);
  assert.equal(report.tornTails[0]!.offset, scan.entries[9]!.offset);
  assert.equal(fs.statSync(file).size, scan.entries[9]!.offset, 'the file is cut at the last valid txn');
  assert.deepEqual(dumpTree(tree), dumpTree(liveTree(9)));
  fs.rmSync(dir, { recursive: true });
});

test('logs without any snapshot are refused unless snapshot.trust.empty is set', async () => {
  const dir = tempDir('rec');
  await writeTxns(dir, 1, 5);
  assert.throws(() => recoverInto(dir), /no snapshot found, but .*log\.1 holds txns\. Something is broken!/);
  const { tree, report } = recoverInto(dir, true);
  assert.equal(report.lastZxid, 5);
  assert.deepEqual(dumpTree(tree), dumpTree(liveTree(5)));
  fs.rmSync(dir, { recursive: true });
});

test('an empty data directory recovers to the empty tree', () => {
  const dir = tempDir('rec');
  const { tree, report } = recoverInto(dir);
  assert.equal(report.snapshotFile, null);
  assert.equal(report.lastZxid, 0);
  assert.equal(tree.nodeCount, 4);
  fs.rmSync(dir, { recursive: true });
});

test('a log file left with only its header (crash before its first durable txn) is removed, freeing its name', async () => {
  const dir = tempDir('rec');
  writeSnapshotSync(sourceOf(new DataTree({ extendedTypes: false }), new Map()), dir, 0, 'none');
  await writeTxns(dir, 1, 5);
  const empty = path.join(dir, 'log.6');
  const header = Buffer.alloc(64 * 1024);
  header.writeInt32BE(0x5a4b4c47, 0);
  header.writeInt32BE(2, 4);
  fs.writeFileSync(empty, header);
  const { report } = recoverInto(dir);
  assert.equal(report.lastZxid, 5);
  assert.deepEqual(report.emptyLogsRemoved, [empty]);
  assert.equal(fs.existsSync(empty), false);
  fs.rmSync(dir, { recursive: true });
});
