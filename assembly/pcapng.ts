// pcapng framing. A file is a sequence of blocks, each a 4-byte type, a 4-byte
// total length, the body and the total length again, all lengths multiples of 4.
// A Section Header Block starts each section and fixes its byte order. Interface
// Description Blocks follow, and packet blocks name an interface by its index.
//
// Packet and interface blocks are buffered whole (at most MAX_BUFFERED_BLOCK_LENGTH
// bytes). Every other block, including the rest of a Section Header Block after
// its version, is skipped as it streams past (at most MAX_SKIPPED_BLOCK_LENGTH
// bytes), and only its trailing length is checked.

import {
  C_CAPLEN_ABOVE_LEN,
  C_CAPLEN_ABOVE_SNAPLEN,
  C_CAPTURED_BYTES,
  C_PACKETS,
  ERR_BAD_BYTE_ORDER_MAGIC,
  ERR_BAD_SECTION_VERSION,
  ERR_BLOCK_TOO_LARGE,
  ERR_BLOCK_TOO_SHORT,
  ERR_BLOCK_TRAILER_MISMATCH,
  ERR_BLOCK_UNALIGNED,
  ERR_CAPLEN_BEYOND_BLOCK,
  ERR_CAPLEN_TOO_LARGE,
  ERR_NO_SECTION_HEADER,
  ERR_SECOND_CAPTURE_HEADER,
  ERR_SHORT_HEADER,
  ERR_SKIPPED_BLOCK_TOO_LARGE,
  ERR_TOO_MANY_INTERFACES,
  ERR_TRUNCATED_RECORD,
  ERR_UNKNOWN_INTERFACE,
  MAX_BUFFERED_BLOCK_LENGTH,
  MAX_CAPLEN,
  MAX_INTERFACES,
  MAX_SKIPPED_BLOCK_LENGTH,
  STATUS_ERROR,
  STATUS_HITS_FULL,
  STATUS_OK,
  UNIT_BLOCK,
} from "./abi";
import { readU16, readU32 } from "./bytes";
import { addCounter } from "./counters";
import { hasRoomForPacket, PacketInfo } from "./hits";
import { inspectPacket } from "./inspect";
import { isClassicMagic } from "./pcap";
import {
  addInterface,
  clearPacketTime,
  interfaceCount,
  interfaceLinkType,
  interfaceSnaplen,
  interfaceSupported,
  resetInterfaces,
  setPacketTime,
} from "./interfaces";
import {
  baseOffset,
  buffer,
  fail,
  filled,
  position,
  setError,
  setErrorValue,
  setPosition,
  stopStream,
  streamOffset,
} from "./stream";

const BLOCK_SHB: u32 = 0x0a0d0d0a;
const BLOCK_IDB: u32 = 1;
const BLOCK_PB: u32 = 2; // the obsolete Packet Block
const BLOCK_SPB: u32 = 3;
const BLOCK_EPB: u32 = 6;
const BYTE_ORDER_MAGIC: u32 = 0x1a2b3c4d;

/** Type, leading length and trailing length. */
const BLOCK_OVERHEAD: u32 = 12;
/** The part of a Section Header Block read before the rest is skipped: up to the version. */
const SHB_PREFIX: u32 = 16;

// Results of `readBlock` other than a count of consumed bytes.
const NEED_MORE: i32 = 0;
const STOP_HITS_FULL: i32 = -1;
const STOP_ERROR: i32 = -2;

let swapped: bool = false;
/** Set once the first Section Header Block's version has been read. */
let sectionSeen: bool = false;
/** Blocks started so far in this input; the block at `position` is number + 1. */
let blockNumber: f64 = 0;

// The block being skipped, when `skipping`.
let skipping: bool = false;
/** Bytes of the skipped block still to pass before its trailing length. */
let skipRemaining: u32 = 0;
let skipLength: u32 = 0;
let skipType: u32 = 0;
let skipNumber: f64 = 0;
let skipOffset: f64 = 0;

const packet = new PacketInfo();

/** Returns true when the first four bytes are a Section Header Block type (the same in both byte orders). */
export function isPcapngMagic(magic: u32): bool {
  return magic == BLOCK_SHB;
}

/** Returns true when `value`, in either byte order, is the type of an interface or packet block. */
export function isPcapngBlockType(value: u32): bool {
  return isBufferedType(value) || isBufferedType(bswap<u32>(value));
}

/**
 * Rejects an input that starts with an interface or packet block, as a file whose
 * Section Header Block was cut off does, when its length is plausible in the same
 * byte order. Returns STATUS_OK when the bytes do not look like such a block.
 */
