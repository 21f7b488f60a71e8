// What an operator uses, over real sockets in both thread layouts: every
// four-letter word, the default whitelist, maxClientCnxns per IP, the
// connection throttle, and the Prometheus endpoint.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import v8 from 'node:v8';
import { startZoonode } from '../support/zoonode.js';
import { ZkClient } from '../../native-free-bench/zk-client.js';
import { fourLetterWords } from '../../src/io/four-letter.js';

function word(port: number, w: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let d = '';
    const t = setTimeout(() => { s.destroy(); reject(new Error(`${w}: no answer in 5 s`)); }, 5000);
    s.on('connect', () => s.write(w));
    s.on('data', (x) => { d += x; });
    s.on('error', (e) => { clearTimeout(t); reject(e); });
    s.on('close', () => { clearTimeout(t); resolve(d); });
  });
}

/** Resolves true if the server closes the connection without answering the handshake. */
async function refused(port: number): Promise<boolean> {
  try {
    const c = await ZkClient.connect('127.0.0.1', port, { connectTimeoutMs: 3000, ping: false });
    c.destroy();
    return false;
  } catch (e) {
    if (/closed during handshake|ECONNRESET/.test((e as Error).message)) return true;
    throw e;
  }
}

for (const workers of [0, 2]) {
  describe(`operations (workers=${workers})`, () => {
    test('all 18 four-letter words answer; crst resets connection counters; stmk sets the trace mask', async () => {
      const z = await startZoonode({ workers, '4lw.commands.whitelist': '*' });
      try {
        const c = await ZkClient.connect(z.host, z.port, { ping: false });
        await c.create('/ops', Buffer.from('x'));
        await c.getData('/ops', true);
        const expect: Record<string, RegExp> = {
          ruok: /^imok$/, isro: /^rw$/, gtmk: /^306$/, hash: /^$/,
          conf: /^clientPort=\d+\nsecureClientPort=-1\ndataDir=/, cons: /recved=\d+,sent=\d+,sid=0x/,
          crst: /^Connection stats reset\.\n$/, srst: /^Server stats reset\.\n$/, dirs: /^datadir_size: \d+\nlogdir_size: \d+\n$/,
          dump: /^SessionTracker dump:\nSession Sets \(1\)\/\(1\):/, envi: /^Environment:\nzookeeper\.version=3\./,
          srvr: /\nNode count: 6\n$/, stat: /^Zookeeper version: .*\nClients:\n/, wchs: /^1 connections watching 1 paths\nTotal watches:1\n$/,
          wchc: /^0x[0-9a-f]+\n\t\/ops\n\n$/, wchp: /^\/ops\n\t0x[0-9a-f]+\n\n$/, mntr: /^zk_version\t3\.\d+\.\d+-zoonode-/, stmk: /^$/,
        };
        for (const w of fourLetterWords) assert.match(await word(z.port, w), expect[w]!, w);
        assert.match(await word(z.port, 'cons'), /recved=0,sent=0,sid=0x/, 'crst reset the counters');
        const mask = Buffer.alloc(12);
        mask.write('stmk');
        mask.writeBigInt64BE(250n, 4);
        assert.equal(await word(z.port, mask), '250');
        assert.equal(await word(z.port, 'gtmk'), '250');
        await c.close();
      } finally {
        await z.stop();
      }
    });

    test('the default whitelist serves the cheap words and refuses the costly ones, as Apache words it', async () => {
      const z = await startZoonode({ workers });
      try {
        for (const w of ['ruok', 'srvr', 'stat', 'mntr', 'conf', 'isro', 'envi', 'dirs', 'wchs']) {
          assert.doesNotMatch(await word(z.port, w), /not in the whitelist/, w);
        }
        for (const w of ['wchc', 'wchp', 'dump', 'cons']) {
          assert.equal(await word(z.port, w), `${w} is not executed because it is not in the whitelist.\n`);
        }
      } finally {
        await z.stop();
      }
    });

    test('maxClientCnxns caps connections per client IP across workers; rejections are counted', async () => {
      const z = await startZoonode({ workers, maxClientCnxns: 3 });
      try {
        const clients = [];
        for (let i = 0; i < 3; i++) clients.push(await ZkClient.connect(z.host, z.port, { ping: false }));
        assert.equal(await refused(z.port), true, 'the 4th connection from 127.0.0.1 is refused');
        clients.pop()!.destroy();
        await clients[0]!.sync('/');
        let back: ZkClient | null = null;
        for (let i = 0; i < 100 && back === null; i++) {
          try { back = await ZkClient.connect(z.host, z.port, { ping: false }); } catch { await new Promise((r) => setTimeout(r, 20)); }
        }
        assert.ok(back, 'a slot frees when a connection closes');
        back.destroy();
        for (const c of clients) c.destroy();
        // A four-letter-word connection counts too (as in Apache): ask once the others have gone.
        let mntr = '';
        for (let i = 0; i < 100 && !mntr.startsWith('zk_version'); i++) {
          mntr = await word(z.port, 'mntr').catch(() => '');
          if (!mntr.startsWith('zk_version')) await new Promise((r) => setTimeout(r, 20));
        }
        assert.match(mntr, /zk_connection_rejected\t[1-9]/);
      } finally {
        await z.stop();
      }
    });

    test('the connection throttle refuses connections beyond its tokens', async () => {
      const z = await startZoonode({ workers, connection_throttle_tokens: 2, connection_throttle_fill_time: 600000 });
      try {
        const a = await ZkClient.connect(z.host, z.port, { ping: false });
        const b = await ZkClient.connect(z.host, z.port, { ping: false });
        assert.equal(await refused(z.port), true);
        assert.match(await word(z.port, 'mntr'), /zk_connection_rejected\t1\n/);
        a.destroy();
        b.destroy();
      } finally {
        await z.stop();
      }
    });

    test('/metrics speaks the Prometheus text format with Apache\'s names and zoonode\'s own', async () => {
      const z = await startZoonode({ workers, 'metricsProvider.httpHost': '127.0.0.1', 'metricsProvider.httpPort': 0 });
      try {
        const c = await ZkClient.connect(z.host, z.port, { ping: false });
        await c.create('/m', Buffer.from('data'));
        for (let i = 0; i < 5; i++) await c.getData('/m');
        const r = await fetch(`http://127.0.0.1:${z.server.metricsPort}/metrics`);
        assert.equal(r.status, 200);
        assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
        const text = await r.text();
        for (const re of [/^# TYPE znode_count gauge\nznode_count 6\.0$/m, /^num_alive_connections 1\.0$/m, /^# TYPE fsynctime summary$/m,
          /^fsynctime\{quantile="0\.5",\} \d/m, /^fsynctime_count \d+\.0$/m, /^readlatency_count [5-9]\.0$/m,
          new RegExp(`^zoonode_worker_connections\\{worker="0",\\} ${workers <= 1 ? 1 : '[01]'}\\.0$`, 'm'),
          /^zoonode_event_loop_lag_p99_ms\{thread="sequencer",\} /m, /^zoonode_request_ring_capacity_bytes\{worker="0",\} \d+/m,
          /^# TYPE zoonode_sequencer_young_generation_bytes gauge\nzoonode_sequencer_young_generation_bytes [1-9]/m]) {
          assert.match(text, re);
        }
        for (const line of text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
          assert.match(line, /^[a-z_][a-z0-9_]*(\{([a-z_]+="[^"]*",)*\})? -?\d+(\.\d+)?(E-?\d+)?$/, line);
        }
        assert.equal((await fetch(`http://127.0.0.1:${z.server.metricsPort}/metrics`, { method: 'POST' })).status, 405);
        await c.close();
      } finally {
        await z.stop();
      }
    });
  });
}

test('servers started together in one process each give their own sequencer thread the fixed 64 MiB young generation; workers=0 keeps V8\'s', async () => {
  // The size is a process-wide V8 flag while a sequencer thread is created: starts must not cross.
  const layouts = [1, 2, 0, 1, 2, 1];
  const servers = await Promise.all(layouts.map((workers) => startZoonode({ workers })));
  try {
    for (const [i, z] of servers.entries()) {
      const mntr = await word(z.port, 'mntr');
      const young = Number(/zk_zoonode_sequencer_young_generation_bytes\t(\d+)/.exec(mntr)?.[1]);
      if (layouts[i] === 0) assert.ok(young > 0 && young < 64 * 1048576, `server ${i} (workers=0): young generation ${young} bytes`);
      else assert.equal(young, 64 * 1048576, `server ${i} (workers=${layouts[i]}): young generation ${young} bytes`);
    }
  } finally {
    await Promise.all(servers.map((z) => z.stop()));
  }
});

test('a server that stops leaves the semi-space flag alone, so a sequencer being created meanwhile in the process keeps its size', async () => {
  const z = await startZoonode({ workers: 1 });
  const flags: string[] = [];
  const set = v8.setFlagsFromString;
  v8.setFlagsFromString = (f: string) => { flags.push(f); set(f); };
  try {
    await z.stop();
  } finally {
    v8.setFlagsFromString = set;
  }
  assert.deepEqual(flags.filter((f) => f.includes('semi-space')), [], 'semi-space flags set while the server stopped');
});

test('heapMaxMb sets the heap ceiling of the thread that holds the tree; mntr reports it and the heap in use', async () => {
  const z = await startZoonode({ workers: 1, heapMaxMb: 1536 });
  try {
    const mntr = await word(z.port, 'mntr');
    const limit = Number(/zk_zoonode_sequencer_heap_limit_bytes\t(\d+)/.exec(mntr)?.[1]);
    const used = Number(/zk_zoonode_sequencer_heap_used_bytes\t(\d+)/.exec(mntr)?.[1]);
    // V8's ceiling is the old generation asked for plus its young generation.
    assert.ok(limit >= 1536 * 1048576 && limit < 1800 * 1048576, `heap ceiling ${limit} bytes for heapMaxMb=1536`);
    assert.ok(used > 0 && used < limit, `heap in use ${used} bytes`);
  } finally {
    await z.stop();
  }
});
