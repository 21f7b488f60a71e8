// Integration: the npm client node-zookeeper-client against zoonode, under
// every worker layout. Expectations are Apache ZooKeeper 3.8's behaviour.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startZoonode, workerModes, type TestServer } from '../support/zoonode.js';
import {
  Nzk, CreateMode, Event, Exception, codeOf, closeAll, within, type NzkEvent, type WireEvent,
} from '../support/nzk.js';
import { ZkClient } from '../../native-free-bench/zk-client.js';

const TICK = 100;
const ZERO8 = Buffer.alloc(8);
const seqRe = /^\d{10}$/;

/** Asserts that p rejects with a node-zookeeper-client Exception of the given code. */
async function rejectsWith(p: Promise<unknown>, code: number, what: string): Promise<void> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(err !== undefined, `${what}: expected error ${code}, but it succeeded`);
  assert.equal(codeOf(err), code, `${what}: expected error ${code}, got ${String(err)}`);
}

/** A one-shot watcher that records its calls and resolves on the first. */
function watcher(): { fn: (e: NzkEvent) => void; calls: NzkEvent[]; fired: (ms?: number) => Promise<NzkEvent> } {
  const calls: NzkEvent[] = [];
  let resolve!: (e: NzkEvent) => void;
  const first = new Promise<NzkEvent>((r) => { resolve = r; });
  return {
    calls,
    fn: (e) => { calls.push({ type: e.type, name: e.name, path: e.path }); resolve(e); },
    fired: (ms = 5000) => within(first, ms, 'waiting for a watcher to fire'),
  };
}

function wireOf(c: Nzk, from: number): WireEvent[] {
  return c.wireEvents.slice(from).map((e) => ({ type: e.type, state: e.state, path: e.path }));
}

const zxidOf = (b: Buffer): bigint => b.readBigInt64BE(0);

