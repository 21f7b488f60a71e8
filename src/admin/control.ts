// Control-plane messages between the main thread (admin hub) and the other
// threads, over each worker's message port, encoded with msgpackr. Only
// operator actions travel here — never a client request.
//
//   main → thread   {type: 'query', id, what}
//   thread → main   {type: 'query-reply', id, data: msgpack} | {type: 'query-error', id, message}
//   io → main       {type: '4lw', id, word, arg?}      (a four-letter word to answer)
//   main → io       {type: '4lw-reply', id, text}

import { pack, unpack } from 'msgpackr';
import type { MessagePort, Worker } from 'node:worker_threads';

export type QueryHandler = (what: string) => unknown;

interface QueryReply { type: 'query-reply'; id: number; data: Uint8Array }
interface QueryError { type: 'query-error'; id: number; message: string }

/** Thread side: answer the main thread's queries with `handle`. */
export function serveQueries(port: MessagePort, handle: QueryHandler): void {
  port.on('message', (msg: { type: string; id: number; what: string }) => {
    if (msg.type !== 'query') return;
    try {
      const data = pack(handle(msg.what));
      port.postMessage({ type: 'query-reply', id: msg.id, data } satisfies QueryReply);
    } catch (e) {
      port.postMessage({ type: 'query-error', id: msg.id, message: (e as Error).message } satisfies QueryError);
    }
  });
}

/** Main side: ask one thread, with a time limit. */
export class ThreadClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  constructor(private readonly worker: Worker, readonly name: string) {
    worker.on('message', (msg: QueryReply | QueryError | { type: string; id: number }) => {
      if (msg.type !== 'query-reply' && msg.type !== 'query-error') return;
      const p = this.pending.get(msg.id);
      if (p === undefined) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.type === 'query-reply') p.resolve(unpack((msg as QueryReply).data));
      else p.reject(new Error(`${this.name}: ${(msg as QueryError).message}`));
    });
  }

  query<T>(what: string, timeoutMs = 5000): Promise<T> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name} did not answer '${what}' within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.worker.postMessage({ type: 'query', id, what });
    });
  }
}

/** I/O thread side: forward four-letter words to the main thread and await the text. */
export class FourLetterForwarder {
  private nextId = 1;
  private readonly pending = new Map<number, (text: string) => void>();

  constructor(private readonly port: MessagePort) {
    port.on('message', (msg: { type: string; id: number; text: string }) => {
      if (msg.type !== '4lw-reply') return;
      const r = this.pending.get(msg.id);
      if (r === undefined) return;
      this.pending.delete(msg.id);
      r(msg.text);
    });
  }

  ask(word: string, arg?: Buffer): Promise<string> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => { this.pending.delete(id); reject(new Error(`no answer to ${word}`)); }, 10_000);
      timer.unref();
      this.pending.set(id, (t) => { clearTimeout(timer); resolve(t); });
      this.port.postMessage({ type: '4lw', id, word, arg: arg === undefined ? undefined : Uint8Array.from(arg) });
    });
  }
}
