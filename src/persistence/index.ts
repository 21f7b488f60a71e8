// persistence/: Apache ZooKeeper's on-disk formats — txn logs with group
// commit, snapshots written in slices, recovery, purge. The only user of the
// file system besides config, always through StorageFs (storage-fs.ts:
// node:fs by default, a simulated disk in src/testing). It does not know the
// DataTree: it reads and writes through the SnapshotSource/SnapshotSink/
// RecoveryTarget interfaces it declares. Invariant: a txn is reported durable only after the fsync
// that covers it (or, with forceSync=no, after its write).

export * from './storage-fs.js';
export * from './checksum.js';
export * from './file-names.js';
export * from './txn-entry.js';
export * from './txn-log.js';
export * from './txn-log-reader.js';
export * from './snapshot-format.js';
export * from './snapshot-file.js';
export * from './compression.js';
export * from './recovery.js';
export * from './purge.js';
