// Classic pcap framing: a 24-byte file header, then records of a 16-byte header
// (ts_sec, ts_frac, caplen, len) and caplen bytes of packet data. The magic number
// gives the writer's byte order and whether ts_frac counts micro- or nanoseconds.

import {
  C_CAPLEN_ABOVE_LEN,
  C_CAPLEN_ABOVE_SNAPLEN,
  C_CAPTURED_BYTES,
  C_PACKETS,
  ERR_BAD_VERSION,
  ERR_CAPLEN_TOO_LARGE,
  ERR_SECOND_CAPTURE_HEADER,
  MAX_CAPLEN,
  STATUS_ERROR,
  STATUS_HITS_FULL,
  STATUS_OK,
  UNIT_RECORD,
} from "./abi";
import { readU16, readU32 } from "./bytes";
import { addCounter } from "./counters";
import { hasRoomForPacket, PacketInfo } from "./hits";
import { inspectPacket } from "./inspect";
import { isSupportedLinkType } from "./linktypes";
import { isPcapngMagic } from "./pcapng";
import {
  buffer,
  fail,
  failRecord,
  filled,
  noteLinkType,
  position,
  setError,
  setErrorValue,
  setPosition,
  stopStream,
  streamOffset,
} from "./stream";

export const CLASSIC_HEADER_LENGTH: u32 = 24;

const MAGIC_MICROSECONDS: u32 = 0xa1b2c3d4;
const MAGIC_NANOSECONDS: u32 = 0xa1b23c4d;
/** Alexey Kuznetzov's patched format: records carry 8 more header bytes. */
const MAGIC_KUZNETZOV: u32 = 0xa1b2cd34;

let swapped: bool = false;
let recordHeaderLength: u32 = 16;
let snaplen: u32 = 0;
let linkSupported: bool = false;
const packet = new PacketInfo();

/** Returns the number of records framed so far in this input. */
export function recordNumber(): f64 {
  return packet.number;
}

/** Returns true when `magic`, read little-endian, is a classic pcap magic number. */
export function isClassicMagic(magic: u32): bool {
  const native = magic;
  const swappedMagic = bswap<u32>(magic);
  return (
    native == MAGIC_MICROSECONDS ||
    native == MAGIC_NANOSECONDS ||
    native == MAGIC_KUZNETZOV ||
    swappedMagic == MAGIC_MICROSECONDS ||
    swappedMagic == MAGIC_NANOSECONDS ||
    swappedMagic == MAGIC_KUZNETZOV
  );
}

/** Reads the 24-byte file header at `header`. */
export function readClassicHeader(header: usize): i32 {
  let magic = load<u32>(header);
  swapped = false;
  if (magic != MAGIC_MICROSECONDS && magic != MAGIC_NANOSECONDS && magic != MAGIC_KUZNETZOV) {
    swapped = true;
    magic = bswap<u32>(magic);
  }
  packet.tsDigits = magic == MAGIC_NANOSECONDS ? 9 : 6;
  recordHeaderLength = magic == MAGIC_KUZNETZOV ? 24 : 16;
  packet.number = 0;

  const versionMajor = readU16(header + 4, swapped);
  if (versionMajor != 2) {
    setErrorValue(<f64>versionMajor);
    return fail(ERR_BAD_VERSION);
  }
  snaplen = readU32(header + 16, swapped);
  // The upper 16 bits of the link-type field carry FCS information, not the type.
  packet.linkType = readU32(header + 20, swapped) & 0xffff;
  packet.swapped = swapped;
  packet.interfaceId = 0;
  linkSupported = isSupportedLinkType(packet.linkType);
  noteLinkType(packet.linkType, linkSupported);
  return STATUS_OK;
}

/**
 * Returns the full length (header and data) of the record starting at `record`
 * when its header is present in `available` bytes, else the header length.
 */
export function classicRecordLengthAt(record: usize, available: u32): u32 {
  if (available < recordHeaderLength) return recordHeaderLength;
  return recordHeaderLength + readU32(record + 8, swapped);
}

