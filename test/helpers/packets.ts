// Building packets byte by byte for test captures: IPv4 with TCP or UDP, and the
// link-layer headers the scanner supports.

import { parseIPv4 } from "../../src/lists/ipv4.js";

export interface IPv4Options {
  src: string;
  dst: string;
  proto?: number;
  srcPort?: number;
  dstPort?: number;
  /** Bytes after the transport header. */
  payload?: Uint8Array;
  /** IPv4 options; padded to a multiple of 4 bytes. */
  options?: Uint8Array;
  /** Overrides the total-length field (0 mimics segmentation offload). */
  totalLength?: number;
  /** Fragment offset in 8-byte units. */
  fragmentOffset?: number;
  moreFragments?: boolean;
  /** Overrides the version/IHL byte. */
  versionIhl?: number;
  /** TCP sequence number (default 0). */
  seq?: number;
  /** TCP flag bits, such as 0x02 for SYN or 0x18 for PSH and ACK (default 0). */
  tcpFlags?: number;
}

function address(text: string): number {
  const value = parseIPv4(text);
  if (value === undefined) throw new Error(`bad test address ${text}`);
  return value;
}

/** Builds an IPv4 packet: header, an 8-byte UDP or 20-byte TCP header (when proto is 6 or 17), payload. */
export function ipv4(options: IPv4Options): Buffer {
  const proto = options.proto ?? 6;
  const optionBytes = options.options ?? new Uint8Array(0);
  const optionLength = Math.ceil(optionBytes.length / 4) * 4;
  const headerLength = 20 + optionLength;
  const payload = options.payload ?? new Uint8Array(0);
  let transport: Buffer;
  if (proto === 6) {
    transport = Buffer.alloc(20);
    transport.writeUInt32BE((options.seq ?? 0) >>> 0, 4);
    transport.writeUInt8(0x50, 12); // data offset 5 words
    transport.writeUInt8(options.tcpFlags ?? 0, 13);
  } else if (proto === 17) {
    transport = Buffer.alloc(8);
    transport.writeUInt16BE(8 + payload.length, 4);
  } else {
    transport = Buffer.alloc(0);
  }
  if (transport.length >= 4) {
    transport.writeUInt16BE(options.srcPort ?? 40000, 0);
    transport.writeUInt16BE(options.dstPort ?? 443, 2);
  }
  const header = Buffer.alloc(headerLength);
  header.writeUInt8(options.versionIhl ?? (0x40 | (headerLength / 4)), 0);
  const totalLength = headerLength + transport.length + payload.length;
  header.writeUInt16BE(options.totalLength ?? totalLength, 2);
  const fragment = ((options.moreFragments === true ? 1 : 0) << 13) | (options.fragmentOffset ?? 0);
  header.writeUInt16BE(fragment, 6);
  header.writeUInt8(64, 8); // TTL
  header.writeUInt8(proto, 9);
  header.writeUInt32BE(address(options.src), 12);
  header.writeUInt32BE(address(options.dst), 16);
  header.set(optionBytes, 20);
  return Buffer.concat([header, transport, payload]);
}

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_ARP = 0x0806;

/** Wraps a payload in an Ethernet header with optional VLAN tags (TPID, VLAN id) outermost first. */
export function ethernet(payload: Uint8Array, ethertype = ETHERTYPE_IPV4, tags: ReadonlyArray<[number, number]> = []): Buffer {
  const header = Buffer.alloc(14 + tags.length * 4);
  Buffer.from("020000000001", "hex").copy(header, 0);
  Buffer.from("020000000002", "hex").copy(header, 6);
  let offset = 12;
  for (const [tpid, vlan] of tags) {
    header.writeUInt16BE(tpid, offset);
    header.writeUInt16BE(vlan & 0x0fff, offset + 2);
    offset += 4;
  }
  header.writeUInt16BE(ethertype, offset);
  return Buffer.concat([header, payload]);
}

/** Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 16 bytes, protocol at offset 14). */
export function sll(payload: Uint8Array, protocol = ETHERTYPE_IPV4): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt16BE(0, 0); // packet type: to us
  header.writeUInt16BE(1, 2); // ARPHRD_ETHER
  header.writeUInt16BE(6, 4);
  Buffer.from("020000000001", "hex").copy(header, 6);
  header.writeUInt16BE(protocol, 14);
  return Buffer.concat([header, payload]);
}

/** Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 20 bytes, protocol at offset 0). */
export function sll2(payload: Uint8Array, protocol = ETHERTYPE_IPV4): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(protocol, 0);
  header.writeUInt32BE(2, 4); // interface index
  header.writeUInt16BE(1, 8); // ARPHRD_ETHER
  header.writeUInt8(0, 10); // packet type
  header.writeUInt8(6, 11); // address length
  Buffer.from("020000000001", "hex").copy(header, 12);
  return Buffer.concat([header, payload]);
}

/** BSD loopback header: a 4-byte address family, little-endian for NULL, big-endian for LOOP. */
export function loopback(payload: Uint8Array, family = 2, bigEndian = false): Buffer {
  const header = Buffer.alloc(4);
  if (bigEndian) header.writeUInt32BE(family, 0);
  else header.writeUInt32LE(family, 0);
  return Buffer.concat([header, payload]);
}

