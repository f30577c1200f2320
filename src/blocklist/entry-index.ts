// Reading a source entries section as it streams past: its counts, its start
// indexes and the sparse index that lookups search, without keeping the records.

import { BLOCK_RECORDS, ENTRY_RECORD_LENGTH, HEAD_LENGTH, memoryRecordReader, recordsOffset, sectionError, type Fail, type RecordReader } from "./entries.js";
import { EntryTable } from "./entry-table.js";
import type { BlocklistError } from "./format-error.js";

/** Indexes an in-memory section body and returns its table. */
export function decodeEntrySection(body: Uint8Array, sourceCount: number, fail: Fail): EntryTable {
  const indexer = new EntrySectionIndexer(body.length);
  indexer.push(body);
  return indexer.finish(sourceCount, memoryRecordReader(body), fail);
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
