// copyBytes carries every reply from the sequencer's writer into the reply
// ring and from the ring into the connection's buffer: it must copy exactly
// the range asked for, on both sides of its loop/set() switch.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyBytes, loopCopyMax } from '../../src/util/copy.js';

test('copyBytes copies exactly src[start, end) to dst at the offset, short and long ranges alike', () => {
  const src = Buffer.from(Array.from({ length: 4 * loopCopyMax }, (_, i) => (i * 31 + 7) & 0xff));
  for (const n of [0, 1, 20, loopCopyMax - 1, loopCopyMax, loopCopyMax + 1, 3 * loopCopyMax]) {
    const start = 5;
    const at = 9;
    const dst = Buffer.alloc(4 * loopCopyMax + 32, 0xee);
    copyBytes(src, start, start + n, dst, at);
    assert.deepEqual(dst.subarray(at, at + n), src.subarray(start, start + n), `${n} bytes`);
    assert.ok(dst.subarray(0, at).every((b) => b === 0xee), `${n} bytes: nothing before the offset`);
    assert.ok(dst.subarray(at + n).every((b) => b === 0xee), `${n} bytes: nothing after the range`);
  }
});
