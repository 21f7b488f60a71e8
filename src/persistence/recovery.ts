// Recovery: the newest valid snapshot, then every logged txn after it.
//
//   1. Snapshots newest first (up to 100, as Apache): the first that reads
//      whole and passes its seal wins; a damaged one is logged and skipped.
//   2. The log files that can hold txns after the snapshot: the last one
//      starting at or before it, and every later one.
//   3. Txns with a zxid above the snapshot's are applied in order. Within an
//      epoch, zxids must follow each other: a gap means a log is missing, and
//      recovery stops naming it (never a silent partial tree).
//   4. A torn tail (an entry a crash cut short, with nothing valid after it)
//      is truncated away with a log line; corruption with valid entries after
//      it stops recovery with the file and offset.
//   5. What recovery read is made durable before the server serves it: every
//      log it read and both directories are fsynced. After a process crash
//      the page cache can hold writes, truncations and removals that never
//      reached the disk: txns replayed from it are then seen by clients, and
//      txns cut from it get their zxids reused; either must survive a power
//      loss as recovery saw it.
//
// No snapshot but logged txns: Apache's snapshot.trust.empty rule applies
// (refuse unless the operator trusts an empty snapshot).

import { Logger } from '../util/log.js';
import { listZxidFiles, LOG_PREFIX, SNAPSHOT_PREFIX } from './file-names.js';
import { looksComplete, readSnapshotFile, removeStaleTemporaries } from './snapshot-file.js';
import type { SnapshotSink } from './snapshot-format.js';
import { scanLogFile } from './txn-log-reader.js';
import type { TxnEntry } from './txn-entry.js';
import { nodeStorageFs, type StorageFs } from './storage-fs.js';

const log = new Logger('recovery');

export class RecoveryError extends Error {
  override name = 'RecoveryError';
}

export interface RecoveryTarget extends SnapshotSink {
  /** Forget what was loaded (a snapshot failed part-way; an older one is tried next). */
  reset(): void;
  /**
   * The snapshot (if any) is in and the logs' txns come next. Apache sets
   * up its quotas at this point (DataTree.deserialize ends with setupQuota):
   * every quota is recounted from the snapshot's tree, and the txns replayed
   * after it update the counts as they did when they were first applied.
   */
  loaded?(): void;
  /** Apply one logged txn. */
  apply(entry: TxnEntry): void;
}

export interface RecoveryOptions {
  /** version-2 directory of dataDir (snapshots). */
  snapDir: string;
  /** version-2 directory of dataLogDir (txn logs). */
  logDir: string;
  trustEmptySnapshot: boolean;
  /** The file system (node:fs unless a test or the simulator gives another). */
  fs?: StorageFs;
}

export interface RecoveryReport {
  snapshotFile: string | null;
  snapshotZxid: number;
  snapshotNodes: number;
  lastZxid: number;
  txnsReplayed: number;
  tornTails: { file: string; offset: number; bytes: number; reason: string }[];
  /** Log files with no valid txn, removed. */
  emptyLogsRemoved: string[];
  logFiles: number;
  ms: number;
}

const epochOf = (zxid: number) => Math.floor(zxid / 4294967296);

