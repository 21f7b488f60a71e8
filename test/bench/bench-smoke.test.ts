// No rot: every benchmark runs once at a tiny size in the normal test suite.
// The numbers mean nothing here; the test checks that each benchmark still
// runs end to end and produces sensible output (ops > 0, finite latencies,
// p50 <= p99 <= p99.9, a JSON file and an HTML report with SVG charts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runMicro } from '../../native-free-bench/micro.js';
import { runBench } from '../../native-free-bench/run.js';
import { defaults, parseOptions, UsageError, WORKLOADS, type BenchOptions } from '../../native-free-bench/options.js';
import { compareBaseline, type BenchResults, type CellResult } from '../../native-free-bench/results.js';
import { baselineLines } from '../../native-free-bench/report-text.js';
import { Histogram } from '../../native-free-bench/histogram.js';
import { javaDriverUnavailable } from '../../native-free-bench/java-driver.js';

const benchDir = fileURLToPath(new URL('../../native-free-bench/', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

test('the latency histogram answers percentiles within 1 % of the exact ones', () => {
  const h = new Histogram();
  const xs: number[] = [];
  let s = 7;
  for (let i = 0; i < 20_000; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const v = 0.01 + (s / 2147483648) ** 3 * 500;
    xs.push(v);
    h.record(v);
  }
  xs.sort((a, b) => a - b);
  for (const p of [0.5, 0.9, 0.99, 0.999]) {
    const exact = xs[Math.ceil(p * xs.length) - 1]!;
    assert.ok(Math.abs(h.percentile(p) - exact) <= exact * 0.01 + 0.0001, `p${p}: ${h.percentile(p)} vs ${exact}`);
  }
  const other = new Histogram();
  other.record(1000);
  h.merge(other.data());
  assert.equal(h.total, 20_001);
  assert.ok(Math.abs(h.percentile(1) - 1000) <= 10);
});

test('--baseline marks the cells that lost more than 30 % of an earlier run\'s ops/s or ops per CPU-second', () => {
  const cell = (server: string, depth: number, opsPerSec: number, opsPerServerCpuSecond: number): CellResult => ({
    workload: 'getData', valueSize: 100, depth, sessions: 8, perSession: depth / 8, server, samples: [],
    median: { opsPerSec, opsPerServerCpuSecond, p50: 1, p99: 2, p999: 3, rssMiB: 80, serverCpuSeconds: 1, clientCpuSeconds: 1, errors: 0 },
  });
  const then = [cell('zoonode-w0', 512, 650_000, 650_000), cell('zoonode-w0', 16, 100_000, 100_000), cell('apache', 512, 58_000, 38_000)];
  const now = [cell('zoonode-w0', 512, 160_000, 170_000), cell('zoonode-w0', 16, 90_000, 95_000), cell('apache', 512, 55_000, 36_000),
    cell('zoonode-w1', 512, 500_000, 500_000)];
  const rows = compareBaseline(now, then);
  assert.equal(rows.length, 3, 'only cells present in both runs');
  const at = (server: string, depth: number) => rows.find((r) => r.server === server && r.depth === depth)!;
  assert.equal(at('zoonode-w0', 512).slower, true, 'a quarter of the earlier ops/s is marked');
  assert.ok(Math.abs(at('zoonode-w0', 512).opsPerSec - 160 / 650) < 1e-9);
  assert.equal(at('zoonode-w0', 16).slower, false, '0.9 of the earlier run is within the noise');
  assert.equal(at('apache', 512).slower, false);
  const results = { baseline: { path: '/earlier/results.json', startedAt: '2026-11-22T07:55:00Z', rows } } as unknown as BenchResults;
  const lines = baselineLines(results);
  assert.match(lines[0]!, /3 cells in both runs, 1 slower/);
  assert.equal(lines.filter((l) => l.startsWith('SLOWER')).length, 1);
  assert.throws(() => parseOptions(['--baseline', path.join(os.tmpdir(), 'no-such-results.json')]), UsageError);
});

test('--storm-warmup takes a count of unmeasured storms, 0 included', () => {
  assert.equal(parseOptions([]).stormWarmup, 1);
  assert.equal(parseOptions(['--quick']).stormWarmup, 0);
  assert.equal(parseOptions(['--storm-warmup', '0']).stormWarmup, 0);
  assert.equal(parseOptions(['--storm-warmup', '3']).stormWarmup, 3);
  assert.throws(() => parseOptions(['--storm-warmup', 'two']), UsageError);
  assert.throws(() => parseOptions(['--storm-warmup', '-1']), UsageError);
});

test('micro-benchmarks run once at a tiny size', async () => {
  const results = await runMicro({ tiny: true });
  const names = results.map((r) => r.name).join('\n');
  for (const what of ['jute encode GetDataResponse', 'jute decode CreateRequest', 'ring transfer', 'DataTree createNode', 'DataTree getNode',
    'DataTree setData', 'watch trigger', 'txn log append + flush', 'snapshot encode']) {
    assert.match(names, new RegExp(what.replace(/[+]/g, '\\+')));
  }
  for (const r of results) assert.ok(Number.isFinite(r.opsPerSec) && r.opsPerSec > 0, `${r.name}: ${r.opsPerSec}`);
});

test('the load benchmark runs every workload once at a tiny size and writes results.json and report.html', { timeout: 120_000 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'zoonode-bench-smoke-'));
  try {
    const o: BenchOptions = {
      ...defaults(true), workers: ['0'], workloads: [...WORKLOADS], depths: [1, 16], valueSizes: [100], sizedWorkloads: [],
      warmupMs: 50, durationMs: 200, repeat: 1, serverWarmupMs: 0, clientThreads: 1, children: 50,
      watchers: [5], watchRounds: 3, watchWarmupRounds: 1, stormSessions: 20, stormWarmup: 1, out,
    };
    const r = await runBench(o);
    const json = JSON.parse(fs.readFileSync(r.json, 'utf8')) as BenchResults;
    assert.equal(json.cells.length, WORKLOADS.length * 2 - 1);
    for (const c of json.cells) {
      const what = `${c.workload} x${c.depth}: ${JSON.stringify(c.samples[0])}`;
      assert.ok(c.median !== null, what);
      const m = c.median!;
      assert.ok(m.opsPerSec > 0, what);
      for (const v of [m.p50, m.p99, m.p999]) assert.ok(Number.isFinite(v) && v >= 0, what);
      assert.ok(m.p50 <= m.p99 && m.p99 <= m.p999, what);
      assert.equal(m.errors, 0, what);
      assert.ok(m.rssMiB > 0, what);
    }
    // A storm opens every session, after a warm-up storm of its own size that it does not count.
    for (const c of json.cells.filter((x) => x.workload === 'connect')) {
      assert.equal(c.samples[0]!.ops, 20, `connect x${c.depth}`);
      assert.equal(c.samples[0]!.extra.warmupSessions, 20, `connect x${c.depth}`);
    }
    const html = fs.readFileSync(r.html, 'utf8');
    assert.match(html, /<svg[^>]*>/);
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'the report is self-contained');
    assert.match(fs.readFileSync(r.markdown, 'utf8'), /\| getData \|/);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('the Java client drives a pipelined cell, the watch fan-out and the connect storm at a tiny size', {
  timeout: 240_000, skip: javaDriverUnavailable() ?? false,
}, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'zoonode-bench-java-smoke-'));
  try {
    const o: BenchOptions = {
      ...defaults(true), client: 'java', workers: ['0'], workloads: ['getData', 'watch', 'connect'], depths: [4], valueSizes: [100],
      sizedWorkloads: [], warmupMs: 100, durationMs: 300, repeat: 1, serverWarmupMs: 0, clientThreads: 1,
      watchers: [6], watchRounds: 3, watchWarmupRounds: 1, stormSessions: 12, stormWarmup: 1, out,
    };
    const r = await runBench(o);
    const json = JSON.parse(fs.readFileSync(r.json, 'utf8')) as BenchResults;
    assert.deepEqual(json.cells.map((c) => c.workload), ['getData', 'watch', 'connect']);
    for (const c of json.cells) {
      const sample = c.samples[0]!;
      const what = `${c.workload} x${c.depth}: ${JSON.stringify(sample)}`;
      assert.equal(sample.error, undefined, what);
      assert.equal(sample.extra.client, 'java', what);
      assert.ok(sample.ops > 0 && sample.opsPerServerCpuSecond > 0, what);
      assert.ok(sample.p50 <= sample.p99 && sample.p99 <= sample.p999, what);
      assert.equal(sample.errors, 0, what);
    }
    // Every watcher is notified every measured round; the storm opens every session.
    assert.equal(json.cells[1]!.samples[0]!.ops, 6 * 3);
    assert.equal(json.cells[2]!.samples[0]!.ops, 12);
    assert.equal(json.cells[2]!.samples[0]!.extra.warmupSessions, 12, 'one unmeasured storm of the same size came first');
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('durability and watch-memory benchmarks run at a tiny size', { timeout: 120_000 }, () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'zoonode-durability-smoke-'));
  try {
    const d = spawnSync(process.execPath, [path.join(benchDir, 'durability.js'), '--nodes', '2000', '--parents', '10', '--skip-apache',
      '--load-ms', '300', '--out', out], { cwd: repoRoot, encoding: 'utf8', timeout: 90_000 });
    assert.equal(d.status, 0, d.stderr);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'durability.json'), 'utf8'));
    assert.ok(res.results.zoonode.restartToFirstReadMs > 0);
    const w = spawnSync(process.execPath, ['--expose-gc', path.join(benchDir, 'watch-memory.js')], { encoding: 'utf8', timeout: 90_000 });
    assert.equal(w.status, 0, w.stderr);
    assert.match(w.stdout, /bytes\/watch/);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('idle.js measures an idle server\'s CPU and wake-ups', { timeout: 60_000 }, () => {
  const r = spawnSync(process.execPath, [path.join(benchDir, 'idle.js'), '--no-apache', '--workers', '0', '--settle', '0.5', '--seconds', '1'],
    { cwd: repoRoot, encoding: 'utf8', timeout: 50_000 });
  assert.equal(r.status, 0, r.stderr);
  // server, CPU ms, % of a core, wake-ups/s: one row of three non-negative numbers.
  const row = r.stdout.split('\n').find((l) => l.startsWith('zoonode workers=0 '));
  assert.ok(row !== undefined, `no zoonode row in:\n${r.stdout}`);
  const nums = row.slice('zoonode workers=0'.length).trim().split(/\s+/).map(Number);
  assert.equal(nums.length, 3, row);
  for (const n of nums) assert.ok(Number.isFinite(n) && n >= 0, row);
});

