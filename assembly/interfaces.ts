// The interfaces of the current pcapng section: one fixed-size entry per Interface
// Description Block, indexed by interface id, with its link type, snaplen and
// timestamp resolution and offset. Packet blocks look their interface up here.

import { MAX_INTERFACES } from "./abi";
import { readU16, readU32 } from "./bytes";
import { PacketInfo } from "./hits";
import { isSupportedLinkType } from "./linktypes";
import { noteLinkType } from "./stream";

// Entry layout.
const ENTRY_SIZE: usize = 40;
const E_LINKTYPE: usize = 0; // u32
const E_SNAPLEN: usize = 4; // u32, 0 for no limit
const E_SUPPORTED: usize = 8; // u8
const E_DIGITS: usize = 9; // u8, digits of the fraction in alerts
const E_BINARY: usize = 10; // u8, 1 when the resolution is 2^-exponent seconds
const E_EXPONENT: usize = 11; // u8
const E_OFFSET: usize = 16; // f64, seconds added to every timestamp (if_tsoffset)
const E_UNITS_PER_SECOND: usize = 24; // u64, decimal only: 10^exponent, 0 above 10^19
const E_FRACTION_DIVISOR: usize = 32; // u64, decimal only: 10^(exponent - 9), 0 above 10^19

// Interface Description Block fields (offsets from the block start) and options.
const IDB_LINKTYPE: usize = 8;
const IDB_SNAPLEN: usize = 12;
const IDB_OPTIONS: u32 = 16;
const OPT_ENDOFOPT: u32 = 0;
const OPT_IF_TSRESOL: u32 = 9;
const OPT_IF_TSOFFSET: u32 = 14;
/** if_tsresol when the option is absent: microseconds. */
const DEFAULT_TSRESOL: u8 = 6;

let table: usize = 0;
/** Interfaces described so far in the current section. */
export let interfaceCount: u32 = 0;

/** Forgets the interfaces of the previous section. */
export function resetInterfaces(): void {
  interfaceCount = 0;
}

function entry(id: u32): usize {
  return table + <usize>id * ENTRY_SIZE;
}

/**
 * Adds the interface described by the Interface Description Block at `block`
 * (`length` bytes, already checked to be at least 20). Returns false when the
 * section already has MAX_INTERFACES interfaces.
 */
export function addInterface(block: usize, length: u32, swapped: bool): bool {
  if (interfaceCount >= MAX_INTERFACES) return false;
  if (table == 0) table = heap.alloc(<usize>MAX_INTERFACES * ENTRY_SIZE);
  const slot = entry(interfaceCount);
  const linkType = readU16(block + IDB_LINKTYPE, swapped);
  const supported = isSupportedLinkType(linkType);
  store<u32>(slot, linkType, E_LINKTYPE);
  store<u32>(slot, readU32(block + IDB_SNAPLEN, swapped), E_SNAPLEN);
  store<u8>(slot, supported ? 1 : 0, E_SUPPORTED);
  store<f64>(slot, 0, E_OFFSET);
  setResolution(slot, DEFAULT_TSRESOL);
  readOptions(slot, block, length, swapped);
  interfaceCount++;
  noteLinkType(linkType, supported);
  return true;
}

/**
 * Reads if_tsresol and if_tsoffset. Each option is a 2-byte code, a 2-byte length
 * and a value padded to 4 bytes. An option that runs past the options area ends
 * the list as an opt_endofopt would, so a damaged list keeps the defaults.
 */
function readOptions(slot: usize, block: usize, length: u32, swapped: bool): void {
  const end = length - 4; // the trailing block length follows the options
  let at = IDB_OPTIONS;
  while (at + 4 <= end) {
    const code = readU16(block + at, swapped);
    const optionLength = readU16(block + at + 2, swapped);
    const value = at + 4;
    if (code == OPT_ENDOFOPT || value + optionLength > end) return;
    if (code == OPT_IF_TSRESOL && optionLength >= 1) setResolution(slot, load<u8>(block + value));
    if (code == OPT_IF_TSOFFSET && optionLength >= 8) {
      const offset = <i64>readU64(block + value, swapped);
      store<f64>(slot, <f64>offset, E_OFFSET);
    }
    at = value + ((optionLength + 3) & ~3);
  }
}

