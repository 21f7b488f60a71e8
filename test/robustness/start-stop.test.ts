// A server stopped right after it started, many times in one process: with
// I/O worker threads sharing worker 0's listening fd, a worker that had not
// yet registered the fd with its event loop when worker 0 closed it made libuv
// abort the whole process (SIGABRT within a few cycles). Each run is a child
// process (test/support/start-stop-loop.ts), so an abort fails this test
// instead of killing the runner. workers=2, plaintext, and with a
// secureClientPort as well (a second shared fd).

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeTestCerts, opensslSkipReason, type TestCerts } from '../support/tls-certs.js';

const loopScript = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'support', 'start-stop-loop.js');

interface LoopResult { code: number | null; signal: NodeJS.Signals | null; cycles: number; done: boolean; stderr: string }

function runLoop(count: number, workers: number, settings: string[] = []): Promise<LoopResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [loopScript, String(count), String(workers), ...settings], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, cycles: (out.match(/^cycle \d+/gm) ?? []).length, done: /^done$/m.test(out), stderr: stderr.slice(-2000) });
    });
  });
}

const cycles = 25;

describe('start and stop at once, in one process', () => {
  test(`workers=2: ${cycles} cycles, every one stops cleanly and the process lives`, async () => {
    const r = await runLoop(cycles, 2);
    assert.equal(r.signal, null, `the process died by ${r.signal} after ${r.cycles} cycle(s)\n${r.stderr}`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.cycles, cycles);
    assert.ok(r.done);
  });

  const sslSkip = opensslSkipReason();
  let certs: TestCerts | null = null;
  after(() => certs?.remove());
  test('workers=2 with a secureClientPort: both shared fds survive the same', { skip: sslSkip ?? false }, async () => {
    certs = makeTestCerts();
    const r = await runLoop(15, 2, [
      'secureClientPort=pick', 'secureClientPortAddress=127.0.0.1',
      `ssl.keyStore.location=${certs.serverPem}`, `ssl.trustStore.location=${certs.caPem}`,
    ]);
    assert.equal(r.signal, null, `the process died by ${r.signal} after ${r.cycles} cycle(s)\n${r.stderr}`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.cycles, 15);
  });
});
