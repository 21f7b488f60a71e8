// testing/: the deterministic simulator and its doubles — a seeded PRNG,
// simulated time (a clock and an ordered timer queue), a simulated disk with
// crash and I/O faults (SimFs), background snapshots on it, a simulated
// client population speaking through the real rings, and a reference model
// of the tree that every reply, watch event and recovery is checked against.
// vopr.ts is its command line.
//
// Production code never imports this folder (it exists for tests and the
// vopr script). Inside the simulated world nothing reads the real clock,
// sets a real timer, does real I/O or calls Math.random: the same seed gives
// the same trace, which a test asserts.

export * from './prng.js';
export * from './sim-time.js';
export * from './sim-fs.js';
export * from './sim-ops.js';
export * from './model.js';
export * from './sim-snapshot.js';
export * from './trace.js';
export * from './simulator.js';
