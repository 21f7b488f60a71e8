// Composition root: configuration → shared memory → threads (or one thread,
// inline) → listening. Also the CLI (bin/zoonode.js calls main()).
//
// Threaded mode (workers = N >= 1): one sequencer thread and N I/O worker
// threads, connected by one request ring and one reply ring per worker. A
// thread that dies stops the whole server with a clear message: never a
// half-alive server.
//
// Inline mode (workers = 0): the same IoWorker and Sequencer on this thread,
// the same rings, with same-thread doorbells.

import { Worker, type ResourceLimits } from 'node:worker_threads';
import os from 'node:os';
import v8 from 'node:v8';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { Logger, setThreadTag } from './util/log.js';
import { systemClock } from './util/clock.js';
import {
  buildConfig, describeConfig, loadConfigFile, parseArgs, usage, ConfigError, type CliArgs, type Config, type ConfigLine,
} from './config/index.js';
import { purge, purgeRetainMin, versionDir } from './persistence/index.js';
import { createRingBuffer, RingReader, RingWriter } from './ring/spsc-ring.js';
import { LocalPump } from './ring/doorbell.js';
import { CTRL_BYTES, CTRL_LAST_ZXID_I64, ringCapacityFor } from './ring/layout.js';
import { DirectReplies, IoWorker, outstandingShare } from './io/io-worker.js';
import { parseWhitelist } from './io/four-letter.js';
import { IpLimiter } from './io/ip-limiter.js';
import type { IoSecurity, IoThreadData } from './io/thread.js';
import { logSecurity, prepareSecurity, startCertReload, type PreparedSecurity } from './security/prepare.js';
import {
  AdminHub, ThreadClient, startAdminServer, startMetricsServer,
  type AdminSources, type HttpEndpoint, type ServerInfo, type SequencerSnapshot, type WorkerSnapshot,
  type ConnectionSnapshot, type DumpSnapshot, type WatchesSnapshot,
} from './admin/index.js';
import { SequencerRunner, type SequencerHandles } from './sequencer/runner.js';

const log = new Logger('main');

export const version: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return '0.0.0';
  }
})();

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  readonly workers: number;
  /** The AdminServer's port, or null if admin.enableServer=false. */
  readonly adminPort: number | null;
  /** The Prometheus endpoint's port, or null if no metrics provider is configured. */
  readonly metricsPort: number | null;
  /** The TLS-only secureClientPort, or null if none is configured. */
  readonly securePort: number | null;
  readonly hub: AdminHub;
  /** Resolves once stopped; safe to call more than once. */
  stop(): Promise<void>;
  /** Resolves (never rejects) when the server stops, with the fatal error if one stopped it. */
  readonly done: Promise<Error | null>;
}

function makeHandles(cfg: Config, workerCount: number): SequencerHandles {
  const cap = ringCapacityFor(cfg.juteMaxBuffer);
  const rings = Math.max(1, workerCount);
  return {
    ctrl: new SharedArrayBuffer(CTRL_BYTES),
    requestRings: Array.from({ length: rings }, () => createRingBuffer(cap)),
    replyRings: Array.from({ length: rings }, () => createRingBuffer(cap)),
  };
}

/** Throws ConfigError when the security settings (TLS stores, JAAS file, ...) cannot be used. */
export async function startServer(cfg: Config): Promise<RunningServer> {
  const security = prepareSecurity(cfg);
  logSecurity(security);
  return cfg.workers === 0 ? startInline(cfg, security) : startThreaded(cfg, security);
}

/** What the I/O workers need of the security settings. */
function ioSecurity(p: PreparedSecurity, secureListen: IoSecurity['secureListen']): IoSecurity {
  const s = p.settings;
  return {
    tls: p.material,
    portUnification: s.portUnification && p.material !== null,
    x509SuperUser: s.x509SuperUser,
    answerPings: s.enforceSchemes === null,
    secureListen,
  };
}

/** The per-IP connection table shared by all I/O workers (maxClientCnxns). */
const ipTableSlots = 1 << 16;

/** Prometheus is on when configured as in Apache (the provider class) or when its port is set. */
export function metricsEnabled(cfg: Config): boolean {
  return /Prometheus/i.test(cfg.metricsProviderClassName) || cfg.origin.has('metricsProvider.httpPort');
}

