// The source entries section: every source's own entries, as the source lists
// them, with the days they were first and last seen (layout in
// docs/blocklist-format.md). Alerts and `repfilter check` name these entries
// instead of the table's split pieces.
//
// A 1M-entry section is 16 MB, so it is never held in memory as a whole. The
// loader checks it record by record as the file streams past and keeps only a
// sparse index (the first address of every 256th record of each source). A lookup
// reads the one 4 KiB block it needs, through a small cache.

import { BlocklistError } from "./format-error.js";

/** One entry of one source. Days count from 1970-01-01 UTC; 0 means unknown. */
export interface ListedEntry {
  first: number;
  last: number;
  firstSeen: number;
  lastSeen: number;
}

/** A stored entry: its index in the section and its parent link (see `find`). */
export interface EntryRecord extends ListedEntry {
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
const BLOCK_RECORDS = 256;
const CACHED_BLOCKS = 64;
const HEAD_LENGTH = 8;

/** Reads bytes of the record area: a view of a buffer, or a positional read of the file. */
export interface RecordReader {
  read(offset: number, length: number): Uint8Array;
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
      unique.push({ ...entry });
    }
  }
  return unique;
}

function earliestDay(a: number, b: number): number {
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

/** Checks an in-memory section body and returns its table. */
export function decodeEntrySection(body: Uint8Array, sourceCount: number, fail: Fail): EntryTable {
  const checker = new EntrySectionChecker(body.length);
  checker.push(body);
  return checker.finish(sourceCount, memoryRecordReader(body), fail);
}

type Fail = (code: string, problem: string) => never;

/**
 * Checks a section body that arrives in pieces, in order, and builds the sparse
 * index as it goes. The first problem is kept and raised by `finish`, so that a
 * caller streaming the whole file can report a checksum mismatch first.
 */
export class EntrySectionChecker {
  readonly #bodyLength: number;
  #received = 0;
  #head = new Uint8Array(HEAD_LENGTH);
  #headLength = HEAD_LENGTH;
  #sourceCount = 0;
  #count = 0;
  #starts: Uint32Array | undefined;
  #keys: Uint32Array | undefined;
  #keyStarts: Uint32Array | undefined;
  #summaries: SourceEntrySummary[] = [];
  readonly #partial = new Uint8Array(ENTRY_RECORD_LENGTH);
  #partialLength = 0;
  #index = 0;
  #source = 0;
  #previousFirst = 0;
  #previousLast = 0;
  #problem: BlocklistError | undefined;

  constructor(bodyLength: number) {
    this.#bodyLength = bodyLength;
  }

  /** Takes the next bytes of the body. */
  push(bytes: Uint8Array): void {
    let offset = 0;
    while (offset < bytes.length && this.#problem === undefined) {
      if (this.#received < this.#headLength) {
        const take = Math.min(this.#headLength - this.#received, bytes.length - offset);
        this.#head.set(bytes.subarray(offset, offset + take), this.#received);
        this.#received += take;
        offset += take;
        if (this.#received === HEAD_LENGTH) this.#readCounts();
        else if (this.#received === this.#headLength && this.#starts === undefined) this.#readStarts();
        continue;
      }
      offset = this.#takeRecords(bytes, offset);
    }
  }

  /** Ends the body and returns the table over `reader`, or throws the first problem found. */
  finish(sourceCount: number, reader: RecordReader, fail: Fail): EntryTable {
    if (this.#problem === undefined && (this.#received < this.#bodyLength || this.#starts === undefined)) this.#fail(`is cut short at ${this.#received} bytes`);
    if (this.#problem !== undefined) fail(this.#problem.code, this.#problem.message);
    if (this.#sourceCount !== sourceCount) {
      fail("ERR_BLOCKLIST_SECTION", `source entries section covers ${this.#sourceCount} sources, but there are ${sourceCount}`);
    }
    return new EntryTable(this.#starts!, this.#keys!, this.#keyStarts!, this.#summaries, reader);
  }

  #fail(problem: string): void {
    this.#problem ??= new BlocklistError("ERR_BLOCKLIST_SECTION", `source entries section ${problem}`);
  }

  #readCounts(): void {
    const view = new DataView(this.#head.buffer);
    this.#sourceCount = view.getUint32(0, true);
    this.#count = view.getUint32(4, true);
    const recordsOffset = HEAD_LENGTH + 4 * (this.#sourceCount + 1);
    // Checked before any allocation, so that a damaged count cannot ask for memory.
    if (this.#sourceCount > 0xffff || recordsOffset + this.#count * ENTRY_RECORD_LENGTH !== this.#bodyLength) {
      this.#fail(`is ${this.#bodyLength} bytes, which does not fit ${this.#sourceCount} sources and ${this.#count} entries`);
      return;
    }
    const head = new Uint8Array(recordsOffset);
    head.set(this.#head);
    this.#head = head;
    this.#headLength = recordsOffset;
  }

  #readStarts(): void {
    const view = new DataView(this.#head.buffer);
    const starts = new Uint32Array(this.#sourceCount + 1);
    const keyStarts = new Uint32Array(this.#sourceCount + 1);
    for (let source = 0; source <= this.#sourceCount; source++) {
      starts[source] = view.getUint32(HEAD_LENGTH + 4 * source, true);
      const previous = source > 0 ? starts[source - 1]! : 0;
      if (starts[source]! < previous || starts[source]! > this.#count) {
        this.#fail(`gives source ${source} the invalid start index ${starts[source]}`);
        return;
      }
      if (source > 0) keyStarts[source] = keyStarts[source - 1]! + Math.ceil((starts[source]! - previous) / BLOCK_RECORDS);
      if (source < this.#sourceCount) this.#summaries.push({ entries: 0, firstSeen: 0, lastSeen: 0 });
    }
    if (starts[0] !== 0 || starts[this.#sourceCount] !== this.#count) {
      this.#fail(`start indexes run from ${starts[0]} to ${starts[this.#sourceCount]}, not from 0 to ${this.#count}`);
      return;
    }
    this.#starts = starts;
    this.#keyStarts = keyStarts;
    this.#keys = new Uint32Array(keyStarts[this.#sourceCount]!);
  }

  #takeRecords(bytes: Uint8Array, offset: number): number {
    if (this.#partialLength > 0) {
      const take = Math.min(ENTRY_RECORD_LENGTH - this.#partialLength, bytes.length - offset);
      this.#partial.set(bytes.subarray(offset, offset + take), this.#partialLength);
      this.#partialLength += take;
      this.#received += take;
      offset += take;
      if (this.#partialLength < ENTRY_RECORD_LENGTH) return offset;
      this.#checkRecord(new DataView(this.#partial.buffer), 0);
      this.#partialLength = 0;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    while (offset + ENTRY_RECORD_LENGTH <= bytes.length && this.#problem === undefined) {
      this.#checkRecord(view, offset);
      offset += ENTRY_RECORD_LENGTH;
      this.#received += ENTRY_RECORD_LENGTH;
    }
    if (offset < bytes.length && this.#problem === undefined) {
      this.#partial.set(bytes.subarray(offset), 0);
      this.#partialLength = bytes.length - offset;
      this.#received += this.#partialLength;
      offset = bytes.length;
    }
    return offset;
  }

  #checkRecord(view: DataView, at: number): void {
    const index = this.#index++;
    const starts = this.#starts!;
    while (index >= starts[this.#source + 1]!) this.#source++;
    const source = this.#source;
    const sourceStart = starts[source]!;
    const first = view.getUint32(at, true);
    const last = view.getUint32(at + 4, true);
    const firstSeen = view.getUint16(at + 8, true);
    const lastSeen = view.getUint16(at + 10, true);
    const parent = view.getUint32(at + 12, true);
    const where = `entry ${index} (source ${source})`;
    if (first > last) return this.#fail(`${where} starts after it ends`);
    if (index > sourceStart && (first < this.#previousFirst || (first === this.#previousFirst && last >= this.#previousLast))) {
      return this.#fail(`${where} is out of order or repeats the entry before it`);
    }
    if ((firstSeen === 0) !== (lastSeen === 0) || firstSeen > lastSeen) return this.#fail(`${where} has first-seen day ${firstSeen} and last-seen day ${lastSeen}`);
    if (parent !== NO_PARENT && (parent < sourceStart || parent >= index)) return this.#fail(`${where} names parent ${parent}, outside its source's earlier entries`);
    this.#previousFirst = first;
    this.#previousLast = last;

    const position = index - sourceStart;
    if (position % BLOCK_RECORDS === 0) this.#keys![this.#keyStarts![source]! + position / BLOCK_RECORDS] = first;
    const summary = this.#summaries[source]!;
    summary.entries++;
    if (firstSeen !== 0) {
      summary.firstSeen = earliestDay(summary.firstSeen, firstSeen);
      summary.lastSeen = Math.max(summary.lastSeen, lastSeen);
    }
  }
}

/** Lookups in a checked source entries section. */
export class EntryTable {
  readonly #starts: Uint32Array;
  readonly #keys: Uint32Array;
  readonly #keyStarts: Uint32Array;
  readonly #summaries: SourceEntrySummary[];
  readonly #reader: RecordReader;
  readonly #blocks = new Map<number, Uint8Array>();
  /** The first failed read of the file; lookups return nothing after it. */
  readFailure: Error | undefined;

  constructor(starts: Uint32Array, keys: Uint32Array, keyStarts: Uint32Array, summaries: SourceEntrySummary[], reader: RecordReader) {
    this.#starts = starts;
    this.#keys = keys;
    this.#keyStarts = keyStarts;
    this.#summaries = summaries;
    this.#reader = reader;
  }

  get count(): number {
    return this.#starts[this.#starts.length - 1]!;
  }

  summary(source: number): SourceEntrySummary {
    return this.#summaries[source] ?? { entries: 0, firstSeen: 0, lastSeen: 0 };
  }

  /**
   * Returns the most specific entry of `source` that contains `address`: of those
   * that contain it, the one that starts last, and the shortest of those that
   * start there. For CIDR blocks, which nest or are apart, that is the smallest.
   *
   * The search finds the last entry that starts at or before the address and
   * follows parent links from it. The entries that reach past a position are
   * exactly the chain of parents there, in decreasing order of first address, so
   * the first one on the chain that contains the address is the answer.
   */
  find(source: number, address: number): EntryRecord | undefined {
    if (this.readFailure !== undefined) return undefined;
    const start = this.#starts[source];
    const end = this.#starts[source + 1];
    if (start === undefined || end === undefined || start === end) return undefined;
    const keyStart = this.#keyStarts[source]!;
    const block = lastAtOrBelow(this.#keys, keyStart, this.#keyStarts[source + 1]!, address) - keyStart;
    if (block < 0) return undefined;
    try {
      const blockStart = start + block * BLOCK_RECORDS;
      const records = this.#block(source, block);
      const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
      let low = 0;
      let high = records.length / ENTRY_RECORD_LENGTH;
      while (high - low > 1) {
        const middle = (low + high) >>> 1;
        if (view.getUint32(middle * ENTRY_RECORD_LENGTH, true) <= address) low = middle;
        else high = middle;
      }
      let index = blockStart + low;
      // Each step moves to a smaller index, so the walk ends.
      while (index !== NO_PARENT) {
        const record = this.record(source, index);
        if (record.first <= address && address <= record.last) return record;
        index = record.parent;
      }
    } catch (error) {
      this.readFailure = error as Error;
    }
    return undefined;
  }

  /** Returns record `index`, which must belong to `source`. */
  record(source: number, index: number): EntryRecord {
    const position = index - this.#starts[source]!;
    const block = Math.floor(position / BLOCK_RECORDS);
    const records = this.#block(source, block);
    const at = (position - block * BLOCK_RECORDS) * ENTRY_RECORD_LENGTH;
    const view = new DataView(records.buffer, records.byteOffset + at, ENTRY_RECORD_LENGTH);
    return {
      index,
      first: view.getUint32(0, true),
      last: view.getUint32(4, true),
      firstSeen: view.getUint16(8, true),
      lastSeen: view.getUint16(10, true),
      parent: view.getUint32(12, true),
    };
  }

  /** Returns the section body, for writing the table to a new file. */
  encode(): Uint8Array {
    const sourceCount = this.#starts.length - 1;
    const recordsOffset = HEAD_LENGTH + 4 * (sourceCount + 1);
    const body = new Uint8Array(recordsOffset + this.count * ENTRY_RECORD_LENGTH);
    const view = new DataView(body.buffer);
    view.setUint32(0, sourceCount, true);
    view.setUint32(4, this.count, true);
    this.#starts.forEach((start, source) => view.setUint32(HEAD_LENGTH + 4 * source, start, true));
    body.set(this.#reader.read(0, this.count * ENTRY_RECORD_LENGTH), recordsOffset);
    return body;
  }

  /** Releases the file, when the table reads one. */
  close(): void {
    this.#blocks.clear();
    this.#reader.close();
  }

  #block(source: number, block: number): Uint8Array {
    const key = this.#keyStarts[source]! + block;
    const cached = this.#blocks.get(key);
    if (cached !== undefined) return cached;
    const first = this.#starts[source]! + block * BLOCK_RECORDS;
    const count = Math.min(BLOCK_RECORDS, this.#starts[source + 1]! - first);
    const records = this.#reader.read(first * ENTRY_RECORD_LENGTH, count * ENTRY_RECORD_LENGTH);
    if (records.length !== count * ENTRY_RECORD_LENGTH) throw new Error(`read ${records.length} of ${count * ENTRY_RECORD_LENGTH} bytes of source entries`);
    if (this.#blocks.size >= CACHED_BLOCKS) this.#blocks.delete(this.#blocks.keys().next().value!);
    this.#blocks.set(key, records);
    return records;
  }
}

/** Returns the last index in [from, to) whose value is at or below `value`, or from - 1. */
function lastAtOrBelow(values: Uint32Array, from: number, to: number, value: number): number {
  let low = from;
  let high = to;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (values[middle]! <= value) low = middle + 1;
    else high = middle;
  }
  return low - 1;
}
