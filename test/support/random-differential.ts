// Test support (not a test file): seeded random differential runs. From a
// seed, generate a sequence of requests over 2-3 sessions against a small
// namespace under /r (collisions are frequent), run it through the raw-frame
// framework of compat-wire.ts against two servers, and find the first
// difference between the two transcripts.
//
// The sequence is a pure function of the seed (the simulator's Prng from
// src/testing/prng.ts, never Math.random). A few request fields are resolved
// while the sequence runs, from what this run's own replies said: "the right
// version" of a path (the last version a reply showed for it) and "a
// sequential node made earlier" (the n-th name a sequential create returned).
// Both servers see the same requests as long as their replies agree, which
// is all the first difference needs.
//
// Servers: one Apache (shared by every seed: each seed works under /r, which
// the previous seed's cleanup removed as the superDigest user) and a fresh
// zoonode per seed, both with the same settings (serverSettings). Zxids are
// relative to the seed's first createSession (Run with absoluteZxids false),
// so a shared Apache and a fresh zoonode agree. Reads never touch "/" or ""
// (the shared Apache's root differs from a fresh server's).
//
// What is compared: every step (ReplyHeader, frame length, decoded body),
// the arrival order of replies and watch events per connection, notes
// (failed multis' bodies, connections the server closed), and the watch
// tables at the end of the run (wchs, wchp, wchc; see watchReport). Set aside (and
// counted): README's checkWatches difference (Apache 3.8's check matches any
// connection's watch on the path, zoonode's, as 3.9's, only the asking
// connection's own: a checkWatches answered OK by Apache and NOWATCHER by
// zoonode is skipped, a check changes nothing), and checkWatches/removeWatches with watcher types 4
// and 5 (3.9's, which zoonode follows: Apache 3.8 answers MARSHALLINGERROR,
// zoonode OK or NOWATCHER; a removeWatches of them is generated only where
// it can find nothing to remove, see applyWatchModes).
//
// Besides the 3.8 requests, the generator makes addWatch (opcode 106, modes
// 0 and 1, a few invalid ones and odd paths) and TTL nodes (createTTL, opcode
// 21, alone and inside multis; both servers run with extendedTypesEnabled,
// TTLs are large and the reaper never runs during a seed). A connection
// never mixes a standard and a persistent watch, or two persistent modes, on
// one path (README: 3.9 keeps them side by side, 3.8 one per path); see
// applyWatchModes.
//
// Requests that make Apache's answer depend on timing are not generated
// (see genSimple): addAuth, setACL, and createContainer with an ephemeral
// flag inside a burst of back-to-back requests.

import { ZkClient, type Reply } from '../../native-free-bench/zk-client.js';
import {
  OpCode, writeCreate, writePathVersion, writePathWatch, writeSetData, readStat, type RequestACL, type Reader, type Writer,
} from '../../src/jute/index.js';
import { Err } from '../../src/jute/errors.js';
import { Run, OPEN_ACL, withTimeout, type Conn, type Step, type Target, type Transcript } from './compat-wire.js';
import { addDigestAuth, digestId } from './zk-tree.js';
import { fourLetter } from './apache.js';
import { mntr } from './fuzz-driver.js';
import { Prng } from '../../src/testing/prng.js';

// ---- PRNG -----------------------------------------------------------------------------

/** Pick by weight from [[weight, value], ...] (Prng.weighted picks an index by weight). */
function pickWeighted<T>(g: Prng, xs: readonly (readonly [number, T])[]): T {
  return xs[g.weighted(xs.map(([w]) => w))]![1];
}

// ---- the settings both servers run with ---------------------------------------------

export const SUPER_CRED = 'super:random-differential';

/**
 * Settings for both servers: a superDigest (only the cleanup between seeds
 * uses it) and a container reaper that never runs while a seed does (a reap
 * takes a zxid at a moment neither server controls).
 */
export const serverSettings = {
  'DigestAuthenticationProvider.superDigest': digestId(SUPER_CRED),
  'znode.container.checkIntervalMs': 86_400_000,
  // TTL nodes (createTTL, flags 5 and 6). They expire only when the container
  // reaper runs (never during a seed, see above), so nothing is time-dependent.
  extendedTypesEnabled: 'true',
  // Hard quota limits refuse writes (quota seeds, GenOptions.quotas).
  enforceQuota: 'true',
  // The watch report at the end of a run (wchs, wchp, wchc).
  '4lw.commands.whitelist': '*',
} as const;

/** The Apache-only settings (a faster txn log; nothing in a transcript depends on fsync). */
export const apacheOnlySettings = { forceSync: 'no' } as const;

// ---- the requests ---------------------------------------------------------------------

/** A path: literal, or the n-th (mod count) name a sequential create returned in this run. */
export type PathSpec = string | { seq: number };
/** A version: literal, or the last version (or aversion) a reply showed for the path. */
export type VerSpec = number | 'right' | 'rightA';
/** Data: null, len bytes of one letter, or a text (a quota's limits or stats). */
export type DataSpec = null | { len: number; fill: number } | { text: string };

export type AclKey = 'open' | 'readOnly' | 'alice' | 'aliceWorldRead' | 'creator' | 'noDelete' | 'ip' | 'empty' | 'null' | 'bobRead'
  | 'zeroPerms' | 'highPerms' | 'ipNet' | 'worldNoRead';

export type MultiOp =
  | { t: 'create'; op: 1 | 19 | 21; path: PathSpec; flags: number; data: DataSpec; acl: AclKey; ttl?: number }
  | { t: 'delete'; path: PathSpec; version: VerSpec }
  | { t: 'setData'; path: PathSpec; data: DataSpec; version: VerSpec }
  | { t: 'check'; path: PathSpec; version: VerSpec };

export type ReadOp = 'getData' | 'exists' | 'getChildren' | 'getChildren2';

export type Op =
  | { k: 'create'; c: number; op: 1 | 15 | 19 | 21; path: PathSpec; flags: number; data: DataSpec; acl: AclKey; ttl?: number }
  | { k: 'delete'; c: number; path: PathSpec; version: VerSpec }
  | { k: 'setData'; c: number; path: PathSpec; data: DataSpec; version: VerSpec }
  | { k: 'read'; c: number; op: ReadOp; path: PathSpec; watch: boolean }
  | { k: 'checkWatches' | 'removeWatches'; c: number; path: PathSpec; type: number }
  /** addWatch (opcode 106): mode 0 persistent, 1 persistent recursive. */
  | { k: 'addWatch'; c: number; path: PathSpec; mode: number }
  /**
   * setWatches2 (opcode 105) on a live connection, relativeZxid 0 (every node
   * changed since) or far ahead (none did): the same events on a shared and
   * a fresh server.
   */
  | { k: 'setWatches2'; c: number; rel: 0 | 'ahead'; data: PathSpec[]; exist: PathSpec[]; child: PathSpec[]; persistent: string[]; recursive: string[] }
  | { k: 'setACL'; c: number; path: PathSpec; acl: AclKey; version: VerSpec }
  | { k: 'getACL'; c: number; path: PathSpec }
  | { k: 'addAuth'; c: number; cred: string }
  | { k: 'sync'; c: number; path: PathSpec }
  | { k: 'multi'; c: number; ops: MultiOp[] }
  | { k: 'multiRead'; c: number; ops: { t: 'getData' | 'getChildren'; path: PathSpec; watch: boolean }[] }
  | { k: 'getAllChildrenNumber'; c: number; path: PathSpec }
  | { k: 'getEphemerals'; c: number; prefix: string }
  | { k: 'closeSession'; c: number }
  /**
   * Restart the server (GenOptions.restarts): every connection dropped
   * without closing its session, the server stopped and started again on
   * its data directory, then every slot's session reopened with its id and
   * password.
   */
  | { k: 'restart'; c: number }
  /**
   * A client's reconnect (GenOptions.reconnects): the slot's session is
   * reopened on a new connection with its id, password and last zxid seen,
   * the old one dropped first or (takeover) left for the server to close,
   * and the watches the client believes it holds (ClientWatches) are set
   * again with setWatches, relative to that zxid, as the Java client does.
   */
  | { k: 'reconnect'; c: number; takeover: boolean }
  | { k: 'whoAmI'; c: number }
  /** Requests sent back to back on one connection before any reply is read. */
  | { k: 'burst'; c: number; ops: Op[] };

export interface Sequence {
  seed: number;
  conns: number;
  ops: Op[];
  /** Made with GenOptions.quotas. */
  quotas?: boolean;
}

/** What runSequence needs for a restart op: stop the server, start it again on its files, and say where it listens now. */
export type Restarter = () => Promise<{ host: string; port: number }>;

const L1 = ['a', 'b', 'c'] as const;
const L2 = ['a', 'b', 'c', 'd'] as const;
/** Paths with valid framing that the servers must refuse or treat specially (never "" for reads: the root differs). */
const ODD_PATHS = ['/r/a/', '/r/a//b', '/r/a/.', '/r/..', '/r/./a', 'r/a', '/r/a\u0000', '//r'];
const ODD_WRITE_PATHS = [...ODD_PATHS, ''];
const CREDS = ['alice:secret', 'bob:pw', 'alice:wrong'];

