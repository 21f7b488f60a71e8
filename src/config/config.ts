// zoo.cfg: Java-properties syntax (key=value, key: value or key value; '#' and
// '!' comments; trailing '\' continues a line), keys with Apache ZooKeeper's
// meanings and defaults, plus zoonode's own (workers). Keys Apache reads as
// `zookeeper.<key>` system properties are plain keys here, written as Apache's
// zoo.cfg accepts them (extendedTypesEnabled=true, znode.container.checkIntervalMs=...).
//
// Every error names the file, the line and the key. An unknown key is a
// warning that names it.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { juteMaxBufferDefault, juteMaxBufferMax, workersMax } from './limits.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly source: string, readonly line: number, readonly key: string, message: string) {
    super(`${source}${line > 0 ? `:${line}` : ''}: ${key}: ${message}`);
  }
}

export interface ConfigLine {
  source: string;
  line: number;
  key: string;
  value: string;
}

export interface Config {
  /** Where each effective value came from, for the start-up log. */
  origin: Map<string, string>;
  /** Every configuration line as given (file, then overrides), for initial_configuration. */
  lines: { key: string; value: string }[];
  warnings: string[];
  configFile: string | null;

  tickTime: number;
  clientPort: number;
  clientPortAddress: string;
  dataDir: string;
  dataLogDir: string;
  minSessionTimeout: number;
  maxSessionTimeout: number;
  initLimit: number;
  syncLimit: number;
  maxClientCnxns: number;
  snapCount: number;
  preAllocSize: number;
  forceSync: boolean;
  autopurgeSnapRetainCount: number;
  autopurgePurgeInterval: number;
  fourLetterWordWhitelist: string;
  adminEnableServer: boolean;
  adminServerAddress: string;
  adminServerPort: number;
  adminCommandURL: string;
  metricsProviderClassName: string;
  metricsProviderHttpHost: string;
  metricsProviderHttpPort: number;
  juteMaxBuffer: number;
  extendedTypesEnabled: boolean;
  containerCheckIntervalMs: number;
  containerMaxPerMinute: number;
  containerMaxNeverUsedIntervalMs: number;
  skipACL: boolean;
  reconfigEnabled: boolean;
  enforceQuota: boolean;
  superDigest: string | null;
  globalOutstandingLimit: number;
  connectionThrottle: {
    tokens: number; fillTime: number; fillCount: number; freezeTime: number;
    dropIncrease: number; dropDecrease: number; decreaseRatio: number; weightEnabled: boolean;
  };
  /** request_throttle_max_requests: requests in flight at most (0 = no throttle). */
  requestThrottleMaxRequests: number;
  standaloneEnabled: boolean;
  fsyncWarningThresholdMs: number;
  /** Snapshot compression: '' (none), 'gz' or 'snappy'. */
  snapshotCompressionMethod: string;
  /** Start from logs alone when no snapshot exists (upgrades from 3.4). */
  snapshotTrustEmpty: boolean;
  /** zoonode: I/O worker threads; 0 = inline (one thread does everything). */
  workers: number;
  /** The configured value of workers before 'auto' was resolved. */
  workersSetting: string;
  /**
   * zoonode: heap ceiling (MiB) of the thread that holds the tree (the
   * sequencer thread when workers >= 1); 0 = three quarters of the machine's
   * memory. V8's own default (about 4 GiB) holds roughly 12 M znodes.
   */
  heapMaxMb: number;
  /**
   * zoonode: write a batch of txns on the sequencer's own thread when that
   * thread has been idle since the previous batch (no thread-pool round
   * trip); no = always through libuv's thread pool.
   */
  inlineLogWrites: boolean;
  /** Values of recognised keys that zoonode accepts but does not act on yet, and any other raw key. */
  raw: Map<string, string>;
}

type Kind = 'int' | 'bool' | 'string' | 'path' | 'port' | 'real';

interface KeySpec {
  kind: Kind;
  field?: keyof Config;
  min?: number;
  max?: number;
  /** Accepted for compatibility but not acted upon yet (logged once at start-up). */
  notYet?: boolean;
}

