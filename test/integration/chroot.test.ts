// Integration: clients with a chroot in their connection string
// ("127.0.0.1:PORT/app") against zoonode under workers=0 and workers=2:
// kazoo (/usr/bin/python3, test/support/kazoo_chroot.py), Apache's zkCli.sh
// (-server 127.0.0.1:PORT/app) and node-zookeeper-client. A chroot is the
// client's business (it prefixes every path it sends and strips the prefix
// from every path it receives: replies, multi results, watch events); the
// server sees full paths. What is checked: nodes the chrooted client creates
// land under /app, the paths it gets back are relative, and watches it sets
// fire with relative paths, for changes made by a client without a chroot.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startZoonode, type TestServer } from '../support/zoonode.js';
import { ZkClient } from '../../native-free-bench/zk-client.js';
import { kazooSkipReason, pyStep, runPyScenario, supportDir } from '../support/py-scenario.js';
import { isZkCliInstalled, ZkCli } from '../support/zkcli-driver.js';
import { Nzk, CreateMode, Event, closeAll, within, type NzkEvent } from '../support/nzk.js';

const CHROOT = '/app';
const kazooScript = path.join(supportDir, 'kazoo_chroot.py');
const kazooSkip = kazooSkipReason(kazooScript);
const zkCliSkip = isZkCliInstalled() ? null : 'zkCli.sh is not installed (Debian package zookeeper-bin)';

/** A one-shot watcher that resolves with its first event. */
function watcher(): { fn: (e: NzkEvent) => void; fired: (ms?: number) => Promise<NzkEvent> } {
  let resolve!: (e: NzkEvent) => void;
  const first = new Promise<NzkEvent>((r) => { resolve = r; });
  return {
    fn: (e) => resolve({ type: e.type, name: e.name, path: e.path }),
    fired: (ms = 5000) => within(first, ms, 'waiting for a watcher to fire'),
  };
}

