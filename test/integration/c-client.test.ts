// Integration: Apache's C client shell cli_mt (Debian zookeeper-bin, C client
// 3.8) against zoonode, under every worker layout. cli_mt prints its results
// on stderr; test/support/cli-mt.ts sends one command at a time and waits for
// the output that completes it. Error codes are the C client's ZOO_ERRORS
// (ZNONODE -101, ZNODEEXISTS -110, ZNOTEMPTY -111, ZNOCHILDRENFOREPHEMERALS -108).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startZoonode, workerModes, type TestServer } from '../support/zoonode.js';
import { CliMt, cliMtMissing } from '../support/cli-mt.js';

const skipReason = cliMtMissing();

const ZNONODE = -101;
const ZNODEEXISTS = -110;
const ZNOTEMPTY = -111;
const ZNOCHILDRENFOREPHEMERALS = -108;

for (const workers of workerModes) {
  describe(`C client cli_mt against zoonode (workers=${workers})`, { skip: skipReason ?? false, timeout: 60000 }, () => {
    let server: TestServer;
    let a: CliMt;
    let sessionA = '';
    const shells: CliMt[] = [];

    function shell(): CliMt {
      const s = CliMt.start(server.connectString);
      shells.push(s);
      return s;
    }

    before(async () => {
      server = await startZoonode({ workers });
    });

    after(async () => {
      await Promise.all(shells.map((s) => s.quit(3000)));
      for (const s of shells) s.kill();
      await server?.stop();
    });

    test('connects and gets a session', async () => {
      a = shell();
      sessionA = await a.connected();
      assert.match(sessionA, /^[0-9a-f]+$/);
      assert.notEqual(BigInt('0x' + sessionA), 0n);
      assert.match(a.output, /Watcher SESSION_EVENT state = CONNECTED_STATE\n/);
    });

    test('create, get, set, get', async () => {
      let c = await a.create('/cc');
      assert.deepEqual([c.rc, c.name], [0, '/cc'], c.text);
      c = await a.create('/cc');
      assert.equal(c.rc, ZNODEEXISTS, c.text);

      let g = await a.get('/cc');
      assert.equal(g.rc, 0, g.text);
      assert.equal(g.value, 'new', 'cli_mt creates nodes with the data "new"');
      assert.ok(g.stat !== null);
      assert.equal(g.stat.version, 0);
      assert.equal(g.stat.czxid, g.stat.mzxid, 'a new node has mzxid = czxid');
      assert.equal(g.stat.ephemeralOwner, '0');
      const created = g.stat.czxid;

      // `get` left a data watch: the set fires it, before the set's reply.
      const s = await a.set('/cc', 'hello');
      assert.equal(s.rc, 0, s.text);
      assert.ok(s.stat !== null);
      assert.equal(s.stat.version, 1);
      assert.equal(s.stat.czxid, created);
      assert.ok(s.stat.mzxid > created);
      const ev = s.text.indexOf('Watcher CHANGED_EVENT state = CONNECTED_STATE for path /cc\n');
      assert.ok(ev >= 0, `a CHANGED_EVENT for /cc was printed:\n${s.text}`);
      assert.ok(ev < s.text.indexOf('/cc: rc = 0 Stat:'), `the event came before the set's reply:\n${s.text}`);

      g = await a.get('/cc');
      assert.equal(g.rc, 0, g.text);
      assert.equal(g.value, 'hello');
      assert.equal(g.stat!.version, 1);
    });

    test('create modes: sequential, ephemeral, ephemeral sequential', async () => {
      let c = await a.create('+s /cc/s-');
      assert.deepEqual([c.rc, c.name], [0, '/cc/s-0000000000'], c.text);
      c = await a.create('+e /cc/e');
      assert.deepEqual([c.rc, c.name], [0, '/cc/e'], c.text);
      c = await a.create('+es /cc/es-');
      assert.deepEqual([c.rc, c.name], [0, '/cc/es-0000000002'], c.text);

      const g = await a.get('/cc/e');
      assert.equal(g.rc, 0, g.text);
      assert.equal(g.stat!.ephemeralOwner, sessionA, 'ephemeralOwner is the session id');
      const ges = await a.get('/cc/es-0000000002');
      assert.equal(ges.stat!.ephemeralOwner, sessionA);
      const gs = await a.get('/cc/s-0000000000');
      assert.equal(gs.stat!.ephemeralOwner, '0');

      c = await a.create('/cc/e/x');
      assert.equal(c.rc, ZNOCHILDRENFOREPHEMERALS, c.text);
      c = await a.create('/none/x');
      assert.equal(c.rc, ZNONODE, c.text);
    });

    test('ls and ls2', async () => {
      const l = await a.ls('/cc');
      assert.equal(l.rc, 0, l.text);
      assert.deepEqual([...l.children].sort(), ['e', 'es-0000000002', 's-0000000000']);
      const root = await a.ls('/');
      assert.ok(root.children.includes('zookeeper') && root.children.includes('cc'), root.text);
      const l2 = await a.ls2('/cc');
      assert.equal(l2.rc, 0, l2.text);
      assert.deepEqual([...l2.children].sort(), ['e', 'es-0000000002', 's-0000000000']);
      assert.ok(l2.stat !== null, l2.text);
      assert.equal(l2.stat.version, 1);
      const missing = await a.ls('/none');
      assert.equal(missing.rc, ZNONODE, missing.text);
    });

    test('exists, sync', async () => {
      const e = await a.exists('/cc');
      assert.equal(e.rc, 0, e.text);
      const n = await a.exists('/nope');
      assert.equal(n.rc, ZNONODE, n.text);
      const s = await a.sync('/cc');
      assert.equal(s.rc, 0, s.text);
    });

    test('child watch fires on create', async () => {
      const l = await a.ls('/cc'); // leaves a child watch
      assert.equal(l.rc, 0, l.text);
      const c = await a.create('/cc/new');
      assert.equal(c.rc, 0, c.text);
      const ev = c.text.indexOf('Watcher CHILD_EVENT state = CONNECTED_STATE for path /cc\n');
      assert.ok(ev >= 0, `a CHILD_EVENT for /cc was printed:\n${c.text}`);
      assert.ok(ev < c.text.indexOf('[/cc/new]: rc = 0'), `the event came before the create's reply:\n${c.text}`);
    });

    test('delete: NOTEMPTY, NONODE, success', async () => {
      let d = await a.delete('/cc');
      assert.equal(d.rc, ZNOTEMPTY, d.text);
      d = await a.delete('/missing');
      assert.equal(d.rc, ZNONODE, d.text);
      d = await a.delete('/cc/s-0000000000');
      assert.equal(d.rc, 0, d.text);
      d = await a.delete('/cc/new');
      assert.equal(d.rc, 0, d.text);
      const g = await a.get('/cc/s-0000000000');
      assert.equal(g.rc, ZNONODE, g.text);
      assert.equal(g.value, null);
      assert.equal(g.stat, null);
    });

    test('create2 returns the stat', async () => {
      const c = await a.create2('/cc2');
      assert.equal(c.rc, 0, c.text);
      assert.equal(c.name, '/cc2');
      assert.ok(c.stat !== null, c.text);
      assert.equal(c.stat.version, 0);
      assert.equal(c.stat.czxid, c.stat.mzxid);
      const d = await a.delete('/cc2');
      assert.equal(d.rc, 0, d.text);
    });

    test('ephemerals vanish when the shell quits (seen by a second shell)', async () => {
      const b = shell();
      const sessionB = await b.connected();
      assert.notEqual(sessionB, sessionA);
      const g = await b.get('/cc/e'); // leaves a data watch in b
      assert.equal(g.rc, 0, g.text);
      assert.equal(g.stat!.ephemeralOwner, sessionA);
      const from = b.output.length;

      const code = await a.quit();
      assert.equal(code, 0, `cli_mt exited cleanly after quit:\n${a.output.slice(-2000)}`);
      await b.waitFor(/Watcher DELETED_EVENT state = CONNECTED_STATE for path \/cc\/e\n/, from, 5000);
      const l = await b.ls('/cc');
      assert.equal(l.rc, 0, l.text);
      assert.deepEqual(l.children, [], 'both of the first shell\'s ephemerals are gone');

      const d = await b.delete('/cc');
      assert.equal(d.rc, 0, d.text);
      assert.equal((await b.quit()), 0);
    });
  });
}
