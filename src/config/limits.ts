// Every limit zoonode enforces, named, in one place. Each is checked at
// start-up against the configuration (see config.ts) or at the boundary it
// guards.

/** Default jute.maxbuffer: the largest frame body a client may send (Apache: 0xfffff). */
export const juteMaxBufferDefault = 0xfffff;
export const juteMaxBufferMax = 256 * 1024 * 1024;
/** I/O worker threads. */
export const workersMax = 64;
/** Records a sequencer drains from one ring per wake-up before serving its event loop. */
export const sequencerBatchMax = 1024;
/** Bytes of reply a connection may have queued before its socket is paused and, past the hard limit, closed. */
export const connectionOutboundSoftMax = 4 * 1024 * 1024;
export const connectionOutboundHardMax = 64 * 1024 * 1024;
/**
 * Reply bytes the sequencer may have waiting for a worker (parked for a full
 * reply ring, or at workers=0 not yet written to the sockets) before it takes
 * no new request until they are out.
 */
export const replyBacklogBytesMax = 8 * 1024 * 1024;
/** Requests of one session queued behind its own pending writes before its worker is throttled. */
export const sessionQueueMax = 100_000;
/** Paths in one setWatches request (bounded by the frame size anyway). */
export const setWatchesPathsMax = 1_000_000;
