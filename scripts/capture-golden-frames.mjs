#!/usr/bin/env node
// Records the frames the official Java client (zkCli.sh) and Apache ZooKeeper
// exchange, through a recording TCP proxy on 127.0.0.1, into
// test/fixtures/apache-golden-frames.json. The codec tests decode and
// re-encode these bytes. Usage: node scripts/capture-golden-frames.mjs APACHE_PORT
import net from 'node:net';
import fs from 'node:fs';
import { spawn } from 'node:child_process';

const apachePort = Number(process.argv[2]);
if (!apachePort) { console.error('usage: capture-golden-frames.mjs APACHE_PORT'); process.exit(2); }
const frames = [];
function splitter(dir) {
  let buf = Buffer.alloc(0);
  let first = true;
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 4) {
      const len = buf.readInt32BE(0);
      if (buf.length < 4 + len) break;
      frames.push({ dir, kind: first ? 'connect' : 'frame', hex: buf.subarray(4, 4 + len).toString('hex') });
      first = false;
      buf = buf.subarray(4 + len);
    }
  };
}
const proxy = net.createServer((client) => {
  const upstream = net.connect({ host: '127.0.0.1', port: apachePort });
  const c2s = splitter('request');
  const s2c = splitter('response');
  client.on('data', (d) => { c2s(d); upstream.write(d); });
  upstream.on('data', (d) => { s2c(d); client.write(d); });
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
  client.on('error', () => {}); upstream.on('error', () => {});
});
proxy.listen({ host: '127.0.0.1', port: 0 }, () => {
  const port = proxy.address().port;
  const script = [
    'create /golden hello', 'create -e /golden/eph e', 'create -s /golden/seq- s', 'create /golden/empty',
    'get -s /golden', 'set /golden world', 'set -v 7 /golden x', 'ls -s /golden', 'ls -w /golden',
    'get -w /golden', 'stat -w /golden/none', 'getAcl /golden', 'setAcl /golden world:anyone:cdrwa',
    'sync /golden', 'addauth digest alice:secret', 'whoami', 'getEphemerals /golden',
    'getAllChildrenNumber /golden', 'addWatch -m PERSISTENT_RECURSIVE /golden', 'removewatches /golden -a',
    'delete /golden/empty', 'deleteall /golden', 'quit',
  ].join('\n') + '\n';
  const cli = spawn('/usr/share/zookeeper/bin/zkCli.sh', ['-server', `127.0.0.1:${port}`], { stdio: ['pipe', 'ignore', 'ignore'] });
  cli.stdin.end(script);
  cli.on('exit', () => {
    fs.writeFileSync(new URL('../test/fixtures/apache-golden-frames.json', import.meta.url),
      JSON.stringify({ source: 'zkCli.sh (ZooKeeper 3.8.0 Java client) <-> Apache ZooKeeper 3.8.0 standalone', frames }, null, 1) + '\n');
    console.log(`captured ${frames.length} frames`);
    proxy.close();
  });
});
