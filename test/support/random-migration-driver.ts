// Driver (not a test file) for seeded random migration checks
// (random-migration.ts): for each seed and direction, run the seed's
// sequence on one server, then compare the tree the same server and the
// other one serve from its data directory.
//
//   npx tsc -p . && node dist/test/support/random-migration-driver.js [options]
//     --from N --to M       seeds N..M (default 1..10)
//     --seeds 3,7,9         these seeds instead
//     --origin apache|zoonode|both   who writes the files (default both)
//     --quotas              quota seeds (GenOptions.quotas)
//     --workers W           zoonode worker threads (default 0)
//     --snap-count N        both servers' snapCount (default 30)

import { isApacheInstalled } from './apache.js';
import { generate } from './random-differential.js';
import { checkMigration, type Origin } from './random-migration.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

const from = Number(arg('from') ?? 1);
const to = Number(arg('to') ?? 10);
const seeds = arg('seeds')?.split(',').map(Number) ?? Array.from({ length: to - from + 1 }, (_, i) => from + i);
const originArg = arg('origin') ?? 'both';
const origins: Origin[] = originArg === 'both' ? ['apache', 'zoonode'] : [originArg as Origin];
const quotas = process.argv.includes('--quotas');
const workers = Number(arg('workers') ?? 0);
const snapCount = Number(arg('snap-count') ?? 30);

if (!isApacheInstalled()) {
  console.error('Apache ZooKeeper is not installed');
  process.exit(2);
}

let differing = 0;
const started = Date.now();
for (const seed of seeds) {
  for (const origin of origins) {
    const t0 = Date.now();
    const r = await checkMigration(generate(seed, { quotas }), origin, { workers, snapCount });
    const aborted = r.notes.aborted === undefined ? '' : ` (aborted: ${String(r.notes.aborted)})`;
    const what = `seed ${seed}, written by ${origin}: ${r.ops} requests, ${r.files.snapshots} snapshots, ${r.files.logs} logs, ${r.nodes} nodes, ${r.sessions.reopened} of ${r.sessions.open} open sessions reopened${aborted}`;
    if (r.diffs.length === 0) {
      console.log(`${what}: same (${Date.now() - t0} ms)`);
    } else {
      differing++;
      console.log(`${what}: DIFFERENT\n  ${r.diffs.join('\n  ')}`);
    }
  }
}
console.log(`\n${seeds.length * origins.length} runs, ${differing} different, ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(0);
