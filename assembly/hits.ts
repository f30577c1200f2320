// The hit buffer: fixed-size records (layout in abi.ts) that JavaScript formats into
// alert lines after each call.

import {
  HIT_CAPLEN,
  HIT_DATA,
  HIT_DST,
  HIT_DST_PORT,
  HIT_DST_RANGE,
  HIT_FLAGS,
  HIT_INTERFACE,
  HIT_LAYER,
  HIT_LINKTYPE,
  HIT_NAMES_LENGTH,
  HIT_NAMES_OFFSET,
  HIT_NAMES_VERSION,
  HIT_ORIGLEN,
  HIT_PACKET,
  HIT_PROTO,
  HIT_SIZE,
  HIT_SRC,
  HIT_SRC_PORT,
  HIT_SRC_RANGE,
  HIT_TS_DIGITS,
  HIT_TS_FRAC,
  HIT_TS_SEC,
} from "./abi";
import { clearHitNames, hasRoomForHitNames } from "./hitnames";

/** Hits one call can return before it stops with STATUS_HITS_FULL. */
export const HIT_CAPACITY: i32 = 4096;
/** Hits one packet can produce (the outer header and nested tunnels). */
export const MAX_HITS_PER_PACKET: i32 = 4;

let hits: usize = 0;
export let hitCount: i32 = 0;

export function hitsPointer(): usize {
  if (hits == 0) hits = heap.alloc(<usize>HIT_CAPACITY * HIT_SIZE);
  return hits;
}

// @ts-ignore: decorator
@inline
export function hasRoomForPacket(): bool {
  return hitCount + MAX_HITS_PER_PACKET <= HIT_CAPACITY && hasRoomForHitNames(MAX_HITS_PER_PACKET);
}

export function clearHits(): void {
  hitCount = 0;
  clearHitNames();
}

/** Per-packet values shared by every hit of one packet. */
export class PacketInfo {
  number: f64 = 0;
  tsSec: f64 = 0;
  tsFrac: u32 = 0;
  tsDigits: u8 = 6;
  linkType: u32 = 0;
  data: usize = 0;
  caplen: u32 = 0;
  origLen: u32 = 0;
  interfaceId: u32 = 0;
  /** The capture was written in the other byte order (NFLOG headers follow it). */
  swapped: bool = false;
}

export function writeHit(
  packet: PacketInfo,
  src: u32,
  dst: u32,
  srcPort: u32,
  dstPort: u32,
  proto: u32,
  flags: u8,
  layer: u8,
  srcRange: i32,
  dstRange: i32,
  namesOffset: u32,
  namesLength: u32,
  namesVersion: f64,
): void {
  const hit = hits + <usize>hitCount * HIT_SIZE;
  store<f64>(hit, packet.number, HIT_PACKET);
  store<f64>(hit, packet.tsSec, HIT_TS_SEC);
  store<u32>(hit, packet.tsFrac, HIT_TS_FRAC);
  store<u32>(hit, src, HIT_SRC);
  store<u32>(hit, dst, HIT_DST);
  store<u16>(hit, <u16>srcPort, HIT_SRC_PORT);
  store<u16>(hit, <u16>dstPort, HIT_DST_PORT);
  store<u8>(hit, <u8>proto, HIT_PROTO);
  store<u8>(hit, flags, HIT_FLAGS);
  store<u8>(hit, packet.tsDigits, HIT_TS_DIGITS);
  store<u8>(hit, layer, HIT_LAYER);
  store<i32>(hit, srcRange, HIT_SRC_RANGE);
  store<i32>(hit, dstRange, HIT_DST_RANGE);
  store<u32>(hit, packet.linkType, HIT_LINKTYPE);
  store<u32>(hit, <u32>packet.data, HIT_DATA);
  store<u32>(hit, packet.caplen, HIT_CAPLEN);
  store<u32>(hit, packet.origLen, HIT_ORIGLEN);
  store<u32>(hit, packet.interfaceId, HIT_INTERFACE);
  store<u32>(hit, namesOffset, HIT_NAMES_OFFSET);
  store<u32>(hit, namesLength, HIT_NAMES_LENGTH);
  store<f64>(hit, namesVersion, HIT_NAMES_VERSION);
  hitCount++;
}
