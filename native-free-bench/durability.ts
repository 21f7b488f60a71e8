// Durability figures, zoonode and Apache ZooKeeper 3.8 side by side in one run:
//   - disk footprint of a dataDir holding N znodes x V bytes under P parents
//     (allocated blocks, and apparent size with preallocation);
//   - restart-to-first-read: from process start to the first successful
//     getData of a known node;
//   - resident memory after populating, and after the restart (zoonode's
//     once its start-up snapshot is written, Apache's at its first read);
//   - zoonode only: getData latency while its start-up snapshot of the whole
//     tree runs, against steady state after it.
//
// node dist/native-free-bench/durability.js [--nodes 1000000] [--parents 500]
//   [--value 100] [--skip-apache] [--out DIR]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ZkClient } from './zk-client.js';
import { populate, runLoad, percentile } from './load.js';
import { apacheInstalled, diskUsage, procStat, startApacheProcess, startZoonodeProcess, type ServerProcess } from './servers.js';

interface Args { nodes: number; parents: number; value: number; skipApache: boolean; out: string; loadMs: number }

function parse(argv: string[]): Args {
  const get = (n: string) => { const i = argv.indexOf(`--${n}`); return i >= 0 ? argv[i + 1] : undefined; };
  return {
    nodes: Number(get('nodes') ?? 1_000_000),
    parents: Number(get('parents') ?? 500),
    value: Number(get('value') ?? 100),
    skipApache: argv.includes('--skip-apache'),
    out: get('out') ?? path.join('bench-results', `durability-${new Date().toISOString().replace(/[:.]/g, '-')}`),
    loadMs: Number(get('load-ms') ?? 20000),
  };
}

async function restartToFirstRead(start: () => Promise<ServerProcess>): Promise<{ proc: ServerProcess; ms: number }> {
  const t0 = performance.now();
  const proc = await start();
  for (let i = 0; i < 100_000; i++) {
    try {
      const c = await ZkClient.connect('127.0.0.1', proc.port, { timeoutMs: 30000, connectTimeoutMs: 2000 });
      try {
        const d = await c.getData('/bench-p0/n0');
        if (d.data !== null) {
          const ms = performance.now() - t0;
          await c.close();
          return { proc, ms };
        }
      } finally {
        c.destroy();
      }
    } catch {
      // not serving yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('no first read');
}

const log = (m: string) => process.stderr.write(`[durability] ${m}\n`);

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  fs.mkdirSync(args.out, { recursive: true });
  const kinds: ('zoonode' | 'apache')[] = ['zoonode'];
  if (!args.skipApache) {
    if (apacheInstalled()) kinds.push('apache');
    else log('Apache ZooKeeper is not installed (apt-get install zookeeper): measuring zoonode only');
  }
  const results: Record<string, unknown> = {};
  for (const kind of kinds) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `zoonode-durability-${kind}-`));
    const dataDir = path.join(dir, 'data');
    fs.mkdirSync(dataDir);
    const start = () => kind === 'zoonode' ? startZoonodeProcess(dataDir) : startApacheProcess(dataDir);
    log(`${kind}: populating ${args.nodes} znodes x ${args.value} B under ${args.parents} parents`);
    let proc = await start();
    const pop = await populate({ host: '127.0.0.1', port: proc.port, parents: args.parents, nodes: args.nodes, valueSize: args.value,
      progress: (n) => log(`${kind}: ${n} created`) });
    const rssLoaded = procStat(proc.child.pid!).rssBytes;
    await proc.stop();
    const disk = diskUsage(dataDir);
    log(`${kind}: populated in ${(pop.ms / 1000).toFixed(1)} s; dataDir ${(disk.allocated / 1048576).toFixed(1)} MiB allocated`);
    const restart = await restartToFirstRead(start);
    proc = restart.proc;
    log(`${kind}: restart-to-first-read ${restart.ms.toFixed(0)} ms`);
    const entry: Record<string, unknown> = {
      populateSeconds: pop.ms / 1000, rssAfterPopulateMiB: rssLoaded / 1048576,
      diskAllocatedMiB: disk.allocated / 1048576, diskApparentMiB: disk.apparent / 1048576,
      restartToFirstReadMs: restart.ms,
    };
    if (kind === 'zoonode') {
      // The restart replayed the log tail, so a snapshot of the whole tree runs now. Read under it.
      const load = await runLoad({ host: '127.0.0.1', port: proc.port, sessions: 4, inflightPerSession: 4, workload: 'getData',
        valueSize: args.value, warmupMs: 0, durationMs: args.loadMs, root: '', pathOf: (i) => `/bench-p${i}/n${i}`, timeline: true });
      const out = proc.output();
      const began = /(\S+) INFO .*taking snapshot/.exec(out);
      const wrote = /(\S+) INFO .*wrote (\S+snapshot\S*): (\d+) nodes, (\d+) bytes in (\d+) ms/.exec(out);
      if (began && wrote && load.at && load.latency) {
        const t0 = Date.parse(began[1]!);
        const t1 = Date.parse(wrote[1]!);
        const during: number[] = [];
        const steady: number[] = [];
        for (let i = 0; i < load.at.length; i++) {
          const at = load.at[i]!;
          if (at >= t0 && at <= t1) during.push(load.latency[i]!);
          else if (at > t1 + 500) steady.push(load.latency[i]!);
        }
        const pct = (xs: number[], p: number) => percentile(Float64Array.from(xs).sort(), p);
        entry.snapshot = {
          nodes: Number(wrote[3]), bytes: Number(wrote[4]), ms: Number(wrote[5]),
          duringSamples: during.length, steadySamples: steady.length,
          duringP50: pct(during, 0.5), duringP99: pct(during, 0.99), duringP999: pct(during, 0.999),
          steadyP50: pct(steady, 0.5), steadyP99: pct(steady, 0.99), steadyP999: pct(steady, 0.999),
        };
        log(`zoonode: snapshot of ${wrote[3]} nodes took ${wrote[5]} ms; getData p99.9 during ${pct(during, 0.999).toFixed(3)} ms ` +
          `(${during.length} samples), steady ${pct(steady, 0.999).toFixed(3)} ms (${steady.length} samples)`);
      } else {
        log('zoonode: no start-up snapshot seen in the log (nothing replayed?)');
      }
    }
    // Every node now came from the snapshot and the log, as on a server that has
    // been restarted once; zoonode's start-up snapshot is written by this time.
    const rssRestarted = procStat(proc.child.pid!).rssBytes;
    entry.rssAfterRestartMiB = rssRestarted / 1048576;
    log(`${kind}: RSS ${(rssLoaded / 1048576).toFixed(0)} MiB after populating, ${(rssRestarted / 1048576).toFixed(0)} MiB after the restart`);
    await proc.stop();
    results[kind] = entry;
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const file = path.join(args.out, 'durability.json');
  fs.writeFileSync(file, JSON.stringify({ args, machine: { cpus: os.cpus().length, node: process.version }, results }, null, 2));
  process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(`results: ${path.resolve(file)}\n`);
}

main().catch((e) => { console.error(e); process.exit(1); });
