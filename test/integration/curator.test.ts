// Integration: Apache Curator 5.4 (Debian libcurator-framework-java and
// libcurator-recipes-java, on the ZooKeeper 3.8 Java client) against
// zoonode, under workers=0 and workers=2. The scenario is a Java program,
// test/support/CuratorScenario.java, compiled with javac into a temporary
// directory when this file runs and reporting one JSON line per step:
// connect, create().creatingParentsIfNeeded(), InterProcessMutex with a
// second client contending, LeaderLatch with two participants, CuratorCache
// (persistent recursive watch, addWatch mode 1) on a subtree, containers made
// by creatingParentContainersIfNeeded() and reaped once emptied, a
// PERSISTENT_WITH_TTL node that goes once its TTL has passed, and the plain
// ZooKeeper client reconnecting through a proxy that cut its connection
// (setWatches relative to its last zxid restores its watches).
//
// The server runs with extendedTypesEnabled=true (TTL nodes) and
// znode.container.checkIntervalMs=200 (the reaper checks five times a second).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startZoonode, tempDir, type TestServer } from '../support/zoonode.js';
import { killOnExit } from '../support/compat-wire.js';

const java = '/usr/bin/java';
const javac = '/usr/bin/javac';
const here = path.dirname(fileURLToPath(import.meta.url));
// dist/test/integration → test/support (the .java file is not compiled by tsc).
const source = path.resolve(here, '..', '..', '..', 'test', 'support', 'CuratorScenario.java');
const processTimeoutMs = 40000;

/**
 * Curator's jars and the runtime jars their manifests' Class-Path names
 * (curator-client: guava, slf4j-api, zookeeper, zookeeper-jute;
 * curator-framework adds jackson-databind, which the JVM picks up through
 * that Class-Path if present and this scenario does not need). Debian's
 * guava.jar bundles failureaccess.
 */
const jars = [
  'curator-recipes.jar', 'curator-framework.jar', 'curator-client.jar',
  'zookeeper.jar', 'zookeeper-jute.jar', 'guava.jar', 'slf4j-api.jar',
].map((j) => path.join('/usr/share/java', j));
/** Optional: routes the client's own warnings to stderr (shown when a step fails). */
const slf4jSimple = '/usr/share/java/slf4j-simple.jar';

function skipReason(): string | null {
  for (const f of [java, javac]) if (!fs.existsSync(f)) return `${f} is missing (Debian package default-jdk-headless)`;
  if (!fs.existsSync(source)) return `${source} is missing`;
  const missing = jars.filter((j) => !fs.existsSync(j));
  if (missing.length > 0) {
    return `Curator or its runtime jars are missing: ${missing.join(', ')} ` +
      '(Debian packages libcurator-framework-java, libcurator-recipes-java, libzookeeper-java)';
  }
  return null;
}

const skip = skipReason();

interface ProcResult { code: number | null; stdout: string; stderr: string; killed: boolean }

/** Runs a program to completion, killed after ms; never rejects. */
function run(cmd: string, args: string[], ms: number): Promise<ProcResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    killOnExit(child);
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => { killed = true; child.kill('SIGKILL'); }, ms);
    child.on('error', (e) => { stderr += String(e); });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, killed });
    });
  });
}

type Step = Record<string, unknown> & { step: string; ok: boolean; error?: string; trace?: string };

