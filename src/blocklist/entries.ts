// The source entries section: every source's own entries, as the source lists
// them, with the days they were first and last seen (layout in
// docs/blocklist-format.md). Alerts and `repfilter check` name these entries
// instead of the table's split pieces.
//
// A 1M-entry section is 16 MB, so it is never held in memory as a whole. While
// the file streams past for its checksum, the loader checks the section's counts
// and start indexes and keeps only a sparse index: the first address of every
// 256th record of each source. A lookup reads the one 4 KiB block it needs,
// through a small cache, and checks the block's records before it uses them.
// Checking a million records at start-up would cost more than the rest of it.
//
// This file has the layout, the encoder and the record checks; entry-index.ts
// reads a section as it streams past, and entry-table.ts does the lookups.

import { BlocklistError } from "./format-error.js";

/** One entry of one source. Days count from 1970-01-01 UTC; 0 means unknown. */
export interface ListedEntry {
  first: number;
  last: number;
  firstSeen: number;
  lastSeen: number;
}

/** A stored entry: its source, its index in the section and its parent link (see `EntryTable.find`). */
export interface EntryRecord extends ListedEntry {
  source: number;
  index: number;
  parent: number;
}

/** Per-source figures gathered while the section is checked. */
export interface SourceEntrySummary {
  entries: number;
  /** Earliest known first-seen day, 0 when no entry has dates. */
  firstSeen: number;
  /** Latest known last-seen day, 0 when no entry has dates. */
  lastSeen: number;
}

export const SECTION_SOURCE_ENTRIES = 4;
export const ENTRY_RECORD_LENGTH = 16;
export const NO_PARENT = 0xffffffff;
/** Largest day number a record can store (u16): 2149-06-06. */
export const MAX_DAY = 0xffff;
/** Records per block: the unit of the sparse index, of reads and of checks. */
export const BLOCK_RECORDS = 256;
export const HEAD_LENGTH = 8;

/** Reads bytes of the record area: a view of a buffer, or a positional read of the file. */
export interface RecordReader {
  read(offset: number, length: number): Uint8Array;
  /** Fills `target` from `offset` and returns the byte count; only readers that copy have it. */
  readInto?(offset: number, target: Uint8Array): number;
  close(): void;
}

/** Sorts, deduplicates and links one source's entries into section order. */
function sortEntries(entries: ReadonlyArray<ListedEntry>): ListedEntry[] {
  const sorted = [...entries].sort((a, b) => a.first - b.first || b.last - a.last);
  const unique: ListedEntry[] = [];
  for (const entry of sorted) {
    const previous = unique[unique.length - 1];
    if (previous !== undefined && previous.first === entry.first && previous.last === entry.last) {
      previous.firstSeen = earliestDay(previous.firstSeen, entry.firstSeen);
      previous.lastSeen = Math.max(previous.lastSeen, entry.lastSeen);
    } else {
      unique.push({ first: entry.first, last: entry.last, firstSeen: entry.firstSeen, lastSeen: entry.lastSeen });
    }
  }
  return unique;
}

export function earliestDay(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}

/** Encodes the section body for `sources`, each a list of entries in any order. */
export function encodeEntrySection(sources: ReadonlyArray<ReadonlyArray<ListedEntry>>): Uint8Array {
  const sorted = sources.map(sortEntries);
  const count = sorted.reduce((sum, entries) => sum + entries.length, 0);
  const recordsOffset = HEAD_LENGTH + 4 * (sources.length + 1);
  const body = new Uint8Array(recordsOffset + count * ENTRY_RECORD_LENGTH);
  const view = new DataView(body.buffer);
  view.setUint32(0, sources.length, true);
  view.setUint32(4, count, true);
  let index = 0;
  sorted.forEach((entries, source) => {
    view.setUint32(HEAD_LENGTH + 4 * source, index, true);
    const sourceStart = index;
    // Parent: the last earlier entry whose end reaches this entry's first address.
    // The entries still open at that address form a stack in this order.
    const open: number[] = [];
    for (const entry of entries) {
      while (open.length > 0 && sorted[source]![open[open.length - 1]! - sourceStart]!.last < entry.first) open.pop();
      const parent = open.length > 0 ? open[open.length - 1]! : NO_PARENT;
      const at = recordsOffset + index * ENTRY_RECORD_LENGTH;
      view.setUint32(at, entry.first, true);
      view.setUint32(at + 4, entry.last, true);
      view.setUint16(at + 8, checkedDay(entry.firstSeen), true);
      view.setUint16(at + 10, checkedDay(entry.lastSeen), true);
      view.setUint32(at + 12, parent, true);
      open.push(index);
      index++;
    }
  });
  view.setUint32(HEAD_LENGTH + 4 * sources.length, count, true);
  return body;
}

function checkedDay(day: number): number {
  if (!Number.isInteger(day) || day < 0 || day > MAX_DAY) throw new RangeError(`day ${day} is outside 0-${MAX_DAY}`);
  return day;
}

/** Returns the byte offset of the records in a section body of `sourceCount` sources. */
export function recordsOffset(sourceCount: number): number {
  return HEAD_LENGTH + 4 * (sourceCount + 1);
}

/** Reads the records of an in-memory section body. */
export function memoryRecordReader(body: Uint8Array): RecordReader {
  const start = body.length >= HEAD_LENGTH ? recordsOffset(new DataView(body.buffer, body.byteOffset, 4).getUint32(0, true)) : 0;
  return {
    read: (offset, length) => body.subarray(start + offset, start + offset + length),
    close: () => {},
  };
}

export type Fail = (code: string, problem: string) => never;

export function sectionError(problem: string): BlocklistError {
  return new BlocklistError("ERR_BLOCKLIST_SECTION", `source entries section ${problem}`);
}

/** Returns a problem with `count` records at the start of `words` (the first of them is record `index`), or undefined. */
export function checkRecords(words: Uint32Array, index: number, sourceStart: number): string | undefined {
  let previousFirst = 0;
  let previousLast = 0;
  for (let word = 0; word < words.length; word += 4, index++) {
    const first = words[word]!;
    const last = words[word + 1]!;
    const seen = words[word + 2]!;
    const parent = words[word + 3]!;
    const firstSeen = seen & 0xffff;
    const lastSeen = seen >>> 16;
    let problem: string | undefined;
    if (first > last) problem = "starts after it ends";
    else if (word > 0 && (first < previousFirst || (first === previousFirst && last >= previousLast))) problem = "is out of order or repeats the entry before it";
    else if ((firstSeen === 0) !== (lastSeen === 0) || firstSeen > lastSeen) problem = `has first-seen day ${firstSeen} and last-seen day ${lastSeen}`;
    else if (parent !== NO_PARENT && (parent < sourceStart || parent >= index)) problem = `names parent ${parent}, outside its source's earlier entries`;
    if (problem !== undefined) return `entry ${index} ${problem}`;
    previousFirst = first;
    previousLast = last;
  }
  return undefined;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * Returns records as u32 words, four per record (the two days share the third,
 * first-seen in its low half): a view when the host is little-endian and the
 * bytes aligned, else a copy.
 */
export function recordWords(bytes: Uint8Array): Uint32Array {
  if (LITTLE_ENDIAN_HOST && bytes.byteOffset % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const words = new Uint32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < words.length; i++) words[i] = view.getUint32(i * 4, true);
  return words;
}