const keys: Record<string, KeySpec> = {
  tickTime: { kind: 'int', field: 'tickTime', min: 1 },
  clientPort: { kind: 'port', field: 'clientPort' },
  clientPortAddress: { kind: 'string', field: 'clientPortAddress' },
  dataDir: { kind: 'path', field: 'dataDir' },
  dataLogDir: { kind: 'path', field: 'dataLogDir' },
  minSessionTimeout: { kind: 'int', field: 'minSessionTimeout', min: -1 },
  maxSessionTimeout: { kind: 'int', field: 'maxSessionTimeout', min: -1 },
  initLimit: { kind: 'int', field: 'initLimit', min: 1 },
  syncLimit: { kind: 'int', field: 'syncLimit', min: 1 },
  maxClientCnxns: { kind: 'int', field: 'maxClientCnxns', min: 0 },
  snapCount: { kind: 'int', field: 'snapCount', min: 2 },
  preAllocSize: { kind: 'int', field: 'preAllocSize', min: 1 },
  forceSync: { kind: 'bool', field: 'forceSync' },
  'autopurge.snapRetainCount': { kind: 'int', field: 'autopurgeSnapRetainCount', min: 3 },
  'autopurge.purgeInterval': { kind: 'int', field: 'autopurgePurgeInterval', min: 0 },
  '4lw.commands.whitelist': { kind: 'string', field: 'fourLetterWordWhitelist' },
  'admin.enableServer': { kind: 'bool', field: 'adminEnableServer' },
  'admin.serverAddress': { kind: 'string', field: 'adminServerAddress' },
  'admin.serverPort': { kind: 'port', field: 'adminServerPort' },
  'admin.commandURL': { kind: 'string', field: 'adminCommandURL' },
  'metricsProvider.className': { kind: 'string', field: 'metricsProviderClassName' },
  'metricsProvider.httpHost': { kind: 'string', field: 'metricsProviderHttpHost' },
  'metricsProvider.httpPort': { kind: 'port', field: 'metricsProviderHttpPort' },
  'jute.maxbuffer': { kind: 'int', field: 'juteMaxBuffer', min: 1024, max: juteMaxBufferMax },
  extendedTypesEnabled: { kind: 'bool', field: 'extendedTypesEnabled' },
  'znode.container.checkIntervalMs': { kind: 'int', field: 'containerCheckIntervalMs', min: 1 },
  'znode.container.maxPerMinute': { kind: 'int', field: 'containerMaxPerMinute', min: 1 },
  'znode.container.maxNeverUsedIntervalMs': { kind: 'int', field: 'containerMaxNeverUsedIntervalMs', min: 0 },
  skipACL: { kind: 'bool', field: 'skipACL' },
  reconfigEnabled: { kind: 'bool', field: 'reconfigEnabled' },
  enforceQuota: { kind: 'bool', field: 'enforceQuota' },
  'DigestAuthenticationProvider.superDigest': { kind: 'string', field: 'superDigest' },
  globalOutstandingLimit: { kind: 'int', field: 'globalOutstandingLimit', min: 1 },
  standaloneEnabled: { kind: 'bool', field: 'standaloneEnabled' },
  'fsync.warningthresholdms': { kind: 'int', field: 'fsyncWarningThresholdMs', min: 0 },
  workers: { kind: 'string', field: 'workersSetting' },
  heapMaxMb: { kind: 'int', field: 'heapMaxMb', min: 0 },
  inlineLogWrites: { kind: 'bool', field: 'inlineLogWrites' },
  // TLS, SASL, enforced authentication and the audit log (src/security reads
  // these from cfg.raw; values are checked here, meanings there).
  secureClientPort: { kind: 'port' },
  secureClientPortAddress: { kind: 'string' },
  'client.portUnification': { kind: 'bool' },
  'client.certReload': { kind: 'bool' },
  'ssl.keyStore.location': { kind: 'string' },
  'ssl.keyStore.password': { kind: 'string' },
  'ssl.keyStore.passwordPath': { kind: 'string' },
  'ssl.keyStore.type': { kind: 'string' },
  'ssl.trustStore.location': { kind: 'string' },
  'ssl.trustStore.password': { kind: 'string' },
  'ssl.trustStore.passwordPath': { kind: 'string' },
  'ssl.trustStore.type': { kind: 'string' },
  'ssl.clientAuth': { kind: 'string' },
  'ssl.protocol': { kind: 'string' },
  'ssl.enabledProtocols': { kind: 'string' },
  'ssl.ciphersuites': { kind: 'string' },
  'ssl.authProvider': { kind: 'string' },
  'ssl.handshakeDetectionTimeoutMillis': { kind: 'int', min: 1 },
  'ssl.hostnameVerification': { kind: 'bool' },
  'ssl.clientHostnameVerification': { kind: 'bool' },
  'ssl.allowReverseDnsLookup': { kind: 'bool' },
  'ssl.crl': { kind: 'bool' },
  'ssl.ocsp': { kind: 'bool' },
  'ssl.context.supplier.class': { kind: 'string' },
  'ssl.sslProvider': { kind: 'string', notYet: true },
  'fips-mode': { kind: 'bool', notYet: true },
  sslQuorum: { kind: 'bool', notYet: true },
  sslQuorumReloadCertFiles: { kind: 'bool', notYet: true },
  portUnification: { kind: 'bool', notYet: true },
  'java.security.auth.login.config': { kind: 'string' },
  'sasl.serverconfig': { kind: 'string' },
  superUser: { kind: 'string' },
  'SASLAuthenticationProvider.superPassword': { kind: 'string' },
  'X509AuthenticationProvider.superUser': { kind: 'string' },
  allowSaslFailedClients: { kind: 'bool' },
  letAnySaslUserDoX: { kind: 'string' },
  'kerberos.removeHostFromPrincipal': { kind: 'bool', notYet: true },
  'kerberos.removeRealmFromPrincipal': { kind: 'bool', notYet: true },
  'enforce.auth.enabled': { kind: 'bool' },
  'enforce.auth.schemes': { kind: 'string' },
  sessionRequireClientSASLAuth: { kind: 'bool' },
  'audit.enable': { kind: 'bool' },
  'audit.impl.class': { kind: 'string' },
  'audit.logFile': { kind: 'path' },
  // Accepted as Apache accepts them; acted on by later features.
  serverCnxnFactory: { kind: 'string', notYet: true },
  'admin.idleTimeout': { kind: 'int', notYet: true },
  'metricsProvider.exportJvmInfo': { kind: 'bool', notYet: true },
  localSessionsEnabled: { kind: 'bool', notYet: true },
  localSessionsUpgradingEnabled: { kind: 'bool', notYet: true },
  electionAlg: { kind: 'int', notYet: true },
  electionPortBindRetry: { kind: 'int', notYet: true },
  quorumListenOnAllIPs: { kind: 'bool', notYet: true },
  'snapshot.trust.empty': { kind: 'bool', field: 'snapshotTrustEmpty' },
  'snapshot.compression.method': { kind: 'string', field: 'snapshotCompressionMethod' },
  'zookeeper.snapshot.compression.method': { kind: 'string', field: 'snapshotCompressionMethod' },
  maxBatchSize: { kind: 'int', notYet: true },
  flushDelay: { kind: 'int', notYet: true },
  maxWriteQueuePollTime: { kind: 'int', notYet: true },
  connection_throttle_tokens: { kind: 'int', min: 0 },
  connection_throttle_fill_time: { kind: 'int', min: 1 },
  connection_throttle_fill_count: { kind: 'int', min: 1 },
  connection_throttle_freeze_time: { kind: 'int', min: -1 },
  connection_throttle_drop_increase: { kind: 'real' },
  connection_throttle_drop_decrease: { kind: 'real' },
  connection_throttle_decrease_ratio: { kind: 'real' },
  connection_throttle_weight_enabled: { kind: 'bool' },
  request_throttle_max_requests: { kind: 'int', field: 'requestThrottleMaxRequests', min: 0 },
  request_throttle_stall_time: { kind: 'int', min: 0, notYet: true },
  request_throttle_drop_stale: { kind: 'bool', notYet: true },
  'digest.enabled': { kind: 'bool', notYet: true },
  'closeSessionTxn.enabled': { kind: 'bool', notYet: true },
  'watchManagerName': { kind: 'string', notYet: true },
  'preAllocSize.kb': { kind: 'int', notYet: true },
};

