// Runs the Java async-API load generator (java/ZkAsyncLoad.java) against a
// server: compiled once with javac into a cache directory keyed by the
// source's hash, then run with Debian's ZooKeeper client jars. Pipelined
// loads run on their own (runJavaLoad); the watch fan-out and the connect
// storm are stepped over stdin (runJavaStepped) so the caller samples the
// server exactly around the measured part.

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const sourceFile = fileURLToPath(new URL('../../native-free-bench/java/ZkAsyncLoad.java', import.meta.url));
const jars = ['zookeeper.jar', 'zookeeper-jute.jar', 'slf4j-api.jar'].map((j) => path.join('/usr/share/java', j));

export interface JavaLoadOptions {
  host: string;
  port: number;
  workload: 'getData' | 'exists' | 'mixed' | 'setData' | 'create';
  sessions: number;
  inflightPerSession: number;
  valueSize: number;
  warmupMs: number;
  durationMs: number;
  root?: string;
}

export interface JavaLoadResult {
  ops: number;
  opsPerSec: number;
  p50: number;
  p99: number;
  p999: number;
  errors: number;
}

/** Why the Java driver cannot run here, or null. */
export function javaDriverUnavailable(): string | null {
  for (const f of ['/usr/bin/java', '/usr/bin/javac']) if (!fs.existsSync(f)) return `${f} is missing (Debian package default-jdk-headless)`;
  const missing = jars.filter((j) => !fs.existsSync(j));
  if (missing.length > 0) return `missing ${missing.join(', ')} (Debian package libzookeeper-java)`;
  if (!fs.existsSync(sourceFile)) return `${sourceFile} is missing`;
  return null;
}

/** Compiles the driver if needed; returns the class directory. */
export function compileJavaDriver(): string {
  const src = fs.readFileSync(sourceFile);
  const hash = crypto.createHash('sha256').update(src).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), `zoonode-java-driver-${hash}`);
  if (fs.existsSync(path.join(dir, 'ZkAsyncLoad.class'))) return dir;
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync('/usr/bin/javac', ['-nowarn', '-cp', jars.join(':'), '-d', dir, sourceFile], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`javac failed: ${r.stderr || r.error?.message}`);
  return dir;
}

const JVM_ARGS = ['-Xmx1g', '-XX:+UseParallelGC', '-Dzookeeper.sasl.client=false'];

/** A running driver: its JSON lines as they come, and its exit. */
class JavaProcess {
  private readonly child;
  private out = '';
  private err = '';
  private readonly waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  readonly exited: Promise<number | null>;

  constructor(args: string[], timeoutMs: number) {
    const classes = compileJavaDriver();
    this.child = spawn('/usr/bin/java', [...JVM_ARGS, '-cp', [...jars, classes].join(':'), 'ZkAsyncLoad', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d: Buffer) => {
      this.out += d;
      let nl: number;
      while ((nl = this.out.indexOf('\n')) >= 0) {
        const line = this.out.slice(0, nl).trim();
        this.out = this.out.slice(nl + 1);
        const i = this.waiters.findIndex((w) => w.test(line));
        if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(line);
      }
    });
    this.child.stderr.on('data', (d: Buffer) => { this.err = (this.err + d).slice(-4000); });
    this.child.stdin.on('error', () => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => { clearTimeout(timer); resolve(code); }));
  }

  /** The next stdout line that passes `test`; rejects if the driver exits first. */
  line(test: (line: string) => boolean): Promise<string> {
    return Promise.race([
      new Promise<string>((resolve) => this.waiters.push({ test, resolve })),
      this.exited.then((code) => { throw new Error(`Java driver exited with ${code}: ${this.err.slice(-2000)}`); }),
    ]);
  }

  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

const isReady = (l: string) => l === '{"ready":true}';
const isResult = (l: string) => l.startsWith('{') && !isReady(l);

/**
 * Runs one load with the Java client; resolves with its JSON result.
 * `onReady` is called when its sessions are connected and the load starts
 * (the measured window opens warmupMs later).
 */
export async function runJavaLoad(opts: JavaLoadOptions, onReady: () => void = () => {}): Promise<JavaLoadResult> {
  const p = new JavaProcess([
    `${opts.host}:${opts.port}`, opts.workload, String(opts.sessions), String(opts.inflightPerSession),
    String(opts.valueSize), String(opts.warmupMs), String(opts.durationMs), opts.root ?? '/zkload-java',
  ], opts.warmupMs + opts.durationMs + 120_000);
  try {
    await p.line(isReady);
    onReady();
    const result = JSON.parse(await p.line(isResult)) as JavaLoadResult;
    const code = await p.exited;
    if (code !== 0) throw new Error(`Java driver exited with ${code}`);
    return result;
  } finally {
    p.kill();
  }
}

export type JavaSteppedSpec =
  | { kind: 'watch'; host: string; port: number; watchers: number; rounds: number; warmupRounds: number; valueSize: number; root: string }
  | { kind: 'storm'; host: string; port: number; sessions: number; concurrency: number; warmupStorms: number };

export interface JavaWatchResult { ops: number; rounds: number; missed: number; sumLastMs: number; firstP50: number; p50: number; p99: number; p999: number }
export interface JavaStormResult { ops: number; failed: number; spanMs: number; p50: number; p99: number; p999: number; warmupOps: number }

/**
 * Runs a watch fan-out or a connect storm with the Java client: `around`
 * is called once the driver is set up and gets `go()`, which starts the
 * measured part and resolves with its result; the driver's sessions are
 * closed after `around` returns.
 */
export async function runJavaStepped<R>(spec: JavaSteppedSpec, around: (go: () => Promise<R>) => Promise<void>, timeoutMs: number): Promise<void> {
  const target = `${spec.host}:${spec.port}`;
  const args = spec.kind === 'watch'
    ? [target, 'watch', String(spec.watchers), String(spec.rounds), String(spec.warmupRounds), String(spec.valueSize), spec.root]
    : [target, 'storm', String(spec.sessions), String(spec.concurrency), String(spec.warmupStorms)];
  const p = new JavaProcess(args, timeoutMs);
  try {
    await p.line(isReady);
    await around(async () => {
      p.send('go');
      return JSON.parse(await p.line(isResult)) as R;
    });
    p.send('close');
    await p.exited;
  } finally {
    p.kill();
  }
}