interface Endpoints { admin: HttpEndpoint | null; metrics: HttpEndpoint | null }

/**
 * Starts the AdminServer and /metrics as configured. As in Apache, an
 * endpoint that cannot start (its port is taken, say) is logged and the
 * server runs without it: clients matter more than operators' conveniences.
 */
async function startEndpoints(cfg: Config, hub: AdminHub): Promise<Endpoints> {
  const out: Endpoints = { admin: null, metrics: null };
  if (cfg.adminEnableServer) {
    try {
      out.admin = await startAdminServer(hub, cfg.adminServerAddress, cfg.adminServerPort, cfg.adminCommandURL);
      log.info(`AdminServer on http://${cfg.adminServerAddress}:${out.admin.port}${cfg.adminCommandURL}`);
    } catch (e) {
      log.error(`cannot start the AdminServer on ${cfg.adminServerAddress}:${cfg.adminServerPort} (${(e as Error).message}); ` +
        'running without it (set admin.serverPort, or admin.enableServer=false)');
    }
  }
  if (metricsEnabled(cfg)) {
    try {
      out.metrics = await startMetricsServer(hub, cfg.metricsProviderHttpHost, cfg.metricsProviderHttpPort);
      log.info(`Prometheus metrics on http://${cfg.metricsProviderHttpHost}:${out.metrics.port}/metrics`);
    } catch (e) {
      log.error(`cannot start the metrics endpoint on ${cfg.metricsProviderHttpHost}:${cfg.metricsProviderHttpPort} ` +
        `(${(e as Error).message}); running without it`);
    }
  }
  return out;
}

async function stopEndpoints(e: Endpoints): Promise<void> {
  await e.admin?.close();
  await e.metrics?.close();
}

function serverInfo(cfg: Config): ServerInfo {
  return { config: cfg, zoonodeVersion: version, startedAtMs: Date.now() };
}

