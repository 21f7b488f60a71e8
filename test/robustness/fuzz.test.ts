// Fuzzing a spawned zoonode (workers=0 and workers=2) with seeded hostile
// input (test/support/fuzz-frames.ts): random bytes; valid lengths with
// random bodies; negative lengths; lengths over jute.maxbuffer (closed on the
// length alone); a valid handshake followed by every opcode of
// src/jute/opcodes.ts and unknown ones with random, truncated, over-long and
// valid records; bit-flipped well-formed requests; 1000-level paths and a
// 100,000-level lookup; a path filling a 1 MiB frame; multis of tens of
// thousands of ops; setWatches with lists filling a frame; invalid UTF-8,
// negative string lengths and vector counts of 2^31-1.
//
// What must hold (test/support/fuzz-run.ts runs it, this file judges):
//   - every case gets its verdict: the replies Apache would give, in order,
//     with known codes, or the close Apache would do; never a hang, never a
//     close of a connection that sent nothing wrong;
//   - the server process and its threads stay up; a canary session on its
//     own connection gets right answers to create/setData/getData/delete
//     after every round, and its ephemeral node and data watch survive;
//   - once the fuzz sessions expired, the counters (znodes, sessions,
//     watches, ephemerals, connections) are back to the baseline and live
//     memory is within a bound of it (see memoryBounds);
//   - no ERROR line or uncaught exception in the server's log; the server
//     stops cleanly and restarts on its data directory with what the canary
//     left.
// A sample of the cases also runs against Apache ZooKeeper 3.8, and the
// answers must be the same (deliberate differences are listed there).
// Bugs the fuzz found have regression tests at the end of the file.
//
// The seed is printed; ZOONODE_FUZZ_SEED=<n> replays a run. The long run
// (a million frames and more) is scripts/fuzz-long.mjs (see the README).

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startZoonode, type TestServer } from '../support/zoonode.js';
import { isApacheInstalled, startApache, type ApacheServer } from '../support/apache.js';
import { ZkClient } from '../../native-free-bench/zk-client.js';
import { OpCode, Reader, Writer, Xid, Err, readMultiRequest, writePathWatch } from '../../src/jute/index.js';
import { FuzzGen, Prng, ALL_OPS, UNKNOWN_OPS, seedFrom, probeFrame, type FuzzCase } from '../support/fuzz-frames.js';
import { requestFrame as frame } from '../support/compat-wire.js';
import { FuzzConn, adminSession, fuzzServerArgs, outcomeOf, setupFuzzTree, type Outcome } from '../support/fuzz-driver.js';
import { runFuzz, verdict, summary, describeMemory } from '../support/fuzz-run.js';

const { seed, fromEnv } = seedFrom('ZOONODE_FUZZ_SEED');
const replay = `ZOONODE_FUZZ_SEED=${seed}${fromEnv ? ' (from the environment)' : ''}`;
console.log(`fuzz seed: ${replay}`);

/** Every generator must have run in a bounded run (the weights make this all but certain). */
const generators = ['random-bytes', 'random-body', 'negative-length', 'huge-length', 'four-letter', 'bad-handshake', 'opcode-random', 'opcode-truncated',
  'opcode-overlong', 'opcode-valid', 'mutated', 'bad-strings', 'deep-path', 'long-path', 'huge-multi', 'huge-set-watches'];

for (const workers of [0, 2]) {
  test(`fuzz workers=${workers}: the server stays up, answers like Apache, keeps the canary whole, returns to its baseline`, async (t) => {
    t.diagnostic(`seed ${replay}`);
    const r = await runFuzz({
      workers, seed: (seed + workers) >>> 0, lanes: 4, roundCases: 300, rounds: 2, framesTarget: Infinity, restart: true, sampleEvery: 0,
      progress: (line) => t.diagnostic(line),
    });
    t.diagnostic(summary(r));
    if (r.baseline !== null) t.diagnostic(`memory at the baseline: ${describeMemory(r.baseline.memory)}`);
    if (r.final !== null) t.diagnostic(`memory at the end:      ${describeMemory(r.final.memory)}`);
    const problems = verdict(r);
    assert.deepEqual(problems, [], `(${replay}, workers=${workers}):\n  ${problems.slice(0, 30).join('\n  ')}`);
    assert.ok(r.stats.frames >= 3000, `only ${r.stats.frames} frames were sent`);
    assert.equal(r.canaryChecks, r.rounds + 1, 'the canary was checked after every round');
    for (const g of generators) assert.ok((r.stats.byGen.get(g) ?? 0) > 0, `generator ${g} never ran (${replay})`);
    assert.ok(r.restart !== null, 'the restart check ran');
  });
}

// ---- the same cases against Apache ZooKeeper 3.8 ------------------------------------

