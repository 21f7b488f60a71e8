// Doorbells wake a consumer thread that sleeps while its rings are empty.
//
// Protocol (one Int32 word per consumer, sequentially consistent Atomics):
//   consumer: drain → store SLEEPING → re-check rings → if work: store AWAKE
//             and drain again, else Atomics.waitAsync(word, SLEEPING)
//   producer: publish tail → if word == SLEEPING: CAS to AWAKE and notify
// The consumer's store happens before its re-check and the producer's publish
// before its load, so a record is never left unseen while the consumer sleeps.
// Only a sleeping consumer costs the producer a notify: under load no
// doorbell rings at all.
//
// Inline mode (workers=0) uses the same rings with a doorbell that schedules
// the consumer on this thread's event loop.

const AWAKE = 0;
const SLEEPING = 1;

export interface Doorbell {
  ring(): void;
}

export class AtomicDoorbell implements Doorbell {
  constructor(private readonly ctl: Int32Array, private readonly index: number) {}

  ring(): void {
    if (Atomics.load(this.ctl, this.index) === SLEEPING &&
        Atomics.compareExchange(this.ctl, this.index, SLEEPING, AWAKE) === SLEEPING) {
      Atomics.notify(this.ctl, this.index, 1);
    }
  }
}

/**
 * Drives a consumer on a thread that also serves sockets and timers: never
 * blocks (waitAsync only), and yields to the event loop between batches so
 * I/O is not starved. `drain` processes at most one batch and returns true if
 * it left work behind; `hasWork` is a cheap check of all input rings.
 */
export class AtomicPump {
  private stopped = false;
  private scheduled = false;

  constructor(
    private readonly ctl: Int32Array,
    private readonly index: number,
    private readonly drain: () => boolean,
    private readonly hasWork: () => boolean,
  ) {}

  start(): void {
    this.kick();
  }

  stop(): void {
    this.stopped = true;
  }

  /** Run the consumer soon, e.g. after a local event made work (a timer, an fsync completion). */
  kick(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(this.loop);
  }

  private readonly loop = (): void => {
    this.scheduled = false;
    if (this.stopped) return;
    Atomics.store(this.ctl, this.index, AWAKE);
    if (this.drain()) { this.kick(); return; }
    Atomics.store(this.ctl, this.index, SLEEPING);
    if (this.hasWork()) {
      Atomics.store(this.ctl, this.index, AWAKE);
      this.kick();
      return;
    }
    const res = Atomics.waitAsync(this.ctl, this.index, SLEEPING);
    if (res.async) {
      this.scheduled = true;
      res.value.then(this.wake);
    } else {
      this.kick();
    }
  };

  private readonly wake = (): void => {
    this.scheduled = false;
    this.kick();
  };
}

/** Microtasks of the reply pump are reactions to this one settled promise. */
const settled = Promise.resolve();

/**
 * Same-thread doorbell and pump for inline mode. 'immediate' runs the
 * consumer in the event loop's check phase, after the poll phase has read
 * every ready socket, so one drain serves them all (the sequencer's input).
 * 'microtask' runs it as soon as the producer's callback returns (the reply
 * pump: what the sequencer published goes out in the same loop turn, not
 * one turn and one epoll_pwait later). A microtask pump drains until its
 * rings are empty before the loop goes on, so its producers must not refill
 * them from inside the drain.
 */
export class LocalPump implements Doorbell {
  private scheduled = false;
  private stopped = false;

  constructor(private readonly drain: () => boolean, private readonly when: 'immediate' | 'microtask' = 'immediate') {}

  ring(): void {
    this.kick();
  }

  kick(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    // A reaction on a settled promise: queueMicrotask would also make an
    // AsyncResource and a bound function per kick.
    if (this.when === 'microtask') void settled.then(this.loop);
    else setImmediate(this.loop);
  }

  start(): void {
    this.kick();
  }

  stop(): void {
    this.stopped = true;
  }

  private readonly loop = (): void => {
    this.scheduled = false;
    if (this.stopped) return;
    if (this.drain()) this.kick();
  };
}
