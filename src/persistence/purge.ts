// Keep the newest N snapshots and the txn logs they need; delete the rest
// (Apache's PurgeTxnLog, behind autopurge.* and `zoonode purge`).
//
// A log named log.X can hold txns after snapshot.Y for X < Y, so the newest
// log starting at or before the oldest retained snapshot is kept too.

import { Logger } from '../util/log.js';
import { listZxidFiles, LOG_PREFIX, SNAPSHOT_PREFIX } from './file-names.js';
import { looksComplete } from './snapshot-file.js';
import { nodeStorageFs, type StorageFs } from './storage-fs.js';

const log = new Logger('purge');

export const purgeRetainMin = 3;

export interface PurgeResult {
  retainedSnapshots: string[];
  deleted: string[];
}

/** snapDir and logDir are version-2 directories. */
export function purge(snapDir: string, logDir: string, retain: number, fsys: StorageFs = nodeStorageFs): PurgeResult {
  if (retain < purgeRetainMin) throw new Error(`snapRetainCount must be at least ${purgeRetainMin}, got ${retain}`);
  const snaps = listZxidFiles(snapDir, SNAPSHOT_PREFIX, fsys).filter((s) => looksComplete(s.path, fsys)).reverse();
  const kept = snaps.slice(0, retain);
  if (kept.length === 0) return { retainedSnapshots: [], deleted: [] };
  const least = kept[kept.length - 1]!.zxid;
  const logs = listZxidFiles(logDir, LOG_PREFIX, fsys);
  let needed: string | null = null;
  for (const l of logs) if (l.zxid <= least) needed = l.path;
  const deleted: string[] = [];
  for (const f of [...listZxidFiles(snapDir, SNAPSHOT_PREFIX, fsys), ...logs]) {
    if (f.zxid >= least || f.path === needed) continue;
    fsys.rmSync(f.path);
    deleted.push(f.path);
  }
  if (deleted.length > 0) log.info(`purged ${deleted.length} file(s) older than snapshot 0x${least.toString(16)}, keeping ${kept.length} snapshot(s)`);
  return { retainedSnapshots: kept.map((k) => k.path), deleted };
}
