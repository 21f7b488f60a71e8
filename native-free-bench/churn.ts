// Memory under churn: each server in turn (Apache ZooKeeper, then zoonode
// at each workers= given) takes rounds of churn-load.ts for the same time,
// with frequent snapshots (snapCount), while its resident memory is
// sampled. Then the clients stop, the dropped sessions expire, and the
// server's counts must be back where they started: a leak shows as memory
// that keeps climbing, or as watches, ephemerals or nodes left behind.
// --tls: the sessions connect over TLS (port unification,
// ssl.clientAuth=want), every other one with a trusted client certificate;
// zoonode only (the certificates are test/support/tls-certs.ts's).
//
//   node dist/native-free-bench/churn.js [--minutes 3] [--workers 0,2] [--sessions 40] [--snap-count 2000] [--tls] [--no-apache]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ZkClient, type ConnectOptions } from './zk-client.js';
import { churnCounts, churnRound, prepareChurn, type ChurnCounts } from './churn-load.js';
import { apacheInstalled, procStat, startApacheProcess, startZoonodeProcess, type ServerProcess } from './servers.js';
import { positiveArg } from './args.js';
import { makeTestCerts, type TestCerts } from '../test/support/tls-certs.js';

interface Opts { minutes: number; workers: string[]; sessions: number; snapCount: number; apache: boolean; sampleSeconds: number; tls: boolean }

function parse(argv: string[]): Opts {
  const o: Opts = { minutes: 3, workers: ['0', '2'], sessions: 40, snapCount: 2000, apache: true, sampleSeconds: 10, tls: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '--minutes': o.minutes = positiveArg(a, argv[++i]); break;
      case '--workers': o.workers = (argv[++i] ?? '').split(',').filter((w) => w !== ''); break;
      case '--sessions': o.sessions = positiveArg(a, argv[++i], true); break;
      case '--snap-count': o.snapCount = positiveArg(a, argv[++i], true); break;
      case '--sample-seconds': o.sampleSeconds = positiveArg(a, argv[++i]); break;
      case '--no-apache': o.apache = false; break;
      case '--tls': o.tls = true; break;
      default: throw new Error(`unknown option ${a}`);
    }
  }
  return o;
}

const timeoutMs = 4000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => (bytes / 1048576).toFixed(0);

interface Row {
  name: string; rounds: number; seconds: number; failures: number; firstFailure: string | null;
  rssStart: number; rssSamples: number[]; rssEnd: number;
  before: ChurnCounts; after: ChurnCounts;
}

async function run(name: string, proc: ServerProcess, o: Opts, connectOptions: (i: number) => ConnectOptions): Promise<Row> {
  const pid = proc.child.pid!;
  const control = await ZkClient.connect('127.0.0.1', proc.port, { timeoutMs: 30000 });
  await prepareChurn(control);
  const before = await churnCounts(proc.port);
  const rssStart = procStat(pid).rssBytes;
  const rssSamples: number[] = [];
  const t0 = Date.now();
  const end = t0 + o.minutes * 60_000;
  let nextSample = t0 + o.sampleSeconds * 1000;
  let rounds = 0;
  let failures = 0;
  let firstFailure: string | null = null;
  while (Date.now() < end) {
    const r = await churnRound(proc.port, control, rounds++, o.sessions, timeoutMs, connectOptions);
    failures += r.connectFailures;
    firstFailure ??= r.firstFailure;
    if (Date.now() >= nextSample) {
      rssSamples.push(procStat(pid).rssBytes);
      nextSample += o.sampleSeconds * 1000;
    }
  }
  const seconds = (Date.now() - t0) / 1000;
  // Every dropped session expires within its timeout plus a tick or two.
  await sleep(timeoutMs * 2 + 2000);
  const after = await churnCounts(proc.port);
  await control.close();
  return { name, rounds, seconds, failures, firstFailure, rssStart, rssSamples, rssEnd: procStat(pid).rssBytes, before, after };
}

function report(rows: Row[], o: Opts): void {
  const out = process.stdout;
  out.write(`churn: ${o.minutes} min per server, ${o.sessions} sessions a round${o.tls ? ' over TLS, every other one with a client certificate' : ''}, ` +
    `snapCount=${o.snapCount}, RSS sampled every ${o.sampleSeconds} s\n`);
  out.write(`${'server'.padEnd(20)}${'rounds'.padStart(8)}${'sessions/s'.padStart(12)}${'RSS MB: start'.padStart(15)}` +
    `${'1st quarter'.padStart(13)}${'last quarter'.padStart(14)}${'max'.padStart(6)}${'end'.padStart(6)}  left behind (watches/ephemerals/znodes/connections)\n`);
  for (const r of rows) {
    const q = Math.max(1, Math.floor(r.rssSamples.length / 4));
    const maxOf = (xs: number[]) => (xs.length === 0 ? 0 : Math.max(...xs));
    const left = (['watches', 'ephemerals', 'znodes', 'connections'] as const).map((k) => `${r.after[k] - r.before[k]}`).join('/');
    out.write(`${r.name.padEnd(20)}${String(r.rounds).padStart(8)}${(r.rounds * o.sessions / r.seconds).toFixed(0).padStart(12)}` +
      `${mb(r.rssStart).padStart(15)}${mb(maxOf(r.rssSamples.slice(0, q))).padStart(13)}${mb(maxOf(r.rssSamples.slice(-q))).padStart(14)}` +
      `${mb(maxOf(r.rssSamples)).padStart(6)}${mb(r.rssEnd).padStart(6)}  ${left}` +
      `${r.failures > 0 ? `; ${r.failures} sessions failed to open (${r.firstFailure})` : ''}\n`);
  }
  out.write('("1st quarter" and "last quarter": the largest sample in each; "left behind": counts after the churn\n' +
    ' and the expiries minus before it; all 0 unless something leaked)\n');
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'zoonode-churn-'));
  const rows: Row[] = [];
  const certs: TestCerts | null = o.tls ? makeTestCerts() : null;
  const settings: Record<string, string | number> = { snapCount: o.snapCount, '4lw.commands.whitelist': '*', maxClientCnxns: 0 };
  let connectOptions = (_i: number): ConnectOptions => ({});
  if (certs !== null) {
    Object.assign(settings, {
      'client.portUnification': 'true', 'ssl.keyStore.location': certs.serverPem, 'ssl.trustStore.location': certs.caPem, 'ssl.clientAuth': 'want',
    });
    const ca = fs.readFileSync(certs.caPem);
    const cert = fs.readFileSync(certs.clientCert);
    const key = fs.readFileSync(certs.clientKey);
    connectOptions = (i) => ({ tls: { ca, checkServerIdentity: () => undefined, ...(i % 2 === 1 ? { cert, key } : {}) } });
  }
  try {
    const plan: { name: string; start: () => Promise<ServerProcess> }[] = [];
    if (o.apache && !o.tls && apacheInstalled()) plan.push({ name: 'apache', start: () => startApacheProcess(path.join(root, 'apache'), settings) });
    for (const w of o.workers) {
      plan.push({ name: `zoonode workers=${w}`, start: () => startZoonodeProcess(path.join(root, `zoonode-w${w}`), { ...settings, workers: w }) });
    }
    for (const p of plan) {
      const proc = await p.start();
      try {
        rows.push(await run(p.name, proc, o, connectOptions));
      } finally {
        await proc.stop().catch(() => undefined);
      }
    }
    report(rows, o);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
    certs?.remove();
  }
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`);
  process.exit(1);
});
