// Integration: the Python client kazoo (Debian python3-kazoo, run with
// /usr/bin/python3) against zoonode, under every worker layout. The scenario
// lives in test/support/kazoo_scenario.py and reports one JSON line per step.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ZK_COMPAT_VERSION } from '../../src/admin/view.js';
import { startZoonode, workerModes, type TestServer } from '../support/zoonode.js';
import { runPyScenario, type PyRun, type PyStep } from '../support/py-scenario.js';

const python = '/usr/bin/python3';
// dist/test/integration → test/support (the .py file is not compiled).
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..', '..');
const script = path.join(repoRoot, 'test', 'support', 'kazoo_scenario.py');
const processTimeoutMs = 45000;

function kazooAvailable(): string | null {
  if (!fs.existsSync(python)) return `${python} is missing`;
  if (!fs.existsSync(script)) return `${script} is missing`;
  const r = spawnSync(python, ['-c', 'import kazoo.client'], { timeout: 10000, encoding: 'utf8' });
  if (r.status !== 0) return `${python} cannot import kazoo: ${(r.stderr || String(r.error ?? '')).trim()}`;
  return null;
}

const skipReason = kazooAvailable();

type Step = PyStep;
type Run = PyRun;

/** Runs the scenario against hostPort; never rejects, bounded by processTimeoutMs. */
function runScenario(hostPort: string, root: string): Promise<Run> {
  return runPyScenario(script, [hostPort, root, String(processTimeoutMs / 1000 - 5)], processTimeoutMs);
}

