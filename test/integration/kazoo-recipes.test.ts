// Integration: kazoo's recipes (Debian python3-kazoo, run with
// /usr/bin/python3) against zoonode under workers=0 and workers=2, two or
// more clients per recipe: Lock, Election, Queue, LockingQueue (multi),
// Counter, Barrier, DoubleBarrier, Party and ShallowParty. The script is
// test/support/kazoo_recipes.py; it prints one JSON line per recipe.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startZoonode, type TestServer } from '../support/zoonode.js';
import { kazooSkipReason, pyStep, runPyScenario, supportDir, type PyRun } from '../support/py-scenario.js';

const script = path.join(supportDir, 'kazoo_recipes.py');
const processTimeoutMs = 45000;
const skip = kazooSkipReason(script);

for (const workers of [0, 2]) {
  describe(`kazoo recipes against zoonode (workers=${workers})`, { skip: skip ?? false, timeout: 60000 }, () => {
    let server: TestServer;
    let run: PyRun;
    const root = '/recipes';

    before(async () => {
      server = await startZoonode({ workers });
      run = await runPyScenario(script, [server.connectString, root, String(processTimeoutMs / 1000 - 5)], processTimeoutMs);
    });

    after(async () => {
      await server?.stop();
    });

    test('Lock: two clients contend; the holder excludes the other', () => {
      const s = pyStep(run, 'lock');
      assert.equal(s.got1, true);
      assert.equal(s.nonblocking2, false, 'a held lock cannot be taken without blocking');
      assert.equal(s.waiting_seen, true, 'the waiting contender registers its node');
      assert.deepEqual(s.contenders, ['one', 'two']);
      assert.equal(s.second_done_before_release, false, 'the second waits for the release');
      assert.equal(s.got2_error, null);
      assert.equal(s.got2, true);
      assert.equal(s.got2_after_release, true);
      assert.deepEqual(s.worker_errors, [null, null]);
      assert.deepEqual(s.workers, [true, true]);
      assert.equal(s.max_inside, 1, 'never two holders at once');
      assert.equal(s.turns, 20);
      assert.equal(s.both_had_turns, true);
      assert.equal(s.final, 20, 'read-modify-write under the lock lost no update');
      assert.deepEqual(s.remaining, []);
    });

    test('Election: one leader; the second runs after the first leaves', () => {
      const s = pyStep(run, 'election');
      assert.equal(s.first_started, true);
      assert.equal(s.both_contending, true);
      assert.deepEqual(s.contenders, ['first', 'second']);
      assert.equal(s.second_led_while_first_did, false);
      assert.equal(s.second_started, true);
      assert.deepEqual(s.contenders_while_second_leads, ['second']);
      assert.deepEqual(s.log, ['start first', 'end first', 'start second', 'end second']);
      assert.deepEqual(s.errors, [null, null]);
      assert.deepEqual(s.threads_done, [true, true]);
      assert.deepEqual(s.remaining, []);
    });

    test('Queue: FIFO put/get, priorities, two consumers share the entries exactly once', () => {
      const s = pyStep(run, 'queue');
      assert.equal(s.length_after_puts, 5);
      assert.deepEqual(s.fifo, ['item-0', 'item-1', 'item-2']);
      assert.deepEqual(s.rest, ['high', 'item-3', 'item-4', 'low']);
      assert.equal(s.empty, null);
      assert.deepEqual(s.consumer_errors, [null, null]);
      assert.equal(s.consumed, 40);
      assert.equal(s.distinct, 40, 'no entry consumed twice');
      assert.equal(s.all_jobs, true, 'no entry lost');
      assert.equal(s.each_in_order, true, 'each consumer sees entries in queue order');
      assert.equal(s.length_at_end, 0);
    });

    test('LockingQueue (transactions): get locks an entry, consume removes it, release returns it', () => {
      const s = pyStep(run, 'locking_queue');
      assert.equal(s.length, 3);
      assert.equal(s.first, 'a');
      assert.equal(s.other, 'b', 'a second consumer skips the locked entry');
      assert.equal(s.held, true);
      assert.equal(s.consumed, true);
      assert.equal(s.released, true);
      assert.equal(s.again, 'b', 'a released entry can be taken again');
      assert.equal(s.third, 'c');
      assert.equal(s.none, null);
      assert.equal(s.length_at_end, 0);
    });

    test('Counter: concurrent increments from two clients add up', () => {
      const s = pyStep(run, 'counter');
      assert.equal(s.pre, 0);
      assert.equal(s.post, 5);
      assert.equal(s.value0, 3);
      assert.deepEqual(s.errors, [null, null]);
      assert.deepEqual(s.done, [true, true]);
      assert.equal(s.final, 53, '3 + 2 x 25 increments');
      assert.equal(s.version, 52, 'one setData per change');
      assert.equal(s.float, 3.75);
      assert.equal(s.curator_raw_hex, '00000007');
      assert.equal(s.curator_value, 7);
    });

    test('Barrier: waiters block while it stands and go when it is removed', () => {
      const s = pyStep(run, 'barrier');
      assert.equal(s.wait_while_up, false);
      assert.equal(s.still_waiting, true);
      assert.equal(s.removed, true);
      assert.equal(s.waiter_error, null);
      assert.equal(s.waiter_released, true);
      assert.equal(s.wait_when_down, true);
      assert.equal(s.exists_after, false);
    });

    test('DoubleBarrier: enter waits for all three, leave for all to leave', () => {
      const s = pyStep(run, 'double_barrier');
      assert.equal(s.entered_before_all_arrived, false);
      assert.equal(s.members_while_two, 2);
      assert.equal(s.all_entered, true);
      assert.equal(s.ready_created, true);
      assert.equal(s.all_left, true);
      assert.deepEqual(s.errors, [null, null, null]);
      assert.deepEqual(s.participating_after_leave, [false, false, false]);
      assert.deepEqual(s.remaining, []);
    });

    test('Party and ShallowParty: join, leave, session close, len()', () => {
      const s = pyStep(run, 'party');
      assert.deepEqual(s.lens, [0, 1, 3, 2, 1, 2]);
      assert.deepEqual(s.members, ['alpha', 'beta', 'gamma']);
      assert.deepEqual(s.members_after_leave, ['alpha', 'gamma']);
      assert.deepEqual(s.members_after_close, ['alpha'], 'a closed session\'s member node is gone');
      assert.deepEqual(s.shallow, ['one', 'two']);
      assert.equal(s.shallow_len, 2);
      assert.deepEqual(s.shallow_after, ['two']);
    });

    test('the script ran to the end', () => {
      assert.ok(run.steps.has('done'), `the scenario did not finish (stderr: ${run.stderr.slice(-2000)})`);
      assert.equal(run.code, 0, `exit code (stderr: ${run.stderr.slice(-2000)})`);
    });
  });
}