export const ETHERTYPE_PPPOE_SESSION = 0x8864;
export const ETHERTYPE_MPLS = 0x8847;
export const ETHERTYPE_MPLS_MULTICAST = 0x8848;

/** Prepends a PPP header: optional 0xff 0x03 address and control, then the protocol in 1 or 2 bytes. */
export function ppp(payload: Uint8Array, options: { addressControl?: boolean; protocol?: number; compressed?: boolean } = {}): Buffer {
  const protocol = options.protocol ?? 0x0021;
  const parts: Uint8Array[] = [];
  if (options.addressControl === true) parts.push(Uint8Array.of(0xff, 0x03));
  parts.push(options.compressed === true ? Uint8Array.of(protocol) : Uint8Array.of(protocol >> 8, protocol & 0xff));
  parts.push(payload);
  return Buffer.concat(parts);
}

/** Prepends a Cisco HDLC header: address 0x0f, control 0, a 2-byte ethertype. */
export function ciscoHdlc(payload: Uint8Array, ethertype = ETHERTYPE_IPV4): Buffer {
  const header = Buffer.from([0x0f, 0x00, ethertype >> 8, ethertype & 0xff]);
  return Buffer.concat([header, payload]);
}

/** Prepends a PPPoE session header (RFC 2516) and a PPP protocol field, making the payload of ethertype 0x8864. */
export function pppoeSession(payload: Uint8Array, pppProtocol = 0x0021): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt8(0x11, 0); // version 1, type 1
  header.writeUInt8(0x00, 1); // code: session data
  header.writeUInt16BE(0x1234, 2); // session id
  header.writeUInt16BE(payload.length + 2, 4);
  header.writeUInt16BE(pppProtocol, 6);
  return Buffer.concat([header, payload]);
}

/** Prepends an MPLS label stack (RFC 3032), the last entry marked bottom of stack. */
export function mplsStack(payload: Uint8Array, labels: number[]): Buffer {
  const header = Buffer.alloc(labels.length * 4);
  labels.forEach((label, i) => {
    const bottom = i === labels.length - 1 ? 0x100 : 0;
    header.writeUInt32BE(((label << 12) | bottom | 64) >>> 0, i * 4);
  });
  return Buffer.concat([header, payload]);
}

/** Builds an 802.3 frame: addresses, a length field, then LLC/SNAP with the given OUI and ethertype. */
export function llcSnapEthernet(payload: Uint8Array, ethertype = ETHERTYPE_IPV4, oui = 0): Buffer {
  const snap = Buffer.from([0xaa, 0xaa, 0x03, (oui >> 16) & 0xff, (oui >> 8) & 0xff, oui & 0xff, ethertype >> 8, ethertype & 0xff]);
  return ethernet(Buffer.concat([snap, payload]), snap.length + payload.length);
}

/**
 * Builds an NFLOG frame: header (family, version, resource id) and TLVs in the capturing
 * host's byte order (little-endian unless `bigEndian`): a packet header TLV, a
 * prefix TLV of 5 bytes (padded), `extraTlvs` 4-byte mark TLVs, then the payload TLV.
 */
export function nflog(payload: Uint8Array, options: { family?: number; bigEndian?: boolean; extraTlvs?: number } = {}): Buffer {
  const tlv = (type: number, value: Uint8Array): Buffer => {
    const header = Buffer.alloc(4);
    if (options.bigEndian === true) {
      header.writeUInt16BE(4 + value.length, 0);
      header.writeUInt16BE(type, 2);
    } else {
      header.writeUInt16LE(4 + value.length, 0);
      header.writeUInt16LE(type, 2);
    }
    const padding = Buffer.alloc((4 - (value.length % 4)) % 4);
    return Buffer.concat([header, value, padding]);
  };
  const header = Buffer.from([options.family ?? 2, 0, 0, 1]);
  const marks = Array.from({ length: options.extraTlvs ?? 0 }, () => tlv(2, Buffer.from([0, 0, 0, 7])));
  return Buffer.concat([header, tlv(1, Buffer.from([0x08, 0x00, 3, 0])), tlv(10, Buffer.from("drop\0")), ...marks, tlv(9, payload)]);
}

/** Prepends a GRE header (RFC 2784, RFC 2890) with the optional checksum, key and sequence words. */
export function gre(payload: Uint8Array, options: { protocol?: number; checksum?: boolean; key?: boolean; sequence?: boolean; version?: number } = {}): Buffer {
  let flags = options.version ?? 0;
  const words: number[] = [];
  if (options.checksum === true) {
    flags |= 0x8000;
    words.push(0);
  }
  if (options.key === true) {
    flags |= 0x2000;
    words.push(0x01020304);
  }
  if (options.sequence === true) {
    flags |= 0x1000;
    words.push(7);
  }
  const header = Buffer.alloc(4 + words.length * 4);
  header.writeUInt16BE(flags, 0);
  header.writeUInt16BE(options.protocol ?? ETHERTYPE_IPV4, 2);
  words.forEach((word, i) => header.writeUInt32BE(word, 4 + i * 4));
  return Buffer.concat([header, payload]);
}

/** Prepends a VXLAN header (RFC 7348) with the I flag and VNI 42, making the payload of UDP port 4789. */
export function vxlan(frame: Uint8Array, flags = 0x08): Buffer {
  const header = Buffer.from([flags, 0, 0, 0, 0, 0, 42, 0]);
  return Buffer.concat([header, frame]);
}