/**
 * Cases where zoonode deliberately answers otherwise than Apache 3.8, left
 * out of the comparison:
 *   - check (13) outside a multi: Apache never answers; zoonode answers
 *     UNIMPLEMENTED and closes (test/compat/differential.test.ts);
 *   - createSession (-10) sent as a request: Apache writes a ConnectResponse
 *     into the reply stream (or MARSHALLINGERROR); zoonode treats it as an
 *     unknown opcode (UNIMPLEMENTED, close);
 *   - sasl (102): the answer depends on the server's SASL configuration
 *     (none here; Apache then still answers some tokens);
 *   - checkWatches/removeWatches with watcher types 4 and 5: 3.9's meaning
 *     (3.8 answers MARSHALLINGERROR; see test/compat/differential.test.ts);
 *   - checkWatches of a path without a leading '/': 3.9's NOWATCHER (3.8's
 *     walk over the path's parents fails: MARSHALLINGERROR);
 *   - createTTL (21) whose create mode is not a TTL mode: Apache 3.8 logs
 *     it, then exits applying it (and its log then fails every restart);
 *     zoonode answers BADARGUMENTS (a regression test below);
 *   - a multi holding a create2 (15) op: zoonode answers it with its Stat
 *     (3.9's behaviour, README), 3.8 as a plain create
 *     (test/compat/differential-more.test.ts).
 */
function deliberate(c: FuzzCase): boolean {
  const req = c.reqs?.[0];
  if (req === undefined) return true;
  if (req.type === OpCode.check || req.type === OpCode.createSession || req.type === OpCode.sasl) return true;
  if (req.type === OpCode.createTTL) {
    try {
      const r = new Reader(c.bytes, 12);
      r.ustring();
      r.buffer();
      const n = r.int();
      for (let i = 0; i < n; i++) { r.int(); r.ustring(); r.ustring(); }
      const flags = r.int();
      return flags !== 5 && flags !== 6;
    } catch {
      return false;
    }
  }
  if (req.type === OpCode.multi) {
    try {
      return readMultiRequest(new Reader(c.bytes, 12)).some((op) => op.type === OpCode.create2);
    } catch {
      return false;
    }
  }
  if (req.type === OpCode.checkWatches || req.type === OpCode.removeWatches) {
    try {
      const r = new Reader(c.bytes, 12);
      const path = r.ustring();
      const wt = r.int();
      if (wt === 4 || wt === 5) return true;
      // 3.8's check walks the path's parents, cutting at the last '/', and
      // fails (MARSHALLINGERROR) on a path without a leading one; 3.9, like
      // zoonode, looks the path up and answers NOWATCHER.
      return req.type === OpCode.checkWatches && path !== null && !path.startsWith('/');
    } catch {
      return false;
    }
  }
  return false;
}

/**
 * Apache answers an unknown opcode with UNIMPLEMENTED, and closeSession with
 * OK, then closes; but its NIO write loop may still send replies to requests
 * pipelined behind them (the probe) before the close takes effect. zoonode
 * never does. Compared: that reply and that the connection ends.
 */
function normalize(c: FuzzCase, o: Outcome): Outcome {
  const first = o.replies[0];
  if (first === undefined || o.end === 'silent') return o;
  if (first[0] === Err.UNIMPLEMENTED || (c.reqs?.[0]?.type === OpCode.closeSession && first[0] === Err.OK)) {
    return { replies: [first], end: 'closed' };
  }
  return o;
}

function comparisonSample(s: number): FuzzCase[] {
  const g = new FuzzGen(new Prng(s));
  const out: FuzzCase[] = [];
  for (const op of [...ALL_OPS, ...UNKNOWN_OPS]) {
    for (const v of ['random', 'truncated', 'overlong', 'valid'] as const) out.push(g.opcodeBody(op, v));
  }
  for (let i = 0; i < 30; i++) out.push(g.badStrings());
  for (let i = 0; i < 30; i++) out.push(g.mutated());
  for (let i = 0; i < 15; i++) out.push(g.randomBody('post'));
  out.push(...g.allBig());
  return out.filter((c) => !c.endAfter && !deliberate(c));
}

