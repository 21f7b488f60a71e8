#!/usr/bin/env node
// The crash loop: the SIGKILL-under-load scenario of
// test/integration/crash.test.ts (test/support/crash-scenario.ts) for many
// trials. Each trial loads zoonode (a child process) with pipelined creates
// and setData, SIGKILLs it at a random moment, restarts it on the same data
// directory and checks every acknowledged write. Starts alternate between
// workers=0 and workers=2; every --per-dir trials a fresh data directory
// keeps the check of all known nodes short.
//
//   npm run crash-loop                      100 trials
//   npm run crash-loop -- --trials 300 --seed 42
//
// Prints trials, kills, acknowledged writes (and how many were checked after
// restarts), losses (must be 0) and the time; exits 1 on any failure, with
// the seed that replays it (ZOONODE_CRASH_SEED for one run of the test file,
// --seed here). Needs a build (npm run build).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newCrashTrialsStats, runCrashTrials } from '../dist/test/support/crash-scenario.js';

function parse(argv) {
  const a = { trials: 100, perDir: 10, seed: Date.now() % 1_000_000_007 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = Number(argv[++i]);
    if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${k} needs a positive integer`);
    if (k === '--trials') a.trials = v;
    else if (k === '--per-dir') a.perDir = v;
    else if (k === '--seed') a.seed = v;
    else throw new Error(`unknown argument ${k} (use --trials N, --per-dir N, --seed N)`);
  }
  return a;
}

const args = parse(process.argv.slice(2));
const t0 = Date.now();
const total = newCrashTrialsStats();
let trialsDone = 0;
let failure = null;
process.stdout.write(`crash loop: ${args.trials} trials, seed ${args.seed}, ${args.perDir} trials per data directory, workers 0 and 2 alternately\n`);
for (let round = 0; trialsDone < args.trials && failure === null; round++) {
  const trials = Math.min(args.perDir, args.trials - trialsDone);
  const seed = args.seed + round;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zoonode-crash-loop-'));
  const stats = newCrashTrialsStats();
  try {
    await runCrashTrials({
      workers: (trial) => (trial % 2 === 0 ? 0 : 2), trials, seed, replay: `crash-loop --seed ${args.seed}, round ${round}`, dataDir,
    }, stats);
  } catch (e) {
    failure = e;
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  trialsDone += stats.kills;
  for (const k of ['kills', 'restarts', 'acks', 'acknowledgedChecked', 'lost', 'tornTails']) total[k] += stats[k];
  process.stdout.write(`  round ${round} (seed ${seed}): ${stats.kills} kills, ${stats.acks} acknowledged writes, ` +
    `${stats.acknowledgedChecked} checked after restarts, ${stats.lost} lost, ${stats.tornTails} torn tails truncated; ` +
    `${trialsDone}/${args.trials} trials, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  if (failure !== null) process.stdout.write(`FAILED in round ${round}:\n${failure.stack ?? failure}\n`);
}
process.stdout.write([
  `trials: ${trialsDone}, kills: ${total.kills}, restarts checked: ${total.restarts}`,
  `acknowledged writes: ${total.acks}, acknowledged nodes checked after restarts: ${total.acknowledgedChecked}`,
  `losses: ${total.lost}${failure !== null ? ' (and a failure, above)' : ''}`,
  `torn tails truncated at restart: ${total.tornTails}`,
  `time: ${((Date.now() - t0) / 1000).toFixed(0)} s`,
].join('\n') + '\n');
process.exit(failure === null && total.lost === 0 ? 0 : 1);