/**
 * Apache's authentication provider classes zoonode implements (authProvider.N
 * lines), by the scheme each provides.
 */
export const authProviderClasses: ReadonlyMap<string, string> = new Map([
  ['org.apache.zookeeper.server.auth.X509AuthenticationProvider', 'x509'],
  ['org.apache.zookeeper.server.auth.SASLAuthenticationProvider', 'sasl'],
  ['org.apache.zookeeper.server.auth.DigestAuthenticationProvider', 'digest'],
  ['org.apache.zookeeper.server.auth.IPAuthenticationProvider', 'ip'],
]);

/**
 * Keys that are families rather than single names: authProvider.<N> (checked
 * against the provider classes zoonode has), superUser.<N> (more SASL super
 * users), and ssl.quorum.* (quorum TLS: kept, with a warning, since there is
 * no ensemble yet). Returns true if the line was one of them.
 */
function patternKey(cfg: Config, l: ConfigLine): boolean {
  const at = `${l.source}:${l.line}`;
  if (/^authProvider\.[^.]+$/.test(l.key)) {
    const cls = l.value.trim();
    if (!authProviderClasses.has(cls)) {
      throw new ConfigError(l.source, l.line, l.key, `unknown authentication provider class '${cls}' ` +
        `(zoonode has ${[...authProviderClasses.keys()].map((c) => c.slice(c.lastIndexOf('.') + 1)).join(', ')})`);
    }
  } else if (/^superUser\.[^.]+$/.test(l.key)) {
    // a further SASL super user, as Apache's zookeeper.superUser.<N>
  } else if (l.key.startsWith('ssl.quorum.')) {
    cfg.warnings.push(`${at}: key '${l.key}' is accepted but quorum TLS is not used: zoonode runs standalone (no ensemble yet)`);
  } else {
    return false;
  }
  cfg.raw.set(l.key, l.value.trim());
  cfg.origin.set(l.key, at);
  return true;
}

