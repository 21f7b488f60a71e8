// Test support (not a test file): seeded generators of hostile client input,
// shared by test/robustness/fuzz.test.ts and the long run
// (scripts/fuzz-long.mjs). Each generator returns a FuzzCase: the bytes to
// send on a connection (before or after a valid handshake) and what a correct
// server must do with them. The expectations are only what holds for Apache
// ZooKeeper 3.8 as well (the fuzz test checks a sample against it):
//
//   closeNow       a bad frame length or a frame too short for a RequestHeader:
//                  the connection is closed at once, with no reply;
//   unimplemented  an opcode Apache does not accept: UNIMPLEMENTED, then close;
//   answered       every request answered in order with one of the listed
//                  codes (null: any code of KeeperException.Code), and the
//                  connection stays open (unless thenClose);
//   any            replies, if any, come in order with known codes, or the
//                  server closes; never a hang;
//   text           (a four-letter word) some text, then the close.
//
// Paths stay under /fz (made by the driver) so a mutation can reach neither
// the canary's nodes nor /zookeeper in practice; a flipped '/' can still make
// a top-level node, which the driver's cleanup removes.

import {
  Writer, OpCode, Xid, Err,
  writeConnectRequest, writeCreate, writePathWatch, writePathOnly, writeSetData, writePathVersion, writeSetACL,
  writePathInt, writeSetWatches, writeReconfig, writeMultiRequest, writeAuthPacket,
  type ACL, type MultiOp,
} from '../../src/jute/index.js';
import { requestFrame as frame } from './compat-wire.js';

// ---- a seeded PRNG -------------------------------------------------------------

/** mulberry32: small, fast, and the same sequence on every platform for a seed. */
export class Prng {
  private a: number;

  constructor(readonly seed: number) {
    this.a = seed >>> 0;
  }

  u32(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** 0 <= n < max */
  int(max: number): number {
    return Math.floor((this.u32() / 4294967296) * max);
  }

  /** lo <= n <= hi */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }

  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) b.writeUInt32LE(this.u32(), i);
    for (; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }

  /** A child generator whose sequence depends only on this one's next value. */
  fork(): Prng {
    return new Prng(this.u32());
  }
}

/** The seed from an environment variable (decimal or 0x hex), or a fresh one. */
export function seedFrom(envName: string): { seed: number; fromEnv: boolean } {
  const v = process.env[envName];
  if (v !== undefined && v !== '') {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`${envName}=${v}: expected an integer 0..2^32-1`);
    return { seed: n, fromEnv: true };
  }
  return { seed: (Date.now() ^ (process.pid << 16)) >>> 0, fromEnv: false };
}

// ---- protocol facts the expectations rest on -------------------------------------

/** Every KeeperException.Code value a server may send. */
export const KNOWN_ERRS: ReadonlySet<number> = new Set(Object.values(Err));

/** Opcodes Apache 3.8 accepts in a request (Request.isValid), plus auth and sasl (handled before it). */
const apacheValid = new Set<number>([
  OpCode.check, OpCode.closeSession, OpCode.create, OpCode.create2, OpCode.createTTL, OpCode.createContainer,
  OpCode.createSession, OpCode.delete, OpCode.deleteContainer, OpCode.exists, OpCode.getACL, OpCode.getChildren,
  OpCode.getAllChildrenNumber, OpCode.getChildren2, OpCode.getData, OpCode.getEphemerals, OpCode.multi,
  OpCode.multiRead, OpCode.ping, OpCode.reconfig, OpCode.setACL, OpCode.setData, OpCode.setWatches,
  OpCode.setWatches2, OpCode.sync, OpCode.checkWatches, OpCode.removeWatches, OpCode.addWatch, OpCode.whoAmI,
  OpCode.auth, OpCode.sasl,
]);

/**
 * Opcodes after which the connection may close: closeSession; auth and sasl
 * (a failed or malformed one); check outside a multi and createSession as a request (zoonode answers
 * UNIMPLEMENTED and closes; Apache 3.8 leaves check unanswered); anything
 * Apache does not accept.
 */
export function mayClose(type: number): boolean {
  return type === OpCode.closeSession || type === OpCode.auth || type === OpCode.sasl || type === OpCode.check ||
    type === OpCode.createSession || !apacheValid.has(type);
}

/** Every opcode of src/jute/opcodes.ts. */
export const ALL_OPS: readonly number[] = [...new Set(Object.values(OpCode))];

/** Opcodes no ZooKeeper server knows (gaps, just past the ends, extremes). */
export const UNKNOWN_OPS: readonly number[] = [10, 23, 24, 99, 108, 109, 150, 1000, -2, -9, -12, -100, 0x7fffffff, -0x80000000];

/** Ops whose request record the server decodes: a truncated record is a MARSHALLINGERROR. */
const decodesBody = new Set<number>([
  OpCode.create, OpCode.create2, OpCode.createContainer, OpCode.createTTL, OpCode.delete, OpCode.exists,
  OpCode.getData, OpCode.setData, OpCode.getACL, OpCode.setACL, OpCode.getChildren, OpCode.getChildren2,
  OpCode.sync, OpCode.multi, OpCode.multiRead, OpCode.setWatches, OpCode.setWatches2, OpCode.getEphemerals,
  OpCode.getAllChildrenNumber, OpCode.addWatch, OpCode.checkWatches, OpCode.removeWatches,
]);

