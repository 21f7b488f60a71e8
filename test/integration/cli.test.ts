// The zoonode command as an operator runs it: help, version, configuration
// errors, start-up log, serving, and a clean stop on SIGTERM and SIGINT.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/zoonode.js';
import { ZkClient } from '../../native-free-bench/zk-client.js';

const bin = fileURLToPath(new URL('../../../bin/zoonode.js', import.meta.url));

test('--help and --version', () => {
  const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8', timeout: 10000 });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: zoonode \[-c FILE\] \[--port N\] \[--data-dir DIR\] \[key=value \.\.\.\]/);
  const ver = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8', timeout: 10000 });
  assert.equal(ver.status, 0);
  assert.match(ver.stdout, /^zoonode \d+\.\d+\.\d+/);
});

test('a bad configuration line stops start-up with its file, line and key', () => {
  const dir = tempDir('cli');
  const cfg = path.join(dir, 'zoo.cfg');
  fs.writeFileSync(cfg, `dataDir=${dir}\ntickTime=2000\nclientPort=nope\n`);
  const r = spawnSync(process.execPath, [bin, '-c', cfg], { encoding: 'utf8', timeout: 10000 });
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim(), `zoonode: configuration error: ${cfg}:3: clientPort: expected an integer, got 'nope'`);
  const missing = spawnSync(process.execPath, [bin, '-c', path.join(dir, 'absent.cfg')], { encoding: 'utf8', timeout: 10000 });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /absent\.cfg: -: cannot read configuration file/);
  fs.rmSync(dir, { recursive: true, force: true });
});

for (const [signal, workers] of [['SIGTERM', 0], ['SIGINT', 2]] as const) {
  test(`serves clients, logs its configuration, and stops cleanly on ${signal} (workers=${workers})`, async () => {
    const dir = tempDir('cli');
    const cfg = path.join(dir, 'zoo.cfg');
    fs.writeFileSync(cfg, `dataDir=${dir}\ntickTime=2000\nclientPort=2181\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\nsomeUnknownKey=1\n`);
    const child = spawn(process.execPath, [bin, '-c', cfg, '--port', '0', `workers=${workers}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line in 10 s:\n${out}`)), 10000);
        const check = () => {
          const m = /listening for clients on 127\.0\.0\.1:(\d+)/.exec(out);
          if (m) { clearTimeout(timer); resolve(Number(m[1])); }
        };
        child.stdout.on('data', check);
        child.stderr.on('data', check);
      });
      assert.match(out, /clientPort=0/);
      assert.match(out, new RegExp(`workers=${workers}`));
      assert.match(out, /unknown key 'someUnknownKey' ignored/);
      const c = await ZkClient.connect('127.0.0.1', port, { timeoutMs: 10000 });
      assert.equal(await c.create('/cli', Buffer.from('ok')), '/cli');
      assert.deepEqual((await c.getData('/cli')).data, Buffer.from('ok'));
      child.kill(signal);
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 10000))]);
      assert.equal(code, 0, `exit code after ${signal}:\n${out}`);
      assert.match(out, new RegExp(`received ${signal}, stopping`));
      await c.waitClosed(5000);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
