// Test support (not a test file): run Apache ZooKeeper 3.8 (Debian package
// `zookeeper`) standalone on 127.0.0.1 with a random port and a temporary
// dataDir, for differential tests. isApacheInstalled() tells whether it can.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../native-free-bench/servers.js';
import { tempDir } from './zoonode.js';

export { freePort };

export const apacheJar = '/usr/share/java/zookeeper.jar';
export const zkCli = '/usr/share/zookeeper/bin/zkCli.sh';

export function isApacheInstalled(): boolean {
  return fs.existsSync(apacheJar) && fs.existsSync('/usr/bin/java');
}

export function fourLetter(port: number, word: string, host = '127.0.0.1', ms = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    let out = '';
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`${word}: no answer in ${ms} ms`)); }, ms);
    s.on('connect', () => s.write(word));
    s.on('data', (d) => { out += d.toString('utf8'); });
    s.on('error', (e) => { clearTimeout(timer); reject(e); });
    s.on('close', () => { clearTimeout(timer); resolve(out); });
  });
}

export interface ApacheServer {
  host: string;
  port: number;
  connectString: string;
  dataDir: string;
  process: ChildProcess;
  /** Everything the JVM wrote to stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * settings are zoo.cfg lines. With a `dataDir` setting the server uses that
 * (existing) directory and leaves it in place on stop(); without one it gets
 * a fresh temporary dataDir, removed on stop().
 */
export interface ApacheOptions {
  /** More JVM -D properties (e.g. -Djava.security.auth.login.config=FILE for SASL). */
  jvmProps?: string[];
  /** More classpath entries (e.g. Netty jars the Debian zookeeper.jar manifest does not name). */
  classpath?: string[];
}

export async function startApache(settings: Record<string, string | number> = {}, opts: ApacheOptions = {}): Promise<ApacheServer> {
  const port = await freePort();
  const dir = tempDir('apache');
  const dataDir = typeof settings.dataDir === 'string' ? settings.dataDir : path.join(dir, 'data');
  if (settings.dataDir === undefined) fs.mkdirSync(dataDir);
  const cfg: Record<string, string | number> = {
    tickTime: 2000,
    dataDir,
    clientPort: port,
    clientPortAddress: '127.0.0.1',
    'admin.enableServer': 'false',
    '4lw.commands.whitelist': '*',
    ...settings,
  };
  const cfgFile = path.join(dir, 'zoo.cfg');
  fs.writeFileSync(cfgFile, Object.entries(cfg).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  // Apache reads these as system properties only. A zoo.cfg line it does not
  // know becomes the property zookeeper.<key> (which is how
  // DigestAuthenticationProvider.superDigest reaches it), but
  // ZooKeeperServerMain reads znode.container.* without the prefix.
  const jvmProps = Object.entries(settings)
    .filter(([k]) => k === 'extendedTypesEnabled' || k.startsWith('znode.container.'))
    .map(([k, v]) => (k.startsWith('znode.container.') ? `-D${k}=${v}` : `-Dzookeeper.${k}=${v}`));
  const child = spawn('/usr/bin/java', [
    '-Xmx512m', '-XX:+UseSerialGC', ...jvmProps, ...(opts.jvmProps ?? []),
    '-cp', [`/etc/zookeeper/conf`, apacheJar, ...(opts.classpath ?? [])].join(':'),
    'org.apache.zookeeper.server.ZooKeeperServerMain', cfgFile,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => { output += d; });
  child.stderr!.on('data', (d) => { output += d; });
  const deadline = Date.now() + 30000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Apache ZooKeeper exited at start:\n${output}`);
    try {
      // ruok answers before the server takes sessions; srvr reports the mode once it does.
      if ((await fourLetter(port, 'srvr', '127.0.0.1', 1000)).includes('Mode: standalone')) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Apache ZooKeeper did not start serving within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    host: '127.0.0.1',
    port,
    connectString: `127.0.0.1:${port}`,
    dataDir,
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