// ---- cases -----------------------------------------------------------------------

export interface Req { xid: number; type: number }

export type Expect =
  | { kind: 'text' }
  | { kind: 'closeNow' }
  | { kind: 'unimplemented' }
  | { kind: 'answered'; errs: (readonly number[] | null)[]; thenClose?: boolean }
  | { kind: 'any' };

export interface FuzzCase {
  /** Generator name (counted in reports). */
  gen: string;
  /** What this case sends, for failure messages. */
  label: string;
  /** 'pre': on a fresh connection instead of a ConnectRequest; 'post': after a valid handshake. */
  phase: 'pre' | 'post';
  bytes: Buffer;
  /** Frames in `bytes` (for frame counts). */
  frames: number;
  /** The xid and type of each complete request frame in `bytes`, in order, when known. */
  reqs?: Req[];
  /** The bytes may end mid-frame: half-close our side afterwards instead of sending a probe. */
  endAfter: boolean;
  expect: Expect;
}

export const FZ = '/fz';
/** Parent of the big generators' nodes: only they write there, so their expectations hold whatever the rest did. */
export const FZ_BIG = '/fzbig';
/** Nodes the driver creates under /fz before fuzzing (mutations aim at them). */
export const FZ_NODES: readonly [string, string][] = [[FZ, ''], [`${FZ}/a`, 'a'], [`${FZ}/b`, 'b'], [`${FZ}/b/c`, 'c']];

const OPEN_ACL: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const { MARSHALLINGERROR } = Err;
const OK = Err.OK;
const NONODE = Err.NONODE;

/** Options that size the big generators. */
export interface FuzzSizes {
  /** jute.maxbuffer of the server under test. */
  frameMax: number;
  /** Levels of the deep-path generator. */
  deepLevels: number;
}

export const defaultSizes: FuzzSizes = { frameMax: 0xfffff, deepLevels: 1000 };

function rawFrame(xid: number, type: number, record: Buffer): Buffer {
  const b = Buffer.allocUnsafe(12 + record.length);
  b.writeInt32BE(8 + record.length, 0);
  b.writeInt32BE(xid, 4);
  b.writeInt32BE(type, 8);
  record.copy(b, 12);
  return b;
}

/** The xid and type of a whole request frame (length prefix included). */
function reqOf(f: Buffer): Req {
  return { xid: f.readInt32BE(4), type: f.readInt32BE(8) };
}

function recordOf(write: (w: Writer) => void): Buffer {
  const w = new Writer(128);
  write(w);
  return w.copy();
}

export class FuzzGen {
  private xid = 1;
  private uniq = 0;

  constructor(readonly rng: Prng, readonly sizes: FuzzSizes = defaultSizes) {}

  nextXid(): number {
    const x = this.xid;
    this.xid = (this.xid + 1) & 0x3fffffff || 1;
    return x;
  }

  /** A name no other case of this generator uses (several drivers may share a server: add the seed). */
  private name(prefix: string): string {
    return `${prefix}${(this.rng.seed >>> 0).toString(36)}x${(this.uniq++).toString(36)}`;
  }

  private path(): string {
    const r = this.rng;
    switch (r.int(8)) {
      case 0: return '/';
      case 1: return FZ;
      case 2: return `${FZ}/a`;
      case 3: return `${FZ}/b`;
      case 4: return `${FZ}/b/c`;
      case 5: return `${FZ}/${this.name('n')}`;
      case 6: return `${FZ}/b/${this.name('n')}`;
      default: return r.pick(['/zookeeper', '/zookeeper/config', `${FZ}/a/x`, `${FZ}//a`, `${FZ}/a/`, `${FZ}/.`, 'fz', '']);
    }
  }

  /** A path a write may target: never '/' or /zookeeper (reads take any path). */
  private writePath(): string {
    const r = this.rng;
    switch (r.int(4)) {
      case 0: return `${FZ}/a`;
      case 1: return `${FZ}/b/c`;
      case 2: return `${FZ}/${this.name('n')}`;
      default: return `${FZ}/b/${this.name('n')}`;
    }
  }

  private data(): Buffer | null {
    const r = this.rng;
    return r.chance(0.1) ? null : r.bytes(r.int(64));
  }

  private acl(): ACL[] | null {
    const r = this.rng;
    switch (r.int(8)) {
      case 0: return null;
      case 1: return [];
      case 2: return [{ perms: 31, id: { scheme: 'auth', id: '' } }];
      case 3: return [{ perms: r.int(32), id: { scheme: 'ip', id: '127.0.0.1' } }, ...OPEN_ACL];
      case 4: return [{ perms: 31, id: { scheme: 'digest', id: 'u:hash' } }, ...OPEN_ACL];
      case 5: return [{ perms: 31, id: { scheme: 'nosuch', id: 'x' } }];
      default: return OPEN_ACL;
    }
  }

