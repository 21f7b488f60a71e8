// Test support (run as a child process by test/robustness/start-stop.test.ts):
// starts an in-process server and stops it again at once, `count` times in one
// process, so a crash in the stop path (a native abort) ends this child, not
// the test runner. Prints one line per cycle and "done" at the end.
//   node start-stop-loop.js <count> <workers> [key=value ...]
// secureClientPort=pick gives every cycle a secure port of its own, picked
// free and tried again on EADDRINUSE (startZoonodeSecure): one port reused for
// every cycle can be taken in between by another test's outgoing connection.

import { setLogSink } from '../../src/util/log.js';
import { startZoonode, startZoonodeSecure } from './zoonode.js';

const [countArg, workersArg, ...settings] = process.argv.slice(2);
const count = Number(countArg);
const extra: Record<string, string> = {};
for (const kv of settings) {
  const i = kv.indexOf('=');
  extra[kv.slice(0, i)] = kv.slice(i + 1);
}
setLogSink(() => {});
for (let i = 0; i < count; i++) {
  const { secureClientPort, ...rest } = extra;
  const z = secureClientPort === 'pick'
    ? await startZoonodeSecure({ workers: Number(workersArg), ...rest })
    : await startZoonode({ workers: Number(workersArg), ...extra });
  await z.stop();
  process.stdout.write(`cycle ${i} port ${z.port}\n`);
}
process.stdout.write('done\n');
process.exit(0);
