// Test support (not a test file): run a kazoo scenario script from
// test/support with /usr/bin/python3 (never the python3 on PATH: kazoo is the
// Debian package python3-kazoo), or any other scenario program, and collect
// the JSON line it prints per step.

import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { killOnExit } from './compat-wire.js';

export const python = '/usr/bin/python3';

/** test/support in the source tree (.py files are not compiled to dist/). */
export const supportDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'support');

/** Why kazoo scenarios cannot run here, or null if they can. */
export function kazooSkipReason(script: string): string | null {
  if (!fs.existsSync(python)) return `${python} is missing`;
  if (!fs.existsSync(script)) return `${script} is missing`;
  const r = spawnSync(python, ['-c', 'import kazoo.client, kazoo.recipe.queue'], { timeout: 10000, encoding: 'utf8' });
  if (r.status !== 0) return `${python} cannot import kazoo (Debian package python3-kazoo): ${(r.stderr || String(r.error ?? '')).trim()}`;
  return null;
}

export type PyStep = Record<string, unknown> & { step: string; ok: boolean; error?: string; traceback?: string };

export interface PyRun {
  steps: Map<string, PyStep>;
  /** Step names in the order they were reported. */
  order: string[];
  stdout: string;
  stderr: string;
  code: number | null;
  killed: boolean;
}

/** Runs `python script args...`; never rejects; killed after ms. */
export function runPyScenario(script: string, args: string[], ms: number): Promise<PyRun> {
  return runStepProgram(python, [script, ...args], ms, { PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' });
}

/**
 * Runs a scenario program (Python, Go, ...) that prints one JSON object per
 * step ({"step": name, "ok": ..., ...}) and collects them; never rejects;
 * killed after ms.
 */
export function runStepProgram(command: string, args: string[], ms: number, env: NodeJS.ProcessEnv = {}): Promise<PyRun> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    killOnExit(child);
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => { killed = true; child.kill('SIGKILL'); }, ms);
    let done = false;
    const finish = (code: number | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const steps = new Map<string, PyStep>();
      const order: string[] = [];
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const s = JSON.parse(line) as PyStep;
          steps.set(s.step, s);
          order.push(s.step);
        } catch {
          // not ours
        }
      }
      resolve({ steps, order, stdout, stderr, code, killed });
    };
    child.on('error', (e) => { stderr += String(e); finish(null); });
    child.on('close', (code) => finish(code));
  });
}

/** The step's results; fails with everything known if it did not report or did not succeed. */
export function pyStep(run: PyRun, name: string, what = 'kazoo'): PyStep {
  const s = run.steps.get(name);
  const context = `\n--- exit code ${run.code}${run.killed ? ' (killed after timeout)' : ''}` +
    `${run.steps.has('watchdog') ? ' (watchdog fired)' : ''}\n--- stderr:\n${run.stderr.slice(-4000)}`;
  assert.ok(s !== undefined, `${what} step '${name}' did not report${context}`);
  assert.ok(s.ok, `${what} step '${name}' failed: ${s.error}\n${s.traceback ?? ''}${context}`);
  return s;
}
