// Lookups in a source entries section (format in entries.ts and
// docs/blocklist-format.md), reading 4 KiB blocks of records on demand.

import {
  BLOCK_RECORDS,
  checkRecords,
  earliestDay,
  ENTRY_RECORD_LENGTH,
  HEAD_LENGTH,
  NO_PARENT,
  recordsOffset,
  recordWords,
  sectionError,
  type EntryRecord,
  type RecordReader,
  type SourceEntrySummary,
} from "./entries.js";

const CACHED_BLOCKS = 64;
const LITTLE_ENDIAN_HOST = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

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
  /** A word view of each slot, made once: a view per block read would be garbage that lives long. */
  #slotWords: Uint32Array[] = [];
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
    const slot = this.#slotFor(key);
    let words = this.#readRecords(source, first, count, slot);
    if (slot !== undefined && count === BLOCK_RECORDS && LITTLE_ENDIAN_HOST) words = this.#wordsOfSlot(slot, words);
    // The block must start at its key, or the search would have picked the wrong block.
    if (words[0] !== this.#keys[key]) throw sectionError(`entry ${first} differs from the index built when the list was loaded`);
    if (this.#slots === undefined && this.#blocks.size >= CACHED_BLOCKS) this.#blocks.delete(this.#blocks.keys().next().value!);
    this.#blocks.set(key, words);
    return words;
  }

  /** Returns the lasting word view of `slot`, which holds the same words as `words`. */
  #wordsOfSlot(slot: Uint8Array, words: Uint32Array): Uint32Array {
    const index = (slot.byteOffset - this.#slots!.byteOffset) / slot.length;
    let view = this.#slotWords[index];
    if (view === undefined || view.buffer !== slot.buffer) {
      view = new Uint32Array(slot.buffer, slot.byteOffset, slot.length / 4);
      this.#slotWords[index] = view;
    }
    return view.length === words.length ? view : words;
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
