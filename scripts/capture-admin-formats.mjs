#!/usr/bin/env node
// Records Apache ZooKeeper's four-letter-word and AdminServer answers while
// two sessions hold ephemerals and watches, into test/fixtures/apache-admin/.
// Usage: node scripts/capture-admin-formats.mjs CLIENT_PORT ADMIN_PORT
import fs from 'node:fs';
import net from 'node:net';
import { ZkClient } from '../dist/native-free-bench/zk-client.js';

const [port, adminPort] = process.argv.slice(2).map(Number);
const out = new URL('../test/fixtures/apache-admin/', import.meta.url);
fs.mkdirSync(out, { recursive: true });
const word = (w) => new Promise((res) => {
  const s = net.connect(port, '127.0.0.1'); let d = '';
  s.on('connect', () => s.write(w)); s.on('data', (x) => { d += x; }); s.on('close', () => res(d));
});
const a = await ZkClient.connect('127.0.0.1', port, { timeoutMs: 10000 });
const b = await ZkClient.connect('127.0.0.1', port, { timeoutMs: 20000 });
for (const p of ['/w1', '/w2']) { try { await a.create(p, Buffer.from('x')); } catch {} }
await a.create('/e-a', null, 1); await b.create('/e-b1', null, 1); await b.create('/e-b2', null, 1);
await a.getData('/w1', true); await a.getChildren('/w1', true); await b.exists('/w2', true); await b.exists('/nope', true); await b.getData('/w1', true);
for (const w of ['conf', 'cons', 'dirs', 'dump', 'envi', 'gtmk', 'ruok', 'srvr', 'stat', 'wchs', 'wchc', 'wchp', 'mntr', 'isro', 'hash']) {
  fs.writeFileSync(new URL(`${w}.txt`, out), await word(w));
}
const commands = ['configuration', 'connections', 'dirs', 'dump', 'environment', 'hash', 'get_trace_mask', 'initial_configuration',
  'is_read_only', 'last_snapshot', 'leader', 'monitor', 'observers', 'ruok', 'server_stats', 'stats', 'system_properties',
  'voting_view', 'watches', 'watches_by_path', 'watch_summary', 'zabstate', 'no_such_command'];
for (const c of commands) {
  const r = await fetch(`http://127.0.0.1:${adminPort}/commands/${c}`);
  fs.writeFileSync(new URL(`${c}.json`, out), await r.text());
}
fs.writeFileSync(new URL('commands.html', out), await (await fetch(`http://127.0.0.1:${adminPort}/commands`)).text());
await a.close(); await b.close();
console.log('captured into', out.pathname);
