// Test support (not a test file): the clients the security tests drive —
// openssl s_client, kazoo (test/support/kazoo_security.py), the Apache Java
// client (test/support/SecureClient.java, compiled at test time), and a
// plain Node TLS socket — each bounded in time and never throwing on a
// refused connection (the refusal is what some tests look for).

import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { spawn } from 'node:child_process';
import { killOnExit } from './compat-wire.js';
import { kazooSkipReason, runPyScenario, supportDir, type PyRun } from './py-scenario.js';
import { opensslBin } from './tls-certs.js';
import { tempDir } from './zoonode.js';

export interface ProcResult { code: number | null; stdout: string; stderr: string; killed: boolean }

/** Runs a program to completion (stdin given, then closed), killed after ms; never rejects. */
export function run(cmd: string, args: string[], ms: number, input = ''): Promise<ProcResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    killOnExit(child);
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.stdin!.on('error', () => {});
    child.stdin!.end(input);
    const timer = setTimeout(() => { killed = true; child.kill('SIGKILL'); }, ms);
    child.on('error', (e) => { stderr += String(e); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr, killed }); });
  });
}

/** openssl s_client to 127.0.0.1:port sending `input`; waits for the server to close (-ign_eof). */
export function sClient(port: number, args: string[], input: string, ms = 15000): Promise<ProcResult> {
  return run(opensslBin, ['s_client', '-connect', `127.0.0.1:${port}`, '-ign_eof', ...args], ms, input);
}

// ---- kazoo --------------------------------------------------------------------------

export const kazooSecurityScript = path.join(supportDir, 'kazoo_security.py');

export function kazooSecuritySkip(): string | null {
  const r = kazooSkipReason(kazooSecurityScript);
  if (r !== null) return r;
  if (!fs.existsSync('/usr/lib/python3/dist-packages/puresasl')) return 'pure-sasl is missing (Debian package python3-pure-sasl)';
  return null;
}

export function kazooSecurity(scenario: string, args: Record<string, unknown>, ms = 45000): Promise<PyRun> {
  return runPyScenario(kazooSecurityScript, [scenario, JSON.stringify({ watchdog: ms / 1000 - 5, ...args })], ms);
}

// ---- the Java client ------------------------------------------------------------------

const java = '/usr/bin/java';
const javac = '/usr/bin/javac';
const javaSource = path.join(supportDir, 'SecureClient.java');
/** The client, and the Netty jars its TLS socket needs (Debian's zookeeper.jar manifest lacks codec and resolver). */
export const javaClientJars = ['zookeeper.jar', 'zookeeper-jute.jar', 'netty-codec.jar', 'netty-resolver.jar', 'netty-handler.jar',
  'netty-transport.jar', 'netty-buffer.jar', 'netty-common.jar', 'slf4j-api.jar'].map((j) => path.join('/usr/share/java', j));

export function javaSkip(): string | null {
  for (const f of [java, javac]) if (!fs.existsSync(f)) return `${f} is missing (Debian package default-jdk-headless)`;
  const missing = javaClientJars.filter((j) => !fs.existsSync(j));
  if (missing.length > 0) return `missing jars: ${missing.join(', ')} (Debian packages libzookeeper-java, libnetty-java)`;
  return null;
}

export interface JavaClient {
  /** Runs SecureClient against connectString with the given -D properties; the JSON steps it printed. */
  run(connectString: string, root: string, props: string[], ms?: number): Promise<{ steps: Map<string, Record<string, unknown>>; out: ProcResult }>;
  remove(): void;
}

export async function compileJavaClient(): Promise<JavaClient> {
  const dir = tempDir('java-secure');
  const cp = [dir, ...javaClientJars].join(':');
  const c = await run(javac, ['-cp', cp, '-d', dir, javaSource], 90000);
  if (c.code !== 0) throw new Error(`javac SecureClient.java failed:\n${c.stderr}`);
  return {
    async run(connectString, root, props, ms = 40000) {
      const out = await run(java, ['-Xmx128m', ...props, '-cp', cp, 'SecureClient', connectString, root], ms);
      const steps = new Map<string, Record<string, unknown>>();
      for (const line of out.stdout.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const s = JSON.parse(line) as Record<string, unknown>;
          steps.set(String(s.step), s);
        } catch { /* not ours */ }
      }
      return { steps, out };
    },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

// ---- Node TLS ---------------------------------------------------------------------------

/** The server certificate a TLS handshake with 127.0.0.1:port presents (its subject), or the error. */
export function peerSubject(port: number, opts: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => {
      const subj = s.getPeerX509Certificate()?.subject ?? '';
      s.destroy();
      resolve(subj);
    });
    s.setTimeout(5000, () => { s.destroy(); resolve('timeout'); });
    s.on('error', (e) => resolve(`error: ${e.message}`));
  });
}
