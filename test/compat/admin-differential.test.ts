// Four-letter words and AdminServer commands side by side with Apache
// ZooKeeper 3.8: the same state (two sessions with ephemerals and watches)
// on both servers, then every word and command compared by shape — the same
// lines with the same keys in the same order, the same JSON keys and types —
// and by value wherever the two servers must agree (counts, paths, zxids,
// session ids mapped between the servers).

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startZoonode, type TestServer } from '../support/zoonode.js';
import { ZkClient } from '../../native-free-bench/zk-client.js';
import { apacheInstalled, startApacheProcess, type ServerProcess } from '../../native-free-bench/servers.js';

function word(port: number, w: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let d = '';
    const t = setTimeout(() => { s.destroy(); reject(new Error(`${w}: no answer`)); }, 5000);
    s.on('connect', () => s.write(w));
    s.on('data', (x) => { d += x; });
    s.on('error', (e) => { clearTimeout(t); reject(e); });
    s.on('close', () => { clearTimeout(t); resolve(d); });
  });
}

interface State { a: ZkClient; b: ZkClient; sessions: Map<string, string> }

/** The same state on a server: two sessions, ephemerals, data and exist watches. */
async function makeState(port: number): Promise<State> {
  const a = await ZkClient.connect('127.0.0.1', port, { timeoutMs: 10000, ping: false });
  const b = await ZkClient.connect('127.0.0.1', port, { timeoutMs: 20000, ping: false });
  await a.create('/w1', Buffer.from('x'));
  await a.create('/w2', Buffer.from('y'));
  await a.create('/e-a', null, 1);
  await b.create('/e-b1', null, 1);
  await b.create('/e-b2', null, 1);
  await a.getData('/w1', true);
  await a.getChildren('/w1', true);
  await b.exists('/w2', true);
  await b.exists('/nope', true);
  await b.getData('/w1', true);
  return { a, b, sessions: new Map([[a.sessionId.toString(16), 'A'], [b.sessionId.toString(16), 'B']]) };
}

/** Replace the state's session ids by names, and volatile numbers by '#'. */
function normalize(text: string, s: State): string {
  let out = text;
  for (const [hex, name] of s.sessions) out = out.split(hex).join(`<${name}>`);
  return out;
}

const shape = (text: string) => text.split('\n').map((l) => l.replace(/\d+/g, '#'));

/** A wchc/wchp report's blocks (a head line and its tab lines), each block's lines and the blocks sorted: both list hash maps. */
const sortBlocks = (t: string) => t.trim().split(/\n(?=\S)/).map((b) => b.split('\n').sort().join('\n')).sort();

