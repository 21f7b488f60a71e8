// A client thread of the load generator: holds one cell's sessions at a time
// and answers the coordinator's calls (client-pool.ts), one at a time:
//   open-pipeline → run → close,  open-watch → (arm → fired)* → close,
//   storm → close.
// Every call gets exactly one answer: {id, ok: true, value} or {id, ok: false, error}.

import { parentPort } from 'node:worker_threads';
import { ConnectRun, PipelineRun, WatchRun, type ConnectSpec, type PipelineSpec, type RunTimes, type WatchSpec } from './load.js';

export type WorkerCall =
  | { op: 'open-pipeline'; spec: PipelineSpec }
  | { op: 'run'; times: RunTimes }
  | { op: 'open-watch'; spec: WatchSpec }
  | { op: 'arm' }
  | { op: 'fired'; timeoutMs: number }
  | { op: 'storm'; spec: ConnectSpec; startAt: number }
  | { op: 'close' };

let pipeline: PipelineRun | null = null;
let watch: WatchRun | null = null;
let storm: ConnectRun | null = null;

async function handle(call: WorkerCall): Promise<{ value: unknown; transfer: ArrayBuffer[] }> {
  switch (call.op) {
    case 'open-pipeline':
      pipeline = new PipelineRun(call.spec);
      await pipeline.open();
      return { value: null, transfer: [] };
    case 'run': {
      if (pipeline === null) throw new Error('run before open-pipeline');
      const r = await pipeline.run(call.times);
      return { value: r, transfer: [r.hist.counts.buffer as ArrayBuffer] };
    }
    case 'open-watch':
      watch = new WatchRun(call.spec);
      await watch.open();
      return { value: null, transfer: [] };
    case 'arm':
      if (watch === null) throw new Error('arm before open-watch');
      await watch.arm();
      return { value: null, transfer: [] };
    case 'fired':
      if (watch === null) throw new Error('fired before open-watch');
      return { value: await watch.fired(call.timeoutMs), transfer: [] };
    case 'storm': {
      storm = new ConnectRun(call.spec);
      const r = await storm.run(call.startAt);
      return { value: r, transfer: [r.hist.counts.buffer as ArrayBuffer] };
    }
    case 'close': {
      const all = [pipeline?.close(), watch?.close(), storm?.close()];
      pipeline = null;
      watch = null;
      storm = null;
      await Promise.all(all);
      return { value: null, transfer: [] };
    }
  }
}

parentPort!.on('message', (msg: { id: number; call: WorkerCall }) => {
  handle(msg.call).then(
    ({ value, transfer }) => parentPort!.postMessage({ id: msg.id, ok: true, value }, transfer),
    (e: Error) => parentPort!.postMessage({ id: msg.id, ok: false, error: e.stack ?? String(e) }),
  );
});
