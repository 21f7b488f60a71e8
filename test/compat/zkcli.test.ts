// The official Java client against zoonode: Apache's own shell (zkCli.sh)
// runs the same command scripts against a fresh Apache ZooKeeper 3.8 and a
// fresh zoonode (workers 0, 1 and 2); the normalised output must be the same,
// zxids included (both servers start empty and zkCli's connection setup
// takes exactly one zxid on each).
//
// Per server: one batch script (create in every mode, get, get -s, stat, set,
// set -v / delete -v with a wrong version, ls, ls -s, delete, delete of a
// non-empty node, sync), one interactive session that holds watches (get -w,
// ls -w) while a raw client changes the nodes, one batch that checks the
// state afterwards, one with addauth/whoami/getAcl, and deleteall last (the
// Java client deletes a subtree with one multi request).

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startZoonode, workerModes } from '../support/zoonode.js';
import { isApacheInstalled, startApache } from '../support/apache.js';
import { isZkCliInstalled, normalizeZkCliOutput, runZkCliScript, ZkCli } from '../support/zkcli-driver.js';
import { ZkClient } from '../../native-free-bench/zk-client.js';
import { killOnExit } from '../support/compat-wire.js';

const mainScript = [
  'create /a hello',
  'create -e /e eph',
  'create -s /s- seq',
  'create -e -s /es- eseq',
  'create -s /s- seq2',
  'create /p',
  'create /p/c1 one',
  'create /p/c2',
  'create /p/c2/g deep',
  'get /a',
  'get -s /a',
  'get /p/c2',
  'stat /a',
  'stat /e',
  'stat /missing',
  'set /a world',
  'get -s /a',
  'set -v 5 /a wrong-version',
  'set -v 1 /a right-version',
  'set -s /a again',
  'set /missing x',
  'ls /',
  'ls /p',
  'ls -s /p',
  'ls /missing',
  'delete /p',
  'delete -v 9 /a',
  'delete -v 3 /a',
  'delete /a',
  'get /a',
  'create /a recreated',
  'create /a duplicate',
  'sync /p',
  'ls -s /',
  'create /w watched',
];

const afterWatchScript = [
  'get -s /w',
  'ls -s /w',
  'ls /',
];

const deleteallScript = [
  'ls -R /p',
  'deleteall /p',
  'ls /',
  'create /after x',
  'get -s /after',
];

const authScript = [
  'addauth digest alice:secret',
  'whoami',
  'create /au x auth:alice:secret:cdrwa',
  'getAcl /au',
  'get /au',
];

interface Transcript {
  main: string[];
  watch: string[];
  afterWatch: string[];
  auth: string[];
  deleteall: string[];
}

const WATCH_DATA = 'WatchedEvent state:SyncConnected type:NodeDataChanged path:/w';
const WATCH_CHILD = 'WatchedEvent state:SyncConnected type:NodeChildrenChanged path:/w';

/**
 * One zkCli holds a data watch and then a child watch on /w while a raw
 * client changes /w; zkCli must print each event. Commands are written one
 * at a time, each after the previous one's output appeared.
 */
async function watchSession(host: string, port: number): Promise<string> {
  const cli = new ZkCli(`${host}:${port}`);
  let other: ZkClient | null = null;
  try {
    cli.send('get -w /w');
    await cli.waitFor(/^watched$/m, 20000);
    other = await ZkClient.connect(host, port, { ping: false });
    let from = cli.output.length;
    await other.setData('/w', Buffer.from('changed'));
    await cli.waitFor(new RegExp(`^${WATCH_DATA}$`, 'm'), 10000, from);
    cli.send('ls -w /w');
    await cli.waitFor(/^\[\]$/m, 10000, from);
    from = cli.output.length;
    await other.create('/w/child', null);
    await cli.waitFor(new RegExp(`^${WATCH_CHILD}$`, 'm'), 10000, from);
    // A one-shot watch does not fire again.
    await other.setData('/w', Buffer.from('again'));
    cli.send('get /w');
    await cli.waitFor(/^again$/m, 10000, from);
    await other.close();
    other = null;
    return await cli.quit();
  } finally {
    other?.destroy();
    cli.kill();
  }
}