test('churn.js samples a churned server\'s memory and finds nothing left behind', { timeout: 60_000 }, () => {
  const r = spawnSync(process.execPath, [path.join(benchDir, 'churn.js'), '--no-apache', '--workers', '0', '--minutes', '0.05', '--sessions', '10',
    '--sample-seconds', '0.5'], { cwd: repoRoot, encoding: 'utf8', timeout: 50_000 });
  assert.equal(r.status, 0, r.stderr);
  // rounds, sessions/s, RSS start, 1st quarter, last quarter, max, end, then watches/ephemerals/znodes/connections left behind.
  const row = r.stdout.split('\n').find((l) => l.startsWith('zoonode workers=0 '));
  assert.ok(row !== undefined, `no zoonode row in:\n${r.stdout}`);
  const [nums, left] = [row.slice('zoonode workers=0'.length).trim().split(/\s+/).slice(0, 7).map(Number), row.trim().split(/\s+/)[9]];
  assert.ok(nums[0]! > 0, `rounds: ${row}`);
  for (const n of nums.slice(2)) assert.ok(n > 10, `resident memory in MB: ${row}`);
  assert.equal(left, '0/0/0/0', `nothing left behind: ${row}`);
});

test('alloc.js reports what the server allocates per request and where', { timeout: 60_000 }, () => {
  const r = spawnSync(process.execPath, [path.join(benchDir, 'alloc.js'), '--workload', 'setData', '--seconds', '1', '--top', '5'],
    { cwd: repoRoot, encoding: 'utf8', timeout: 50_000 });
  assert.equal(r.status, 0, r.stderr);
  const reqs = /: (\d+) requests/.exec(r.stdout);
  assert.ok(reqs !== null && Number(reqs[1]) > 100, `no request count in:\n${r.stdout}`);
  const bytes = /allocated on the server's heap: (\d+) bytes per request/.exec(r.stdout);
  // A setData cannot be served without allocating (the new value, the txn); nor can it take megabytes.
  assert.ok(bytes !== null && Number(bytes[1]) > 100 && Number(bytes[1]) < 1_000_000, r.stdout);
  // The five sites, each naming the function that allocated.
  const sites = r.stdout.split('\n').filter((l) => /^\s+\d+\s+\S/.test(l));
  assert.equal(sites.length, 5, r.stdout);
});

