// Regression: znode data must not alias the request ring. Requests reach the
// sequencer through ring buffers whose bytes are reused once a request is
// consumed; a create or setData that kept a view of its data in the ring
// (instead of a copy) served other requests' bytes once enough traffic had
// gone through (found in the snapshot benchmark: a node's data read back as
// the bytes of later creates). Writes several times the ring's capacity, then
// reads back the first nodes and a sample of the rest, byte for byte, with
// node-zookeeper-client, in every worker layout; then restarts the server on
// the same data directory and checks again (the snapshot and log path).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ringCapacityFor } from '../../src/ring/layout.js';
import { startZoonode, tempDir, workerModes, type TestServer } from '../support/zoonode.js';
import { Nzk, closeAll } from '../support/nzk.js';

const juteMaxBuffer = 1048575;
const valueBytes = 1000;
/** Enough creates to push three ring capacities of request bytes through. */
const creates = Math.ceil((3 * ringCapacityFor(juteMaxBuffer)) / valueBytes);
const pipelined = 200;

/** A value no other node has: its index spelled into every byte pattern. */
function valueOf(i: number): Buffer {
  const b = Buffer.alloc(valueBytes);
  for (let k = 0; k < valueBytes; k++) b[k] = (i * 31 + k * 7) & 0xff;
  b.writeUInt32BE(i, 0);
  return b;
}

for (const workers of workerModes) {
  describe(`znode data survives ring reuse (workers=${workers})`, { timeout: 120000 }, () => {
    const dataDir = tempDir('integrity');
    let server: TestServer | null = null;
    let c: Nzk | null = null;

    before(async () => {
      server = await startZoonode({ workers, dataDir });
      c = await Nzk.connect(server.connectString);
    });
    after(async () => {
      await closeAll([c]);
      await server?.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    test(`${creates} creates of ${valueBytes} B, then every early node and a sample read back intact`, async () => {
      await c!.create('/first', Buffer.from('the first value, written before the flood'));
      await c!.create('/flood');
      for (let from = 0; from < creates; from += pipelined) {
        const batch: Promise<string>[] = [];
        for (let i = from; i < Math.min(creates, from + pipelined); i++) batch.push(c!.create(`/flood/n${i}`, valueOf(i)));
        await Promise.all(batch);
      }
      // setData traffic too: the new value must not alias the ring either.
      await c!.setData('/first', Buffer.from('changed once'), 0);
      for (let from = 0; from < creates; from += pipelined) {
        const batch: Promise<unknown>[] = [];
        for (let i = from; i < Math.min(creates, from + pipelined); i++) batch.push(c!.getData(`/flood/n${i}`));
        await Promise.all(batch);
      }
      assert.equal((await c!.getData('/first')).data?.toString(), 'changed once');
      for (let i = 0; i < creates; i += i < 400 ? 1 : 97) {
        const got = (await c!.getData(`/flood/n${i}`)).data;
        assert.ok(got !== undefined && got.equals(valueOf(i)), `/flood/n${i} holds its own value`);
      }
    });

    test('after a restart on the same data directory, the same bytes', async () => {
      await closeAll([c]);
      c = null;
      await server!.stop();
      server = await startZoonode({ workers, dataDir });
      c = await Nzk.connect(server.connectString);
      assert.equal((await c.getData('/first')).data?.toString(), 'changed once');
      for (let i = 0; i < creates; i += 173) {
        const got = (await c.getData(`/flood/n${i}`)).data;
        assert.ok(got !== undefined && got.equals(valueOf(i)), `/flood/n${i} after restart`);
      }
    });
  });
}
