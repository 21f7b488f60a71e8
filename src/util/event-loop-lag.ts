// Event-loop delay of the current thread, as p99 and max over the last
// minute or so, for metrics: how late timers fire.
//
// Sampling every 20 ms wakes an idle thread 50 times a second, and on this
// kind of virtual machine each wake-up of an idle CPU costs far more than
// the sample (measured: an idle server spent 0.85 % of a core on it, Apache
// ZooKeeper 0.25 % on all its threads). So the thread is sampled every 20 ms
// only while it works: once a second (one wake-up) the loop's utilization
// over that second decides whether it is sampled in the next. An idle loop
// has no delay worth measuring; a stall that starts in an idle second still
// shows in that check's own lateness, which is recorded with the samples.
// (perf_hooks' monitorEventLoopDelay cannot pause: re-enabled, it records
// the pause as one delay; and it reports the whole interval, resolution
// included, where this records only the lateness.)

import { createHistogram, performance, type EventLoopUtilization, type RecordableHistogram } from 'node:perf_hooks';

export interface EventLoopLagOptions {
  /** Sampling period while the loop is busy (ms). */
  resolutionMs?: number;
  /** How often the loop's utilization is checked (ms). */
  checkMs?: number;
  /** Utilization over a check period at or above which the loop is sampled. */
  busyFraction?: number;
  /** Length of a metrics window (ms): p99 and max cover the current one, or the last full one while it is young. */
  windowMs?: number;
}

export class EventLoopLag {
  /** Lateness of the timers below in the current window (µs). */
  private readonly h: RecordableHistogram = createHistogram();
  private readonly checkTimer: NodeJS.Timeout;
  /** The sampling timer, set while the loop is busy (reused with refresh()). */
  private sampleTimer: NodeJS.Timeout | null = null;
  private readonly sampleFn = (): void => this.sample();
  private readonly resolutionMs: number;
  private readonly checkMs: number;
  private readonly busyFraction: number;
  private readonly windowMs: number;
  private elu: EventLoopUtilization;
  private checkDue: number;
  private sampleDue = 0;
  private windowStart: number;
  private lastP99 = 0;
  private lastMax = 0;

  constructor(o: EventLoopLagOptions = {}) {
    this.resolutionMs = o.resolutionMs ?? 20;
    this.checkMs = o.checkMs ?? 1000;
    this.busyFraction = o.busyFraction ?? 0.01;
    this.windowMs = o.windowMs ?? 60_000;
    this.elu = performance.eventLoopUtilization();
    this.windowStart = performance.now();
    this.checkDue = this.windowStart + this.checkMs;
    this.checkTimer = setInterval(() => this.check(), this.checkMs);
    this.checkTimer.unref();
  }

  /** Whether the loop is being sampled every resolutionMs now (it was busy in the last check period). */
  get active(): boolean {
    return this.sampleTimer !== null;
  }

  private record(lateMs: number): void {
    this.h.record(Math.max(1, Math.round(lateMs * 1000)));
  }

  private sample(): void {
    const now = performance.now();
    this.record(now - this.sampleDue);
    this.sampleDue = now + this.resolutionMs;
    this.sampleTimer!.refresh();
  }

  private check(): void {
    const now = performance.now();
    this.record(now - this.checkDue);
    this.checkDue = now + this.checkMs;
    if (now - this.windowStart >= this.windowMs) {
      [this.lastP99, this.lastMax] = this.current();
      this.h.reset();
      this.windowStart = now;
    }
    const elu = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(elu, this.elu).utilization >= this.busyFraction;
    this.elu = elu;
    if (busy && this.sampleTimer === null) {
      this.sampleDue = now + this.resolutionMs;
      this.sampleTimer = setTimeout(this.sampleFn, this.resolutionMs);
      this.sampleTimer.unref();
    } else if (!busy && this.sampleTimer !== null) {
      clearTimeout(this.sampleTimer);
      this.sampleTimer = null;
    }
  }

  private current(): [number, number] {
    return this.h.count === 0 ? [0, 0] : [this.h.percentile(99) / 1000, this.h.max / 1000];
  }

  /** [p99, max] in ms: the current window, or the last full one if the current is young. */
  read(): [number, number] {
    const [p99, max] = this.current();
    if (this.h.count < 50) return [Math.max(this.lastP99, p99), Math.max(this.lastMax, max)];
    return [p99, max];
  }

  stop(): void {
    clearInterval(this.checkTimer);
    if (this.sampleTimer !== null) clearTimeout(this.sampleTimer);
    this.sampleTimer = null;
  }
}
