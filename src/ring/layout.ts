// Every shared index in one place. A ring is one SharedArrayBuffer:
//
//   bytes [0, 64)            Int32 head  (consumer position, wrapping u32 byte counter)
//   bytes [64, 128)          Int32 tail  (producer position)
//   bytes [128, 128+cap)     data: records, each 8-byte aligned
//
//   record = u32 length, payload[length], pad to 8
//   a record never straddles the end of data: the producer writes the
//   WRAP marker as the length and continues at offset 0.
//
// head and tail sit on separate cache lines so producer and consumer do not
// bounce one line between cores. A control SharedArrayBuffer holds one
// doorbell word per consuming thread (see doorbell.ts) and shared counters.

import { workersMax } from '../config/limits.js';

export const RING_HEAD_INDEX = 0; // Int32 index
export const RING_TAIL_INDEX = 16; // Int32 index (byte 64)
export const RING_HEADER_BYTES = 128;
export const RING_WRAP = 0xffffffff;
export const RING_ALIGN = 8;

/** Smallest data capacity; also the default for small deployments. */
export const ringCapacityMin = 1 << 16;
export const ringCapacityMax = 1 << 30;

/** Control block: Int32 slots. */
export const CTRL_SEQUENCER_BELL = 0;
/** Worker i's doorbell is CTRL_WORKER_BELL_BASE + i * CTRL_STRIDE. */
export const CTRL_WORKER_BELL_BASE = 16;
export const CTRL_STRIDE = 16;
/** Last committed zxid, published by the sequencer for workers' ping replies: BigInt64 slot index. */
export const CTRL_LAST_ZXID_I64 = 4;
export const CTRL_BYTES = (CTRL_WORKER_BELL_BASE + workersMax * CTRL_STRIDE) * 4;

export function ringBytes(capacity: number): number {
  return RING_HEADER_BYTES + capacity;
}

/** Capacity for a ring that must carry any single frame of frameSizeMax bytes with room to spare. */
export function ringCapacityFor(frameSizeMax: number): number {
  let cap = ringCapacityMin;
  const want = Math.min(ringCapacityMax, 4 * (frameSizeMax + 256));
  while (cap < want) cap *= 2;
  return cap;
}
