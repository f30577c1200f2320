// Link layers: from the start of a captured frame to its outer IPv4 header, through
// the link-layer header, VLAN tags, 802.3 LLC/SNAP, PPPoE sessions, PPP, MPLS label
// stacks and Ethernet pseudowires. Every read is checked against `end` first.

import { C_SKIP_BAD_IP_VERSION, C_SKIP_HEADER_LIMIT, C_SKIP_IP_TRUNCATED, C_SKIP_NOT_IPV4, C_SKIP_TRUNCATED_LINK } from "./abi";
import { readU16, readU16BE } from "./bytes";
import {
  DLT_RAW_12,
  DLT_RAW_14,
  LINKTYPE_C_HDLC,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NFLOG,
  LINKTYPE_NULL,
  LINKTYPE_PPP,
  LINKTYPE_PPP_HDLC,
  LINKTYPE_RAW,
} from "./linktypes";

export const ETHERTYPE_IPV4: u32 = 0x0800;
const ETHERTYPE_VLAN: u32 = 0x8100; // IEEE 802.1Q
const ETHERTYPE_QINQ: u32 = 0x88a8; // IEEE 802.1ad service tag
const ETHERTYPE_QINQ_OLD_1: u32 = 0x9100; // pre-802.1ad vendor QinQ tags
const ETHERTYPE_QINQ_OLD_2: u32 = 0x9200;
const ETHERTYPE_PPPOE_SESSION: u32 = 0x8864; // RFC 2516
const ETHERTYPE_MPLS_UNICAST: u32 = 0x8847; // RFC 3032
const ETHERTYPE_MPLS_MULTICAST: u32 = 0x8848;
/** Largest 802.3 length field: a type/length value up to this is a length, and LLC follows. */
const MAX_8023_LENGTH: u32 = 1500;

// PPP protocol numbers (RFC 1661, RFC 3032).
const PPP_IPV4: u32 = 0x0021;
const PPP_MPLS_UNICAST: u32 = 0x0281;
const PPP_MPLS_MULTICAST: u32 = 0x0283;

/** Headers followed after the link-layer header before giving up on a frame. */
const MAX_ENCAPSULATIONS: i32 = 16;
/** VLAN tags followed before giving up on a frame. */
const MAX_TAGS: i32 = 8;
/** MPLS label stack entries popped before giving up on a frame. */
const MAX_MPLS_LABELS: u32 = 16;
/** NFLOG TLVs read before giving up on a frame. */
const MAX_NFLOG_TLVS: i32 = 64;

const AF_INET: u32 = 2; // the same value on every BSD and on Linux
const NFULA_PAYLOAD: u32 = 9;

/** Set by the functions below when they return -1: the counter of the skip reason. */
export let skipReason: i32 = 0;

// @ts-ignore: decorator
@inline
function skip(reason: i32): i32 {
  skipReason = reason;
  return -1;
}

/**
 * Returns the offset of the outer IPv4 header of a frame of `linkType`, or -1 with
 * `skipReason` set. `swapped` is the capture file's byte order, which NFLOG
 * headers share. Reads only bytes in [data, data + caplen).
 */
export function findIPv4(linkType: u32, data: usize, caplen: u32, swapped: bool): i32 {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return followEthernet(data, caplen, 0);
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
    case LINKTYPE_PPP:
      return followPPPFrame(data, caplen);
    case LINKTYPE_PPP_HDLC: {
      // RFC 1662 framing starts with address 0xff; Cisco HDLC with 0x0f or 0x8f.
      if (caplen < 1) return skip(C_SKIP_TRUNCATED_LINK);
      if (load<u8>(data) == 0xff) return followPPPFrame(data, caplen);
      return followCiscoHDLC(data, caplen);
    }
    case LINKTYPE_C_HDLC:
      return followCiscoHDLC(data, caplen);
    case LINKTYPE_NFLOG:
      return findNflogPayload(data, caplen, swapped);
  }
  // The framing code counts unsupported link types before calling here.
  return skip(C_SKIP_NOT_IPV4);
}

/** Follows an Ethernet header at `offset` (6-byte addresses, then a type or 802.3 length). */
export function followEthernet(data: usize, end: u32, offset: u32): i32 {
  if (offset + 14 > end) return skip(C_SKIP_TRUNCATED_LINK);
  return followEthertype(data, end, offset + 14, readU16BE(data + offset + 12));
}

/**
 * Follows a chain of headers that starts with `ethertype` at `offset` to the IPv4
 * header. The loop, not recursion, walks nested headers, so a crafted frame costs
 * at most MAX_ENCAPSULATIONS steps.
 */
