// Server processes for benchmarks: zoonode (node bin/zoonode.js) and Apache
// ZooKeeper 3.8 (the Debian package's jar on OpenJDK), each a child process on
// 127.0.0.1 with a data directory of the caller's choosing, so CPU time and
// RSS can be read from /proc/<pid>.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const apacheJar = '/usr/share/java/zookeeper.jar';

export function apacheInstalled(): boolean {
  return fs.existsSync(apacheJar) && fs.existsSync('/usr/bin/java');
}

export interface ServerProcess {
  kind: 'zoonode' | 'apache';
  child: ChildProcess;
  port: number;
  dataDir: string;
  /** Everything the process printed. */
  output(): string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port: 0 }, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 15000);
    await exited;
    clearTimeout(t);
  };
}

export function killOnExit(child: ChildProcess): void {
  const kill = () => { if (child.exitCode === null) child.kill('SIGKILL'); };
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
}

/**
 * zoonode as a child process. By default it reads conf/zoo.cfg (as `npm start`
 * does) with the given settings on top; `opts.config` names another zoo.cfg
 * instead (the benchmark writes a bare one, without the metrics endpoint), and
 * `opts.nodeArgs` go to node before the script (e.g. --cpu-prof).
 */
export async function startZoonodeProcess(dataDir: string, settings: Record<string, string | number> = {},
  opts: { config?: string; nodeArgs?: string[] } = {}): Promise<ServerProcess> {
  const bin = fileURLToPath(new URL('../../bin/zoonode.js', import.meta.url));
  const args = [...(opts.nodeArgs ?? []), bin, ...(opts.config !== undefined ? ['-c', opts.config] : []),
    '--port', '0', '--data-dir', dataDir, 'clientPortAddress=127.0.0.1', 'maxClientCnxns=0', 'admin.enableServer=false',
    ...Object.entries(settings).map(([k, v]) => `${k}=${v}`)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { clearInterval(poll); reject(new Error(`zoonode did not start in 600 s:\n${out.slice(-4000)}`)); }, 600_000);
    const poll = setInterval(() => {
      const m = /listening for clients on [\d.]+:(\d+)/.exec(out);
      if (m) { clearTimeout(timer); clearInterval(poll); resolve(Number(m[1])); }
      if (child.exitCode !== null) { clearTimeout(timer); clearInterval(poll); reject(new Error(`zoonode exited:\n${out.slice(-4000)}`)); }
    }, 5);
  });
  return { kind: 'zoonode', child, port, dataDir, output: () => out, stop: stopper(child) };
}

/**
 * A zoonode server's snapshots, from its log: wall-clock ms from each
 * "taking snapshot" line to the "wrote ...snapshot" line after it. A
 * snapshot still being written when the log ends has `end` Infinity.
 */
export function zoonodeSnapshotWindows(out: string): { start: number; end: number }[] {
  const wins: { start: number; end: number }[] = [];
  let start = -1;
  for (const line of out.split('\n')) {
    const m = /^(\S+) INFO .*\b(taking snapshot|wrote \S*snapshot)/.exec(line);
    if (!m) continue;
    const t = Date.parse(m[1]!);
    if (m[2] === 'taking snapshot') start = t;
    else if (start >= 0) { wins.push({ start, end: t }); start = -1; }
  }
  if (start >= 0) wins.push({ start, end: Infinity });
  return wins;
}

/**
 * Apache ZooKeeper standalone. `heapMb` is the JVM's -Xmx (Debian's zkEnv.sh
 * leaves it to the JVM default). Resolves once it accepts sessions (srvr
 * reports its mode), unless `waitServing` is false.
 */