function genPath(g: Prng): PathSpec {
  const r = g.float();
  if (r < 0.04) return '/r';
  if (r < 0.12) return { seq: g.int(1000) };
  const a = g.pick(L1);
  if (r < 0.45) return `/r/${a}`;
  const b = g.pick(L2);
  if (r < 0.96) return `/r/${a}/${b}`;
  return `/r/${a}/${b}/${g.pick(['a', 'b'])}`;
}

function genWritePath(g: Prng): PathSpec {
  return g.chance(0.04) ? g.pick(ODD_WRITE_PATHS) : genPath(g);
}

function genReadPath(g: Prng): PathSpec {
  return g.chance(0.04) ? g.pick(ODD_PATHS) : genPath(g);
}

function genVersion(g: Prng): VerSpec {
  return pickWeighted<VerSpec>(g, [
    [30, -1], [35, 'right'], [10, 0], [10, 1], [5, g.range(2, 5)],
    [3, -2], [2, -100], [1, -2147483648], [1, 2147483647],
  ]);
}

function genData(g: Prng): DataSpec {
  const fill = 97 + g.int(26);
  return pickWeighted<DataSpec>(g, [
    [8, null], [8, { len: 0, fill }], [60, { len: g.range(1, 20), fill }],
    [20, { len: g.range(21, 2000), fill }], [4, { len: g.range(2001, 100_000), fill }],
  ]);
}

function genAcl(g: Prng): AclKey {
  return pickWeighted<AclKey>(g, [
    [55, 'open'], [8, 'readOnly'], [7, 'alice'], [7, 'aliceWorldRead'], [6, 'creator'],
    [5, 'noDelete'], [4, 'ip'], [2, 'empty'], [2, 'null'], [4, 'bobRead'],
    [1, 'zeroPerms'], [1, 'highPerms'], [2, 'ipNet'], [2, 'worldNoRead'],
  ]);
}

function genFlags(g: Prng): number {
  return pickWeighted(g, [[34, 0], [20, 1], [16, 2], [16, 3], [12, 4], [1, 5], [1, 6], [1, 7], [1, -1]] as const);
}

/**
 * A create's path: never a sequential child of "/" (its suffix comes from the
 * root's cversion, which differs between a shared and a fresh server).
 */
function genCreatePath(g: Prng, flags: number): PathSpec {
  const p = genWritePath(g);
  return (flags === 2 || flags === 3 || flags === 6) && (p === '/r' || p === '//r') ? '/r/b' : p;
}

function genCreate(g: Prng, c: number): Op {
  const flags = genFlags(g);
  let op: 1 | 15 | 19 = g.chance(0.5) ? 1 : 15;
  if (flags === 4 && g.chance(0.5)) op = 19;
  else if (g.chance(0.03)) op = 19;
  return { k: 'create', c, op, path: genCreatePath(g, flags), flags, data: genData(g), acl: genAcl(g) };
}

/**
 * A TTL: large (no node may expire during a seed, whatever the reaper does),
 * sometimes an edge (0, the maximum 2^40-1, one past it, negative). Never
 * negative unless the mode is a TTL mode: a createTTL with another mode and a
 * negative ttl makes Apache 3.8 exit (README).
 */
function genTtl(g: Prng, flags: number): number {
  const ttl = pickWeighted<number>(g, [
    [80, g.range(3_600_000, 2_000_000_000) * (g.chance(0.3) ? 256 : 1)], [5, 0], [4, 2 ** 40 - 1], [4, 2 ** 40],
    [3, -1], [2, 1_000_000_000_000_000], [2, -1000],
  ]);
  return ttl < 0 && flags !== 5 && flags !== 6 ? -ttl : ttl;
}

function genCreateTTL(g: Prng, c: number): Op {
  const flags = pickWeighted(g, [[45, 5], [35, 6], [4, 0], [3, 1], [3, 2], [2, 3], [3, 4], [1, 7], [1, -1]] as const);
  return { k: 'create', c, op: 21, path: genCreatePath(g, flags), flags, data: genData(g), acl: genAcl(g), ttl: genTtl(g, flags) };
}

/** An addWatch path: literal (never a sequential node's), sometimes odd. */
function genWatchPath(g: Prng): string {
  if (g.chance(0.06)) return g.pick([...ODD_PATHS, '']);
  const p = genPath(g);
  return typeof p === 'string' ? p : '/r';
}

function genMultiOp(g: Prng): MultiOp {
  if (g.chance(0.06)) {
    const flags = pickWeighted(g, [[50, 5], [30, 6], [8, 0], [4, 1], [4, 4], [4, 2]] as const);
    return { t: 'create', op: 21, path: genCreatePath(g, flags), flags, data: genData(g), acl: genAcl(g), ttl: genTtl(g, flags) };
  }
  switch (pickWeighted(g, [[40, 'create'], [20, 'delete'], [25, 'setData'], [15, 'check']] as const)) {
    case 'create': {
      const flags = pickWeighted(g, [[40, 0], [15, 1], [15, 2], [10, 3], [10, 4], [1, 7], [1, 5]] as const);
      const op = (flags === 4 && g.chance(0.4)) || g.chance(0.03) ? 19 : 1;
      return { t: 'create', op, path: genCreatePath(g, flags), flags, data: genData(g), acl: genAcl(g) };
    }
    case 'delete': return { t: 'delete', path: genWritePath(g), version: genVersion(g) };
    case 'setData': return { t: 'setData', path: genWritePath(g), data: genData(g), version: genVersion(g) };
    case 'check': return { t: 'check', path: genWritePath(g), version: genVersion(g) };
  }
}

/**
 * One op (not a burst, not a closeSession). Two kinds are left out of bursts
 * (requests sent before the earlier ones are answered), where Apache's
 * answers depend on timing:
 *   - addAuth: Apache answers it on the connection's I/O thread, ahead of
 *     earlier requests still in its pipeline;
 *   - setACL: Apache's pending change record for a setACL keeps the node's
 *     old ACL, so a request prepared before the setACL is applied is checked
 *     against the old ACL, one prepared after against the new one;
 *   - createContainer with an ephemeral flag: Apache's pending change record
 *     says ephemeral, the applied node is a container, so a child created
 *     right behind it gets NOCHILDRENFOREPHEMERALS or not (in a burst such a
 *     createContainer gets the container flag).
 */
function genSimple(g: Prng, c: number, inBurst = false): Op {
  const kind = pickWeighted(g, [
    [24, 'create'], [10, 'delete'], [10, 'setData'], [22, 'read'], [4, 'watches'], [4, 'setACL'], [3, 'getACL'],
    [2, 'addAuth'], [2, 'sync'], [8, 'multi'], [3, 'multiRead'], [2, 'count'], [2, 'ephemerals'], [1, 'whoAmI'],
    [4, 'addWatch'], [3, 'createTTL'], [2, 'setWatches2'],
  ] as const);
  switch (kind) {
    case 'create': {
      const op = genCreate(g, c);
      return inBurst && op.k === 'create' && op.op === 19 && (op.flags === 1 || op.flags === 3) ? { ...op, flags: 4 } : op;
    }
    case 'delete': return { k: 'delete', c, path: genWritePath(g), version: genVersion(g) };
    case 'setData': return { k: 'setData', c, path: genWritePath(g), data: genData(g), version: genVersion(g) };
    case 'read': return { k: 'read', c, op: g.pick(['getData', 'exists', 'getChildren', 'getChildren2'] as const), path: genReadPath(g), watch: g.chance(0.5) };
    case 'watches': return {
      k: g.chance(0.5) ? 'checkWatches' : 'removeWatches', c, path: genPath(g),
      type: pickWeighted(g, [[25, 1], [25, 2], [25, 3], [12, 4], [12, 5], [1, 0], [1, 6]] as const),
    };
    case 'addWatch': return { k: 'addWatch', c, path: genWatchPath(g), mode: pickWeighted(g, [[45, 0], [45, 1], [1, 2], [1, -1]] as const) };
    case 'createTTL': return genCreateTTL(g, c);
    case 'setWatches2': {
      const list = <T>(f: () => T): T[] => Array.from({ length: pickWeighted(g, [[3, 0], [4, 1], [2, 2]] as const) }, f);
      return {
        k: 'setWatches2', c, rel: g.chance(0.5) ? 0 : 'ahead',
        data: list(() => genPath(g)), exist: list(() => genPath(g)), child: list(() => genPath(g)),
        persistent: g.chance(0.3) ? list(() => genWatchPath(g)) : [], recursive: g.chance(0.3) ? list(() => genWatchPath(g)) : [],
      };
    }
    case 'setACL': {
      const path = genWritePath(g);
      const acl = genAcl(g);
      const version = pickWeighted<VerSpec>(g, [[40, -1], [40, 'rightA'], [10, 0], [10, 1], [3, -2]]);
      return inBurst ? { k: 'getACL', c, path: path === '' ? '/r/a/' : path } : { k: 'setACL', c, path, acl, version };
    }
    case 'getACL': return { k: 'getACL', c, path: genReadPath(g) };
    case 'addAuth':
      if (inBurst) return { k: 'read', c, op: 'exists', path: genPath(g), watch: false };
      return { k: 'addAuth', c, cred: g.pick(CREDS) };
    case 'sync': return { k: 'sync', c, path: g.chance(0.1) ? g.pick(['', '/r/a/', 'rel']) : genPath(g) };
    case 'multi': {
      const n = pickWeighted(g, [[3, 0], [25, 1], [30, 2], [25, 3], [12, 4], [5, 6]] as const);
      const ops: MultiOp[] = [];
      for (let i = 0; i < n; i++) ops.push(genMultiOp(g));
      return { k: 'multi', c, ops };
    }
    case 'multiRead': {
      const n = g.range(1, 4);
      const ops: { t: 'getData' | 'getChildren'; path: PathSpec; watch: boolean }[] = [];
      for (let i = 0; i < n; i++) ops.push({ t: g.chance(0.5) ? 'getData' : 'getChildren', path: genReadPath(g), watch: g.chance(0.3) });
      return { k: 'multiRead', c, ops };
    }
    case 'count': return { k: 'getAllChildrenNumber', c, path: genReadPath(g) };
    case 'ephemerals': return { k: 'getEphemerals', c, prefix: g.pick(['/', '/r', '/r/', '/r/a', '/r/b/', '/r/c/a', '/x']) };
    case 'whoAmI': return { k: 'whoAmI', c };
  }
}

