// Reading and writing the blocklist file (format described in docs/blocklist-format.md).

import { crc32 } from "node:zlib";
import { formatRange } from "../lists/ipv4.js";
import type { Blocklist } from "./build.js";
import { SECTION_SOURCE_ENTRIES } from "./entries.js";
import { decodeEntrySection } from "./entry-index.js";
import type { EntryTable } from "./entry-table.js";
import { BlocklistError } from "./format-error.js";
import { isValidSourceName, SOURCE_NAME_RULE } from "./source-name.js";

export { BlocklistError } from "./format-error.js";
export { SECTION_SOURCE_ENTRIES } from "./entries.js";

export const MAGIC = Uint8Array.of(0x89, 0x52, 0x46, 0x42, 0x4c, 0x0d, 0x0a, 0x1a); // \x89RFBL\r\n\x1a
export const FORMAT_VERSION = 1;
export const HEADER_LENGTH = 48;
export const DIRECTORY_ENTRY_LENGTH = 16;
export const CHECKSUM_OFFSET = 24;

export const SECTION_SOURCES = 1;
export const SECTION_SOURCE_SETS = 2;
export const SECTION_IPV4_RANGES = 3;
/** Directory flag: a reader that does not know the section type must reject the file. */
export const SECTION_REQUIRED = 1;

interface Section {
  type: number;
  flags: number;
  body: Uint8Array;
}

/** Serialises a blocklist. */
export function encodeBlocklist(list: Blocklist): Buffer {
  const sections: Section[] = [
    { type: SECTION_SOURCES, flags: SECTION_REQUIRED, body: encodeSources(list.sources) },
    { type: SECTION_SOURCE_SETS, flags: SECTION_REQUIRED, body: encodeSets(list.sets) },
    { type: SECTION_IPV4_RANGES, flags: SECTION_REQUIRED, body: encodeRanges(list) },
  ];
  // Optional, so that readers from before the section still load the file.
  if (list.entries !== undefined) sections.push({ type: SECTION_SOURCE_ENTRIES, flags: 0, body: list.entries.encode() });
  let length = HEADER_LENGTH + sections.length * DIRECTORY_ENTRY_LENGTH;
  const offsets = sections.map((section) => {
    const offset = length;
    length += align4(section.body.length);
    return offset;
  });

  const file = Buffer.alloc(length);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  file.set(MAGIC, 0);
  view.setUint16(8, FORMAT_VERSION, true);
  view.setUint16(10, HEADER_LENGTH, true);
  view.setUint32(12, sections.length, true);
  view.setBigUint64(16, BigInt(Math.max(0, Math.floor(list.createdAt))), true);
  view.setBigUint64(32, BigInt(length), true);
  sections.forEach((section, index) => {
    const entry = HEADER_LENGTH + index * DIRECTORY_ENTRY_LENGTH;
    view.setUint32(entry, section.type, true);
    view.setUint32(entry + 4, section.flags, true);
    view.setUint32(entry + 8, offsets[index]!, true);
    view.setUint32(entry + 12, section.body.length, true);
    file.set(section.body, offsets[index]!);
  });
  view.setUint32(CHECKSUM_OFFSET, crc32(file), true);
  return file;
}

function encodeSources(sources: ReadonlyArray<string>): Uint8Array {
  const names = sources.map((name) => Buffer.from(name, "utf8"));
  const body = Buffer.alloc(4 + names.reduce((sum, name) => sum + 2 + name.length, 0));
  body.writeUInt32LE(sources.length, 0);
  let offset = 4;
  for (const name of names) {
    body.writeUInt16LE(name.length, offset);
    body.set(name, offset + 2);
    offset += 2 + name.length;
  }
  return body;
}

function encodeSets(sets: ReadonlyArray<ReadonlyArray<number>>): Uint8Array {
  const memberCount = sets.reduce((sum, set) => sum + set.length, 0);
  const body = Buffer.alloc(4 + (sets.length + 1) * 4 + memberCount * 2);
  body.writeUInt32LE(sets.length, 0);
  let member = 0;
  const membersOffset = 4 + (sets.length + 1) * 4;
  sets.forEach((set, index) => {
    body.writeUInt32LE(member, 4 + index * 4);
    for (const source of set) body.writeUInt16LE(source, membersOffset + 2 * member++);
  });
  body.writeUInt32LE(member, 4 + sets.length * 4);
  return body;
}

