// The sequencer's side of one worker's reply ring. Replies, watch events and
// connection verdicts are written in place into the ring; when the ring is
// full they wait, copied, in an overflow queue that is retried first (so
// order is kept) and the sequencer stops taking new requests until it
// drains. Large frames are cut into fragments so no record exceeds the
// ring's record limit.

import { assert } from '../util/assert.js';
import { copyBytes } from '../util/copy.js';
import type { Doorbell } from '../ring/doorbell.js';
import type { RingWriter } from '../ring/spsc-ring.js';
import {
  FRAME_FRAGMENT_MAX, MSG_HEADER_BYTES, REP_CLOSE, REP_CONNECTED, REP_FRAME, REP_FRAME_CONT, REP_REFUSED,
  writeMsgHeader,
} from '../ring/messages.js';

/**
 * Where the sequencer sends one worker's replies, events and verdicts: that
 * worker's reply ring (ReplyChannel), or, with workers=0, the connections of
 * the same thread directly (DirectReplies in src/io/io-worker.ts).
 */
export interface ReplySink {
  /** Replies wait for room: the sequencer takes no new requests until they are out. */
  readonly backlogged: boolean;
  readonly backlogBytes: number;
  /** A reply or event frame body (ReplyHeader + record), without the length prefix: body[0, total). */
  frame(connId: number, body: Buffer, total?: number): void;
  connected(connId: number, timeoutMs: number, idHi: number, idLo: number, passwd: Uint8Array, lastZxid: number): void;
  refused(connId: number, flags: number): void;
  close(connId: number, reason: number): void;
  /** Move waiting replies on; true when none wait. */
  retryOverflow(): boolean;
  /** The end of a batch: hand over what was written and wake the worker. */
  flush(): void;
}

export class ReplyChannel implements ReplySink {
  private readonly overflow: Buffer[] = [];
  private overflowBytes = 0;
  private wrote = false;
  /** Frames and bytes handed to this worker (for stats). */
  framesSent = 0;

  constructor(private readonly ring: RingWriter, private readonly bell: Doorbell) {}

  get backlogged(): boolean {
    return this.overflow.length > 0;
  }

  get backlogBytes(): number {
    return this.overflowBytes;
  }

  /** A reply or event frame body (ReplyHeader + record), without the length prefix: body[0, total). */
  frame(connId: number, body: Buffer, total = body.length): void {
    this.framesSent++;
    if (total <= FRAME_FRAGMENT_MAX && this.overflow.length === 0) {
      // Hot path: one record, written in place.
      const ring = this.ring;
      const at = ring.reserve(MSG_HEADER_BYTES + 4 + total);
      if (at >= 0) {
        writeMsgHeader(ring.view, at, REP_FRAME, 0, connId);
        ring.view.setUint32(at + MSG_HEADER_BYTES, total);
        copyBytes(body, 0, total, ring.buf, at + MSG_HEADER_BYTES + 4);
        ring.commit();
        this.wrote = true;
        return;
      }
    }
    const first = Math.min(total, FRAME_FRAGMENT_MAX);
    this.put(REP_FRAME, 0, connId, 4 + first, (view, buf, at) => {
      view.setUint32(at, total);
      buf.set(body.subarray(0, first), at + 4);
    });
    for (let off = first; off < total; off += FRAME_FRAGMENT_MAX) {
      const end = Math.min(total, off + FRAME_FRAGMENT_MAX);
      this.put(REP_FRAME_CONT, 0, connId, end - off, (_view, buf, at) => {
        buf.set(body.subarray(off, end), at);
      });
    }
  }

  /** lastZxid: the tree's last applied zxid when the session was (re)opened; pings answer no older. */
  connected(connId: number, timeoutMs: number, idHi: number, idLo: number, passwd: Uint8Array, lastZxid: number): void {
    assert(passwd.length === 16, 'session password is 16 bytes');
    this.put(REP_CONNECTED, 0, connId, 4 + 8 + 16 + 8, (view, buf, at) => {
      view.setInt32(at, timeoutMs);
      view.setInt32(at + 4, idHi);
      view.setInt32(at + 8, idLo);
      buf.set(passwd, at + 12);
      const hi = Math.floor(lastZxid / 4294967296);
      view.setInt32(at + 28, hi | 0);
      view.setUint32(at + 32, lastZxid - hi * 4294967296);
    });
  }

  refused(connId: number, flags: number): void {
    this.put(REP_REFUSED, flags, connId, 0, null);
  }

  close(connId: number, reason: number): void {
    this.put(REP_CLOSE, reason, connId, 0, null);
  }

  private put(kind: number, flags: number, connId: number, payload: number,
    fill: ((view: DataView, buf: Buffer, at: number) => void) | null): void {
    const size = MSG_HEADER_BYTES + payload;
    if (this.overflow.length === 0) {
      const at = this.ring.reserve(size);
      if (at >= 0) {
        writeMsgHeader(this.ring.view, at, kind, flags, connId);
        if (fill !== null) fill(this.ring.view, this.ring.buf, at + MSG_HEADER_BYTES);
        this.ring.commit();
        this.wrote = true;
        return;
      }
    }
    const copy = Buffer.allocUnsafe(size);
    const view = new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
    writeMsgHeader(view, 0, kind, flags, connId);
    if (fill !== null) fill(view, copy, MSG_HEADER_BYTES);
    this.overflow.push(copy);
    this.overflowBytes += size;
  }

  /** Move what fits from the overflow queue into the ring. Returns true if it is now empty. */
  retryOverflow(): boolean {
    while (this.overflow.length > 0) {
      const rec = this.overflow[0]!;
      const at = this.ring.reserve(rec.length);
      if (at < 0) return false;
      this.ring.buf.set(rec, at);
      this.ring.commit();
      this.wrote = true;
      this.overflow.shift();
      this.overflowBytes -= rec.length;
    }
    return true;
  }

  /** Publish what was written and wake the worker if it sleeps. */
  flush(): void {
    if (!this.wrote) return;
    this.wrote = false;
    this.ring.publish();
    this.bell.ring();
  }
}
