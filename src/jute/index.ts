// jute/: the pure codec of ZooKeeper's wire records. Owns byte-level encoding
// and the protocol's constants. Must never do I/O or know about sessions,
// trees or threads. Invariant: reading past a record's end throws JuteError;
// nothing here allocates per field beyond the values it returns.

export * from './reader.js';
export * from './writer.js';
export * from './opcodes.js';
export * from './errors.js';
export * from './records.js';
export * from './frame.js';
export * from './txn.js';
