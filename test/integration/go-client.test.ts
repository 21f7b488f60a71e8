// Integration: Go's ZooKeeper client (github.com/samuel/go-zookeeper/zk from
// Debian's golang-github-samuel-go-zookeeper-dev, the predecessor of
// github.com/go-zookeeper/zk with the same API) against zoonode under every
// worker layout, and against Apache ZooKeeper 3.8 (Debian `zookeeper`).
//
// The scenario is the Go program test/support/go_scenario/main.go; it reports
// one JSON line per step (see kazoo.test.ts for the same pattern). It is
// built here with /usr/bin/go in GOPATH mode (no network, no go.mod) into
// os.tmpdir(), cached under a hash of its source, the Go version and the zk
// package's source.
//
// Every step's results are asserted exactly; the expected values are what
// Apache ZooKeeper 3.8 answers (the same assertions run against Apache). Then
// each zoonode run is compared with the Apache run step by step: the scenario
// already prints session ids by name, zxids relative to its root's czxid and
// times as checks, so only the raw session id of `connect` (and a `cons` last
// operation that a ping can change) differ legitimately.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startZoonode, workerModes, type TestServer } from '../support/zoonode.js';
import { isApacheInstalled, startApache } from '../support/apache.js';
import { runStepProgram, type PyRun, type PyStep } from '../support/py-scenario.js';
import { digestId } from '../support/zk-tree.js';

const goBinary = '/usr/bin/go';
const zkPackage = '/usr/share/gocode/src/github.com/samuel/go-zookeeper/zk';
// dist/test/integration → test/support/go_scenario (the .go file is not compiled by tsc).
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..', '..');
const source = path.join(repoRoot, 'test', 'support', 'go_scenario', 'main.go');
/** The scenario's own watchdog is 5 s shorter; it takes about 10 s. */
const processTimeoutMs = 45000;
const root = '/go';

function goAvailable(): string | null {
  if (!fs.existsSync(goBinary)) return `${goBinary} is missing (Debian package golang-go)`;
  if (!fs.existsSync(path.join(zkPackage, 'conn.go'))) return `${zkPackage} is missing (Debian package golang-github-samuel-go-zookeeper-dev)`;
  if (!fs.existsSync(source)) return `${source} is missing`;
  return null;
}

const skipReason = goAvailable();
const apacheSkip = skipReason ?? (isApacheInstalled() ? false : 'Apache ZooKeeper 3.8 is not installed');

let built: string | null = null;

/**
 * The scenario binary, built on first use into a temporary directory keyed
 * by what it is built from (an existing build is reused). Throws with the
 * compiler's output if the build fails.
 */
