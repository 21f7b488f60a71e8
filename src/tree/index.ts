// tree/: the data model as applied from committed txns: DataTree, znodes and
// their stats, paths, ACLs, watches, and session expiry bookkeeping. It is
// deterministic: time arrives as arguments (txn headers, `nowMs`), never from
// a clock, so the same txns always build the same tree. Must never do I/O or
// know about threads, rings or sockets.

export * from './paths.js';
export * from './acl-cache.js';
export * from './acl.js';
export * from './znode.js';
export * from './watch-manager.js';
export * from './session-tracker.js';
export * from './data-tree.js';