export function followEthertype(data: usize, end: u32, offset: u32, ethertype: u32): i32 {
  let tags = 0;
  for (let step = 0; step < MAX_ENCAPSULATIONS; step++) {
    if (ethertype == ETHERTYPE_IPV4) return <i32>offset;
    if (isVlanTag(ethertype)) {
      // A tag is 2 bytes of TCI followed by the next ethertype.
      if (++tags > MAX_TAGS) return skip(C_SKIP_HEADER_LIMIT);
      if (offset + 4 > end) return skip(C_SKIP_TRUNCATED_LINK);
      ethertype = readU16BE(data + offset + 2);
      offset += 4;
      continue;
    }
    if (ethertype == ETHERTYPE_PPPOE_SESSION) {
      // Version/type, code, session id and payload length, then a PPP protocol field.
      if (offset + 6 > end) return skip(C_SKIP_TRUNCATED_LINK);
      offset += 6;
      const protocolLength = pppProtocolLength(data, end, offset);
      if (protocolLength == 0) return skip(C_SKIP_TRUNCATED_LINK);
      ethertype = pppProtocolToEthertype(readPPPProtocol(data, offset, protocolLength));
      if (ethertype == 0) return skip(C_SKIP_NOT_IPV4);
      offset += protocolLength;
      continue;
    }
    if (ethertype == ETHERTYPE_MPLS_UNICAST || ethertype == ETHERTYPE_MPLS_MULTICAST) {
      const payload = popLabelStack(data, end, offset);
      if (payload < 0) return -1;
      offset = <u32>payload;
      ethertype = mplsPayloadType(data, end, offset);
      if (ethertype == 0) return skip(C_SKIP_NOT_IPV4);
      if (ethertype == ETHERTYPE_IPV4) continue;
      // An Ethernet pseudowire: a 4-byte control word, then an Ethernet frame.
      offset += 4;
      if (offset + 14 > end) return skip(C_SKIP_TRUNCATED_LINK);
      ethertype = readU16BE(data + offset + 12);
      offset += 14;
      continue;
    }
    if (ethertype <= MAX_8023_LENGTH) {
      const next = readSnapEthertype(data, end, offset);
      if (next < 0) return -1;
      ethertype = <u32>next;
      offset += 8;
      continue;
    }
    return skip(C_SKIP_NOT_IPV4);
  }
  return skip(C_SKIP_HEADER_LIMIT);
}

function isVlanTag(ethertype: u32): bool {
  return (
    ethertype == ETHERTYPE_VLAN ||
    ethertype == ETHERTYPE_QINQ ||
    ethertype == ETHERTYPE_QINQ_OLD_1 ||
    ethertype == ETHERTYPE_QINQ_OLD_2
  );
}

/**
 * Reads an 802.2 LLC header with a SNAP extension (DSAP 0xaa, SSAP 0xaa, control
 * 0x03, a 3-byte OUI and a 2-byte type). Returns the type when the OUI is 00-00-00
 * (RFC 1042) or 00-00-f8 (802.1H), whose types are ethertypes, else -1.
 */
function readSnapEthertype(data: usize, end: u32, offset: u32): i32 {
  if (offset + 3 > end) return skip(C_SKIP_TRUNCATED_LINK);
  const header = data + offset;
  if (load<u8>(header) != 0xaa || load<u8>(header, 1) != 0xaa || load<u8>(header, 2) != 0x03) {
    return skip(C_SKIP_NOT_IPV4);
  }
  if (offset + 8 > end) return skip(C_SKIP_TRUNCATED_LINK);
  const oui = (<u32>load<u8>(header, 3) << 16) | (<u32>load<u8>(header, 4) << 8) | <u32>load<u8>(header, 5);
  if (oui != 0 && oui != 0xf8) return skip(C_SKIP_NOT_IPV4);
  return <i32>readU16BE(header + 6);
}

/**
 * Pops 4-byte MPLS label stack entries up to the one with the bottom-of-stack bit
 * (bit 8 of its third byte). Returns the offset after it, or -1.
 */
function popLabelStack(data: usize, end: u32, offset: u32): i32 {
  for (let labels: u32 = 0; labels < MAX_MPLS_LABELS; labels++) {
    if (offset + 4 > end) return skip(C_SKIP_TRUNCATED_LINK);
    const bottom = (load<u8>(data + offset, 2) & 1) != 0;
    offset += 4;
    if (bottom) return <i32>offset;
  }
  return skip(C_SKIP_HEADER_LIMIT);
}