function encodeRanges(list: Blocklist): Uint8Array {
  const count = list.starts.length;
  const words = new Uint32Array(1 + count * 3);
  words[0] = count;
  words.set(list.starts, 1);
  words.set(list.ends, 1 + count);
  words.set(list.setIds, 1 + count * 2);
  return littleEndianBytes(words);
}

function littleEndianBytes(words: Uint32Array): Uint8Array {
  const bytes = Buffer.alloc(words.length * 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < words.length; i++) view.setUint32(i * 4, words[i]!, true);
  return bytes;
}

function align4(length: number): number {
  return (length + 3) & ~3;
}

/**
 * Parses and validates a blocklist file completely: header, checksum, directory,
 * every section, and the order of the ranges. `name` is used in error messages.
 * The returned range arrays may be views into `file`, so the caller must not
 * modify `file` afterwards.
 */
export function decodeBlocklist(file: Uint8Array, name: string): Blocklist {
  const fail = failWith(name);
  const header = checkHeader(file.subarray(0, HEADER_LENGTH), file.length, fail);
  const computed = checksum(file);
  if (header.checksum !== computed) failChecksum(header.checksum, computed, fail);
  const directoryEnd = header.headerLength + header.sectionCount * DIRECTORY_ENTRY_LENGTH;
  const directory = checkDirectory(directoryEnd <= file.length ? file.subarray(header.headerLength, directoryEnd) : undefined, header, file.length, fail);
  const bodies = new Map<number, Uint8Array>();
  for (const entry of directory) bodies.set(entry.type, file.subarray(entry.offset, entry.offset + entry.length));
  const entriesBody = bodies.get(SECTION_SOURCE_ENTRIES);
  return decodeSections(bodies, header, fail, (sourceCount) => (entriesBody !== undefined ? decodeEntrySection(entriesBody, sourceCount, fail) : undefined));
}

export type Fail = (code: string, problem: string) => never;

/** Returns a function that throws BlocklistError with `name` in front of the message. */
export function failWith(name: string): Fail {
  return (code, problem) => {
    throw new BlocklistError(code, `${name}: ${problem}`);
  };
}

export interface FileHeader {
  version: number;
  headerLength: number;
  sectionCount: number;
  createdAt: number;
  checksum: number;
}

/** Checks the header, given its bytes (fewer for a short file) and the file's length. */
export function checkHeader(head: Uint8Array, fileLength: number, fail: Fail): FileHeader {
  if (fileLength < HEADER_LENGTH || head.length < HEADER_LENGTH) {
    fail("ERR_BLOCKLIST_SHORT", `file is ${fileLength} bytes, shorter than the ${HEADER_LENGTH}-byte header; rebuild it with \`repfilter compile\``);
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (head[i] !== MAGIC[i]) {
      const seen = Array.from(head.subarray(0, 8), (byte) => byte.toString(16).padStart(2, "0")).join(" ");
      fail("ERR_BLOCKLIST_MAGIC", `not a repfilter blocklist (first bytes ${seen}); build one with \`repfilter compile\``);
    }
  }
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const version = view.getUint16(8, true);
  if (version > FORMAT_VERSION) {
    fail("ERR_BLOCKLIST_VERSION", `format version ${version} is newer than this repfilter reads (${FORMAT_VERSION}); upgrade repfilter`);
  }
  if (version === 0) fail("ERR_BLOCKLIST_VERSION", "format version 0 is invalid");
  const declaredLength = Number(view.getBigUint64(32, true));
  if (declaredLength !== fileLength) {
    fail("ERR_BLOCKLIST_LENGTH", `file is ${fileLength} bytes but its header says ${declaredLength}; it was cut short or appended to`);
  }
  return {
    version,
    headerLength: view.getUint16(10, true),
    sectionCount: view.getUint32(12, true),
    createdAt: Number(view.getBigUint64(16, true)),
    checksum: view.getUint32(CHECKSUM_OFFSET, true),
  };
}