/** Frames and inspects every complete record in the buffer. */
export function frameClassicRecords(): i32 {
  let at = position;
  while (true) {
    const available = filled - at;
    if (available < recordHeaderLength) break;
    const record = buffer + at;
    const caplen = readU32(record + 8, swapped);
    if (caplen > MAX_CAPLEN) {
      setPosition(at);
      if (rejectAppendedCapture(record, available) != STATUS_OK) return STATUS_ERROR;
      return failRecord(ERR_CAPLEN_TOO_LARGE, <f64>caplen, <f64>MAX_CAPLEN);
    }
    if (available - recordHeaderLength < caplen) break;
    if (!hasRoomForPacket()) {
      setPosition(at);
      return STATUS_HITS_FULL;
    }
    readRecord(record, caplen);
    at += recordHeaderLength + caplen;
  }
  setPosition(at);
  return STATUS_OK;
}

/**
 * Rejects the input when a capture file header starts at `record` (with
 * `available` bytes present) or one record header before it: the input is then
 * two captures joined end to end, as `cat a.pcap b.pcap` makes them. Returns
 * STATUS_OK when neither place contains a file header.
 *
 * A pcapng Section Header Block read as a record header fails at once, because
 * its byte-order magic is taken for the caplen. A pcap file header is first read
 * as a record of caplen 0 (its thiszone field), so the record that fails or is
 * cut short starts one record header after its magic.
 */
export function rejectAppendedCapture(record: usize, available: u32): i32 {
  if (available >= 4) {
    const magic = load<u32>(record);
    if (isClassicMagic(magic) || isPcapngMagic(magic)) return failSecondHeader(record, recordNumber() + 1);
  }
  // LOOKBEHIND in stream.ts keeps the previous record header in the buffer. The
  // input's own file header, at offsets 0 to 23, does not count.
  if (record - buffer < <usize>recordHeaderLength) return STATUS_OK;
  const previous = record - recordHeaderLength;
  if (streamOffset(previous) < <f64>CLASSIC_HEADER_LENGTH) return STATUS_OK;
  if (!isClassicMagic(load<u32>(previous)) || readU32(previous + 8, swapped) != 0) return STATUS_OK;
  return failSecondHeader(previous, recordNumber());
}

/** Records ERR_SECOND_CAPTURE_HEADER for the file header at `header`, record number `record`, and stops the stream. */
function failSecondHeader(header: usize, record: f64): i32 {
  const fileOrder = bswap<u32>(load<u32>(header));
  setError(ERR_SECOND_CAPTURE_HEADER, <f64>fileOrder, 0, record, streamOffset(header), UNIT_RECORD, 0);
  return stopStream();
}

function readRecord(record: usize, caplen: u32): void {
  packet.number += 1;
  addCounter(C_PACKETS, 1);
  addCounter(C_CAPTURED_BYTES, <f64>caplen);

  let tsSec = <f64>readU32(record, swapped);
  let tsFrac = readU32(record + 4, swapped);
  // Carry an out-of-range fraction into the seconds instead of printing it as is.
  const scale: u32 = packet.tsDigits == 9 ? 1000000000 : 1000000;
  if (tsFrac >= scale) {
    tsSec += <f64>(tsFrac / scale);
    tsFrac %= scale;
  }
  const origLen = readU32(record + 12, swapped);
  // libpcap accepts caplen above snaplen; both are odd but harmless, so count them.
  if (caplen > origLen) addCounter(C_CAPLEN_ABOVE_LEN, 1);
  if (caplen > snaplen) addCounter(C_CAPLEN_ABOVE_SNAPLEN, 1);

  packet.tsSec = tsSec;
  packet.tsFrac = tsFrac;
  packet.data = record + recordHeaderLength;
  packet.caplen = caplen;
  packet.origLen = origLen;
  inspectPacket(packet, linkSupported);
}