function scenarioBinary(): string {
  if (built !== null) return built;
  const version = spawnSync(goBinary, ['version'], { encoding: 'utf8', timeout: 30000 });
  if (version.status !== 0) throw new Error(`${goBinary} version failed: ${version.stderr || String(version.error)}`);
  const hash = crypto.createHash('sha256').update(fs.readFileSync(source)).update(version.stdout);
  for (const f of fs.readdirSync(zkPackage).filter((n) => n.endsWith('.go') && !n.endsWith('_test.go')).sort()) {
    hash.update(f).update(fs.readFileSync(path.join(zkPackage, f)));
  }
  const dir = path.join(os.tmpdir(), `zoonode-go-scenario-${hash.digest('hex').slice(0, 16)}`);
  const bin = path.join(dir, 'go_scenario');
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${bin}.${process.pid}.tmp`;
    const r = spawnSync(goBinary, ['build', '-o', tmp, source], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 180000,
      env: {
        ...process.env,
        GO111MODULE: 'off',
        GOPATH: '/usr/share/gocode',
        GOCACHE: path.join(os.tmpdir(), 'zoonode-go-build-cache'),
        GOENV: 'off',
        GOFLAGS: '',
        CGO_ENABLED: '0',
      },
    });
    if (r.status !== 0) {
      fs.rmSync(tmp, { force: true });
      throw new Error(`go build of ${source} failed (status ${r.status}):\n${r.stderr}${r.stdout}${r.error ? String(r.error) : ''}`);
    }
    fs.renameSync(tmp, bin);
  }
  built = bin;
  return bin;
}

type Step = PyStep;
type Run = PyRun;

/** Runs the scenario against hostPort; never rejects, bounded by processTimeoutMs. */
function runScenario(hostPort: string): Promise<Run> {
  return runStepProgram(scenarioBinary(), [hostPort, root, String(processTimeoutMs / 1000 - 5)], processTimeoutMs);
}

// ---- expected values ---------------------------------------------------------------

const stepNames = [
  'connect', 'create', 'get_set_delete', 'watches', 'multi', 'acl', 'sync', 'lock', 'flw',
  'reconnect', 'expire', 'session_close', 'cleanup', 'done',
];

/**
 * A Stat as the scenario prints it (zxids relative to the czxid of /go).
 * mzxid and pzxid default to czxid; times must be recent.
 */
function stat(s: { czxid: number } & Partial<Record<'mzxid' | 'pzxid' | 'version' | 'cversion' | 'aversion' | 'dataLength' | 'numChildren', number>> & { ephemeralOwner?: string }) {
  return {
    czxid: s.czxid, mzxid: s.mzxid ?? s.czxid, pzxid: s.pzxid ?? s.czxid,
    ctime_recent: true, mtime_recent: true,
    version: s.version ?? 0, cversion: s.cversion ?? 0, aversion: s.aversion ?? 0,
    ephemeralOwner: s.ephemeralOwner ?? '0', dataLength: s.dataLength ?? 0, numChildren: s.numChildren ?? 0,
  };
}

/** A watch notification as the Go client delivers it (state 3 is SyncConnected, which it has no name for). */
const watchEvent = (type: string, p: string) => ({ type, state: 'State(3)', path: p, err: null });
const notWatching = (p: string, err: string) => ({ type: 'EventNotWatching', state: 'StateDisconnected', path: p, err });
const bytes = (text: string, isNil = false) => ({ text, nil: isNil, len: Buffer.byteLength(text) });
const op = (string: string, st: unknown = null, error: string | null = null) => ({ string, stat: st, error });

/** What each step prints besides step/ok: exact values, from Apache ZooKeeper 3.8's answers. */
const expected: Record<string, (s: Step) => void> = {
  connect(s) {
    assert.match(String(s.session_id), /^[0-9a-f]{16}$/);
    assert.notEqual(s.session_id, '0000000000000000');
    const rest = { ...s, session_id: '<id>' };
    assert.deepEqual(strip(rest), {
      session_id: '<id>',
      state: 'StateHasSession',
      server: true,
      // What a Go program reads on the channel zk.Connect returns.
      channel: ['StateConnecting', 'StateConnected', 'StateHasSession'].map((state) => ({ type: 'EventSession', state, server_is_host: true })),
      // Asked 10 s: kept. Outside [2, 20] x tickTime (2000 ms) the bound is answered.
      negotiated_ms: 10000,
      negotiated_1s_ms: 4000,
      negotiated_100s_ms: 40000,
    });
  },

  create(s) {
    assert.deepEqual(strip(s), {
      root,
      plain: `${root}/plain`,
      eph: `${root}/eph`,
      // The sequence number is the parent's cversion at the time.
      seq: `${root}/seq-0000000002`,
      eseq: `${root}/eseq-0000000003`,
      seq2: `${root}/seq-0000000004`,
      eph_stat: stat({ czxid: 2, dataLength: 1, ephemeralOwner: 'main' }),
      eseq_stat: stat({ czxid: 4, ephemeralOwner: 'main' }),
      duplicate: 'ErrNodeExists',
      no_parent: 'ErrNoNode',
      under_ephemeral: 'ErrNoChildrenForEphemerals',
      invalid_path: 'ErrInvalidPath', // the client's own check
      empty_acl: 'ErrInvalidACL',
      unknown_scheme_acl: 'ErrInvalidACL',
      // The five refused creates (the client-side one aside) each took a zxid.
      protected: `${root}/_c_GUID-p-0000000005`,
      protected_stat: stat({ czxid: 11, dataLength: 1, ephemeralOwner: 'main' }),
      root_stat: stat({ czxid: 0, pzxid: 11, cversion: 6, numChildren: 6, dataLength: 4 }),
      children: ['_c_GUID-p-0000000005', 'eph', 'eseq-0000000003', 'plain', 'seq-0000000002', 'seq-0000000004'],
    });
  },

  get_set_delete(s) {
    const plain = (mzxid: number, version: number, dataLength: number) => stat({ czxid: 1, mzxid, version, dataLength });
    assert.deepEqual(strip(s), {
      d0: bytes('v0'),
      s0: plain(1, 0, 2),
      s1: plain(12, 1, 2),
      stale: 'ErrBadVersion',
      d1: bytes('v1'),
      s1b: plain(12, 1, 2),
      binary_ok: true,
      s2: plain(14, 2, 256),
      s3: plain(15, 3, 0),
      // Empty data comes back empty, not nil (length 0, not -1) ...
      d3: bytes(''),
      s3b: plain(15, 3, 0),
      // ... and nil data (length -1) comes back nil, at create and at set.
      created_nil: bytes('', true),
      created_nil_stat: stat({ czxid: 16 }),
      created_empty: bytes(''),
      set_nil: bytes('', true),
      get_missing: 'ErrNoNode',
      set_missing: 'ErrNoNode',
      exists_missing: false,
      exists_missing_stat: 'zero',
      delete_bad_version: 'ErrBadVersion',
      delete: null,
      delete_again: 'ErrNoNode',
      delete_not_empty: 'ErrNotEmpty',
      exists_plain: true,
      plain_stat: plain(15, 3, 0),
      leaf_children: [],
      leaf_children_stat: plain(15, 3, 0),
      children_missing: 'ErrNoNode',
      // 7 children after 9 creates and 2 deletes; pzxid is the delete's zxid.
      root_stat: stat({ czxid: 0, pzxid: 21, cversion: 9, numChildren: 7, dataLength: 4 }),
    });
  },

  watches(s) {
    const w = `${root}/w`;
    assert.deepEqual(strip(s), {
      // GetW, two sets by another session: one event, then the channel is closed (one-shot).
      getw_changed: watchEvent('EventNodeDataChanged', `${w}/d`),
      getw_changed_after: 'closed',
      getw_changed_notifications: [watchEvent('EventNodeDataChanged', `${w}/d`)],
      getw_deleted: watchEvent('EventNodeDeleted', `${w}/d`),
      getw_deleted_notifications: [watchEvent('EventNodeDeleted', `${w}/d`)],
      getw_missing: 'ErrNoNode',
      existsw_missing: { exists: false, stat: 'zero' },
      existsw_created: watchEvent('EventNodeCreated', `${w}/e`),
      existsw_present: true,
      existsw_changed: watchEvent('EventNodeDataChanged', `${w}/e`),
      existsw_deleted: watchEvent('EventNodeDeleted', `${w}/e`),
      existsw_notifications: ['EventNodeCreated', 'EventNodeDataChanged', 'EventNodeDeleted'].map((t) => watchEvent(t, `${w}/e`)),
      childrenw_initial: { children: [], stat: stat({ czxid: 33 }) },
      childrenw_created: watchEvent('EventNodeChildrenChanged', `${w}/k`),
      childrenw_created_notifications: [watchEvent('EventNodeChildrenChanged', `${w}/k`)],
      childrenw_kids: ['a', 'b'],
      // A child's data and the node's own data changing do not fire a child watch.
      childrenw_after_data_changes: 'nothing',
      childrenw_deleted_child: watchEvent('EventNodeChildrenChanged', `${w}/k`),
      childrenw_child_notifications: [watchEvent('EventNodeChildrenChanged', `${w}/k`)],
      childrenw_node_deleted: watchEvent('EventNodeDeleted', `${w}/k`),
      childrenw_missing: 'ErrNoNode',
      // GetW + ExistsW on one node: the server sends one notification, both channels get it.
      both_getw: watchEvent('EventNodeDataChanged', `${w}/both`),
      both_existsw: watchEvent('EventNodeDataChanged', `${w}/both`),
      both_notifications: [watchEvent('EventNodeDataChanged', `${w}/both`)],
      // GetW + ChildrenW, delete: one notification too.
      delete_getw: watchEvent('EventNodeDeleted', `${w}/both`),
      delete_childrenw: watchEvent('EventNodeDeleted', `${w}/both`),
      delete_notifications: [watchEvent('EventNodeDeleted', `${w}/both`)],
      self_change: watchEvent('EventNodeDataChanged', `${w}/self`),
    });
  },

  multi(s) {
    const m = `${root}/m`;
    const setStat = stat({ czxid: 48, mzxid: 51, version: 1, dataLength: 2 });
    assert.deepEqual(strip(s), {
      success: [op(`${m}/new`), op(`${m}/seq-0000000004`), op('', setStat), op(''), op('')],
      success_error: null,
      children_after_ok: ['check', 'new', 'seq-0000000004', 'set'],
      set_after_ok: bytes('s1'),
      // The ops before the failing one answer OK (nil), the failing one its
      // error, the ones after it RUNTIMEINCONSISTENCY (-2, ErrUnknown to Go);
      // Multi returns the first error. Nothing is applied.
      failed: [op(''), op(''), op('', null, 'ErrBadVersion'), op('', null, 'ErrUnknown')],
      failed_error: 'ErrBadVersion',
      children_after_failed: ['check', 'new', 'seq-0000000004', 'set'],
      set_after_failed: bytes('s1'),
      set_stat_after_failed: setStat,
      first_fails: [op('', null, 'ErrNodeExists'), op('', null, 'ErrUnknown')],
      first_fails_error: 'ErrNodeExists',
      check_missing: [op('', null, 'ErrNoNode')],
      check_missing_error: 'ErrNoNode',
      delete_missing: [op(''), op('', null, 'ErrNoNode')],
      delete_missing_error: 'ErrNoNode',
      set_after_delete_missing: bytes('s1'),
      empty: [],
      empty_error: null,
    });
  },

  acl(s) {
    const a = `${root}/acl`;
    const pw = digestId('user:pw');
    const wrong = digestId('user:wrong');
    assert.deepEqual(strip(s), {
      created: `${a}/digest`,
      create_error: null,
      get_no_auth: 'ErrNoAuth',
      // Without READ or ADMIN, getACL itself is refused.
      getacl_no_admin: [],
      getacl_no_admin_error: 'ErrNoAuth',
      getacl_stat: 'zero',
      addauth_wrong: null, // digest auth always succeeds; the id just matches nothing
      get_wrong_auth: 'ErrNoAuth',
      addauth: null,
      get_auth: bytes('secret'),
      get_auth_error: null,
      getacl_admin: [[31, 'digest', pw]],
      getacl_admin_error: null,
      setacl_stale: 'ErrBadVersion',
      setacl: null,
      setacl_stat: stat({ czxid: 58, aversion: 1, dataLength: 6 }),
      setacl_no_admin: 'ErrNoAuth',
      getacl_after: [[1, 'world', 'anyone']],
      getacl_after_error: null,
      getacl_after_stat: stat({ czxid: 58, aversion: 1, dataLength: 6 }),
      getacl_missing: 'ErrNoNode',
      // zk.AuthACL: one entry per digest id the session added.
      auth_node: `${a}/auth`,
      auth_node_error: null,
      auth_acl: [[31, 'digest', pw], [31, 'digest', wrong]],
      auth_acl_error: null,
      other_get: bytes('secret'),
      other_get_error: null,
      other_set: 'ErrNoAuth',
      other_get_auth_node: 'ErrNoAuth',
      other_create_auth_acl: 'ErrInvalidACL', // the auth scheme without an authenticated id
      other_create_child: 'ErrNoAuth',
      other_addauth: null,
      other_set_after_auth: null,
      other_delete: null, // deleting needs DELETE on the parent (world ALL)
      owner_create_child: 'ErrNoAuth',
    });
  },

  sync(s) {
    // sync does not look at the node: a missing path answers OK too.
    assert.deepEqual(strip(s), { path: root, error: null, missing_path: `${root}/missing`, missing_error: null });
  },

  lock(s) {
    assert.deepEqual(strip(s), {
      first: 'locked',
      nodes_first: ['_c_GUID-lock-0000000000'],
      lock_twice: 'ErrDeadlock',
      second_while_held: 'still waiting',
      nodes_contended: ['_c_GUID-lock-0000000000', '_c_GUID-lock-0000000001'],
      unlock_first: null,
      second_after_unlock: 'locked',
      nodes_second: ['_c_GUID-lock-0000000001'],
      unlock_second: null,
      unlock_again: 'ErrNotLocked',
      nodes_after: [],
    });
  },

  flw(s) {
    // This (2018) client's FLWSrvr regexes predate ZooKeeper 3.5's srvr text
    // (a 0.0 average latency, a yyyy-MM-dd build date): it fails on Apache
    // 3.8 too, and the same way. FLWCons parses every session line and
    // reports failure for the line of the cons connection itself (no sid=).
    const cons = s.cons as { clients: Record<string, unknown>[] };
    const lop = cons?.clients?.[0]?.lop;
    assert.ok(lop === 'EXIS' || lop === 'PING', `cons lop of main is ${String(lop)}: the scenario's last request was exists (or a ping since)`);
    assert.deepEqual(strip(normalizeFlw(s)), {
      ruok: [true],
      srvr_ok: false,
      srvr: {
        error: 'unable to parse fields from zookeeper response (no regex matches)',
        version: '', build_time: '0001-01-01T00:00:00Z', mode: 'unknown',
        node_count: 0, connections: 0, outstanding: 0, epoch: 0, counter: 0, counter_rel: -6,
        received: 0, sent: 0, min_latency: 0, avg_latency: 0, max_latency: 0,
      },
      cons_ok: false,
      cons: {
        error: null,
        clients: [{
          session: 'main', timeout: 10000, addr_host: '127.0.0.1', lop: 'EXIS|PING', queued: 0,
          received_positive: true, sent_positive: true,
          // cons prints est and lresp in milliseconds; this client reads seconds.
          established_recent: false, lresp_recent: false,
          lzxid_rel: 80,
        }],
      },
    });
  },

  reconnect(s) {
    const r = `${root}/rc`;
    assert.deepEqual(strip(s), {
      session_same: true,
      session_after: 'rc',
      reconnected: true,
      first_state_after_cut: 'StateDisconnected',
      last_states: ['StateConnected', 'StateHasSession'],
      // Nothing fires while the connection is down ...
      pending_while_cut: { changed: 'nothing', created: 'nothing', kids: 'nothing', gone: 'nothing' },
      // ... and the changes made meanwhile fire the replayed watches (SetWatches).
      changed: watchEvent('EventNodeDataChanged', `${r}/changed`),
      created: watchEvent('EventNodeCreated', `${r}/created`),
      kids: watchEvent('EventNodeChildrenChanged', `${r}/kids`),
      gone: watchEvent('EventNodeDeleted', `${r}/gone`),
      // A replayed watch on an unchanged node stays set and fires later.
      unchanged_before: 'nothing',
      unchanged: watchEvent('EventNodeDataChanged', `${r}/unchanged`),
      data_after: bytes('1'),
      proxied_connections: 2,
    });
  },

  expire(s) {
    assert.deepEqual(strip(s), {
      negotiated_ms: 4000,
      ephemeral_deleted: watchEvent('EventNodeDeleted', `${root}/ex-eph`),
      not_before_timeout: true,
      expired_before_reconnect: false,
      new_session: true,
      states_from_expired: ['StateExpired', 'StateDisconnected', 'StateConnecting', 'StateConnected', 'StateHasSession'],
      data_watch: notWatching(`${root}/ex-data`, 'ErrSessionExpired'),
      exist_watch: notWatching(`${root}/ex-missing`, 'ErrSessionExpired'),
      session_changed: true,
      new_owner: 'expiring-new',
      negotiated_new_ms: 4000,
    });
  },

  session_close(s) {
    assert.deepEqual(strip(s), {
      owned: `${root}/owned`,
      owned_seq: `${root}/owned-0000000017`,
      present: true,
      owner: 'c3',
      deleted: watchEvent('EventNodeDeleted', `${root}/owned`),
      exists_after: false,
      exists_seq_after: false,
      root_children: ['_c_GUID-p-0000000005', 'acl', 'empty', 'eph', 'eseq-0000000003', 'ex-data', 'lock', 'm', 'plain', 'rc',
        'seq-0000000002', 'seq-0000000004', 'w'],
      closed_states: ['StateDisconnected'],
      closed_state: 'StateDisconnected',
      event_channel: 'closed',
    });
  },

  cleanup(s) {
    assert.deepEqual(strip(s), {
      delete_non_empty: 'ErrNotEmpty',
      exists_after: false,
      exists_error: null,
      root_children: ['zookeeper'],
      root_children_error: null,
      close_states: ['StateDisconnected'],
      state: 'StateDisconnected',
      watch_at_close: notWatching(root, 'ErrClosing'),
    });
  },
};

