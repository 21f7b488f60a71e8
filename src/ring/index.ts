// ring/: SharedArrayBuffer SPSC rings and doorbells between the I/O workers
// and the sequencer. Owns the shared-memory layout (layout.ts is the only
// place an index into shared memory is defined). Must never block a thread
// that owns sockets: waiting is Atomics.waitAsync only.

export * from './layout.js';
export * from './spsc-ring.js';
export * from './doorbell.js';
export * from './messages.js';
