// Test support (not a test file) for the robustness tests: zoonode as a
// child process with a raised open-file limit, its resident memory, the
// four-letter words operators read, and a raw ZooKeeper handshake light
// enough to hold ten thousand of them in one process.

import fs from 'node:fs';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { killOnExit } from '../support/compat-wire.js';
import { zoonodeBin, waitForStart, stopChild, type ZoonodeChild } from '../support/zoonode-process.js';

export { waitForStart, stopChild, type ZoonodeChild };

/** The hard RLIMIT_NOFILE of this process (what a child may raise its soft limit to). */
export function nofileHardLimit(): number {
  const m = /Max open files\s+\d+\s+(\d+|unlimited)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  if (!m) return 1024;
  return m[1] === 'unlimited' ? 1 << 20 : Number(m[1]);
}

/** A command line run with its open-file limit raised to `nofile` (soft = hard), via util-linux prlimit, which execs it. */
export function withNofile(nofile: number, argv: string[]): [string, string[]] {
  return ['prlimit', [`--nofile=${nofile}:${nofile}`, '--', ...argv]];
}

/**
 * `node bin/zoonode.js` as zoonode-process.ts starts it (nothing listening
 * but the client port on 127.0.0.1), with the open-file limit raised.
 */
export function spawnZoonodeWithNofile(dataDir: string, args: string[], nofile: number): ZoonodeChild {
  const [cmd, argv] = withNofile(nofile, [
    process.execPath, zoonodeBin, '-c', '/dev/null', '--port', '0', '--data-dir', dataDir,
    'clientPortAddress=127.0.0.1', 'admin.enableServer=false', ...args,
  ]);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, output: () => out, exited };
}

/** Resident set size of a process, in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** Samples a process's RSS every intervalMs until stopped; reports the peak. */
export class RssSampler {
  peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number, intervalMs = 50) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): number {
    let rss = 0;
    try {
      rss = rssBytes(this.pid);
    } catch {
      return this.peak;
    }
    if (rss > this.peak) this.peak = rss;
    return rss;
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

/** Sends a four-letter word and resolves with the whole answer (rejects after ms). */
export function word(port: number, w: string, ms = 10000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let out = '';
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`${w}: no answer within ${ms} ms`)); }, ms);
    s.on('connect', () => s.write(w));
    s.on('data', (d) => { out += d; });
    s.on('error', (e) => { clearTimeout(timer); reject(e); });
    s.on('close', () => { clearTimeout(timer); resolve(out); });
  });
}

/**
 * Polls one numeric mntr key from a thread of its own and keeps the highest
 * value seen. A poller on the test's main thread is starved while that
 * thread builds and answers a pipelined load (on two cores it could miss the
 * whole load); this one keeps polling whatever the main thread is doing.
 */
export class MntrPoller {
  private readonly worker: Worker;
  private readonly result: Promise<{ max: number; polls: number }>;

  constructor(port: number, key: string, intervalMs = 20, maxPolls = 10_000) {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const net = require('node:net');
      const { port, key, intervalMs, maxPolls } = workerData;
      let stop = false;
      parentPort.on('message', () => { stop = true; });
      const mntr = () => new Promise((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port });
        let out = '';
        const timer = setTimeout(() => s.destroy(), 10000);
        s.on('connect', () => s.write('mntr'));
        s.on('data', (d) => { out += d; });
        s.on('error', () => {});
        s.on('close', () => { clearTimeout(timer); resolve(out); });
      });
      (async () => {
        let max = 0;
        let polls = 0;
        while (!stop && polls < maxPolls) {
          const out = await mntr();
          const line = out.split('\\n').find((l) => l.startsWith('zk_' + key + '\\t'));
          if (line !== undefined) { polls++; max = Math.max(max, Number(line.split('\\t')[1])); }
          await new Promise((r) => setTimeout(r, intervalMs));
        }
        parentPort.postMessage({ max, polls });
        parentPort.close();
      })();
    `;
    this.worker = new Worker(code, { eval: true, workerData: { port, key: key.replace(/^zk_/, ''), intervalMs, maxPolls } });
    this.result = new Promise((resolve, reject) => {
      this.worker.once('message', resolve);
      this.worker.once('error', reject);
    });
  }

  /** Stops polling; resolves with the highest value and the number of answers read. */
  async stop(): Promise<{ max: number; polls: number }> {
    this.worker.postMessage('stop');
    const r = await this.result;
    await this.worker.terminate();
    return r;
  }
}

/** mntr as a key → number map (non-numeric values are left out). */
export async function mntr(port: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await word(port, 'mntr')).split('\n')) {
    const [k, v] = line.split('\t');
    if (k !== undefined && v !== undefined && v !== '' && !Number.isNaN(Number(v))) out.set(k, Number(v));
  }
  return out;
}

/** mntr value by key; throws if the key is missing (a renamed metric must fail loudly). */
export function metric(m: Map<string, number>, key: string): number {
  const v = m.get(key);
  if (v === undefined) throw new Error(`mntr has no ${key}`);
  return v;
}

/**
 * The 45-byte ConnectRequest frame of a new session (with the readOnly byte,
 * as the Java client sends it): {protocolVersion 0, lastZxidSeen 0, timeOut,
 * sessionId 0, passwd 16 zero bytes, readOnly false}.
 */
export function newSessionFrame(timeoutMs: number): Buffer {
  const b = Buffer.alloc(4 + 45);
  b.writeInt32BE(45, 0);
  b.writeInt32BE(timeoutMs, 4 + 4 + 8);
  b.writeInt32BE(16, 4 + 4 + 8 + 4 + 8);
  return b;
}

/** Length of the ConnectResponse frame to a 45-byte request: {int, int timeOut, long, buffer(16), bool}. */
export const connectResponseBytes = 4 + 4 + 4 + 8 + 4 + 16 + 1;

/** p-quantile of a sample (sorted copy), 0 for none. */
export function quantileOf(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

/** Resolves when pred() holds, polling every stepMs; rejects after ms with `what`. */
export async function until(pred: () => boolean | Promise<boolean>, ms: number, what: string, stepMs = 50): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
