// How close the runtime lets zoonode get to the issue-7 targets that are about
// per-socket work: runs Apache ZooKeeper, zoonode (workers=auto) and the Node
// floor (floor-server.ts: the same frames answered with nothing behind them)
// on this machine, alternating, and prints per server
//   watch    server CPU µs per notification (N watchers re-arming each round)
//   connect  server CPU µs per session opened (storm, 16 handshakes in flight)
//   getData  p50 / p99 ms at 1 session x 1 in flight, 100 B
// with each as a ratio to Apache. Medians of --repeat runs.
//
//   node dist/native-free-bench/floor.js [--repeat 3] [--watchers 1000] [--rounds 100]
//                                        [--sessions 2000] [--seconds 3] [--no-apache]
//                                        [--client native|java] [--raw-floor]
//
// --client java drives all three with the official Java client instead
// (java-driver.ts: its watch and storm steps, and its getData load at 1 x 1).
// --raw-floor adds a fourth server, floor-server-raw.ts: the same floor on
// Node's internal stream handles instead of net.Socket.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConnectRun, monoMs, runLoad, WatchRun } from './load.js';
import { positiveArg } from './args.js';
import {
  apacheInstalled, cpuSample, cpuSecondsBetween, killOnExit, startApacheProcess, startZoonodeProcess, type ServerProcess,
} from './servers.js';
import { ZkClient } from './zk-client.js';
import { javaDriverUnavailable, runJavaLoad, runJavaStepped, type JavaSteppedSpec } from './java-driver.js';

const HOST = '127.0.0.1';
const VALUE = Buffer.alloc(100, 0x61);

interface Opts { repeat: number; watchers: number; rounds: number; sessions: number; seconds: number; apache: boolean; java: boolean; raw: boolean }

function parse(argv: string[]): Opts {
  const o: Opts = { repeat: 3, watchers: 1000, rounds: 100, sessions: 2000, seconds: 3, apache: true, java: false, raw: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = (): number => positiveArg(a, argv[++i], true);
    switch (a) {
      case '--repeat': o.repeat = num(); break;
      case '--watchers': o.watchers = num(); break;
      case '--rounds': o.rounds = num(); break;
      case '--sessions': o.sessions = num(); break;
      case '--seconds': o.seconds = num(); break;
      case '--no-apache': o.apache = false; break;
      case '--raw-floor': o.raw = true; break;
      case '--client': {
        const c = argv[++i];
        if (c !== 'native' && c !== 'java') throw new Error(`--client: expected native or java, got '${c}'`);
        o.java = c === 'java';
        break;
      }
      default: throw new Error(`unknown option ${a}`);
    }
  }
  return o;
}

interface Target { name: string; port: number; pid: number; stop: () => Promise<void> }