export function recover(opts: RecoveryOptions, target: RecoveryTarget): RecoveryReport {
  const t0 = performance.now();
  const fsys = opts.fs ?? nodeStorageFs;
  removeStaleTemporaries(opts.snapDir, fsys);
  const snapshots = listZxidFiles(opts.snapDir, SNAPSHOT_PREFIX, fsys).reverse();
  let snapshotFile: string | null = null;
  let snapshotZxid = -1;
  let snapshotNodes = 0;
  let tried = 0;
  for (const s of snapshots) {
    if (tried >= 100) break;
    if (!looksComplete(s.path, fsys)) {
      log.warn(`skipping ${s.path}: incomplete (no seal at its end)`);
      continue;
    }
    tried++;
    try {
      target.reset();
      const t = performance.now();
      snapshotNodes = readSnapshotFile(s.path, target, fsys).nodes;
      snapshotFile = s.path;
      snapshotZxid = s.zxid;
      log.info(`loaded ${s.path}: ${snapshotNodes} nodes in ${(performance.now() - t).toFixed(0)} ms`);
      break;
    } catch (e) {
      log.warn(`snapshot ${s.path} is damaged (${(e as Error).message}); trying an older one`);
    }
  }
  if (snapshotFile === null && snapshots.length > 0) {
    throw new RecoveryError(`no valid snapshot in ${opts.snapDir} (${snapshots.length} found, all damaged or incomplete)`);
  }
  // With no snapshot the target is left as it was given: an empty tree.
  target.loaded?.();

  const logs = listZxidFiles(opts.logDir, LOG_PREFIX, fsys);
  let start = 0;
  if (snapshotFile !== null) {
    for (let i = 0; i < logs.length; i++) if (logs[i]!.zxid <= snapshotZxid) start = i;
  }
  const selected = logs.slice(start);
  const report: RecoveryReport = {
    snapshotFile, snapshotZxid: Math.max(0, snapshotZxid), snapshotNodes, lastZxid: Math.max(0, snapshotZxid),
    txnsReplayed: 0, tornTails: [], emptyLogsRemoved: [], logFiles: selected.length, ms: 0,
  };
  let prev = Math.max(0, snapshotZxid);
  let prevFile = snapshotFile ?? '(empty tree)';
  const read: string[] = [];
  for (let i = 0; i < selected.length; i++) {
    const f = selected[i]!;
    let first = true;
    // Entries are applied as the scan decodes them, not kept per file: a
    // corrupt entry further on still stops recovery (and the server) with
    // its file and offset.
    const scan = scanLogFile(f.path, prev + 1, fsys, (e, offset) => {
      if (first) {
        first = false;
        if (snapshotFile === null && !opts.trustEmptySnapshot) {
          throw new RecoveryError(`no snapshot found, but ${f.path} holds txns. Something is broken! ` +
            '(set snapshot.trust.empty=true only when upgrading from ZooKeeper 3.4, which could leave no snapshot)');
        }
        if (snapshotFile === null) {
          log.warn(`no snapshot found, but there are txn logs; trusting an empty snapshot (snapshot.trust.empty=true). This should only be allowed during upgrading.`);
        }
      }
      const z = e.hdr.zxid;
      if (z > prev + 1 && epochOf(z) === epochOf(prev)) {
        throw new RecoveryError(`txns 0x${(prev + 1).toString(16)} to 0x${(z - 1).toString(16)} are missing: ` +
          `${prevFile} ends at 0x${prev.toString(16)} and ${f.path} continues at 0x${z.toString(16)} (offset ${offset}); ` +
          'a txn log is missing or was deleted');
      }
      target.apply(e);
      if (z > prev) prev = z;
      report.txnsReplayed++;
    });
    if (scan.decoded > 0) prevFile = f.path;
    if (scan.torn !== null) {
      const size = fsys.statSync(f.path).size;
      const nonZero = tailHasData(fsys, f.path, scan.torn.offset, size);
      log.warn(`${f.path}: torn tail at offset ${scan.torn.offset} (${scan.torn.reason}); ` +
        `truncating the log there, after txn 0x${prev.toString(16)}${nonZero ? '' : ' (only padding follows)'}`);
      fsys.truncateSync(f.path, scan.torn.offset);
      report.tornTails.push({ file: f.path, offset: scan.torn.offset, bytes: size - scan.torn.offset, reason: scan.torn.reason });
    }
    if (scan.firstZxid === -1) {
      // Not one valid txn: a crash between creating the file and its first
      // durable write. It holds nothing; the next txn log will take its name.
      log.warn(`${f.path}: holds no txn (a crash before its first write was durable); removing it`);
      fsys.rmSync(f.path);
      report.emptyLogsRemoved.push(f.path);
    } else {
      read.push(f.path);
    }
  }
  for (const f of read) fsyncFile(fsys, f);
  fsys.fsyncDir(opts.logDir);
  if (opts.snapDir !== opts.logDir) fsys.fsyncDir(opts.snapDir);
  report.lastZxid = prev;
  report.ms = performance.now() - t0;
  return report;
}

function fsyncFile(fsys: StorageFs, file: string): void {
  const fd = fsys.openSync(file, 'r+');
  try {
    fsys.fsyncSync(fd);
  } finally {
    fsys.closeSync(fd);
  }
}

function tailHasData(fsys: StorageFs, file: string, from: number, size: number): boolean {
  const fd = fsys.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(Math.min(size - from, 1 << 16));
    const n = fsys.readSync(fd, buf, 0, buf.length, from);
    return buf.subarray(0, n).some((b) => b !== 0);
  } finally {
    fsys.closeSync(fd);
  }
}
