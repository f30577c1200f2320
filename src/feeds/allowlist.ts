// Removing allowlisted ranges (addresses that must never alert) from a feed's entries.

import type { AddressRange } from "./policy.js";
import type { FeedEntry } from "./parse-result.js";

/** Sorts ranges and joins overlapping or adjacent ones. */
export function mergeRanges(ranges: ReadonlyArray<AddressRange>): AddressRange[] {
  const sorted = [...ranges].sort((a, b) => a.first - b.first);
  const merged: AddressRange[] = [];
  for (const range of sorted) {
    const previous = merged[merged.length - 1];
    if (previous !== undefined && range.first <= previous.last + 1) previous.last = Math.max(previous.last, range.last);
    else merged.push({ first: range.first, last: range.last });
  }
  return merged;
}

/**
 * Returns the entries with every allowlisted address cut out; an entry may be
 * split into pieces or vanish. `allow` must come from mergeRanges.
 */
export function subtractRanges(entries: ReadonlyArray<FeedEntry>, allow: ReadonlyArray<AddressRange>): { entries: FeedEntry[]; changed: number } {
  if (allow.length === 0) return { entries: [...entries], changed: 0 };
  const result: FeedEntry[] = [];
  let changed = 0;
  for (const entry of entries) {
    // The first allowlisted range that ends at or after the entry's start.
    let low = 0;
    let high = allow.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (allow[middle]!.last < entry.first) low = middle + 1;
      else high = middle;
    }
    let start = entry.first;
    let cut = false;
    for (let i = low; i < allow.length && allow[i]!.first <= entry.last; i++) {
      const range = allow[i]!;
      cut = true;
      if (range.first > start) result.push({ first: start, last: range.first - 1, line: entry.line });
      start = range.last + 1;
      if (start > entry.last) break;
    }
    if (start <= entry.last) result.push({ first: start, last: entry.last, line: entry.line });
    if (cut) changed++;
  }
  return { entries: result, changed };
}