export function rejectMisplacedBlock(block: usize): i32 {
  const type = load<u32>(block);
  const blockSwapped = !isBufferedType(type);
  const length = readU32(block + 4, blockSwapped);
  if (length < BLOCK_OVERHEAD || (length & 3) != 0) return STATUS_OK;
  const typeInOrder = blockSwapped ? bswap<u32>(type) : type;
  setError(ERR_NO_SECTION_HEADER, <f64>typeInOrder, 0, 1, streamOffset(block), UNIT_BLOCK, <f64>typeInOrder);
  return stopStream();
}

/** Resets the pcapng state for a new input. */
export function beginPcapng(): void {
  swapped = false;
  sectionSeen = false;
  blockNumber = 0;
  skipping = false;
  packet.number = 0;
  resetInterfaces();
}

/** Frames and inspects every complete block in the buffer. */
export function framePcapngBlocks(): i32 {
  let at = position;
  while (true) {
    if (skipping) {
      const step = min<u32>(filled - at, skipRemaining);
      at += step;
      skipRemaining -= step;
      if (skipRemaining > 0 || filled - at < 4) break;
      const trailer = readU32(buffer + at, swapped);
      if (trailer != skipLength) {
        setPosition(at);
        setError(ERR_BLOCK_TRAILER_MISMATCH, <f64>trailer, <f64>skipLength, skipNumber, skipOffset, UNIT_BLOCK, <f64>skipType);
        return stopStream();
      }
      at += 4;
      skipping = false;
      continue;
    }
    const result = readBlock(buffer + at, filled - at);
    if (result == NEED_MORE) break;
    if (result == STOP_HITS_FULL) {
      setPosition(at);
      return STATUS_HITS_FULL;
    }
    if (result == STOP_ERROR) {
      setPosition(at);
      return STATUS_ERROR;
    }
    at += <u32>result;
  }
  setPosition(at);
  return STATUS_OK;
}

/**
 * Reads the block at `block` with `available` bytes present. Returns the bytes
 * consumed (a whole buffered block, or the prefix of one now being skipped),
 * NEED_MORE, STOP_HITS_FULL (nothing consumed) or STOP_ERROR.
 */
function readBlock(block: usize, available: u32): i32 {
  if (available < 8) return NEED_MORE;
  const type = readU32(block, swapped);
  if (type == BLOCK_SHB) return readSectionHeader(block, available);

  const buffered = isBufferedType(type);
  // A pcap file header here means another capture was appended, as by cat.
  if (!buffered && isClassicMagic(type)) {
    return failBlock(ERR_SECOND_CAPTURE_HEADER, <f64>bswap<u32>(load<u32>(block)), 0, block, type);
  }
  const length = readU32(block + 4, swapped);
  const lengthError = checkLength(block, type, length);
  if (lengthError != STATUS_OK) return STOP_ERROR;
  if (!buffered) {
    if (length > MAX_SKIPPED_BLOCK_LENGTH) return failSkippedTooLarge(block, type, length);
    startSkip(block, type, length, 8);
    return 8;
  }
  if (length > MAX_BUFFERED_BLOCK_LENGTH) {
    return failBlock(ERR_BLOCK_TOO_LARGE, <f64>length, <f64>MAX_BUFFERED_BLOCK_LENGTH, block, type);
  }
  // Reject an absurd caplen as soon as it is readable, not after buffering the block.
  if ((type == BLOCK_EPB || type == BLOCK_PB) && available >= 24) {
    const caplen = readU32(block + 20, swapped);
    if (caplen > MAX_CAPLEN) return failBlock(ERR_CAPLEN_TOO_LARGE, <f64>caplen, <f64>MAX_CAPLEN, block, type);
  }
  if (available < length) return NEED_MORE;
  const trailer = readU32(block + length - 4, swapped);
  if (trailer != length) return failBlock(ERR_BLOCK_TRAILER_MISMATCH, <f64>trailer, <f64>length, block, type);

  let status = STATUS_OK;
  if (type == BLOCK_IDB) status = readInterfaceDescription(block, length);
  else if (type == BLOCK_EPB) status = readEnhancedPacket(block, length);
  else if (type == BLOCK_SPB) status = readSimplePacket(block, length);
  else status = readObsoletePacket(block, length);
  if (status == STATUS_HITS_FULL) return STOP_HITS_FULL;
  if (status != STATUS_OK) return STOP_ERROR;
  blockNumber += 1;
  return <i32>length;
}

/** Returns true for the block types that are buffered whole: interfaces and packets. */
function isBufferedType(type: u32): bool {
  return type == BLOCK_IDB || type == BLOCK_EPB || type == BLOCK_SPB || type == BLOCK_PB;
}

/** Returns the smallest valid total length of a block of this type. */
function minimumLength(type: u32): u32 {
  if (type == BLOCK_SHB) return 28;
  if (type == BLOCK_IDB) return 20;
  if (type == BLOCK_EPB || type == BLOCK_PB) return 32;
  if (type == BLOCK_SPB) return 16;
  return BLOCK_OVERHEAD;
}

