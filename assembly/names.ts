// The names table: which host names a client used for a server address, learned
// from DNS answers, TLS server names and HTTP Host headers in the same capture.
//
// It is a fixed-size, 4-way set-associative table keyed by (client, server). An
// entry keeps up to NAMES_PER_ENTRY names, each with its sources and the time it
// was last seen (a counter, not capture time). A full set gives way to its least
// recently used entry, and a full entry to its least recently seen name; both
// are counted. Nothing is allocated per packet: the table is allocated once, when
// the first name is recorded.

import { C_NAMES_DNS, C_NAMES_EVICTED, C_NAMES_HTTP, C_NAMES_REJECTED, C_NAMES_REPLACED, C_NAMES_SNI, MAX_NAME_LENGTH, NAME_CNAME, NAME_DNS, NAME_HTTP, NAME_SNI } from "./abi";
import { addCounter } from "./counters";
import { hitBatchSerial, hitNamesPointer, NAMES_PER_ENTRY, reserveHitNames } from "./hitnames";

const WAYS: u32 = 4;
/** Maximum entries that `setTableSize` accepts (about 140 MB). */
export const MAX_NAMES_TABLE_ENTRIES: u32 = 131072;

// Entry layout. The header is followed by NAMES_PER_ENTRY name slots.
const ENTRY_CLIENT: usize = 0; // u32
const ENTRY_SERVER: usize = 4; // u32
const ENTRY_LAST_USED: usize = 8; // u32, clock value of the last record or lookup
const ENTRY_USED: usize = 12; // u8, 1 when the entry is in use
const ENTRY_UNREPORTED: usize = 13; // u8, 1 when a name was added since the last reported hit
const ENTRY_NAME_COUNT: usize = 14; // u8
const ENTRY_COPY_BATCH: usize = 16; // u32, hitBatchSerial of the last copy into the hit names
const ENTRY_COPY_OFFSET: usize = 20; // u32, offset of that copy
const ENTRY_COPY_LENGTH: usize = 24; // u32, length of that copy
const ENTRY_VERSION: usize = 32; // f64, the value of `namesVersion` after the entry's last change
const ENTRY_HEADER_SIZE: usize = 40;

// Name slot layout.
const SLOT_LAST_SEEN: usize = 0; // u32, clock value
const SLOT_SOURCES: usize = 4; // u8, NAME_* bits
const SLOT_LENGTH: usize = 5; // u8
const SLOT_BYTES: usize = 6;
const SLOT_SIZE: usize = (SLOT_BYTES + <usize>MAX_NAME_LENGTH + 3) & ~3;
const ENTRY_SIZE: usize = ENTRY_HEADER_SIZE + <usize>NAMES_PER_ENTRY * SLOT_SIZE;

let table: usize = 0;
let tableSets: u32 = 0;
let allocatedSets: u32 = 0;
/**
 * Orders records and lookups for the least-recently-used choices.
 * NOTE: it wraps after 2^32 records and lookups, after which those choices are
 * wrong (never unsafe) until old entries are replaced.
 */
let clock: u32 = 0;
/**
 * Counts changes to any entry, so that a version identifies one content of one
 * entry for the whole run: JavaScript caches formatted names by it. An f64
 * counts exactly up to 2^53, far beyond any capture.
 */
let namesVersion: f64 = 0;

/** Set when name tracking is on (a table size above 0). */
export let namesEnabled: bool = false;

/**
 * Sizes the table to `entries` (rounded up to a multiple of 4, at most
 * MAX_NAMES_TABLE_ENTRIES) and empties it; 0 turns name tracking off. Memory is
 * allocated only when the table grows beyond its largest earlier size.
 */
export function setTableSize(entries: u32): void {
  const sets = (min(entries, MAX_NAMES_TABLE_ENTRIES) + WAYS - 1) / WAYS;
  namesEnabled = sets > 0;
  tableSets = sets;
  tableReady = false;
  clock = 0;
  if (sets > 0) hitNamesPointer();
}

/** Set once the table is allocated and emptied for the current size: until then no pair has names. */
export let tableReady: bool = false;

/**
 * Allocates and empties the table when the first name is recorded, so that a
 * capture without names costs no table memory (8.7 MB at the default size).
 */
function prepareTable(): void {
  if (tableSets > allocatedSets) {
    if (table != 0) heap.free(table);
    table = heap.alloc(<usize>tableSets * WAYS * ENTRY_SIZE);
    allocatedSets = tableSets;
  }
  memory.fill(table, 0, <usize>tableSets * WAYS * ENTRY_SIZE);
  tableReady = true;
}

/** Returns the table's capacity in entries (0 when name tracking is off). */
export function namesTableEntries(): u32 {
  return tableSets * WAYS;
}

// @ts-ignore: decorator
@inline
function setFor(client: u32, server: u32): usize {
  const hash = (client * 0x9e3779b1) ^ (server * 0x85ebca77);
  return table + <usize>((hash ^ (hash >> 15)) % tableSets) * WAYS * ENTRY_SIZE;
}

