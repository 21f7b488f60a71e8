// The coordinator's side of the client threads: N worker threads running
// load-worker.ts, each taking one call at a time. Sessions of a cell are
// spread round-robin over the threads (session i on thread i mod N), so no
// single generator thread has to carry every socket.

import { Worker } from 'node:worker_threads';
import type { WorkerCall } from './load-worker.js';

interface Pending { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }

export class ClientPool {
  private readonly pending: Map<number, Pending>[] = [];
  private nextId = 1;

  private constructor(private readonly workers: Worker[]) {
    workers.forEach((w, i) => {
      const mine = new Map<number, Pending>();
      this.pending.push(mine);
      w.on('message', (m: { id: number; ok: boolean; value?: unknown; error?: string }) => {
        const p = mine.get(m.id);
        if (p === undefined) return;
        mine.delete(m.id);
        clearTimeout(p.timer);
        if (m.ok) p.resolve(m.value);
        else p.reject(new Error(`client thread ${i}: ${m.error}`));
      });
      w.on('error', (e) => {
        for (const p of mine.values()) { clearTimeout(p.timer); p.reject(e); }
        mine.clear();
      });
    });
  }

  static async start(threads: number): Promise<ClientPool> {
    const url = new URL('./load-worker.js', import.meta.url);
    const workers = Array.from({ length: threads }, () => new Worker(url));
    await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
      w.once('online', () => resolve());
      w.once('error', reject);
    })));
    return new ClientPool(workers);
  }

  get size(): number {
    return this.workers.length;
  }

  call<T>(thread: number, call: WorkerCall, timeoutMs: number): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending[thread]!.delete(id);
        reject(new Error(`client thread ${thread}: '${call.op}' did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending[thread]!.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.workers[thread]!.postMessage({ id, call });
    });
  }

  /** The same kind of call on every thread that has work (`make` returns null for an idle thread). */
  async each<T>(make: (thread: number) => WorkerCall | null, timeoutMs: number): Promise<(T | null)[]> {
    return Promise.all(this.workers.map((_, i) => {
      const c = make(i);
      return c === null ? Promise.resolve(null) : this.call<T>(i, c, timeoutMs);
    }));
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