/**
 * Inputs on which zoonode differs from Apache 3.8 on purpose (README,
 * Compatibility notes), rewritten after generation so the rest of a seed's
 * sequence stays the same:
 *   - containerHeader: a createContainer op inside a multi whose flags are
 *     not the container mode becomes a create. zoonode keeps the header's
 *     type as Apache 3.9 does (a container); 3.8 types the op by its flags.
 *   - watchModes: one watch mode per connection and path (applyWatchModes).
 * generate() rewrites them unless told otherwise (avoid: []).
 */
export type Avoid = 'containerHeader' | 'watchModes';
export const DELIBERATE: readonly Avoid[] = ['containerHeader', 'watchModes'];

/**
 * watchModes: README, "Watch modes on one path from one connection are kept
 * side by side" (3.9; 3.8 keeps one mode per connection and path), and
 * removeWatches with types 1-3 takes a persistent watch away in 3.8 but not
 * in 3.9. Per connection slot (reset by closeSession), the first watch a
 * path gets claims it for its mode: a standard watch (read or multiRead with
 * watch), persistent (addWatch 0) or persistent recursive (addWatch 1).
 * Later requests on that slot and path are rewritten to keep to that mode:
 * a read's watch is dropped, an addWatch on a standard-claimed path becomes
 * an exists without watch, an addWatch takes the claimed persistent mode,
 * and a removeWatches on a persistent-claimed path becomes a checkWatches
 * (so a removeWatches with type 4 or 5, which 3.8 refuses, never removes
 * anything in zoonode either). A sequential-node path counts as "/r/a" (what
 * it resolves to while no sequential node exists).
 */
function applyWatchModes(ops: Op[]): Op[] {
  const claims: Map<string, 'std' | 'p0' | 'p1'>[] = [];
  const key = (p: PathSpec) => (typeof p === 'string' ? p : '/r/a');
  const one = (op: Op): Op => {
    const m = (claims[op.c] ??= new Map());
    switch (op.k) {
      case 'closeSession': claims[op.c] = new Map(); return op;
      case 'burst': return { ...op, ops: op.ops.map(one) };
      case 'read': {
        if (!op.watch) return op;
        const cl = m.get(key(op.path));
        if (cl !== undefined && cl !== 'std') return { ...op, watch: false };
        m.set(key(op.path), 'std');
        return op;
      }
      case 'multiRead':
        return {
          ...op,
          ops: op.ops.map((r) => {
            if (!r.watch) return r;
            const cl = m.get(key(r.path));
            if (cl !== undefined && cl !== 'std') return { ...r, watch: false };
            m.set(key(r.path), 'std');
            return r;
          }),
        };
      case 'addWatch': {
        const cl = m.get(key(op.path));
        if (cl === 'std') return { k: 'read', c: op.c, op: 'exists', path: op.path, watch: false };
        if (op.mode !== 0 && op.mode !== 1) return op;
        if (cl !== undefined) return { ...op, mode: cl === 'p0' ? 0 : 1 };
        m.set(key(op.path), op.mode === 0 ? 'p0' : 'p1');
        return op;
      }
      case 'setWatches2': {
        const std = (ps: PathSpec[]) => ps.filter((p) => {
          const cl = m.get(key(p));
          if (cl !== undefined && cl !== 'std') return false;
          m.set(key(p), 'std');
          return true;
        });
        const pers = (ps: string[], mode: 'p0' | 'p1') => ps.filter((p) => {
          const cl = m.get(p);
          if (cl !== undefined && cl !== mode) return false;
          m.set(p, mode);
          return true;
        });
        return { ...op, data: std(op.data), exist: std(op.exist), child: std(op.child), persistent: pers(op.persistent, 'p0'), recursive: pers(op.recursive, 'p1') };
      }
      case 'removeWatches': {
        const cl = m.get(key(op.path));
        return cl === 'p0' || cl === 'p1' ? { ...op, k: 'checkWatches' } : op;
      }
      default: return op;
    }
  };
  return ops.map(one);
}

export interface GenOptions {
  /** Requests per sequence (default 200-400, from the seed). */
  length?: number;
  avoid?: readonly Avoid[];
  /**
   * Quotas (genQuotaOps) among the requests. Off, a seed's sequence is what
   * it always was (the quota draws are made only when this is on).
   */
  quotas?: boolean;
  /** Server restarts among the requests (off: the sequence is what it always was). */
  restarts?: boolean;
  /** Client reconnects among the requests (off: the sequence is what it always was). */
  reconnects?: boolean;
}

function applyAvoid(op: Op, avoid: ReadonlySet<Avoid>): Op {
  switch (op.k) {
    case 'burst': return { ...op, ops: op.ops.map((o) => applyAvoid(o, avoid)) };
    case 'multi': return {
      ...op,
      ops: op.ops.map((m) => {
        if (m.t !== 'create' || !avoid.has('containerHeader') || m.op !== 19 || m.flags === 4) return m;
        return { ...m, op: 1 as const };
      }),
    };
    default: return op;
  }
}

/** The sequence of a seed: a pure function of (seed, options). */
export function generate(seed: number, opts: GenOptions = {}): Sequence {
  const g = new Prng(seed);
  const conns = g.chance(0.5) ? 2 : 3;
  const length = opts.length ?? g.range(200, 400);
  const ops: Op[] = [{ k: 'create', c: 0, op: 1, path: '/r', flags: 0, data: null, acl: 'open' }];
  // Runs of requests on one connection, switching often so watches fire across sessions.
  let c = 0;
  while (ops.length < length) {
    if (g.chance(0.45)) c = g.int(conns);
    if (opts.restarts === true && g.chance(0.008)) {
      ops.push({ k: 'restart', c });
      continue;
    }
    if (opts.reconnects === true && g.chance(0.025)) {
      const takeover = g.chance(0.3);
      ops.push({ k: 'reconnect', c, takeover });
      // Other sessions go on while this one is away (its setWatches then has changes to report).
      if (!takeover) c = (c + 1 + g.int(conns - 1)) % conns;
      continue;
    }
    if (opts.quotas === true && g.chance(0.12)) {
      ops.push(...genQuotaOps(g, c));
      continue;
    }
    const r = g.float();
    if (r < 0.01) ops.push({ k: 'closeSession', c });
    else if (r < 0.04) {
      const n = g.range(2, 4);
      const burst: Op[] = [];
      for (let i = 0; i < n; i++) burst.push(genSimple(g, c, true));
      ops.push({ k: 'burst', c, ops: burst });
    } else ops.push(genSimple(g, c));
  }
  const avoid = new Set(opts.avoid ?? DELIBERATE);
  let out = avoid.size === 0 ? ops : ops.map((o) => applyAvoid(o, avoid));
  if (opts.quotas === true) out = out.flatMap((o) => (o.k === 'burst' ? o.ops : [o]));
  return { seed, conns, ops: avoid.has('watchModes') ? applyWatchModes(out) : out, quotas: opts.quotas === true };
}

// ---- quotas ------------------------------------------------------------------------------

/** Paths a quota is put on: nested ones included (zkCli refuses those; the server takes them). */
const QUOTA_TARGETS = ['/r', '/r/a', '/r/b', '/r/a/b', '/r/c/a', '/r/a/b/a'] as const;

