#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function,
// heaviest first, and total sampled time. Usage:
//   node scripts/cpu-profile-top.mjs FILE.cpuprofile [N]
//   node scripts/cpu-profile-top.mjs FILE.cpuprofile --callers NAME [DEPTH]
// The second form attributes NAME's self time to its call stacks (DEPTH
// frames up, default 3).
import fs from 'node:fs';

const [file, nArg, callee, depthArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: cpu-profile-top.mjs FILE.cpuprofile [N]');
  process.exit(2);
}
const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
const dt = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) {
  const id = prof.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (dt[i] ?? 0));
}
const parentOf = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
const label = (n) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
if (nArg === '--callers') {
  const depth = Number(depthArg ?? 3);
  const stacks = new Map();
  let sum = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if ((n.callFrame.functionName || '(anonymous)') !== callee) continue;
    const parts = [];
    let p = parentOf.get(id);
    for (let d = 0; d < depth && p !== undefined; d++, p = parentOf.get(p)) parts.push(label(byId.get(p)));
    const key = parts.join(' <- ');
    stacks.set(key, (stacks.get(key) ?? 0) + us);
    sum += us;
  }
  console.log(`${callee}: ${(sum / 1000).toFixed(1)} ms self`);
  for (const [k, us] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${(us / 1000).toFixed(1).padStart(9)} ms  <- ${k}`);
  process.exit(0);
}
const byFn = new Map();
let total = 0;
for (const [id, us] of selfUs) {
  const n = byId.get(id);
  const cf = n.callFrame;
  const key = `${cf.functionName || '(anonymous)'} ${cf.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${cf.lineNumber + 1}`;
  byFn.set(key, (byFn.get(key) ?? 0) + us);
  total += us;
}
const rows = [...byFn].sort((a, b) => b[1] - a[1]).slice(0, Number(nArg ?? 30));
console.log(`total sampled ${(total / 1000).toFixed(0)} ms`);
for (const [k, us] of rows) console.log(`${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
