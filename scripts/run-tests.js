#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node --test.
// node --test does not expand globs on Node 20 and runs every .js in a folder
// it is given, so this lists the files explicitly. Helpers live in files not
// named *.test.js. Extra arguments are passed to node --test; a path-like
// argument selects test files containing it.

import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const testRoot = path.join(root, 'dist', 'test');

function walk(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
let files = fs.existsSync(testRoot) ? walk(testRoot).sort() : [];
if (filters.length > 0) files = files.filter((f) => filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('no test files found (did the build run?)');
  process.exit(1);
}
/** Runs node --test on the files, passing its output through; resolves to the exit code and the output. */
function run(list) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...flags, ...list], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { process.stdout.write(d); out += d; });
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

/**
 * Test files whose process died by a signal with none of their tests failed
 * or cancelled: Node 20 can abort (SIGABRT) while tearing down worker threads
 * at process exit, seen under heavy machine load after every test of a file
 * passed. Such a file is run once more; any assertion failure still fails.
 */
function diedAfterPassing(out) {
  const died = [];
  const re = /^not ok \d+ - (\S+\.test\.js)\n((?: {2}.*\n)*)/gm;
  for (let m = re.exec(out); m !== null; m = re.exec(out)) {
    if (/^ {2}signal: '(SIGABRT|SIGSEGV)'$/m.test(m[2]) && /^ {2}location: '.*:1:1'$/m.test(m[2])) died.push(m[1]);
  }
  const failedInside = /^ +not ok /m.test(out);
  return failedInside ? [] : died;
}

const first = await run(files);
let code = first.code;
if (code !== 0) {
  const again = diedAfterPassing(first.out);
  if (again.length > 0) {
    console.log(`# WARNING: ${again.join(', ')}: the test process died by a signal after its tests passed; running it once more`);
    code = (await run(again)).code;
  }
}
process.exit(code);