/**
 * A zookeeper_limits text in the forms Apache 3.8's StatsTrack parses: the
 * 3.4 form (count, bytes: soft limits), 3.7's with hard limits after "=;",
 * keys in any order, and empty. Never a text StatsTrack cannot parse (a key
 * without "=", a value that is not a number): Apache throws from inside the
 * txn's apply, which stops the server rather than answering anything.
 */
function genLimits(g: Prng): string {
  const n = () => pickWeighted(g, [[30, -1], [20, g.range(0, 4)], [20, g.range(5, 12)], [30, g.range(0, 3000)]] as const);
  return pickWeighted<string>(g, [
    [20, `count=${n()},bytes=${n()}`],
    [25, `count=-1,bytes=-1=;byteHardLimit=${n()};countHardLimit=${n()}`],
    [15, `count=${n()},bytes=${n()},countHardLimit=${n()},byteHardLimit=${n()}`],
    [10, `countHardLimit=${g.range(0, 6)}`],
    [10, `byteHardLimit=${g.range(0, 500)}`],
    [5, `bytes=${n()},count=${n()}`],
    [5, `count=${n()}`],
    [4, ''],
    [3, `count=,bytes=${n()}`],
    [3, `count=2,bytes=-1,extra=7`],
  ]);
}

/** A zookeeper_stats text a client writes (zkCli's "count=0,bytes=0", sometimes something else). */
function genStatsText(g: Prng): string {
  return pickWeighted<string>(g, [
    [80, 'count=0,bytes=0'], [6, `count=${g.range(0, 50)},bytes=${g.range(0, 5000)}`], [4, ''],
    [5, 'count=1,bytes=1=;countHardLimit=5'], [5, 'bytes=3,count=4,zz=9'],
  ]);
}

/**
 * Requests on quota nodes under /zookeeper/quota/r (a seed's own; removed
 * with /r between seeds), made the way zkCli's setquota, listquota and
 * delquota make them and some ways it does not: limits and stats created in
 * either order or one without the other, rewritten, deleted, read, nested
 * quotas. Writes under /r then update or are refused by them (both servers
 * run with enforceQuota). Quota seeds have no bursts: whether a write sent
 * right behind another is checked against the earlier one's new stats
 * depends on whether Apache has applied it yet.
 */
function genQuotaOps(g: Prng, c: number): Op[] {
  const target = g.pick(QUOTA_TARGETS);
  const q = `/zookeeper/quota${target}`;
  const limits = `${q}/zookeeper_limits`;
  const stats = `${q}/zookeeper_stats`;
  const create = (path: string, data: DataSpec): Op => ({ k: 'create', c, op: g.chance(0.5) ? 1 : 15, path, flags: 0, data, acl: 'open' });
  const text = (t: string): DataSpec => ({ text: t });
  switch (pickWeighted(g, [
    [24, 'setquota'], [5, 'multiSetquota'], [14, 'setLimits'], [24, 'read'], [7, 'delLimits'], [4, 'delStats'],
    [4, 'delquota'], [4, 'setStats'], [6, 'list'], [3, 'count'],
  ] as const)) {
    case 'setquota': {
      const parts = target.split('/').filter((x) => x !== '');
      const ops: Op[] = [];
      for (let i = 1; i <= parts.length; i++) if (g.chance(0.9)) ops.push(create(`/zookeeper/quota/${parts.slice(0, i).join('/')}`, null));
      const pair = [create(limits, text(genLimits(g))), create(stats, text(genStatsText(g)))];
      if (g.chance(0.15)) pair.reverse();
      if (g.chance(0.08)) pair.pop();
      return [...ops, ...pair];
    }
    case 'multiSetquota': {
      const ops: MultiOp[] = [{ t: 'create', op: 1, path: q, flags: 0, data: null, acl: 'open' }];
      ops.push({ t: 'create', op: 1, path: limits, flags: 0, data: text(genLimits(g)), acl: 'open' });
      ops.push({ t: 'create', op: 1, path: stats, flags: 0, data: text(genStatsText(g)), acl: 'open' });
      if (g.chance(0.5)) ops.shift();
      return [{ k: 'multi', c, ops }];
    }
    case 'setLimits': return [{ k: 'setData', c, path: limits, data: text(genLimits(g)), version: g.chance(0.8) ? -1 : 'right' }];
    case 'read': return [{ k: 'read', c, op: g.chance(0.85) ? 'getData' : 'exists', path: g.chance(0.8) ? stats : limits, watch: g.chance(0.3) }];
    case 'delLimits': return [{ k: 'delete', c, path: limits, version: -1 }];
    case 'delStats': return [{ k: 'delete', c, path: stats, version: -1 }];
    case 'delquota': return [
      { k: 'delete', c, path: stats, version: -1 }, { k: 'delete', c, path: limits, version: -1 }, { k: 'delete', c, path: q, version: -1 },
    ];
    case 'setStats': return [{ k: 'setData', c, path: stats, data: text(genStatsText(g)), version: -1 }];
    case 'list': return [{ k: 'read', c, op: 'getChildren2', path: g.chance(0.5) ? q : '/zookeeper/quota/r', watch: g.chance(0.3) }];
    case 'count': return [{ k: 'getAllChildrenNumber', c, path: '/zookeeper/quota/r' }];
  }
}

// ---- running a sequence ----------------------------------------------------------------

const ALL = 31;
const ALICE = digestId('alice:secret');
const BOB = digestId('bob:pw');

export function aclOf(key: AclKey): RequestACL[] | null {
  const a = (perms: number, scheme: string, id: string): RequestACL => ({ perms, id: { scheme, id } });
  switch (key) {
    case 'open': return OPEN_ACL;
    case 'readOnly': return [a(1, 'world', 'anyone')];
    case 'alice': return [a(ALL, 'digest', ALICE)];
    case 'aliceWorldRead': return [a(ALL, 'digest', ALICE), a(1, 'world', 'anyone')];
    case 'creator': return [a(ALL, 'auth', '')];
    case 'noDelete': return [a(ALL & ~8, 'world', 'anyone')];
    case 'ip': return [a(ALL, 'ip', '127.0.0.1')];
    case 'empty': return [];
    case 'null': return null;
    case 'bobRead': return [a(1 | 16, 'digest', BOB), a(2 | 4 | 8, 'world', 'anyone')];
    case 'zeroPerms': return [a(0, 'world', 'anyone')];
    case 'highPerms': return [a(0x7fffffff, 'world', 'anyone')];
    case 'ipNet': return [a(ALL, 'ip', '127.0.0.0/8')];
    case 'worldNoRead': return [a(ALL & ~1, 'world', 'anyone')];
  }
}

function dataOf(d: DataSpec): Buffer | null {
  return d === null ? null : 'text' in d ? Buffer.from(d.text, 'utf8') : Buffer.alloc(d.len, d.fill);
}

function showData(d: DataSpec): string {
  return d === null ? 'null' : 'text' in d ? JSON.stringify(d.text) : `${d.len}x${String.fromCharCode(d.fill)}`;
}

const CONN_NAMES = ['A', 'B', 'C'];

/** Per-run state resolved from the run's own replies. */
class State {
  readonly versions = new Map<string, { version: number; aversion: number }>();
  readonly seqPaths: string[] = [];
  /** Current connection per slot, and how many sessions each slot had. */
  readonly conns: (Conn | null)[] = [];
  readonly generation: number[] = [];
  /** Per slot, the watches its client believes its session holds. */
  readonly watches: ClientWatches[] = [];
  /** Slots whose connection a reconnect op dropped: the next op on the slot reopens the session first. */
  readonly away: (Conn | undefined)[] = [];
}

/**
 * The watches a client library believes its session holds, kept as the Java
 * client's ZKWatchManager keeps them: a watch is registered when its
 * request's reply says so (getData, getChildren and a multiRead's reads
 * with watch answered OK; exists OK as a data watch, NONODE as an exist
 * watch; addWatch), a standard watch is forgotten when an event for its
 * path and kind arrives or removeWatches takes it, and the session's
 * watches go with the session. A raw setWatches2 op registers nothing here
 * (no client would know of it), nor does a request in a burst (its reply
 * and an event it leads to can come in one read, and the event would be
 * seen before the reply's promise notes the watch). Built from each server's own replies and
 * events, so the two servers are asked to restore the same watches only if
 * they behaved alike until then.
 */
class ClientWatches {
  readonly data = new Set<string>();
  readonly exist = new Set<string>();
  readonly child = new Set<string>();
  readonly persistent = new Set<string>();
  readonly recursive = new Set<string>();

  /** An event arrived: the standard watches it used up are gone (persistent ones stay). */
  onEvent(type: number, path: string): void {
    if (type === 1 || type === 2 || type === 3) { this.data.delete(path); this.exist.delete(path); }
    if (type === 2 || type === 4) this.child.delete(path);
  }

  /** removeWatches answered OK for a watcher type. */
  removed(type: number, path: string): void {
    if (type === 1 || type === 3) this.child.delete(path);
    if (type === 2 || type === 3) { this.data.delete(path); this.exist.delete(path); }
    if (type === 4) this.persistent.delete(path);
    if (type === 5) this.recursive.delete(path);
  }