  /** A well-formed request record (no header) for an opcode; empty for ops without a record. */
  record(type: number): Buffer {
    const r = this.rng;
    switch (type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL: {
        const ttl = type === OpCode.createTTL ? r.pick([1, 1000, 60_000, 0, -1, 2 ** 40]) : -1;
        const flags = type === OpCode.createTTL ? r.pick([5, 6, 0]) : type === OpCode.createContainer ? 4 : r.pick([0, 1, 2, 3, 0, 0]);
        return recordOf((w) => writeCreate(w, { path: this.writePath(), data: this.data(), acl: this.acl(), flags, ttl },
          type === OpCode.createTTL));
      }
      case OpCode.delete:
      case OpCode.check:
        return recordOf((w) => writePathVersion(w, { path: this.writePath(), version: r.pick([-1, 0, 1, 5]) }));
      case OpCode.exists:
      case OpCode.getData:
      case OpCode.getChildren:
      case OpCode.getChildren2:
        return recordOf((w) => writePathWatch(w, { path: this.path(), watch: r.chance(0.5) }));
      case OpCode.setData:
        return recordOf((w) => writeSetData(w, { path: this.writePath(), data: this.data(), version: r.pick([-1, -1, 0, 3]) }));
      case OpCode.getACL:
      case OpCode.sync:
      case OpCode.getAllChildrenNumber:
      case OpCode.getEphemerals:
      case OpCode.deleteContainer:
        return recordOf((w) => writePathOnly(w, { path: type === OpCode.deleteContainer ? this.writePath() : this.path() }));
      case OpCode.setACL:
        return recordOf((w) => writeSetACL(w, { path: this.writePath(), acl: this.acl(), version: r.pick([-1, 0, 2]) }));
      case OpCode.multi:
      case OpCode.multiRead:
        return recordOf((w) => writeMultiRequest(w, this.multiOps(type === OpCode.multiRead, r.range(0, 6))));
      case OpCode.reconfig:
        return recordOf((w) => writeReconfig(w, {
          joiningServers: r.chance(0.5) ? 'server.9=127.0.0.1:2888:3888;2181' : null, leavingServers: r.chance(0.5) ? '9' : null,
          newMembers: null, curConfigId: -1,
        }));
      case OpCode.checkWatches:
      case OpCode.removeWatches:
        return recordOf((w) => writePathInt(w, { path: this.path(), value: r.range(0, 6) }));
      case OpCode.addWatch:
        return recordOf((w) => writePathInt(w, { path: this.path(), value: r.range(-1, 2) }));
      case OpCode.setWatches:
      case OpCode.setWatches2: {
        const list = () => Array.from({ length: r.int(4) }, () => this.path());
        return recordOf((w) => writeSetWatches(w, {
          relativeZxid: r.pick([0, 1, 2 ** 40]), dataWatches: list(), existWatches: list(), childWatches: list(),
          persistentWatches: list(), persistentRecursiveWatches: list(),
        }, type === OpCode.setWatches2));
      }
      case OpCode.auth:
        return recordOf((w) => writeAuthPacket(w, {
          type: 0, scheme: r.pick(['digest', 'digest', 'ip', 'nosuch', '']), auth: Buffer.from(r.pick(['u:p', 'super:x', '', ':'])),
        }));
      case OpCode.sasl:
        return recordOf((w) => w.buffer(r.bytes(r.int(32))));
      case OpCode.createSession:
        // CreateSessionTxn shape: an int timeout.
        return recordOf((w) => w.int(r.pick([4000, 0, -1])));
      default:
        // ping, whoAmI, closeSession, notification, error, unknown: no record.
        return Buffer.alloc(0);
    }
  }

  private multiOps(readOnly: boolean, n: number): MultiOp[] {
    const r = this.rng;
    const ops: MultiOp[] = [];
    for (let i = 0; i < n; i++) {
      if (readOnly || r.chance(0.15)) {
        ops.push({ type: r.pick([OpCode.getData, OpCode.getChildren] as const), req: { path: this.path(), watch: false } });
        continue;
      }
      switch (r.int(4)) {
        case 0:
          ops.push({ type: r.pick([OpCode.create, OpCode.create2] as const), req: { path: this.writePath(), data: this.data(), acl: OPEN_ACL, flags: 0, ttl: -1 } });
          break;
        case 1:
          ops.push({ type: OpCode.setData, req: { path: this.writePath(), data: this.data(), version: -1 } });
          break;
        case 2:
          ops.push({ type: OpCode.check, req: { path: this.writePath(), version: r.pick([-1, 0]) } });
          break;
        default:
          ops.push({ type: OpCode.delete, req: { path: this.writePath(), version: -1 } });
      }
    }
    return ops;
  }

  /** What a correct server does with a whole, well-framed request of this type whose record may be anything. */
  private expectFor(type: number): Expect {
    if (!apacheValid.has(type)) return { kind: 'unimplemented' };
    if (mayClose(type)) return { kind: 'any' };
    return { kind: 'answered', errs: [null] };
  }

  // ---- generators ----------------------------------------------------------------

  /** Random bytes, before or after the handshake. */
  randomBytes(phase: 'pre' | 'post'): FuzzCase {
    const r = this.rng;
    const bytes = r.bytes(r.range(1, 2048));
    return { gen: 'random-bytes', label: `${bytes.length} random bytes (${phase} handshake)`, phase, bytes, frames: 1, endAfter: true, expect: { kind: 'any' } };
  }