async function runAll(host: string, port: number): Promise<Transcript> {
  const server = `${host}:${port}`;
  const main = normalizeZkCliOutput(await runZkCliScript(server, mainScript), port);
  const watch = normalizeZkCliOutput(await watchSession(host, port), port);
  const afterWatch = normalizeZkCliOutput(await runZkCliScript(server, afterWatchScript), port);
  const auth = normalizeZkCliOutput(await runZkCliScript(server, authScript), port);
  const deleteall = normalizeZkCliOutput(await runZkCliScript(server, deleteallScript), port);
  return { main, watch, afterWatch, auth, deleteall };
}

/** Line-by-line differences, for a readable failure message. */
function lineDiff(apache: string[], zoonode: string[]): string {
  const out: string[] = [];
  const n = Math.max(apache.length, zoonode.length);
  for (let i = 0; i < n && out.length < 30; i++) {
    if (apache[i] !== zoonode[i]) out.push(`line ${i + 1}: apache ${JSON.stringify(apache[i])} | zoonode ${JSON.stringify(zoonode[i])}`);
  }
  return out.join('\n  ');
}

function assertSameOutput(part: keyof Transcript, apache: Transcript, zoonode: Transcript, workers: number): void {
  assert.deepStrictEqual(zoonode[part], apache[part],
    `zkCli ${part} script, zoonode workers=${workers}: output differs from Apache ZooKeeper 3.8:\n  ${lineDiff(apache[part], zoonode[part])}`);
}

if (!isApacheInstalled() || !isZkCliInstalled()) {
  test('zkCli.sh against zoonode and Apache ZooKeeper 3.8', {
    skip: 'Apache ZooKeeper and its zkCli.sh are not installed (/usr/share/java/zookeeper.jar, /usr/share/zookeeper/bin/zkCli.sh, /usr/bin/java)',
  }, () => {});
} else {
  describe('zkCli.sh (the official Java client): zoonode prints what Apache ZooKeeper 3.8 prints', () => {
    let apache: Transcript;

    before(async () => {
      const a = await startApache();
      killOnExit(a.process);
      try {
        apache = await runAll(a.host, a.port);
      } finally {
        await a.stop();
      }
    });

    test('Apache: the scripts observe what they are meant to (zkCli setup takes one zxid)', () => {
      const m = apache.main;
      // zkCli's session is zxid 0x1, so its first create is 0x2.
      assert.equal(m.find((l) => l.startsWith('cZxid')), 'cZxid = 0x2', m.join('\n'));
      assert.ok(m.includes('Created /s-0000000002'));
      assert.ok(m.includes('Created /es-0000000003'));
      assert.equal(m.filter((l) => l === 'version No is not valid : /a').length, 2, 'set -v and delete -v with a wrong version');
      assert.ok(m.includes('Node not empty: /p'));
      assert.ok(m.includes('Node already exists: /a'));
      assert.ok(m.includes('ephemeralOwner = <session 1>'));
      const rootAfterDeleteall = apache.deleteall.find((l) => l.startsWith('['));
      assert.ok(rootAfterDeleteall !== undefined && !/(\[|, )p(,|\])/.test(rootAfterDeleteall), `deleteall removed /p: ${rootAfterDeleteall}`);
      assert.ok(apache.watch.includes(WATCH_DATA));
      assert.ok(apache.watch.includes(WATCH_CHILD));
      assert.equal(apache.watch.filter((l) => l.startsWith('WatchedEvent')).length, 2, apache.watch.join('\n'));
    });

    for (const workers of workerModes) {
      describe(`zoonode workers=${workers}`, () => {
        let zoonode: Transcript;
        let stop: (() => Promise<void>) | null = null;

        before(async () => {
          const z = await startZoonode({ workers });
          stop = () => z.stop();
          zoonode = await runAll(z.host, z.port);
        });

        after(async () => {
          await stop?.();
        });

        test('create / get / stat / set / ls / delete script', () => {
          assertSameOutput('main', apache, zoonode, workers);
        });

        test('watches held by a live zkCli fire (get -w, ls -w)', () => {
          assert.ok(zoonode.watch.includes(WATCH_DATA), zoonode.watch.join('\n'));
          assert.ok(zoonode.watch.includes(WATCH_CHILD), zoonode.watch.join('\n'));
          assertSameOutput('watch', apache, zoonode, workers);
        });

        test('state after the watch session (get -s, ls -s)', () => {
          assertSameOutput('afterWatch', apache, zoonode, workers);
        });

        test('addauth, whoami, auth ACL, getAcl', () => {
          assertSameOutput('auth', apache, zoonode, workers);
        });

        test('deleteall of a subtree', () => {
          assertSameOutput('deleteall', apache, zoonode, workers);
        });
      });
    }
  });
}
