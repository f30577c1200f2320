// The blocklist table: sorted, disjoint IPv4 ranges stored as two u32 arrays, the
// first and the last address of each range, both inclusive. The arrays may lie in
// a list file's range section that JavaScript read straight into core memory, so
// a large list is held once, not once per language.
//
// Probes go through a bucket index with one entry per address prefix of
// `bucketBits` bits: bucket p is the first range that ends at or after the first
// address of prefix p. Every range that can contain an address of prefix p lies
// between bucket p and bucket p + 1 (inclusive), so the binary search runs over a
// handful of ranges instead of the whole table, and most misses end without
// touching the ranges at all. Large tables get more buckets (up to 2^18, 1 MiB)
// to keep that handful small.

const MIN_BUCKET_BITS: u32 = 16;
const MAX_BUCKET_BITS: u32 = 18;
/**
 * Tables with more ranges than this also get a coverage bitmap: one bit per /24,
 * set when any listed address lies in it. With a million ranges the bucket index
 * and the ranges (8 MiB) miss the CPU caches on every probe, while the bitmap
 * (2 MiB) mostly hits them and answers most misses alone. Small tables skip it:
 * their index stays in cache and the extra load would only cost time.
 */
const COVERAGE_THRESHOLD: i32 = 1 << 16;
const COVERAGE_BYTES: usize = 1 << 21;

/** The block that holds the current table's arrays, freed when a new table replaces it. */
let region: usize = 0;
let rangeStarts: usize = 0;
let rangeEnds: usize = 0;
let rangeCount: i32 = 0;
let buckets: usize = 0;
let bucketBits: u32 = MIN_BUCKET_BITS;
let coverage: usize = 0;
let useCoverage: bool = false;

let pendingRegion: usize = 0;
let pendingRegionLength: usize = 0;
let pendingStarts: usize = 0;
let pendingEnds: usize = 0;
let pendingCount: i32 = -1;

/**
 * Allocates a block of `length` bytes for a new table and returns its address. The
 * caller fills it and names the arrays inside it with `placeRanges` (or, after
 * `allocateRanges`, finds them at fixed places), then calls `commitRanges`; until
 * then probes use the current table. A second call drops the first block.
 */
export function allocateRegion(length: usize): usize {
  if (pendingRegion != 0) heap.free(pendingRegion);
  // A zero-size block still gets an address, so an empty list is a valid table.
  pendingRegion = heap.alloc(max<usize>(length, 8));
  pendingRegionLength = length;
  pendingCount = -1;
  return pendingRegion;
}

/**
 * Allocates a block for `count` ranges: `count` u32 first addresses followed by
 * `count` u32 last addresses. Returns its address.
 */
export function allocateRanges(count: i32): usize {
  const block = allocateRegion(<usize>count << 3);
  placeRanges(block, block + (<usize>count << 2), count);
  return block;
}

/**
 * Names the first and last address arrays of the pending table, which must lie
 * inside the block from `allocateRegion`. Returns false, and leaves the table
 * unusable, when they do not.
 */
export function placeRanges(starts: usize, ends: usize, count: i32): bool {
  const bytes = <usize>count << 2;
  const end = pendingRegion + pendingRegionLength;
  const inside = count >= 0 && starts >= pendingRegion && ends >= pendingRegion && starts + bytes <= end && ends + bytes <= end;
  pendingCount = inside ? count : -1;
  pendingStarts = starts;
  pendingEnds = ends;
  return inside;
}

/** Replaces the current table with the pending one and indexes it. Returns false when none is ready. */
export function commitRanges(): bool {
  if (pendingRegion == 0 || pendingCount < 0) return false;
  if (region != 0) heap.free(region);
  region = pendingRegion;
  rangeStarts = pendingStarts;
  rangeEnds = pendingEnds;
  rangeCount = pendingCount;
  pendingRegion = 0;
  pendingCount = -1;
  buildBuckets();
  buildCoverage();
  return true;
}

