// The simulator's event trace: every event of the simulated world goes into
// a running SHA-256 (same seed → same hash, which a test asserts) and into a
// bounded tail that a failure report prints. Server log lines are kept in
// the tail too, but not hashed: their text can carry real timings.

import { createHash, type Hash } from 'node:crypto';

/** Lines of the trace kept for a failure report. */
export const traceTailMax = 400;

export class Trace {
  private readonly hash: Hash = createHash('sha256');
  private readonly tail: string[] = [];
  private head = 0;
  events = 0;
  /** The real process id appears in temporary snapshot names; the trace shows it as PID. */
  private readonly pid = `.${process.pid}`;

  constructor(private readonly now: () => number, private readonly echo: ((line: string) => void) | null = null) {}

  add(what: string): void {
    const line = `${this.now()} ${what.split(this.pid).join('.PID')}`;
    this.hash.update(line);
    this.hash.update('\n');
    this.events++;
    this.keep(line);
  }

  /** Kept for the report, not hashed. */
  note(what: string): void {
    this.keep(`${this.now()}   | ${what.split(this.pid).join('.PID')}`);
  }

  private keep(line: string): void {
    if (this.echo !== null) this.echo(line);
    if (this.tail.length < traceTailMax) this.tail.push(line);
    else {
      this.tail[this.head] = line;
      this.head = (this.head + 1) % traceTailMax;
    }
  }

  digest(): string {
    return this.hash.copy().digest('hex');
  }

  last(n: number): string[] {
    const ordered = [...this.tail.slice(this.head), ...this.tail.slice(0, this.head)];
    return ordered.slice(Math.max(0, ordered.length - n));
  }
}
