#!/usr/bin/env node
// The simulator's command line (after TigerBeetle's VOPR): run seeds, report
// failures with the command that replays them, and sum up what was injected.
//
//   node dist/src/testing/vopr.js --seed 42 [--steps 400] [--echo]   one seed (a replay)
//   node dist/src/testing/vopr.js --seeds 1000 [--from 7] [--steps 400] [--minutes 10]
//   npm run vopr -- --seeds 1000 --minutes 10
//
// --bug fsync-lies injects a bug (the txn log's fsync makes nothing durable)
// to show that the checks catch a lost acknowledged write.
// Exit status: 0 when every seed passed, 1 otherwise.

import { formatFailure, simulate, type SimBug, type SimStats } from './simulator.js';

interface Args {
  seed: number | null;
  seeds: number;
  from: number | null;
  steps: number;
  minutes: number;
  bug: SimBug | null;
  echo: boolean;
  stopAtFailure: boolean;
}

function usage(msg: string): never {
  process.stderr.write(`vopr: ${msg}\n` +
    'usage: vopr [--seed N | --seeds N [--from S]] [--steps M] [--minutes X] [--bug fsync-lies] [--echo] [--keep-going]\n');
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const a: Args = { seed: null, seeds: 1, from: null, steps: 400, minutes: 0, bug: null, echo: false, stopAtFailure: true };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isSafeInteger(v) || v < 0) usage(`${k} needs a non-negative integer`);
      return v;
    };
    switch (k) {
      case '--seed': a.seed = num(); break;
      case '--seeds': a.seeds = num(); break;
      case '--from': a.from = num(); break;
      case '--steps': a.steps = num(); break;
      case '--minutes': a.minutes = Number(argv[++i]); if (!(a.minutes > 0)) usage('--minutes needs a positive number'); break;
      case '--bug': {
        const b = argv[++i];
        if (b !== 'fsync-lies') usage(`unknown bug '${b}' (known: fsync-lies)`);
        a.bug = b;
        break;
      }
      case '--echo': a.echo = true; break;
      case '--keep-going': a.stopAtFailure = false; break;
      default: usage(`unknown argument '${k}'`);
    }
  }
  if (a.minutes > 0 && a.seed === null && !argv.includes('--seeds')) a.seeds = Number.MAX_SAFE_INTEGER;
  return a;
}

function add(total: Record<string, number>, s: SimStats): void {
  for (const [k, v] of Object.entries(s)) {
    if (typeof v === 'number') total[k] = (total[k] ?? 0) + v;
    else for (const [k2, v2] of Object.entries(v as Record<string, number>)) total[`fs.${k2}`] = (total[`fs.${k2}`] ?? 0) + v2;
  }
  total.maxZxid = Math.max(total.maxZxid ?? 0, s.maxZxid);
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  if (a.seed !== null) {
    const r = await simulate({ seed: a.seed, steps: a.steps, bug: a.bug, echo: a.echo ? (l) => process.stdout.write(`${l}\n`) : null });
    process.stdout.write(`seed ${r.seed}: ${r.ok ? 'ok' : 'FAILED'} (${r.profile})\n  trace ${r.traceHash}\n  ${JSON.stringify(r.stats)}\n`);
    if (r.failure !== null) process.stdout.write(`${formatFailure(r.failure)}\n`);
    process.exit(r.ok ? 0 : 1);
  }
  const from = a.from ?? Date.now() % 1_000_000_007;
  process.stdout.write(`vopr: seeds from ${from}, ${a.steps} steps each${a.minutes > 0 ? `, for ${a.minutes} minute(s)` : ''}` +
    `${a.bug !== null ? `, injected bug: ${a.bug}` : ''}\n`);
  const total: Record<string, number> = {};
  const failed: number[] = [];
  let run = 0;
  const deadline = a.minutes > 0 ? t0 + a.minutes * 60_000 : Infinity;
  for (let i = 0; i < a.seeds && Date.now() < deadline; i++) {
    const seed = from + i;
    const r = await simulate({ seed, steps: a.steps, bug: a.bug });
    run++;
    add(total, r.stats);
    if (!r.ok) {
      failed.push(seed);
      process.stdout.write(`${formatFailure(r.failure!)}\n`);
      if (a.stopAtFailure) break;
    }
    if (run % 50 === 0) process.stdout.write(`  ${run} seeds, ${failed.length} failed, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  }
  const s = (k: string): number => total[k] ?? 0;
  const faults = s('processCrashes') + s('machineCrashes') + s('crashesDuringRecovery') + s('fs.ioErrors') + s('fs.shortWrites') +
    s('fs.syncErrors') + s('fs.tornWrites');
  process.stdout.write([
    `seeds run: ${run} (from ${from}), failed: ${failed.length}${failed.length > 0 ? ` (${failed.join(', ')})` : ''}`,
    `steps: ${s('steps')}, events: ${s('events')}, requests: ${s('requests')}, replies: ${s('replies')}, ` +
      `commits: ${s('commits')}, watch events: ${s('watchEvents')}, highest zxid: 0x${s('maxZxid').toString(16)}`,
    `sessions created: ${s('sessionsCreated')}, expired: ${s('sessionsExpired')}`,
    `faults injected: ${faults} — process crashes ${s('processCrashes')}, machine crashes ${s('machineCrashes')}, ` +
      `crashes during recovery ${s('crashesDuringRecovery')}, torn writes ${s('fs.tornWrites')}, ` +
      `unsynced writes lost ${s('fs.pendingWritesLost')} (kept ${s('fs.pendingWritesKept')}), directory changes lost ${s('fs.dirChangesLost')}, ` +
      `I/O errors ${s('fs.ioErrors')} (in ${s('errorWindows')} windows; txn log failures ${s('logFailures')}), short writes ${s('fs.shortWrites')}, ` +
      `start-up I/O errors ${s('fs.syncErrors')}`,
    `recoveries checked: ${s('recoveries')}, clean restarts: ${s('cleanRestarts')}, snapshots started: ${s('snapshotsStarted')}, purges: ${s('purges')}`,
    `time: ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  ].join('\n') + '\n');
  process.exit(failed.length === 0 ? 0 : 1);
}

void main();
