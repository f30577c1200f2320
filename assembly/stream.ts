// The input buffer and the framing state of one input stream.
//
// JavaScript writes each chunk straight into the buffer's free window and calls
// `process`; the framing code consumes every complete record or block and leaves
// an unfinished one in place. `prepare` moves that tail to the front before the
// next chunk, so a record may be split anywhere, even inside its header. The first
// four bytes choose the framing: classic pcap (pcap.ts) or pcapng (pcapng.ts).

import {
  ERR_BAD_MAGIC,
  ERR_EMPTY,
  ERR_NONE,
  ERR_SHORT_HEADER,
  ERR_TRUNCATED_RECORD,
  MAX_BUFFERED_BLOCK_LENGTH,
  NOTICE_LINKTYPE,
  NOTICE_UNSUPPORTED_LINKTYPE,
  STATUS_ERROR,
  STATUS_OK,
  UNIT_RECORD,
} from "./abi";
import { clearHits } from "./hits";
import {
  beginPcapng,
  finishPcapng,
  framePcapngBlocks,
  isPcapngMagic,
  isPcapngBlockType,
  rejectMisplacedBlock,
} from "./pcapng";
import {
  CLASSIC_HEADER_LENGTH,
  classicRecordLengthAt,
  frameClassicRecords,
  isClassicMagic,
  readClassicHeader,
  recordNumber,
  rejectAppendedCapture,
} from "./pcap";

/**
 * Room for a 1 MiB read plus the longest unfinished record or buffered block
 * carried over (a classic record is at most 24 + MAX_CAPLEN bytes, less than
 * MAX_BUFFERED_BLOCK_LENGTH) and the LOOKBEHIND bytes before it.
 */
export const INPUT_CAPACITY: u32 = (1 << 20) + MAX_BUFFERED_BLOCK_LENGTH + 64;

/**
 * Bytes before `position` that `prepare` keeps, fewer at the start of the input.
 * They let an error look at the classic record header (at most 24 bytes) before
 * the record that failed, whatever the chunk boundaries.
 */
const LOOKBEHIND: u32 = 24;

export const STATE_MAGIC: i32 = 0;
export const STATE_CLASSIC: i32 = 1;
export const STATE_FAILED: i32 = 2;
export const STATE_PCAPNG: i32 = 3;

export let buffer: usize = 0;
/** Offset in `buffer` of the first byte not yet consumed. */
export let position: u32 = 0;
/** Offset in `buffer` one past the last byte written. */
export let filled: u32 = 0;
/** Stream offset of `buffer[0]`, for error messages. */
export let baseOffset: f64 = 0;
export let state: i32 = STATE_MAGIC;

// Details of the last error or warning, read by JavaScript.
export let errorCode: i32 = ERR_NONE;
export let errorValue: f64 = 0;
export let errorLimit: f64 = 0;
export let errorRecord: f64 = 0;
export let errorOffset: f64 = 0;
/** What `errorRecord` counts: UNIT_RECORD (classic pcap) or UNIT_BLOCK (pcapng). */
export let errorUnit: i32 = UNIT_RECORD;
/** For pcapng block errors, the type of the block concerned. */
export let errorDetail: f64 = 0;

const NOTICE_CAPACITY: i32 = 64;
let notices: usize = 0;
export let noticeCount: i32 = 0;

export function inputPointer(): usize {
  if (buffer == 0) buffer = heap.alloc(INPUT_CAPACITY);
  return buffer;
}

export function noticesPointer(): usize {
  if (notices == 0) notices = heap.alloc(<usize>NOTICE_CAPACITY << 3);
  return notices;
}

/** Queues an event (kind, value) for JavaScript; extra events past the capacity are dropped. */
export function pushNotice(kind: i32, value: u32): void {
  if (noticeCount >= NOTICE_CAPACITY) return;
  const slot = notices + (<usize>noticeCount << 3);
  store<i32>(slot, kind);
  store<u32>(slot, value, 4);
  noticeCount++;
}

/** One bit per 16-bit link type already announced in this input. */
let linkTypesSeen: usize = 0;
const LINKTYPE_BITMAP_BYTES: usize = 65536 >> 3;

/**
 * Announces the link type of a new interface, once per input and link type, so a
 * pcapng file with a hundred interfaces of one type yields one notice.
 */
export function noteLinkType(linkType: u32, supported: bool): void {
  if (linkTypesSeen == 0) {
    linkTypesSeen = heap.alloc(LINKTYPE_BITMAP_BYTES);
    memory.fill(linkTypesSeen, 0, LINKTYPE_BITMAP_BYTES);
  }
  const byte = linkTypesSeen + <usize>((linkType & 0xffff) >> 3);
  const bit = <u8>(1 << <u8>(linkType & 7));
  const seen = load<u8>(byte);
  if ((seen & bit) != 0) return;
  store<u8>(byte, seen | bit);
  pushNotice(NOTICE_LINKTYPE, linkType);
  if (!supported) pushNotice(NOTICE_UNSUPPORTED_LINKTYPE, linkType);
}

/** Resets the framing state for a new input; counters and dedup memory carry over. */
export function beginInput(): void {
  position = 0;
  filled = 0;
  baseOffset = 0;
  state = STATE_MAGIC;
  errorCode = ERR_NONE;
  noticeCount = 0;
  if (linkTypesSeen != 0) memory.fill(linkTypesSeen, 0, LINKTYPE_BITMAP_BYTES);
  clearHits();
}

