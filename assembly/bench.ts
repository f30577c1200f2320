// Entry points for the micro-benchmarks in bench/micro.ts: loops that run inside
// the core, so that the figures measure the work and not the calls into it.

import { findRange, findRangeBinary } from "./lookup";

let scratchBuffer: usize = 0;
let scratchSize: usize = 0;

/** Returns a buffer of at least `size` bytes that the caller may fill; reused between calls. */
export function scratch(size: usize): usize {
  if (size > scratchSize) {
    if (scratchBuffer != 0) heap.free(scratchBuffer);
    scratchBuffer = heap.alloc(size);
    scratchSize = size;
  }
  return scratchBuffer;
}

/** Probes `count` u32 addresses at `addresses`; `binary` picks the plain search. Returns the hits. */
export function lookupLoop(addresses: usize, count: i32, binary: bool): i32 {
  let hits = 0;
  for (let i = 0; i < count; i++) {
    const address = load<u32>(addresses + (<usize>i << 2));
    const index = binary ? findRangeBinary(address) : findRange(address);
    if (index >= 0) hits++;
  }
  return hits;
}