async function startFloor(file = 'floor-server.js', name = 'node-floor'): Promise<Target> {
  const script = fileURLToPath(new URL(`./${file}`, import.meta.url));
  const child = spawn(process.execPath, [script, '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  killOnExit(child);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the floor server did not start in 10 s')), 10_000);
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /port (\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the floor server exited (${code})`)); });
  });
  return {
    name, port, pid: child.pid!,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) { resolve(); return; }
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

function fromProcess(name: string, p: ServerProcess): Target {
  return { name, port: p.port, pid: p.child.pid!, stop: () => p.stop() };
}

let seq = 0;

async function watchCpu(t: Target, o: Opts): Promise<number> {
  if (o.java) return javaWatchCpu(t, o);
  const admin = await ZkClient.connect(HOST, t.port, { timeoutMs: 30_000 });
  const node = `/floor-w${++seq}`;
  await admin.create(node, VALUE);
  const run = new WatchRun({ host: HOST, port: t.port, path: node, watchers: o.watchers });
  await run.open();
  try {
    let c0 = cpuSample(t.pid);
    let notified = 0;
    const warmup = Math.min(10, o.rounds);
    for (let r = 0; r < warmup + o.rounds; r++) {
      if (r === warmup) c0 = cpuSample(t.pid);
      await run.arm();
      const fired = run.fired(15_000);
      await admin.setData(node, VALUE);
      const f = await fired;
      if (r >= warmup) notified += f.notified;
    }
    const cpu = cpuSecondsBetween(c0, cpuSample(t.pid));
    if (notified === 0) throw new Error(`${t.name}: no notification arrived`);
    return (cpu / notified) * 1e6;
  } finally {
    await run.close();
    await admin.close();
  }
}

async function connectCpu(t: Target, o: Opts): Promise<number> {
  if (o.java) return javaConnectCpu(t, o);
  const run = new ConnectRun({ host: HOST, port: t.port, sessions: o.sessions, concurrency: 16, deadline: monoMs() + 120_000 });
  const c0 = cpuSample(t.pid);
  const r = await run.run(monoMs());
  const cpu = cpuSecondsBetween(c0, cpuSample(t.pid));
  await run.close();
  if (r.opened === 0) throw new Error(`${t.name}: no session opened`);
  return (cpu / r.opened) * 1e6;
}

// The Java client's steps: the server's CPU is sampled exactly around the measured part.
async function javaCpuPerOp(t: Target, spec: JavaSteppedSpec, what: string): Promise<number> {
  let perOp = NaN;
  await runJavaStepped<{ ops: number }>(spec, async (go) => {
    const c0 = cpuSample(t.pid);
    const r = await go();
    const cpu = cpuSecondsBetween(c0, cpuSample(t.pid));
    if (r.ops === 0) throw new Error(`${t.name}: no ${what}`);
    perOp = (cpu / r.ops) * 1e6;
  }, 600_000);
  return perOp;
}

function javaWatchCpu(t: Target, o: Opts): Promise<number> {
  return javaCpuPerOp(t, {
    kind: 'watch', host: HOST, port: t.port, watchers: o.watchers, rounds: o.rounds,
    warmupRounds: Math.min(10, o.rounds), valueSize: VALUE.length, root: `/floor-jw${++seq}`,
  }, 'notification arrived');
}

function javaConnectCpu(t: Target, o: Opts): Promise<number> {
  return javaCpuPerOp(t, { kind: 'storm', host: HOST, port: t.port, sessions: o.sessions, concurrency: 16, warmupStorms: 0 }, 'session opened');
}

async function readLatency(t: Target, o: Opts): Promise<{ p50: number; p99: number }> {
  const root = `/floor-r${++seq}`;
  const admin = await ZkClient.connect(HOST, t.port, { timeoutMs: 30_000 });
  await admin.create(root, null);
  await admin.create(`${root}/s0`, VALUE);
  await admin.close();
  const load = {
    host: HOST, port: t.port, sessions: 1, inflightPerSession: 1, workload: 'getData' as const, valueSize: VALUE.length,
    warmupMs: 500, durationMs: o.seconds * 1000, root,
  };
  const r = o.java ? await runJavaLoad(load) : await runLoad(load);
  if (r.errors > 0) throw new Error(`${t.name}: ${r.errors} getData errors`);
  return { p50: r.p50, p99: r.p99 };
}

interface Row { watch: number[]; connect: number[]; p50: number[]; p99: number[] }

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const noJava = o.java ? javaDriverUnavailable() : null;
  if (noJava !== null) throw new Error(`--client java: ${noJava}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zoonode-floor-'));
  const targets: Target[] = [];
  try {
    if (o.apache && apacheInstalled()) {
      targets.push(fromProcess('apache', await startApacheProcess(path.join(tmp, 'apache'), { maxClientCnxns: 0 })));
    } else if (o.apache) {
      process.stderr.write('Apache ZooKeeper is not installed (apt-get install zookeeper): no ratios\n');
    }
    // A bare zoo.cfg, as the benchmark uses (conf/zoo.cfg would also open the metrics endpoint).
    const cfg = path.join(tmp, 'zoonode.zoo.cfg');
    fs.writeFileSync(cfg, `tickTime=2000\ndataDir=${path.join(tmp, 'zoonode')}\nclientPort=0\n`);
    targets.push(fromProcess('zoonode', await startZoonodeProcess(path.join(tmp, 'zoonode'), { workers: 'auto' }, { config: cfg })));
    targets.push(await startFloor());
    if (o.raw) targets.push(await startFloor('floor-server-raw.js', 'raw-floor'));
    // One unmeasured pass: JIT warm-up for every server.
    const warm = { ...o, rounds: Math.min(o.rounds, 30), sessions: Math.min(o.sessions, 1000), seconds: 1 };
    for (const t of targets) {
      await watchCpu(t, warm);
      await connectCpu(t, warm);
      await readLatency(t, warm);
    }
    const rows = new Map<string, Row>(targets.map((t) => [t.name, { watch: [], connect: [], p50: [], p99: [] }]));
    for (let rep = 0; rep < o.repeat; rep++) {
      // Alternate the order each repetition.
      const order = rep % 2 === 0 ? targets : [...targets].reverse();
      for (const t of order) rows.get(t.name)!.watch.push(await watchCpu(t, o));
      for (const t of order) rows.get(t.name)!.connect.push(await connectCpu(t, o));
      for (const t of order) {
        const l = await readLatency(t, o);
        rows.get(t.name)!.p50.push(l.p50);
        rows.get(t.name)!.p99.push(l.p99);
      }
      process.stderr.write(`[${rep + 1}/${o.repeat}] done\n`);
    }
    const a = rows.get('apache');
    const ratio = (v: number, base: number | undefined): string => base === undefined ? '' : ` (${(v / base).toFixed(2)})`;
    process.stdout.write(`medians of ${o.repeat}, ${o.java ? 'the official Java client' : 'the benchmark\'s own client'}; in parentheses ÷ Apache\n`);
    process.stdout.write(`${'server'.padEnd(12)}${'watch µs/notification'.padEnd(26)}${'connect µs/session'.padEnd(24)}${'getData 1x1 p50 ms'.padEnd(22)}getData 1x1 p99 ms\n`);
    for (const t of targets) {
      const r = rows.get(t.name)!;
      const w = median(r.watch), c = median(r.connect), p50 = median(r.p50), p99 = median(r.p99);
      process.stdout.write(`${t.name.padEnd(12)}${`${w.toFixed(1)}${ratio(w, a && median(a.watch))}`.padEnd(26)}`
        + `${`${c.toFixed(0)}${ratio(c, a && median(a.connect))}`.padEnd(24)}`
        + `${`${p50.toFixed(3)}${ratio(p50, a && median(a.p50))}`.padEnd(22)}${p99.toFixed(3)}${ratio(p99, a && median(a.p99))}\n`);
    }
  } finally {
    for (const t of targets) await t.stop().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`floor: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