/** Ensemble lines (server.N, group.N, weight.N) belong to replication; accepted and kept raw. */
const ensembleKey = /^(server|group|weight)\.\d+$/;

function defaults(): Config {
  return {
    origin: new Map(),
    lines: [],
    warnings: [],
    configFile: null,
    tickTime: 2000,
    clientPort: 2181,
    clientPortAddress: '0.0.0.0',
    dataDir: '',
    dataLogDir: '',
    minSessionTimeout: -1,
    maxSessionTimeout: -1,
    initLimit: 10,
    syncLimit: 5,
    maxClientCnxns: 60,
    snapCount: 100000,
    preAllocSize: 65536,
    forceSync: true,
    autopurgeSnapRetainCount: 3,
    autopurgePurgeInterval: 0,
    fourLetterWordWhitelist: 'srvr stat mntr conf isro envi dirs wchs ruok',
    adminEnableServer: true,
    adminServerAddress: '0.0.0.0',
    adminServerPort: 8080,
    adminCommandURL: '/commands',
    metricsProviderClassName: '',
    metricsProviderHttpHost: '0.0.0.0',
    metricsProviderHttpPort: 7000,
    juteMaxBuffer: juteMaxBufferDefault,
    extendedTypesEnabled: false,
    containerCheckIntervalMs: 60000,
    containerMaxPerMinute: 10000,
    containerMaxNeverUsedIntervalMs: 0,
    skipACL: false,
    reconfigEnabled: false,
    enforceQuota: false,
    superDigest: null,
    globalOutstandingLimit: 1000,
    connectionThrottle: {
      tokens: 0, fillTime: 1, fillCount: 1, freezeTime: -1, dropIncrease: 0.02, dropDecrease: 0.002, decreaseRatio: 0,
      weightEnabled: false,
    },
    requestThrottleMaxRequests: 0,
    standaloneEnabled: true,
    fsyncWarningThresholdMs: 1000,
    snapshotCompressionMethod: '',
    snapshotTrustEmpty: false,
    workers: 0,
    workersSetting: 'auto',
    heapMaxMb: 0,
    inlineLogWrites: true,
    raw: new Map(),
  };
}