describe('fuzz cases against Apache ZooKeeper 3.8', { skip: isApacheInstalled() ? false : 'Apache ZooKeeper 3.8 is not installed' }, () => {
  let apache: ApacheServer | null = null;
  let zoonode: TestServer | null = null;

  before(async () => {
    const settings: Record<string, string> = {};
    for (const a of fuzzServerArgs(0)) {
      const eq = a.indexOf('=');
      settings[a.slice(0, eq)] = a.slice(eq + 1);
    }
    apache = await startApache({
      extendedTypesEnabled: 'true', 'DigestAuthenticationProvider.superDigest': settings['DigestAuthenticationProvider.superDigest']!,
    });
    zoonode = await startZoonode(settings);
    for (const port of [apache.port, zoonode.port]) {
      const admin = await adminSession('127.0.0.1', port);
      await setupFuzzTree(admin);
      await admin.close();
    }
  });

  after(async () => {
    await apache?.stop();
    await zoonode?.stop();
  });

  test('a sample of every generator gets the same answers (codes, reply lengths, closes)', async (t) => {
    const sample = comparisonSample(seed);
    const diffs: string[] = [];
    for (const c of sample) {
      const ms = c.gen.startsWith('huge') || c.gen.endsWith('path') ? 30000 : 3000;
      const a = normalize(c, await outcomeOf('127.0.0.1', apache!.port, c, ms));
      const z = normalize(c, await outcomeOf('127.0.0.1', zoonode!.port, c, ms));
      if (JSON.stringify(a) !== JSON.stringify(z)) {
        diffs.push(`${c.gen}: ${c.label}\n    apache:  ${JSON.stringify(a)}\n    zoonode: ${JSON.stringify(z)}\n` +
          `    bytes:   ${c.bytes.subarray(0, 64).toString('hex')}${c.bytes.length > 64 ? '...' : ''}`);
      }
    }
    t.diagnostic(`${sample.length} cases compared (${replay})`);
    assert.deepEqual(diffs, [], `zoonode answers otherwise than Apache 3.8 (${replay}):\n${diffs.slice(0, 20).join('\n')}`);
  });

  test('an unknown opcode behind pending requests: UNIMPLEMENTED in order on zoonode, then the close', async () => {
    // Apache 3.8 sends UNIMPLEMENTED ahead of the replies still in its
    // pipeline (then closes); zoonode keeps the session's order, which is
    // what clients check replies against.
    const frames = Buffer.concat([probeFrame(4), unknownFrame(5, 99), probeFrame(6)]);
    const z = await FuzzConn.connect('127.0.0.1', zoonode!.port);
    assert.equal(await z.handshake(30000, true), null);
    z.socket.write(frames);
    assert.ok(await z.until(() => z.closed, 5000), 'zoonode closes the connection');
    assert.deepEqual(z.replies.map((x) => [x.xid, x.err]), [[4, 0], [5, Err.UNIMPLEMENTED]]);
    const a = await FuzzConn.connect('127.0.0.1', apache!.port);
    assert.equal(await a.handshake(30000, true), null);
    a.socket.write(frames);
    assert.ok(await a.until(() => a.closed, 5000), 'Apache closes the connection');
    assert.ok(a.replies.some((x) => x.xid === 5 && x.err === Err.UNIMPLEMENTED), 'Apache answers UNIMPLEMENTED too');
  });
});

function unknownFrame(xid: number, type: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeInt32BE(8, 0);
  b.writeInt32BE(xid, 4);
  b.writeInt32BE(type, 8);
  return b;
}

// ---- regressions: bugs the fuzz found ------------------------------------------------

/** Sends frames on a fresh session, then a probe; the replies (xid, err) and whether the connection closed. */
async function exchange(port: number, frames: Buffer[]): Promise<{ replies: [number, number][]; closed: boolean; conn: FuzzConn }> {
  const c = await FuzzConn.connect('127.0.0.1', port);
  assert.equal(await c.handshake(30000, true), null);
  for (const f of frames) c.socket.write(f);
  c.socket.write(probeFrame(999));
  await c.until(() => c.closed || c.replies.some((r) => r.xid === 999), 5000);
  return { replies: c.replies.filter((r) => r.xid !== 999).map((r) => [r.xid, r.err]), closed: c.closed, conn: c };
}