export function failChecksum(stored: number, computed: number, fail: Fail): never {
  return fail("ERR_BLOCKLIST_CHECKSUM", `checksum mismatch (stored ${hex32(stored)}, computed ${hex32(computed)}); the file is corrupt, rebuild it`);
}

export interface DirectoryEntry {
  type: number;
  offset: number;
  length: number;
}

/**
 * Checks the section directory and returns the known sections. `bytes` is
 * undefined when the directory does not fit in the file.
 */
export function checkDirectory(bytes: Uint8Array | undefined, header: FileHeader, fileLength: number, fail: Fail): DirectoryEntry[] {
  if (header.headerLength < HEADER_LENGTH || bytes === undefined) {
    fail("ERR_BLOCKLIST_DIRECTORY", `section directory (${header.sectionCount} entries after a ${header.headerLength}-byte header) does not fit in the file`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const known: DirectoryEntry[] = [];
  for (let index = 0; index < header.sectionCount; index++) {
    const entry = index * DIRECTORY_ENTRY_LENGTH;
    const type = view.getUint32(entry, true);
    const flags = view.getUint32(entry + 4, true);
    const offset = view.getUint32(entry + 8, true);
    const length = view.getUint32(entry + 12, true);
    if (offset % 4 !== 0 || offset + length > fileLength) {
      fail("ERR_BLOCKLIST_DIRECTORY", `section ${index} (type ${type}) at offset ${offset}, ${length} bytes, lies outside the file or is misaligned`);
    }
    if (!KNOWN_SECTIONS.has(type)) {
      if ((flags & SECTION_REQUIRED) !== 0) {
        fail("ERR_BLOCKLIST_VERSION", `section type ${type} is required but unknown to this repfilter; upgrade repfilter`);
      }
      continue;
    }
    if (known.some((section) => section.type === type)) fail("ERR_BLOCKLIST_DIRECTORY", `section type ${type} appears twice`);
    known.push({ type, offset, length });
  }
  return known;
}

export const KNOWN_SECTIONS: ReadonlySet<number> = new Set([SECTION_SOURCES, SECTION_SOURCE_SETS, SECTION_IPV4_RANGES, SECTION_SOURCE_ENTRIES]);

/** Decodes the section bodies; `entries` decodes the optional source entries once the source count is known. */
export function decodeSections(
  bodies: ReadonlyMap<number, Uint8Array>,
  header: FileHeader,
  fail: Fail,
  entries: (sourceCount: number) => EntryTable | undefined,
): Blocklist {
  const section = (type: number, label: string): Uint8Array => bodies.get(type) ?? fail("ERR_BLOCKLIST_SECTION", `${label} section is missing`);
  const sources = decodeSources(section(SECTION_SOURCES, "sources"), fail);
  const sets = decodeSets(section(SECTION_SOURCE_SETS, "source sets"), sources.length, fail);
  const ranges = decodeRanges(section(SECTION_IPV4_RANGES, "IPv4 ranges"), sets.length, fail);
  const table = entries(sources.length);
  return { createdAt: header.createdAt, formatVersion: header.version, sources, sets, ...ranges, ...(table !== undefined ? { entries: table } : {}) };
}


function decodeSources(body: Uint8Array, fail: Fail): string[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (body.length < 4) fail("ERR_BLOCKLIST_SECTION", "sources section is shorter than its count");
  const count = view.getUint32(0, true);
  const names: string[] = [];
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let offset = 4;
  for (let i = 0; i < count; i++) {
    if (offset + 2 > body.length) fail("ERR_BLOCKLIST_SECTION", `sources section ends inside source ${i}`);
    const length = view.getUint16(offset, true);
    if (offset + 2 + length > body.length) fail("ERR_BLOCKLIST_SECTION", `sources section ends inside source ${i}`);
    let name = "";
    try {
      name = decoder.decode(body.subarray(offset + 2, offset + 2 + length));
    } catch {
      fail("ERR_BLOCKLIST_SECTION", `source ${i} has a name that is not valid UTF-8`);
    }
    if (!isValidSourceName(name)) {
      fail("ERR_BLOCKLIST_SOURCE_NAME", `source ${i} has the invalid name ${JSON.stringify(name)}; names are ${SOURCE_NAME_RULE}, so rebuild the list`);
    }
    names.push(name);
    offset += 2 + length;
  }
  return names;
}

function decodeSets(body: Uint8Array, sourceCount: number, fail: Fail): number[][] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (body.length < 4) fail("ERR_BLOCKLIST_SECTION", "source sets section is shorter than its count");
  const count = view.getUint32(0, true);
  const membersOffset = 4 + (count + 1) * 4;
  if (membersOffset > body.length) fail("ERR_BLOCKLIST_SECTION", `source sets section is too short for ${count} sets`);
  const memberCount = view.getUint32(4 + count * 4, true);
  if (membersOffset + memberCount * 2 > body.length) fail("ERR_BLOCKLIST_SECTION", `source sets section is too short for ${memberCount} members`);
  const sets: number[][] = [];
  for (let i = 0; i < count; i++) {
    const from = view.getUint32(4 + i * 4, true);
    const to = view.getUint32(8 + i * 4, true);
    if (from > to || to > memberCount) fail("ERR_BLOCKLIST_SECTION", `source set ${i} has invalid bounds ${from}-${to}`);
    const set: number[] = [];
    for (let member = from; member < to; member++) {
      const source = view.getUint16(membersOffset + member * 2, true);
      if (source >= sourceCount) fail("ERR_BLOCKLIST_SECTION", `source set ${i} names source ${source}, but there are ${sourceCount}`);
      set.push(source);
    }
    if (set.length === 0) fail("ERR_BLOCKLIST_SECTION", `source set ${i} is empty`);
    sets.push(set);
  }
  return sets;
}

function decodeRanges(body: Uint8Array, setCount: number, fail: Fail): Pick<Blocklist, "starts" | "ends" | "setIds"> {
  // Copy into aligned, native-order arrays: the section may sit at any byte offset
  // of the caller's buffer.
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (body.length < 4) fail("ERR_BLOCKLIST_SECTION", "IPv4 ranges section is shorter than its count");
  const count = view.getUint32(0, true);
  if (4 + count * 12 > body.length) fail("ERR_BLOCKLIST_SECTION", `IPv4 ranges section is too short for ${count} ranges`);
  const starts = readWords(body, 4, count);
  const ends = readWords(body, 4 + count * 4, count);
  const setIds = readWords(body, 4 + count * 8, count);
  for (let i = 0; i < count; i++) {
    if (starts[i]! > ends[i]!) fail("ERR_BLOCKLIST_RANGE", `range ${i} starts after it ends`);
    if (setIds[i]! >= setCount) fail("ERR_BLOCKLIST_RANGE", `range ${i} names source set ${setIds[i]}, but there are ${setCount}`);
    if (i > 0 && starts[i]! <= ends[i - 1]!) {
      const problem = starts[i]! < starts[i - 1]! ? "unsorted" : "overlapping";
      const previous = formatRange(starts[i - 1]!, ends[i - 1]!);
      const current = formatRange(starts[i]!, ends[i]!);
      fail(`ERR_BLOCKLIST_${problem.toUpperCase()}`, `ranges ${i - 1} (${previous}) and ${i} (${current}) are ${problem}; rebuild the list`);
    }
  }
  return { starts, ends, setIds };
}

const LITTLE_ENDIAN_HOST = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * Returns `count` little-endian u32 values starting at byte `offset` of `bytes`: a
 * view into `bytes` when the host is little-endian and the offset aligned (the
 * usual case, which saves a copy of a large list), else a copy.
 */
function readWords(bytes: Uint8Array, offset: number, count: number): Uint32Array {
  const start = bytes.byteOffset + offset;
  if (LITTLE_ENDIAN_HOST && start % 4 === 0) return new Uint32Array(bytes.buffer, start, count);
  const words = new Uint32Array(count);
  const view = new DataView(bytes.buffer, start, count * 4);
  for (let i = 0; i < count; i++) words[i] = view.getUint32(i * 4, true);
  return words;
}

function checksum(file: Uint8Array): number {
  const zero = new Uint8Array(4);
  let value = crc32(file.subarray(0, CHECKSUM_OFFSET));
  value = crc32(zero, value);
  return crc32(file.subarray(CHECKSUM_OFFSET + 4), value);
}

function hex32(value: number): string {
  return value.toString(16).padStart(8, "0");
}