  /** The lists a reconnect sends: data, exist, child, then (setWatches2 only) persistent and recursive; each sorted. */
  lists(): string[][] {
    const all = [this.data, this.exist, this.child, this.persistent, this.recursive].map((s) => [...s].sort());
    return all[3]!.length + all[4]!.length > 0 ? all : all.slice(0, 3);
  }
}

function resolvePath(st: State, p: PathSpec): string {
  if (typeof p === 'string') return p;
  if (st.seqPaths.length === 0) return '/r/a';
  return st.seqPaths[p.seq % st.seqPaths.length]!;
}

function resolveVersion(st: State, path: string, v: VerSpec): number {
  if (typeof v === 'number') return v;
  const known = st.versions.get(path);
  if (known === undefined) return 0;
  return v === 'right' ? known.version : known.aversion;
}

/** A multi's sub-op with its path and version resolved now: its description and how to write it. */
function prepMultiOp(st: State, m: MultiOp): { desc: string; path: string; write: (w: Writer) => void } {
  const hdr = (w: Writer, type: number) => { w.int(type).bool(false).int(-1); };
  const path = resolvePath(st, m.path);
  switch (m.t) {
    case 'create':
      return {
        desc: `${m.op === 19 ? 'createContainer' : m.op === 21 ? 'createTTL' : 'create'} ${JSON.stringify(path)} f=${m.flags}${m.op === 21 ? ` ttl=${m.ttl}` : ''} d=${showData(m.data)} acl=${m.acl}`,
        path,
        write: (w) => { hdr(w, m.op); writeCreate(w, { path, data: dataOf(m.data), acl: aclOf(m.acl), flags: m.flags, ttl: m.ttl ?? -1 }, m.op === 21); },
      };
    case 'delete': {
      const version = resolveVersion(st, path, m.version);
      return { desc: `delete ${JSON.stringify(path)} v=${version}`, path, write: (w) => { hdr(w, OpCode.delete); writePathVersion(w, { path, version }); } };
    }
    case 'setData': {
      const version = resolveVersion(st, path, m.version);
      return {
        desc: `setData ${JSON.stringify(path)} d=${showData(m.data)} v=${version}`,
        path,
        write: (w) => { hdr(w, OpCode.setData); writeSetData(w, { path, data: dataOf(m.data), version }); },
      };
    }
    case 'check': {
      const version = resolveVersion(st, path, m.version);
      return { desc: `check ${JSON.stringify(path)} v=${version}`, path, write: (w) => { hdr(w, OpCode.check); writePathVersion(w, { path, version }); } };
    }
  }
}

/** A multi reply body whatever its header's err (compat-wire decodes it only for err 0). */
function decodeMultiBody(run: Run, r: Reader): unknown {
  const results: unknown[] = [];
  try {
    for (let i = 0; i < 10000; i++) {
      const type = r.int();
      const done = r.bool();
      const err = r.int();
      if (done) return { results, end: [type, err], trailing: r.remaining() };
      switch (type) {
        case OpCode.create: results.push({ type, err, path: r.ustring() }); break;
        case OpCode.create2: results.push({ type, err, path: r.ustring(), stat: run.stat(readStat(r)) }); break;
        case OpCode.setData: results.push({ type, err, stat: run.stat(readStat(r)) }); break;
        case OpCode.error: results.push({ type, err, errorResponse: r.int() }); break;
        default: results.push({ type, err });
      }
    }
  } catch (e) {
    return { results, decodeError: String(e) };
  }
  return { results, unterminated: true };
}

/** What one request is: its label, how to write it and how to read its reply. */
interface Prepared {
  label: string;
  type: number;
  write: (w: Writer) => void;
  kind: Parameters<Conn['req']>[3];
  path?: string;
  /** After the reply (state updates). */
  after?: (step: Step & { reply: Reply }) => void;
  /** After the reply: the client's view of its watches (ClientWatches). */
  watches?: (m: ClientWatches, step: Step & { reply: Reply }) => void;
}

function trackStat(st: State, path: string, body: unknown): void {
  const b = body as { stat?: { version: number; aversion: number } } | undefined;
  if (b?.stat !== undefined) st.versions.set(path, { version: b.stat.version, aversion: b.stat.aversion });
}

function prepare(st: State, run: Run, op: Op, n: string): Prepared {
  switch (op.k) {
    case 'create': {
      const path = resolvePath(st, op.path);
      const name = op.op === 1 ? 'create' : op.op === 15 ? 'create2' : op.op === 21 ? 'createTTL' : 'createContainer';
      return {
        label: `${n} ${name} ${JSON.stringify(path)} f=${op.flags}${op.op === 21 ? ` ttl=${op.ttl}` : ''} d=${showData(op.data)} acl=${op.acl}`,
        type: op.op,
        write: (w) => writeCreate(w, { path, data: dataOf(op.data), acl: aclOf(op.acl), flags: op.flags, ttl: op.ttl ?? -1 }, op.op === 21),
        kind: op.op === 1 ? 'path' : 'pathStat',
        after: (s) => {
          if (s.err !== 0) return;
          const b = s.body as { path: string; stat?: { version: number; aversion: number } };
          if (op.flags === 2 || op.flags === 3 || op.flags === 6) st.seqPaths.push(b.path);
          trackStat(st, b.path, b);
          if (b.stat === undefined) st.versions.set(b.path, { version: 0, aversion: 0 });
        },
      };
    }
    case 'delete': {
      const path = resolvePath(st, op.path);
      const version = resolveVersion(st, path, op.version);
      return {
        label: `${n} delete ${JSON.stringify(path)} v=${version}`,
        type: OpCode.delete,
        write: (w) => writePathVersion(w, { path, version }),
        kind: 'none',
        after: (s) => { if (s.err === 0) st.versions.delete(path); },
      };
    }
    case 'setData': {
      const path = resolvePath(st, op.path);
      const version = resolveVersion(st, path, op.version);
      return {
        label: `${n} setData ${JSON.stringify(path)} d=${showData(op.data)} v=${version}`,
        type: OpCode.setData,
        write: (w) => writeSetData(w, { path, data: dataOf(op.data), version }),
        kind: 'stat',
        after: (s) => { if (s.err === 0) trackStat(st, path, s.body); },
      };
    }
    case 'read': {
      const path = resolvePath(st, op.path);
      const type = { getData: OpCode.getData, exists: OpCode.exists, getChildren: OpCode.getChildren, getChildren2: OpCode.getChildren2 }[op.op];
      const kind = ({ getData: 'dataStat', exists: 'stat', getChildren: 'children', getChildren2: 'children2' } as const)[op.op];
      return {
        label: `${n} ${op.op} ${JSON.stringify(path)}${op.watch ? ' watch' : ''}`,
        type,
        write: (w) => writePathWatch(w, { path, watch: op.watch }),
        kind,
        after: (s) => { if (s.err === 0) trackStat(st, path, s.body); },
        watches: (m, s) => {
          if (!op.watch) return;
          if (s.err === 0) (op.op === 'getData' || op.op === 'exists' ? m.data : m.child).add(path);
          else if (s.err === Err.NONODE && op.op === 'exists') m.exist.add(path);
        },
      };
    }
    case 'checkWatches':
    case 'removeWatches': {
      const path = resolvePath(st, op.path);
      return {
        label: `${n} ${op.k} ${JSON.stringify(path)} type=${op.type}`,
        type: op.k === 'checkWatches' ? OpCode.checkWatches : OpCode.removeWatches,
        write: (w) => { w.ustring(path).int(op.type); },
        kind: 'none',
        watches: (m, s) => { if (op.k === 'removeWatches' && s.err === 0) m.removed(op.type, path); },
      };
    }
    case 'addWatch': {
      const path = resolvePath(st, op.path);
      return {
        label: `${n} addWatch ${JSON.stringify(path)} mode=${op.mode}`,
        type: OpCode.addWatch,
        write: (w) => { w.ustring(path).int(op.mode); },
        kind: 'none',
        watches: (m, s) => { if (s.err === 0 && (op.mode === 0 || op.mode === 1)) (op.mode === 0 ? m.persistent : m.recursive).add(path); },
      };
    }
    case 'setWatches2': {
      const r = (ps: PathSpec[]) => ps.map((p) => resolvePath(st, p));
      const lists = [r(op.data), r(op.exist), r(op.child), op.persistent, op.recursive];
      return {
        label: `${n} setWatches2 rel=${op.rel} ${JSON.stringify(lists)}`,
        type: OpCode.setWatches2,
        write: (w) => {
          w.long(op.rel === 0 ? 0 : 2 ** 50);
          for (const l of lists) { w.int(l.length); for (const p of l) w.ustring(p); }
        },
        kind: 'none',
      };
    }
    case 'setACL': {
      const path = resolvePath(st, op.path);
      const version = resolveVersion(st, path, op.version);
      return {
        label: `${n} setACL ${JSON.stringify(path)} acl=${op.acl} v=${version}`,
        type: OpCode.setACL,
        write: (w) => { w.ustring(path); writeAclList(w, aclOf(op.acl)); w.int(version); },
        kind: 'stat',
        after: (s) => { if (s.err === 0) trackStat(st, path, s.body); },
      };
    }
    case 'getACL': {
      const path = resolvePath(st, op.path);
      return {
        label: `${n} getACL ${JSON.stringify(path)}`,
        type: OpCode.getACL,
        write: (w) => { w.ustring(path); },
        kind: 'aclStat',
        after: (s) => { if (s.err === 0) trackStat(st, path, s.body); },
      };
    }
    case 'addAuth':
      return {
        label: `${n} addAuth digest ${op.cred}`,
        type: OpCode.auth,
        write: (w) => { w.int(0).ustring('digest').buffer(Buffer.from(op.cred, 'utf8')); },
        kind: 'none',
      };
    case 'sync': {
      const path = resolvePath(st, op.path);
      return { label: `${n} sync ${JSON.stringify(path)}`, type: OpCode.sync, write: (w) => { w.ustring(path); }, kind: 'path' };
    }
    case 'getAllChildrenNumber': {
      const path = resolvePath(st, op.path);
      return { label: `${n} getAllChildrenNumber ${JSON.stringify(path)}`, type: OpCode.getAllChildrenNumber, write: (w) => { w.ustring(path); }, kind: 'int' };
    }
    case 'whoAmI':
      return { label: `${n} whoAmI`, type: OpCode.whoAmI, write: () => {}, kind: 'whoAmI' };
    case 'getEphemerals':
      return { label: `${n} getEphemerals ${JSON.stringify(op.prefix)}`, type: OpCode.getEphemerals, write: (w) => { w.ustring(op.prefix); }, kind: 'stringList' };
    case 'multi': {
      const parts = op.ops.map((m) => prepMultiOp(st, m));
      return {
        label: `${n} multi [${parts.map((p) => p.desc).join('; ')}]`,
        type: OpCode.multi,
        write: (w) => {
          for (const p of parts) p.write(w);
          w.int(-1).bool(true).int(-1);
        },
        kind: 'multi',
        after: (s) => {
          if (s.err !== 0) {
            run.note(`${n} multi body (err ${s.err})`, decodeMultiBody(run, s.reply.body));
            return;
          }
          const b = s.body as { results?: { type: number; path?: string; stat?: unknown }[] };
          const results = b.results ?? [];
          op.ops.forEach((m, i) => {
            const r = results[i];
            if (r === undefined) return;
            if (m.t === 'create' && r.path != null) {
              if (m.flags === 2 || m.flags === 3 || m.flags === 6) st.seqPaths.push(r.path);
              st.versions.set(r.path, { version: 0, aversion: 0 });
            } else if (m.t === 'setData') {
              trackStat(st, parts[i]!.path, r);
            } else if (m.t === 'delete') {
              st.versions.delete(parts[i]!.path);
            }
          });
        },
      };
    }
    case 'multiRead': {
      const paths = op.ops.map((m) => ({ ...m, path: resolvePath(st, m.path) }));
      return {
        label: `${n} multiRead [${paths.map((m) => `${m.t} ${JSON.stringify(m.path)}${m.watch ? ' watch' : ''}`).join('; ')}]`,
        type: OpCode.multiRead,
        write: (w) => {
          for (const m of paths) {
            w.int(m.t === 'getData' ? OpCode.getData : OpCode.getChildren).bool(false).int(-1);
            writePathWatch(w, { path: m.path, watch: m.watch });
          }
          w.int(-1).bool(true).int(-1);
        },
        kind: 'multi',
        after: (s) => {
          if (s.err !== 0) run.note(`${n} multiRead body (err ${s.err})`, decodeMultiBody(run, s.reply.body));
        },
        watches: (m, s) => {
          const results = s.err === 0 ? (s.body as { results?: { type: number }[] }).results ?? [] : [];
          paths.forEach((r, i) => {
            if (r.watch && results[i] !== undefined && results[i]!.type !== OpCode.error) (r.t === 'getData' ? m.data : m.child).add(r.path);
          });
        },
      };
    }
    case 'closeSession':
    case 'burst':
    case 'restart':
    case 'reconnect':
      throw new Error(`prepare: ${op.k} is handled by the runner`);
  }
}

