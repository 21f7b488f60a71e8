// Test support (not a test file): drive Apache's C client shell cli_mt
// (Debian zookeeper-bin) one command at a time. cli_mt writes its results to
// stderr (unbuffered) as the asynchronous completions arrive, so each command
// waits for the output that completes it before the next is sent.

import fs from 'node:fs';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export const cliMtPath = '/usr/lib/zookeeper/bin/cli_mt';

export function cliMtMissing(): string | null {
  try {
    fs.accessSync(cliMtPath, fs.constants.X_OK);
    return null;
  } catch {
    return `${cliMtPath} is not installed (Debian package zookeeper-bin)`;
  }
}

export function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The fields dumpStat() prints (numbers are printed in hex). */
export interface CliStat {
  czxid: bigint;
  mzxid: bigint;
  version: number;
  aversion: number;
  ephemeralOwner: string;
}

/** A regex source matching dumpStat()'s output, capturing czxid, mzxid, version, aversion, ephemeralOwner. */
const statRe = '\\tctime = [^\\n]*\\n\\tczxid=([0-9a-f]+)\\n\\tmtime=[^\\n]*\\n\\tmzxid=([0-9a-f]+)\\n' +
  '\\tversion=([0-9a-f]+)\\taversion=([0-9a-f]+)\\n\\tephemeralOwner = ([0-9a-f]+)\\n';

function statFrom(m: RegExpMatchArray, at: number): CliStat | null {
  if (m[at] === undefined) return null;
  return {
    czxid: BigInt('0x' + m[at]),
    mzxid: BigInt('0x' + m[at + 1]),
    version: parseInt(m[at + 2]!, 16),
    aversion: parseInt(m[at + 3]!, 16),
    ephemeralOwner: m[at + 4]!,
  };
}

export class CliMt {
  /** stdout and stderr as they arrived (results are on stderr). */
  output = '';
  exitCode: number | null = null;
  exited: Promise<number | null>;
  private readonly listeners = new Set<() => void>();

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    const onData = (d: Buffer) => {
      this.output += d.toString('latin1');
      for (const l of [...this.listeners]) l();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.stdin.on('error', () => {});
    this.exited = new Promise((resolve) => {
      child.on('close', (code) => {
        this.exitCode = code;
        for (const l of [...this.listeners]) l();
        resolve(code);
      });
      child.on('error', (e) => {
        this.output += `\n[spawn error: ${e.message}]\n`;
        resolve(null);
      });
    });
  }

  static start(hostPort: string): CliMt {
    const child = spawn(cliMtPath, [hostPort], { stdio: ['pipe', 'pipe', 'pipe'] });
    return new CliMt(child);
  }