for (const workers of [0, 2]) {
  describe(`chroot clients against zoonode (workers=${workers})`, { timeout: 90000 }, () => {
    let server: TestServer;
    let raw: ZkClient;

    before(async () => {
      server = await startZoonode({ workers });
      raw = await ZkClient.connect(server.host, server.port);
    });

    after(async () => {
      await raw?.close();
      await server?.stop();
    });

    /** A fresh chroot for one client, created through the raw client. */
    async function chroot(name: string): Promise<string> {
      const p = `${CHROOT}-${name}`;
      await raw.create(p, null);
      return p;
    }

    test('kazoo: KazooClient(hosts="127.0.0.1:PORT/app")', { skip: kazooSkip ?? false }, async () => {
      const root = await chroot('kazoo');
      const run = await runPyScenario(kazooScript, [server.connectString, root, '30'], 35000);
      const create = pyStep(run, 'create');
      assert.equal(create.x, '/x', 'create returns the path relative to the chroot');
      assert.equal(create.seq, '/s-0000000001');
      assert.equal(create.eph, '/e');
      assert.equal(create.deep, '/deep/er');
      assert.equal(create.create2_path, '/with-stat');
      assert.equal(create.eph_owner_is_session, true);
      assert.deepEqual(create.under_chroot, { '/x': true, '/s-0000000001': true, '/e': true, '/deep/er': true, '/with-stat': true });
      assert.deepEqual(create.at_real_root, { '/x': false, '/e': false, '/deep': false });
      const read = pyStep(run, 'read');
      assert.equal(read.data, 'one');
      assert.deepEqual(read.children, ['deep', 'e', 's-0000000001', 'with-stat', 'x']);
      assert.equal(read.same_as_real, true);
      assert.equal(read.root_exists, true);
      assert.equal(read.root_stat_matches_chroot, true, '"/" of the chrooted client is the chroot node');
      const tx = pyStep(run, 'transaction');
      assert.deepEqual(tx.results, ['/tx', '/tx-seq-0000000006', 'ZnodeStat'], 'multi results carry relative paths');
      assert.equal(tx.tx_under_chroot, true);
      assert.equal(tx.x_data_real, 'two');
      const w = pyStep(run, 'watches');
      assert.deepEqual(w.waits, [true, true, true, true]);
      assert.deepEqual(w.data, [{ type: 'CHANGED', path: '/x' }]);
      assert.deepEqual(w.exist, [{ type: 'CREATED', path: '/later' }]);
      assert.deepEqual(w.child, [{ type: 'CHILD', path: '/' }], 'a child watch on the chroot fires for "/"');
      assert.deepEqual(w.delete, [{ type: 'DELETED', path: '/later' }]);
      const del = pyStep(run, 'delete');
      assert.equal(del.deep_gone_real, true);
      assert.equal(del.x_still_there, true);
      const close = pyStep(run, 'close');
      assert.equal(close.ephemeral_gone, true);
      assert.ok(run.steps.has('done'));
      assert.equal(run.code, 0, `exit code (stderr: ${run.stderr.slice(-2000)})`);
    });

    test('zkCli.sh -server 127.0.0.1:PORT/app', { skip: zkCliSkip ?? false }, async () => {
      const root = await chroot('zkcli');
      const cli = new ZkCli(`${server.connectString}${root}`);
      try {
        await cli.waitFor(/WatchedEvent state:SyncConnected type:None path:null/, 20000);
        let at = cli.output.length;
        const run = async (cmd: string, re: RegExp, ms = 10000): Promise<string> => {
          at = cli.output.length;
          cli.send(cmd);
          return cli.waitFor(re, ms, at);
        };
        await run('create /zc one', /Created \/zc\n/);
        const seq = await run('create -s /zs-', /Created \/zs-\d{10}\n/);
        const seqName = seq.trim().slice('Created /'.length);
        assert.equal(seqName, 'zs-0000000001');
        await run('create -e /ze', /Created \/ze\n/);
        await run('create /zd', /Created \/zd\n/);
        const ls = await run('ls /', /\[[^\]\n]*\]\n/);
        assert.deepEqual(ls.trim().slice(1, -1).split(', ').sort(), ['zc', 'zd', 'ze', seqName].sort());
        assert.equal((await run('get /zc', /\w+\n/)).trim(), 'one');
        // Nodes landed under the chroot, not at the real root.
        for (const p of ['/zc', `/${seqName}`, '/ze', '/zd']) {
          assert.notEqual(await raw.exists(root + p), null, `${root}${p} exists`);
          assert.equal(await raw.exists(p), null, `${p} is not at the real root`);
        }

        // A data watch set through the chroot fires with the relative path.
        await run('get -w /zc', /one\n/);
        at = cli.output.length;
        await raw.setData(`${root}/zc`, Buffer.from('two'));
        await cli.waitFor(/WatchedEvent state:SyncConnected type:NodeDataChanged path:\/zc\n/, 10000, at);
        // A child watch on the chroot itself fires for "/".
        await run('ls -w /', /\[[^\]\n]*\]\n/);
        at = cli.output.length;
        await raw.create(`${root}/zn`, null);
        await cli.waitFor(/WatchedEvent state:SyncConnected type:NodeChildrenChanged path:\/\n/, 10000, at);
        // A persistent recursive watch on the chroot (addWatch mode 1).
        // (addWatch prints nothing: the stat after it marks that it was done.)
        cli.send('addWatch -m PERSISTENT_RECURSIVE /zd');
        await run('stat /zd', /numChildren = 0\n/);
        at = cli.output.length;
        await raw.create(`${root}/zd/deep`, null);
        await cli.waitFor(/WatchedEvent state:SyncConnected type:NodeCreated path:\/zd\/deep\n/, 10000, at);
        await raw.setData(`${root}/zd`, Buffer.from('x'));
        await cli.waitFor(/WatchedEvent state:SyncConnected type:NodeDataChanged path:\/zd\n/, 10000, at);
        // deleteall (a multi of deletes) through the chroot.
        cli.send('deleteall /zn');
        const gone = await run('ls /', /\[[^\]\n]*\]\n/);
        assert.ok(!gone.includes('zn'), `ls / after deleteall /zn: ${gone}`);
        assert.equal(await raw.exists(`${root}/zn`), null);
        const stat = await run('stat /zc', /dataLength = \d+\n/);
        assert.match(stat, /dataLength = 3/);
      } finally {
        await cli.quit();
        cli.kill();
      }
      assert.equal(cli.exitCode, 0, cli.output);
      assert.equal(await raw.exists(`${root}/ze`), null, 'the ephemeral went with the zkCli session');
      assert.equal((await raw.getData(`${root}/zc`)).data?.toString(), 'two');
    });

    test('node-zookeeper-client: createClient("127.0.0.1:PORT/app")', async () => {
      const root = await chroot('nzk');
      const c = await Nzk.connect(`${server.connectString}${root}`);
      try {
        assert.equal(await c.create('/n', Buffer.from('v')), '/n');
        const seq = await c.create('/q-', null, CreateMode.PERSISTENT_SEQUENTIAL);
        assert.match(seq, /^\/q-\d{10}$/);
        assert.equal(await c.create('/eph', null, CreateMode.EPHEMERAL), '/eph');
        await c.mkdirp('/m/k');
        assert.notEqual(await raw.exists(`${root}/m/k`), null, 'mkdirp through the chroot');
        for (const p of ['/n', seq, '/eph']) {
          assert.notEqual(await raw.exists(root + p), null, `${root}${p} exists`);
          assert.equal(await raw.exists(p), null, `${p} is not at the real root`);
        }
        const kids = await c.getChildren('/');
        assert.deepEqual(kids.children.sort(), ['eph', 'm', 'n', seq.slice(1)].sort());
        assert.equal((await c.getData('/n')).data?.toString(), 'v');

        const dw = watcher();
        await c.getData('/n', dw.fn);
        await raw.setData(`${root}/n`, Buffer.from('w'));
        assert.deepEqual(await dw.fired(), { type: Event.NODE_DATA_CHANGED, name: 'NODE_DATA_CHANGED', path: '/n' });

        const ew = watcher();
        assert.equal(await c.exists('/later', ew.fn), null);
        await raw.create(`${root}/later`, null);
        assert.deepEqual(await ew.fired(), { type: Event.NODE_CREATED, name: 'NODE_CREATED', path: '/later' });

        const cw = watcher();
        await c.getChildren('/', cw.fn);
        await raw.create(`${root}/more`, null);
        assert.deepEqual(await cw.fired(), { type: Event.NODE_CHILDREN_CHANGED, name: 'NODE_CHILDREN_CHANGED', path: '/' });

        const xw = watcher();
        await c.getData('/later', xw.fn);
        await raw.delete(`${root}/later`);
        assert.deepEqual(await xw.fired(), { type: Event.NODE_DELETED, name: 'NODE_DELETED', path: '/later' });

        // Every notification on the wire named a path under the chroot (the client strips it).
        assert.ok(c.wireEvents.length >= 4);
        for (const e of c.wireEvents) assert.ok(!e.path.startsWith(root), `event path ${e.path} was not made relative`);

        await c.remove('/n');
        assert.equal(await raw.exists(`${root}/n`), null);
      } finally {
        await closeAll([c]);
      }
      await raw.sync('/');
      assert.equal(await raw.exists(`${root}/eph`), null, 'the ephemeral went with the session');
    });
  });
}
