// Golden frames: bytes the official Java client and Apache ZooKeeper 3.8
// exchanged (captured by scripts/capture-golden-frames.mjs). Every request
// must decode with zoonode's codec and re-encode to the same bytes, and every
// response must decode to the values the Java client saw.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  Reader, Writer, OpCode, JuteError,
  readConnectRequest, writeConnectRequest, readConnectResponse, writeConnectResponse,
  readRequestHeader, writeRequestHeader, readReplyHeader,
  readCreate, writeCreate, readPathWatch, writePathWatch, readSetData, writeSetData,
  readPathOnly, writePathOnly, readSetACL, writeSetACL, readPathInt, writePathInt,
  readAuthPacket, writeAuthPacket, readMultiRequest, writeMultiRequest,
  readStat, writeStat, readGetDataResponse, readGetChildren2Response, readGetACLResponse,
  readMultiResponse, writeMultiResponse, readWhoAmIResponse, readStringList, readCreate2Response,
} from '../../src/jute/index.js';

interface Golden { dir: 'request' | 'response'; kind: 'connect' | 'frame'; hex: string }
const golden = JSON.parse(fs.readFileSync(new URL('../../../test/fixtures/apache-golden-frames.json', import.meta.url), 'utf8')) as { frames: Golden[] };
const frames = golden.frames.map((f) => ({ ...f, bytes: Buffer.from(f.hex, 'hex') }));

function reencodeRequest(type: number, r: Reader, w: Writer): void {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
      writeCreate(w, readCreate(r, false), false);
      return;
    case OpCode.getData:
    case OpCode.exists:
    case OpCode.getChildren:
    case OpCode.getChildren2:
      writePathWatch(w, readPathWatch(r));
      return;
    case OpCode.setData:
      writeSetData(w, readSetData(r));
      return;
    case OpCode.setACL:
      writeSetACL(w, readSetACL(r));
      return;
    case OpCode.getACL:
    case OpCode.sync:
    case OpCode.getEphemerals:
    case OpCode.getAllChildrenNumber:
      writePathOnly(w, readPathOnly(r));
      return;
    case OpCode.delete:
    case OpCode.addWatch:
    case OpCode.removeWatches:
    case OpCode.checkWatches:
      writePathInt(w, readPathInt(r));
      return;
    case OpCode.auth:
      writeAuthPacket(w, readAuthPacket(r));
      return;
    case OpCode.multi:
      writeMultiRequest(w, readMultiRequest(r));
      return;
    case OpCode.whoAmI:
    case OpCode.closeSession:
    case OpCode.ping:
      return;
    default:
      assert.fail(`golden request of unexpected type ${type}`);
  }
}

test('golden: the Java client\'s 45-byte ConnectRequest round-trips', () => {
  const f = frames.find((x) => x.dir === 'request' && x.kind === 'connect')!;
  assert.equal(f.bytes.length, 45);
  const req = readConnectRequest(new Reader(f.bytes));
  assert.equal(req.protocolVersion, 0);
  assert.equal(req.lastZxidSeen, 0);
  assert.equal(req.timeOut, 30000);
  assert.equal(req.sessionId, 0n);
  assert.equal(req.passwd.length, 16);
  assert.equal(req.withReadOnlyByte, true);
  const w = new Writer();
  writeConnectRequest(w, req);
  assert.deepEqual(w.bytes(), f.bytes);
});

test('golden: Apache\'s 37-byte ConnectResponse decodes and re-encodes', () => {
  const f = frames.find((x) => x.dir === 'response' && x.kind === 'connect')!;
  assert.equal(f.bytes.length, 37);
  const rsp = readConnectResponse(new Reader(f.bytes));
  assert.equal(rsp.timeOut, 30000);
  assert.notEqual(rsp.sessionId, 0n);
  assert.equal(rsp.passwd.length, 16);
  const w = new Writer();
  writeConnectResponse(w, rsp);
  assert.deepEqual(w.bytes(), f.bytes);
});

test('golden: every request frame decodes and re-encodes to identical bytes', () => {
  const reqs = frames.filter((x) => x.dir === 'request' && x.kind === 'frame');
  assert.ok(reqs.length >= 20, 'fixture has the requests');
  const types = new Set<number>();
  for (const f of reqs) {
    const r = new Reader(f.bytes);
    const h = readRequestHeader(r);
    types.add(h.type);
    const w = new Writer();
    writeRequestHeader(w, h);
    reencodeRequest(h.type, r, w);
    assert.equal(r.remaining(), 0, `type ${h.type}: whole record consumed`);
    assert.deepEqual(w.bytes(), f.bytes, `type ${h.type} round-trips`);
  }
  for (const t of [OpCode.create, OpCode.getData, OpCode.setData, OpCode.getChildren2, OpCode.exists, OpCode.multi, OpCode.auth]) {
    assert.ok(types.has(t), `fixture covers op ${t}`);
  }
});

