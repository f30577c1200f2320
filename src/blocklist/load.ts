// Finding and loading the blocklist file.
//
// The file is read in chunks rather than whole. The checksum covers every byte,
// but only the sources, sets and ranges are kept in memory. The source entries
// section is indexed as it streams past, and read again block by block when an
// alert needs it, through the descriptor that the list keeps open. An atomic
// replace of the file (rename) leaves that descriptor on the old file, so the
// entries always match the table they were loaded with.

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { describeFileError } from "../util/file-errors.js";
import type { Blocklist } from "./build.js";
import { recordsOffset, SECTION_SOURCE_ENTRIES, type RecordReader } from "./entries.js";
import { EntrySectionIndexer } from "./entry-index.js";
import {
  BlocklistError,
  CHECKSUM_OFFSET,
  checkDirectory,
  checkHeader,
  decodeSections,
  DIRECTORY_ENTRY_LENGTH,
  failChecksum,
  failWith,
  HEADER_LENGTH,
  type Fail,
  KNOWN_SECTIONS,
  SECTION_IPV4_RANGES,
} from "./format.js";

export type Environment = Readonly<Record<string, string | undefined>>;

/** Bytes read at a time while the file is checked. */
const CHUNK_LENGTH = 256 * 1024;

/** Returns the standard data location: $XDG_DATA_HOME/repfilter/blocklist.bin, else ~/.local/share/... */
export function defaultBlocklistPath(env: Environment): string {
  const dataHome = env.XDG_DATA_HOME !== undefined && env.XDG_DATA_HOME !== "" ? env.XDG_DATA_HOME : join(env.HOME ?? homedir(), ".local", "share");
  return join(dataHome, "repfilter", "blocklist.bin");
}

/** Picks the list path: the option, else $REPFILTER_BLOCKLIST, else the standard location. */
export function resolveBlocklistPath(option: string | undefined, env: Environment): string {
  if (option !== undefined && option !== "") return option;
  const fromEnv = env.REPFILTER_BLOCKLIST;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  return defaultBlocklistPath(env);
}

export interface LoadOptions {
  /**
   * Supplies the memory the IPv4 range section is read into (by default a new
   * Uint8Array). The scan passes core memory, so that a large list is not held
   * twice; the range arrays of the returned list are then views into it.
   */
  rangesBody?: (length: number) => Uint8Array;
}

/**
 * Reads and validates a blocklist file. Throws BlocklistError with a message
 * naming the file. A list with a source entries section keeps the file open;
 * `closeBlocklist` releases it.
 */
export async function loadBlocklist(path: string, options: LoadOptions = {}): Promise<Blocklist> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    throw openError(path, error);
  }
  try {
    const list = readOpenFile(fd, path, options);
    if (list.entries === undefined) closeSync(fd);
    return list;
  } catch (error) {
    closeSync(fd);
    if (error instanceof BlocklistError) throw error;
    throw new BlocklistError("ERR_BLOCKLIST_READ", `${path}: cannot read the blocklist (${describeFileError(error)})`);
  }
}

/** Releases the file a loaded list reads its source entries from. */
export function closeBlocklist(list: Blocklist): void {
  list.entries?.close();
}

function openError(path: string, error: unknown): BlocklistError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") {
    return new BlocklistError(
      "ERR_BLOCKLIST_MISSING",
      `no blocklist at ${path}; build one with \`repfilter compile LIST.txt -o ${path}\` or \`repfilter update\`, or pass --blocklist PATH`,
    );
  }
  return new BlocklistError("ERR_BLOCKLIST_READ", `${path}: cannot read the blocklist (${describeFileError(error)})`);
}

/** The destination of one section's bytes while the file streams past. */
interface Route {
  type: number;
  offset: number;
  length: number;
  body?: Uint8Array;
  indexer?: EntrySectionIndexer;
}