async function startInline(cfg: Config, security: PreparedSecurity): Promise<RunningServer> {
  // Inline, the tree lives on the main thread, whose heap ceiling is fixed
  // when node starts.
  const heapLimitMb = v8.getHeapStatistics().heap_size_limit / 1048576;
  if (cfg.heapMaxMb === 0) {
    log.info(`workers=0: the tree is on the main thread, whose heap ceiling is node's ${heapLimitMb.toFixed(0)} MiB ` +
      `(about ${Math.floor((heapLimitMb * 1048576) / 350 / 1e6)} M znodes of 100 B); for a larger tree use workers=1 (heapMaxMb) or node --max-old-space-size`);
  } else if (cfg.heapMaxMb > heapLimitMb) {
    log.warn(`heapMaxMb=${cfg.heapMaxMb} applies to the sequencer thread (workers >= 1); with workers=0 the heap ceiling is ` +
      `node's own ${heapLimitMb.toFixed(0)} MiB: start node with --max-old-space-size=${cfg.heapMaxMb} for a larger tree`);
  }
  const handles = makeHandles(cfg, 0);
  const ctrl64 = new BigInt64Array(handles.ctrl);
  let io: IoWorker | null = null;
  let hub: AdminHub | null = null;
  // Replies leave in the loop turn that produced them (see LocalPump).
  // The sequencer hands replies to the connections directly (DirectReplies),
  // so the reply ring of this layout stays empty.
  const ioPump: LocalPump = new LocalPump((): boolean => replies.drain(), 'microtask');
  const replies = new DirectReplies(() => io!, ioPump);
  const runner = new SequencerRunner(cfg, systemClock, handles, [replies], (drain) => new LocalPump(drain));
  io = new IoWorker(
    {
      index: 0,
      frameSizeMax: cfg.juteMaxBuffer,
      tickMs: cfg.tickTime,
      fourLetter: (word, arg) => hub!.fourLetter(word, arg),
      lastZxid: () => Number(Atomics.load(ctrl64, CTRL_LAST_ZXID_I64)),
      ipLimiter: cfg.maxClientCnxns > 0 ? IpLimiter.create(ipTableSlots, cfg.maxClientCnxns) : null,
      // One thread, one delay monitor: the sequencer's.
      eventLoopLag: () => runner.eventLoopLag(),
      outstandingMax: outstandingShare(cfg.globalOutstandingLimit, cfg.requestThrottleMaxRequests, 1),
      ...ioSecurity(security, null),
    },
    new RingWriter(handles.requestRings[0]!),
    { ring: () => runner.kick() },
    new RingReader(handles.replyRings[0]!),
  );
  const worker = io;
  const sources: AdminSources = {
    sequencer: async () => runner.snapshot(),
    workers: async () => [worker.snapshot()],
    connections: async () => worker.connections(),
    dump: async () => runner.dump(),
    watches: async () => runner.watches(),
    resetConnections: async () => worker.resetConnectionStats(),
    resetServer: async () => { runner.resetStats(); worker.resetStats(); },
  };
  hub = new AdminHub(serverInfo(cfg), sources, parseWhitelist(cfg.fourLetterWordWhitelist));
  const endpoints = await startEndpoints(cfg, hub).catch(async (e: Error) => { await runner.stop(); throw e; });
  io.start();
  runner.start();
  ioPump.start();
  const server = net.createServer({ noDelay: true }, (socket) => worker.accept(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: cfg.clientPortAddress, port: cfg.clientPort }, () => resolve());
  }).catch(async (e: Error) => { await stopEndpoints(endpoints); await runner.stop(); throw e; });
  const addr = server.address() as net.AddressInfo;
  hub.info.config.clientPort = addr.port;
  const sec = security.settings;
  let secureServer: net.Server | null = null;
  if (sec.securePort !== null) {
    const ss = net.createServer({ noDelay: true }, (socket) => worker.acceptSecure(socket));
    secureServer = ss;
    await new Promise<void>((resolve, reject) => {
      ss.once('error', reject);
      ss.listen({ host: sec.secureAddress, port: sec.securePort! }, () => resolve());
    }).catch(async (e: Error) => {
      server.close();
      await stopEndpoints(endpoints); worker.stop(); await runner.stop();
      throw new Error(`secureClientPort ${sec.secureAddress}:${sec.securePort}: ${e.message}`);
    });
  }
  const certWatcher = startCertReload(cfg, security, (m) => worker.reloadTls(m));
  let resolveDone!: (e: Error | null) => void;
  const done = new Promise<Error | null>((r) => { resolveDone = r; });
  let stopping: Promise<void> | null = null;
  return {
    host: addr.address,
    port: addr.port,
    workers: 0,
    adminPort: endpoints.admin?.port ?? null,
    metricsPort: endpoints.metrics?.port ?? null,
    securePort: secureServer === null ? null : (secureServer.address() as net.AddressInfo).port,
    hub,
    done,
    stop() {
      stopping ??= (async () => {
        await stopEndpoints(endpoints);
        certWatcher?.close();
        worker.stop();
        ioPump.stop();
        await runner.stop();
        await new Promise<void>((r) => server.close(() => r()));
        if (secureServer !== null) await new Promise<void>((r) => secureServer!.close(() => r()));
        resolveDone(null);
      })();
      return stopping;
    },
  };
}

const threadStopTimeoutMs = 2000;