  /** A valid length prefix with a random body: a ConnectRequest before the handshake, a request after it. */
  randomBody(phase: 'pre' | 'post'): FuzzCase {
    const r = this.rng;
    const n = phase === 'pre' ? r.pick([0, 4, 16, 28, 32, 43, 44, 45, 46, r.int(200)]) : r.pick([0, 3, 7, 8, 12, r.int(64), r.int(600)]);
    const bytes = Buffer.concat([Buffer.from([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]), r.bytes(n)]);
    const label = `length ${n} + random body (${phase} handshake)`;
    if (phase === 'post' && n < 8) {
      return { gen: 'random-body', label, phase, bytes, frames: 1, endAfter: false, expect: { kind: 'closeNow' } };
    }
    if (phase === 'post') {
      const type = bytes.readInt32BE(8);
      return { gen: 'random-body', label: `${label}, type ${type}`, phase, bytes, frames: 1, reqs: [reqOf(bytes)], endAfter: false, expect: this.expectFor(type) };
    }
    return { gen: 'random-body', label, phase, bytes, frames: 1, endAfter: true, expect: { kind: 'any' } };
  }

  /** A negative length prefix, maybe followed by bytes. */
  negativeLength(phase: 'pre' | 'post'): FuzzCase {
    const r = this.rng;
    const len = r.pick([-1, -2, -8, -0x80000000, -(r.int(0x7fffffff) + 1)]);
    const head = Buffer.alloc(4);
    head.writeInt32BE(len);
    const bytes = Buffer.concat([head, r.bytes(r.pick([0, 8, r.int(512)]))]);
    return { gen: 'negative-length', label: `length ${len} (${phase} handshake)`, phase, bytes, frames: 1, endAfter: false, expect: { kind: 'closeNow' } };
  }

  /** A length over jute.maxbuffer: refused on the length alone, before any body arrives. */
  hugeLength(phase: 'pre' | 'post'): FuzzCase {
    const r = this.rng;
    const max = this.sizes.frameMax;
    const len = r.pick([max + 1, max + 2, max + 4096, 0x7fffffff, 0x40000000, r.range(max + 1, 0x7fffffff)]);
    const head = Buffer.alloc(4);
    head.writeInt32BE(len);
    // At most a little of the body: the close must not wait for the rest.
    const bytes = Buffer.concat([head, r.bytes(r.pick([0, 0, 12, r.int(16384)]))]);
    return { gen: 'huge-length', label: `length ${len} > jute.maxbuffer ${max} (${phase} handshake)`, phase, bytes, frames: 1, endAfter: false, expect: { kind: 'closeNow' } };
  }

  /** One opcode (known or not) with a random, truncated, over-long or valid record. */
  opcodeBody(type = this.rng.pick(this.rng.chance(0.8) ? ALL_OPS : UNKNOWN_OPS),
    variant = this.rng.pick(['random', 'truncated', 'overlong', 'valid'] as const)): FuzzCase {
    const r = this.rng;
    const valid = this.record(type);
    let record: Buffer;
    let expect = this.expectFor(type);
    switch (variant) {
      case 'random':
        record = r.bytes(r.pick([0, 1, 4, 9, r.int(64), r.int(512)]));
        break;
      case 'truncated':
        record = valid.subarray(0, valid.length === 0 ? 0 : r.int(valid.length));
        if (decodesBody.has(type)) expect = { kind: 'answered', errs: [[MARSHALLINGERROR]] };
        break;
      case 'overlong':
        record = Buffer.concat([valid, r.bytes(r.range(1, 64))]);
        break;
      default:
        record = valid;
    }
    const xid = type === OpCode.ping ? Xid.ping : this.nextXid();
    const bytes = rawFrame(xid, type, record);
    return {
      gen: `opcode-${variant}`, label: `${variant} record of ${record.length} bytes for opcode ${type}`, phase: 'post',
      bytes, frames: 1, reqs: [reqOf(bytes)], endAfter: false, expect,
    };
  }

  /** A well-formed request of some kind with 1-4 bits flipped (the length prefix now and then). */
  mutated(type = this.rng.pick(ALL_OPS.filter((t) => apacheValid.has(t)))): FuzzCase {
    const r = this.rng;
    const good = rawFrame(type === OpCode.ping ? Xid.ping : this.nextXid(), type, this.record(type));
    const bytes = Buffer.from(good);
    const flips = r.range(1, 4);
    const hitLength = r.chance(0.1);
    for (let i = 0; i < flips; i++) {
      const at = hitLength && i === 0 ? r.int(4) : 4 + r.int(bytes.length - 4);
      bytes[at]! ^= 1 << r.int(8);
    }
    const label = `opcode ${type} with ${flips} bit(s) flipped`;
    if (!bytes.subarray(0, 4).equals(good.subarray(0, 4))) {
      // The framing itself changed: anything may follow, the server may wait for more.
      return { gen: 'mutated', label: `${label} (length prefix)`, phase: 'post', bytes, frames: 1, endAfter: true, expect: { kind: 'any' } };
    }
    const newType = bytes.readInt32BE(8);
    return {
      gen: 'mutated', label: newType === type ? label : `${label} (type now ${newType})`, phase: 'post', bytes, frames: 1,
      reqs: [reqOf(bytes)], endAfter: false, expect: this.expectFor(newType),
    };
  }

