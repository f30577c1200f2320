// Per-packet decoding: from the link-layer header to the outer IPv4 header, then
// the protocol, the addresses and, when present, the TCP or UDP ports.

import {
  C_SKIP_BAD_IHL,
  C_SKIP_BAD_IP_LEN,
  C_SKIP_BAD_IP_VERSION,
  C_SKIP_IP_TRUNCATED,
  C_SKIP_NOT_IPV4,
  C_SKIP_TRUNCATED_LINK,
  HF_FRAGMENT,
  HF_PORTS,
} from "./abi";
import { readU16BE, readU32BE } from "./bytes";
import {
  DLT_RAW_12,
  DLT_RAW_14,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
} from "./linktypes";

/** Returned by `decodePacket` when an IPv4 header was decoded. */
export const DECODED: i32 = -1;

const ETHERTYPE_IPV4: u32 = 0x0800;
const ETHERTYPE_VLAN: u32 = 0x8100; // IEEE 802.1Q
const ETHERTYPE_QINQ: u32 = 0x88a8; // IEEE 802.1ad service tag
const ETHERTYPE_QINQ_OLD_1: u32 = 0x9100; // pre-802.1ad vendor QinQ tags
const ETHERTYPE_QINQ_OLD_2: u32 = 0x9200;

/** Maximum number of tags followed before giving up on a frame. */
const MAX_TAGS: i32 = 8;

const AF_INET: u32 = 2; // the same value on every BSD and on Linux

// Fields of the last decoded packet.
export let packetSrc: u32 = 0;
export let packetDst: u32 = 0;
export let packetProto: u32 = 0;
export let packetSrcPort: u32 = 0;
export let packetDstPort: u32 = 0;
export let packetFlags: u8 = 0;

/** Set by the helpers below when they return -1: the counter of the skip reason. */
let skipReason: i32 = 0;

/**
 * Decodes one packet of the given link type. Returns DECODED and sets the packet*
 * fields, or returns the counter index of the reason the packet is skipped.
 * Reads only bytes in [data, data + caplen).
 */
export function decodePacket(linkType: u32, data: usize, caplen: u32): i32 {
  const ipOffset = findIPv4(linkType, data, caplen);
  if (ipOffset < 0) return skipReason;
  return decodeIPv4(data, caplen, <u32>ipOffset);
}

/** Returns the offset of the IPv4 header, or -1 with `skipReason` set. */
function findIPv4(linkType: u32, data: usize, caplen: u32): i32 {
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (caplen < 14) return skip(C_SKIP_TRUNCATED_LINK);
      return followEthertype(data, caplen, 14, readU16BE(data + 12));
    }
    case LINKTYPE_LINUX_SLL: {
      if (caplen < 16) return skip(C_SKIP_TRUNCATED_LINK);
      return followEthertype(data, caplen, 16, readU16BE(data + 14));
    }
    case LINKTYPE_LINUX_SLL2: {
      if (caplen < 20) return skip(C_SKIP_TRUNCATED_LINK);
      return followEthertype(data, caplen, 20, readU16BE(data));
    }
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      // A 4-byte address family: host byte order of the writer for NULL, network
      // byte order for LOOP. Writers get LOOP wrong too, so accept both orders.
      if (caplen < 4) return skip(C_SKIP_TRUNCATED_LINK);
      const family = load<u32>(data);
      if (family == AF_INET || bswap<u32>(family) == AF_INET) return 4;
      return skip(C_SKIP_NOT_IPV4);
    }
    case DLT_RAW_12:
    case DLT_RAW_14:
    case LINKTYPE_RAW: {
      // Raw IP: the version nibble tells IPv4 from IPv6.
      if (caplen < 1) return skip(C_SKIP_IP_TRUNCATED);
      const version = load<u8>(data) >> 4;
      if (version == 4) return 0;
      if (version == 6) return skip(C_SKIP_NOT_IPV4);
      return skip(C_SKIP_BAD_IP_VERSION);
    }
    case LINKTYPE_IPV4:
      return 0;
  }
  // The framing code counts unsupported link types before calling here.
  return skip(C_SKIP_NOT_IPV4);
}

/** Follows VLAN tags from an ethertype at `offset` to the IPv4 header. */
function followEthertype(data: usize, caplen: u32, offset: u32, ethertype: u32): i32 {
  for (let tags = 0; tags <= MAX_TAGS; tags++) {
    if (ethertype == ETHERTYPE_IPV4) return <i32>offset;
    const isTag =
      ethertype == ETHERTYPE_VLAN ||
      ethertype == ETHERTYPE_QINQ ||
      ethertype == ETHERTYPE_QINQ_OLD_1 ||
      ethertype == ETHERTYPE_QINQ_OLD_2;
    if (!isTag) return skip(C_SKIP_NOT_IPV4);
    // A tag is 2 bytes of TCI followed by the next ethertype.
    if (offset + 4 > caplen) return skip(C_SKIP_TRUNCATED_LINK);
    ethertype = readU16BE(data + offset + 2);
    offset += 4;
  }
  return skip(C_SKIP_NOT_IPV4);
}

/** Decodes the IPv4 header at `offset` (RFC 791). */
function decodeIPv4(data: usize, caplen: u32, offset: u32): i32 {
  if (offset >= caplen) return C_SKIP_IP_TRUNCATED;
  const header = data + offset;
  const versionAndIhl = <u32>load<u8>(header);
  if (versionAndIhl >> 4 != 4) return C_SKIP_BAD_IP_VERSION;
  const headerLength = (versionAndIhl & 15) << 2;
  if (headerLength < 20) return C_SKIP_BAD_IHL;
  if (offset + headerLength > caplen) return C_SKIP_IP_TRUNCATED;

  // A total length of 0 comes from segmentation offload: the NIC fills it in later,
  // so the captured bytes are all there is to go by.
  const totalLength = readU16BE(header + 2);
  let end = caplen;
  if (totalLength != 0) {
    if (totalLength < headerLength) return C_SKIP_BAD_IP_LEN;
    end = min(offset + totalLength, caplen);
  }

  packetProto = <u32>load<u8>(header, 9);
  packetSrc = readU32BE(header + 12);
  packetDst = readU32BE(header + 16);
  packetSrcPort = 0;
  packetDstPort = 0;
  packetFlags = 0;

  // Fragment offset in 8-byte units (low 13 bits) and the more-fragments flag.
  const fragment = readU16BE(header + 6);
  const fragmentOffset = fragment & 0x1fff;
  if (fragmentOffset != 0 || (fragment & 0x2000) != 0) packetFlags |= HF_FRAGMENT;

  // Only the first fragment carries the transport header.
  const transport = offset + headerLength;
  const hasPorts = packetProto == 6 || packetProto == 17;
  if (hasPorts && fragmentOffset == 0 && transport + 4 <= end) {
    packetSrcPort = readU16BE(data + transport);
    packetDstPort = readU16BE(data + transport + 2);
    packetFlags |= HF_PORTS;
  }
  return DECODED;
}

// @ts-ignore: decorator
@inline
function skip(reason: i32): i32 {
  skipReason = reason;
  return -1;
}
