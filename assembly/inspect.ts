// The per-packet pipeline after framing: decode, probe both addresses, suppress
// repeats, record a hit; then the same for each IPv4 header tunneled inside.

import { C_ALERTS, C_INNER_IPV4, C_IPV4, C_NAMES_REALERTS, C_SKIP_LINKTYPE, C_SUPPRESSED, C_TUNNEL_DEPTH_LIMIT, HF_SUPPRESSED } from "./abi";
import { addCounter } from "./counters";
import {
  DECODED,
  decodeIPv4,
  decodePacket,
  packetDst,
  packetDstPort,
  packetFlags,
  packetPayloadEnd,
  packetProto,
  packetSrc,
  packetSrcPort,
} from "./decode";
import { isRepeat } from "./dedup";
import { MAX_HITS_PER_PACKET, PacketInfo, writeHit } from "./hits";
import { findRange } from "./lookup";
import { copiedNamesLength, copiedNamesOffset, copiedNamesVersion, copyNamesForHit, findNamesForHit, hasUnreportedNames, tableReady } from "./names";
import { observeNames } from "./observe";
import { findTunneledIPv4 } from "./tunnels";

/** When set, suppressed repeats are returned too, flagged HF_SUPPRESSED. */
let returnSuppressed: bool = false;

export function setReturnSuppressed(enabled: bool): void {
  returnSuppressed = enabled;
}

/** Powers of ten for turning a fraction with `digits` digits into seconds. */
function fractionScale(digits: u8): f64 {
  return Math.pow(10, <f64>digits);
}

/**
 * Decodes and probes one packet whose link type `supported` says is decodable.
 * Tunneled headers are probed too, up to MAX_HITS_PER_PACKET - 1 deep; each gets
 * its own hit with its depth as the layer. A packet with a tunnel deeper than
 * that is counted as C_TUNNEL_DEPTH_LIMIT. Only the outer header counts towards
 * the decoded and skipped packets. Names in each header's payload are recorded
 * before its probe, so that a packet's own server name is on its alert.
 */
export function inspectPacket(packet: PacketInfo, supported: bool): void {
  if (!supported) {
    addCounter(C_SKIP_LINKTYPE, 1);
    return;
  }
  const result = decodePacket(packet.linkType, packet.data, packet.caplen, packet.swapped);
  if (result != DECODED) {
    addCounter(result, 1);
    return;
  }
  addCounter(C_IPV4, 1);
  observeNames(packet.data);
  probeHeader(packet, 0);

  for (let layer = 1; layer < MAX_HITS_PER_PACKET; layer++) {
    const inner = findTunneledIPv4(packet.data);
    if (inner < 0) return;
    if (decodeIPv4(packet.data, packetPayloadEnd, <u32>inner) != DECODED) return;
    addCounter(C_INNER_IPV4, 1);
    observeNames(packet.data);
    probeHeader(packet, <u8>layer);
  }
  // Only packets that reach the deepest probed layer get here. Count one that
  // carries yet another IPv4 header, so that the headers left unprobed show up.
  if (findTunneledIPv4(packet.data) >= 0) addCounter(C_TUNNEL_DEPTH_LIMIT, 1);
}

/**
 * Probes the addresses of the last decoded header and records a hit when one is
 * listed. Repeats are suppressed per address pair, whatever the layer: a pair
 * seen outside and inside a tunnel within the window alerts once. A repeat whose
 * names gained a name since the pair's last alert alerts again, so that the
 * server name of a connection reaches an alert although its SYN alerted first.
 */
function probeHeader(packet: PacketInfo, layer: u8): void {
  const srcRange = findRange(packetSrc);
  const dstRange = findRange(packetDst);
  if ((srcRange & dstRange) < 0) return; // both are -1

  const time = packet.tsSec + <f64>packet.tsFrac / fractionScale(packet.tsDigits);
  const names = tableReady ? findNamesForHit(packetSrc, packetDst, srcRange >= 0, dstRange >= 0) : 0;
  let flags = packetFlags;
  if (!isRepeat(packetSrc, packetDst, time)) {
    addCounter(C_ALERTS, 1);
  } else if (names != 0 && hasUnreportedNames(names)) {
    addCounter(C_ALERTS, 1);
    addCounter(C_NAMES_REALERTS, 1);
  } else {
    addCounter(C_SUPPRESSED, 1);
    if (!returnSuppressed) return;
    flags |= HF_SUPPRESSED;
  }

  let namesOffset: u32 = 0;
  let namesLength: u32 = 0;
  let namesVersion: f64 = 0;
  if (names != 0) {
    copyNamesForHit(names, (flags & HF_SUPPRESSED) == 0);
    namesOffset = copiedNamesOffset;
    namesLength = copiedNamesLength;
    namesVersion = copiedNamesVersion;
  }
  writeHit(
    packet,
    packetSrc,
    packetDst,
    packetSrcPort,
    packetDstPort,
    packetProto,
    flags,
    layer,
    srcRange,
    dstRange,
    namesOffset,
    namesLength,
    namesVersion,
  );
}