describe('Apache Curator 5.4 against zoonode', { skip: skip ?? false, timeout: 90000 }, () => {
  let classDir = '';
  let compileError: string | null = null;
  let classpath = '';

  before(async () => {
    classDir = tempDir('curator-classes');
    const cp = jars.join(':');
    const r = await run(javac, ['-nowarn', '-encoding', 'UTF-8', '-d', classDir, '-cp', cp, source], 60000);
    if (r.code !== 0) compileError = `javac failed (exit ${r.code}${r.killed ? ', killed' : ''}):\n${r.stdout}${r.stderr}`;
    classpath = [classDir, ...jars, ...(fs.existsSync(slf4jSimple) ? [slf4jSimple] : [])].join(':');
  });

  after(() => {
    if (classDir !== '') fs.rmSync(classDir, { recursive: true, force: true });
  });

  for (const workers of [0, 2]) {
    describe(`workers=${workers}`, () => {
      let server: TestServer | null = null;
      let result: ProcResult;
      const steps = new Map<string, Step>();
      const root = '/curator';

      before(async () => {
        if (compileError !== null) return;
        server = await startZoonode({ workers, extendedTypesEnabled: true, 'znode.container.checkIntervalMs': 200 });
        result = await run(java, [
          '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
          '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-Dorg.slf4j.simpleLogger.logFile=System.err',
          '-cp', classpath, 'CuratorScenario', server.connectString, root, String(processTimeoutMs / 1000 - 5),
        ], processTimeoutMs);
        for (const line of result.stdout.split('\n')) {
          if (!line.startsWith('{')) continue;
          try {
            const s = JSON.parse(line) as Step;
            steps.set(s.step, s);
          } catch {
            // not ours
          }
        }
      });

      after(async () => {
        await server?.stop();
      });

      function stepOf(name: string): Step {
        assert.equal(compileError, null, compileError ?? '');
        const s = steps.get(name);
        const context = `\n--- exit code ${result.code}${result.killed ? ' (killed after timeout)' : ''}` +
          `${steps.has('watchdog') ? ' (watchdog fired)' : ''}\n--- stderr:\n${result.stderr.slice(-4000)}`;
        assert.ok(s !== undefined, `Curator step '${name}' did not report${context}`);
        assert.ok(s.ok, `Curator step '${name}' failed: ${s.error}\n${s.trace ?? ''}${context}`);
        return s;
      }

      test('CuratorFramework connects; the client can use persistent watches', () => {
        const s = stepOf('connect');
        assert.equal(s.connected, true);
        assert.match(String(s.session_id), /^[0-9a-f]{16}$/);
        assert.notEqual(s.session_id, '0000000000000000');
        assert.equal(s.negotiated_timeout_ms, 10000, 'Curator asks for 10 s; within [4 s, 40 s] it is kept');
        assert.equal(s.persistent_watchers_supported, true);
      });

      test('create().creatingParentsIfNeeded() makes every ancestor', () => {
        const s = stepOf('create_parents');
        assert.equal(s.created, `${root}/a/b/c`);
        assert.deepEqual(s.exists, { [root]: true, [`${root}/a`]: true, [`${root}/a/b`]: true, [`${root}/a/b/c`]: true });
        assert.equal(s.data, 'leaf');
        assert.equal(s.parent_data_length, 0, 'parents are created with empty data');
        assert.equal(s.again, 'NodeExists');
      });

      test('InterProcessMutex: the second client gets the lock only after the release', () => {
        const s = stepOf('mutex');
        assert.equal(s.acquired1, true);
        assert.equal(s.held1, true);
        assert.equal(s.contender_waiting_seen, true, 'the contender registers its lock node');
        assert.equal(s.participants_while_held, 2);
        assert.equal(s.second_got_it_while_held, false, 'the contender must wait while the lock is held');
        assert.equal(s.error2, null);
        assert.equal(s.second_acquired, true, 'the contender gets the lock once released');
        assert.equal(s.second_after_release, true);
        assert.equal(s.held1_after_release, false);
        assert.equal(s.remaining, 0, 'released locks leave no lock nodes');
      });

      test('LeaderLatch: exactly one leader of two; leadership moves when the leader closes', () => {
        const s = stepOf('leader_latch');
        assert.equal(s.participants, 2);
        assert.equal(s.leaders_count, 1);
        assert.equal(s.leader_matches, true, 'getLeader() names the participant that has leadership');
        assert.equal(s.moved_after_close, true);
        assert.equal(s.new_leader_is_other, true);
        assert.notEqual(s.new_leader_id, s.leader_id);
        assert.equal(s.participants_after, 1);
      });

      test('CuratorCache (persistent recursive watch) sees creates, changes and deletes of descendants', () => {
        const s = stepOf('curator_cache');
        assert.equal(s.initialized, true);
        assert.deepEqual(s.initial_events, [`NODE_CREATED ${root}/cache base`]);
        assert.deepEqual(s.waits, [true, true, true, true, true, true]);
        assert.deepEqual(s.events, [
          `NODE_CREATED ${root}/cache/x 1`,
          `NODE_CREATED ${root}/cache/x/y deep`,
          `NODE_CHANGED ${root}/cache/x 2`,
          `NODE_CHANGED ${root}/cache/x/y deeper`,
          `NODE_DELETED ${root}/cache/x/y`,
          `NODE_DELETED ${root}/cache/x`,
        ]);
        assert.equal(s.cache_size_after, 1);
      });

      test('creatingParentContainersIfNeeded: containers are reaped once emptied; others stay', () => {
        const s = stepOf('container');
        const st = s.container_stat as Record<string, unknown>;
        assert.equal(st.ephemeralOwner, '0000000000000000', 'clients see ephemeralOwner 0 for a container');
        assert.equal(st.numChildren, 1);
        assert.equal(s.parent_reaped, true, 'the emptied container is deleted by the server');
        assert.equal(s.grandparent_reaped, true, 'its container parent, emptied in turn, goes too');
        assert.equal(s.plain_kept, true);
        assert.equal(s.never_used_kept, true, 'a container that never had a child stays');
      });

      test('PERSISTENT_WITH_TTL: the node disappears after its TTL; one with a child stays', () => {
        const s = stepOf('ttl');
        const st = s.ttl_stat as Record<string, unknown>;
        assert.equal(st.ephemeralOwner, '0000000000000000', 'clients see ephemeralOwner 0 for a TTL node');
        assert.equal(s.exists_right_after_create, true);
        assert.equal(s.reaped, true, 'the TTL node is deleted by the server');
        assert.ok(Number(s.reaped_after_ms) >= 900, `reaped ${s.reaped_after_ms} ms after its creation: not before its 1000 ms TTL`);
        assert.equal(s.with_child_kept, true);
        assert.match(String(s.sequential_ttl_path), new RegExp(`^${root}/ttlseq-\\d{10}$`));
      });

      test('the ZooKeeper client reconnects after its connection is cut and sets its watches again (setWatches)', () => {
        // Recorded from Apache ZooKeeper 3.8.0 with the same step: the same values.
        const s = stepOf('java_reconnect');
        assert.equal(s.disconnected, true);
        assert.deepEqual(s.events_while_away, [], 'no event reaches a cut connection');
        assert.equal(s.reconnected, true);
        assert.equal(s.same_session, true, 'the session survives the reconnect');
        assert.deepEqual(s.events_after_reconnect, [
          `NodeChildrenChanged ${root}/rc`, `NodeCreated ${root}/rc/new`, `NodeDataChanged ${root}/rc/node`, `NodeDeleted ${root}/rc/gone`,
        ], 'what changed while the client was away fires its watch on reconnect');
        assert.equal(s.data_after, 'v2');
        assert.equal(s.ephemeral_kept, true);
        assert.deepEqual(s.later_events, [`NodeDataChanged ${root}/rc/same`], 'the watch on the unchanged node was set again');
        assert.deepEqual(s.states, ['SyncConnected', 'Disconnected', 'SyncConnected']);
      });

      test('close', () => {
        const s = stepOf('close');
        assert.equal(s.state, 'STOPPED');
        assert.ok(steps.has('done'), 'the scenario ran to the end');
        assert.equal(result.code, 0, `exit code (stderr: ${result.stderr.slice(-2000)})`);
      });
    });
  }
});
