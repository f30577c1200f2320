// Reading the one member of a zip archive, as abuse.ch serves its full exports
// (a zip file sent without Content-Encoding). Only what those archives use is
// supported: one member, stored or deflated, no encryption, no ZIP64.
// Layout per PKWARE's APPNOTE.TXT: local headers, central directory, end record.

import { crc32, inflateRawSync } from "node:zlib";
import { FeedError } from "./errors.js";

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const END_RECORD_LENGTH = 22;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;

/** True when the bytes start with a zip local file header. */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** Returns the content of the archive's only member. Throws FeedError for anything else. */
export function extractSingleMember(bytes: Uint8Array, maxOutputLength: number): Buffer {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = findEndRecord(data);
  const members = data.readUInt16LE(end + 10);
  if (members !== 1) throw new FeedError("ERR_FEED_BODY", `zip archive with ${members} members; expected exactly one`);
  const central = data.readUInt32LE(end + 16);
  if (central + 46 > data.length || data.readUInt32LE(central) !== CENTRAL_HEADER) {
    throw new FeedError("ERR_FEED_BODY", "zip archive with a damaged central directory");
  }
  const flags = data.readUInt16LE(central + 8);
  const method = data.readUInt16LE(central + 10);
  const expectedCrc = data.readUInt32LE(central + 16);
  const compressedSize = data.readUInt32LE(central + 20);
  const size = data.readUInt32LE(central + 24);
  const local = data.readUInt32LE(central + 42);
  if ((flags & 1) !== 0) throw new FeedError("ERR_FEED_BODY", "zip member is encrypted");
  if (compressedSize === 0xffffffff || size === 0xffffffff) throw new FeedError("ERR_FEED_BODY", "ZIP64 archives are not supported");
  if (size > maxOutputLength) throw new FeedError("ERR_FEED_TOO_LARGE", `zip member of ${size} bytes exceeds the maximum of ${maxOutputLength} bytes`);
  if (local + 30 > data.length || data.readUInt32LE(local) !== LOCAL_HEADER) {
    throw new FeedError("ERR_FEED_BODY", "zip archive with a damaged local header");
  }
  const start = local + 30 + data.readUInt16LE(local + 26) + data.readUInt16LE(local + 28);
  if (start + compressedSize > data.length) throw new FeedError("ERR_FEED_BODY", "zip archive is truncated");
  const stored = data.subarray(start, start + compressedSize);

  let content: Buffer;
  if (method === METHOD_STORED) {
    content = Buffer.from(stored);
  } else if (method === METHOD_DEFLATE) {
    try {
      content = inflateRawSync(stored, { maxOutputLength });
    } catch (error) {
      // The header's size passed the check above, so the header understates it.
      if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
        throw new FeedError("ERR_FEED_TOO_LARGE", `zip member expands past the maximum of ${maxOutputLength} bytes`);
      }
      throw new FeedError("ERR_FEED_BODY", `zip member cannot be inflated: ${(error as Error).message}`);
    }
  } else {
    throw new FeedError("ERR_FEED_BODY", `zip compression method ${method} is not supported (only stored and deflate)`);
  }
  if (content.length !== size || crc32(content) !== expectedCrc) {
    throw new FeedError("ERR_FEED_BODY", "zip member fails its size or CRC-32 check");
  }
  return content;
}

function findEndRecord(data: Buffer): number {
  // The end record is last, followed only by a comment of at most 65535 bytes.
  const lowest = Math.max(0, data.length - END_RECORD_LENGTH - 0xffff);
  for (let offset = data.length - END_RECORD_LENGTH; offset >= lowest; offset--) {
    if (data.readUInt32LE(offset) === END_OF_CENTRAL_DIRECTORY) return offset;
  }
  throw new FeedError("ERR_FEED_BODY", "zip archive without its end record (truncated?)");
}