test('golden: responses decode as the Java client read them', () => {
  // Pair responses with requests by xid to know each response's record type.
  const byXid = new Map<number, number>();
  for (const f of frames) {
    if (f.dir !== 'request' || f.kind !== 'frame') continue;
    const h = readRequestHeader(new Reader(f.bytes));
    byXid.set(h.xid, h.type);
  }
  let checked = 0;
  for (const f of frames) {
    if (f.dir !== 'response' || f.kind !== 'frame') continue;
    const r = new Reader(f.bytes);
    const hdr = readReplyHeader(r);
    const type = byXid.get(hdr.xid);
    assert.notEqual(type, undefined, `response xid ${hdr.xid} answers a request`);
    if (hdr.err !== 0) {
      assert.equal(r.remaining(), 0, 'an error reply is the header alone');
      checked++;
      continue;
    }
    switch (type) {
      case OpCode.create: assert.match(r.path(), /^\/golden/); break;
      case OpCode.create2: readCreate2Response(r); break;
      case OpCode.getData: {
        const d = readGetDataResponse(r);
        assert.equal(d.stat.dataLength, d.data === null ? 0 : d.data.length);
        const w = new Writer();
        writeStat(w, d.stat);
        assert.deepEqual(w.bytes(), f.bytes.subarray(f.bytes.length - 68), 'stat re-encodes');
        break;
      }
      case OpCode.setData:
      case OpCode.setACL: readStat(r); break;
      case OpCode.getChildren2: {
        const c = readGetChildren2Response(r);
        assert.equal(c.children.length, c.stat.numChildren);
        break;
      }
      case OpCode.getChildren: readStringList(r); break;
      case OpCode.getACL: assert.deepEqual(readGetACLResponse(r).acl, [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }]); break;
      case OpCode.sync: assert.equal(r.path(), '/golden'); break;
      case OpCode.whoAmI: {
        const ids = readWhoAmIResponse(r);
        assert.deepEqual(ids.map((i) => i.authScheme).sort(), ['digest', 'ip']);
        break;
      }
      case OpCode.getEphemerals: assert.deepEqual(readStringList(r), ['/golden/eph']); break;
      case OpCode.getAllChildrenNumber: assert.equal(r.int(), 3); break;
      case OpCode.addWatch: assert.equal(r.int(), 0); break;
      case OpCode.multi: {
        const res = readMultiResponse(r);
        assert.ok(res.length > 0);
        const w = new Writer();
        writeMultiResponse(w, res);
        assert.deepEqual(w.bytes(), f.bytes.subarray(16), 'multi response re-encodes');
        break;
      }
      default: break;
    }
    assert.equal(r.remaining(), 0, `response to op ${type} fully consumed`);
    checked++;
  }
  assert.ok(checked >= 20);
});

test('reader refuses truncation at every length instead of reading past the record', () => {
  const f = frames.find((x) => x.dir === 'response' && x.kind === 'frame' && x.bytes.length > 80)!;
  for (let n = 0; n < f.bytes.length; n++) {
    const r = new Reader(f.bytes.subarray(0, n));
    assert.throws(() => { readReplyHeader(r); readGetDataResponse(r); }, JuteError, `truncated at ${n}`);
  }
});

test('negative and oversized lengths are errors, -1 is null', () => {
  const w = new Writer();
  w.int(-1).int(-1).int(-2);
  const r = new Reader(w.bytes());
  assert.equal(r.buffer(), null);
  assert.equal(r.ustring(), null);
  assert.throws(() => r.buffer(), JuteError);
  const v = new Writer().int(1_000_000).bytes();
  assert.throws(() => new Reader(v).vectorLength(4), JuteError);
  assert.throws(() => new Reader(new Writer().int(-1).bytes()).path(), JuteError, 'a null path is refused');
});

test('longs keep exact values up to 2^53 and (hi, lo) words', () => {
  const w = new Writer();
  w.long(0x1_0000_0002).long(-1).long(2 ** 53 - 1).longHiLo(0x80000000 | 0, 0).bigLong(-2n);
  const r = new Reader(w.bytes());
  assert.equal(r.long(), 0x1_0000_0002);
  assert.equal(r.long(), -1);
  assert.equal(r.long(), 2 ** 53 - 1);
  assert.equal(r.bigLong(), -(2n ** 63n));
  assert.equal(r.bigLong(), -2n);
});

test('UTF-8 strings round-trip; invalid UTF-8 decodes to U+FFFD like Java', () => {
  const w = new Writer();
  w.ustring('/zoo/ünïcødé/日本').buffer(Buffer.from([0xff, 0xfe]));
  const r = new Reader(w.bytes());
  assert.equal(r.ustring(), '/zoo/ünïcødé/日本');
  const bad = new Reader(w.bytes().subarray(w.bytes().length - 6));
  assert.equal(bad.ustring(), '\ufffd\ufffd');
});

test('Writer.ustring and pathJoin encode UTF-8 exactly as Buffer does, ASCII fast path or not', () => {
  const samples = ['', 'a', '/zookeeper/quota', 'x'.repeat(64), 'y'.repeat(65), 'caf\u00e9', '\u{1f600}', 'ab\ud800cd',
    `${'z'.repeat(63)}\u00ff`, 'n\u0000ul'];
  for (const s of samples) {
    const w = new Writer(8);
    w.ustring(s);
    const want = Buffer.from(s, 'utf8');
    assert.equal(w.buf.readInt32BE(0), want.length, `length of ${JSON.stringify(s)}`);
    assert.deepEqual(w.buf.subarray(4, w.pos), want, `bytes of ${JSON.stringify(s)}`);
    const j = new Writer(8);
    j.pathJoin(s, s);
    const joined = Buffer.from(`${s}/${s}`, 'utf8');
    assert.equal(j.buf.readInt32BE(0), joined.length);
    assert.deepEqual(j.buf.subarray(4, j.pos), joined);
  }
});