/** Waits for p, or ms at most; never keeps the process alive on its own. */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<undefined>((r) => { timer = setTimeout(() => r(undefined), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

interface ThreadMessage {
  type: string; fd?: number; address?: string; port?: number; message?: string; code?: string;
  /** The secureClientPort a worker listens on, if any. */
  secure?: { fd: number; port: number; address: string } | null;
}

/**
 * The sequencer's semi-spaces (its young generation is three times this).
 * On every scavenge V8 walks the list of all old-generation pages, so with a
 * large tree each scavenge stalls the sequencer for a fixed time however
 * little survives: 17-20 ms with 20 M znodes (7 GB) here, profiled with perf
 * in ScavengerCollector::CollectGarbage. V8's own semi-spaces (at most 16 MB,
 * and shrunk to 1 MB by a memory-reducing collection) had that stall every
 * 150-500 ms under reads; 64 MB, held there, makes it a few times rarer.
 */
const sequencerSemiSpaceMb = 64;

/**
 * Spawn the sequencer with its semi-spaces fixed at sequencerSemiSpaceMb.
 * Worker resource limits set only the young generation's upper bound, and
 * V8 reads the lower one from a process-wide flag when an isolate is
 * created, so the flag is set for the sequencer's creation alone (the I/O
 * threads are spawned after it is ready; its snapshot threads later still).
 * An operator's own semi-space flags are left as they are. (Servers started
 * at the same moment in one process may cross: a sequencer can then get
 * V8's sizes, or a thread the pinned ones; either way only a matter of speed
 * and memory.)
 */
function spawnPinningYoungGeneration(spawnIt: () => Worker): Worker {
  if (process.execArgv.some((a) => a.includes('semi-space'))) return spawnIt();
  const restore = () => v8.setFlagsFromString('--min-semi-space-size=0');
  v8.setFlagsFromString(`--min-semi-space-size=${sequencerSemiSpaceMb}`);
  let w: Worker;
  try {
    w = spawnIt();
  } catch (e) {
    restore();
    throw e;
  }
  // Once only: the thread's exit, long after, must not clear a flag another
  // server's sequencer may be being created under.
  const settled = () => {
    w.off('online', settled);
    w.off('exit', settled);
    restore();
  };
  w.once('online', settled);
  w.once('exit', settled);
  return w;
}

/** The tree-holding thread's heap ceiling in MiB (heapMaxMb, or 3/4 of the machine's memory). */
export function heapMaxMbOf(cfg: Config): number {
  return cfg.heapMaxMb > 0 ? cfg.heapMaxMb : Math.floor((os.totalmem() / 1048576) * 0.75);
}

async function startThreaded(cfg: Config, security: PreparedSecurity): Promise<RunningServer> {
  const n = cfg.workers;
  const handles = makeHandles(cfg, n);
  const threads: { name: string; worker: Worker; lingers: boolean; exited: Promise<void> }[] = [];
  const ipTable = new SharedArrayBuffer(ipTableSlots * 8);
  let endpoints: Endpoints = { admin: null, metrics: null };
  let hub: AdminHub | null = null;
  let resolveDone!: (e: Error | null) => void;
  const done = new Promise<Error | null>((r) => { resolveDone = r; });
  let stopping: Promise<void> | null = null;
  let fatal: Error | null = null;
  let started = false;
  let rejectStart: ((e: Error) => void) | null = null;
  let certWatcher: { close(): void } | null = null;

  const onDeath = (name: string, err: Error) => {
    if (stopping !== null) return;
    fatal = new Error(`thread ${name} died: ${err.message}`);
    log.error(`fatal: ${fatal.message}; stopping the server`);
    if (err.stack) log.error(err.stack);
    if (!started && rejectStart !== null) rejectStart(fatal);
    void stop();
  };

  const spawn = (name: string, file: string, data: unknown, resourceLimits?: ResourceLimits): Worker => {
    const w = new Worker(fileURLToPath(new URL(file, import.meta.url)), {
      workerData: data, ...(resourceLimits ? { resourceLimits } : {}),
      // I/O threads open no files of their own but the /dev/null that holds a
      // closed shared listening fd's number (io/thread.ts), which must outlive
      // the thread; Node would close it when the thread exits.
      ...(file === './io/thread.js' ? { trackUnmanagedFds: false } : {}),
    });
    w.on('error', (err) => onDeath(name, err));
    w.on('exit', (code) => {
      if (stopping === null) onDeath(name, new Error(`exited with code ${code}`));
    });
    const exited = new Promise<void>((r) => w.once('exit', () => r()));
    threads.push({ name, worker: w, lingers: false, exited });
    return w;
  };

  const waitFor = (w: Worker, type: string): Promise<ThreadMessage> => new Promise((resolve, reject) => {
    const onMsg = (m: ThreadMessage) => {
      if (m.type === type) { w.off('message', onMsg); resolve(m); }
      if (m.type === 'listen-error') { w.off('message', onMsg); reject(Object.assign(new Error(m.message), { code: m.code })); }
      if (m.type === 'start-error') { w.off('message', onMsg); reject(new Error(m.message)); }
    };
    w.on('message', onMsg);
  });

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await stopEndpoints(endpoints);
      certWatcher?.close();
      // I/O workers first (no new requests), then the sequencer, so that
      // storage is closed before any listening fd is released.
      const ioThreads = threads.filter((t) => t.name.startsWith('io'));
      // A thread that already exited (a failed start) is not waited for.
      const stopThread = async (t: (typeof threads)[number]) => {
        const stopped = Promise.race([waitFor(t.worker, 'stopped').catch(() => undefined), t.exited]);
        t.worker.postMessage({ type: 'stop' });
        await withTimeout(stopped, threadStopTimeoutMs);
      };
      await Promise.all(ioThreads.map(stopThread));
      const seq = threads.find((t) => t.name === 'sequencer');
      if (seq) await stopThread(seq);
      for (const t of threads) {
        if (t.lingers) t.worker.unref();
        else await t.worker.terminate();
      }
      resolveDone(fatal);
    })();
    return stopping;
  };

  const startup = (async () => {
    // The sequencer holds the tree: its heap may grow well past V8's default.
    const seq = spawnPinningYoungGeneration(() => spawn('sequencer', './sequencer/thread.js', { config: cfg, handles },
      { maxOldGenerationSizeMb: heapMaxMbOf(cfg), maxYoungGenerationSizeMb: sequencerSemiSpaceMb * 3 }));
    await waitFor(seq, 'ready');
    const seqClient = new ThreadClient(seq, 'sequencer');
    const ioClients: ThreadClient[] = [];
    const sources: AdminSources = {
      sequencer: () => seqClient.query<SequencerSnapshot>('stats'),
      workers: () => Promise.all(ioClients.map((c) => c.query<WorkerSnapshot>('stats'))),
      connections: async () => (await Promise.all(ioClients.map((c) => c.query<ConnectionSnapshot[]>('connections')))).flat(),
      dump: () => seqClient.query<DumpSnapshot>('dump'),
      watches: () => seqClient.query<WatchesSnapshot>('watches'),
      resetConnections: async () => { await Promise.all(ioClients.map((c) => c.query('reset-connections'))); },
      resetServer: async () => { await Promise.all([seqClient.query('reset'), ...ioClients.map((c) => c.query('reset'))]); },
    };
    hub = new AdminHub(serverInfo(cfg), sources, parseWhitelist(cfg.fourLetterWordWhitelist));
    const h = hub;
    const answerFourLetterWords = (w: Worker) => {
      w.on('message', (m: { type: string; id: number; word: string; arg?: Uint8Array }) => {
        if (m.type !== '4lw') return;
        h.fourLetter(m.word, m.arg === undefined ? undefined : Buffer.from(m.arg)).then(
          (text) => w.postMessage({ type: '4lw-reply', id: m.id, text }),
          (e: Error) => w.postMessage({ type: '4lw-reply', id: m.id, text: `${m.word} failed: ${e.message}\n` }),
        );
      });
      ioClients.push(new ThreadClient(w, `io${ioClients.length}`));
    };
    endpoints = await startEndpoints(cfg, h);
    const sec = security.settings;
    const ioData = (i: number, listen: IoThreadData['listen'], secureListen: IoSecurity['secureListen']): IoThreadData => ({
      index: i,
      ctrl: handles.ctrl,
      requestRing: handles.requestRings[i]!,
      replyRing: handles.replyRings[i]!,
      frameSizeMax: cfg.juteMaxBuffer,
      tickMs: cfg.tickTime,
      ipTable,
      maxClientCnxns: cfg.maxClientCnxns,
      outstandingMax: outstandingShare(cfg.globalOutstandingLimit, cfg.requestThrottleMaxRequests, n),
      listen,
      listenShared: n > 1,
      security: ioSecurity(security, secureListen),
    });
    const w0 = spawn('io0', './io/thread.js', ioData(0, { host: cfg.clientPortAddress, port: cfg.clientPort },
      sec.securePort === null ? null : { host: sec.secureAddress, port: sec.securePort }));
    answerFourLetterWords(w0);
    const first = await waitFor(w0, 'listening');
    for (let i = 1; i < n; i++) {
      const wi = spawn(`io${i}`, './io/thread.js', ioData(i, { fd: first.fd! },
        first.secure ? { fd: first.secure.fd } : null));
      answerFourLetterWords(wi);
      threads[threads.length - 1]!.lingers = true;
      await waitFor(wi, 'listening');
    }
    return first;
  })();

  try {
    const first = await new Promise<ThreadMessage>((resolve, reject) => {
      rejectStart = reject;
      startup.then(resolve, reject);
    });
    started = true;
    hub!.info.config.clientPort = first.port!;
    certWatcher = startCertReload(cfg, security, (material) => {
      for (const t of threads) if (t.name.startsWith('io')) t.worker.postMessage({ type: 'tls-reload', material });
    });
    return {
      host: first.address!, port: first.port!, workers: n, done, stop, hub: hub!,
      adminPort: endpoints.admin?.port ?? null, metricsPort: endpoints.metrics?.port ?? null,
      securePort: first.secure?.port ?? null,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Loads zoo.cfg and the CLI's overrides into a validated Config. */
export function configFromArgs(configFile: string, configFileGiven: boolean, overrides: ConfigLine[]): Config {
  let lines: ConfigLine[] = [];
  let file: string | null = configFile;
  try {
    lines = loadConfigFile(configFile);
  } catch (e) {
    // With no -c, a missing default conf/zoo.cfg is fine if the overrides say enough.
    if (configFileGiven || overrides.length === 0) throw e;
    file = null;
  }
  return buildConfig([...lines, ...overrides], file);
}

/** zoonode purge: keep the newest N snapshots and the logs they need (like zkCleanup.sh). */
function runPurge(args: CliArgs): number {
  let logDir: string;
  let snapDir: string;
  let count = args.purgeCount;
  if (args.purgeDirs.length > 0) {
    logDir = args.purgeDirs[0]!;
    snapDir = args.purgeDirs[1] ?? logDir;
    if (count === null) throw new ConfigError('command line', 0, '-n', 'purge DATALOGDIR [SNAPDIR] needs -n COUNT');
  } else {
    const cfg = configFromArgs(args.configFile, args.configFileGiven, args.overrides);
    logDir = cfg.dataLogDir;
    snapDir = cfg.dataDir;
    count ??= cfg.autopurgeSnapRetainCount;
  }
  if (count < purgeRetainMin) throw new ConfigError('command line', 0, '-n', `must be at least ${purgeRetainMin}, got ${count}`);
  const r = purge(versionDir(snapDir), versionDir(logDir), count);
  for (const f of r.deleted) process.stdout.write(`deleted ${f}\n`);
  process.stdout.write(`kept ${r.retainedSnapshots.length} snapshot(s) in ${versionDir(snapDir)}; deleted ${r.deleted.length} file(s)\n`);
  return 0;
}

export async function main(argv: readonly string[]): Promise<number> {
  setThreadTag('main');
  let cfg: Config;
  try {
    const args = parseArgs(argv);
    if (args.command === 'help') {
      process.stdout.write(usage + '\n');
      return 0;
    }
    if (args.command === 'version') {
      process.stdout.write(`zoonode ${version} (ZooKeeper protocol 3.9-compatible)\n`);
      return 0;
    }
    if (args.command === 'purge') return runPurge(args);
    cfg = configFromArgs(args.configFile, args.configFileGiven, args.overrides);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`zoonode: configuration error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  for (const w of cfg.warnings) log.warn(w);
  log.info(`zoonode ${version} starting with configuration${cfg.configFile ? ` from ${cfg.configFile}` : ''}:`);
  for (const line of describeConfig(cfg)) log.info(`  ${line}`);

  let server: RunningServer;
  try {
    server = await startServer(cfg);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`zoonode: configuration error: ${e.message}\n`);
      return 2;
    }
    log.error(`cannot start: ${(e as Error).message}`);
    return 1;
  }
  log.info(`listening for clients on ${server.host}:${server.port} (${server.workers === 0 ? 'inline, 1 thread' : `${server.workers} I/O worker thread(s) + sequencer`})`);
  if (server.securePort !== null) log.info(`listening for TLS clients on port ${server.securePort} (secureClientPort)`);

  let signalled = false;
  const onSignal = (sig: string) => {
    if (signalled) return;
    signalled = true;
    log.info(`received ${sig}, stopping`);
    void server.stop();
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  const fatal = await server.done;
  if (fatal !== null) {
    log.error(`stopped after a fatal error: ${fatal.message}`);
    return 1;
  }
  log.info('stopped');
  return 0;
}
