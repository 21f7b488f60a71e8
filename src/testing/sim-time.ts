// Simulated time: a Clock the simulator advances, and a timer queue ordered
// by (time, insertion order), so two timers due at the same moment always
// run in the order they were set. Nothing here reads the real clock; time
// moves only when the simulator takes the next event.

import type { Clock } from '../util/clock.js';

export class SimClock implements Clock {
  /** Milliseconds since the simulation began. */
  now = 0;

  constructor(private readonly wallBaseMs: number) {}

  nowMs(): number {
    return this.now;
  }

  wallMs(): number {
    return this.wallBaseMs + this.now;
  }
}

export interface SimEvent {
  readonly time: number;
  readonly seq: number;
  readonly label: string;
  readonly run: () => void;
  cancelled: boolean;
}

/** A binary min-heap of events by (time, seq). */
export class Scheduler {
  private readonly heap: SimEvent[] = [];
  private seq = 0;

  constructor(readonly clock: SimClock) {}

  get size(): number {
    return this.heap.length;
  }

  at(time: number, label: string, run: () => void): SimEvent {
    const ev: SimEvent = { time: Math.max(time, this.clock.now), seq: this.seq++, label, run, cancelled: false };
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
    return ev;
  }

  after(delayMs: number, label: string, run: () => void): SimEvent {
    return this.at(this.clock.now + delayMs, label, run);
  }

  /** The next event not cancelled, with the clock moved to its time; undefined when none is left. */
  next(): SimEvent | undefined {
    for (;;) {
      const ev = this.pop();
      if (ev === undefined) return undefined;
      if (ev.cancelled) continue;
      this.clock.now = ev.time;
      return ev;
    }
  }

  private pop(): SimEvent | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
