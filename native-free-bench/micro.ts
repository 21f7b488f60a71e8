// Micro-benchmarks of the server's hot parts, with tinybench:
//   Jute encode/decode of a GetDataResponse and a CreateRequest (src/jute),
//   SPSC ring transfer on one thread (src/ring), DataTree create/getNode/
//   setData (src/tree), watch trigger with 1000 watchers
//   (src/tree/watch-manager.ts), txn log append + flush of a batch
//   (src/persistence/txn-log.ts, forceSync=false, in a temporary directory),
//   snapshot encode of 100k nodes (src/persistence/snapshot-format.ts).
//
// npm run bench -- --micro  (or npm run bench:micro); --tiny runs every case
// once at a tiny size (what the test suite does).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import {
  Reader, Writer, OpCode, EventType, readReplyHeader, readGetDataResponse, writeReplyHeader, readRequestHeader, writeRequestHeader,
  readCreate, writeCreate, type CreateRequest, type TxnHeader, type Txn,
} from '../src/jute/index.js';
import { createRingBuffer, RingReader, RingWriter } from '../src/ring/spsc-ring.js';
import { DataTree } from '../src/tree/data-tree.js';
import { OPEN_ACL_UNSAFE } from '../src/tree/acl-cache.js';
import { writeNodeStat } from '../src/tree/znode.js';
import { WatchManager, MODE_PERSISTENT, MODE_STANDARD, type Watcher } from '../src/tree/watch-manager.js';
import { TxnLog } from '../src/persistence/txn-log.js';
import { SnapshotEncoder, type SnapshotSource } from '../src/persistence/snapshot-format.js';

const OPEN_ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

export interface MicroResult {
  name: string;
  /** Iterations per second (mean of tinybench's samples). */
  opsPerSec: number;
  /** Relative margin of error, percent. */
  rme: number;
  samples: number;
  /** Units of work in one iteration (records, watchers, txns, nodes), and their name. */
  unitsPerOp: number;
  unit: string;
}

export interface MicroOptions {
  tiny: boolean;
  log?: (line: string) => void;
}

interface Case {
  name: string;
  fn: () => unknown;
  unitsPerOp?: number;
  unit?: string;
  heavy?: boolean;
}

class NullWatcher implements Watcher {
  alive = true;
  fired = 0;
  process(): void { this.fired++; }
}

function juteCases(): Case[] {
  const tree = new DataTree({ extendedTypes: false });
  const data = 'a'.repeat(100);
  const node = tree.createNode('/n', data, OPEN_ACL, 0, 0, -1, 5, 1_700_000_000_000);
  const w = new Writer(4096);
  // The server's reply: ReplyHeader + GetDataResponse{data, stat}.
  const encodeGetData = () => {
    w.reset();
    writeReplyHeader(w, { xid: 7, zxid: 42, err: 0 });
    w.latin1Buffer(node.data);
    writeNodeStat(w, node, false);
    return w.pos;
  };
  encodeGetData();
  const reply = w.copy();
  const r = new Reader(reply);
  const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  const decodeGetData = () => {
    r.reset(reply, view, 0, reply.length);
    readReplyHeader(r);
    return readGetDataResponse(r);
  };
  const create: CreateRequest = { path: '/app/service-17/member-', data: Buffer.from(data, 'latin1'), acl: OPEN_ACL, flags: 2, ttl: -1 };
  const encodeCreate = () => {
    w.reset();
    writeRequestHeader(w, { xid: 9, type: OpCode.create });
    writeCreate(w, create, false);
    return w.pos;
  };
  encodeCreate();
  const req = w.copy();
  const rq = new Reader(req);
  const rqView = new DataView(req.buffer, req.byteOffset, req.byteLength);
  const decodeCreate = () => {
    rq.reset(req, rqView, 0, req.length);
    readRequestHeader(rq);
    return readCreate(rq, false);
  };
  return [
    { name: 'jute encode GetDataResponse (100 B)', fn: encodeGetData },
    { name: 'jute decode GetDataResponse (100 B)', fn: decodeGetData },
    { name: 'jute encode CreateRequest (100 B)', fn: encodeCreate },
    { name: 'jute decode CreateRequest (100 B)', fn: decodeCreate },
  ];
}