  /**
   * A path deeperLevels deep, made one pipelined create at a time, read at the
   * bottom (with a watch below it), counted, then deleted bottom-up; and
   * lookups of a path far deeper than any node.
   */
  deepPath(): FuzzCase {
    const levels = this.sizes.deepLevels;
    const top = `${FZ_BIG}/${this.name('d')}`;
    const frames: Buffer[] = [];
    const reqs: Req[] = [];
    const errs: (readonly number[] | null)[] = [];
    const add = (f: Buffer, e: readonly number[]) => { frames.push(f); reqs.push(reqOf(f)); errs.push(e); };
    let p = top;
    const paths: string[] = [];
    for (let i = 0; i < levels; i++) {
      paths.push(p);
      add(frame(this.nextXid(), OpCode.create, (w) => writeCreate(w, { path: p, data: null, acl: OPEN_ACL, flags: 0, ttl: -1 }, false)), [OK]);
      p += '/a';
    }
    const bottom = paths[paths.length - 1]!;
    add(frame(this.nextXid(), OpCode.getData, (w) => writePathWatch(w, { path: bottom, watch: true })), [OK]);
    add(frame(this.nextXid(), OpCode.exists, (w) => writePathWatch(w, { path: `${bottom}/x`, watch: true })), [NONODE]);
    add(frame(this.nextXid(), OpCode.getAllChildrenNumber, (w) => writePathOnly(w, { path: top })), [OK]);
    add(frame(this.nextXid(), OpCode.addWatch, (w) => writePathInt(w, { path: top, value: 1 })), [OK]);
    for (let i = paths.length - 1; i >= 0; i--) {
      const q = paths[i]!;
      add(frame(this.nextXid(), OpCode.delete, (w) => writePathVersion(w, { path: q, version: -1 })), [OK]);
    }
    // Far deeper than anything: 100,000 levels (about 200 KB of path).
    const abyss = `${FZ}${'/a'.repeat(100_000)}`;
    add(frame(this.nextXid(), OpCode.exists, (w) => writePathWatch(w, { path: abyss, watch: true })), [NONODE]);
    add(frame(this.nextXid(), OpCode.create, (w) => writeCreate(w, { path: abyss, data: null, acl: OPEN_ACL, flags: 0, ttl: -1 }, false)), [NONODE]);
    return {
      gen: 'deep-path', label: `${levels}-level path under ${top} and a 100,000-level lookup`, phase: 'post',
      bytes: Buffer.concat(frames), frames: frames.length, reqs, endAfter: false, expect: { kind: 'answered', errs },
    };
  }

  /** A node whose name fills a frame of exactly jute.maxbuffer; read, watched, deleted; a missing one as long. */
  longPath(): FuzzCase {
    const max = this.sizes.frameMax;
    const base = `${FZ_BIG}/${this.name('L')}`;
    // create frame: xid, type, path (4 + n), data null (4), one world ACL (4 + 4 + 9 + 10), flags (4)
    const createOverhead = 8 + 4 + 4 + 4 + 4 + 9 + 10 + 4;
    const long = base + 'x'.repeat(max - createOverhead - Buffer.byteLength(base));
    const frames: Buffer[] = [];
    const reqs: Req[] = [];
    const errs: (readonly number[])[] = [];
    const add = (f: Buffer, e: readonly number[]) => { frames.push(f); reqs.push(reqOf(f)); errs.push(e); };
    const create = frame(this.nextXid(), OpCode.create, (w) => writeCreate(w, { path: long, data: null, acl: OPEN_ACL, flags: 0, ttl: -1 }, false));
    if (create.length !== max + 4) throw new Error(`long-path create frame is ${create.length - 4} bytes, wanted ${max}`);
    add(create, [OK]);
    add(frame(this.nextXid(), OpCode.exists, (w) => writePathWatch(w, { path: long, watch: true })), [OK]);
    add(frame(this.nextXid(), OpCode.getData, (w) => writePathWatch(w, { path: long, watch: true })), [OK]);
    add(frame(this.nextXid(), OpCode.setWatches, (w) => writeSetWatches(w, {
      relativeZxid: 2 ** 40, dataWatches: [], existWatches: [], childWatches: [long], persistentWatches: [], persistentRecursiveWatches: [],
    }, false)), [OK]);
    add(frame(this.nextXid(), OpCode.delete, (w) => writePathVersion(w, { path: long, version: -1 })), [OK]);
    add(frame(this.nextXid(), OpCode.exists, (w) => writePathWatch(w, { path: long, watch: true })), [NONODE]);
    for (const f of frames) if (f.length > max + 4) throw new Error(`long-path frame of ${f.length - 4} bytes is over jute.maxbuffer`);
    // A missing node with a multi-byte name as long as a frame allows.
    const wide = `${FZ_BIG}/${'é'.repeat((max - 64) >> 1)}`;
    add(frame(this.nextXid(), OpCode.getData, (w) => writePathWatch(w, { path: wide, watch: false })), [NONODE]);
    return {
      gen: 'long-path', label: `path of ${long.length} bytes (a ${max}-byte create frame)`, phase: 'post',
      bytes: Buffer.concat(frames), frames: frames.length, reqs, endAfter: false, expect: { kind: 'answered', errs },
    };
  }

