// Entry point of the sequencer thread (threaded mode).

import { parentPort, workerData } from 'node:worker_threads';
import { setThreadTag, Logger } from '../util/log.js';
import { systemClock } from '../util/clock.js';
import type { Config } from '../config/config.js';
import { MemoryTxnLog } from './txn-log-port.js';
import { SequencerRunner, type SequencerHandles } from './runner.js';

interface SequencerThreadData {
  config: Config;
  handles: SequencerHandles;
}

setThreadTag('seq');
const log = new Logger('sequencer');
const data = workerData as SequencerThreadData;
const runner = new SequencerRunner(data.config, systemClock, data.handles, new MemoryTxnLog(), null, null);
runner.start();
parentPort!.on('message', (msg: { type: string }) => {
  if (msg.type === 'stop') {
    runner.stop();
    log.debug('stopped');
    parentPort!.postMessage({ type: 'stopped' });
    parentPort!.close();
  }
});
parentPort!.postMessage({ type: 'ready' });
