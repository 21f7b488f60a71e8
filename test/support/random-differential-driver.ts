// Driver (not a test file) for seeded random differential runs
// (random-differential.ts): for each seed, run the seed's sequence against
// one shared Apache ZooKeeper 3.8 (a fresh /r per seed) and a fresh zoonode
// (workers=0), and print the first difference with its context.
//
//   npx tsc -p . && node dist/test/support/random-differential-driver.js [options]
//     --from N --to M     seeds N..M (default 1..20)
//     --seeds 3,7,9       these seeds instead
//     --length L          requests per sequence (default: 200-400 from the seed)
//     --minimize          shrink each differing sequence to a short one that
//                         shows the same first difference, and print it
//     --workers W         zoonode worker threads (default 0)
//     --json FILE         also write every result as JSON
//     --avoid a,b         rewrite inputs on which zoonode differs on purpose
//                         (containerHeader, watchModes; the default, "known",
//                         is all of them; "none" keeps every input as generated)
//     --quotas            quota seeds (GenOptions.quotas: quota nodes among the requests)
//     --restarts          restart seeds (GenOptions.restarts: both servers restarted now
//                         and then; a fresh Apache per seed, random-restart.ts)
//     --reconnects        reconnect seeds (GenOptions.reconnects: a client reopens its
//                         session on a new connection and sets its watches again)
//     --quiet             print differing seeds only
//     --dump DIR          write both transcripts and the sequence of every differing seed as JSON
//     --replay FILE       run the sequence in FILE (a dumped seed-N-seq.json) instead of seeds

import fs from 'node:fs';
import { startZoonode, type TestServer } from './zoonode.js';
import { isApacheInstalled, startApache } from './apache.js';
import { killOnExit, type Target, type Transcript } from './compat-wire.js';
import {
  generate, runOn, removeTree, compare, contextOf, describeOp, serverSettings, apacheOnlySettings, DELIBERATE,
  type Avoid, type Difference, type Op, type Sequence,
} from './random-differential.js';
import { runWithRestarts } from './random-restart.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

const from = Number(arg('from') ?? 1);
const to = Number(arg('to') ?? 20);
const seeds = arg('seeds')?.split(',').map(Number) ?? Array.from({ length: to - from + 1 }, (_, i) => from + i);
const length = arg('length') === undefined ? undefined : Number(arg('length'));
const workers = Number(arg('workers') ?? 0);
const minimizeOn = flag('minimize');
const quiet = flag('quiet');
const quotas = flag('quotas');
const restarts = flag('restarts');
const reconnects = flag('reconnects');
const jsonFile = arg('json');
const dumpDir = arg('dump');
const replay = arg('replay');
const avoidArg = arg('avoid');
const avoid = (avoidArg === undefined || avoidArg === 'known' ? DELIBERATE.join(',') : avoidArg === 'none' ? '' : avoidArg)
  .split(',').filter((x) => x !== '') as Avoid[];

if (!isApacheInstalled()) {
  console.error('Apache ZooKeeper is not installed');
  process.exit(2);
}

const apache = await startApache({ ...serverSettings, ...apacheOnlySettings });
killOnExit(apache.process);
const apacheT: Target = { name: 'apache', host: apache.host, port: apache.port };
await removeTree(apacheT);

let zoonodeServer: TestServer | null = null;

/** Both transcripts of one sequence. */
async function runBoth(seq: Sequence): Promise<{ apache: Transcript; zoonode: Transcript }> {
  if (seq.ops.some((o) => o.k === 'restart')) return runWithRestarts(seq, workers);
  const z = await startZoonode({ workers, ...serverSettings });
  zoonodeServer = z;
  try {
    const zt: Target = { name: `zoonode(workers=${workers})`, host: z.host, port: z.port };
    const [a, b] = await Promise.all([runOn(apacheT, seq), runOn(zt, seq)]);
    return { apache: a, zoonode: b };
  } finally {
    await removeTree(apacheT);
    await z.stop();
    zoonodeServer = null;
  }
}

async function firstDiff(seq: Sequence): Promise<{ first: Difference | null; accepted: string[]; apache: Transcript; zoonode: Transcript }> {
  const t = await runBoth(seq);
  const { diffs, accepted } = compare(t.apache, t.zoonode);
  return { first: diffs[0] ?? null, accepted, ...t };
}

// ---- minimizing ------------------------------------------------------------------------

let tests = 0;

/** Smaller variants of one op (fewer sub-ops), smallest first. */
function shrinkOp(op: Op): Op[] {
  if (op.k === 'multi' || op.k === 'multiRead' || op.k === 'burst') {
    const out: Op[] = [];
    const subs = op.ops as unknown[];
    for (let i = 0; i < subs.length; i++) {
      out.push({ ...op, ops: subs.filter((_, j) => j !== i) } as Op);
    }
    if (op.k === 'burst' && op.ops.length === 1) out.unshift(op.ops[0]!);
    return out;
  }
  return [];
}

