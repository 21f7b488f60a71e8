// Event-loop delay of the current thread (perf_hooks), as p99 and max over
// the last minute or so, for metrics. Sampling costs a timer at 20 ms.

import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export class EventLoopLag {
  private readonly h: IntervalHistogram;
  private readonly rotate: NodeJS.Timeout;
  private lastP99 = 0;
  private lastMax = 0;

  constructor() {
    this.h = monitorEventLoopDelay({ resolution: 20 });
    this.h.enable();
    this.rotate = setInterval(() => {
      this.lastP99 = this.h.percentile(99) / 1e6;
      this.lastMax = this.h.max / 1e6;
      this.h.reset();
    }, 60_000);
    this.rotate.unref();
  }

  /** [p99, max] in ms: the current window, or the last full one if the current is young. */
  read(): [number, number] {
    const n = this.h.count;
    if (n < 50) return [Math.max(this.lastP99, n > 0 ? this.h.percentile(99) / 1e6 : 0), Math.max(this.lastMax, n > 0 ? this.h.max / 1e6 : 0)];
    return [this.h.percentile(99) / 1e6, this.h.max / 1e6];
  }

  stop(): void {
    clearInterval(this.rotate);
    this.h.disable();
  }
}
