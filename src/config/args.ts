// The command line: zoonode [-c FILE] [--port N] [--data-dir DIR] [key=value ...]
// A key=value argument means exactly what that line would mean in zoo.cfg;
// --port and --data-dir are shorthands for clientPort= and dataDir=.
// Overrides are applied after the file, in the order given.

import { ConfigError, type ConfigLine } from './config.js';

export interface CliArgs {
  command: 'serve' | 'help' | 'version' | 'purge';
  configFile: string;
  configFileGiven: boolean;
  overrides: ConfigLine[];
  /** purge: snapshots to keep (-n), and explicit directories (else dataLogDir/dataDir from the configuration). */
  purgeCount: number | null;
  purgeDirs: string[];
}

export const usage = `Usage: zoonode [-c FILE] [--port N] [--data-dir DIR] [key=value ...]
       zoonode purge [-c FILE] [-n COUNT]
       zoonode purge DATALOGDIR [SNAPDIR] -n COUNT

A ZooKeeper-compatible coordination server.

purge deletes old snapshots and txn logs, keeping the newest COUNT
snapshots (default: autopurge.snapRetainCount, at least 3) and the logs they
need, like Apache's zkCleanup.sh.

Options:
  -c, --config FILE   zoo.cfg to load (default: conf/zoo.cfg)
  --port N            client port (same as clientPort=N)
  --data-dir DIR      data directory (same as dataDir=DIR)
  key=value           any zoo.cfg line, applied after the file
                      (e.g. workers=2 tickTime=2000 extendedTypesEnabled=true)
  -h, --help          show this help
  -v, --version       print the version

Stops cleanly on SIGTERM or SIGINT.`;

export function parseArgs(argv: readonly string[]): CliArgs {
  const out: CliArgs = { command: 'serve', configFile: 'conf/zoo.cfg', configFileGiven: false, overrides: [], purgeCount: null, purgeDirs: [] };
  let start = 0;
  if (argv[0] === 'purge') {
    out.command = 'purge';
    start = 1;
  }
  for (let i = start; i < argv.length; i++) {
    const a = argv[i]!;
    const where = `command line argument ${i + 1}`;
    const value = (flag: string): string => {
      const eq = a.indexOf('=');
      if (a.startsWith('--') && eq > 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new ConfigError(where, 0, flag, 'needs a value');
      return v;
    };
    if (a === '-h' || a === '--help') { out.command = 'help'; continue; }
    if (a === '-v' || a === '--version') { out.command = 'version'; continue; }
    if (a === '-c' || a === '--config' || a.startsWith('--config=')) {
      out.configFile = value('--config');
      out.configFileGiven = true;
      continue;
    }
    if (a === '--port' || a.startsWith('--port=')) {
      out.overrides.push({ source: where, line: 0, key: 'clientPort', value: value('--port') });
      continue;
    }
    if (a === '--data-dir' || a.startsWith('--data-dir=')) {
      out.overrides.push({ source: where, line: 0, key: 'dataDir', value: value('--data-dir') });
      continue;
    }
    if (out.command === 'purge' && a === '-n') {
      const v = value('-n');
      if (!/^\d+$/.test(v)) throw new ConfigError(where, 0, '-n', `expected a count, got '${v}'`);
      out.purgeCount = Number(v);
      continue;
    }
    if (a.startsWith('-')) throw new ConfigError(where, 0, a, `unknown option (see --help)`);
    if (out.command === 'purge' && !a.includes('=')) {
      if (out.purgeDirs.length >= 2) throw new ConfigError(where, 0, a, 'purge takes at most DATALOGDIR and SNAPDIR');
      out.purgeDirs.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq <= 0) throw new ConfigError(where, 0, a, `expected key=value`);
    out.overrides.push({ source: where, line: 0, key: a.slice(0, eq).trim(), value: a.slice(eq + 1) });
  }
  return out;
}