for (const workers of workerModes) {
  describe(`kazoo against zoonode (workers=${workers})`, { skip: skipReason ?? false, timeout: 60000 }, () => {
    let server: TestServer;
    let run: Run;
    const root = '/kazoo';

    before(async () => {
      server = await startZoonode({ workers });
      run = await runScenario(server.connectString, root);
    });

    after(async () => {
      await server?.stop();
    });

    /** The step's results, failing with everything known if it did not succeed. */
    function stepOf(name: string): Step {
      const s = run.steps.get(name);
      const context = `\n--- exit code ${run.code}${run.killed ? ' (killed after timeout)' : ''}` +
        `${run.steps.has('watchdog') ? ' (watchdog fired)' : ''}\n--- stderr:\n${run.stderr.slice(-4000)}`;
      assert.ok(s !== undefined, `kazoo step '${name}' did not report${context}`);
      assert.ok(s.ok, `kazoo step '${name}' failed: ${s.error}\n${s.traceback ?? ''}${context}`);
      return s;
    }

    test('start: the client connects', () => {
      const s = stepOf('start');
      assert.equal(s.connected, true);
      assert.equal(s.state, 'CONNECTED');
      assert.match(String(s.session_id), /^[0-9a-f]{16}$/);
      assert.notEqual(s.session_id, '0000000000000000');
      // kazoo asks for 10 s; within [2, 20] x tickTime (2000) it is kept.
      assert.equal(s.negotiated_timeout_ms, 10000);
    });

    test('ensure_path creates every ancestor, idempotently', () => {
      const s = stepOf('ensure_path');
      assert.deepEqual(s.exists, { [root]: true, [`${root}/a`]: true, [`${root}/a/b`]: true, [`${root}/a/b/c`]: true });
    });

    test('create: plain, ephemeral, sequence, ephemeral sequence, with stat', () => {
      const s = stepOf('create');
      assert.equal(s.plain, `${root}/plain`);
      assert.equal(s.eph, `${root}/eph`);
      assert.equal(s.eph_owner, s.session_id, 'ephemeralOwner is the session id');
      assert.equal(s.seq1, `${root}/seq/n-0000000000`);
      assert.equal(s.seq2, `${root}/seq/n-0000000001`);
      assert.equal(s.eseq, `${root}/seq/e-0000000002`);
      assert.equal(s.eseq_owner, s.session_id);
      assert.equal(s.duplicate, 'NodeExistsError');
      assert.equal(s.create2_path, `${root}/with-stat`);
      const st = s.create2_stat as Record<string, unknown>;
      assert.equal(st.version, 0);
      assert.equal(st.dataLength, 3);
      assert.equal(st.numChildren, 0);
      assert.equal(st.ephemeralOwner, '0000000000000000');
      assert.equal(st.czxid, st.mzxid);
    });

    test("kazoo's CREATOR_ALL_ACL (auth with a null id) makes a node only its creator can use", () => {
      const s = stepOf('creator_acl');
      assert.equal(s.without_auth, 'InvalidACLError', 'the auth scheme without an authenticated id is refused');
      assert.equal(s.path, `${root}/creator`);
      assert.equal(s.data, 'mine');
      // digest id of owner:pw is owner:base64(sha1("owner:pw")).
      assert.deepEqual(s.acls, [[31, 'digest', 'owner:iMB/SsBMvf3UxIEfwB61nsj4SCM=']]);
      assert.equal(s.stranger, 'NoAuthError');
      assert.deepEqual(s.tx, [`${root}/creator-tx`]);
    });

    test('get/set with versions, binary and empty data', () => {
      const s = stepOf('get_set_version');
      assert.equal(s.d0, 'v0');
      assert.equal(s.v0, 0);
      assert.equal(s.v1, 1);
      assert.equal(s.stale, 'BadVersionError');
      assert.equal(s.d1, 'v1', 'a refused set changes nothing');
      assert.equal(s.v1b, 1);
      assert.equal(s.binary_ok, true, 'bytes 0..255 round-trip');
      assert.equal(s.v2, 2);
      assert.equal(s.empty_len, 0);
      assert.equal(s.empty_is_bytes, true);
      assert.equal(s.v3, 3);
      assert.equal(s.missing, 'NoNodeError');
    });

    test('get_children with a watch that fires once', () => {
      const s = stepOf('get_children_watch');
      assert.deepEqual(s.before, []);
      assert.equal(s.fired_in_time, true);
      assert.deepEqual(s.events, [{ type: 'CHILD', state: 'CONNECTED', path: `${root}/kids` }], 'one-shot: one event for two creates');
      assert.deepEqual(s.after, ['k1', 'k2']);
      assert.equal(s.numChildren, 2);
    });

    test('DataWatch sees the initial data, a change and the delete', () => {
      const s = stepOf('data_watch');
      assert.equal(s.initial, true);
      assert.equal(s.changed, true);
      assert.equal(s.deleted, true);
      assert.deepEqual(s.calls, [
        { data: 'd0', version: 0, event: null },
        { data: 'd1', version: 1, event: { type: 'CHANGED', state: 'CONNECTED', path: `${root}/dw` } },
        { data: null, version: null, event: { type: 'DELETED', state: 'CONNECTED', path: `${root}/dw` } },
      ]);
    });

    test('ChildrenWatch follows children', () => {
      const s = stepOf('children_watch');
      assert.deepEqual(s.waits, [true, true, true]);
      assert.deepEqual(s.calls, [[], ['x'], []]);
    });

    test('Lock recipe: acquire, contend, release', () => {
      const s = stepOf('lock');
      assert.equal(s.acquired1, true);
      assert.equal(s.held, true);
      assert.deepEqual(s.contenders, ['first']);
      assert.equal(s.nodes, 1);
      assert.equal(s.lock_node_names_ok, true);
      assert.equal(s.nonblocking2, false, 'a second client cannot take a held lock');
      assert.equal(s.contender_waiting_seen, true);
      assert.equal(s.error2, null);
      assert.equal(s.acquired2, true, 'the waiting contender gets the lock when it is released');
      assert.deepEqual(s.contenders_after, ['second']);
      assert.deepEqual(s.remaining, [], 'released locks leave no nodes');
    });

    test('an ephemeral goes when its client stops (watch fires)', () => {
      const s = stepOf('ephemeral_gone_on_stop');
      assert.equal(s.present, true);
      assert.equal(s.fired, true);
      assert.deepEqual(s.events, [{ type: 'DELETED', state: 'CONNECTED', path: `${root}/owned` }]);
      assert.equal(s.exists_after, false);
    });

    test('four-letter words through kazoo: ruok, and server_version() from envi', () => {
      const s = stepOf('ruok');
      assert.equal(s.answer, 'imok');
      // The Apache version zoonode reports compatibility with.
      assert.deepEqual(s.version, ZK_COMPAT_VERSION.split('.').map(Number));
    });

    test('delete recursive', () => {
      const s = stepOf('delete_recursive');
      assert.equal(s.non_recursive, 'NotEmptyError');
      assert.equal(s.exists_after, false);
      assert.deepEqual(s.root_children, ['zookeeper']);
    });

    test('stop', () => {
      const s = stepOf('stop');
      assert.equal(s.connected, false);
      assert.equal(s.state, 'LOST');
      assert.ok(run.steps.has('done'), 'the scenario ran to the end');
      assert.equal(run.code, 0, `exit code (stderr: ${run.stderr.slice(-2000)})`);
    });
  });
}