function readU64(address: usize, swapped: bool): u64 {
  const value = load<u64>(address);
  return swapped ? bswap<u64>(value) : value;
}

/**
 * Stores an if_tsresol value: the low 7 bits are an exponent, of 10 when the top
 * bit is clear and of 2 when it is set, giving the timestamp unit 10^-n or 2^-n s.
 */
function setResolution(slot: usize, tsresol: u8): void {
  const binary = (tsresol & 0x80) != 0;
  const exponent = <u32>(tsresol & 0x7f);
  store<u8>(slot, binary ? 1 : 0, E_BINARY);
  store<u8>(slot, <u8>exponent, E_EXPONENT);
  // Alerts print at most nanoseconds; a binary fraction is converted to them.
  store<u8>(slot, binary ? 9 : <u8>min<u32>(exponent, 9), E_DIGITS);
  store<u64>(slot, powerOfTen(exponent), E_UNITS_PER_SECOND);
  store<u64>(slot, exponent > 9 ? powerOfTen(exponent - 9) : 1, E_FRACTION_DIVISOR);
}

/** Returns 10^exponent, or 0 when it does not fit in 64 bits (exponent above 19). */
function powerOfTen(exponent: u32): u64 {
  if (exponent > 19) return 0;
  let value: u64 = 1;
  for (let i: u32 = 0; i < exponent; i++) value *= 10;
  return value;
}

export function interfaceLinkType(id: u32): u32 {
  return load<u32>(entry(id), E_LINKTYPE);
}

export function interfaceSnaplen(id: u32): u32 {
  return load<u32>(entry(id), E_SNAPLEN);
}

export function interfaceSupported(id: u32): bool {
  return load<u8>(entry(id), E_SUPPORTED) != 0;
}

/**
 * Sets the packet's time from a 64-bit timestamp in the interface's units: whole
 * seconds plus if_tsoffset, and the fraction with up to 9 digits.
 */
export function setPacketTime(packet: PacketInfo, id: u32, timestamp: u64): void {
  const slot = entry(id);
  const exponent = <u64>load<u8>(slot, E_EXPONENT);
  let seconds: u64 = 0;
  let fraction: u64 = 0;
  if (load<u8>(slot, E_BINARY) != 0) {
    // Wasm shifts take the count modulo 64, so counts of 64 and more are handled apart.
    seconds = exponent >= 64 ? 0 : timestamp >> exponent;
    const remainder = exponent >= 64 ? timestamp : timestamp & ((<u64>1 << exponent) - 1);
    // remainder < 2^exponent, so remainder * 10^9 fits in 64 bits up to exponent 34.
    // Beyond that the low bits are dropped first, so the result may be 1 ns low.
    let kept = remainder;
    let shift = exponent;
    if (exponent > 34) {
      kept = exponent - 34 >= 64 ? 0 : remainder >> (exponent - 34);
      shift = 34;
    }
    fraction = (kept * 1000000000) >> shift;
  } else {
    const unitsPerSecond = load<u64>(slot, E_UNITS_PER_SECOND);
    // Above 10^19 units per second every 64-bit timestamp is under one second.
    seconds = unitsPerSecond == 0 ? 0 : timestamp / unitsPerSecond;
    fraction = unitsPerSecond == 0 ? timestamp : timestamp % unitsPerSecond;
    if (exponent > 9) {
      const divisor = load<u64>(slot, E_FRACTION_DIVISOR);
      fraction = divisor == 0 ? 0 : fraction / divisor;
    }
  }
  packet.tsSec = <f64>seconds + load<f64>(slot, E_OFFSET);
  packet.tsFrac = <u32>fraction;
  packet.tsDigits = load<u8>(slot, E_DIGITS);
}

/** Sets the time of a packet that carries none (a Simple Packet Block): zero. */
export function clearPacketTime(packet: PacketInfo, id: u32): void {
  packet.tsSec = 0;
  packet.tsFrac = 0;
  packet.tsDigits = load<u8>(entry(id), E_DIGITS);
}
