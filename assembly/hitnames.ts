// The names of each hit, copied out of the names table when the hit is written,
// because the table may change or evict the entry before JavaScript reads the
// batch. A hit's names are a count byte, then per name a sources byte (NAME_*
// bits), a length byte and the name bytes, most recently seen first.

import { MAX_NAME_LENGTH } from "./abi";

/** Names one entry and so one hit can carry. */
export const NAMES_PER_ENTRY: i32 = 4;
/** Bytes of the names of one hit, at most. */
export const MAX_HIT_NAMES_LENGTH: u32 = 1 + <u32>NAMES_PER_ENTRY * (2 + MAX_NAME_LENGTH);
/**
 * Room for the names of one batch. A batch stops with STATUS_HITS_FULL before a
 * packet whose hits might not fit, so this bounds only the number of hits with
 * long names per batch. Repeated hits on one entry share one copy.
 */
const HIT_NAMES_CAPACITY: u32 = 256 * 1024;

let hitNames: usize = 0;
/** Bytes used in the current batch. */
export let hitNamesLength: u32 = 0;
/** Number of the current batch, so that an entry copied in this batch can be shared. */
export let hitBatchSerial: u32 = 1;

/** Returns the address of the names buffer, allocating it on first use. */
export function hitNamesPointer(): usize {
  if (hitNames == 0) hitNames = heap.alloc(HIT_NAMES_CAPACITY);
  return hitNames;
}

/** Starts a new batch: earlier offsets are no longer valid. */
export function clearHitNames(): void {
  hitNamesLength = 0;
  hitBatchSerial++;
  if (hitBatchSerial == 0) hitBatchSerial = 1; // 0 marks an entry never copied
}

/** Returns whether the hits of one more packet (at most `hits`) fit with their names. */
// @ts-ignore: decorator
@inline
export function hasRoomForHitNames(hits: i32): bool {
  return hitNamesLength + <u32>hits * MAX_HIT_NAMES_LENGTH <= HIT_NAMES_CAPACITY;
}

/** Reserves `length` bytes for a hit's names and returns their offset in the buffer. */
export function reserveHitNames(length: u32): u32 {
  hitNamesPointer();
  const offset = hitNamesLength;
  hitNamesLength += length;
  return offset;
}