/** A step's results without step/ok. */
function strip(s: Record<string, unknown>): Record<string, unknown> {
  const { step: _step, ok: _ok, ...rest } = s;
  return rest;
}

/** cons's last operation of main: exists, unless a ping came after it. */
function normalizeFlw(s: Step): Step {
  const copy = JSON.parse(JSON.stringify(s)) as Step;
  const cons = copy.cons as { clients?: Record<string, unknown>[] } | undefined;
  for (const c of cons?.clients ?? []) if (c.lop === 'EXIS' || c.lop === 'PING') c.lop = 'EXIS|PING';
  return copy;
}

/** What legitimately differs between two servers' runs: the raw session id, a ping in cons. */
function normalize(s: Step): Step {
  if (s.step === 'connect') return { ...s, session_id: '<id>' };
  if (s.step === 'flw') return normalizeFlw(s);
  return s;
}

function context(run: Run): string {
  return `\n--- exit code ${run.code}${run.killed ? ' (killed after timeout)' : ''}` +
    `${run.steps.has('watchdog') ? ' (watchdog fired)' : ''}\n--- stderr:\n${run.stderr.slice(-4000)}`;
}

/** The step's results, failing with everything known if it did not succeed. */
function stepOf(run: Run, name: string): Step {
  const s = run.steps.get(name);
  assert.ok(s !== undefined, `Go scenario step '${name}' did not report${context(run)}`);
  assert.ok(s.ok, `Go scenario step '${name}' failed: ${s.error}\n${s.traceback ?? ''}${context(run)}`);
  return s;
}

