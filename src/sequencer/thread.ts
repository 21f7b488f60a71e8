// Entry point of the sequencer thread (threaded mode). Start-up recovers the
// data directory; a failure is reported to the main thread, which stops.

import { parentPort, workerData } from 'node:worker_threads';
import { setThreadTag, Logger } from '../util/log.js';
import { systemClock } from '../util/clock.js';
import type { Config } from '../config/config.js';
import { SequencerRunner, type SequencerHandles } from './runner.js';
import { serveQueries } from '../admin/control.js';

interface SequencerThreadData {
  config: Config;
  handles: SequencerHandles;
}

setThreadTag('seq');
const log = new Logger('sequencer');
const data = workerData as SequencerThreadData;
let runner: SequencerRunner;
try {
  runner = new SequencerRunner(data.config, systemClock, data.handles, null, null);
} catch (e) {
  parentPort!.postMessage({ type: 'start-error', message: (e as Error).message });
  parentPort!.close();
  throw e;
}
runner.start();
serveQueries(parentPort!, (what) => {
  switch (what) {
    case 'stats': return runner.snapshot();
    case 'dump': return runner.dump();
    case 'watches': return runner.watches();
    case 'reset': runner.resetStats(); return null;
    default: throw new Error(`unknown query ${what}`);
  }
});
parentPort!.on('message', (msg: { type: string }) => {
  if (msg.type === 'stop') {
    runner.stop().then(() => {
      log.debug('stopped');
      parentPort!.postMessage({ type: 'stopped' });
      parentPort!.close();
    }, (e: Error) => {
      log.error(`stop: ${e.message}`);
      parentPort!.postMessage({ type: 'stopped' });
      parentPort!.close();
    });
  }
});
parentPort!.postMessage({ type: 'ready' });
