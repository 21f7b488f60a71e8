// Test support: a Sequencer with real rings on this thread, a manual clock and
// a txn log that becomes durable only when told. Records are written and read
// the way I/O workers do.

import { buildConfig } from '../../src/config/config.js';
import { createRingBuffer, RingReader, RingWriter } from '../../src/ring/spsc-ring.js';
import {
  MSG_HEADER_BYTES, REP_CLOSE, REP_CONNECTED, REP_FRAME, REP_REFUSED, REQ_CLOSED, REQ_CONNECT, REQ_PACKET, REQ_TOUCH,
  writeMsgHeader,
} from '../../src/ring/messages.js';
import { ReplyChannel } from '../../src/sequencer/reply-channel.js';
import { Sequencer, type SequencerOptions } from '../../src/sequencer/sequencer.js';
import type { TxnLogPort } from '../../src/sequencer/txn-log-port.js';
import type { Txn, TxnHeader } from '../../src/jute/txn.js';
import { Reader, Writer, readReplyHeader, readWatcherEvent } from '../../src/jute/index.js';
import type { Clock } from '../../src/util/clock.js';

export class ManualClock implements Clock {
  now = 1_000_000;
  wall = 1_700_000_000_000;
  nowMs(): number { return this.now; }
  wallMs(): number { return this.wall; }
  advance(ms: number): void { this.now += ms; this.wall += ms; }
}

/** A log that holds txns until flushDurable() (auto = durable on every flush()). */
export class HeldLog implements TxnLogPort {
  onDurable: (zxid: number) => void = () => {};
  onFailure: (err: Error) => void = () => {};
  readonly txns: { hdr: TxnHeader; txn: Txn | null }[] = [];
  auto = true;
  flushes = 0;
  append(hdr: TxnHeader, txn: Txn | null): void { this.txns.push({ hdr, txn }); }
  flush(): void {
    this.flushes++;
    if (this.auto) this.flushDurable();
  }
  flushDurable(): void {
    const last = this.txns[this.txns.length - 1];
    if (last) this.onDurable(last.hdr.zxid);
  }
}

export type Output =
  | { kind: 'connected'; connId: number; timeout: number; sessionId: bigint; passwd: Buffer }
  | { kind: 'refused'; connId: number; sendInvalid: boolean }
  | { kind: 'close'; connId: number; reason: number }
  | { kind: 'reply'; connId: number; xid: number; zxid: number; err: number; body: Buffer }
  | { kind: 'event'; connId: number; type: number; path: string };

export class Harness {
  readonly clock = new ManualClock();
  readonly log = new HeldLog();
  readonly seq: Sequencer;
  private readonly req: RingWriter;
  private readonly rep: RingReader;

  /** `extra`: sequencer options beyond config and clock (a snapshot scheduler, restored sessions). */
  constructor(settings: Record<string, string> = {}, extra: Partial<Pick<SequencerOptions, 'snapshots' | 'restoredSessions'>> = {}) {
    const lines = Object.entries({ dataDir: '/tmp/unused', tickTime: '2000', ...settings })
      .map(([key, value], i) => ({ source: 'harness', line: i + 1, key, value }));
    const cfg = buildConfig(lines, null, 2);
    const reqSab = createRingBuffer(1 << 20);
    const repSab = createRingBuffer(1 << 20);
    this.req = new RingWriter(reqSab);
    this.rep = new RingReader(repSab);
    const channel = new ReplyChannel(new RingWriter(repSab), { ring: () => {} });
    this.seq = new Sequencer({ config: cfg, clock: this.clock, serverId: 0, ...extra }, [new RingReader(reqSab)], [channel], this.log);
  }

  private put(kind: number, connId: number, payload: Buffer, flags = 0): void {
    const at = this.req.reserve(MSG_HEADER_BYTES + payload.length);
    if (at < 0) throw new Error('request ring full');
    writeMsgHeader(this.req.view, at, kind, flags, connId);
    this.req.buf.set(payload, at + MSG_HEADER_BYTES);
    this.req.commit();
    this.req.publish();
  }

  connect(connId: number, opts: { timeout?: number; sessionId?: bigint; passwd?: Buffer; lastZxid?: number; address?: string } = {}): void {
    const w = new Writer();
    w.int(0).long(opts.lastZxid ?? 0).int(opts.timeout ?? 10000).bigLong(opts.sessionId ?? 0n)
      .buffer(opts.passwd ?? Buffer.alloc(16)).ustring(opts.address ?? '127.0.0.1').int(40000 + connId);
    this.put(REQ_CONNECT, connId, w.copy());
  }

  packet(connId: number, xid: number, type: number, body: (w: Writer) => void = () => {}): void {
    const w = new Writer();
    w.int(xid).int(type);
    body(w);
    this.put(REQ_PACKET, connId, w.copy());
  }

  touch(connId: number): void { this.put(REQ_TOUCH, connId, Buffer.alloc(0)); }
  closed(connId: number): void { this.put(REQ_CLOSED, connId, Buffer.alloc(0)); }

  /** Run the sequencer until idle and return what it sent. */
  run(): Output[] {
    for (let i = 0; i < 1000 && this.seq.drain(); i++) { /* batches */ }
    return this.output();
  }

  tick(): Output[] {
    this.seq.tick();
    return this.output();
  }

  output(): Output[] {
    const out: Output[] = [];
    for (let at = this.rep.next(); at >= 0; at = this.rep.next()) {
      const v = this.rep.view;
      const kind = v.getUint8(at);
      const flags = v.getUint8(at + 1);
      const connId = v.getUint32(at + 4);
      const body = at + MSG_HEADER_BYTES;
      switch (kind) {
        case REP_CONNECTED:
          out.push({ kind: 'connected', connId, timeout: v.getInt32(body), sessionId: v.getBigInt64(body + 4), passwd: Buffer.from(this.rep.buf.subarray(body + 12, body + 28)) });
          break;
        case REP_REFUSED: out.push({ kind: 'refused', connId, sendInvalid: (flags & 1) !== 0 }); break;
        case REP_CLOSE: out.push({ kind: 'close', connId, reason: flags }); break;
        case REP_FRAME: {
          const frame = Buffer.from(this.rep.buf.subarray(body + 4, at + this.rep.length));
          const r = new Reader(frame);
          const h = readReplyHeader(r);
          if (h.xid === -1) {
            const e = readWatcherEvent(r);
            out.push({ kind: 'event', connId, type: e.type, path: e.path! });
          } else {
            out.push({ kind: 'reply', connId, xid: h.xid, zxid: h.zxid, err: h.err, body: frame.subarray(16) });
          }
          break;
        }
        default: throw new Error(`unexpected reply record ${kind}`);
      }
      this.rep.release();
    }
    this.rep.publish();
    return out;
  }
}
