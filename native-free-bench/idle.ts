// What a server costs while nobody uses it: starts Apache ZooKeeper and
// zoonode (each workers= given), lets each settle, then measures over the
// same window the CPU time of all its threads and how often they woke up
// (voluntary context switches: each is a sleep that ended). On a virtual
// machine an idle CPU's wake-up is expensive, so the count matters as much
// as the CPU time it shows.
//
//   node dist/native-free-bench/idle.js [--settle 30] [--seconds 30] [--workers 0,1] [--no-apache]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  apacheInstalled, cpuSample, cpuSecondsBetween, startApacheProcess, startZoonodeProcess, wakeUps, type ServerProcess,
} from './servers.js';
import { positiveArg } from './args.js';

interface Opts { settle: number; seconds: number; workers: string[]; apache: boolean }

function parse(argv: string[]): Opts {
  const o: Opts = { settle: 30, seconds: 30, workers: ['0', '1'], apache: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = (): number => positiveArg(a, argv[++i]);
    switch (a) {
      case '--settle': o.settle = num(); break;
      case '--seconds': o.seconds = num(); break;
      case '--workers': o.workers = (argv[++i] ?? '').split(',').filter((w) => w !== ''); break;
      case '--no-apache': o.apache = false; break;
      default: throw new Error(`unknown option ${a}`);
    }
  }
  return o;
}

const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'zoonode-idle-'));
  const servers: { name: string; proc: ServerProcess }[] = [];
  try {
    if (o.apache && apacheInstalled()) servers.push({ name: 'apache', proc: await startApacheProcess(path.join(root, 'apache')) });
    for (const w of o.workers) {
      servers.push({ name: `zoonode workers=${w}`, proc: await startZoonodeProcess(path.join(root, `zoonode-w${w}`), { workers: w }) });
    }
    await sleep(o.settle);
    // All measured over the same window: they are idle, so they do not disturb one another.
    const before = servers.map((s) => ({ cpu: cpuSample(s.proc.child.pid!), woke: wakeUps(s.proc.child.pid!) }));
    await sleep(o.seconds);
    process.stdout.write(`idle for ${o.seconds} s after ${o.settle} s of settling, no clients\n`);
    process.stdout.write(`${'server'.padEnd(20)}${'CPU ms'.padStart(8)}${'% of a core'.padStart(13)}${'wake-ups/s'.padStart(12)}\n`);
    servers.forEach((s, i) => {
      const pid = s.proc.child.pid!;
      const ms = cpuSecondsBetween(before[i]!.cpu, cpuSample(pid)) * 1000;
      const woke = (wakeUps(pid) - before[i]!.woke) / o.seconds;
      process.stdout.write(`${s.name.padEnd(20)}${ms.toFixed(0).padStart(8)}${(ms / o.seconds / 10).toFixed(3).padStart(13)}${woke.toFixed(1).padStart(12)}\n`);
    });
  } finally {
    for (const s of servers) await s.proc.stop().catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
