// Large values through reused buffers. A connection encodes its replies into
// one buffer that it refills from the start once the socket has taken every
// byte, and split request frames are assembled in buffers shared by all
// connections. If either reuse came too early, a reply would carry another
// reply's bytes or a stored value another request's bytes. Checked byte for
// byte, in every worker layout:
//   - node-zookeeper-client clients writing large values (split frames)
//     concurrently, then reading them back;
//   - a raw client that pipelines getData of values from 1 KiB to 900 KiB
//     (above the largest reply buffer) and does not read for a while, so the
//     server's socket backs up and its replies queue behind each other.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { FrameDecoder, OpCode } from '../../src/jute/index.js';
import { startZoonode, workerModes, type TestServer } from '../support/zoonode.js';
import { Nzk, closeAll } from '../support/nzk.js';

const SIZES = [1024, 100 * 1024, 300 * 1024, 900 * 1024, 64 * 1024 + 3];

/** A value no other (tag) has. */
function valueOf(tag: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let k = 0; k < size; k++) b[k] = (tag * 131 + k * 7 + (k >> 9)) & 0xff;
  b.writeUInt32BE(tag, 0);
  return b;
}

function connectFrame(): Buffer {
  // ConnectRequest {protocolVersion, lastZxidSeen, timeOut, sessionId, passwd}
  const b = Buffer.alloc(4 + 4 + 8 + 4 + 8 + 4 + 16);
  b.writeInt32BE(b.length - 4, 0);
  b.writeInt32BE(10000, 16);
  b.writeInt32BE(16, 28);
  return b;
}

function getDataFrame(xid: number, path: string): Buffer {
  const p = Buffer.from(path);
  const b = Buffer.alloc(4 + 4 + 4 + 4 + p.length + 1);
  b.writeInt32BE(b.length - 4, 0);
  b.writeInt32BE(xid, 4);
  b.writeInt32BE(OpCode.getData, 8);
  b.writeInt32BE(p.length, 12);
  p.copy(b, 16);
  return b;
}

for (const workers of workerModes) {
  describe(`large values through reused buffers (workers=${workers})`, { timeout: 120000 }, () => {
    let server: TestServer | null = null;
    const clients: Nzk[] = [];

    before(async () => {
      server = await startZoonode({ workers });
      for (let i = 0; i < 4; i++) clients.push(await Nzk.connect(server.connectString));
    });
    after(async () => {
      await closeAll(clients);
      await server?.stop();
    });

    test('concurrent large setData from four clients: every node keeps its own bytes', async () => {
      await clients[0]!.create('/big');
      for (let c = 0; c < clients.length; c++) {
        for (let s = 0; s < SIZES.length; s++) await clients[c]!.create(`/big/c${c}s${s}`, Buffer.alloc(1));
      }
      for (let round = 1; round <= 4; round++) {
        // Every client writes all its nodes at once: frames of several reads each, interleaved across connections.
        await Promise.all(clients.map((cl, c) => Promise.all(SIZES.map((size, s) =>
          cl.setData(`/big/c${c}s${s}`, valueOf(round * 1000 + c * 10 + s, size))))));
        for (let c = 0; c < clients.length; c++) {
          const reads = await Promise.all(SIZES.map((_, s) => clients[(c + 1) % clients.length]!.getData(`/big/c${c}s${s}`)));
          reads.forEach((r, s) => assert.ok(r.data !== undefined && r.data.equals(valueOf(round * 1000 + c * 10 + s, SIZES[s]!)),
            `round ${round}: /big/c${c}s${s} holds the value written to it`));
        }
      }
    });

    test('pipelined getData of large values to a client that stops reading: every reply intact and in order', async () => {
      const n = 60;
      const sock = net.connect(server!.port, '127.0.0.1');
      const frames: Buffer[] = [];
      const decoder = new FrameDecoder(8 * 1024 * 1024);
      let wake: (() => void) | null = null;
      sock.on('data', (chunk: Buffer) => {
        decoder.feed(chunk, (f) => { frames.push(Buffer.from(f)); return true; });
        wake?.();
      });
      const until = async (count: number, ms: number): Promise<void> => {
        const deadline = Date.now() + ms;
        while (frames.length < count && Date.now() < deadline) {
          await new Promise<void>((r) => { wake = r; setTimeout(r, 100); });
        }
      };
      try {
        await new Promise<void>((r, j) => { sock.once('connect', () => r()); sock.once('error', j); });
        sock.write(connectFrame());
        await until(1, 5000);
        assert.equal(frames.length, 1, 'handshake answered');
        assert.ok(frames[0]!.readInt32BE(4) > 0, 'session granted');
        // Stop reading, send every request, let the server's socket back up.
        sock.pause();
        const want: Buffer[] = [];
        for (let i = 0; i < n; i++) {
          const c = i % clients.length;
          const s = (i * 3) % SIZES.length;
          sock.write(getDataFrame(i + 1, `/big/c${c}s${s}`));
          want.push(valueOf(4 * 1000 + c * 10 + s, SIZES[s]!));
        }
        await new Promise((r) => setTimeout(r, 500));
        sock.resume();
        await until(1 + n, 30000);
        assert.equal(frames.length, 1 + n, 'one reply per request');
        for (let i = 0; i < n; i++) {
          const f = frames[1 + i]!;
          assert.equal(f.readInt32BE(0), i + 1, `reply ${i + 1} in order`);
          assert.equal(f.readInt32BE(12), 0, `reply ${i + 1} OK`);
          const len = f.readInt32BE(16);
          assert.equal(len, want[i]!.length, `reply ${i + 1} data length`);
          assert.ok(f.subarray(20, 20 + len).equals(want[i]!), `reply ${i + 1} carries its node's bytes`);
          assert.equal(f.length, 20 + len + 68, `reply ${i + 1} ends with a Stat`);
        }
      } finally {
        sock.destroy();
      }
    });
  });
}
