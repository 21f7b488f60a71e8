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
//     server's socket backs up and its replies queue behind each other;
//   - the other end: a burst of 512 small replies. The reply buffer must grow
//     for it, not be refilled at its first 512 B size: that sent a few
//     replies per write syscall and cut reads at depth 512 to a quarter.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OpCode, writePathWatch } from '../../src/jute/index.js';
import { RawConn, connectRequestFrame, requestFrame } from '../support/compat-wire.js';
import { startZoonode, workerModes, type TestServer } from '../support/zoonode.js';
import { Nzk, closeAll } from '../support/nzk.js';
import { mntr } from '../support/fuzz-driver.js';

const SIZES = [1024, 100 * 1024, 300 * 1024, 900 * 1024, 64 * 1024 + 3];

/** A value no other (tag) has. */
function valueOf(tag: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let k = 0; k < size; k++) b[k] = (tag * 131 + k * 7 + (k >> 9)) & 0xff;
  b.writeUInt32BE(tag, 0);
  return b;
}

for (const workers of workerModes) {
  describe(`large values through reused buffers (workers=${workers})`, { timeout: 120000 }, () => {
    let server: TestServer | null = null;
    const clients: Nzk[] = [];

    before(async () => {
      server = await startZoonode({ workers, '4lw.commands.whitelist': 'mntr' });
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

    test('512 pipelined getData of 100 B in one write: every reply intact and in order, sent in a few socket writes', async () => {
      const n = 512;
      const value = valueOf(77, 100);
      await clients[0]!.create('/small', value);
      const socketWrites = async (): Promise<number> => {
        const v = (await mntr('127.0.0.1', server!.port)).get('zk_zoonode_socket_writes');
        assert.ok(v !== undefined, 'mntr reports zk_zoonode_socket_writes');
        return Number(v);
      };
      const conn = await RawConn.open('127.0.0.1', server!.port);
      try {
        conn.write(connectRequestFrame({ withReadOnlyByte: false }));
        await conn.waitFrames(1);
        assert.ok(conn.frames[0]!.readInt32BE(4) > 0, 'session granted');
        const before = await socketWrites();
        const frames: Buffer[] = [];
        for (let i = 0; i < n; i++) frames.push(requestFrame(i + 1, OpCode.getData, (w) => writePathWatch(w, { path: '/small', watch: false })));
        conn.write(Buffer.concat(frames));
        await conn.waitFrames(1 + n, 30000);
        const writes = (await socketWrites()) - before;
        assert.equal(conn.frames.length, 1 + n, 'one reply per request');
        for (let i = 0; i < n; i++) {
          const f = conn.frames[1 + i]!;
          assert.equal(f.readInt32BE(0), i + 1, `reply ${i + 1} in order`);
          assert.equal(f.readInt32BE(12), 0, `reply ${i + 1} OK`);
          assert.ok(f.subarray(20, 20 + value.length).equals(value), `reply ${i + 1} carries the node's bytes`);
        }
        // 512 replies of 192 B are 96 KiB. From a 512 B first buffer, doubling,
        // that is about ten writes if the sequencer answers the burst at once,
        // more if it answers in several drains; a buffer refilled at 512 B
        // would take 190 or more.
        assert.ok(writes >= 1 && writes <= 64, `512 replies left in ${writes} socket writes (want 1..64)`);
      } finally {
        conn.destroy();
      }
    });

    test('pipelined getData of large values to a client that stops reading: every reply intact and in order', async () => {
      const n = 60;
      const conn = await RawConn.open('127.0.0.1', server!.port);
      try {
        conn.write(connectRequestFrame({ withReadOnlyByte: false }));
        await conn.waitFrames(1);
        assert.equal(conn.frames.length, 1, 'handshake answered');
        assert.ok(conn.frames[0]!.readInt32BE(4) > 0, 'session granted');
        // Stop reading, send every request, let the server's socket back up.
        conn.socket.pause();
        const want: Buffer[] = [];
        for (let i = 0; i < n; i++) {
          const c = i % clients.length;
          const s = (i * 3) % SIZES.length;
          conn.write(requestFrame(i + 1, OpCode.getData, (w) => writePathWatch(w, { path: `/big/c${c}s${s}`, watch: false })));
          want.push(valueOf(4 * 1000 + c * 10 + s, SIZES[s]!));
        }
        await new Promise((r) => setTimeout(r, 500));
        conn.socket.resume();
        await conn.waitFrames(1 + n, 30000);
        assert.equal(conn.frames.length, 1 + n, 'one reply per request');
        for (let i = 0; i < n; i++) {
          const f = conn.frames[1 + i]!;
          assert.equal(f.readInt32BE(0), i + 1, `reply ${i + 1} in order`);
          assert.equal(f.readInt32BE(12), 0, `reply ${i + 1} OK`);
          const len = f.readInt32BE(16);
          assert.equal(len, want[i]!.length, `reply ${i + 1} data length`);
          assert.ok(f.subarray(20, 20 + len).equals(want[i]!), `reply ${i + 1} carries its node's bytes`);
          assert.equal(f.length, 20 + len + 68, `reply ${i + 1} ends with a Stat`);
        }
      } finally {
        conn.destroy();
      }
    });
  });
}
