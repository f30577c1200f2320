// Tunnels: the IPv4 header inside the payload of the last decoded IPv4 header, for
// IP-in-IP, GRE and VXLAN. The inner header is then decoded like the outer one.

import { HF_PORTS } from "./abi";
import { readU16BE } from "./bytes";
import {
  packetDstPort,
  packetFlags,
  packetFragmentOffset,
  packetPayloadEnd,
  packetPayloadOffset,
  packetProto,
} from "./decode";
import { ETHERTYPE_IPV4, followEthernet, followEthertype } from "./links";

const PROTO_IPIP: u32 = 4; // RFC 2003
const PROTO_GRE: u32 = 47; // RFC 2784, RFC 2890
const PROTO_UDP: u32 = 17;
const VXLAN_PORT: u32 = 4789; // RFC 7348
const ETHERTYPE_TRANSPARENT_ETHERNET: u32 = 0x6558; // Ethernet frames over GRE

// GRE flag bits in the first 16 bits of the header.
const GRE_CHECKSUM: u32 = 0x8000;
const GRE_ROUTING: u32 = 0x4000;
const GRE_KEY: u32 = 0x2000;
const GRE_SEQUENCE: u32 = 0x1000;
const GRE_VERSION_MASK: u32 = 0x0007;

const VXLAN_HEADER_LENGTH: u32 = 8;
const VXLAN_FLAG_VNI: u8 = 0x08; // the I flag: the VNI is valid, required by RFC 7348
const UDP_HEADER_LENGTH: u32 = 8;

/**
 * Returns the offset of the IPv4 header carried by the last decoded IPv4 header,
 * or -1 when it carries none that is followed. Reads only bytes before
 * `packetPayloadEnd`.
 */
export function findTunneledIPv4(data: usize): i32 {
  // A later fragment starts in the middle of the payload.
  if (packetFragmentOffset != 0) return -1;
  const offset = packetPayloadOffset;
  const end = packetPayloadEnd;
  if (packetProto == PROTO_IPIP) return <i32>offset;
  if (packetProto == PROTO_GRE) return findGrePayload(data, end, offset);
  if (packetProto == PROTO_UDP && (packetFlags & HF_PORTS) != 0 && packetDstPort == VXLAN_PORT) {
    return findVxlanPayload(data, end, offset);
  }
  return -1;
}

/**
 * GRE version 0: flags and version, a protocol type, then a 4-byte word for each
 * of checksum (with the reserved offset field), key and sequence number when
 * their flag is set. Routing (RFC 1701) is not followed.
 */
function findGrePayload(data: usize, end: u32, offset: u32): i32 {
  if (offset + 4 > end) return -1;
  const flags = readU16BE(data + offset);
  if ((flags & GRE_VERSION_MASK) != 0 || (flags & GRE_ROUTING) != 0) return -1;
  const protocol = readU16BE(data + offset + 2);
  let payload = offset + 4;
  if ((flags & GRE_CHECKSUM) != 0) payload += 4;
  if ((flags & GRE_KEY) != 0) payload += 4;
  if ((flags & GRE_SEQUENCE) != 0) payload += 4;
  if (payload > end) return -1;
  if (protocol == ETHERTYPE_TRANSPARENT_ETHERNET) return followEthernet(data, end, payload);
  if (protocol == ETHERTYPE_IPV4) return <i32>payload;
  return followEthertype(data, end, payload, protocol);
}

/** VXLAN: an 8-byte header after the UDP header, whose I flag must be set, then an Ethernet frame. */
function findVxlanPayload(data: usize, end: u32, offset: u32): i32 {
  const vxlan = offset + UDP_HEADER_LENGTH;
  if (vxlan + VXLAN_HEADER_LENGTH > end) return -1;
  if ((load<u8>(data + vxlan) & VXLAN_FLAG_VNI) == 0) return -1;
  return followEthernet(data, end, vxlan + VXLAN_HEADER_LENGTH);
}