function buildCoverage(): void {
  useCoverage = rangeCount > COVERAGE_THRESHOLD;
  if (!useCoverage) {
    if (coverage != 0) heap.free(coverage);
    coverage = 0;
    return;
  }
  if (coverage == 0) coverage = heap.alloc(COVERAGE_BYTES);
  memory.fill(coverage, 0, COVERAGE_BYTES);
  for (let i: i32 = 0; i < rangeCount; i++) {
    const last = rangeEnd(i) >> 8;
    for (let block = rangeStart(i) >> 8; block <= last; block++) {
      const byte = coverage + (<usize>block >> 3);
      store<u8>(byte, load<u8>(byte) | (<u8>1 << <u8>(block & 7)));
      if (block == 0xffffff) break; // the last /24: block + 1 would wrap to 0
    }
  }
}

// @ts-ignore: decorator
@inline
function rangeStart(index: i32): u32 {
  return load<u32>(rangeStarts + (<usize>index << 2));
}

// @ts-ignore: decorator
@inline
function rangeEnd(index: i32): u32 {
  return load<u32>(rangeEnds + (<usize>index << 2));
}

/**
 * Picks about one bucket per range, between 2^16 and 2^MAX_BUCKET_BITS buckets.
 * The coverage bitmap already answers most probes of a large table, so the index
 * behind it stays at 1 MiB rather than growing with the table.
 */
function chooseBucketBits(count: i32): u32 {
  let bits = MIN_BUCKET_BITS;
  while (bits < MAX_BUCKET_BITS && (<i32>1 << bits) < count) bits++;
  return bits;
}

function buildBuckets(): void {
  const bits = chooseBucketBits(rangeCount);
  if (buckets == 0 || bits != bucketBits) {
    if (buckets != 0) heap.free(buckets);
    bucketBits = bits;
    buckets = heap.alloc(((<usize>1 << bits) + 1) << 2);
  }
  const bucketCount: u32 = 1 << bucketBits;
  const shift = 32 - bucketBits;
  let range: i32 = 0;
  for (let prefix: u32 = 0; prefix < bucketCount; prefix++) {
    const bucketStart = prefix << shift;
    while (range < rangeCount && rangeEnd(range) < bucketStart) range++;
    store<u32>(buckets + (<usize>prefix << 2), <u32>range);
  }
  store<u32>(buckets + (<usize>bucketCount << 2), <u32>rangeCount);
}

/** Returns the number of ranges in the current table. */
export function currentRangeCount(): i32 {
  return rangeCount;
}

/** Returns the index of the range that contains `address`, or -1. */
// @ts-ignore: decorator
@inline
export function findRange(address: u32): i32 {
  if (rangeCount == 0) return -1;
  if (useCoverage) {
    const block = address >> 8;
    if ((load<u8>(coverage + (<usize>block >> 3)) & (<u8>1 << <u8>(block & 7))) == 0) return -1;
  }
  const bucket = buckets + (<usize>(address >> (32 - bucketBits)) << 2);
  const low = <i32>load<u32>(bucket);
  let high = <i32>load<u32>(bucket, 4);
  if (high >= rangeCount) high = rangeCount - 1;
  if (low > high) return -1;
  return searchWindow(address, low, high - low + 1);
}

/** Returns the index of the range that contains `address`, searching the whole table. */
export function findRangeBinary(address: u32): i32 {
  if (rangeCount == 0) return -1;
  return searchWindow(address, 0, rangeCount);
}

/**
 * Searches ranges [base, base + n) for the last one that starts at or before
 * `address` and returns it if it contains the address, else -1. The loop has no
 * data-dependent branch: it halves the window until one range is left.
 */
// @ts-ignore: decorator
@inline
function searchWindow(address: u32, base: i32, n: i32): i32 {
  while (n > 1) {
    const half = n >> 1;
    const middle = base + half;
    base = rangeStart(middle) <= address ? middle : base;
    n -= half;
  }
  return rangeStart(base) <= address && address <= rangeEnd(base) ? base : -1;
}

/** Exported form of `findRange`, for tests. */
export function probe(address: u32): i32 {
  return findRange(address);
}

/** Exported form of `findRangeBinary`, the reference the tests compare `probe` with. */
export function probeBinary(address: u32): i32 {
  return findRangeBinary(address);
}
