// The blocklist table: sorted, disjoint IPv4 ranges stored as two u32 arrays
// (first and last address of each range, both inclusive), probed by binary search.

let rangeStarts: usize = 0;
let rangeEnds: usize = 0;
let rangeCount: i32 = 0;

let pendingStarts: usize = 0;
let pendingCount: i32 = 0;

/**
 * Allocates room for a new table of `count` ranges and returns its address: `count`
 * u32 start addresses followed by `count` u32 end addresses. The caller fills it and
 * then calls `commitRanges`; until then probes use the current table.
 */
export function allocateRanges(count: i32): usize {
  if (pendingStarts != 0) heap.free(pendingStarts);
  pendingCount = count;
  // A zero-size block still gets an address, so an empty list is a valid table.
  pendingStarts = heap.alloc(<usize>max(count, 1) << 3);
  return pendingStarts;
}

/** Replaces the current table with the one filled after `allocateRanges`. */
export function commitRanges(): void {
  if (pendingStarts == 0) return;
  if (rangeStarts != 0) heap.free(rangeStarts);
  rangeStarts = pendingStarts;
  rangeCount = pendingCount;
  rangeEnds = rangeStarts + (<usize>rangeCount << 2);
  pendingStarts = 0;
  pendingCount = 0;
}

/** Returns the number of ranges in the current table. */
export function currentRangeCount(): i32 {
  return rangeCount;
}

/**
 * Returns the index of the range that contains `address`, or -1. The loop has no
 * data-dependent branch: it halves the candidate window until one range is left.
 */
// @ts-ignore: decorator
@inline
export function findRange(address: u32): i32 {
  let n = rangeCount;
  if (n == 0) return -1;
  let base: i32 = 0;
  while (n > 1) {
    const half = n >> 1;
    const middle = base + half;
    base = load<u32>(rangeStarts + (<usize>middle << 2)) <= address ? middle : base;
    n -= half;
  }
  const start = load<u32>(rangeStarts + (<usize>base << 2));
  const end = load<u32>(rangeEnds + (<usize>base << 2));
  return start <= address && address <= end ? base : -1;
}

/** Exported form of `findRange`, for tests. */
export function probe(address: u32): i32 {
  return findRange(address);
}
