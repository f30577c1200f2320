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
const BLOCK_RECORDS = 256;
const CACHED_BLOCKS = 64;
const HEAD_LENGTH = 8;

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

/** Indexes an in-memory section body and returns its table. */
export function decodeEntrySection(body: Uint8Array, sourceCount: number, fail: Fail): EntryTable {
  const indexer = new EntrySectionIndexer(body.length);
  indexer.push(body);
  return indexer.finish(sourceCount, memoryRecordReader(body), fail);
}

type Fail = (code: string, problem: string) => never;

function sectionError(problem: string): BlocklistError {
  return new BlocklistError("ERR_BLOCKLIST_SECTION", `source entries section ${problem}`);
}

/**
 * Reads a section body that arrives in pieces, in order: checks its counts and
 * start indexes and collects the sparse index. The first problem is kept and
 * raised by `finish`, so that a caller streaming the whole file can report a
 * checksum mismatch first.
 */
export class EntrySectionIndexer {
  readonly #bodyLength: number;
  #received = 0;
  #head = new Uint8Array(HEAD_LENGTH);
  #headLength = HEAD_LENGTH;
  #sourceCount = 0;
  #count = 0;
  #starts: Uint32Array | undefined;
  #keyStarts: Uint32Array | undefined;
  /** The record index of each key, in key order. */
  #keyRecords = new Uint32Array(0);
  #keys = new Uint32Array(0);
  #nextKey = 0;
  readonly #field = new Uint8Array(4);
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
      this.#takeKeys(bytes.subarray(offset));
      this.#received += bytes.length - offset;
      offset = bytes.length;
    }
  }

  /** Ends the body and returns the table over `reader`, or throws the first problem found. */
  finish(sourceCount: number, reader: RecordReader, fail: Fail): EntryTable {
    if (this.#problem === undefined && (this.#received !== this.#bodyLength || this.#starts === undefined)) {
      this.#problem = sectionError(`is cut short at ${this.#received} of ${this.#bodyLength} bytes`);
    }
    if (this.#problem !== undefined) fail(this.#problem.code, this.#problem.message);
    if (this.#sourceCount !== sourceCount) {
      fail("ERR_BLOCKLIST_SECTION", `source entries section covers ${this.#sourceCount} sources, but there are ${sourceCount}`);
    }
    const keyStarts = this.#keyStarts!;
    for (let source = 0; source < sourceCount; source++) {
      for (let key = keyStarts[source]! + 1; key < keyStarts[source + 1]!; key++) {
        if (this.#keys[key]! < this.#keys[key - 1]!) fail("ERR_BLOCKLIST_SECTION", `source entries section: the entries of source ${source} are out of order near entry ${this.#keyRecords[key]}`);
      }
    }
    return new EntryTable(this.#starts!, this.#keys, keyStarts, reader);
  }

  #readCounts(): void {
    const view = new DataView(this.#head.buffer);
    this.#sourceCount = view.getUint32(0, true);
    this.#count = view.getUint32(4, true);
    const recordsStart = recordsOffset(this.#sourceCount);
    // Checked before any allocation, so that a damaged count cannot ask for memory.
    if (this.#sourceCount > 0xffff || recordsStart + this.#count * ENTRY_RECORD_LENGTH !== this.#bodyLength) {
      this.#problem = sectionError(`is ${this.#bodyLength} bytes, which does not fit ${this.#sourceCount} sources and ${this.#count} entries`);
      return;
    }
    const head = new Uint8Array(recordsStart);
    head.set(this.#head);
    this.#head = head;
    this.#headLength = recordsStart;
  }

  #readStarts(): void {
    const view = new DataView(this.#head.buffer);
    const starts = new Uint32Array(this.#sourceCount + 1);
    const keyStarts = new Uint32Array(this.#sourceCount + 1);
    for (let source = 0; source <= this.#sourceCount; source++) {
      starts[source] = view.getUint32(HEAD_LENGTH + 4 * source, true);
      const previous = source > 0 ? starts[source - 1]! : 0;
      if (starts[source]! < previous || starts[source]! > this.#count) {
        this.#problem = sectionError(`gives source ${source} the invalid start index ${starts[source]}`);
        return;
      }
      if (source > 0) keyStarts[source] = keyStarts[source - 1]! + Math.ceil((starts[source]! - previous) / BLOCK_RECORDS);
    }
    if (starts[0] !== 0 || starts[this.#sourceCount] !== this.#count) {
      this.#problem = sectionError(`start indexes run from ${starts[0]} to ${starts[this.#sourceCount]}, not from 0 to ${this.#count}`);
      return;
    }
    const keyCount = keyStarts[this.#sourceCount]!;
    this.#keyRecords = new Uint32Array(keyCount);
    for (let source = 0; source < this.#sourceCount; source++) {
      for (let key = keyStarts[source]!; key < keyStarts[source + 1]!; key++) this.#keyRecords[key] = starts[source]! + (key - keyStarts[source]!) * BLOCK_RECORDS;
    }
    this.#keys = new Uint32Array(keyCount);
    this.#starts = starts;
    this.#keyStarts = keyStarts;
  }

  /** Collects the first address of each key record in `bytes`, which continue the record area. */
  #takeKeys(bytes: Uint8Array): void {
    const from = this.#received - this.#headLength;
    const to = from + bytes.length;
    while (this.#nextKey < this.#keys.length) {
      const field = this.#keyRecords[this.#nextKey]! * ENTRY_RECORD_LENGTH;
      if (field >= to) return;
      // The field may span two pieces; its bytes gather in #field. Byte by byte,
      // because thousands of keys must not allocate a view each.
      const start = Math.max(field, from);
      const end = Math.min(field + 4, to);
      for (let at = start; at < end; at++) this.#field[at - field] = bytes[at - from]!;
      if (field + 4 > to) return;
      const key = this.#field;
      this.#keys[this.#nextKey++] = (key[0]! | (key[1]! << 8) | (key[2]! << 16) | (key[3]! << 24)) >>> 0;
    }
  }
}

/** Returns a problem with `count` records at the start of `words` (the first of them is record `index`), or undefined. */
function checkRecords(words: Uint32Array, index: number, sourceStart: number): string | undefined {
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
function recordWords(bytes: Uint8Array): Uint32Array {
  if (LITTLE_ENDIAN_HOST && bytes.byteOffset % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const words = new Uint32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < words.length; i++) words[i] = view.getUint32(i * 4, true);
  return words;
}

/** Lookups in a source entries section. */
export class EntryTable {
  readonly #starts: Uint32Array;
  readonly #keys: Uint32Array;
  readonly #keyStarts: Uint32Array;
  readonly #reader: RecordReader;
  readonly #blocks = new Map<number, Uint32Array>();
  /**
   * Reused buffers for the cached blocks of a reader that copies, one per cache
   * slot: a scan with thousands of alerts would otherwise allocate a buffer per
   * block read, and the garbage would raise its peak memory.
   */
  #slots: Uint8Array | undefined;
  #slotOwners: number[] = [];
  #nextSlot = 0;
  readonly #summaries: (SourceEntrySummary | undefined)[] = [];
  /** The first failed read or damaged block; lookups return nothing after it. */
  readFailure: Error | undefined;

  constructor(starts: Uint32Array, keys: Uint32Array, keyStarts: Uint32Array, reader: RecordReader) {
    this.#starts = starts;
    this.#keys = keys;
    this.#keyStarts = keyStarts;
    this.#reader = reader;
  }

  get count(): number {
    return this.#starts[this.#starts.length - 1]!;
  }

  /**
   * Returns a source's entry count and date range, reading and checking all its
   * records on the first call. Throws BlocklistError for a damaged record.
   */
  summary(source: number): SourceEntrySummary {
    const cached = this.#summaries[source];
    if (cached !== undefined) return cached;
    const start = this.#starts[source]!;
    const end = this.#starts[source + 1]!;
    const summary = { entries: end - start, firstSeen: 0, lastSeen: 0 };
    for (let block = start; block < end; block += BLOCK_RECORDS * 64) {
      const count = Math.min(BLOCK_RECORDS * 64, end - block);
      const words = this.#readRecords(source, block, count);
      for (let word = 2; word < words.length; word += 4) {
        const firstSeen = words[word]! & 0xffff;
        if (firstSeen === 0) continue;
        summary.firstSeen = earliestDay(summary.firstSeen, firstSeen);
        summary.lastSeen = Math.max(summary.lastSeen, words[word]! >>> 16);
      }
    }
    this.#summaries[source] = summary;
    return summary;
  }

  /**
   * Returns the most specific entry of `source` that contains `address`: of those
   * that contain it, the one that starts last, and the shortest of those that
   * start there. For CIDR blocks, which nest or are apart, that is the smallest.
   *
   * The search finds the last entry that starts at or before the address and
   * follows parent links from it. Every entry that contains the address lies on
   * that chain, which runs in decreasing order of first address, so the first
   * one on the chain that contains the address is the most specific.
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
      const words = this.#block(source, block);
      let low = 0;
      let high = words.length / 4;
      while (high - low > 1) {
        const middle = (low + high) >>> 1;
        if (words[middle * 4]! <= address) low = middle;
        else high = middle;
      }
      // Each step moves to a smaller index, so the walk ends. It reads the
      // words in place and builds one record at the end, because a capture
      // that hits many ranges runs many of these walks.
      let index = start + block * BLOCK_RECORDS + low;
      while (index !== NO_PARENT) {
        const position = index - start;
        const walked = this.#block(source, Math.floor(position / BLOCK_RECORDS));
        const word = (position % BLOCK_RECORDS) * 4;
        if (walked[word]! <= address && address <= walked[word + 1]!) return this.record(source, index);
        index = walked[word + 3]!;
      }
    } catch (error) {
      this.readFailure = error as Error;
    }
    return undefined;
  }

  /** Returns record `index`, which must belong to `source`. Throws for a damaged block. */
  record(source: number, index: number): EntryRecord {
    const position = index - this.#starts[source]!;
    const block = Math.floor(position / BLOCK_RECORDS);
    const words = this.#block(source, block);
    const word = (position - block * BLOCK_RECORDS) * 4;
    return {
      source,
      index,
      first: words[word]!,
      last: words[word + 1]!,
      firstSeen: words[word + 2]! & 0xffff,
      lastSeen: words[word + 2]! >>> 16,
      parent: words[word + 3]!,
    };
  }

  /** Returns the section body, for writing the table to a new file. */
  encode(): Uint8Array {
    const sourceCount = this.#starts.length - 1;
    const start = recordsOffset(sourceCount);
    const body = new Uint8Array(start + this.count * ENTRY_RECORD_LENGTH);
    const view = new DataView(body.buffer);
    view.setUint32(0, sourceCount, true);
    view.setUint32(4, this.count, true);
    this.#starts.forEach((value, source) => view.setUint32(HEAD_LENGTH + 4 * source, value, true));
    body.set(this.#reader.read(0, this.count * ENTRY_RECORD_LENGTH), start);
    return body;
  }

  /** Releases the file, when the table reads one. */
  close(): void {
    this.#blocks.clear();
    this.#slotOwners = [];
    this.#reader.close();
  }

  #block(source: number, block: number): Uint32Array {
    const key = this.#keyStarts[source]! + block;
    const cached = this.#blocks.get(key);
    if (cached !== undefined) return cached;
    const first = this.#starts[source]! + block * BLOCK_RECORDS;
    const count = Math.min(BLOCK_RECORDS, this.#starts[source + 1]! - first);
    const words = this.#readRecords(source, first, count, this.#slotFor(key));
    // The block must start at its key, or the search would have picked the wrong block.
    if (words[0] !== this.#keys[key]) throw sectionError(`entry ${first} differs from the index built when the list was loaded`);
    if (this.#slots === undefined && this.#blocks.size >= CACHED_BLOCKS) this.#blocks.delete(this.#blocks.keys().next().value!);
    this.#blocks.set(key, words);
    return words;
  }

  /** Returns the buffer for block `key` when the reader copies, evicting the block that held it. */
  #slotFor(key: number): Uint8Array | undefined {
    if (this.#reader.readInto === undefined) return undefined;
    const slotLength = BLOCK_RECORDS * ENTRY_RECORD_LENGTH;
    this.#slots ??= new Uint8Array(CACHED_BLOCKS * slotLength);
    const slot = this.#nextSlot;
    this.#nextSlot = (slot + 1) % CACHED_BLOCKS;
    const previous = this.#slotOwners[slot];
    if (previous !== undefined) this.#blocks.delete(previous);
    this.#slotOwners[slot] = key;
    return this.#slots.subarray(slot * slotLength, (slot + 1) * slotLength);
  }

  /** Reads and checks `count` records of `source` from record `first` on, into `target` when given. */
  #readRecords(source: number, first: number, count: number, target?: Uint8Array): Uint32Array {
    const length = count * ENTRY_RECORD_LENGTH;
    let bytes: Uint8Array;
    if (target !== undefined && this.#reader.readInto !== undefined) {
      bytes = target.subarray(0, this.#reader.readInto(first * ENTRY_RECORD_LENGTH, target.subarray(0, length)));
    } else {
      bytes = this.#reader.read(first * ENTRY_RECORD_LENGTH, length);
    }
    if (bytes.length !== length) throw sectionError(`ends after ${bytes.length} of ${count * ENTRY_RECORD_LENGTH} bytes at entry ${first}`);
    const words = recordWords(bytes);
    const problem = checkRecords(words, first, this.#starts[source]!);
    if (problem !== undefined) throw sectionError(`(source ${source}): ${problem}`);
    return words;
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
