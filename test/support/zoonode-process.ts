// Test support (not a test file): zoonode as a child process, as an operator
// runs it (bin/zoonode.js), for tests that must SIGKILL it or watch it fail
// to start. Binds 127.0.0.1 only; the child is killed if the test process exits.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { killOnExit } from './compat-wire.js';

export const zoonodeBin = fileURLToPath(new URL('../../../bin/zoonode.js', import.meta.url));

export interface ZoonodeChild {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal) once the process has exited and its output is all read. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export type StartResult =
  | { kind: 'listening'; port: number }
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null };

/**
 * `node bin/zoonode.js -c /dev/null --port 0 --data-dir DIR clientPortAddress=127.0.0.1
 * admin.enableServer=false ...args`: no zoo.cfg from the working directory (the
 * repository's conf/zoo.cfg asks for fixed AdminServer and metrics ports), and
 * nothing listening but the client port on 127.0.0.1.
 */
export function spawnZoonode(dataDir: string, args: string[] = []): ZoonodeChild {
  const child = spawn(process.execPath, [
    zoonodeBin, '-c', '/dev/null', '--port', '0', '--data-dir', dataDir,
    'clientPortAddress=127.0.0.1', 'admin.enableServer=false', ...args,
  ], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, output: () => out, exited };
}

/** Waits for the "listening for clients" line, or for the process to exit, for at most ms. */
export function waitForStart(z: ZoonodeChild, ms = 15000): Promise<StartResult> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (r: StartResult | Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      z.child.stdout!.off('data', check);
      z.child.stderr!.off('data', check);
      if (r instanceof Error) reject(r);
      else resolve(r);
    };
    const check = (): void => {
      const m = /listening for clients on 127\.0\.0\.1:(\d+)/.exec(z.output());
      if (m) finish({ kind: 'listening', port: Number(m[1]) });
    };
    const timer = setTimeout(() => finish(new Error(`zoonode neither listened nor exited within ${ms} ms:\n${z.output()}`)), ms);
    z.child.stdout!.on('data', check);
    z.child.stderr!.on('data', check);
    void z.exited.then((e) => {
      check();
      finish({ kind: 'exited', code: e.code, signal: e.signal });
    });
    check();
  });
}

/** Sends a signal and waits (at most ms) for the process to exit; SIGKILL after that. */
export async function stopChild(z: ZoonodeChild, signal: NodeJS.Signals, ms = 10000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (z.child.exitCode === null && z.child.signalCode === null) z.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), ms); });
  const r = await Promise.race([z.exited, timeout]);
  clearTimeout(timer);
  if (r === 'timeout') {
    z.child.kill('SIGKILL');
    await z.exited;
    throw new Error(`zoonode did not exit within ${ms} ms of ${signal}:\n${z.output()}`);
  }
  return r;
}
