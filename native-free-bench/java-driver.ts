// Runs the Java async-API load generator (java/ZkAsyncLoad.java) against a
// server: compiled once with javac into a cache directory keyed by the
// source's hash, then run with Debian's ZooKeeper client jars.

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

/**
 * Runs one load with the Java client; resolves with its JSON result.
 * `onReady` is called when its sessions are connected and the load starts
 * (the measured window opens warmupMs later).
 */
export function runJavaLoad(opts: JavaLoadOptions, onReady: () => void = () => {}): Promise<JavaLoadResult> {
  const classes = compileJavaDriver();
  const args = [
    '-Xmx1g', '-XX:+UseParallelGC', '-Dzookeeper.sasl.client=false',
    '-cp', [...jars, classes].join(':'), 'ZkAsyncLoad',
    `${opts.host}:${opts.port}`, opts.workload, String(opts.sessions), String(opts.inflightPerSession),
    String(opts.valueSize), String(opts.warmupMs), String(opts.durationMs), opts.root ?? '/zkload-java',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let ready = false;
    child.stdout.on('data', (d) => {
      out += d;
      if (!ready && out.includes('{"ready":true}')) { ready = true; onReady(); }
    });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.warmupMs + opts.durationMs + 120_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').filter((l) => l.startsWith('{') && !l.includes('"ready"')).pop();
      if (code !== 0 || line === undefined) {
        reject(new Error(`Java driver exited with ${code}: ${err.slice(-2000)}`));
        return;
      }
      resolve(JSON.parse(line) as JavaLoadResult);
    });
  });
}