/** Splits Java-properties text into key/value lines, keeping line numbers. */
export function parseProperties(text: string, source: string): ConfigLine[] {
  const out: ConfigLine[] = [];
  const lines = text.split(/\r\n|\n|\r/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let logical = lines[i]!.replace(/^[ \t\f]+/, '');
    if (logical === '' || logical.startsWith('#') || logical.startsWith('!')) continue;
    while (/(^|[^\\])(\\\\)*\\$/.test(logical) && i + 1 < lines.length) {
      logical = logical.slice(0, -1) + lines[++i]!.replace(/^[ \t\f]+/, '');
    }
    const m = /^((?:\\.|[^=:\s\\])+)\s*[=:]?\s*(.*)$/.exec(logical);
    if (!m) throw new ConfigError(source, lineNo, logical, 'cannot parse this line as key=value');
    const key = m[1]!.replace(/\\(.)/g, '$1');
    const value = m[2]!.replace(/\s+$/, '');
    out.push({ source, line: lineNo, key, value });
  }
  return out;
}

function parseBool(l: ConfigLine): boolean {
  const v = l.value.trim().toLowerCase();
  if (v === 'true' || v === 'yes') return true;
  if (v === 'false' || v === 'no') return false;
  throw new ConfigError(l.source, l.line, l.key, `expected true/false or yes/no, got '${l.value}'`);
}

function parseInt32(l: ConfigLine, spec: KeySpec): number {
  const v = l.value.trim();
  if (!/^-?\d+$/.test(v)) throw new ConfigError(l.source, l.line, l.key, `expected an integer, got '${l.value}'`);
  const n = Number(v);
  if (spec.min !== undefined && n < spec.min) {
    throw new ConfigError(l.source, l.line, l.key, `${n} is below the minimum ${spec.min}`);
  }
  const max = spec.max ?? 2147483647;
  if (n > max) throw new ConfigError(l.source, l.line, l.key, `${n} is above the maximum ${max}`);
  return n;
}

/**
 * Build a configuration from zoo.cfg lines followed by overrides (later lines
 * win), then validate the whole. `baseDir` resolves relative paths (Apache
 * resolves them against the working directory; so does zoonode).
 */
export function buildConfig(lines: readonly ConfigLine[], configFile: string | null, cpuCount = os.availableParallelism()): Config {
  const cfg = defaults();
  cfg.configFile = configFile;
  const lastLine = new Map<string, ConfigLine>();
  for (const l of lines) {
    cfg.lines.push({ key: l.key, value: l.value });
    lastLine.set(l.key, l);
    const spec = keys[l.key];
    if (spec === undefined && patternKey(cfg, l)) continue;
    if (spec === undefined) {
      cfg.raw.set(l.key, l.value);
      if (!ensembleKey.test(l.key)) {
        const hint = l.key.startsWith('zookeeper.') && keys[l.key.slice('zookeeper.'.length)] !== undefined
          ? ` (Apache's zoo.cfg spells it '${l.key.slice('zookeeper.'.length)}')` : '';
        cfg.warnings.push(`${l.source}:${l.line}: unknown key '${l.key}' ignored${hint}`);
      }
      continue;
    }
    let value: string | number | boolean;
    switch (spec.kind) {
      case 'int': value = parseInt32(l, spec); break;
      case 'port': value = parseInt32(l, { ...spec, min: 0, max: 65535 }); break;
      case 'bool': value = parseBool(l); break;
      case 'string': value = l.value.trim(); break;
      case 'real': {
        const v = Number(l.value.trim());
        if (l.value.trim() === '' || !Number.isFinite(v)) throw new ConfigError(l.source, l.line, l.key, `expected a number, got '${l.value}'`);
        value = v;
        break;
      }
      case 'path': {
        const v = l.value.trim();
        if (v === '') throw new ConfigError(l.source, l.line, l.key, 'must not be empty');
        value = path.resolve(v);
        break;
      }
    }
    if (l.key.startsWith('connection_throttle_')) {
      const t = cfg.connectionThrottle as unknown as Record<string, unknown>;
      const name = l.key.slice('connection_throttle_'.length).replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
      t[name === 'tokens' ? 'tokens' : name] = value;
      cfg.origin.set(l.key, `${l.source}:${l.line}`);
    } else if (spec.field !== undefined) {
      (cfg as unknown as Record<string, unknown>)[spec.field] = value;
      cfg.origin.set(l.key, `${l.source}:${l.line}`);
    } else {
      cfg.raw.set(l.key, l.value);
      cfg.origin.set(l.key, `${l.source}:${l.line}`);
      if (spec.notYet) cfg.warnings.push(`${l.source}:${l.line}: key '${l.key}' is accepted but has no effect in this version`);
    }
  }

  const at = (key: string): [string, number] => {
    const l = lastLine.get(key);
    return l ? [l.source, l.line] : [configFile ?? '<defaults>', 0];
  };

  if (cfg.dataDir === '') {
    const [s, n] = at('dataDir');
    throw new ConfigError(s, n, 'dataDir', 'is required (where snapshots and, by default, txn logs live)');
  }
  if (cfg.dataLogDir === '') cfg.dataLogDir = cfg.dataDir;
  if (cfg.minSessionTimeout === -1) cfg.minSessionTimeout = cfg.tickTime * 2;
  if (cfg.maxSessionTimeout === -1) cfg.maxSessionTimeout = cfg.tickTime * 20;
  if (cfg.minSessionTimeout > cfg.maxSessionTimeout) {
    const [s, n] = at('minSessionTimeout');
    throw new ConfigError(s, n, 'minSessionTimeout',
      `${cfg.minSessionTimeout} must not exceed maxSessionTimeout ${cfg.maxSessionTimeout}`);
  }
  const w = cfg.workersSetting.trim().toLowerCase();
  if (w === 'auto') {
    cfg.workers = autoWorkers(cpuCount);
  } else if (/^\d+$/.test(w) && Number(w) <= workersMax) {
    cfg.workers = Number(w);
  } else {
    const [s, n] = at('workers');
    throw new ConfigError(s, n, 'workers', `expected 'auto' or an integer 0..${workersMax}, got '${cfg.workersSetting}'`);
  }
  return cfg;
}