for (const workers of workerModes) {
  describe(`node-zookeeper-client against zoonode (workers=${workers})`, { timeout: 60000 }, () => {
    let server: TestServer;
    const clients = new Set<Nzk>();

    async function client(options: Record<string, unknown> = {}): Promise<Nzk> {
      const c = await Nzk.connect(server.connectString, options);
      clients.add(c);
      return c;
    }

    async function closeClient(c: Nzk): Promise<boolean> {
      clients.delete(c);
      return c.close();
    }

    before(async () => {
      server = await startZoonode({ workers, tickTime: TICK });
    });

    after(async () => {
      await closeAll(clients);
      clients.clear();
      await server?.stop();
    });

    test('connects and negotiates a session', async () => {
      const c = await client();
      try {
        assert.equal(c.sessionId.length, 8);
        assert.notDeepEqual(c.sessionId, ZERO8, 'session id must not be 0');
        // The client asks for 30 s; the server clamps to 20 x tickTime.
        assert.equal(c.sessionTimeout, 20 * TICK);
        const c2 = await client({ sessionTimeout: 150 });
        try {
          assert.notDeepEqual(c2.sessionId, c.sessionId, 'two clients get two sessions');
          assert.equal(c2.sessionTimeout, 2 * TICK, 'a too-small timeout is raised to 2 x tickTime');
        } finally {
          await closeClient(c2);
        }
      } finally {
        await closeClient(c);
      }
    });

    test('create in all four modes returns the created paths', async () => {
      const c = await client();
      try {
        assert.equal(await c.create('/modes'), '/modes');
        assert.equal(await c.create('/modes/p', Buffer.from('p'), CreateMode.PERSISTENT), '/modes/p');
        assert.equal(await c.create('/modes/e', Buffer.from('e'), CreateMode.EPHEMERAL), '/modes/e');
        // The suffix is %010d of the children ever created under the parent (two so far).
        assert.equal(await c.create('/modes/ps-', Buffer.from('ps'), CreateMode.PERSISTENT_SEQUENTIAL), '/modes/ps-0000000002');
        assert.equal(await c.create('/modes/es-', Buffer.from('es'), CreateMode.EPHEMERAL_SEQUENTIAL), '/modes/es-0000000003');
        assert.equal(await c.create('/modes/ps-', null, CreateMode.PERSISTENT_SEQUENTIAL), '/modes/ps-0000000004');

        const owners: Record<string, Buffer> = {};
        for (const name of ['p', 'e', 'ps-0000000002', 'es-0000000003', 'ps-0000000004']) {
          const st = await c.exists(`/modes/${name}`);
          assert.ok(st !== null, `/modes/${name} should exist`);
          owners[name] = st.ephemeralOwner;
        }
        assert.deepEqual(owners['p'], ZERO8);
        assert.deepEqual(owners['ps-0000000002'], ZERO8);
        assert.deepEqual(owners['e'], c.sessionId, 'EPHEMERAL owner is the session id');
        assert.deepEqual(owners['es-0000000003'], c.sessionId, 'EPHEMERAL_SEQUENTIAL owner is the session id');

        const { children } = await c.getChildren('/modes');
        assert.deepEqual([...children].sort(), ['e', 'es-0000000003', 'p', 'ps-0000000002', 'ps-0000000004']);

        // Deletes do not lower the counter; sequential names are unique.
        await c.create('/seq');
        const a = await c.create('/seq/n-', null, CreateMode.PERSISTENT_SEQUENTIAL);
        const b = await c.create('/seq/n-', null, CreateMode.PERSISTENT_SEQUENTIAL);
        assert.equal(a, '/seq/n-0000000000');
        assert.equal(b, '/seq/n-0000000001');
        await c.remove(a);
        const d = await c.create('/seq/n-', null, CreateMode.EPHEMERAL_SEQUENTIAL);
        assert.equal(d, '/seq/n-0000000002');
        assert.match(d.slice('/seq/n-'.length), seqRe);

        await rejectsWith(c.create('/modes/p'), Exception.NODE_EXISTS, 'create of an existing node');
        await rejectsWith(c.create('/no/such/parent'), Exception.NO_NODE, 'create under a missing parent');
        await rejectsWith(c.create('/modes/e/child'), Exception.NO_CHILDREN_FOR_EPHEMERALS, 'create under an ephemeral');
      } finally {
        await closeClient(c);
      }
    });

    test('exists: present and absent', async () => {
      const c = await client();
      try {
        await c.create('/ex', Buffer.from('here'));
        const st = await c.exists('/ex');
        assert.ok(st !== null);
        assert.equal(st.dataLength, 4);
        assert.equal(st.version, 0);
        assert.equal(await c.exists('/ex/none'), null);
        assert.equal(await c.exists('/none'), null);
        assert.ok((await c.exists('/')) !== null, 'the root exists');
        assert.ok((await c.exists('/zookeeper')) !== null, '/zookeeper exists');
      } finally {
        await closeClient(c);
      }
    });

    test('getData/setData with versions; binary and empty data round-trip', async () => {
      const c = await client();
      try {
        await c.create('/data', Buffer.from('v0'));
        let got = await c.getData('/data');
        assert.deepEqual(got.data, Buffer.from('v0'));
        assert.equal(got.stat.version, 0);

        let st = await c.setData('/data', Buffer.from('v1'), 0);
        assert.equal(st.version, 1);
        await rejectsWith(c.setData('/data', Buffer.from('stale'), 0), Exception.BAD_VERSION, 'setData with a stale version');
        await rejectsWith(c.setData('/data', Buffer.from('future'), 7), Exception.BAD_VERSION, 'setData with a future version');
        got = await c.getData('/data');
        assert.deepEqual(got.data, Buffer.from('v1'), 'a refused setData changes nothing');
        assert.equal(got.stat.version, 1);
        st = await c.setData('/data', Buffer.from('v2'), -1);
        assert.equal(st.version, 2, 'version -1 matches any version');

        const binary = Buffer.alloc(512);
        for (let i = 0; i < binary.length; i++) binary[i] = (i * 7 + 3) & 0xff;
        binary[0] = 0; binary[1] = 0xff; binary[2] = 0x80;
        await c.create('/bin', binary);
        got = await c.getData('/bin');
        assert.deepEqual(got.data, binary, 'binary bytes round-trip');
        assert.equal(got.stat.dataLength, binary.length);

        await c.create('/empty', Buffer.alloc(0));
        got = await c.getData('/empty');
        assert.ok(Buffer.isBuffer(got.data), 'empty data comes back as a zero-length buffer, not null');
        assert.equal(got.data!.length, 0);
        assert.equal(got.stat.dataLength, 0);

        st = await c.setData('/bin', Buffer.alloc(0), 0);
        assert.equal(st.version, 1);
        assert.equal(st.dataLength, 0);
        got = await c.getData('/bin');
        assert.equal(got.data?.length, 0, 'setData to an empty buffer');

        await rejectsWith(c.getData('/nothing'), Exception.NO_NODE, 'getData of a missing node');
        await rejectsWith(c.setData('/nothing', Buffer.from('x'), -1), Exception.NO_NODE, 'setData of a missing node');
      } finally {
        await closeClient(c);
      }
    });

    test('getChildren lists children with numChildren', async () => {
      const c = await client();
      try {
        await c.create('/kids');
        let r = await c.getChildren('/kids');
        assert.deepEqual(r.children, []);
        assert.equal(r.stat.numChildren, 0);
        for (const n of ['a', 'b', 'c', 'd']) await c.create(`/kids/${n}`);
        r = await c.getChildren('/kids');
        assert.deepEqual([...r.children].sort(), ['a', 'b', 'c', 'd'], 'order is not significant');
        assert.equal(r.stat.numChildren, 4);
        const root = await c.getChildren('/');
        assert.ok(root.children.includes('zookeeper') && root.children.includes('kids'));
        await rejectsWith(c.getChildren('/kids/none'), Exception.NO_NODE, 'getChildren of a missing node');
      } finally {
        await closeClient(c);
      }
    });

    test('remove: NOT_EMPTY on a parent, NO_NODE on a missing node, BAD_VERSION', async () => {
      const c = await client();
      try {
        await c.create('/rm');
        await c.create('/rm/child', Buffer.from('x'));
        await rejectsWith(c.remove('/rm'), Exception.NOT_EMPTY, 'remove of a node with children');
        await rejectsWith(c.remove('/rm/missing'), Exception.NO_NODE, 'remove of a missing node');
        await rejectsWith(c.remove('/rm/child', 5), Exception.BAD_VERSION, 'remove with a wrong version');
        await c.setData('/rm/child', Buffer.from('y'));
        await c.remove('/rm/child', 1);
        assert.equal(await c.exists('/rm/child'), null);
        await c.remove('/rm', -1);
        assert.equal(await c.exists('/rm'), null);
        await rejectsWith(c.remove('/rm'), Exception.NO_NODE, 'second remove');
      } finally {
        await closeClient(c);
      }
    });

    test('mkdirp creates every missing ancestor and tolerates existing ones', async () => {
      const c = await client();
      try {
        assert.equal(await c.mkdirp('/mk/a/b/c'), '/mk/a/b/c');
        for (const p of ['/mk', '/mk/a', '/mk/a/b', '/mk/a/b/c']) assert.ok((await c.exists(p)) !== null, `${p} exists`);
        assert.equal(await c.mkdirp('/mk/a/b/c'), '/mk/a/b/c', 'mkdirp of an existing path succeeds');
        assert.equal(await c.mkdirp('/mk/a/x', Buffer.from('d')), '/mk/a/x');
        assert.deepEqual((await c.getData('/mk/a/x')).data, Buffer.from('d'));
      } finally {
        await closeClient(c);
      }
    });

    test('stat fields: versions, zxids, numChildren, cversion, ephemeralOwner', async () => {
      const c = await client();
      try {
        await c.create('/st', Buffer.from('abc'));
        const s0 = (await c.getData('/st')).stat;
        assert.equal(s0.version, 0);
        assert.equal(s0.cversion, 0);
        assert.equal(s0.aversion, 0);
        assert.equal(s0.numChildren, 0);
        assert.equal(s0.dataLength, 3);
        assert.deepEqual(s0.ephemeralOwner, ZERO8);
        assert.deepEqual(s0.mzxid, s0.czxid, 'a new node has mzxid = czxid');
        assert.deepEqual(s0.pzxid, s0.czxid, 'a new node has pzxid = czxid');
        assert.ok(zxidOf(s0.czxid) > 0n);

        const s1 = await c.setData('/st', Buffer.from('abcd'));
        assert.equal(s1.version, 1);
        assert.equal(s1.dataLength, 4);
        assert.deepEqual(s1.czxid, s0.czxid);
        assert.ok(zxidOf(s1.mzxid) > zxidOf(s0.mzxid), 'mzxid advances on setData');
        const s2 = await c.setData('/st', Buffer.from('abcde'));
        assert.equal(s2.version, 2);

        await c.create('/st/a');
        await c.create('/st/b', null, CreateMode.EPHEMERAL);
        let p = (await c.exists('/st'))!;
        assert.equal(p.numChildren, 2);
        assert.equal(p.version, 2, 'child changes do not bump the data version');
        const b = (await c.exists('/st/b'))!;
        assert.deepEqual(p.pzxid, b.czxid, 'pzxid is the zxid of the last child create');
        assert.deepEqual(b.ephemeralOwner, c.sessionId, 'ephemeralOwner equals the session id');

        await c.remove('/st/a');
        p = (await c.exists('/st'))!;
        assert.equal(p.numChildren, 1);
        assert.equal(p.cversion, 3, 'cversion counts child creates and deletes');
        assert.ok(zxidOf(p.pzxid) > zxidOf(b.czxid), 'pzxid advances on a child delete');
        assert.ok(zxidOf(p.mzxid) < zxidOf(p.pzxid));
      } finally {
        await closeClient(c);
      }
    });

    test('data watch fires NODE_DATA_CHANGED once for two sets', async () => {
      const c = await client();
      try {
        await c.create('/wd', Buffer.from('0'));
        const w = watcher();
        await c.getData('/wd', w.fn);
        const from = c.wireEvents.length;
        await c.setData('/wd', Buffer.from('1'));
        await c.setData('/wd', Buffer.from('2'));
        const e = await w.fired();
        assert.equal(e.type, Event.NODE_DATA_CHANGED);
        assert.equal(e.path, '/wd');
        // Events precede the reply to the write that caused them, so by now
        // every notification for these two sets has arrived.
        assert.deepEqual(wireOf(c, from), [{ type: Event.NODE_DATA_CHANGED, state: 3, path: '/wd' }],
          'exactly one notification on the wire for two sets (watches are one-shot)');
        assert.equal(w.calls.length, 1);

        // Set by another client: the watch (re-armed) fires on this one.
        const other = await client();
        try {
          const w2 = watcher();
          await c.getData('/wd', w2.fn);
          await other.setData('/wd', Buffer.from('3'));
          const e2 = await w2.fired();
          assert.equal(e2.type, Event.NODE_DATA_CHANGED);
          assert.equal(e2.path, '/wd');
        } finally {
          await closeClient(other);
        }
      } finally {
        await closeClient(c);
      }
    });

    test('exists watch on a missing node fires NODE_CREATED', async () => {
      const c = await client();
      const other = await client();
      try {
        const w = watcher();
        assert.equal(await c.exists('/wc', w.fn), null);
        await other.create('/wc', Buffer.from('x'));
        const e = await w.fired();
        assert.equal(e.type, Event.NODE_CREATED);
        assert.equal(e.path, '/wc');
        assert.equal(w.calls.length, 1);
      } finally {
        await closeClient(other);
        await closeClient(c);
      }
    });

    test('child watch fires NODE_CHILDREN_CHANGED; delete fires NODE_DELETED', async () => {
      const c = await client();
      const other = await client();
      try {
        await c.create('/wk');
        const wc = watcher();
        assert.deepEqual((await c.getChildren('/wk', wc.fn)).children, []);
        await other.create('/wk/c1');
        const e = await wc.fired();
        assert.equal(e.type, Event.NODE_CHILDREN_CHANGED);
        assert.equal(e.path, '/wk');

        const wdata = watcher();
        const wexists = watcher();
        await c.getData('/wk/c1', wdata.fn);
        await c.exists('/wk', wexists.fn);
        await other.remove('/wk/c1');
        const d = await wdata.fired();
        assert.equal(d.type, Event.NODE_DELETED);
        assert.equal(d.path, '/wk/c1');
        await other.remove('/wk');
        const d2 = await wexists.fired();
        assert.equal(d2.type, Event.NODE_DELETED);
        assert.equal(d2.path, '/wk');
      } finally {
        await closeClient(other);
        await closeClient(c);
      }
    });

    test('on one connection, events arrive before the reply, in Apache order', async () => {
      const c = await client();
      try {
        await c.create('/wo');
        await c.exists('/wo/x', () => {});
        await c.getChildren('/wo', () => {});
        let from = c.wireEvents.length;
        await c.create('/wo/x');
        assert.deepEqual(wireOf(c, from), [
          { type: Event.NODE_CREATED, state: 3, path: '/wo/x' },
          { type: Event.NODE_CHILDREN_CHANGED, state: 3, path: '/wo' },
        ], 'create: NodeCreated, then the parent\'s NodeChildrenChanged, before the create reply');

        await c.getData('/wo/x', () => {});
        await c.getChildren('/wo', () => {});
        from = c.wireEvents.length;
        await c.remove('/wo/x');
        assert.deepEqual(wireOf(c, from), [
          { type: Event.NODE_DELETED, state: 3, path: '/wo/x' },
          { type: Event.NODE_CHILDREN_CHANGED, state: 3, path: '/wo' },
        ], 'delete: NodeDeleted, then the parent\'s NodeChildrenChanged, before the delete reply');
      } finally {
        await closeClient(c);
      }
    });

    test('ephemerals vanish when the owning client closes', async () => {
      const owner = await client();
      const observer = await client();
      try {
        await observer.create('/eph');
        await owner.create('/eph/a', Buffer.from('a'), CreateMode.EPHEMERAL);
        const seq = await owner.create('/eph/s-', null, CreateMode.EPHEMERAL_SEQUENTIAL);
        const wa = watcher();
        const wkids = watcher();
        const st = await observer.exists('/eph/a', wa.fn);
        assert.ok(st !== null);
        assert.deepEqual(st.ephemeralOwner, owner.sessionId);
        assert.equal((await observer.getChildren('/eph', wkids.fn)).children.length, 2);

        assert.equal(await closeClient(owner), true, 'the owner closed its session cleanly');
        const e = await wa.fired();
        assert.equal(e.type, Event.NODE_DELETED);
        assert.equal(e.path, '/eph/a');
        const k = await wkids.fired();
        assert.equal(k.type, Event.NODE_CHILDREN_CHANGED);
        assert.equal(await observer.exists('/eph/a'), null);
        assert.equal(await observer.exists(seq), null);
        assert.deepEqual((await observer.getChildren('/eph')).children, []);
      } finally {
        await closeClient(owner);
        await closeClient(observer);
      }
    });

    test('session expiry: a client that vanishes loses its ephemerals (node-zookeeper-client)', async () => {
      const observer = await client();
      const victim = await client({ sessionTimeout: 400 });
      try {
        assert.equal(victim.sessionTimeout, 400, 'a 400 ms timeout is within [2, 20] x tickTime');
        await observer.mkdirp('/exp');
        await victim.create('/exp/victim', Buffer.from('v'), CreateMode.EPHEMERAL);
        const w = watcher();
        assert.ok((await observer.exists('/exp/victim', w.fn)) !== null);

        const expired = new Promise<void>((resolve) => victim.client.once('expired', () => resolve()));
        const t0 = Date.now();
        victim.dropConnection();
        const e = await w.fired(5000);
        const elapsed = Date.now() - t0;
        assert.equal(e.type, Event.NODE_DELETED);
        assert.equal(e.path, '/exp/victim');
        assert.ok(elapsed >= 200, `the session must outlive its connection for about its timeout (expired after ${elapsed} ms)`);
        assert.ok(elapsed <= 3000, `expired after ${elapsed} ms (timeout 400 ms, tick ${TICK} ms)`);
        assert.equal(await observer.exists('/exp/victim'), null);

        // Coming back with the old session id: the server says it expired.
        victim.allowReconnect();
        await within(expired, 5000, 'the victim learning that its session expired');
      } finally {
        await closeClient(victim);
        await closeClient(observer);
      }
    });

    test('session expiry: a raw client that drops its socket loses its ephemerals', async () => {
      const observer = await client();
      const raw = await ZkClient.connect(server.host, server.port, { timeoutMs: 400, connectTimeoutMs: 5000 });
      try {
        assert.equal(raw.timeoutMs, 400);
        await observer.mkdirp('/exp2');
        await raw.create('/exp2/raw', Buffer.from('r'), 1 /* EPHEMERAL */);
        const st = await observer.exists('/exp2/raw');
        assert.ok(st !== null);
        assert.equal(st.ephemeralOwner.readBigInt64BE(0), raw.sessionId);
        const w = watcher();
        assert.ok((await observer.exists('/exp2/raw', w.fn)) !== null);
        const t0 = Date.now();
        raw.destroy();
        const e = await w.fired(5000);
        const elapsed = Date.now() - t0;
        assert.equal(e.type, Event.NODE_DELETED);
        assert.ok(elapsed >= 200 && elapsed <= 3000, `expired after ${elapsed} ms (timeout 400 ms)`);

        // The expired session cannot be resumed.
        await assert.rejects(
          ZkClient.connect(server.host, server.port, { timeoutMs: 400, sessionId: raw.sessionId, passwd: raw.passwd, connectTimeoutMs: 5000 }),
          (err: Error & { code?: string }) => err.code === 'EXPIRED',
        );
      } finally {
        raw.destroy();
        await closeClient(observer);
      }
    });

    test('a session survives a dropped connection when the client reconnects in time; watches are re-set', async () => {
      const c = await client({ sessionTimeout: 2000 });
      const observer = await client();
      try {
        await c.create('/survive', Buffer.from('s'), CreateMode.EPHEMERAL);
        const id = Buffer.from(c.sessionId);
        // Watches set before the drop; the changes happen while disconnected,
        // and the client's setWatches on reconnect must report them.
        const wData = watcher();
        const wCreated = watcher();
        await c.getData('/survive', wData.fn);
        assert.equal(await c.exists('/survive-new', wCreated.fn), null);
        const reconnected = new Promise<void>((resolve) => c.client.once('connected', () => resolve()));
        c.dropConnection();
        await observer.setData('/survive', Buffer.from('changed'));
        await observer.create('/survive-new');
        c.allowReconnect();
        await within(reconnected, 5000, 'reconnecting');
        assert.deepEqual(c.sessionId, id, 'same session after reconnecting');
        const st = await observer.exists('/survive');
        assert.ok(st !== null, 'the ephemeral survived the reconnect');
        assert.deepEqual(st.ephemeralOwner, id);
        assert.deepEqual((await c.getData('/survive')).data, Buffer.from('changed'));
        const d = await wData.fired();
        assert.equal(d.type, Event.NODE_DATA_CHANGED, 'a data watch re-set after reconnect reports the missed change');
        assert.equal(d.path, '/survive');
        const cr = await wCreated.fired();
        assert.equal(cr.type, Event.NODE_CREATED, 'an exists watch re-set after reconnect reports the missed create');
        assert.equal(cr.path, '/survive-new');
      } finally {
        await closeClient(c);
        await closeClient(observer);
      }
    });

    test('50 concurrent clients each doing writes and reads', { timeout: 30000 }, async () => {
      const N = 50;
      const admin = await client();
      const many: Nzk[] = [];
      try {
        await admin.create('/conc');
        const results = await Promise.allSettled(Array.from({ length: N }, () => client()));
        for (const r of results) if (r.status === 'fulfilled') many.push(r.value);
        assert.equal(many.length, N, `all ${N} clients connected (${results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)).join('; ')})`);
        const ids = new Set(many.map((c) => c.sessionIdHex));
        assert.equal(ids.size, N, 'every client has its own session');

        const seqPaths = await Promise.all(many.map(async (c, i) => {
          const path = `/conc/c-${i}`;
          assert.equal(await c.create(path, Buffer.from(`v0-${i}`)), path);
          assert.equal((await c.setData(path, Buffer.from(`v1-${i}`), 0)).version, 1);
          assert.equal((await c.setData(path, Buffer.from(`v2-${i}`), 1)).version, 2);
          const got = await c.getData(path);
          assert.deepEqual(got.data, Buffer.from(`v2-${i}`));
          assert.equal(got.stat.version, 2);
          const seq = await c.create('/conc/e-', Buffer.from(String(i)), CreateMode.EPHEMERAL_SEQUENTIAL);
          assert.match(seq, /^\/conc\/e-\d{10}$/);
          assert.deepEqual((await c.exists(seq))!.ephemeralOwner, c.sessionId);
          return seq;
        }));
        assert.equal(new Set(seqPaths).size, N, 'sequential names are unique across clients');
        for (const p of seqPaths) {
          const n = Number(p.slice('/conc/e-'.length));
          assert.ok(n >= 0 && n < 2 * N, `${p}: counter within the ${2 * N} creates under /conc`);
        }
        let r = await admin.getChildren('/conc');
        assert.equal(r.children.length, 2 * N);
        assert.equal(r.stat.numChildren, 2 * N);

        const closed = await Promise.all(many.map((c) => closeClient(c)));
        assert.equal(closed.filter((x) => x).length, N, 'every client closed its session cleanly');
        r = await admin.getChildren('/conc');
        assert.equal(r.children.length, N, 'the ephemerals left with their sessions');
        assert.ok(r.children.every((n) => n.startsWith('c-')));
        for (let i = 0; i < N; i++) assert.deepEqual((await admin.getData(`/conc/c-${i}`)).data, Buffer.from(`v2-${i}`));
      } finally {
        await Promise.all(many.map((c) => closeClient(c)));
        await closeClient(admin);
      }
    });

    test('a value just under jute.maxbuffer round-trips', { timeout: 30000 }, async () => {
      const c = await client();
      try {
        // The largest request here (create) is 55 bytes + data; the getData
        // reply is 88 bytes + data. Both stay below 1,048,575.
        const big = randomBytes(1_048_000);
        assert.equal(await c.create('/big', big), '/big');
        let got = await c.getData('/big');
        assert.equal(got.stat.dataLength, big.length);
        assert.ok(got.data !== undefined && got.data.equals(big), 'the 1 MB value came back intact');
        const big2 = randomBytes(1_048_000);
        const st = await c.setData('/big', big2, 0);
        assert.equal(st.version, 1);
        got = await c.getData('/big');
        assert.ok(got.data !== undefined && got.data.equals(big2), 'the replaced 1 MB value came back intact');
        // The connection is still healthy.
        assert.ok((await c.exists('/big')) !== null);
      } finally {
        await closeClient(c);
      }
    });
  });
}