function ringCase(): Case {
  const BATCH = 64;
  const sab = createRingBuffer(1 << 20);
  const wr = new RingWriter(sab);
  const rd = new RingReader(sab);
  const record = Buffer.alloc(100, 0x62);
  let sum = 0;
  return {
    name: `ring transfer, ${BATCH} x 100 B records per batch`,
    unitsPerOp: BATCH,
    unit: 'records',
    fn: () => {
      for (let i = 0; i < BATCH; i++) {
        const at = wr.reserve(record.length);
        record.copy(wr.buf, at);
        wr.commit();
      }
      wr.publish();
      for (let p = rd.next(); p >= 0; p = rd.next()) {
        sum += rd.buf[p]!;
        rd.release();
      }
      rd.publish();
      return sum;
    },
  };
}

function treeCases(tiny: boolean): Case[] {
  const tree = new DataTree({ extendedTypes: false });
  const data = 'c'.repeat(100);
  const existing = tiny ? 100 : 10_000;
  tree.createNode('/b', null, OPEN_ACL, 0, 0, -1, 1, 0);
  tree.createNode('/c', null, OPEN_ACL, 0, 0, -1, 2, 0);
  for (let i = 0; i < existing; i++) tree.createNode(`/c/n${i}`, data, OPEN_ACL, 0, 0, -1, 3 + i, 0);
  const paths = Array.from({ length: existing }, (_, i) => `/c/n${i}`);
  let zxid = existing + 10;
  let next = 0;
  let k = 0;
  return [
    { name: 'DataTree createNode', fn: () => tree.createNode(`/b/n${next++}`, data, OPEN_ACL, 0, 0, -1, ++zxid, zxid) },
    { name: `DataTree getNode (${existing} nodes)`, fn: () => tree.getNode(paths[k++ % existing]!) },
    { name: 'DataTree setData', fn: () => tree.setData(paths[k++ % existing]!, data, 1, ++zxid, zxid) },
  ];
}

function watchCases(): Case[] {
  const N = 1000;
  const oneShot = new WatchManager();
  const persistent = new WatchManager();
  const watchers = Array.from({ length: N }, () => new NullWatcher());
  for (const w of watchers) persistent.add('/app/config', w, MODE_PERSISTENT);
  let zxid = 1;
  return [
    {
      name: `watch add + trigger, ${N} one-shot watchers`, unitsPerOp: N, unit: 'watchers notified',
      fn: () => {
        for (const w of watchers) oneShot.add('/app/config', w, MODE_STANDARD);
        return oneShot.trigger('/app/config', EventType.NodeDataChanged, ++zxid, OPEN_ACL_UNSAFE, null);
      },
    },
    {
      name: `watch trigger, ${N} persistent watchers`, unitsPerOp: N, unit: 'watchers notified',
      fn: () => persistent.trigger('/app/config', EventType.NodeDataChanged, ++zxid, OPEN_ACL_UNSAFE, null),
    },
  ];
}

async function txnLogCase(dir: string): Promise<{ c: Case; log: TxnLog }> {
  const BATCH = 100;
  fs.mkdirSync(dir, { recursive: true });
  const log = new TxnLog({ dir, preAllocBytes: 64 * 1024 * 1024, forceSync: false, fsyncWarningThresholdMs: 1000 });
  let zxid = 0;
  let waiting: { zxid: number; resolve: () => void } | null = null;
  log.onDurable = (z) => {
    if (waiting !== null && z >= waiting.zxid) { const w = waiting; waiting = null; w.resolve(); }
  };
  const data = 'd'.repeat(100);
  const txn: Txn = { type: OpCode.setData, path: '/app/config', data, version: 1 };
  return {
    log,
    c: {
      name: `txn log append + flush, ${BATCH} setData txns per batch (forceSync=false)`, unitsPerOp: BATCH, unit: 'txns',
      fn: () => {
        for (let i = 0; i < BATCH; i++) {
          const hdr: TxnHeader = { clientIdHi: 0, clientIdLo: 1, cxid: zxid, zxid: ++zxid, time: 1_700_000_000_000, type: OpCode.setData };
          log.append(hdr, txn);
        }
        return new Promise<void>((resolve) => {
          waiting = { zxid, resolve };
          log.flush();
        });
      },
    },
  };
}