async function minimize(seq: Sequence, signature: string): Promise<Sequence> {
  const same = async (ops: Op[]): Promise<boolean> => {
    tests++;
    const r = await firstDiff({ ...seq, ops });
    return r.first !== null && r.first.signature === signature;
  };
  let ops = seq.ops;
  // Everything after the difference first.
  const r0 = await firstDiff(seq);
  if (r0.first !== null && r0.first.op < ops.length - 1 && await same(ops.slice(0, r0.first.op + 1))) {
    ops = ops.slice(0, r0.first.op + 1);
  }
  // ddmin over the ops (complements only), the first op (create /r) kept.
  let n = 2;
  while (ops.length > 2) {
    const body = ops.slice(1);
    const size = Math.ceil(body.length / n);
    let reduced = false;
    for (let i = 0; i < body.length; i += size) {
      const candidate = [ops[0]!, ...body.slice(0, i), ...body.slice(i + size)];
      if (await same(candidate)) {
        ops = candidate;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (size <= 1) break;
      n = Math.min(body.length, n * 2);
    }
  }
  // Then fewer sub-ops inside multis and bursts, and fewer connections.
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 0; i < ops.length; i++) {
      for (const smaller of shrinkOp(ops[i]!)) {
        const candidate = [...ops.slice(0, i), smaller, ...ops.slice(i + 1)];
        if (await same(candidate)) { ops = candidate; changed = true; break; }
      }
    }
  }
  let conns = seq.conns;
  while (conns > 1) {
    const used = Math.max(...ops.map((o) => o.c)) + 1;
    if (used >= conns) break;
    tests++;
    const r = await firstDiff({ ...seq, conns: used, ops });
    if (r.first !== null && r.first.signature === signature) conns = used;
    else break;
  }
  return { ...seq, conns, ops };
}

// ---- the loop --------------------------------------------------------------------------

const results: unknown[] = [];
const started = Date.now();
let differing = 0;
let stepsTotal = 0;
const acceptedSeen = new Map<string, number>();
process.on('SIGINT', () => { void zoonodeServer?.stop(); void apache.stop().then(() => process.exit(130)); });

try {
  for (const seed of replay === undefined ? seeds : [0]) {
    const seq: Sequence = replay === undefined ? generate(seed, { avoid, quotas, restarts, reconnects, ...(length === undefined ? {} : { length }) }) : JSON.parse(fs.readFileSync(replay, 'utf8'));
    const t0 = Date.now();
    const r = await firstDiff(seq);
    const ms = Date.now() - t0;
    stepsTotal += r.apache.steps.length;
    for (const a of r.accepted) {
      const k = a.replace(/^#\S+ /, '').replace(/ ".*?"/, '');
      acceptedSeen.set(k, (acceptedSeen.get(k) ?? 0) + 1);
    }
    if (r.first === null) {
      if (!quiet) console.log(`seed ${seed}: same (${seq.ops.length} ops, ${r.apache.steps.length} steps, ${r.accepted.length} accepted, ${ms} ms)`);
      results.push({ seed, same: true, ms });
      continue;
    }
    differing++;
    const d = r.first;
    console.log(`seed ${seed}: DIFFERENT at op #${d.op} (${d.where}) [${d.signature}]`);
    console.log(`  apache:  ${d.apache}`);
    console.log(`  zoonode: ${d.zoonode}`);
    const again = await firstDiff(seq);
    const reproduced = again.first !== null && again.first.signature === d.signature && again.first.op === d.op;
    console.log(`  run again: ${reproduced ? 'the same difference' : again.first === null ? 'NO difference (timing-dependent)' : `another difference: ${again.first.where} [${again.first.signature}]`}`);
    console.log('  ops before it:');
    console.log(contextOf(seq, d).map((l) => `    ${l}`).join('\n'));
    const entry: Record<string, unknown> = { seed, same: false, ms, first: d, reproduced };
    if (dumpDir !== undefined) {
      fs.mkdirSync(dumpDir, { recursive: true });
      const big = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
      fs.writeFileSync(`${dumpDir}/seed-${seed}-apache.json`, JSON.stringify(r.apache, big, 1));
      fs.writeFileSync(`${dumpDir}/seed-${seed}-zoonode.json`, JSON.stringify(r.zoonode, big, 1));
      fs.writeFileSync(`${dumpDir}/seed-${seed}-seq.json`, JSON.stringify(seq));
      fs.writeFileSync(`${dumpDir}/seed-${seed}-ops.txt`, seq.ops.map((o, i) => `#${i} ${describeOp(o)}`).join('\n') + '\n');
    }
    if (minimizeOn) {
      tests = 0;
      const tm = Date.now();
      const small = await minimize(seq, d.signature);
      const again = await firstDiff(small);
      console.log(`  minimized to ${small.ops.length} ops, ${small.conns} connections (${tests} runs, ${Date.now() - tm} ms):`);
      small.ops.forEach((o, i) => console.log(`    #${i} ${describeOp(o)}`));
      if (again.first !== null) {
        console.log(`  its difference: ${again.first.where} [${again.first.signature}]`);
        console.log(`    apache:  ${again.first.apache}`);
        console.log(`    zoonode: ${again.first.zoonode}`);
      }
      console.log('  apache steps:');
      for (const s of again.apache.steps) console.log(`    ${JSON.stringify(s)}`);
      console.log('  zoonode steps:');
      for (const s of again.zoonode.steps) console.log(`    ${JSON.stringify(s)}`);
      console.log(`  apache arrivals:  ${JSON.stringify(again.apache.arrivals)}`);
      console.log(`  zoonode arrivals: ${JSON.stringify(again.zoonode.arrivals)}`);
      console.log(`  apache notes:  ${JSON.stringify(again.apache.notes)}`);
      console.log(`  zoonode notes: ${JSON.stringify(again.zoonode.notes)}`);
      entry.minimized = { conns: small.conns, ops: small.ops, describe: small.ops.map(describeOp), first: again.first };
    }
    results.push(entry);
  }
} finally {
  await apache.stop();
}
const secs = ((Date.now() - started) / 1000).toFixed(1);
console.log(`\n${replay === undefined ? seeds.length : 1} seeds, ${differing} different, ${stepsTotal} Apache steps, ${secs} s`);
for (const [k, n] of acceptedSeen) console.log(`  set aside ${n}x: ${k}`);
if (jsonFile !== undefined) fs.writeFileSync(jsonFile, JSON.stringify(results, null, 1));
