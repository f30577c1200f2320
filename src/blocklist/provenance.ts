// What the feeds list for an address: per source that lists it, the source's own
// entry that contains it and the days that entry was first and last seen. The
// table's ranges are pieces cut where entries of different sources overlap, so a
// range is never shown as what a feed lists.

import type { Blocklist } from "./build.js";

/** One source's entry for an address. Days count from 1970-01-01 UTC; 0 means unknown. */
export interface Listing {
  /** Index into the list's sources. */
  source: number;
  first: number;
  last: number;
  firstSeen: number;
  lastSeen: number;
}

const DAY_MS = 86_400_000;

/**
 * Returns a listing per source of range `range`, in the order of its source set.
 * `address` must lie in the range. Without a source entries section (files from
 * before it existed) a source's entry is taken to be the longest run of adjacent
 * ranges that the source lists, and its days are unknown.
 */
export function listingsAt(list: Blocklist, range: number, address: number): Listing[] {
  const set = list.sets[list.setIds[range]!] ?? [];
  return set.map((source) => {
    const entry = list.entries?.find(source, address);
    if (entry !== undefined) return entry;
    const run = runAround(list, range, source);
    return { source, first: run.first, last: run.last, firstSeen: 0, lastSeen: 0 };
  });
}

/**
 * Returns the run of adjacent ranges around `range` that `source` lists.
 * NOTE: this walks the run, so it costs its length; only files without the
 * source entries section need it, and labels cache the result per range.
 */
function runAround(list: Blocklist, range: number, source: number): { first: number; last: number } {
  const lists = (index: number): boolean => list.sets[list.setIds[index]!]?.includes(source) === true;
  let low = range;
  while (low > 0 && list.ends[low - 1]! + 1 === list.starts[low]! && lists(low - 1)) low--;
  let high = range;
  while (high + 1 < list.starts.length && list.ends[high]! + 1 === list.starts[high + 1]! && lists(high + 1)) high++;
  return { first: list.starts[low]!, last: list.ends[high]! };
}

/** Returns the narrowest of the listings (the first of equally narrow ones). */
export function narrowest(listings: ReadonlyArray<Listing>): Listing | undefined {
  let best: Listing | undefined;
  for (const listing of listings) {
    if (best === undefined || listing.last - listing.first < best.last - best.first) best = listing;
  }
  return best;
}

/** Returns the earliest known first-seen day of the listings, or 0 when none is known. */
export function listedSince(listings: ReadonlyArray<Listing>): number {
  let since = 0;
  for (const listing of listings) {
    if (listing.firstSeen !== 0 && (since === 0 || listing.firstSeen < since)) since = listing.firstSeen;
  }
  return since;
}

/** Returns the UTC day number of a time in ms since the Unix epoch. */
export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** Formats a day number as YYYY-MM-DD. */
export function formatDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}
