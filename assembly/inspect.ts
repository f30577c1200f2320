// The per-packet pipeline after framing: decode, probe both addresses, suppress
// repeats, record a hit.

import { C_ALERTS, C_IPV4, C_SKIP_LINKTYPE, C_SUPPRESSED, HF_SUPPRESSED } from "./abi";
import { addCounter } from "./counters";
import {
  DECODED,
  decodePacket,
  packetDst,
  packetDstPort,
  packetFlags,
  packetProto,
  packetSrc,
  packetSrcPort,
} from "./decode";
import { isRepeat } from "./dedup";
import { PacketInfo, writeHit } from "./hits";
import { findRange } from "./lookup";

/** When set, suppressed repeats are returned too, flagged HF_SUPPRESSED. */
let returnSuppressed: bool = false;

export function setReturnSuppressed(enabled: bool): void {
  returnSuppressed = enabled;
}

/** Powers of ten for turning a fraction with `digits` digits into seconds. */
function fractionScale(digits: u8): f64 {
  return Math.pow(10, <f64>digits);
}

/** Decodes and probes one packet whose link type `supported` says is decodable. */
export function inspectPacket(packet: PacketInfo, supported: bool): void {
  if (!supported) {
    addCounter(C_SKIP_LINKTYPE, 1);
    return;
  }
  const result = decodePacket(packet.linkType, packet.data, packet.caplen);
  if (result != DECODED) {
    addCounter(result, 1);
    return;
  }
  addCounter(C_IPV4, 1);

  const srcRange = findRange(packetSrc);
  const dstRange = findRange(packetDst);
  if ((srcRange & dstRange) < 0) return; // both are -1

  const time = packet.tsSec + <f64>packet.tsFrac / fractionScale(packet.tsDigits);
  let flags = packetFlags;
  if (isRepeat(packetSrc, packetDst, time)) {
    addCounter(C_SUPPRESSED, 1);
    if (!returnSuppressed) return;
    flags |= HF_SUPPRESSED;
  } else {
    addCounter(C_ALERTS, 1);
  }
  writeHit(
    packet,
    packetSrc,
    packetDst,
    packetSrcPort,
    packetDstPort,
    packetProto,
    flags,
    0,
    srcRange,
    dstRange,
  );
}