/**
 * What workers=auto picks, from the benchmark's curves (README, "Choosing
 * workers="). On 1-2 cores the threaded layouts lose: the hop through the
 * rings costs more than a second thread gives when the clients, the
 * sequencer and the I/O worker share two cores, so everything runs on one
 * thread (0). With 3 cores one I/O worker; beyond that, one worker per two
 * further cores (not measured here: this machine has 2 cores).
 */
export function autoWorkers(cpuCount: number): number {
  if (cpuCount <= 2) return 0;
  if (cpuCount <= 3) return 1;
  return Math.min(workersMax, Math.max(1, Math.floor((cpuCount - 1) / 2)));
}

export function loadConfigFile(file: string): ConfigLine[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, 0, '-', `cannot read configuration file: ${(e as Error).message}`);
  }
  return parseProperties(text, file);
}

/** The effective configuration as key=value lines, for the start-up log. */
export function describeConfig(cfg: Config): string[] {
  return [
    `clientPortAddress=${cfg.clientPortAddress}`,
    `clientPort=${cfg.clientPort}`,
    `dataDir=${cfg.dataDir}`,
    `dataLogDir=${cfg.dataLogDir}`,
    `tickTime=${cfg.tickTime}`,
    `minSessionTimeout=${cfg.minSessionTimeout}`,
    `maxSessionTimeout=${cfg.maxSessionTimeout}`,
    `maxClientCnxns=${cfg.maxClientCnxns}`,
    `forceSync=${cfg.forceSync ? 'yes' : 'no'}`,
    `inlineLogWrites=${cfg.inlineLogWrites ? 'yes' : 'no'}`,
    `snapCount=${cfg.snapCount}`,
    `preAllocSize=${cfg.preAllocSize}`,
    `snapshot.compression.method=${cfg.snapshotCompressionMethod || 'none'}`,
    `autopurge.purgeInterval=${cfg.autopurgePurgeInterval}`,
    `autopurge.snapRetainCount=${cfg.autopurgeSnapRetainCount}`,
    `jute.maxbuffer=${cfg.juteMaxBuffer}`,
    `extendedTypesEnabled=${cfg.extendedTypesEnabled}`,
    `znode.container.checkIntervalMs=${cfg.containerCheckIntervalMs}`,
    `skipACL=${cfg.skipACL ? 'yes' : 'no'}`,
    `reconfigEnabled=${cfg.reconfigEnabled}`,
    `workers=${cfg.workers}${cfg.workersSetting.trim().toLowerCase() === 'auto' ? ' (auto)' : ''}`,
  ];
}