export async function startApacheProcess(dataDir: string, settings: Record<string, string | number> = {},
  opts: { heapMb?: number; waitServing?: boolean; adminServer?: boolean; jvmArgs?: string[] } = {}): Promise<ServerProcess & { adminPort: number | null }> {
  const port = await freePort();
  fs.mkdirSync(dataDir, { recursive: true });
  const adminPort = opts.adminServer ? await freePort() : null;
  const cfg: Record<string, string | number> = {
    tickTime: 2000, dataDir, clientPort: port, clientPortAddress: '127.0.0.1', 'admin.enableServer': 'false',
    '4lw.commands.whitelist': '*', maxClientCnxns: 0, ...settings,
    ...(adminPort !== null ? { 'admin.enableServer': 'true', 'admin.serverAddress': '127.0.0.1', 'admin.serverPort': adminPort } : {}),
  };
  const cfgFile = path.join(path.dirname(dataDir), `${path.basename(dataDir)}.zoo.cfg`);
  fs.writeFileSync(cfgFile, Object.entries(cfg).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const jvm = [...(opts.heapMb !== undefined ? [`-Xmx${opts.heapMb}m`] : []), ...(opts.jvmArgs ?? [])];
  // Debian's jar leaves the servlet API off its classpath, which the AdminServer (Jetty) needs.
  const cp = `/etc/zookeeper/conf:${apacheJar}${adminPort !== null ? ':/usr/share/java/servlet-api.jar' : ''}`;
  const child = spawn('/usr/bin/java', [...jvm, '-cp', cp,
    'org.apache.zookeeper.server.ZooKeeperServerMain', cfgFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const proc = { kind: 'apache' as const, child, port, dataDir, output: () => out, stop: stopper(child), adminPort };
  if (opts.waitServing === false) return proc;
  await waitServing(port, child, 600_000);
  if (adminPort !== null) {
    for (let i = 0; i < 200; i++) {
      if ((await fetch(`http://127.0.0.1:${adminPort}/commands/ruok`).then((r) => r.ok, () => false))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return proc;
}

export async function waitServing(port: number, child: ChildProcess, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error('server exited before serving');
    if ((await fourLetter(port, 'srvr').catch(() => '')).includes('Mode:')) return;
    if (Date.now() > deadline) throw new Error(`server did not serve within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function fourLetter(port: number, word: string, ms = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let out = '';
    const timer = setTimeout(() => { s.destroy(); reject(new Error('no answer')); }, ms);
    s.on('connect', () => s.write(word));
    s.on('data', (d) => { out += d; });
    s.on('error', (e) => { clearTimeout(timer); reject(e); });
    s.on('close', () => { clearTimeout(timer); resolve(out); });
  });
}

export interface ProcStat { cpuSeconds: number; rssBytes: number }

export function procStat(pid: number): ProcStat {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100, rssBytes: Number(fields[21]) * 4096 };
}

/** Bytes a directory tree occupies on disk (allocated blocks, so sparse preallocation counts as written). */
export function diskUsage(dir: string): { allocated: number; apparent: number } {
  let allocated = 0;
  let apparent = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const st = fs.statSync(p);
        allocated += st.blocks * 512;
        apparent += st.size;
      }
    }
  };
  walk(dir);
  return { allocated, apparent };
}

/**
 * CPU time of a process with nanosecond resolution: per-thread run time from
 * /proc/<pid>/task/<tid>/schedstat, with the tick-based total of
 * /proc/<pid>/stat (10 ms steps, but it includes threads that have exited).
 */
export interface CpuSample { ticksSeconds: number; threads: Map<string, number> }

/** /proc/<pid>/task/<tid>/<file> of every thread of a process, by tid; threads that exit meanwhile are left out. */
function threadFiles(pid: number, file: string): Map<string, string> {
  const texts = new Map<string, string>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      texts.set(tid, fs.readFileSync(`/proc/${pid}/task/${tid}/${file}`, 'utf8'));
    } catch {
      // the thread exited meanwhile
    }
  }
  return texts;
}

export function cpuSample(pid: number): CpuSample {
  const threads = new Map<string, number>();
  try {
    for (const [tid, text] of threadFiles(pid, 'schedstat')) threads.set(tid, Number(text.split(' ')[0]) / 1e9);
  } catch {
    // no /proc/<pid>/task: ticks only
  }
  return { ticksSeconds: procStat(pid).cpuSeconds, threads };
}

/**
 * CPU-seconds between two samples: the sum over threads alive at both ends
 * when it agrees with the tick-based delta within its resolution (two fields
 * of 10 ms each), otherwise the tick-based delta (threads came and went).
 */
export function cpuSecondsBetween(a: CpuSample, b: CpuSample): number {
  const ticks = b.ticksSeconds - a.ticksSeconds;
  let precise = 0;
  for (const [tid, t] of b.threads) {
    const t0 = a.threads.get(tid);
    if (t0 !== undefined) precise += t - t0;
  }
  return a.threads.size > 0 && Math.abs(precise - ticks) <= 0.021 ? precise : ticks;
}

/** Voluntary context switches over all threads of a process: each is a sleep that ended. */
export function wakeUps(pid: number): number {
  let n = 0;
  for (const text of threadFiles(pid, 'status').values()) {
    const m = /^voluntary_ctxt_switches:\s+(\d+)$/m.exec(text);
    if (m) n += Number(m[1]);
  }
  return n;
}