for (const workers of [0, 2]) {
  describe(`regressions found by the fuzz, workers=${workers}`, () => {
    let z: TestServer | null = null;
    before(async () => { z = await startZoonode({ workers }); });
    after(async () => { await z?.stop(); });

    test('a negative vector count (not -1) reads as an empty vector, as Apache does, not as a marshalling error', async () => {
      assert.equal(new Reader(new Writer().int(-2).bytes()).vectorLength(4), 0);
      const b = await ZkClient.connect(z!.host, z!.port, { ping: false });
      await b.create('/neg', null);
      // setWatches {relativeZxid, dataWatches: count -5, existWatches: [], childWatches: ["/neg"]}
      const sw = frame(1, OpCode.setWatches, (w) => { w.long(2 ** 40).int(-5).int(0).int(1).ustring('/neg'); });
      // setACL {"/neg", acl: count -2, version} : an empty ACL list is INVALIDACL
      const sa = frame(2, OpCode.setACL, (w) => { w.ustring('/neg').int(-2).int(-1); });
      const ex = await exchange(z!.port, [sw, sa]);
      assert.deepEqual(ex.replies, [[1, 0], [2, Err.INVALIDACL]]);
      // The child watch from the list after the negative count was set.
      await b.create('/neg/c', null);
      assert.ok(await ex.conn.until(() => ex.conn.notifications > 0, 5000), 'the child watch fired');
      ex.conn.destroy();
      await b.close();
    });

    test('a truncated reconfig is a MARSHALLINGERROR even with reconfig disabled (Apache decodes it first)', async () => {
      const ex = await exchange(z!.port, [
        frame(1, OpCode.reconfig, (w) => { w.int(3); }),
        frame(2, OpCode.reconfig, (w) => { w.ustring(null).ustring(null).ustring('server.1=x').long(-1); }),
      ]);
      assert.deepEqual(ex.replies, [[1, Err.MARSHALLINGERROR], [2, Err.RECONFIGDISABLED]]);
      assert.equal(ex.closed, false);
      ex.conn.destroy();
    });

    test('an AuthPacket that does not decode closes the connection without a reply; the session lives on', async () => {
      const c = await FuzzConn.connect('127.0.0.1', z!.port);
      assert.equal(await c.handshake(30000, true), null);
      c.socket.write(frame(Xid.auth, OpCode.auth, (w) => { w.int(0).int(10).raw(Buffer.from('dig')); }));
      assert.ok(await c.until(() => c.closed, 5000), 'closed');
      assert.deepEqual(c.replies, [], 'no reply (Apache: an IOException in processPacket)');
      const check = await ZkClient.connect(z!.host, z!.port, { ping: false });
      const st = await check.request(OpCode.exists, (w) => writePathWatch(w, { path: '/', watch: false }));
      assert.equal(st.hdr.err, 0, 'the server serves others');
      await check.close();
    });

    test("addauth with Apache's ip provider succeeds; digest with null credentials fails", async () => {
      const ip = await exchange(z!.port, [
        frame(Xid.auth, OpCode.auth, (w) => { w.int(0).ustring('ip').buffer(Buffer.from('10.0.0.1')); }),
        frame(7, OpCode.whoAmI, () => {}),
      ]);
      assert.deepEqual(ip.replies, [[Xid.auth, 0], [7, 0]]);
      assert.equal(ip.closed, false, 'the connection stays open');
      ip.conn.destroy();
      const dg = await exchange(z!.port, [frame(Xid.auth, OpCode.auth, (w) => { w.int(0).ustring('digest').buffer(null); })]);
      assert.deepEqual(dg.replies, [[Xid.auth, Err.AUTHFAILED]]);
      assert.equal(dg.closed, true, 'AUTHFAILED closes the connection');
    });

    test('createTTL with a create mode that is not a TTL mode is BADARGUMENTS (Apache 3.8 exits on it)', async () => {
      const ttlz = await startZoonode({ workers, extendedTypesEnabled: true });
      try {
        // createTTL {"/ttl-mode", data, open ACL, flags, ttl}: PERSISTENT, EPHEMERAL and CONTAINER with ttl -1, then a real TTL mode.
        const req = (xid: number, flags: number, ttl: number) => frame(xid, OpCode.createTTL, (w) => {
          w.ustring(`/ttl-mode-${xid}`).buffer(Buffer.from('x')).int(1).int(31).ustring('world').ustring('anyone').int(flags).long(ttl);
        });
        const ex = await exchange(ttlz.port, [req(1, 0, -1), req(2, 1, -1), req(3, 4, -1), req(4, 5, 60000)]);
        assert.deepEqual(ex.replies, [[1, Err.BADARGUMENTS], [2, Err.BADARGUMENTS], [3, Err.BADARGUMENTS], [4, 0]]);
        assert.equal(ex.closed, false);
        ex.conn.destroy();
        const c = await ZkClient.connect(ttlz.host, ttlz.port, { ping: false });
        assert.equal(await c.exists('/ttl-mode-1'), null, 'nothing was created');
        assert.notEqual(await c.exists('/ttl-mode-4'), null, 'the TTL node was');
        await c.close();
      } finally {
        await ttlz.stop();
      }
    });

    test('a ping behind a pending write is answered with xid -2, as every ping', async () => {
      const ex = await exchange(z!.port, [
        frame(4, OpCode.create, (w) => { w.ustring(`/ping-order-${workers}`).int(-1).int(1).int(31).ustring('world').ustring('anyone').int(0); }),
        frame(5, OpCode.ping, () => {}),
      ]);
      assert.deepEqual(ex.replies, [[4, 0], [Xid.ping, 0]], 'the ping is answered after the create, with xid -2');
      ex.conn.destroy();
    });
  });
}