  /** Waits until `re` matches the output after `from`; rejects after ms with the output so far. */
  waitFor(re: RegExp, from = 0, ms = 5000): Promise<RegExpMatchArray & { end: number }> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const m = this.output.slice(from).match(re);
        if (m !== null) {
          finish();
          resolve(Object.assign(m, { end: from + m.index! + m[0].length }));
          return true;
        }
        if (this.exitCode !== null) {
          finish();
          reject(new Error(`cli_mt exited (code ${this.exitCode}) before ${re} appeared; output after the command:\n${this.output.slice(from)}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${ms} ms waiting for ${re} from cli_mt; output after the command:\n${this.output.slice(from)}`));
      }, ms);
      const listener = () => { check(); };
      const finish = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      this.listeners.add(listener);
      check();
    });
  }

  /** Sends one line and waits for `until`; returns the match and the output the command produced. */
  async command(line: string, until: RegExp, ms = 5000): Promise<{ m: RegExpMatchArray; text: string }> {
    const from = this.output.length;
    this.child.stdin.write(line + '\n');
    const m = await this.waitFor(until, from, ms);
    return { m, text: this.output.slice(from, m.end) };
  }

  /** Waits for the session; returns its id in hex (as cli_mt prints it). */
  async connected(ms = 10000): Promise<string> {
    const m = await this.waitFor(/Got a new session id: 0x([0-9a-f]+)\n/, 0, ms);
    return m[1]!;
  }

  /** create [+e|+s|+es] path: resolves { rc, name }. */
  async create(pathAndFlags: string): Promise<{ rc: number; name: string | null; text: string }> {
    const path = pathAndFlags.replace(/^\+[es]+ /, '');
    const re = new RegExp(`\\[${escapeRe(path)}\\]: rc = (?:0\\n\\tname = ([^\\n]*)\\n|(-\\d+)\\n)`);
    const { m, text } = await this.command(`create ${pathAndFlags}`, re);
    return m[2] !== undefined ? { rc: Number(m[2]), name: null, text } : { rc: 0, name: m[1]!, text };
  }

  /** create2 path: resolves { rc, name, stat }. */
  async create2(path: string): Promise<{ rc: number; name: string | null; stat: CliStat | null; text: string }> {
    const re = new RegExp(`\\[${escapeRe(path)}\\]: rc = (-?\\d+)\\n(?:\\tname = ([^\\n]*)\\n)?(?:null\\n|${statRe})`);
    const { m, text } = await this.command(`create2 ${path}`, re);
    return { rc: Number(m[1]), name: m[2] ?? null, stat: statFrom(m, 3), text };
  }

  /** get path (sets a data watch): resolves { rc, value, stat }. */
  async get(path: string): Promise<{ rc: number; value: string | null; stat: CliStat | null; text: string }> {
    const re = new RegExp(`(?<=^|\\n)${escapeRe(path)}: rc = (-?\\d+)\\n(?: value_len = (\\d+)\\n)?([\\s\\S]*?)\\nStat:\\n(?:null\\n|${statRe})`);
    const { m, text } = await this.command(`get ${path}`, re);
    const value = m[2] === undefined ? null : m[3]!.slice(0, Number(m[2]));
    return { rc: Number(m[1]), value, stat: statFrom(m, 4), text };
  }

  /** set path data: resolves { rc, stat }. */
  async set(path: string, data: string): Promise<{ rc: number; stat: CliStat | null; text: string }> {
    const re = new RegExp(`(?<=^|\\n)${escapeRe(path)}: rc = (-?\\d+) Stat:\\n(?:null\\n|${statRe})`);
    const { m, text } = await this.command(`set ${path} ${data}`, re);
    return { rc: Number(m[1]), stat: statFrom(m, 2), text };
  }

  /** ls path (sets a child watch): resolves { rc, children }. */
  async ls(path: string): Promise<{ rc: number; children: string[]; text: string }> {
    const re = new RegExp(`(?<=^|\\n)${escapeRe(path)}: rc = (-?\\d+)\\n((?:\\t[^\\n]*\\n)*)time = \\d+ msec\\n`);
    const { m, text } = await this.command(`ls ${path}`, re);
    return { rc: Number(m[1]), children: m[2]!.split('\n').filter((l) => l !== '').map((l) => l.slice(1)), text };
  }

  /** ls2 path: resolves { rc, children, stat }. */
  async ls2(path: string): Promise<{ rc: number; children: string[]; stat: CliStat | null; text: string }> {
    const re = new RegExp(`(?<=^|\\n)${escapeRe(path)}: rc = (-?\\d+)\\n((?:\\t[^\\n]*\\n)*)time = \\d+ msec\\n(?:null\\n|${statRe})`);
    const { m, text } = await this.command(`ls2 ${path}`, re);
    return { rc: Number(m[1]), children: m[2]!.split('\n').filter((l) => l !== '').map((l) => l.slice(1)), stat: statFrom(m, 3), text };
  }

  /** delete path: resolves the rc. */
  async delete(path: string): Promise<{ rc: number; text: string }> {
    const { m, text } = await this.command(`delete ${path}`, new RegExp(`(?<=^|\\n)${escapeRe(path)}: rc = (-?\\d+)\\n`));
    return { rc: Number(m[1]), text };
  }

  /** sync path: resolves the rc. */
  async sync(path: string): Promise<{ rc: number; text: string }> {
    const re = new RegExp(`\\[${escapeRe(path)}\\]: rc = (-?\\d+)\\n(?:\\tname = [^\\n]*\\n)?`);
    const { m, text } = await this.command(`sync ${path}`, re);
    return { rc: Number(m[1]), text };
  }

  /**
   * exists path (synchronous in cli_mt, sets a watch, prints only on error):
   * followed by `sync /` so that its completion is observable. Resolves the rc.
   */
  async exists(path: string): Promise<{ rc: number; text: string }> {
    const from = this.output.length;
    this.child.stdin.write(`exists ${path}\n`);
    await this.sync('/');
    const text = this.output.slice(from);
    const m = text.match(new RegExp(`Error (-?\\d+) for ${escapeRe(path)}\\n`));
    return { rc: m === null ? 0 : Number(m[1]), text };
  }

  /** quit: closes the session; resolves the exit code (or null if it had to be killed). */
  async quit(ms = 5000): Promise<number | null> {
    if (this.exitCode !== null) return this.exitCode;
    this.child.stdin.write('quit\n');
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), ms); });
    const r = await Promise.race([this.exited, t]);
    clearTimeout(timer);
    if (r === 'timeout') {
      this.kill();
      return null;
    }
    return r;
  }

  kill(): void {
    if (this.exitCode === null) this.child.kill('SIGKILL');
  }
}
