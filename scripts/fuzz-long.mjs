#!/usr/bin/env node
// The long fuzz run: the generators and checks of test/robustness/fuzz.test.ts
// (test/support/fuzz-*.ts), pushed to a million frames or more against a
// spawned zoonode. Needs the build (npm run build). Usage:
//
//   node scripts/fuzz-long.mjs [--frames N] [--workers N[,N...]] [--seed N] [--lanes N] [--round-cases N]
//
//   --frames       frames to send per worker layout, warm-up excluded (default 1000000)
//   --workers      worker layouts to run, one after the other (default 0,2)
//   --seed         PRNG seed (default: ZOONODE_FUZZ_SEED, or a fresh one, printed)
//   --lanes        parallel fuzz connections (default 8)
//   --round-cases  cheap cases per round; each round adds one of each big case (default 2000)
//
// Prints progress every 10 rounds and, per layout, frames/s, connections
// opened and closed by the server, canary checks and failures, memory at the
// baseline and at the end (RSS, live heaps), then everything wrong. Exits 1
// if anything was wrong in any layout, 2 on bad arguments.

import { runFuzz, verdict, summary, describeMemory, mib } from '../dist/test/support/fuzz-run.js';
import { seedFrom } from '../dist/test/support/fuzz-frames.js';

function parse(argv) {
  const o = { frames: 1_000_000, workers: [0, 2], seed: null, lanes: 8, roundCases: 2000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    const num = () => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${a} needs a whole number, got ${v}`);
      i++;
      return n;
    };
    switch (a) {
      case '--frames': o.frames = num(); break;
      case '--seed': o.seed = num(); break;
      case '--lanes': o.lanes = Math.max(1, num()); break;
      case '--round-cases': o.roundCases = Math.max(1, num()); break;
      case '--workers':
        o.workers = String(v).split(',').map((x) => {
          const n = Number(x);
          if (!Number.isInteger(n) || n < 0) throw new Error(`--workers needs numbers like 0,2, got ${v}`);
          return n;
        });
        i++;
        break;
      case '-h': case '--help':
        console.log('node scripts/fuzz-long.mjs [--frames N] [--workers N[,N...]] [--seed N] [--lanes N] [--round-cases N]');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${a} (see --help)`);
    }
  }
  return o;
}

let opts;
try {
  opts = parse(process.argv.slice(2));
} catch (e) {
  console.error(`fuzz-long: ${e.message}`);
  process.exit(2);
}
const seed = opts.seed ?? seedFrom('ZOONODE_FUZZ_SEED').seed;
console.log(`fuzz-long: seed ${seed} (replay with --seed ${seed}), ${opts.frames} frames per layout, workers ${opts.workers.join(',')}, ` +
  `${opts.lanes} lanes, ${opts.roundCases} cheap cases per round`);

let failed = false;
for (const workers of opts.workers) {
  const t0 = Date.now();
  const r = await runFuzz({
    workers, seed, lanes: opts.lanes, roundCases: opts.roundCases, rounds: Infinity, framesTarget: opts.frames,
    restart: true, sampleEvery: 10,
    progress: (line) => console.log(`  ${new Date().toISOString().slice(11, 19)} ${line}`),
  });
  const s = r.stats;
  console.log(`\n${summary(r)}`);
  console.log(`  frames sent in the rounds: ${s.framesInRounds} (${s.frames} with the warm-up), ` +
    `${Math.round(s.framesInRounds / Math.max(r.fuzzMs / 1000, 0.001))} frames/s`);
  console.log(`  connections opened: ${s.connectionsOpened}; closed by the server: ${s.closedByServer}`);
  console.log(`  canary: ${r.canaryChecks} checks, ${r.canaryFailures.length} failures`);
  if (r.baseline !== null) console.log(`  memory at the baseline: ${describeMemory(r.baseline.memory)}`);
  for (const [i, m] of r.memoryByRound.entries()) console.log(`  memory after round ${(i + 1) * 10}: ${describeMemory(m)}`);
  if (r.final !== null) console.log(`  memory at the end:      ${describeMemory(r.final.memory)}`);
  if (r.baseline !== null && r.final !== null) {
    console.log(`  RSS before/after: ${mib(r.baseline.memory.rss)} / ${mib(r.final.memory.rss)}; ` +
      `counters before ${JSON.stringify(r.baseline.counters)} after ${JSON.stringify(r.final.counters)}`);
  }
  console.log(`  restart on the fuzzed data directory: ${r.restart === null ? 'not run' : r.restart.checks.length === 0 && r.restart.problems.length === 0 ? 'clean' : 'PROBLEMS'}`);
  // RSS climbs for a long while under a million hostile frames (to about 0.6-0.8 GiB over a
  // ~0.2-0.3 GiB baseline on the reference machine) while the live heaps stay flat: dead
  // ArrayBuffers V8 reclaims late, and pages glibc and V8 keep. The long run bounds it at +1 GiB.
  const problems = verdict(r, 1024 * 1024 * 1024);
  console.log(`  wall time ${((Date.now() - t0) / 1000).toFixed(0)} s; ${problems.length === 0 ? 'PASS' : `FAIL (${problems.length} problems):`}`);
  for (const p of problems.slice(0, 50)) console.log(`    - ${p}`);
  if (problems.length > 50) console.log(`    ... and ${problems.length - 50} more`);
  if (problems.length > 0) failed = true;
}
process.exit(failed ? 1 : 0);