function snapshotCase(nodes: number): Case {
  const tree = new DataTree({ extendedTypes: false });
  const data = 'e'.repeat(100);
  const parents = Math.max(1, Math.floor(nodes / 1000));
  let zxid = 1;
  for (let p = 0; p < parents; p++) tree.createNode(`/p${p}`, null, OPEN_ACL, 0, 0, -1, zxid++, 0);
  for (let i = 0; i < nodes; i++) tree.createNode(`/p${i % parents}/n${i}`, data, OPEN_ACL, 0, 0, -1, zxid++, 0);
  const source: SnapshotSource = {
    sessions: () => [],
    acls: () => tree.aclCache.entries(),
    root: () => tree.getNode('')!,
  };
  const w = new Writer(1 << 20);
  const total = tree.nodeCount;
  return {
    name: `snapshot encode, ${nodes.toLocaleString('en-US')} nodes of 100 B`, unitsPerOp: total, unit: 'nodes', heavy: true,
    fn: () => {
      const enc = new SnapshotEncoder(source);
      w.reset();
      enc.begin(w);
      enc.step(w, Number.MAX_SAFE_INTEGER);
      if (enc.nodesWritten !== total) throw new Error(`snapshot wrote ${enc.nodesWritten} of ${total} nodes`);
      return w.pos;
    },
  };
}

function fmt(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(1);
}

export async function runMicro(o: MicroOptions): Promise<MicroResult[]> {
  const log = o.log ?? (() => {});
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zoonode-micro-'));
  const results: MicroResult[] = [];
  try {
    const { c: txnCase, log: txnLog } = await txnLogCase(path.join(tmp, 'version-2'));
    const light = [...juteCases(), ringCase(), ...treeCases(o.tiny), ...watchCases(), txnCase];
    const heavy = [snapshotCase(o.tiny ? 2_000 : 100_000)];
    const opts = o.tiny
      ? { time: 5, iterations: 2, warmup: false }
      : { time: 500, warmupTime: 100 };
    const benches: [Bench, Case[]][] = [
      [new Bench({ name: 'zoonode micro', ...opts }), light],
      [new Bench({ name: 'zoonode micro (heavy)', ...(o.tiny ? opts : { time: 1500, iterations: 5, warmupIterations: 1 }) }), heavy],
    ];
    log(`${'case'.padEnd(66)} ${'ops/s'.padStart(10)} ${'±%'.padStart(6)} ${'samples'.padStart(8)}   per unit`);
    for (const [bench, cases] of benches) {
      for (const c of cases) bench.add(c.name, c.fn);
      await bench.run();
      for (const c of cases) {
        const t = bench.getTask(c.name)!;
        const res = t.result;
        if (res.state !== 'completed') {
          throw new Error(`micro-benchmark '${c.name}' did not complete: ${res.state === 'errored' ? String(res.error) : res.state}`);
        }
        const m: MicroResult = {
          name: c.name, opsPerSec: res.throughput.mean, rme: res.throughput.rme, samples: res.latency.samplesCount ?? 0,
          unitsPerOp: c.unitsPerOp ?? 1, unit: c.unit ?? 'ops',
        };
        results.push(m);
        const per = m.unitsPerOp > 1 ? `= ${fmt(m.opsPerSec * m.unitsPerOp)} ${m.unit}/s` : '';
        log(`${c.name.padEnd(66)} ${fmt(m.opsPerSec).padStart(10)} ${m.rme.toFixed(1).padStart(6)} ${String(m.samples).padStart(8)}   ${per}`);
      }
    }
    await txnLog.close();
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return results;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  runMicro({ tiny: process.argv.includes('--tiny'), log: (l) => process.stdout.write(l + '\n') })
    .catch((e) => { console.error(e); process.exit(1); });
}