function writeAclList(w: Writer, acl: RequestACL[] | null): void {
  if (acl === null) { w.int(-1); return; }
  w.int(acl.length);
  for (const a of acl) {
    w.int(a.perms).ustring(a.id.scheme).ustring(a.id.id);
  }
}

/** A short description of an op as generated (before resolution), for repro listings. */
export function describeOp(op: Op): string {
  const p = (x: PathSpec) => (typeof x === 'string' ? JSON.stringify(x) : `seq#${x.seq}`);
  const who = CONN_NAMES[op.c] ?? `c${op.c}`;
  switch (op.k) {
    case 'create': return `${who} ${op.op === 1 ? 'create' : op.op === 15 ? 'create2' : op.op === 21 ? 'createTTL' : 'createContainer'} ${p(op.path)} f=${op.flags}${op.op === 21 ? ` ttl=${op.ttl}` : ''} d=${showData(op.data)} acl=${op.acl}`;
    case 'delete': return `${who} delete ${p(op.path)} v=${op.version}`;
    case 'setData': return `${who} setData ${p(op.path)} d=${showData(op.data)} v=${op.version}`;
    case 'read': return `${who} ${op.op} ${p(op.path)}${op.watch ? ' watch' : ''}`;
    case 'checkWatches': case 'removeWatches': return `${who} ${op.k} ${p(op.path)} type=${op.type}`;
    case 'addWatch': return `${who} addWatch ${p(op.path)} mode=${op.mode}`;
    case 'setWatches2': return `${who} setWatches2 rel=${op.rel} data=[${op.data.map(p)}] exist=[${op.exist.map(p)}] child=[${op.child.map(p)}] ` +
      `persistent=[${op.persistent.map(p)}] recursive=[${op.recursive.map(p)}]`;
    case 'setACL': return `${who} setACL ${p(op.path)} acl=${op.acl} v=${op.version}`;
    case 'getACL': return `${who} getACL ${p(op.path)}`;
    case 'addAuth': return `${who} addAuth digest ${op.cred}`;
    case 'sync': return `${who} sync ${p(op.path)}`;
    case 'getAllChildrenNumber': return `${who} getAllChildrenNumber ${p(op.path)}`;
    case 'getEphemerals': return `${who} getEphemerals ${JSON.stringify(op.prefix)}`;
    case 'closeSession': return `${who} closeSession (then a new session)`;
    case 'restart': return 'restart the server; every session reopened';
    case 'reconnect': return `${who} reconnects${op.takeover ? ' (the old connection left open)' : ''}, setWatches for its watches`;
    case 'whoAmI': return `${who} whoAmI`;
    case 'multi': return `${who} multi [${op.ops.map((m) => {
      switch (m.t) {
        case 'create': return `${m.op === 19 ? 'createContainer' : m.op === 21 ? 'createTTL' : 'create'} ${p(m.path)} f=${m.flags}${m.op === 21 ? ` ttl=${m.ttl}` : ''} d=${showData(m.data)} acl=${m.acl}`;
        case 'delete': return `delete ${p(m.path)} v=${m.version}`;
        case 'setData': return `setData ${p(m.path)} d=${showData(m.data)} v=${m.version}`;
        case 'check': return `check ${p(m.path)} v=${m.version}`;
      }
    }).join('; ')}]`;
    case 'multiRead': return `${who} multiRead [${op.ops.map((m) => `${m.t} ${p(m.path)}${m.watch ? ' watch' : ''}`).join('; ')}]`;
    case 'burst': return `${who} burst {${op.ops.map((o) => describeOp(o).slice(who.length + 1)).join('; ')}}`;
  }
}

/** The label of a slot's next connection: A, then A2, A3, ... */
function nextLabel(st: State, slot: number): string {
  const gen = (st.generation[slot] ?? 0) + 1;
  st.generation[slot] = gen;
  return `${CONN_NAMES[slot]}${gen === 1 ? '' : gen}`;
}

async function openSlot(run: Run, st: State, slot: number, label = nextLabel(st, slot)): Promise<Conn> {
  const c = await run.connect(label);
  st.conns[slot] = c;
  st.watches[slot] = new ClientWatches();
  followEvents(c.client, st.watches[slot]!);
  return c;
}

function followEvents(client: ZkClient, m: ClientWatches): void {
  client.on('event', (e: { type: number; path: string | null }) => { if (e.path !== null) m.onEvent(e.type, e.path); });
}