/**
 * Tells what follows an MPLS label stack from its first nibble, as tshark does:
 * 4 is IPv4 (returns ETHERTYPE_IPV4), 0 is a pseudowire control word, taken to
 * precede an Ethernet frame (returns 1), anything else is not IPv4 (returns 0).
 * NOTE: a non-Ethernet pseudowire with a control word is read as Ethernet too;
 * its packets are skipped unless the bytes at the ethertype happen to be 0x0800.
 */
function mplsPayloadType(data: usize, end: u32, offset: u32): u32 {
  if (offset >= end) return 0;
  const nibble = load<u8>(data + offset) >> 4;
  if (nibble == 4) return ETHERTYPE_IPV4;
  if (nibble == 0) return 1;
  return 0;
}

/**
 * Returns the length of the PPP protocol field at `offset`: 1 byte when its first
 * byte is odd (protocol-field compression, RFC 1661 section 6.5), else 2; 0 when
 * the field is cut off.
 */
function pppProtocolLength(data: usize, end: u32, offset: u32): u32 {
  if (offset >= end) return 0;
  if ((load<u8>(data + offset) & 1) != 0) return 1;
  return offset + 2 <= end ? 2 : 0;
}

function readPPPProtocol(data: usize, offset: u32, length: u32): u32 {
  return length == 1 ? <u32>load<u8>(data + offset) : readU16BE(data + offset);
}

/** Maps a PPP protocol to the ethertype of the same payload, or 0 (not followed). */
function pppProtocolToEthertype(protocol: u32): u32 {
  if (protocol == PPP_IPV4) return ETHERTYPE_IPV4;
  if (protocol == PPP_MPLS_UNICAST) return ETHERTYPE_MPLS_UNICAST;
  if (protocol == PPP_MPLS_MULTICAST) return ETHERTYPE_MPLS_MULTICAST;
  return 0;
}

/** PPP frame (LINKTYPE_PPP): an optional 0xff 0x03 address and control, then the protocol. */
function followPPPFrame(data: usize, caplen: u32): i32 {
  let offset: u32 = 0;
  if (caplen >= 2 && load<u8>(data) == 0xff && load<u8>(data, 1) == 0x03) offset = 2;
  const protocolLength = pppProtocolLength(data, caplen, offset);
  if (protocolLength == 0) return skip(C_SKIP_TRUNCATED_LINK);
  const ethertype = pppProtocolToEthertype(readPPPProtocol(data, offset, protocolLength));
  if (ethertype == 0) return skip(C_SKIP_NOT_IPV4);
  return followEthertype(data, caplen, offset + protocolLength, ethertype);
}

/** Cisco HDLC: address (0x0f or 0x8f), control, then a 2-byte ethertype. */
function followCiscoHDLC(data: usize, caplen: u32): i32 {
  if (caplen < 4) return skip(C_SKIP_TRUNCATED_LINK);
  return followEthertype(data, caplen, 4, readU16BE(data + 2));
}

/**
 * NFLOG: a 4-byte header (address family, version, resource id), then TLVs whose
 * 2-byte length (which counts the 4-byte TLV header) and 2-byte type are in the
 * capturing host's byte order. Each TLV is padded to 4 bytes. The packet is the
 * value of the NFULA_PAYLOAD TLV, starting at its network header.
 * NOTE: the capture file's byte order stands in for the capturing host's, as in
 * libpcap's pcap-common.c, so a file rewritten on a host of the other order is misread.
 */
function findNflogPayload(data: usize, caplen: u32, swapped: bool): i32 {
  if (caplen < 4) return skip(C_SKIP_TRUNCATED_LINK);
  if (<u32>load<u8>(data) != AF_INET) return skip(C_SKIP_NOT_IPV4);
  let offset: u32 = 4;
  for (let count = 0; count < MAX_NFLOG_TLVS; count++) {
    if (offset + 4 > caplen) return skip(C_SKIP_TRUNCATED_LINK);
    const length = readU16(data + offset, swapped);
    const type = readU16(data + offset + 2, swapped) & 0x7fff; // the top bit flags nesting
    if (length < 4) return skip(C_SKIP_TRUNCATED_LINK);
    // The payload may run past caplen when the snaplen cut it; the IPv4 decoder checks.
    if (type == NFULA_PAYLOAD) return <i32>(offset + 4);
    offset += (length + 3) & ~3;
  }
  return skip(C_SKIP_HEADER_LIMIT);
}
