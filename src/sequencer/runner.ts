// Hosts a Sequencer on the current thread's event loop: the doorbell pump
// that drains request rings, and the session-expiry timer. Used by the
// sequencer thread (threaded mode) and by main.ts in inline mode.

import type { Config } from '../config/config.js';
import type { Clock } from '../util/clock.js';
import { RingReader, RingWriter } from '../ring/spsc-ring.js';
import { AtomicDoorbell, AtomicPump, type Doorbell } from '../ring/doorbell.js';
import { CTRL_LAST_ZXID_I64, CTRL_SEQUENCER_BELL, CTRL_STRIDE, CTRL_WORKER_BELL_BASE } from '../ring/layout.js';
import { ReplyChannel } from './reply-channel.js';
import { Sequencer } from './sequencer.js';
import type { TxnLogPort } from './txn-log-port.js';

export interface SequencerHandles {
  ctrl: SharedArrayBuffer;
  requestRings: SharedArrayBuffer[];
  replyRings: SharedArrayBuffer[];
}

export class SequencerRunner {
  readonly sequencer: Sequencer;
  private readonly pump: { start(): void; stop(): void; kick(): void };
  private expiryTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  /**
   * `bells` are the doorbells of the workers' reply rings. In threaded mode
   * they are Atomics-based and `pumpFor` builds an AtomicPump; inline mode
   * passes same-thread pumps.
   */
  constructor(
    config: Config,
    clock: Clock,
    handles: SequencerHandles,
    txnLog: TxnLogPort,
    bells: Doorbell[] | null,
    makePump: ((drain: () => boolean, hasWork: () => boolean) => { start(): void; stop(): void; kick(): void }) | null,
  ) {
    const ctrl32 = new Int32Array(handles.ctrl);
    const ctrl64 = new BigInt64Array(handles.ctrl);
    const inputs = handles.requestRings.map((sab) => new RingReader(sab));
    const channels = handles.replyRings.map((sab, i) => new ReplyChannel(
      new RingWriter(sab),
      bells?.[i] ?? new AtomicDoorbell(ctrl32, CTRL_WORKER_BELL_BASE + i * CTRL_STRIDE),
    ));
    this.sequencer = new Sequencer({ config, clock, serverId: 0 }, inputs, channels, txnLog);
    this.sequencer.onZxid = (z) => Atomics.store(ctrl64, CTRL_LAST_ZXID_I64, BigInt(z));
    const drain = () => this.sequencer.drain();
    const hasWork = () => this.sequencer.hasWork();
    this.pump = makePump !== null ? makePump(drain, hasWork) : new AtomicPump(ctrl32, CTRL_SEQUENCER_BELL, drain, hasWork);
  }

  start(): void {
    this.pump.start();
    this.scheduleExpiry(this.sequencer.tick());
  }

  private scheduleExpiry(ms: number): void {
    if (this.stopped) return;
    this.expiryTimer = setTimeout(() => {
      this.scheduleExpiry(this.sequencer.tick());
      this.pump.kick();
    }, ms);
  }

  /** Wake the pump (a same-thread producer rang). */
  kick(): void {
    this.pump.kick();
  }

  stop(): void {
    this.stopped = true;
    this.pump.stop();
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
  }
}