/** Reopen a slot's session on a new connection (restart, reconnect); false if the session is gone (then a new one is opened). */
async function reopenSlot(run: Run, st: State, slot: number, old: Conn, outcome: Record<string, unknown>, n: string): Promise<ZkClient | null> {
  const label = nextLabel(st, slot);
  let client: ZkClient;
  try {
    client = await ZkClient.connect(run.target.host, run.target.port, {
      ping: false, sessionId: old.client.sessionId, passwd: old.client.passwd, timeoutMs: old.client.timeoutMs, lastZxidSeen: old.client.lastZxid,
    });
  } catch (e) {
    if ((e as { code?: string }).code !== 'EXPIRED') throw e;
    outcome[old.label] = 'expired';
    await openSlot(run, st, slot, label);
    return null;
  }
  const conn = run.adopt(label, client);
  st.conns[slot] = conn;
  const m = st.watches[slot] ??= new ClientWatches();
  followEvents(client, m);
  outcome[old.label] = { reopenedAs: label, timeoutMs: client.timeoutMs };
  // The client sets its watches again, relative to the last zxid it saw:
  // events for what changed since come before the reply.
  const lists = m.lists();
  if (lists.some((l) => l.length > 0)) {
    const v2 = lists.length === 5;
    await conn.req(`${n} ${label} setWatches${v2 ? '2' : ''} (restore) ${JSON.stringify(lists)}`, v2 ? OpCode.setWatches2 : OpCode.setWatches, (w) => {
      w.long(old.client.lastZxid);
      for (const l of lists) { w.int(l.length); for (const p of l) w.ustring(p); }
    }, 'none');
  }
  return client;
}

/** Events already on their way to a connection arrive before a reply to a request it sends now. */
function settle(c: Conn, why: string): Promise<unknown> {
  return withTimeout(c.client.request(OpCode.exists, (w) => writePathWatch(w, { path: '/r', watch: false })), 5000, `settling before ${why}`);
}

/**
 * A reconnect op. Takeover: the slot's session is reopened on a new
 * connection at once and the server closes the old one. Otherwise the
 * connection is dropped, and the session reopened by the next op on the
 * slot (other sessions' requests in between change what its watches
 * watch). Either way its client's watches are set again.
 */
async function reconnectSlot(run: Run, st: State, slot: number, takeover: boolean, n: string): Promise<void> {
  const old = st.conns[slot]!;
  await settle(old, 'a reconnect');
  if (!takeover) {
    old.client.destroy();
    st.away[slot] = old;
    return;
  }
  const outcome: Record<string, unknown> = {};
  const client = await reopenSlot(run, st, slot, old, outcome, n);
  const closed = await old.client.closedWithin(5000) && client !== null;
  old.client.destroy();
  outcome.oldClosedByServer = closed;
  run.note(`${n} reconnect (takeover)`, outcome);
}

/**
 * A restart op: drop every slot's connection (sessions stay), restart the
 * server, and reopen each slot's session with its id and password (a new
 * session if the server no longer knows it). Noted: per slot, the timeout
 * the server gave back, or that the session was gone.
 */
async function restartServer(run: Run, st: State, restart: Restarter, n: string): Promise<void> {
  const slots = [...st.conns];
  // Only once events on their way have arrived is a connection dropped.
  await Promise.all(slots.map((c) => (c === null || c === undefined || c.client.closed ? undefined : settle(c, 'a restart'))));
  for (const c of slots) c?.client.destroy();
  st.away.length = 0;
  const at = await restart();
  Object.assign(run.target, at);
  const outcome: Record<string, unknown> = {};
  for (let slot = 0; slot < slots.length; slot++) {
    const old = slots[slot];
    if (old === null || old === undefined) continue;
    await reopenSlot(run, st, slot, old, outcome, n);
  }
  run.note(`${n} restart`, outcome);
}

/** Run a sequence on a Run (the scenario; the caller closes the Run). A sequence with restart ops needs `restart`. */
export async function runSequence(run: Run, seq: Sequence, restart?: Restarter): Promise<void> {
  const st = new State();
  for (let i = 0; i < seq.conns; i++) await openSlot(run, st, i);
  for (let i = 0; i < seq.ops.length; i++) {
    const op = seq.ops[i]!;
    const n = `#${i}`;
    const away = st.away[op.c];
    if (away !== undefined && op.k !== 'restart') {
      st.away[op.c] = undefined;
      const outcome: Record<string, unknown> = {};
      await reopenSlot(run, st, op.c, away, outcome, n);
      run.note(`${n} reconnect`, outcome);
    }
    let conn = st.conns[op.c];
    if (conn === undefined || conn === null) throw new Error(`op ${i}: no connection ${op.c}`);
    if (conn.client.closed) {
      run.note(`${n} connection ${conn.label} found closed by the server`, true);
      conn = await openSlot(run, st, op.c);
    }
    try {
      if (op.k === 'restart') {
        if (restart === undefined) throw new Error('a restart op, and no way to restart the server');
        await restartServer(run, st, restart, n);
        continue;
      }
      if (op.k === 'reconnect') {
        await reconnectSlot(run, st, op.c, op.takeover, n);
        continue;
      }
      if (op.k === 'closeSession') {
        const s = await conn.closeSession(`${n} closeSession`);
        const closed = await conn.client.closedWithin(5000);
        if (s.err !== 0 || !closed) run.note(`${n} closeSession`, { err: s.err, closedByServer: closed });
        conn.client.destroy();
        await openSlot(run, st, op.c);
      } else if (op.k === 'burst') {
        const preps: Prepared[] = op.ops.map((o, j) => prepare(st, run, o, `${n}.${j}`));
        const c = conn;
        const all = preps.map((p) => c.req(p.label, p.type, p.write, p.kind).then((s) => { p.after?.(s); return s; }));
        await Promise.all(all);
      } else {
        const p = prepare(st, run, op, n);
        const s = await conn.req(p.label, p.type, p.write, p.kind);
        p.after?.(s);
        p.watches?.(st.watches[op.c]!, s);
      }
    } catch (e) {
      // No reply (a timeout, a closed connection): note it; the next op on this slot reconnects.
      run.note(`${n} failed`, String((e as Error).message).replace(/^\S+ /, ''));
      if (!conn.client.closed) {
        // A server that stopped answering: stop here rather than wait on every later op.
        throw Object.assign(new Error(`op ${i} (${describeOp(op)}): ${(e as Error).message}`), { abort: true });
      }
    }
  }
}

/**
 * The server's watch tables at the end of a run, as wchs, wchp and wchc
 * report them (data watches only, in 3.8's reports), with session ids as
 * the run's connection labels and the lines of each block, and the blocks,
 * sorted (both reports list hash maps).
 */
async function watchReport(target: Target, run: Run): Promise<Record<string, unknown>> {
  const word = (w: string) => withTimeout(fourLetter(target.port, w, target.host), 5000, `${w} on ${target.name}`);
  const labels = (text: string) => text.replace(/0x[0-9a-f]+/g, (hex) => run.sessions.get(BigInt.asIntN(64, BigInt(hex))) ?? 'session:?');
  // A block is a line not starting with a tab (a path, perhaps "", or a session) and the tab lines after it.
  const blocks = (text: string) => {
    const out: string[][] = [];
    for (const line of labels(text).replace(/\n+$/, '').split('\n')) {
      if (line.startsWith('\t') && out.length > 0) out[out.length - 1]!.push(line.slice(1));
      else out.push([JSON.stringify(line)]);
    }
    return out.map(([head, ...rest]) => [head, ...rest.sort()].join(' ')).sort();
  };
  return { wchs: (await word('wchs')).trim(), wchp: blocks(await word('wchp')), wchc: blocks(await word('wchc')) };
}

/** mntr gauges of the tree a run changes. */
const MNTR_GAUGES = ['zk_znode_count', 'zk_ephemerals_count', 'zk_watch_count', 'zk_approximate_data_size'] as const;

/** Run a sequence against a target, returning its transcript (sessions closed afterwards). */
export async function runOn(target: Target, seq: Sequence, restart?: Restarter): Promise<Transcript> {
  const run = new Run(target, { absoluteZxids: false });
  try {
    // A shared server starts a seed with whatever earlier seeds left in its
    // gauges (Apache's approximate data size drifts), so the change is compared.
    const before = await mntr(target.host, target.port);
    await runSequence(run, seq, restart);
    // A closeSession's connection goes (and its watches with it) after the reply.
    await new Promise((r) => setTimeout(r, 100));
    run.note('watches at the end (wchs, wchp, wchc)', await watchReport(target, run));
    const after = await mntr(target.host, target.port);
    // README: Apache's approximate data size leaves out its own rewrites of zookeeper_stats.
    const gauges = seq.quotas === true ? MNTR_GAUGES.filter((k) => k !== 'zk_approximate_data_size') : MNTR_GAUGES;
    run.note('mntr gauges, change over the run', Object.fromEntries(gauges.map((k) => [k, Number(after.get(k)) - Number(before.get(k))])));
    await run.closeAll();
  } catch (e) {
    run.note('aborted', (e as Error).message.replace(target.name, '<server>'));
    await run.closeAll().catch(() => {});
  } finally {
    run.destroyAll();
  }
  return run.transcript;
}

// ---- cleanup between seeds on a shared server ----------------------------------------