/** Returns the entry for (client, server), or 0 when there is none. */
export function findNames(client: u32, server: u32): usize {
  if (!tableReady) return 0;
  const set = setFor(client, server);
  for (let way: u32 = 0; way < WAYS; way++) {
    const entry = set + <usize>way * ENTRY_SIZE;
    if (load<u8>(entry, ENTRY_USED) != 0 && load<u32>(entry, ENTRY_CLIENT) == client && load<u32>(entry, ENTRY_SERVER) == server) {
      store<u32>(entry, ++clock, ENTRY_LAST_USED);
      return entry;
    }
  }
  return 0;
}

/** Returns the entry for (client, server), taking the least recently used way of its set when new. */
function claimEntry(client: u32, server: u32): usize {
  if (!tableReady) prepareTable();
  const found = findNames(client, server);
  if (found != 0) return found;
  const set = setFor(client, server);
  let victim = set;
  let victimUsed: u32 = 0xffffffff;
  for (let way: u32 = 0; way < WAYS; way++) {
    const entry = set + <usize>way * ENTRY_SIZE;
    if (load<u8>(entry, ENTRY_USED) == 0) {
      victim = entry;
      break;
    }
    const lastUsed = load<u32>(entry, ENTRY_LAST_USED);
    if (lastUsed < victimUsed) {
      victimUsed = lastUsed;
      victim = entry;
    }
  }
  if (load<u8>(victim, ENTRY_USED) != 0) addCounter(C_NAMES_EVICTED, 1);
  memory.fill(victim, 0, ENTRY_HEADER_SIZE);
  store<u32>(victim, client, ENTRY_CLIENT);
  store<u32>(victim, server, ENTRY_SERVER);
  store<u8>(victim, 1, ENTRY_USED);
  store<u32>(victim, ++clock, ENTRY_LAST_USED);
  return victim;
}

/** Marks an entry changed: its earlier copy is stale and its next hit alerts. */
function markChanged(entry: usize): void {
  store<u8>(entry, 1, ENTRY_UNREPORTED);
  markReordered(entry);
}

/**
 * Marks an entry whose names changed order only: its earlier copy and its
 * version are stale, but the same names do not make a suppressed hit alert again.
 */
function markReordered(entry: usize): void {
  store<u32>(entry, 0, ENTRY_COPY_BATCH);
  namesVersion += 1;
  store<f64>(entry, namesVersion, ENTRY_VERSION);
}

/** Returns whether slot `index` of `entry` was seen last of its `count` slots. */
function isNewestSlot(entry: usize, count: i32, index: i32): bool {
  const seen = load<u32>(entry + ENTRY_HEADER_SIZE + <usize>index * SLOT_SIZE, SLOT_LAST_SEEN);
  for (let i = 0; i < count; i++) {
    if (i != index && load<u32>(entry + ENTRY_HEADER_SIZE + <usize>i * SLOT_SIZE, SLOT_LAST_SEEN) > seen) return false;
  }
  return true;
}

/** A lower-cased copy of the name being recorded, so the caller's bytes stay unchanged. */
let scratch: usize = 0;

function copyLowerCase(name: usize, length: u32): usize {
  if (scratch == 0) scratch = heap.alloc(<usize>MAX_NAME_LENGTH);
  for (let i: u32 = 0; i < length; i++) {
    const byte = load<u8>(name + i);
    store<u8>(scratch + i, byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte);
  }
  return scratch;
}

function countRecorded(source: u8): void {
  if (source == NAME_SNI) addCounter(C_NAMES_SNI, 1);
  else if (source == NAME_HTTP) addCounter(C_NAMES_HTTP, 1);
  else if (source == NAME_DNS || source == NAME_CNAME) addCounter(C_NAMES_DNS, 1);
}

/**
 * Records that `client` used the name at `name` (`length` bytes) for `server`,
 * learned from `source` (one NAME_* bit). The stored copy has its ASCII letters
 * lower-cased, because DNS names compare without case. The bytes at `original`,
 * which may be packet data, stay unchanged. Empty names and names longer than
 * MAX_NAME_LENGTH are counted and not recorded.
 */
