// Memory of 1 M watches in the watch index, in three shapes:
//   shared:    1,000 connections x the same 1,000 paths
//   fan-in:    1 connection x 1,000,000 paths
//   scattered: 1,000,000 connections x 1 path each
// Run with --expose-gc: node --expose-gc dist/native-free-bench/watch-memory.js

import { WatchManager, MODE_STANDARD, type Watcher } from '../src/tree/watch-manager.js';

class Conn implements Watcher {
  alive = true;
  process(): void {}
}

function heap(): number {
  (globalThis as { gc?: () => void }).gc?.();
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

function measure(name: string, fill: (wm: WatchManager, conns: Conn[], paths: string[]) => void, connCount: number, pathCount: number): void {
  const conns = Array.from({ length: connCount }, () => new Conn());
  const paths = Array.from({ length: pathCount }, (_, i) => `/app/service-${i % 500}/node-${i}`);
  const before = heap();
  const wm = new WatchManager();
  fill(wm, conns, paths);
  const after = heap();
  const bytes = after - before;
  process.stdout.write(`${name.padEnd(10)} ${wm.size.toLocaleString('en-US').padStart(9)} watches on ${wm.pathCount.toLocaleString('en-US').padStart(9)} paths by ${wm.watcherCount().toLocaleString('en-US').padStart(9)} watchers: ` +
    `${(bytes / 1048576).toFixed(1)} MiB, ${(bytes / wm.size).toFixed(0)} bytes/watch\n`);
  if (wm.size === 0) throw new Error('nothing was added');
}

if (typeof (globalThis as { gc?: unknown }).gc !== 'function') process.stderr.write('run with --expose-gc for exact figures\n');
measure('shared', (wm, conns, paths) => { for (const c of conns) for (const p of paths) wm.add(p, c, MODE_STANDARD); }, 1000, 1000);
measure('fan-in', (wm, conns, paths) => { for (const p of paths) wm.add(p, conns[0]!, MODE_STANDARD); }, 1, 1_000_000);
measure('scattered', (wm, conns, paths) => { for (let i = 0; i < paths.length; i++) wm.add(paths[i]!, conns[i]!, MODE_STANDARD); }, 1_000_000, 1_000_000);
