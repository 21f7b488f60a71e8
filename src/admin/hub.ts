// The admin hub: answers four-letter words, AdminServer commands and
// /metrics scrapes. It asks the threads for their counters only when an
// operator asks (never per request), assembles one view, and formats it.
// In threaded mode it lives on the main thread and reaches the others by
// message; in inline mode the sources are direct calls.

import {
  cons, conf, dirs, dump, envi, isro, mntr, srvr, stat, wchc, wchp, wchs,
} from './four-letter-words.js';
import {
  canonicalCommand, commandNames, configurationJson, connectionJson, dumpJson, environmentJson, initialConfigurationJson,
  serverStatsJson, systemPropertiesJson, toJson, watchesByPathJson, watchesJson, type Json,
} from './commands.js';
import { metricsText } from './prometheus.js';
import { buildView, javaHex, type ServerInfo, type ServerView } from './view.js';
import type { ConnectionSnapshot, DumpSnapshot, SequencerSnapshot, WatchesSnapshot, WorkerSnapshot } from './stats.js';

export interface AdminSources {
  sequencer(): Promise<SequencerSnapshot>;
  workers(): Promise<WorkerSnapshot[]>;
  connections(): Promise<ConnectionSnapshot[]>;
  dump(): Promise<DumpSnapshot>;
  watches(): Promise<WatchesSnapshot>;
  resetConnections(): Promise<void>;
  resetServer(): Promise<void>;
}

/** Apache's default trace mask (ZooTrace: client request, server packet, and session traces). */
export const DEFAULT_TRACE_MASK = 306;

export class AdminHub {
  traceMask = DEFAULT_TRACE_MASK;

  constructor(readonly info: ServerInfo, private readonly src: AdminSources, private readonly whitelist: ReadonlySet<string>) {}

  async view(): Promise<ServerView> {
    const [seq, workers] = await Promise.all([this.src.sequencer(), this.src.workers()]);
    return buildView(this.info, seq, workers);
  }

  allowed(word: string): boolean {
    return this.whitelist.has('*') || this.whitelist.has(word);
  }

  /** The text answer to a four-letter word (the caller closes the connection after it). */
  async fourLetter(word: string, arg?: Buffer): Promise<string> {
    if (!this.allowed(word)) return `${word} is not executed because it is not in the whitelist.\n`;
    switch (word) {
      case 'ruok': return 'imok';
      case 'isro': return isro((await this.src.sequencer()).readOnly);
      case 'conf': return conf(await this.view());
      case 'srvr': return srvr(await this.view());
      case 'stat': return stat(await this.view(), await this.src.connections());
      case 'cons': return cons(await this.src.connections());
      case 'mntr': return mntr(await this.view());
      case 'envi': return envi(this.info);
      case 'dirs': return dirs(await this.view());
      case 'wchs': return wchs(await this.view());
      case 'wchc': return wchc(await this.src.watches());
      case 'wchp': return wchp(await this.src.watches());
      case 'dump': return dump(await this.src.dump(), await this.src.connections(), this.info.config.tickTime);
      case 'crst': await this.src.resetConnections(); return 'Connection stats reset.\n';
      case 'srst': await this.src.resetServer(); return 'Server stats reset.\n';
      case 'gtmk': return String(this.traceMask);
      case 'stmk':
        // The mask follows the word as an 8-byte long.
        if (arg === undefined || arg.length < 8) return '';
        this.traceMask = Number(arg.readBigInt64BE(0));
        return String(this.traceMask);
      case 'hash': return '';
      default: return '';
    }
  }

  /** GET /commands/<name>: Apache's JSON shapes; an unknown command is an error document, still 200. */
  async command(name: string, params: URLSearchParams): Promise<string> {
    const cmd = canonicalCommand(name);
    if (cmd === undefined) return toJson({ command: name, error: `Unknown command: ${name}` });
    let body: { [k: string]: Json };
    switch (cmd) {
      case 'ruok': body = {}; break;
      case 'configuration': body = configurationJson(await this.view()); break;
      case 'connection_stat_reset': await this.src.resetConnections(); body = {}; break;
      case 'stat_reset': await this.src.resetServer(); body = {}; break;
      case 'connections':
        body = { connections: (await this.src.connections()).filter((c) => c.established).map((c) => connectionJson(c, true)), secure_connections: [] };
        break;
      case 'dirs': { const v = await this.view(); body = { datadir_size: v.dataDirSize, logdir_size: v.logDirSize }; break; }
      case 'dump': body = dumpJson(await this.src.dump()); break;
      case 'environment': body = environmentJson(await this.view()); break;
      case 'get_trace_mask': body = { tracemask: this.traceMask }; break;
      case 'set_trace_mask': {
        const m = params.get('traceMask');
        if (m !== null && /^-?\d+$/.test(m)) this.traceMask = Number(m);
        body = { tracemask: this.traceMask };
        break;
      }
      case 'hash': body = { digests: [] }; break;
      case 'initial_configuration': body = initialConfigurationJson(this.info.config.configFile, this.info.config.lines); break;
      case 'is_read_only': body = { read_only: (await this.src.sequencer()).readOnly }; break;
      case 'last_snapshot': {
        const s = await this.src.sequencer();
        body = { zxid: javaHex(s.lastSnapshotZxid), timestamp: Math.floor(s.lastSnapshotTimeMs / 1000) };
        break;
      }
      case 'leader': return toJson({ error: 'server is not initialized', command: cmd });
      case 'monitor': body = monitorJson(await this.view()); break;
      case 'observer_connection_stat_reset': body = {}; break;
      case 'observers': body = { synced_observers: 0, observers: [] }; break;
      case 'server_stats': body = serverStatsJson(await this.view()); break;
      case 'stats': {
        const v = await this.view();
        body = { ...serverStatsJson(v), connections: (await this.src.connections()).map((c) => connectionJson(c, false)), secure_connections: [] };
        break;
      }
      case 'system_properties': body = systemPropertiesJson(); break;
      case 'voting_view': body = { current_config: {} }; break;
      case 'watch_summary': {
        const s = (await this.view()).seq;
        body = { num_connections: s.dataWatchConnections, num_paths: s.dataWatchPaths, num_total_watches: s.dataWatches };
        break;
      }
      case 'watches': body = watchesJson(await this.src.watches()); break;
      case 'watches_by_path': body = watchesByPathJson(await this.src.watches()); break;
      case 'zabstate': body = { voting: false, zabstate: '' }; break;
      default: body = {};
    }
    return toJson({ ...body, command: cmd, error: null });
  }

  /** GET /commands: the list of commands as links (as Apache's AdminServer). */
  commandList(): string {
    return commandNames.map((n) => n[0]!).sort().map((n) => `<a href="/commands/${n}">${n}</a>\n<br/>\n`).join('');
  }

  async metrics(): Promise<string> {
    return metricsText(await this.view());
  }
}

/** monitor: the mntr figures as a JSON object (numbers as numbers). */
function monitorJson(v: ServerView): { [k: string]: Json } {
  const out: { [k: string]: Json } = {};
  for (const line of mntr(v).split('\n')) {
    if (line === '') continue;
    const tab = line.indexOf('\t');
    const key = line.slice(3, tab);
    const raw = line.slice(tab + 1);
    out[key] = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  }
  return out;
}
