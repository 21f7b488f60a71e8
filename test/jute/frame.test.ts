// The framing loop fed byte streams split at every position, oversized and
// negative lengths refused before buffering, and stop/resume backpressure.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { FrameDecoder, FRAME_BAD_LENGTH, FRAME_CLOSED, FRAME_OK, FRAME_STOPPED } from '../../src/jute/frame.js';

const golden = JSON.parse(fs.readFileSync(new URL('../../../test/fixtures/apache-golden-frames.json', import.meta.url), 'utf8')) as { frames: { dir: string; hex: string }[] };
const bodies = golden.frames.filter((f) => f.dir === 'request').map((f) => Buffer.from(f.hex, 'hex'));

function stream(frames: Buffer[]): Buffer {
  return Buffer.concat(frames.flatMap((b) => {
    const len = Buffer.alloc(4);
    len.writeInt32BE(b.length);
    return [len, b];
  }));
}

function collect(d: FrameDecoder, chunks: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const c of chunks) {
    assert.equal(d.feed(c, (f) => { out.push(Buffer.from(f)); return true; }), FRAME_OK);
  }
  return out;
}

test('a stream split into two chunks at every position yields the same frames', () => {
  const all = stream(bodies);
  for (let i = 0; i <= all.length; i++) {
    const got = collect(new FrameDecoder(1 << 20), [all.subarray(0, i), all.subarray(i)]);
    assert.deepEqual(got, bodies, `split at ${i}`);
  }
});

test('a stream fed one byte at a time, and in three random pieces, yields the same frames', () => {
  const all = stream(bodies);
  const bytes = Array.from({ length: all.length }, (_, i) => all.subarray(i, i + 1));
  assert.deepEqual(collect(new FrameDecoder(1 << 20), bytes), bodies);
  let seed = 12345;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  for (let k = 0; k < 200; k++) {
    const a = rand(all.length);
    const b = a + rand(all.length - a);
    assert.deepEqual(collect(new FrameDecoder(1 << 20), [all.subarray(0, a), all.subarray(a, b), all.subarray(b)]), bodies, `seed step ${k}`);
  }
});

test('a length one above the limit is refused before any of its body is read', () => {
  const d = new FrameDecoder(1048575);
  const hdr = Buffer.alloc(4);
  hdr.writeInt32BE(1048576);
  let frames = 0;
  assert.equal(d.feed(hdr, () => { frames++; return true; }), FRAME_BAD_LENGTH);
  assert.equal(d.badLength, 1048576);
  assert.equal(frames, 0);
  assert.equal(d.feed(Buffer.alloc(10), () => true), FRAME_CLOSED, 'nothing more is accepted');
  const ok = new FrameDecoder(1048575);
  const max = Buffer.alloc(4 + 1048575);
  max.writeInt32BE(1048575);
  let got = 0;
  assert.equal(ok.feed(max, (f) => { got = f.length; return true; }), FRAME_OK);
  assert.equal(got, 1048575, 'exactly the limit is accepted');
});

test('a negative length closes the stream', () => {
  const d = new FrameDecoder(1000);
  assert.equal(d.feed(Buffer.from([0xff, 0xff, 0xff, 0xfe, 1, 2]), () => true), FRAME_BAD_LENGTH);
});

test('a zero-length frame is delivered as an empty frame', () => {
  const d = new FrameDecoder(1000);
  const got: number[] = [];
  d.feed(Buffer.from([0, 0, 0, 0, 0, 0, 0, 1, 9]), (f) => { got.push(f.length); return true; });
  assert.deepEqual(got, [0, 1]);
});

test('stop and resume keep every frame in order', () => {
  const all = stream(bodies);
  const d = new FrameDecoder(1 << 20);
  const out: Buffer[] = [];
  let allow = 3;
  const sink = (f: Buffer) => {
    if (allow === 0) return false;
    allow--;
    out.push(Buffer.from(f));
    return true;
  };
  // Stopping before a frame means that frame is redelivered by resume().
  let status = d.feed(all.subarray(0, 500), (f) => { const ok = sink(f); return ok; });
  assert.equal(status, FRAME_STOPPED);
  assert.equal(d.feed(all.subarray(500), () => assert.fail('no delivery while stopped')), FRAME_STOPPED);
  for (let round = 0; round < 1000 && status === FRAME_STOPPED; round++) {
    allow = 2;
    status = d.resume(sink);
  }
  assert.equal(status, FRAME_OK);
  assert.deepEqual(out, bodies);
});

test('the first word hook sees the first four bytes and can take over (four-letter words)', () => {
  const d = new FrameDecoder(1000);
  let seen = 0;
  d.onFirstWord = (w) => { seen = w; return true; };
  assert.equal(d.feed(Buffer.from('ruok'), () => assert.fail('not a frame')), FRAME_CLOSED);
  assert.equal(seen, Buffer.from('ruok').readInt32BE(0));
});

test('refusals at random points, with frames split anywhere, lose and duplicate nothing', () => {
  const all = stream(bodies);
  let seed = 99;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  for (let trial = 0; trial < 100; trial++) {
    const d = new FrameDecoder(1 << 20);
    const out: Buffer[] = [];
    const sink = (f: Buffer) => {
      if (rand(3) === 0) return false;
      out.push(Buffer.from(f));
      return true;
    };
    let pos = 0;
    for (let steps = 0; steps < 100_000 && (pos < all.length || d.hasPending()); steps++) {
      if (pos < all.length && rand(2) === 0) {
        const n = 1 + rand(40);
        d.feed(all.subarray(pos, pos + n), sink);
        pos += n;
      } else {
        d.resume(sink);
        if (pos >= all.length && out.length === bodies.length) break;
      }
    }
    assert.deepEqual(out, bodies, `trial ${trial}`);
  }
});
