// Test support (not a test file): drive Apache's own command-line client
// (zkCli.sh, the official Java client) by writing commands to its stdin, and
// normalise what it prints so runs against two servers can be compared.
//
// stdout and stderr are merged at the file-descriptor level (sh -c 'exec …
// 2>&1') so lines keep the order the JVM wrote them in ("Created /a" goes
// to stderr, "get" output to stdout).

import fs from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { zkCli } from './apache.js';
import { killOnExit } from './compat-wire.js';

export function isZkCliInstalled(): boolean {
  return fs.existsSync(zkCli) && fs.existsSync('/usr/bin/java');
}

/** One running zkCli.sh connected to host:port. */
export class ZkCli {
  output = '';
  exitCode: number | null = null;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private waiters: (() => void)[] = [];

  constructor(readonly server: string) {
    this.child = spawn('/bin/sh', ['-c', 'exec "$0" -server "$1" 2>&1', zkCli, server], {
      stdio: ['pipe', 'pipe', 'ignore'],
      env: { ...process.env, CLIENT_JVMFLAGS: '-Xmx128m -XX:TieredStopAtLevel=1' },
    });
    killOnExit(this.child);
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (d: string) => {
      this.output += d;
      this.wake();
    });
    this.child.stdin!.on('error', () => {});
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code) => {
        this.exitCode = code ?? -1;
        this.wake();
        resolve();
      });
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Write one command line to the shell. */
  send(line: string): void {
    this.child.stdin!.write(line + '\n');
  }

  /** Wait until the output (from `from` on) matches re; throws after ms with the output so far. */
  async waitFor(re: RegExp, ms: number, from = 0): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = re.exec(this.output.slice(from));
      if (m !== null) return m[0];
      const left = deadline - Date.now();
      if (left <= 0 || this.exitCode !== null) {
        throw new Error(`zkCli (${this.server}): no ${re} within ${ms} ms; output so far:\n${this.output}`);
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 1000));
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }

  /** Send quit, close stdin and wait for the JVM to exit (killed after ms). */
  async quit(ms = 15000): Promise<string> {
    if (this.exitCode === null) {
      this.send('quit');
      this.child.stdin!.end();
    }
    const t = setTimeout(() => this.child.kill('SIGKILL'), ms);
    await this.exited;
    clearTimeout(t);
    return this.output;
  }

  kill(): void {
    if (this.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** Run a whole script (quit appended) and return everything zkCli printed. */
export async function runZkCliScript(server: string, commands: readonly string[], ms = 30000): Promise<string> {
  const cli = new ZkCli(server);
  try {
    for (const c of commands) cli.send(c);
    return await cli.quit(ms);
  } finally {
    cli.kill();
  }
}

/**
 * Normalise zkCli output for comparison between servers:
 *   - drops SLF4J lines, blank lines, "WATCHER::" and the connection-state
 *     events (SyncConnected/Closed with type None), which the event thread
 *     prints at times that race with command output;
 *   - the server's port, ctime/mtime values and session ids (ephemeralOwner,
 *     numbered in order of appearance) are replaced by placeholders;
 *   - children lists ("[b, a]") are sorted (servers return hash order), and so
 *     are the id lines of whoami (a hash set on the server).
 * Watch events for nodes are kept.
 */
export function normalizeZkCliOutput(out: string, port: number): string[] {
  const sessions = new Map<string, string>();
  const lines: string[] = [];
  for (const raw of out.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    if (line.startsWith('SLF4J')) continue;
    if (line === 'WATCHER::') continue;
    if (/^WatchedEvent state:\w+ type:None path:null$/.test(line)) continue;
    let l = line.split(`127.0.0.1:${port}`).join('127.0.0.1:PORT');
    l = l.replace(/^(ctime|mtime) = .*$/, '$1 = <time>');
    const owner = /^ephemeralOwner = (0x[0-9a-f]+)$/.exec(l);
    if (owner !== null && owner[1] !== '0x0') {
      if (!sessions.has(owner[1]!)) sessions.set(owner[1]!, `<session ${sessions.size + 1}>`);
      l = `ephemeralOwner = ${sessions.get(owner[1]!)}`;
    }
    const list = /^\[(.*)\]$/.exec(l);
    if (list !== null) l = `[${list[1] === '' ? '' : list[1]!.split(', ').sort().join(', ')}]`;
    lines.push(l);
  }
  // whoami: "Auth scheme: User" then one "scheme: user" line per id, in hash order.
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== 'Auth scheme: User') continue;
    let j = i + 1;
    while (j < lines.length && /^(ip|digest|sasl|x509|super|world): /.test(lines[j]!)) j++;
    const ids = lines.slice(i + 1, j).sort();
    lines.splice(i + 1, ids.length, ...ids);
  }
  return lines;
}
