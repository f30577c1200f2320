// The server_name of a TLS ClientHello (RFC 8446 section 4.1.2, RFC 6066
// section 3), read from the bytes of the first handshake record.
//
// Only the first record is read: a ClientHello that continues into a second
// record (over 16 KiB, or split by an unusual client) is reported as
// HELLO_SPANS_RECORDS. Bytes may stop anywhere; the parser then reports
// HELLO_NEED_MORE so that the caller can wait for the next TCP segment.

import { readU16BE } from "./bytes";

export const HELLO_FOUND: i32 = 0; // helloNameOffset and helloNameLength are set
export const HELLO_NO_SNI: i32 = 1; // a complete ClientHello without a host_name
export const HELLO_NEED_MORE: i32 = 2; // the bytes end before the server_name or the end
export const HELLO_SPANS_RECORDS: i32 = 3; // the ClientHello continues in a second record
export const HELLO_MALFORMED: i32 = 4;

const CONTENT_HANDSHAKE: u32 = 22;
const HANDSHAKE_CLIENT_HELLO: u32 = 1;
const EXTENSION_SERVER_NAME: u32 = 0;
const NAME_TYPE_HOST_NAME: u32 = 0;
/**
 * Maximum record length accepted: 2^14 bytes plus the 2048 that TLS 1.2 allows a
 * ciphertext to grow (RFC 5246 section 6.2.3), as a lenient bound.
 */
const MAX_RECORD_LENGTH: u32 = 16384 + 2048;
const RECORD_HEADER_LENGTH: u32 = 5;
const HANDSHAKE_HEADER_LENGTH: u32 = 4;

/** Offset of the host_name in the bytes passed to `readClientHello`. */
export let helloNameOffset: u32 = 0;
export let helloNameLength: u32 = 0;

/**
 * Returns whether `length` bytes at `data` can start a record that carries a
 * ClientHello: content type 22, version 3.x (x at most 4), and handshake type 1
 * when that byte is present.
 */
export function startsClientHello(data: usize, length: u32): bool {
  if (length < 3) return false;
  if (<u32>load<u8>(data) != CONTENT_HANDSHAKE || load<u8>(data, 1) != 3 || load<u8>(data, 2) > 4) return false;
  return length < 6 || <u32>load<u8>(data, 5) == HANDSHAKE_CLIENT_HELLO;
}

// Limits of the parse in progress (offsets from the start of the record).
let available: u32 = 0;
let recordEnd: u32 = 0;
let helloEnd: u32 = 0;

/**
 * Returns 0 when `count` bytes from `offset` are present, else the result that
 * explains why not: the field would run past the ClientHello (malformed), past
 * the first record, or past the bytes received so far.
 */
function missing(offset: u32, count: u32): i32 {
  const end = offset + count;
  if (end <= available) return 0;
  if (end > helloEnd) return HELLO_MALFORMED;
  if (end > recordEnd) return HELLO_SPANS_RECORDS;
  return HELLO_NEED_MORE;
}

/**
 * Reads the ClientHello in the `length` bytes at `data`, which start with its
 * record header (see `startsClientHello`). Returns a HELLO_* result.
 */
export function readClientHello(data: usize, length: u32): i32 {
  if (length < RECORD_HEADER_LENGTH + HANDSHAKE_HEADER_LENGTH) return HELLO_NEED_MORE;
  const recordLength = readU16BE(data + 3);
  if (recordLength < HANDSHAKE_HEADER_LENGTH || recordLength > MAX_RECORD_LENGTH) return HELLO_MALFORMED;
  if (<u32>load<u8>(data, 5) != HANDSHAKE_CLIENT_HELLO) return HELLO_MALFORMED;
  const helloLength = (<u32>load<u8>(data, 6) << 16) | readU16BE(data + 7);
  recordEnd = RECORD_HEADER_LENGTH + recordLength;
  helloEnd = RECORD_HEADER_LENGTH + HANDSHAKE_HEADER_LENGTH + helloLength;
  available = min(length, min(recordEnd, helloEnd));
  return readHelloBody(data, RECORD_HEADER_LENGTH + HANDSHAKE_HEADER_LENGTH);
}

/** Reads from the client version to the extensions. */
function readHelloBody(data: usize, start: u32): i32 {
  // legacy_version (2) and random (32), then the session id.
  let offset = start + 34;
  let status = missing(offset, 1);
  if (status != 0) return status;
  const sessionIdLength = <u32>load<u8>(data + offset);
  if (sessionIdLength > 32) return HELLO_MALFORMED;
  offset += 1 + sessionIdLength;

  status = missing(offset, 2);
  if (status != 0) return status;
  const cipherSuitesLength = readU16BE(data + offset);
  if (cipherSuitesLength < 2 || (cipherSuitesLength & 1) != 0) return HELLO_MALFORMED;
  offset += 2 + cipherSuitesLength;

  status = missing(offset, 1);
  if (status != 0) return status;
  const compressionLength = <u32>load<u8>(data + offset);
  if (compressionLength < 1) return HELLO_MALFORMED;
  offset += 1 + compressionLength;

  // Extensions are optional before TLS 1.3 (RFC 5246 section 7.4.1.2).
  if (offset == helloEnd) return HELLO_NO_SNI;
  status = missing(offset, 2);
  if (status != 0) return status;
  const extensionsEnd = offset + 2 + readU16BE(data + offset);
  if (extensionsEnd > helloEnd) return HELLO_MALFORMED;
  return readExtensions(data, offset + 2, extensionsEnd);
}

/** Walks the extensions for server_name. Each step advances at least 4 bytes. */
function readExtensions(data: usize, start: u32, end: u32): i32 {
  let offset = start;
  while (offset < end) {
    const status = missing(offset, 4);
    if (status != 0) return status;
    const type = readU16BE(data + offset);
    const extensionLength = readU16BE(data + offset + 2);
    offset += 4;
    if (offset + extensionLength > end) return HELLO_MALFORMED;
    if (type == EXTENSION_SERVER_NAME) return readServerName(data, offset, offset + extensionLength);
    offset += extensionLength;
  }
  return HELLO_NO_SNI;
}

/** Reads a ServerNameList and returns its host_name, the only name type defined. */
function readServerName(data: usize, start: u32, end: u32): i32 {
  const status = missing(start, end - start);
  if (status != 0) return status;
  if (start + 2 > end) return HELLO_MALFORMED;
  const listEnd = start + 2 + readU16BE(data + start);
  if (listEnd > end) return HELLO_MALFORMED;
  let offset = start + 2;
  while (offset + 3 <= listEnd) {
    const nameType = <u32>load<u8>(data + offset);
    const nameLength = readU16BE(data + offset + 1);
    offset += 3;
    if (offset + nameLength > listEnd) return HELLO_MALFORMED;
    if (nameType == NAME_TYPE_HOST_NAME) {
      helloNameOffset = offset;
      helloNameLength = nameLength;
      return HELLO_FOUND;
    }
    offset += nameLength;
  }
  return HELLO_NO_SNI;
}
