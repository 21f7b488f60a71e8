// Test support (run as a child process by test/robustness/start-stop.test.ts):
// starts an in-process server and stops it again at once, `count` times in one
// process, so a crash in the stop path (a native abort) ends this child, not
// the test runner. Prints one line per cycle and "done" at the end.
//   node start-stop-loop.js <count> <workers> [key=value ...]

import { setLogSink } from '../../src/util/log.js';
import { startZoonode } from './zoonode.js';

const [countArg, workersArg, ...settings] = process.argv.slice(2);
const count = Number(countArg);
const extra: Record<string, string> = {};
for (const kv of settings) {
  const i = kv.indexOf('=');
  extra[kv.slice(0, i)] = kv.slice(i + 1);
}
setLogSink(() => {});
for (let i = 0; i < count; i++) {
  const z = await startZoonode({ workers: Number(workersArg), ...extra });
  await z.stop();
  process.stdout.write(`cycle ${i} port ${z.port}\n`);
}
process.stdout.write('done\n');
process.exit(0);
