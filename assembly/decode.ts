// Per-packet decoding: from the link-layer header to the outer IPv4 header, then
// the protocol, the addresses and, when present, the TCP or UDP ports.

import {
  C_IP_OPTIONS_CUT,
  C_SKIP_BAD_IHL,
  C_SKIP_BAD_IP_LEN,
  C_SKIP_BAD_IP_VERSION,
  C_SKIP_IP_TRUNCATED,
  HF_FRAGMENT,
  HF_PORTS,
} from "./abi";
import { readU16BE, readU32BE } from "./bytes";
import { addCounter } from "./counters";
import { findIPv4, skipReason } from "./links";

/** Returned by `decodePacket` when an IPv4 header was decoded. */
export const DECODED: i32 = -1;

// Fields of the last decoded IPv4 header.
export let packetSrc: u32 = 0;
export let packetDst: u32 = 0;
export let packetProto: u32 = 0;
export let packetSrcPort: u32 = 0;
export let packetDstPort: u32 = 0;
export let packetFlags: u8 = 0;
/** Fragment offset in 8-byte units; only offset 0 carries the next header. */
export let packetFragmentOffset: u32 = 0;
/** Offset of the header after the IPv4 header (the transport or tunnel header). */
export let packetPayloadOffset: u32 = 0;
/** End of the IPv4 payload: the total length or the captured bytes, whichever ends first. */
export let packetPayloadEnd: u32 = 0;

/**
 * Decodes one packet of the given link type. Returns DECODED and sets the packet*
 * fields, or returns the counter index of the reason the packet is skipped.
 * Reads only bytes in [data, data + caplen).
 */
export function decodePacket(linkType: u32, data: usize, caplen: u32, swapped: bool): i32 {
  const ipOffset = findIPv4(linkType, data, caplen, swapped);
  if (ipOffset < 0) return skipReason;
  return decodeIPv4(data, caplen, <u32>ipOffset);
}

/**
 * Decodes the IPv4 header at `offset` (RFC 791), reading only bytes before `end`.
 * Returns DECODED or the counter index of the skip reason.
 */
export function decodeIPv4(data: usize, end: u32, offset: u32): i32 {
  if (offset >= end) return C_SKIP_IP_TRUNCATED;
  const header = data + offset;
  const versionAndIhl = <u32>load<u8>(header);
  if (versionAndIhl >> 4 != 4) return C_SKIP_BAD_IP_VERSION;
  const headerLength = (versionAndIhl & 15) << 2;
  if (headerLength < 20) return C_SKIP_BAD_IHL;
  // The addresses are in the fixed 20 bytes. When only options are cut off (a small
  // snaplen), the packet still alerts; only what follows the header is unknown.
  if (offset + 20 > end) return C_SKIP_IP_TRUNCATED;
  const optionsCut = offset + headerLength > end;
  if (optionsCut) addCounter(C_IP_OPTIONS_CUT, 1);

  // A total length of 0 comes from segmentation offload: the NIC fills it in later,
  // so the captured bytes are all there is to go by.
  const totalLength = readU16BE(header + 2);
  let payloadEnd = end;
  if (totalLength != 0) {
    if (totalLength < headerLength) return C_SKIP_BAD_IP_LEN;
    payloadEnd = min(offset + totalLength, end);
  }

  packetProto = <u32>load<u8>(header, 9);
  packetSrc = readU32BE(header + 12);
  packetDst = readU32BE(header + 16);
  packetSrcPort = 0;
  packetDstPort = 0;
  packetFlags = 0;

  // Fragment offset in 8-byte units (low 13 bits) and the more-fragments flag.
  const fragment = readU16BE(header + 6);
  packetFragmentOffset = fragment & 0x1fff;
  if (packetFragmentOffset != 0 || (fragment & 0x2000) != 0) packetFlags |= HF_FRAGMENT;

  // Only the first fragment carries the transport header.
  const transport = optionsCut ? payloadEnd : offset + headerLength;
  packetPayloadOffset = transport;
  packetPayloadEnd = payloadEnd;
  const hasPorts = packetProto == 6 || packetProto == 17;
  if (hasPorts && packetFragmentOffset == 0 && transport + 4 <= payloadEnd) {
    packetSrcPort = readU16BE(data + transport);
    packetDstPort = readU16BE(data + transport + 2);
    packetFlags |= HF_PORTS;
  }
  return DECODED;
}
