// The Host header of an HTTP/1.x request (RFC 9112) that starts a TCP segment.
//
// Only the request head inside that one segment is read, up to MAX_HEAD_LENGTH
// bytes: a head that continues into the next segment before its Host line
// yields nothing and is not counted as missing a Host.

import { C_HTTP_NO_HOST, C_HTTP_REQUESTS } from "./abi";
import { addCounter } from "./counters";

/** Bytes of a segment searched for the end of the request head. */
const MAX_HEAD_LENGTH: u32 = 8192;
/** Header lines read after the request line. */
const MAX_HEADER_LINES: i32 = 100;

const LF: u8 = 0x0a;
const CR: u8 = 0x0d;
const SPACE: u8 = 0x20;
const TAB: u8 = 0x09;

/** Methods that start a request (RFC 9110 section 9 and RFC 5789 PATCH), each with its space. */
const METHODS: StaticArray<string> = ["GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "];

/** Offset of the host (without a port) in the bytes passed to `readHttpHost`. */
export let hostOffset: u32 = 0;
export let hostLength: u32 = 0;

function startsWithAscii(data: usize, length: u32, text: string): bool {
  const count = <u32>text.length;
  if (length < count) return false;
  for (let i: u32 = 0; i < count; i++) {
    if (<u32>load<u8>(data + i) != <u32>text.charCodeAt(i)) return false;
  }
  return true;
}

/** Returns whether the bytes start with a request method and a space. */
export function startsHttpRequest(data: usize, length: u32): bool {
  if (length < 4) return false;
  const first = load<u8>(data);
  // Every method starts with an upper-case letter in C to T; most segments fail here.
  if (first < 0x43 || first > 0x54) return false;
  for (let i = 0; i < METHODS.length; i++) {
    if (startsWithAscii(data, length, METHODS[i])) return true;
  }
  return false;
}

/** Returns the offset of the next LF at or after `from` and before `end`, or -1. */
function findLineEnd(data: usize, from: u32, end: u32): i32 {
  for (let i = from; i < end; i++) {
    if (load<u8>(data + i) == LF) return <i32>i;
  }
  return -1;
}

/** Returns whether the line [start, end) ends in "HTTP/1." and a digit. */
function endsWithHttpVersion(data: usize, start: u32, end: u32): bool {
  if (end - start < 9) return false;
  const version = data + end - 8;
  if (!startsWithAscii(version, 8, "HTTP/1.")) return false;
  const minor = load<u8>(version, 7);
  return minor >= 0x30 && minor <= 0x39;
}

/** Returns whether the line [start, end) is a Host field: "host:" in any case. */
function isHostLine(data: usize, start: u32, end: u32): bool {
  if (end - start < 5) return false;
  const name = data + start;
  return (load<u8>(name) | 0x20) == 0x68 && (load<u8>(name, 1) | 0x20) == 0x6f && (load<u8>(name, 2) | 0x20) == 0x73 && (load<u8>(name, 3) | 0x20) == 0x74 && load<u8>(name, 4) == 0x3a;
}

/**
 * Reads the request head that starts the `length` bytes at `data` (see
 * `startsHttpRequest`). Returns true and sets hostOffset and hostLength when it
 * has a Host header with a host; the port and surrounding whitespace are cut.
 */
export function readHttpHost(data: usize, length: u32): bool {
  const limit = min(length, MAX_HEAD_LENGTH);
  const requestEnd = findLineEnd(data, 0, limit);
  if (requestEnd < 0) return false;
  const requestLineEnd = requestEnd > 0 && load<u8>(data + requestEnd - 1) == CR ? <u32>requestEnd - 1 : <u32>requestEnd;
  if (!endsWithHttpVersion(data, 0, requestLineEnd)) return false;
  addCounter(C_HTTP_REQUESTS, 1);

  let start = <u32>requestEnd + 1;
  for (let line = 0; line < MAX_HEADER_LINES; line++) {
    const lineFeed = findLineEnd(data, start, limit);
    if (lineFeed < 0) return false;
    let end = <u32>lineFeed;
    if (end > start && load<u8>(data + end - 1) == CR) end--;
    if (end == start) break; // the empty line that ends the head
    if (isHostLine(data, start, end)) {
      if (setHost(data, start + 5, end)) return true;
      break;
    }
    start = <u32>lineFeed + 1;
  }
  addCounter(C_HTTP_NO_HOST, 1);
  return false;
}

/** Sets the host from a Host field value [start, end): whitespace trimmed, port removed. */
function setHost(data: usize, start: u32, end: u32): bool {
  while (start < end && (load<u8>(data + start) == SPACE || load<u8>(data + start) == TAB)) start++;
  while (end > start && (load<u8>(data + end - 1) == SPACE || load<u8>(data + end - 1) == TAB)) end--;
  let hostEnd = end;
  if (start < end && load<u8>(data + start) == 0x5b) {
    // An IPv6 literal keeps its brackets: "[2001:db8::1]:8080".
    for (let i = start; i < end; i++) {
      if (load<u8>(data + i) == 0x5d) {
        hostEnd = i + 1;
        break;
      }
    }
  } else {
    for (let i = start; i < end; i++) {
      if (load<u8>(data + i) == 0x3a) {
        hostEnd = i;
        break;
      }
    }
  }
  if (hostEnd == start) return false;
  hostOffset = start;
  hostLength = hostEnd - start;
  return true;
}