/** Checks a leading block length; records the error and returns STATUS_ERROR when it is invalid. */
function checkLength(block: usize, type: u32, length: u32): i32 {
  const minimum = minimumLength(type);
  if (length < minimum) {
    failBlock(ERR_BLOCK_TOO_SHORT, <f64>length, <f64>minimum, block, type);
    return STATUS_ERROR;
  }
  if ((length & 3) != 0) {
    failBlock(ERR_BLOCK_UNALIGNED, <f64>length, 4, block, type);
    return STATUS_ERROR;
  }
  return STATUS_OK;
}

/** Starts skipping a block of which `consumed` bytes are read. */
function startSkip(block: usize, type: u32, length: u32, consumed: u32): void {
  blockNumber += 1;
  skipping = true;
  skipRemaining = length - consumed - 4;
  skipLength = length;
  skipType = type;
  skipNumber = blockNumber;
  skipOffset = streamOffset(block);
}

/**
 * Rejects a block too long to skip. Its length field is damaged, and skipping it
 * would swallow the rest of the input without an error.
 */
function failSkippedTooLarge(block: usize, type: u32, length: u32): i32 {
  return failBlock(ERR_SKIPPED_BLOCK_TOO_LARGE, <f64>length, <f64>MAX_SKIPPED_BLOCK_LENGTH, block, type);
}

/** Records an error about the block at `block` and stops the stream. */
function failBlock(code: i32, value: f64, limit: f64, block: usize, type: u32): i32 {
  setError(code, value, limit, blockNumber + 1, streamOffset(block), UNIT_BLOCK, <f64>type);
  stopStream();
  return STOP_ERROR;
}

/**
 * Reads a Section Header Block's byte order and version, then skips the rest of
 * it. Version 1.0 is current; 1.2 was written by some older tools and reads the
 * same (libpcap accepts both, and only these).
 */
function readSectionHeader(block: usize, available: u32): i32 {
  if (available < 12) return NEED_MORE;
  const magic = load<u32>(block + 8);
  if (magic != BYTE_ORDER_MAGIC && bswap<u32>(magic) != BYTE_ORDER_MAGIC) {
    return failBlock(ERR_BAD_BYTE_ORDER_MAGIC, <f64>bswap<u32>(magic), <f64>BYTE_ORDER_MAGIC, block, BLOCK_SHB);
  }
  const sectionSwapped = magic != BYTE_ORDER_MAGIC;
  const length = readU32(block + 4, sectionSwapped);
  if (checkLength(block, BLOCK_SHB, length) != STATUS_OK) return STOP_ERROR;
  if (length > MAX_SKIPPED_BLOCK_LENGTH) return failSkippedTooLarge(block, BLOCK_SHB, length);
  if (available < SHB_PREFIX) return NEED_MORE;
  const major = readU16(block + 12, sectionSwapped);
  const minor = readU16(block + 14, sectionSwapped);
  if (major != 1 || (minor != 0 && minor != 2)) {
    return failBlock(ERR_BAD_SECTION_VERSION, <f64>major, <f64>minor, block, BLOCK_SHB);
  }
  swapped = sectionSwapped;
  sectionSeen = true;
  resetInterfaces();
  startSkip(block, BLOCK_SHB, length, SHB_PREFIX);
  return <i32>SHB_PREFIX;
}

function readInterfaceDescription(block: usize, length: u32): i32 {
  if (!addInterface(block, length, swapped)) {
    failBlock(ERR_TOO_MANY_INTERFACES, <f64>(interfaceCount + 1), <f64>MAX_INTERFACES, block, BLOCK_IDB);
    return STATUS_ERROR;
  }
  return STATUS_OK;
}

/** Checks a packet block's interface id; records the error when no such interface exists. */
function checkInterface(block: usize, type: u32, id: u32): i32 {
  if (id < interfaceCount) return STATUS_OK;
  failBlock(ERR_UNKNOWN_INTERFACE, <f64>id, <f64>interfaceCount, block, type);
  return STATUS_ERROR;
}

/** Checks a caplen against the room the block has for packet data. */
function checkCaplen(block: usize, type: u32, caplen: u32, room: u32): i32 {
  if (caplen > MAX_CAPLEN) {
    failBlock(ERR_CAPLEN_TOO_LARGE, <f64>caplen, <f64>MAX_CAPLEN, block, type);
    return STATUS_ERROR;
  }
  if (caplen > room) {
    failBlock(ERR_CAPLEN_BEYOND_BLOCK, <f64>caplen, <f64>room, block, type);
    return STATUS_ERROR;
  }
  return STATUS_OK;
}