function readOpenFile(fd: number, path: string, options: LoadOptions): Blocklist {
  const fail = failWith(path);
  const fileLength = fstatSync(fd).size;
  const head = readAt(fd, 0, Math.min(fileLength, HEADER_LENGTH));
  const header = checkHeader(head, fileLength, fail);
  const directoryEnd = header.headerLength + header.sectionCount * DIRECTORY_ENTRY_LENGTH;
  const directory = header.headerLength >= HEADER_LENGTH && directoryEnd <= fileLength ? readAt(fd, header.headerLength, directoryEnd - header.headerLength) : undefined;

  // Routing is lenient; the directory is checked strictly once the checksum holds,
  // so that a damaged file is reported as damaged whatever the damage hit.
  const routes = directory !== undefined ? planRoutes(directory, fileLength, options) : [];
  const computed = streamFile(fd, fileLength, routes, fail);
  if (computed !== header.checksum) failChecksum(header.checksum, computed, fail);
  const known = checkDirectory(directory, header, fileLength, fail);

  const bodies = new Map<number, Uint8Array>();
  for (const entry of known) {
    const route = routes.find((candidate) => candidate.type === entry.type)!;
    if (route.body !== undefined) bodies.set(entry.type, route.body);
  }
  const entries = routes.find((route) => route.type === SECTION_SOURCE_ENTRIES);
  return decodeSections(bodies, header, fail, (sourceCount) => entries?.indexer?.finish(sourceCount, fileRecordReader(fd, entries.offset + recordsOffset(sourceCount)), fail));
}

function planRoutes(directory: Uint8Array, fileLength: number, options: LoadOptions): Route[] {
  const view = new DataView(directory.buffer, directory.byteOffset, directory.byteLength);
  const routes: Route[] = [];
  for (let entry = 0; entry < directory.length; entry += DIRECTORY_ENTRY_LENGTH) {
    const type = view.getUint32(entry, true);
    const offset = view.getUint32(entry + 8, true);
    const length = view.getUint32(entry + 12, true);
    if (!KNOWN_SECTIONS.has(type) || offset + length > fileLength || routes.some((route) => route.type === type)) continue;
    if (type === SECTION_SOURCE_ENTRIES) routes.push({ type, offset, length, indexer: new EntrySectionIndexer(length) });
    else if (type === SECTION_IPV4_RANGES && options.rangesBody !== undefined) routes.push({ type, offset, length, body: options.rangesBody(length) });
    else routes.push({ type, offset, length, body: new Uint8Array(length) });
  }
  return routes;
}

/** Reads the whole file once, hands each route its bytes, and returns the checksum. */
function streamFile(fd: number, fileLength: number, routes: Route[], fail: Fail): number {
  const chunk = new Uint8Array(Math.min(CHUNK_LENGTH, Math.max(fileLength, 1)));
  let value = 0;
  for (let position = 0; position < fileLength; ) {
    const length = readSync(fd, chunk, 0, Math.min(chunk.length, fileLength - position), position);
    if (length === 0) fail("ERR_BLOCKLIST_LENGTH", `file ended at byte ${position} while it was read; it was cut short`);
    const bytes = chunk.subarray(0, length);
    value = updateChecksum(value, bytes, position);
    for (const route of routes) {
      const from = Math.max(route.offset, position);
      const to = Math.min(route.offset + route.length, position + length);
      if (from >= to) continue;
      const piece = bytes.subarray(from - position, to - position);
      if (route.body !== undefined) route.body.set(piece, from - route.offset);
      else route.indexer!.push(piece);
    }
    position += length;
  }
  return value;
}

const ZEROS = new Uint8Array(4);

/** Adds `bytes`, which start at file offset `position`, to the checksum, reading the checksum field as zeros. */
function updateChecksum(value: number, bytes: Uint8Array, position: number): number {
  const fieldStart = CHECKSUM_OFFSET - position;
  if (fieldStart + 4 <= 0 || fieldStart >= bytes.length) return crc32(bytes, value);
  // The chunk is at least a header long, so the field never spans two chunks.
  value = crc32(bytes.subarray(0, fieldStart), value);
  value = crc32(ZEROS, value);
  return crc32(bytes.subarray(fieldStart + 4), value);
}

function readAt(fd: number, position: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  return bytes.subarray(0, fillAt(fd, position, bytes));
}

/** Fills `target` from `position` of the file, short only at its end, and returns the byte count. */
function fillAt(fd: number, position: number, target: Uint8Array): number {
  let filled = 0;
  while (filled < target.length) {
    const count = readSync(fd, target, filled, target.length - filled, position + filled);
    if (count === 0) break;
    filled += count;
  }
  return filled;
}

/** Reads records with positional reads on `fd`, which the reader owns from now on. */
function fileRecordReader(fd: number, position: number): RecordReader {
  let open = true;
  return {
    read: (offset, length) => {
      if (!open) throw new Error("the blocklist file was closed");
      return readAt(fd, position + offset, length);
    },
    readInto: (offset, target) => {
      if (!open) throw new Error("the blocklist file was closed");
      return fillAt(fd, position + offset, target);
    },
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}