/** The step tests, for a run against any server. */
function stepTests(getRun: () => Run): void {
  for (const name of stepNames) {
    if (name === 'done') continue;
    test(`${name}`, () => expected[name](stepOf(getRun(), name)));
  }
  test('the scenario runs to the end by itself', () => {
    const run = getRun();
    assert.deepEqual(run.order, stepNames, `steps reported${context(run)}`);
    assert.equal(run.code, 0, `exit code${context(run)}`);
  });
}

let apacheRun: Run | null = null;

describe('Go client (go-zookeeper) against Apache ZooKeeper 3.8: what the expected values are', { skip: apacheSkip, timeout: 90000 }, () => {
  before(async () => {
    scenarioBinary();
    const apache = await startApache();
    try {
      apacheRun = await runScenario(apache.connectString);
    } finally {
      await apache.stop();
    }
  });
  stepTests(() => apacheRun!);
});

for (const workers of workerModes) {
  describe(`Go client (go-zookeeper) against zoonode (workers=${workers})`, { skip: skipReason ?? false, timeout: 90000 }, () => {
    let server: TestServer;
    let run: Run;

    before(async () => {
      scenarioBinary();
      // FLWCons needs cons, which the default whitelist leaves out (Apache's test server allows every word).
      server = await startZoonode({ workers, '4lw.commands.whitelist': '*' });
      run = await runScenario(server.connectString);
    });

    after(async () => {
      await server?.stop();
    });

    stepTests(() => run);

    test('every step prints what it prints on Apache ZooKeeper 3.8', { skip: apacheSkip }, () => {
      const reference: Run | null = apacheRun;
      assert.ok(reference !== null, 'the Apache run did not happen');
      assert.deepEqual(run.order, reference.order, 'the same steps');
      for (const name of reference.order) {
        const a: Step = reference.steps.get(name)!;
        const z: Step = run.steps.get(name)!;
        assert.deepEqual(normalize(z), normalize(a), `step ${name}: zoonode (left) differs from Apache (right)`);
      }
    });
  });
}
