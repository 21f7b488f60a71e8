// Test support (not a test file): a zoonode child process for fuzz runs
// (fuzz-server-main.js under --expose-gc, on 127.0.0.1, port 0). Its log is
// read line by line and not kept whole, so a run of millions of malformed
// frames (each one logged) does not fill this process's memory: the first
// lines (start-up), the last ones, counts by level and every line that
// signals trouble (see logProblems) are kept.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { killOnExit } from './compat-wire.js';
import type { ZoonodeChild } from './zoonode-process.js';

const mainJs = fileURLToPath(new URL('./fuzz-server-main.js', import.meta.url));

const headMax = 64 * 1024;
const tailLinesMax = 200;
const problemsMax = 200;

/** A log line of the server's own format at a level that is not ERROR. */
const quietLine = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO |WARN ) \[/;

export interface MemorySample {
  /** Whether the main thread's heap figures were taken after forced full collections. */
  collected: boolean;
  /** The whole process. */
  rss: number;
  /** The main thread (the whole server with workers=0): live bytes from a heap snapshot, backing stores included. */
  mainLiveBytes: number;
  /** The main thread, process.memoryUsage() after full collections (dead ArrayBuffers may still count; see fuzz-server-main.ts). */
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** The server's other threads (sequencer, I/O workers): live heap bytes from a heap snapshot. */
  threads: { thread: string; liveBytes: number }[];
}

export interface FuzzServer extends ZoonodeChild {
  pid: number;
  /** Log lines that mean trouble: ERROR lines and anything not in the log format (a stack trace, a Node warning). */
  problems(): string[];
  /** Log lines by level. */
  levels(): Record<string, number>;
  /** Memory of the server process after forced GC (see fuzz-server-main.ts). */
  memory(ms?: number): Promise<MemorySample>;
}

/** Starts the server; `args` are zoonode arguments (key=value ...). */
export function spawnFuzzServer(dataDir: string, args: string[]): FuzzServer {
  const child = spawn(process.execPath, [
    '--expose-gc', mainJs, '-c', '/dev/null', '--port', '0', '--data-dir', dataDir,
    'clientPortAddress=127.0.0.1', 'admin.enableServer=false', ...args,
  ], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  killOnExit(child);
  let head = '';
  const tail: string[] = [];
  const problems: string[] = [];
  const levels: Record<string, number> = {};
  const partial = { out: '', err: '' };
  const onLine = (line: string): void => {
    if (line === '') return;
    if (head.length < headMax) head += line + '\n';
    tail.push(line);
    if (tail.length > tailLinesMax) tail.shift();
    const level = /^\S+ (DEBUG|INFO|WARN|ERROR) /.exec(line)?.[1] ?? 'other';
    levels[level] = (levels[level] ?? 0) + 1;
    if (!quietLine.test(line) && problems.length < problemsMax) problems.push(line);
  };
  const feed = (key: 'out' | 'err') => (d: Buffer): void => {
    const text = partial[key] + d.toString('utf8');
    const lines = text.split('\n');
    partial[key] = lines.pop()!;
    for (const l of lines) onLine(l);
  };
  child.stdout!.on('data', feed('out'));
  child.stderr!.on('data', feed('err'));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      onLine(partial.out);
      onLine(partial.err);
      resolve({ code, signal });
    });
  });
  const output = (): string => {
    const tailText = tail.join('\n');
    return head.length < headMax && head.endsWith(tailText + '\n') ? head : `${head}...\n${tailText}\n`;
  };
  return {
    child,
    pid: child.pid!,
    output,
    exited,
    problems: () => [...problems],
    levels: () => ({ ...levels }),
    memory: (ms = 30000) => new Promise<MemorySample>((resolve, reject) => {
      const timer = setTimeout(() => { child.off('message', on); reject(new Error(`no memory sample within ${ms} ms`)); }, ms);
      const on = (m: unknown): void => {
        clearTimeout(timer);
        child.off('message', on);
        resolve(m as MemorySample);
      };
      child.on('message', on);
      child.send('memory');
    }),
  };
}