describe('four-letter words and AdminServer: zoonode like Apache ZooKeeper 3.8', { skip: apacheInstalled() ? false : 'Apache ZooKeeper is not installed' }, () => {
  let apache: ServerProcess & { adminPort: number | null };
  let zoonode: TestServer;
  let apacheState: State;
  let zoonodeState: State;
  let apacheDir: string;

  before(async () => {
    apacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zoonode-admin-apache-'));
    apache = await startApacheProcess(path.join(apacheDir, 'data'), {}, { adminServer: true });
    zoonode = await startZoonode({
      workers: 2, '4lw.commands.whitelist': '*', 'admin.enableServer': true, 'admin.serverAddress': '127.0.0.1', 'admin.serverPort': 0,
    });
    apacheState = await makeState(apache.port);
    zoonodeState = await makeState(zoonode.port);
  });

  after(async () => {
    for (const s of [apacheState, zoonodeState]) { s?.a.destroy(); s?.b.destroy(); }
    await zoonode?.stop();
    await apache?.stop();
    fs.rmSync(apacheDir, { recursive: true, force: true });
  });

  test('ruok, isro, gtmk answer the same text', async () => {
    for (const w of ['ruok', 'isro', 'gtmk']) assert.equal(await word(zoonode.port, w), await word(apache.port, w), w);
  });

  test('srvr and stat: the same lines in the same order, the same zxid and node count', async () => {
    for (const w of ['srvr', 'stat']) {
      const z = (await word(zoonode.port, w)).split('\n');
      const a = (await word(apache.port, w)).split('\n');
      const key = (l: string) => l.split(/[:[]/)[0];
      assert.deepEqual(z.filter((l) => !l.startsWith(' /')).map(key), a.filter((l) => !l.startsWith(' /')).map(key), w);
      for (const k of ['Zxid: ', 'Node count: ', 'Mode: ', 'Connections: ', 'Outstanding: ']) {
        assert.equal(z.find((l) => l.startsWith(k)), a.find((l) => l.startsWith(k)), `${w}: ${k}`);
      }
      assert.match(z[0]!, /^Zookeeper version: 3\.\d+\.\d+-\S+, built on /);
      assert.match(z.find((l) => l.startsWith('Latency'))!, /^Latency min\/avg\/max: \d+\/\d+(\.\d+)?\/\d+$/);
    }
  });

  test('cons: every established connection line has Apache\'s fields in order', async () => {
    const fieldsOf = (l: string) => (/\((.*)\)/.exec(l)?.[1] ?? '').split(',').map((kv) => kv.split('=')[0]);
    const z = (await word(zoonode.port, 'cons')).split('\n').filter((l) => l.includes('sid='));
    const a = (await word(apache.port, 'cons')).split('\n').filter((l) => l.includes('sid='));
    assert.equal(z.length, 2);
    assert.deepEqual(z.map(fieldsOf), a.map(fieldsOf));
    for (const l of z) assert.match(l, /^ \/127\.0\.0\.1:\d+\[[01]\]\(queued=\d+,recved=\d+,sent=\d+,sid=0x[0-9a-f]+,lop=[A-Z]+,est=\d+,to=\d+,lcxid=0x[0-9a-f]+,lzxid=0x[0-9a-f]+,lresp=\d+,llat=\d+,minlat=\d+,avglat=\d+,maxlat=\d+\)$/);
  });

  test('wchs, wchc, wchp: the same watches (data watches only, as Apache reports them)', async () => {
    assert.equal(await word(zoonode.port, 'wchs'), await word(apache.port, 'wchs'));
    for (const w of ['wchc', 'wchp']) {
      assert.deepEqual(sortBlocks(normalize(await word(zoonode.port, w), zoonodeState)),
        sortBlocks(normalize(await word(apache.port, w), apacheState)), w);
    }
  });

  test('wchs, wchc: a connection whose watches have all fired still counts as watching (Apache keeps its entry until it closes)', async () => {
    const afterFiring = async (port: number, s: State) => {
      const c = await ZkClient.connect('127.0.0.1', port, { timeoutMs: 10000, ping: false });
      try {
        const fired = new Promise((resolve) => c.once('event', resolve));
        await c.getData('/w2', true);
        await s.a.setData('/w2', Buffer.from('y2'));
        await fired;
        const named: State = { ...s, sessions: new Map([...s.sessions, [c.sessionId.toString(16), 'C']]) };
        return { wchs: await word(port, 'wchs'), wchc: sortBlocks(normalize(await word(port, 'wchc'), named)) };
      } finally {
        await c.close();
      }
    };
    const a = await afterFiring(apache.port, apacheState);
    const z = await afterFiring(zoonode.port, zoonodeState);
    assert.ok(a.wchc.includes('0x<C>'), `Apache lists the connection with no paths: ${JSON.stringify(a.wchc)}`);
    assert.deepEqual(z, a);
  });

  test('dump: the same sections, session sets and ephemerals', async () => {
    const z = normalize(await word(zoonode.port, 'dump'), zoonodeState);
    const a = normalize(await word(apache.port, 'dump'), apacheState);
    const section = (t: string, from: string, to: string) => t.slice(t.indexOf(from), to ? t.indexOf(to) : undefined);
    assert.deepEqual(shape(section(z, 'SessionTracker dump:', 'ephemeral nodes dump:')).slice(0, 2),
      shape(section(a, 'SessionTracker dump:', 'ephemeral nodes dump:')).slice(0, 2));
    const eph = (t: string) => {
      const bySession: Record<string, string[]> = {};
      let current = '';
      for (const line of section(t, 'ephemeral nodes dump:', 'Connections dump:').split('\n')) {
        if (line.startsWith('0x')) bySession[current = line] = [];
        else if (line.startsWith('\t')) bySession[current]!.push(line.trim());
      }
      return bySession;
    };
    // Each session's paths in the order of Apache's HashSet.
    assert.deepEqual(eph(z), eph(a));
    assert.match(z, /Connections dump:\nConnections Sets \(\d+\)\/\(\d+\):\n/);
    assert.match(z, /\d+ expire at \w{3} \w{3} \d\d \d\d:\d\d:\d\d UTC \d{4}:\n\t0x<A>\n/);
  });

  test('dump: a session whose ephemerals were all deleted is still listed, with no paths (Apache keeps its set until it closes)', async () => {
    const emptied = async (port: number, s: State) => {
      const c = await ZkClient.connect('127.0.0.1', port, { timeoutMs: 10000, ping: false });
      try {
        await c.create('/e-c', null, 1);
        await c.delete('/e-c');
        const named: State = { ...s, sessions: new Map([...s.sessions, [c.sessionId.toString(16), 'C']]) };
        const t = normalize(await word(port, 'dump'), named);
        return t.slice(t.indexOf('ephemeral nodes dump:'), t.indexOf('Connections dump:')).split('\n').filter((l) => !l.startsWith('0x<A>') && !l.startsWith('0x<B>') && !l.startsWith('\t'));
      } finally {
        await c.close();
      }
    };
    const a = await emptied(apache.port, apacheState);
    assert.deepEqual(a, ['ephemeral nodes dump:', 'Sessions with Ephemerals (3):', '0x<C>:', ''], 'Apache lists C with no paths');
    assert.deepEqual(await emptied(zoonode.port, zoonodeState), a);
  });

  test('conf and dirs: the same keys in the same order', async () => {
    for (const w of ['conf', 'dirs']) {
      const keys = (t: string) => t.trim().split('\n').map((l) => l.split(/[=:]/)[0]);
      assert.deepEqual(keys(await word(zoonode.port, w)), keys(await word(apache.port, w)), w);
    }
  });

  test('envi: kazoo-style parsing finds a 3.x zookeeper.version in one 8 KiB read', async () => {
    const z = await word(zoonode.port, 'envi');
    assert.ok(Buffer.byteLength(z) < 8192);
    assert.match(z, /^Environment:\n/);
    const version = /^zookeeper\.version=(\d+)\.(\d+)\.(\d+)-/m.exec(z);
    assert.ok(version && version[1] === '3', z);
  });

  test('mntr: Apache\'s leading keys in Apache\'s order, tab separated, with agreeing values', async () => {
    const parse = (t: string) => t.trim().split('\n').map((l) => l.split('\t') as [string, string]);
    const z = parse(await word(zoonode.port, 'mntr'));
    const a = parse(await word(apache.port, 'mntr'));
    const apacheKeys = a.map(([k]) => k);
    const zKeys = z.map(([k]) => k).filter((k) => apacheKeys.includes(k));
    assert.deepEqual(zKeys.slice(0, 20), apacheKeys.filter((k) => zKeys.includes(k)).slice(0, 20), 'same order');
    for (const k of ['zk_server_state', 'zk_ephemerals_count', 'zk_znode_count', 'zk_global_sessions', 'zk_watch_count', 'zk_approximate_data_size']) {
      assert.equal(z.find(([x]) => x === k)?.[1], a.find(([x]) => x === k)?.[1], k);
    }
  });

  test('crst and srst: the same confirmations; a word outside the whitelist is refused as Apache refuses it', async () => {
    for (const w of ['crst', 'srst']) assert.equal(await word(zoonode.port, w), await word(apache.port, w), w);
    const narrow = await startZoonode({ workers: 0, '4lw.commands.whitelist': 'ruok' });
    try {
      assert.equal(await word(narrow.port, 'srvr'), 'srvr is not executed because it is not in the whitelist.\n');
      assert.equal(await word(narrow.port, 'ruok'), 'imok');
    } finally {
      await narrow.stop();
    }
  });

  test('every AdminServer command answers with Apache\'s keys; unknown is a 200 error; POST is 405', async () => {
    const names = ['configuration', 'connections', 'dirs', 'dump', 'hash', 'get_trace_mask', 'initial_configuration',
      'is_read_only', 'last_snapshot', 'leader', 'monitor', 'observers', 'ruok', 'server_stats', 'stats', 'voting_view',
      'watches', 'watches_by_path', 'watch_summary', 'zabstate', 'no_such_command'];
    const get = async (port: number, n: string) => {
      const r = await fetch(`http://127.0.0.1:${port}/commands/${n}`);
      assert.equal(r.status, 200, n);
      return JSON.parse(await r.text()) as Record<string, unknown>;
    };
    const keyShape = (o: unknown): unknown => {
      if (Array.isArray(o)) return o.length === 0 ? [] : [keyShape(o[0])];
      if (o !== null && typeof o === 'object') return Object.fromEntries(Object.keys(o).sort().map((k) => [/^\d+$|^\//.test(k) ? '<key>' : k, keyShape((o as Record<string, unknown>)[k])]));
      return typeof o;
    };
    for (const n of names) {
      const z = await get(zoonode.server.adminPort!, n);
      const a = await get(apache.adminPort!, n);
      if (n === 'monitor') {
        for (const k of ['server_state', 'znode_count', 'watch_count', 'ephemerals_count', 'num_alive_connections', 'packets_received']) assert.ok(k in z, `monitor.${k}`);
        continue;
      }
      assert.deepEqual(keyShape(z), keyShape(a), n);
    }
    const summary = async (port: number) => {
      const w = await get(port, 'watch_summary');
      return [w.num_connections, w.num_paths, w.num_total_watches] as number[];
    };
    const ws = await summary(apache.adminPort!);
    assert.ok(ws[0] === 2 && ws[2] > 0, `Apache's watch_summary: ${JSON.stringify(ws)}`);
    assert.deepEqual(await summary(zoonode.server.adminPort!), ws);
    const aliases = ['conf', 'config', 'cons', 'crst', 'env', 'envi', 'gtmk', 'icfg', 'isro', 'lsnp', 'lead', 'mntr', 'orst', 'obsr', 'srvr', 'stmk', 'srst', 'stat', 'sysp', 'wchs', 'wchc', 'wchp'];
    for (const n of aliases) {
      const z = await get(zoonode.server.adminPort!, n);
      assert.ok(!String(z.error ?? '').startsWith('Unknown command'), `${n} is known`);
    }
    const post = await fetch(`http://127.0.0.1:${zoonode.server.adminPort}/commands/ruok`, { method: 'POST' });
    assert.equal(post.status, 405);
    const list = await (await fetch(`http://127.0.0.1:${zoonode.server.adminPort}/commands`)).text();
    assert.ok(list.includes('<a href="/commands/watch_summary">watch_summary</a>'));
  });

  test('cons through a session\'s life: new, reattached, answered, after crst; the four-letter word\'s own line', async () => {
    // Each step's cons line for the session and for the cons connection
    // itself, with ports, session ids, times and latencies replaced.
    const steps = async (port: number): Promise<string[]> => {
      const lines: string[] = [];
      const c = await ZkClient.connect('127.0.0.1', port, { timeoutMs: 20000, ping: false });
      const sidHex = c.sessionId.toString(16);
      const look = async (what: string, localPort: number) => {
        const text = await word(port, 'cons');
        const mine = text.split('\n').find((l) => l.startsWith(` /127.0.0.1:${localPort}[`));
        const wordLine = text.split('\n').find((l) => !l.includes('sid=') && l.startsWith(' /'));
        const norm = (l: string | undefined) => (l ?? '(missing)').replace(/^ \/127\.0\.0\.1:\d+/, ' /addr').split(sidHex).join('<sid>')
          .replace(/(est|lresp|llat|minlat|avglat|maxlat)=\d+/g, '$1=#');
        lines.push(`${what}: ${norm(mine)}`, `${what}, cons itself: ${norm(wordLine)}`);
      };
      await look('new session', c.localPort!);
      const { sessionId, passwd } = c;
      c.destroy();
      const r = await ZkClient.connect('127.0.0.1', port, { timeoutMs: 20000, ping: false, sessionId, passwd });
      try {
        assert.equal(r.sessionId, sessionId);
        await look('reattached', r.localPort!);
        await r.getData('/w1');
        await look('after a getData', r.localPort!);
        await word(port, 'crst');
        await look('after crst', r.localPort!);
      } finally {
        r.destroy();
      }
      return lines;
    };
    const a = await steps(apache.port);
    const z = await steps(zoonode.port);
    assert.deepEqual(z, a);
    // What Apache shows, spelled out: the ConnectRequest is a packet received
    // and a new session's answer is its createSession (SESS, cxid 0); a
    // reattached session shows Java's defaults until its first answer; crst
    // drops lcxid (it is -1); the cons connection has received its word.
    assert.match(a[0]!, /recved=1,sent=1,sid=0x<sid>,lop=SESS,.*lcxid=0x0,/);
    assert.match(a[1]!, /\[0\]\(queued=0,recved=1,sent=0\)$/);
    assert.match(a[2]!, /lop=null,.*lcxid=0x0,lzxid=0x0,/);
    assert.match(a[6]!, /recved=0,sent=0,.*lop=NA,.*to=20000,lzxid=0xffffffffffffffff,/);
  });

  test('session ids in AdminServer JSON are exact 64-bit numbers', async () => {
    const text = await (await fetch(`http://127.0.0.1:${zoonode.server.adminPort}/commands/watches`)).text();
    const ids = [...text.matchAll(/"(-?\d+)" :/g)].map((m) => BigInt(m[1]!));
    const want = [zoonodeState.a.sessionId, zoonodeState.b.sessionId].sort();
    assert.deepEqual(ids.sort(), want);
  });
});

// Per-namespace quota figures in mntr (Apache 3.8's quota_*_per_namespace
// gauge sets and quota_exceeded_error_per_namespace counter set), on a fresh
// server of each kind with enforceQuota=true, and in zoonode's /metrics.
// Apache's read_per_namespace and write_per_namespace summary sets (request
// sizes per namespace) are not reported by zoonode and are left out here.
describe('mntr per-namespace quota metrics: zoonode like Apache ZooKeeper 3.8', { skip: apacheInstalled() ? false : 'Apache ZooKeeper is not installed' }, () => {
  let apache: ServerProcess & { adminPort: number | null };
  let zoonode: TestServer;
  let apacheDir: string;

  before(async () => {
    apacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zoonode-quota-apache-'));
    apache = await startApacheProcess(path.join(apacheDir, 'data'), { enforceQuota: 'true' });
    zoonode = await startZoonode({
      workers: 1, enforceQuota: true, '4lw.commands.whitelist': '*', 'metricsProvider.httpHost': '127.0.0.1', 'metricsProvider.httpPort': 0,
    });
  });

  after(async () => {
    await zoonode?.stop();
    await apache?.stop();
    fs.rmSync(apacheDir, { recursive: true, force: true });
  });

  /** Quotas made as zkCli's setquota makes them (and some odd ones), writes under them, then mntr's quota rows before and after srst. */
  async function scenario(port: number): Promise<string[]> {
    const out: string[] = [];
    const quotaRows = async () => (await word(port, 'mntr')).split('\n')
      .filter((l) => l.includes('_per_namespace') && !/_(read|write)_per_namespace\t/.test(l)).sort();
    const c = await ZkClient.connect('127.0.0.1', port, { timeoutMs: 20000, ping: false });
    try {
      out.push(`before any quota: ${JSON.stringify(await quotaRows())}`);
      const make = async (p: string, d: string | null) => {
        try {
          await c.create(p, d === null ? null : Buffer.from(d));
          return 'ok';
        } catch (e) {
          return (e as Error).message;
        }
      };
      const steps: [string, string | null][] = [
        ['/qt', ''], ['/qt/x', '12345'], ['/zookeeper/quota/qt', null],
        ['/zookeeper/quota/qt/zookeeper_limits', 'count=3,bytes=10'], ['/zookeeper/quota/qt/zookeeper_stats', 'count=2,bytes=5'],
        ['/a', ''], ['/a/b', 'xx'], ['/zookeeper/quota/a', null], ['/zookeeper/quota/a/b', null],
        ['/zookeeper/quota/a/b/zookeeper_limits', 'count=-1,bytes=-1,countHardLimit=2,byteHardLimit=-1'],
        ['/zookeeper/quota/a/b/zookeeper_stats', 'count=1,bytes=2'],
        ['/a/c', 'x'], ['/zookeeper/quota/a/c', null],
        ['/zookeeper/quota/a/c/zookeeper_limits', 'count=7,bytes=100'], ['/zookeeper/quota/a/c/zookeeper_stats', 'count=1,bytes=1'],
        ['/zookeeper/quota/nodata', null], ['/zookeeper/quota/nodata/zookeeper_limits', null],
        ['/zookeeper/quota/empty', null], ['/zookeeper/quota/empty/zookeeper_limits', ''],
        ['/a/b/1', ''], ['/a/b/2', ''], ['/a/b/3', 'x'], ['/qt/y', '0123456789'],
      ];
      for (const [p, d] of steps) out.push(`create ${p}: ${await make(p, d)}`);
      out.push(...await quotaRows());
      await word(port, 'srst');
      out.push('after srst:', ...await quotaRows());
    } finally {
      c.destroy();
    }
    return out;
  }

  test('the same quota rows, values included, before and after srst', async () => {
    const a = await scenario(apache.port);
    const z = await scenario(zoonode.port);
    assert.deepEqual(z, a);
    // What Apache reports, spelled out: limits are the hard limit when set;
    // namespaces sum; null data is skipped, empty data counts -1; two writes
    // refused by the hard count limit; srst zeroes that counter, keeping it.
    for (const row of ['zk_a_quota_count_limit_per_namespace\t9', 'zk_a_quota_bytes_limit_per_namespace\t99',
      'zk_qt_quota_bytes_usage_per_namespace\t15', 'zk_empty_quota_count_limit_per_namespace\t-1',
      'zk_a_quota_exceeded_error_per_namespace\t2', 'zk_a_quota_exceeded_error_per_namespace\t0']) {
      assert.ok(a.includes(row), `Apache reports ${JSON.stringify(row)}`);
    }
    assert.ok(!a.some((l) => l.startsWith('zk_nodata_')), 'a limits node with null data is skipped');
  });

  test('/metrics carries them as Apache\'s Prometheus provider does, labelled by key', async () => {
    const text = await (await fetch(`http://127.0.0.1:${zoonode.server.metricsPort}/metrics`)).text();
    assert.match(text, /^# TYPE quota_count_limit_per_namespace gauge$/m);
    assert.match(text, /^quota_count_limit_per_namespace\{key="qt",\} 3\.0$/m);
    assert.match(text, /^quota_bytes_usage_per_namespace\{key="a",\} 3\.0$/m);
    assert.match(text, /^# TYPE quota_exceeded_error_per_namespace counter$/m);
    assert.match(text, /^quota_exceeded_error_per_namespace\{key="a",\} 0\.0$/m);
  });
});