/** What a seed leaves on a shared server: its quota nodes (first, so no quota counts the rest) and its namespace. */
const SEED_ROOTS = ['/zookeeper/quota/r', '/r'];

/** A session of the superDigest user, outside any transcript; the caller closes it. */
export async function superSession(target: Target): Promise<ZkClient> {
  const c = await ZkClient.connect(target.host, target.port, { ping: false });
  try {
    await withTimeout(addDigestAuth(c, SUPER_CRED), 5000, `addauth as the super user on ${target.name}`);
    return c;
  } catch (e) {
    c.destroy();
    throw e;
  }
}

/** Remove subtrees (by default a seed's, SEED_ROOTS) as the superDigest user (outside any transcript). */
export async function removeTree(target: Target, roots: readonly string[] = SEED_ROOTS): Promise<void> {
  const c = await superSession(target);
  try {
    const del = async (p: string, depth: number): Promise<void> => {
      if (depth > 50) throw new Error(`cleanup: ${p} too deep`);
      const r = await withTimeout(c.request(OpCode.getChildren, (w) => writePathWatch(w, { path: p, watch: false })), 5000, 'cleanup getChildren');
      if (r.hdr.err === -101) return;
      if (r.hdr.err !== 0) throw new Error(`cleanup: getChildren ${p}: ${r.hdr.err}`);
      const n = r.body.int();
      const kids: string[] = [];
      for (let i = 0; i < n; i++) kids.push(r.body.ustring()!);
      for (const k of kids) await del(`${p}/${k}`, depth + 1);
      const d = await withTimeout(c.request(OpCode.delete, (w) => writePathVersion(w, { path: p, version: -1 })), 5000, 'cleanup delete');
      if (d.hdr.err !== 0 && d.hdr.err !== -101) throw new Error(`cleanup: delete ${p}: ${d.hdr.err}`);
    };
    for (const root of roots) await del(root, 0);
  } finally {
    await c.close();
  }
}

// ---- comparing -------------------------------------------------------------------------

export interface Difference {
  /** The op (index into the sequence) the difference shows at. */
  op: number;
  /**
   * The first op that may have caused it: for a difference in a
   * connection's arrivals, the op after the last reply both agree on there
   * (another connection's write in between fired the event); else op.
   */
  from: number;
  where: string;
  apache: string;
  zoonode: string;
  /** A short key to tell differences apart while minimizing. */
  signature: string;
}

const NOWATCHER = -121;
const MARSHALLINGERROR = -5;

/** Why a step difference is one of README's deliberate ones, or null. */
export function acceptedDifference(a: Step, z: Step): string | null {
  // README: types 4 and 5 are 3.9's; 3.8 answers MARSHALLINGERROR. A
  // removeWatches of them never finds a watch to remove (applyWatchModes).
  const m = /^#[\d.]+ (checkWatches|removeWatches) .* type=([45])$/.exec(a.label);
  if (m !== null && a.label === z.label && a.err === MARSHALLINGERROR && a.xid === z.xid && a.zxid === z.zxid &&
    (z.err === NOWATCHER || (m[1] === 'checkWatches' && z.err === 0))) {
    return `README: ${m[1]} type ${m[2]} (3.9's; 3.8 answers MARSHALLINGERROR)`;
  }
  if (/^#[\d.]+ checkWatches /.test(a.label) && a.label === z.label && a.err === 0 && z.err === NOWATCHER &&
    a.xid === z.xid && a.zxid === z.zxid) {
    return 'README: checkWatches matches only the asking connection\'s own watches (3.9); 3.8 matches any connection\'s';
  }
  return null;
}

function opIndexOfLabel(label: string | undefined): number {
  const m = /#(\d+)/.exec(label ?? '');
  return m === null ? Number.MAX_SAFE_INTEGER : Number(m[1]);
}

function opKindOfLabel(label: string | undefined): string {
  const m = /^#[\d.]+ (\S+)/.exec(label ?? '');
  return m === null ? '?' : m[1]!;
}

function changedFields(a: unknown, z: unknown): string[] {
  if (a === undefined || z === undefined || a === null || z === null || typeof a !== 'object' || typeof z !== 'object') return ['whole'];
  const keys = new Set([...Object.keys(a), ...Object.keys(z)]);
  const out: string[] = [];
  for (const k of keys) {
    if (JSON.stringify((a as Record<string, unknown>)[k]) !== JSON.stringify((z as Record<string, unknown>)[k])) out.push(k);
  }
  return out.sort();
}

/** The ops around a difference, described, for a message (at most `max` lines). */
export function contextOf(seq: Sequence, d: Difference, max = 14): string[] {
  const last = Math.min(d.op, seq.ops.length - 1);
  const first = Math.max(0, Math.min(d.from, last - 3), last - max + 1);
  const out: string[] = [];
  for (let i = first; i <= last; i++) out.push(`#${i} ${describeOp(seq.ops[i]!)}`);
  return out;
}

/** A test's failure message for the first of `diffs`: where, both sides, the ops before it, and the driver's arguments that replay the seed. */
export function differenceReport(seq: Sequence, diffs: readonly Difference[], replayArgs: string): string {
  const d = diffs[0]!;
  return `seed ${seq.seed}: first difference at op #${d.op}, ${d.where}\n` +
    `  apache:  ${d.apache}\n  zoonode: ${d.zoonode}\n  ops:\n    ${contextOf(seq, d).join('\n    ')}\n` +
    `  (${diffs.length} difference(s) found; replay: node dist/test/support/random-differential-driver.js ${replayArgs})`;
}

/** Every difference (earliest op first), with the accepted ones apart. */
export function compare(apache: Transcript, zoonode: Transcript): { diffs: Difference[]; accepted: string[] } {
  const diffs: Difference[] = [];
  const accepted: string[] = [];
  const n = Math.max(apache.steps.length, zoonode.steps.length);
  for (let i = 0; i < n; i++) {
    const a = apache.steps[i];
    const z = zoonode.steps[i];
    const as = JSON.stringify(a);
    const zs = JSON.stringify(z);
    if (as === zs) continue;
    if (a !== undefined && z !== undefined) {
      const why = acceptedDifference(a, z);
      if (why !== null) { accepted.push(`${a.label}: ${why}`); continue; }
    }
    const fields = changedFields(a, z);
    const op = Math.min(opIndexOfLabel(a?.label), opIndexOfLabel(z?.label));
    diffs.push({
      op,
      from: op,
      where: `step ${i} (${a?.label ?? z?.label})`,
      apache: as ?? 'none',
      zoonode: zs ?? 'none',
      signature: `step ${opKindOfLabel(a?.label ?? z?.label)} ${fields.join(',')} ` +
        `err ${a?.err ?? '-'}/${z?.err ?? '-'}` + (fields.includes('body') ? ` body ${bodyFields(a, z)}` : ''),
    });
    break;
  }
  for (const c of new Set([...Object.keys(apache.arrivals), ...Object.keys(zoonode.arrivals)])) {
    const a = apache.arrivals[c] ?? [];
    const z = zoonode.arrivals[c] ?? [];
    const len = Math.max(a.length, z.length);
    for (let j = 0; j < len; j++) {
      if (a[j] === z[j]) continue;
      const nextReply = (xs: string[]) => xs.slice(j).find((s) => s.startsWith('reply #'));
      const opIdx = Math.min(opIndexOfLabel(nextReply(a)), opIndexOfLabel(nextReply(z)));
      const lastAgreed = a.slice(0, j).reverse().find((s) => s.startsWith('reply #'));
      const from = lastAgreed === undefined ? 0 : opIndexOfLabel(lastAgreed) + 1;
      const strip = (s: string | undefined) => (s ?? 'none').replace(/^reply #[\d.]+ (\S+).*/, 'reply $1').replace(/ hdr=.*/, '');
      diffs.push({
        op: opIdx,
        from: Math.min(from, opIdx),
        where: `arrivals on ${c} at ${j}`,
        apache: JSON.stringify(a.slice(Math.max(0, j - 2), j + 3)),
        zoonode: JSON.stringify(z.slice(Math.max(0, j - 2), j + 3)),
        signature: `arrival ${strip(a[j])} / ${strip(z[j])}`,
      });
      break;
    }
  }
  for (const k of new Set([...Object.keys(apache.notes), ...Object.keys(zoonode.notes)])) {
    const a = JSON.stringify(apache.notes[k] ?? null);
    const z = JSON.stringify(zoonode.notes[k] ?? null);
    if (a === z) continue;
    const op = k === 'aborted' ? Number.MAX_SAFE_INTEGER - 1 : opIndexOfLabel(k);
    diffs.push({
      op,
      from: op,
      where: `note ${k}`,
      apache: a,
      zoonode: z,
      signature: `note ${k.replace(/^#[\d.]+ /, '')}`,
    });
  }
  diffs.sort((x, y) => x.op - y.op);
  return { diffs, accepted };
}

function bodyFields(a: Step | undefined, z: Step | undefined): string {
  return changedFields(a?.body, z?.body).join(',');
}
