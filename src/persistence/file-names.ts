// File names in a ZooKeeper data directory, as Apache names them:
//   <dataLogDir>/version-2/log.<hex zxid of the first txn>
//   <dataDir>/version-2/snapshot.<hex zxid>[.gz|.snappy]
// zxids are lower-case hex without leading zeros (Java's Long.toHexString).

import path from 'node:path';
import { nodeStorageFs, type StorageFs } from './storage-fs.js';

export const VERSION_DIR = 'version-2';
export const LOG_PREFIX = 'log';
export const SNAPSHOT_PREFIX = 'snapshot';

export function logName(zxid: number): string {
  return `${LOG_PREFIX}.${zxid.toString(16)}`;
}

export function snapshotName(zxid: number, extension = ''): string {
  return `${SNAPSHOT_PREFIX}.${zxid.toString(16)}${extension}`;
}

/** The zxid in a file name like prefix.<hex>[.ext], or -1 (Apache's Util.getZxidFromName). */
export function zxidFromName(name: string, prefix: string): number {
  const parts = name.split('.');
  if (parts.length < 2 || parts[0] !== prefix || !/^[0-9a-fA-F]+$/.test(parts[1]!)) return -1;
  const v = parseInt(parts[1]!, 16);
  return Number.isSafeInteger(v) ? v : -1;
}

export interface ZxidFile {
  name: string;
  path: string;
  zxid: number;
}

/** Files of one kind in a version-2 directory, sorted by zxid (ascending). */
export function listZxidFiles(dir: string, prefix: string, fsys: StorageFs = nodeStorageFs): ZxidFile[] {
  let names: string[];
  try {
    names = fsys.readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: ZxidFile[] = [];
  for (const name of names) {
    const zxid = zxidFromName(name, prefix);
    if (zxid >= 0) out.push({ name, path: path.join(dir, name), zxid });
  }
  return out.sort((a, b) => a.zxid - b.zxid);
}

export function versionDir(dir: string): string {
  return path.join(dir, VERSION_DIR);
}

/** fsync a directory so a file created or renamed in it survives a crash. */
export function fsyncDir(dir: string): void {
  nodeStorageFs.fsyncDir(dir);
}
