// Merging named lists into the blocklist table: sorted, disjoint ranges, each with
// the set of sources that list every address in it.

import { encodeEntrySection, type ListedEntry } from "./entries.js";
import { decodeEntrySection } from "./entry-index.js";
import type { EntryTable } from "./entry-table.js";
import { failWith } from "./format.js";

export interface SourceEntries {
  name: string;
  /** The ranges the source puts in the table. */
  entries: ReadonlyArray<{ first: number; last: number }>;
  /**
   * The source's entries as it lists them, with the days they were first and
   * last seen; by default `entries`, with unknown days. They differ when an
   * allowlist cut pieces out of an entry.
   */
  listed?: ReadonlyArray<ListedEntry>;
}

/** The blocklist as it is stored and loaded (see docs/blocklist-format.md). */
export interface Blocklist {
  /** Build time in milliseconds since the Unix epoch. */
  createdAt: number;
  /** The file's format version, for a list read from a file. */
  formatVersion?: number;
  sources: string[];
  /** Each set is an ascending list of indexes into `sources`. */
  sets: number[][];
  starts: Uint32Array;
  ends: Uint32Array;
  /** Index into `sets` for each range. */
  setIds: Uint32Array;
  /** Each source's own entries with their dates; missing in files written before this section existed. */
  entries?: EntryTable;
}

/** Largest number of sources one list can name: set members are stored as u16. */
export const MAX_SOURCES = 65535;

// An event packs (position, source, kind) into one float64 so that the sweep can
// sort a Float64Array: position * 2^17 + source * 2 + kind, where position is at
// most 2^32 and kind is 1 for a range start and 0 for the end of a range.
const SOURCE_FACTOR = 2 ** 17;

/**
 * Builds the table. Overlapping entries are split so that each part has one
 * source set. Ranges are never joined across an entry's first or last address,
 * even when the set stays the same, so every source entry either contains a
 * range whole or misses it: the entry that an alert names can then be cached
 * per range.
 */
export function buildBlocklist(inputs: ReadonlyArray<SourceEntries>, createdAt: number): Blocklist {
  if (inputs.length > MAX_SOURCES) throw new RangeError(`${inputs.length} sources exceed the maximum of ${MAX_SOURCES}`);
  let total = 0;
  for (const input of inputs) total += input.entries.length;
  const events = new Float64Array(total * 2);
  let count = 0;
  inputs.forEach((input, source) => {
    for (const { first, last } of input.entries) {
      events[count++] = first * SOURCE_FACTOR + source * 2 + 1;
      events[count++] = (last + 1) * SOURCE_FACTOR + source * 2;
    }
  });
  events.sort();

  const active = new Int32Array(inputs.length);
  const setIndex = new Map<string, number>();
  const sets: number[][] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const setIds: number[] = [];

  let i = 0;
  while (i < events.length) {
    const position = Math.floor(events[i]! / SOURCE_FACTOR);
    while (i < events.length && Math.floor(events[i]! / SOURCE_FACTOR) === position) {
      const low = events[i]! - position * SOURCE_FACTOR;
      const source = Math.floor(low / 2);
      active[source]! += low % 2 === 1 ? 1 : -1;
      i++;
    }
    if (i >= events.length) break;
    const next = Math.floor(events[i]! / SOURCE_FACTOR);
    const members: number[] = [];
    for (let source = 0; source < active.length; source++) if (active[source]! > 0) members.push(source);
    if (members.length === 0) continue;

    const key = members.join(",");
    let id = setIndex.get(key);
    if (id === undefined) {
      id = sets.length;
      sets.push(members);
      setIndex.set(key, id);
    }
    starts.push(position);
    ends.push(next - 1);
    setIds.push(id);
  }

  return {
    createdAt,
    sources: inputs.map((input) => input.name),
    sets,
    starts: Uint32Array.from(starts),
    ends: Uint32Array.from(ends),
    setIds: Uint32Array.from(setIds),
    entries: buildEntryTable(inputs),
  };
}

function buildEntryTable(inputs: ReadonlyArray<SourceEntries>): EntryTable {
  const body = encodeEntrySection(inputs.map((input) => input.listed ?? input.entries.map(({ first, last }) => ({ first, last, firstSeen: 0, lastSeen: 0 }))));
  return decodeEntrySection(body, inputs.length, failWith("new blocklist"));
}

/** Counts the addresses the table covers. */
export function addressCount(list: Blocklist): number {
  let total = 0;
  for (let i = 0; i < list.starts.length; i++) total += list.ends[i]! - list.starts[i]! + 1;
  return total;
}