/**
 * Enhanced Packet Block: interface id, timestamp (upper and lower 32 bits), caplen
 * and original length at bytes 8 to 27, packet data from byte 28.
 */
function readEnhancedPacket(block: usize, length: u32): i32 {
  const id = readU32(block + 8, swapped);
  if (checkInterface(block, BLOCK_EPB, id) != STATUS_OK) return STATUS_ERROR;
  const caplen = readU32(block + 20, swapped);
  if (checkCaplen(block, BLOCK_EPB, caplen, length - 32) != STATUS_OK) return STATUS_ERROR;
  if (!hasRoomForPacket()) return STATUS_HITS_FULL;
  setPacketTime(packet, id, readTimestamp(block + 12));
  emitPacket(id, block + 28, caplen, readU32(block + 24, swapped));
  return STATUS_OK;
}

/** Packet Block (obsolete): like an Enhanced Packet Block with a 16-bit interface id and a drop count. */
function readObsoletePacket(block: usize, length: u32): i32 {
  const id = readU16(block + 8, swapped);
  if (checkInterface(block, BLOCK_PB, id) != STATUS_OK) return STATUS_ERROR;
  const caplen = readU32(block + 20, swapped);
  if (checkCaplen(block, BLOCK_PB, caplen, length - 32) != STATUS_OK) return STATUS_ERROR;
  if (!hasRoomForPacket()) return STATUS_HITS_FULL;
  setPacketTime(packet, id, readTimestamp(block + 12));
  emitPacket(id, block + 28, caplen, readU32(block + 24, swapped));
  return STATUS_OK;
}

/**
 * Simple Packet Block: the original length, then packet data for interface 0. The
 * captured length is the smallest of the original length, the interface's snaplen
 * and the room in the block. It has no timestamp.
 */
function readSimplePacket(block: usize, length: u32): i32 {
  if (checkInterface(block, BLOCK_SPB, 0) != STATUS_OK) return STATUS_ERROR;
  const origLen = readU32(block + 8, swapped);
  let caplen = min<u32>(origLen, length - 16);
  const snaplen = interfaceSnaplen(0);
  if (snaplen > 0) caplen = min<u32>(caplen, snaplen);
  if (checkCaplen(block, BLOCK_SPB, caplen, length - 16) != STATUS_OK) return STATUS_ERROR;
  if (!hasRoomForPacket()) return STATUS_HITS_FULL;
  clearPacketTime(packet, 0);
  emitPacket(0, block + 12, caplen, origLen);
  return STATUS_OK;
}

/** Reads a timestamp stored as two 32-bit words, upper word first. */
function readTimestamp(address: usize): u64 {
  const high = <u64>readU32(address, swapped);
  const low = <u64>readU32(address + 4, swapped);
  return (high << 32) | low;
}

function emitPacket(id: u32, data: usize, caplen: u32, origLen: u32): void {
  packet.number += 1;
  addCounter(C_PACKETS, 1);
  addCounter(C_CAPTURED_BYTES, <f64>caplen);
  const snaplen = interfaceSnaplen(id);
  // Both are odd but harmless, as in classic pcap; a snaplen of 0 means no limit.
  if (caplen > origLen) addCounter(C_CAPLEN_ABOVE_LEN, 1);
  if (snaplen > 0 && caplen > snaplen) addCounter(C_CAPLEN_ABOVE_SNAPLEN, 1);

  packet.linkType = interfaceLinkType(id);
  packet.interfaceId = id;
  packet.swapped = swapped;
  packet.data = data;
  packet.caplen = caplen;
  packet.origLen = origLen;
  inspectPacket(packet, interfaceSupported(id));
}

/**
 * Checks the end of a pcapng input: an input that ended before the first Section
 * Header Block's version is an error, and one that ended inside a block is
 * reported as ERR_TRUNCATED_RECORD (a warning).
 */
export function finishPcapng(): i32 {
  const available = filled - position;
  if (!sectionSeen) {
    setErrorValue(baseOffset + <f64>filled);
    return fail(ERR_SHORT_HEADER);
  }
  if (skipping) {
    const present = skipLength - 4 - skipRemaining + available;
    setError(ERR_TRUNCATED_RECORD, <f64>present, <f64>skipLength, skipNumber, skipOffset, UNIT_BLOCK, <f64>skipType);
    return STATUS_ERROR;
  }
  if (available == 0) return STATUS_OK;
  const block = buffer + position;
  // The length is unknown (0) when the input stopped inside the block's first 8 bytes.
  const length = available >= 8 ? readU32(block + 4, swapped) : 0;
  const type = available >= 4 ? readU32(block, swapped) : 0;
  setError(ERR_TRUNCATED_RECORD, <f64>available, <f64>length, blockNumber + 1, streamOffset(block), UNIT_BLOCK, <f64>type);
  return STATUS_ERROR;
}
