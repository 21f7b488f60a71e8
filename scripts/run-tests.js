#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node --test.
// node --test does not expand globs on Node 20 and runs every .js in a folder
// it is given, so this lists the files explicitly. Helpers live in files not
// named *.test.js. Extra arguments are passed to node --test; a path-like
// argument selects test files containing it.

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

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
const res = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...flags, ...files], { stdio: 'inherit' });
process.exit(res.status ?? 1);