test('alloc.js --workload connect reports what the server allocates per session opened', { timeout: 60_000 }, () => {
  const r = spawnSync(process.execPath, [path.join(benchDir, 'alloc.js'), '--workload', 'connect', '--sessions', '50', '--depth', '8', '--top', '3'],
    { cwd: repoRoot, encoding: 'utf8', timeout: 50_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /connect, 50 sessions, 8 handshakes in flight: 50 opened/);
  // Each handshake took some time, so its latency is a positive number.
  const p50 = /client p50 (\d+\.\d+) ms/.exec(r.stdout);
  assert.ok(p50 !== null && Number(p50[1]) > 0, r.stdout);
  const bytes = /allocated on the server's heap: (\d+) bytes per session opened/.exec(r.stdout);
  // A session needs at least its socket object and its connection state; a megabyte each would be a leak.
  assert.ok(bytes !== null && Number(bytes[1]) > 1000 && Number(bytes[1]) < 1_000_000, r.stdout);
  const sites = r.stdout.split('\n').filter((l) => /^\s+\d+\s+\S/.test(l));
  assert.equal(sites.length, 3, r.stdout);
});

test('floor.js compares zoonode with the Node floor servers (net.Socket and raw handles) at a tiny size', { timeout: 120_000 }, () => {
  const f = spawnSync(process.execPath, [path.join(benchDir, 'floor.js'), '--no-apache', '--repeat', '1', '--watchers', '20',
    '--rounds', '3', '--sessions', '40', '--seconds', '1', '--raw-floor'], { cwd: repoRoot, encoding: 'utf8', timeout: 100_000 });
  assert.equal(f.status, 0, f.stderr);
  // One row per server: watch µs/notification, connect µs/session, getData p50 and p99 (ms), all positive numbers.
  for (const name of ['zoonode', 'node-floor', 'raw-floor']) {
    const row = f.stdout.split('\n').find((l) => l.startsWith(`${name} `));
    assert.ok(row !== undefined, `no ${name} row in:\n${f.stdout}`);
    const nums = row.slice(name.length).trim().split(/\s+/).map(Number);
    assert.equal(nums.length, 4, row);
    for (const n of nums) assert.ok(Number.isFinite(n) && n > 0, row);
  }
});