/**
 * Moves the unconsumed tail, with the LOOKBEHIND bytes before it, to the front of
 * the buffer and returns the length of the free window that starts at
 * `windowPointer()`. Invalidates the data addresses of earlier hits.
 */
export function prepare(): u32 {
  const keptLength = min<u32>(position, LOOKBEHIND);
  const start = position - keptLength;
  if (start > 0) {
    memory.copy(buffer, buffer + start, filled - start);
    baseOffset += <f64>start;
    filled -= start;
    position = keptLength;
  }
  clearHits();
  noticeCount = 0;
  return INPUT_CAPACITY - filled;
}

export function windowPointer(): usize {
  return buffer + filled;
}

/** Frames the `length` bytes just written to the window. */
export function process(length: u32): i32 {
  filled += min(length, INPUT_CAPACITY - filled);
  return run();
}

/** Continues after STATUS_HITS_FULL once the hits have been read. */
export function resume(): i32 {
  clearHits();
  noticeCount = 0;
  return run();
}

function run(): i32 {
  while (true) {
    if (state == STATE_CLASSIC) return frameClassicRecords();
    if (state == STATE_PCAPNG) return framePcapngBlocks();
    if (state == STATE_FAILED) return STATUS_ERROR;
    // STATE_MAGIC: pick the format from the first four bytes.
    const available = filled - position;
    if (available < 4) return STATUS_OK;
    const magic = load<u32>(buffer + position);
    if (isPcapngMagic(magic)) {
      beginPcapng();
      state = STATE_PCAPNG;
      continue;
    }
    if (!isClassicMagic(magic)) {
      // A pcapng packet or interface block first means the file lost its start.
      if (isPcapngBlockType(magic)) {
        if (available < 8) return STATUS_OK;
        const status = rejectMisplacedBlock(buffer + position);
        if (status != STATUS_OK) return status;
      }
      errorValue = <f64>bswap<u32>(magic); // the first four bytes, in file order
      return fail(ERR_BAD_MAGIC);
    }
    if (available < CLASSIC_HEADER_LENGTH) return STATUS_OK;
    const status = readClassicHeader(buffer + position);
    if (status != STATUS_OK) return status;
    position += CLASSIC_HEADER_LENGTH;
    state = STATE_CLASSIC;
  }
  return STATUS_OK;
}

/**
 * Checks the end of the input: an empty or short input is an error, and a record
 * cut short is reported as ERR_TRUNCATED_RECORD (a warning: the packets before it
 * stand), unless it follows an appended capture file header, which is an error.
 * Returns STATUS_OK when the input ended on a record boundary.
 */
export function finish(): i32 {
  const available = filled - position;
  if (state == STATE_FAILED) return STATUS_ERROR;
  if (state == STATE_MAGIC) {
    if (baseOffset + <f64>filled == 0) return fail(ERR_EMPTY);
    errorValue = <f64>available;
    return fail(ERR_SHORT_HEADER);
  }
  if (state == STATE_PCAPNG) return finishPcapng();
  if (available == 0) return STATUS_OK;
  // An appended header-only pcap file leaves 8 bytes after the record it was read as.
  if (rejectAppendedCapture(buffer + position, available) != STATUS_OK) return STATUS_ERROR;
  setRecordError(ERR_TRUNCATED_RECORD, <f64>available, truncatedRecordLength());
  return STATUS_ERROR;
}

function truncatedRecordLength(): f64 {
  return <f64>classicRecordLengthAt(buffer + position, filled - position);
}

export function setPosition(offset: u32): void {
  position = offset;
}

export function setErrorValue(value: f64): void {
  errorValue = value;
}

/** Records an error or warning with every detail JavaScript reads. */
export function setError(code: i32, value: f64, limit: f64, record: f64, offset: f64, unit: i32, detail: f64): void {
  errorCode = code;
  errorValue = value;
  errorLimit = limit;
  errorRecord = record;
  errorOffset = offset;
  errorUnit = unit;
  errorDetail = detail;
}

/** Stops the stream after an error recorded with `setError`. */
export function stopStream(): i32 {
  state = STATE_FAILED;
  return STATUS_ERROR;
}

/** Returns the stream offset of the buffer address `address`. */
export function streamOffset(address: usize): f64 {
  return baseOffset + <f64>(address - buffer);
}

/** Records an error about the record that starts at `position`. */
export function setRecordError(code: i32, value: f64, limit: f64): void {
  setError(code, value, limit, recordNumber() + 1, baseOffset + <f64>position, UNIT_RECORD, 0);
}

/** Records a fatal error about the record at `position` and stops the stream. */
export function failRecord(code: i32, value: f64, limit: f64): i32 {
  setRecordError(code, value, limit);
  state = STATE_FAILED;
  return STATUS_ERROR;
}

/** Records a fatal error at `position` (errorValue set by the caller) and stops the stream. */
export function fail(code: i32): i32 {
  errorCode = code;
  errorRecord = 0;
  errorOffset = baseOffset + <f64>position;
  errorUnit = UNIT_RECORD;
  errorDetail = 0;
  state = STATE_FAILED;
  return STATUS_ERROR;
}