  /** Multis of tens of thousands of ops: checks; creates rolled back by a failing last op; creates then deletes; a huge multiRead. */
  hugeMulti(variant = this.rng.int(4)): FuzzCase {
    const max = this.sizes.frameMax;
    const frames: Buffer[] = [];
    const reqs: Req[] = [];
    const errs: (readonly number[])[] = [];
    const add = (f: Buffer, e: readonly number[]) => {
      if (f.length > max + 4) throw new Error(`huge-multi frame of ${f.length - 4} bytes is over jute.maxbuffer`);
      frames.push(f); reqs.push(reqOf(f)); errs.push(e);
    };
    const fit = (perOp: number) => Math.floor((max - 8 - 9 - 16) / perOp);
    if (variant === 0) {
      // check /fzbig at any version: 22 bytes per op.
      const n = fit(9 + 4 + 6 + 4);
      const ops: MultiOp[] = Array.from({ length: n }, () => ({ type: OpCode.check, req: { path: FZ_BIG, version: -1 } }));
      add(frame(this.nextXid(), OpCode.multi, (w) => writeMultiRequest(w, ops)), [OK]);
    } else if (variant === 1 || variant === 2) {
      const parent = `${FZ_BIG}/${this.name('m')}`;
      const child = (i: number) => `${parent}/${i.toString(36).padStart(4, '0')}`;
      // create: header 9, path 4 + len, data null 4, ACL 31, flags 4
      const n = fit(9 + 4 + Buffer.byteLength(child(0)) + 4 + 31 + 4) - 2;
      const ops: MultiOp[] = [{ type: OpCode.create, req: { path: parent, data: null, acl: OPEN_ACL, flags: 0, ttl: -1 } }];
      for (let i = 0; i < n; i++) ops.push({ type: OpCode.create, req: { path: child(i), data: null, acl: OPEN_ACL, flags: 0, ttl: -1 } });
      if (variant === 1) {
        // ...and a failing last op: nothing of it may stay.
        ops.push({ type: OpCode.check, req: { path: parent, version: 7 } });
        add(frame(this.nextXid(), OpCode.multi, (w) => writeMultiRequest(w, ops)), [OK]);
        add(frame(this.nextXid(), OpCode.exists, (w) => writePathWatch(w, { path: parent, watch: false })), [NONODE]);
      } else {
        add(frame(this.nextXid(), OpCode.multi, (w) => writeMultiRequest(w, ops)), [OK]);
        add(frame(this.nextXid(), OpCode.getChildren2, (w) => writePathWatch(w, { path: parent, watch: true })), [OK]);
        const dels: MultiOp[] = [];
        for (let i = n - 1; i >= 0; i--) dels.push({ type: OpCode.delete, req: { path: child(i), version: -1 } });
        dels.push({ type: OpCode.delete, req: { path: parent, version: -1 } });
        add(frame(this.nextXid(), OpCode.multi, (w) => writeMultiRequest(w, dels)), [OK]);
      }
    } else {
      // multiRead of /fzbig: 20 bytes per op in, ~81 bytes per result out.
      const n = fit(9 + 4 + 6 + 1);
      const ops: MultiOp[] = Array.from({ length: n }, () => ({ type: OpCode.getData, req: { path: FZ_BIG, watch: false } }));
      add(frame(this.nextXid(), OpCode.multiRead, (w) => writeMultiRequest(w, ops)), [OK]);
    }
    return {
      gen: 'huge-multi', label: `huge multi, variant ${variant}`, phase: 'post', bytes: Buffer.concat(frames), frames: frames.length,
      reqs, endAfter: false, expect: { kind: 'answered', errs },
    };
  }

  /** setWatches / setWatches2 with lists that fill a frame. */
  hugeSetWatches(v2 = this.rng.chance(0.5)): FuzzCase {
    const r = this.rng;
    const max = this.sizes.frameMax;
    const tag = this.name('w');
    const lists: string[][] = [[], [], [], [], []];
    let room = max - 8 - 8 - 5 * 4 - 64;
    // Which lists get the bulk: data watches on missing nodes each fire NodeDeleted at once.
    const which = v2 ? r.pick([1, 2, 3, 4, 0]) : r.pick([0, 1, 2]);
    for (let i = 0; room > 32; i++) {
      const p = i % 7 === 0 ? `${FZ}/a` : `${FZ}/${tag}/${i.toString(36)}`;
      const l = r.chance(0.8) ? which : r.int(v2 ? 5 : 3);
      lists[l]!.push(p);
      room -= 4 + Buffer.byteLength(p);
    }
    const f = frame(this.nextXid(), v2 ? OpCode.setWatches2 : OpCode.setWatches, (w) => writeSetWatches(w, {
      relativeZxid: r.pick([0, 2 ** 40]), dataWatches: lists[0]!, existWatches: lists[1]!, childWatches: lists[2]!,
      persistentWatches: lists[3]!, persistentRecursiveWatches: lists[4]!,
    }, v2));
    if (f.length > max + 4) throw new Error(`setWatches frame of ${f.length - 4} bytes is over jute.maxbuffer`);
    const total = lists.reduce((n, l) => n + l.length, 0);
    return {
      gen: 'huge-set-watches', label: `${v2 ? 'setWatches2' : 'setWatches'} with ${total} paths`, phase: 'post',
      bytes: f, frames: 1, reqs: [reqOf(f)], endAfter: false, expect: { kind: 'answered', errs: [[OK]] },
    };
  }