export function recordName(client: u32, server: u32, source: u8, original: usize, length: u32): void {
  if (!namesEnabled) return;
  if (length == 0 || length > MAX_NAME_LENGTH) {
    addCounter(C_NAMES_REJECTED, 1);
    return;
  }
  const name = copyLowerCase(original, length);
  countRecorded(source);
  const entry = claimEntry(client, server);
  const now = ++clock;
  const count = <i32>load<u8>(entry, ENTRY_NAME_COUNT);
  for (let i = 0; i < count; i++) {
    const slot = entry + ENTRY_HEADER_SIZE + <usize>i * SLOT_SIZE;
    if (<u32>load<u8>(slot, SLOT_LENGTH) != length || memory.compare(slot + SLOT_BYTES, name, length) != 0) continue;
    // Hits list names newest first, so a name that moves to the front changes what they show.
    const movesToFront = !isNewestSlot(entry, count, i);
    store<u32>(slot, now, SLOT_LAST_SEEN);
    const sources = load<u8>(slot, SLOT_SOURCES);
    if ((sources & source) == 0) {
      store<u8>(slot, sources | source, SLOT_SOURCES);
      markChanged(entry);
    } else if (movesToFront) {
      markReordered(entry);
    }
    return;
  }

  let target = count;
  if (count < NAMES_PER_ENTRY) {
    store<u8>(entry, <u8>(count + 1), ENTRY_NAME_COUNT);
  } else {
    target = oldestSlot(entry, count);
    addCounter(C_NAMES_REPLACED, 1);
  }
  const slot = entry + ENTRY_HEADER_SIZE + <usize>target * SLOT_SIZE;
  store<u32>(slot, now, SLOT_LAST_SEEN);
  store<u8>(slot, source, SLOT_SOURCES);
  store<u8>(slot, <u8>length, SLOT_LENGTH);
  memory.copy(slot + SLOT_BYTES, name, length);
  markChanged(entry);
}

function oldestSlot(entry: usize, count: i32): i32 {
  let oldest = 0;
  let oldestSeen: u32 = 0xffffffff;
  for (let i = 0; i < count; i++) {
    const seen = load<u32>(entry + ENTRY_HEADER_SIZE + <usize>i * SLOT_SIZE, SLOT_LAST_SEEN);
    if (seen < oldestSeen) {
      oldestSeen = seen;
      oldest = i;
    }
  }
  return oldest;
}

/**
 * Returns the entry whose names belong on a hit, or 0. For a listed destination
 * these are the names the source used for it. Otherwise, or when there are none
 * and the source is listed too, they are the names the destination used for the
 * source.
 */
export function findNamesForHit(src: u32, dst: u32, srcListed: bool, dstListed: bool): usize {
  if (dstListed) {
    const entry = findNames(src, dst);
    if (entry != 0 || !srcListed) return entry;
  }
  return findNames(dst, src);
}

/** Returns whether a name was added to `entry` since a hit last reported it. */
export function hasUnreportedNames(entry: usize): bool {
  return load<u8>(entry, ENTRY_UNREPORTED) != 0;
}

/** Offset of the names that the last `copyNamesForHit` wrote (see hitnames.ts). */
export let copiedNamesOffset: u32 = 0;
/** Length of those names in bytes. */
export let copiedNamesLength: u32 = 0;
/** Version of those names (see `namesVersion`). */
export let copiedNamesVersion: f64 = 0;

/**
 * Copies the names of `entry` into the hit names buffer, most recently seen
 * first, and sets the copiedNames* values. A second hit on an
 * unchanged entry in the same batch shares the first copy. `reported` clears
 * the entry's unreported mark (a suppressed hit leaves it).
 */
export function copyNamesForHit(entry: usize, reported: bool): void {
  if (reported) store<u8>(entry, 0, ENTRY_UNREPORTED);
  copiedNamesVersion = load<f64>(entry, ENTRY_VERSION);
  if (load<u32>(entry, ENTRY_COPY_BATCH) == hitBatchSerial) {
    copiedNamesOffset = load<u32>(entry, ENTRY_COPY_OFFSET);
    copiedNamesLength = load<u32>(entry, ENTRY_COPY_LENGTH);
    return;
  }
  const count = <i32>load<u8>(entry, ENTRY_NAME_COUNT);
  let length: u32 = 1;
  for (let i = 0; i < count; i++) length += 2 + <u32>load<u8>(entry + ENTRY_HEADER_SIZE + <usize>i * SLOT_SIZE, SLOT_LENGTH);
  const offset = reserveHitNames(length);
  let out = hitNamesPointer() + offset;
  store<u8>(out++, <u8>count);

  // Selection by last-seen time, newest first: at most NAMES_PER_ENTRY passes.
  let taken: u32 = 0;
  for (let n = 0; n < count; n++) {
    let best = -1;
    let bestSeen: u32 = 0;
    for (let i = 0; i < count; i++) {
      if ((taken & (1 << i)) != 0) continue;
      const seen = load<u32>(entry + ENTRY_HEADER_SIZE + <usize>i * SLOT_SIZE, SLOT_LAST_SEEN);
      if (best < 0 || seen > bestSeen) {
        best = i;
        bestSeen = seen;
      }
    }
    taken |= 1 << best;
    const slot = entry + ENTRY_HEADER_SIZE + <usize>best * SLOT_SIZE;
    const nameLength = load<u8>(slot, SLOT_LENGTH);
    store<u8>(out, load<u8>(slot, SLOT_SOURCES));
    store<u8>(out, nameLength, 1);
    memory.copy(out + 2, slot + SLOT_BYTES, nameLength);
    out += 2 + <usize>nameLength;
  }
  store<u32>(entry, hitBatchSerial, ENTRY_COPY_BATCH);
  store<u32>(entry, offset, ENTRY_COPY_OFFSET);
  store<u32>(entry, length, ENTRY_COPY_LENGTH);
  copiedNamesOffset = offset;
  copiedNamesLength = length;
}