  /**
   * Strings and vectors with bad lengths or bytes: invalid UTF-8 in paths,
   * negative and huge string and buffer lengths, vector lengths of 2^31-1.
   */
  badStrings(): FuzzCase {
    const r = this.rng;
    const xid = this.nextXid();
    const int = (v: number) => { const b = Buffer.alloc(4); b.writeInt32BE(v); return b; };
    const str = (b: Buffer) => Buffer.concat([int(b.length), b]);
    const invalidUtf8 = r.pick([
      Buffer.from([0xff]), Buffer.from([0xc3, 0x28]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xc0, 0xaf]),
      Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from([0xe2, 0x82]), Buffer.from([0x80, 0x80]),
    ]);
    const badPath = Buffer.concat([Buffer.from(`${FZ}/`), invalidUtf8]);
    const acl1 = Buffer.concat([int(1), int(31), str(Buffer.from('world')), str(Buffer.from('anyone'))]);
    const variant = r.int(10);
    let type: number;
    let record: Buffer;
    let errs: readonly number[] | null = [MARSHALLINGERROR];
    switch (variant) {
      case 0: {
        // Invalid UTF-8 in a path: decoded with U+FFFD, which no valid path holds.
        type = r.pick([OpCode.create, OpCode.getData, OpCode.exists, OpCode.setData, OpCode.delete, OpCode.getChildren]);
        const rest = type === OpCode.create ? Buffer.concat([int(-1), acl1, int(0)])
          : type === OpCode.setData ? Buffer.concat([int(-1), int(-1)])
            : type === OpCode.delete ? int(-1) : Buffer.from([0]);
        record = Buffer.concat([str(badPath), rest]);
        errs = null;
        break;
      }
      case 1: {
        // A negative (not -1) or huge string length where a path is.
        type = r.pick([OpCode.create, OpCode.getData, OpCode.exists, OpCode.setData, OpCode.delete, OpCode.sync, OpCode.getACL]);
        record = Buffer.concat([int(r.pick([-2, -1000, -0x80000000, 0x7fffffff, 0x100000])), Buffer.from(`${FZ}/a`), r.bytes(16)]);
        break;
      }
      case 2:
        // A null path.
        type = r.pick([OpCode.getData, OpCode.exists, OpCode.getChildren, OpCode.setData, OpCode.delete]);
        record = Buffer.concat([int(-1), r.bytes(8)]);
        break;
      case 3: {
        // An ACL vector of 2^31-1 elements; or a negative count, which Apache
        // reads as an empty vector (then the elements are read as the next fields).
        type = r.pick([OpCode.create, OpCode.setACL]);
        const n = r.pick([0x7fffffff, 0x1000000, -2]);
        if (n < 0) errs = type === OpCode.create ? [Err.BADARGUMENTS] : [Err.INVALIDACL];
        record = type === OpCode.create
          ? Buffer.concat([str(Buffer.from(`${FZ}/v`)), int(-1), int(n), acl1.subarray(4), int(0)])
          : Buffer.concat([str(Buffer.from(`${FZ}/a`)), int(n), acl1.subarray(4), int(-1)]);
        break;
      }
      case 4: {
        // setWatches with a list of 2^31-1 paths; or of -5 paths (an empty list, as Apache reads it).
        type = r.pick([OpCode.setWatches, OpCode.setWatches2]);
        const n = r.pick([0x7fffffff, 0x40000000, -5]);
        if (n < 0) errs = [OK];
        const good = Buffer.concat([int(1), str(Buffer.from(`${FZ}/a`))]);
        // relativeZxid 2^40: /fz/a has not changed since, so no event either.
        const zxid = Buffer.from([0, 0, 1, 0, 0, 0, 0, 0]);
        record = Buffer.concat(type === OpCode.setWatches2 ? [zxid, good, int(n), good, good, good] : [zxid, good, int(n), good]);
        break;
      }
      case 5:
        // setData with a negative (not -1) or huge buffer length.
        type = OpCode.setData;
        record = Buffer.concat([str(Buffer.from(`${FZ}/a`)), int(r.pick([-2, -0x80000000, 0x7fffffff, 4096])), r.bytes(8), int(-1)]);
        break;
      case 6: {
        // Multi whose op carries a bad string length.
        type = OpCode.multi;
        record = Buffer.concat([int(OpCode.setData), Buffer.from([0]), int(-1), int(r.pick([-3, 0x7fffffff])), r.bytes(12)]);
        break;
      }
      case 7:
        // multiRead with a path of invalid UTF-8: decodes, and the node is not there.
        type = OpCode.multiRead;
        record = Buffer.concat([int(OpCode.getData), Buffer.from([0]), int(-1), str(badPath), Buffer.from([0]), int(-1), Buffer.from([1]), int(-1)]);
        errs = [OK];
        break;
      case 8:
        // addWatch / removeWatches on an invalid-UTF-8 path.
        type = r.pick([OpCode.addWatch, OpCode.removeWatches, OpCode.checkWatches]);
        record = Buffer.concat([str(badPath), int(r.range(0, 3))]);
        errs = null;
        break;
      default:
        // getEphemerals with a negative or huge prefix length.
        type = OpCode.getEphemerals;
        record = Buffer.concat([int(r.pick([-2, 0x7fffffff])), Buffer.from('/fz')]);
    }
    const bytes = rawFrame(xid, type, record);
    return {
      gen: 'bad-strings', label: `bad string/vector variant ${variant} for opcode ${type}`, phase: 'post',
      bytes, frames: 1, reqs: [reqOf(bytes)], endAfter: false, expect: { kind: 'answered', errs: [errs] },
    };
  }

  /**
   * A ConnectRequest with odd but well-framed fields (timeouts out of range,
   * a zxid from the future, an unknown session, passwords of other lengths,
   * a readOnly byte of 7, trailing bytes), maybe followed by a request: the
   * server accepts, refuses with a ConnectResponse of timeout 0, or closes.
   */
  badHandshake(): FuzzCase {
    const r = this.rng;
    const w = new Writer(128);
    const at = w.placeholder();
    w.int(r.pick([0, 0, -1, 1, 0x7fffffff]))
      .long(r.pick([0, 0, 1, 2 ** 40, -1]))
      // (Timeouts that clamp to the minimum: a session made here must expire soon.)
      .int(r.pick([2000, 0, -1, 1, -0x80000000]))
      .bigLong(r.pick([0n, 0n, 1n, -1n, BigInt.asIntN(64, BigInt(r.u32()) << 32n | BigInt(r.u32()))]))
      .buffer(r.pick([Buffer.alloc(16), Buffer.alloc(0), r.bytes(16), r.bytes(100), null] as (Buffer | null)[]));
    if (r.chance(0.5)) w.byte(r.pick([0, 1, 7]));
    if (r.chance(0.2)) w.raw(r.bytes(r.range(1, 16)));
    w.patchInt(at, w.pos - 4);
    let bytes = w.copy();
    if (r.chance(0.5)) bytes = Buffer.concat([bytes, probeFrame(this.nextXid())]);
    return { gen: 'bad-handshake', label: `odd ConnectRequest ${bytes.subarray(4, 48).toString('hex')}`, phase: 'pre', bytes, frames: 1, endAfter: true, expect: { kind: 'any' } };
  }

  /** A four-letter word in place of a ConnectRequest, maybe split and followed by bytes: answered as text, then closed. */
  fourLetterWord(): FuzzCase {
    const r = this.rng;
    // (Not hash: its answer, the digest log, may be empty.)
    const word = r.pick(['ruok', 'srvr', 'stat', 'mntr', 'conf', 'envi', 'cons', 'dump', 'wchs', 'wchc', 'wchp', 'isro', 'dirs', 'gtmk', 'crst']);
    const bytes = Buffer.concat([Buffer.from(word), r.chance(0.5) ? r.bytes(r.int(64)) : Buffer.alloc(0)]);
    return { gen: 'four-letter', label: `four-letter word ${word} + ${bytes.length - 4} bytes`, phase: 'pre', bytes, frames: 1, endAfter: false, expect: { kind: 'text' } };
  }

  /** The cheap generators, weighted: what the bulk of a run sends. */
  next(): FuzzCase {
    const r = this.rng;
    const k = r.int(100);
    const phase = r.chance(0.5) ? 'pre' : 'post';
    if (k < 8) return this.randomBytes(phase);
    if (k < 16) return this.randomBody(phase);
    if (k < 20) return this.negativeLength(phase);
    if (k < 24) return this.hugeLength(phase);
    if (k < 26) return this.fourLetterWord();
    if (k < 30) return this.badHandshake();
    if (k < 60) return this.opcodeBody();
    if (k < 88) return this.mutated();
    return this.badStrings();
  }

  /** Every variant of the expensive generators once: what a warm-up runs, so later rounds meet no new high-water mark. */
  allBig(): FuzzCase[] {
    return [
      this.hugeMulti(0), this.hugeMulti(1), this.hugeMulti(2), this.hugeMulti(3),
      this.hugeSetWatches(false), this.hugeSetWatches(true), this.longPath(), this.deepPath(),
    ];
  }

  /** The expensive generators (frames near jute.maxbuffer), one of each kind in turn. */
  big(i: number): FuzzCase {
    switch (i % 4) {
      case 0: return this.hugeMulti();
      case 1: return this.hugeSetWatches();
      case 2: return this.longPath();
      default: return this.deepPath();
    }
  }
}

/** A valid ConnectRequest frame (length included). */
export function handshakeFrame(timeoutMs: number, withReadOnlyByte: boolean): Buffer {
  const w = new Writer(64);
  const at = w.placeholder();
  writeConnectRequest(w, {
    protocolVersion: 0, lastZxidSeen: 0, timeOut: timeoutMs, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false, withReadOnlyByte,
  });
  w.patchInt(at, w.pos - 4);
  return w.copy();
}

/** exists("/") with a given xid: the probe that follows a case on an open connection. */
export function probeFrame(xid: number): Buffer {
  return frame(xid, OpCode.exists, (w) => writePathWatch(w, { path: '/', watch: false }));
}

