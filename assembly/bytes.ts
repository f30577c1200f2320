// Byte-order helpers. Wire protocols are big-endian; capture file headers use the
// writer's byte order, which the framing code tracks in a `swapped` flag.

// @ts-ignore: decorator
@inline
export function readU16BE(address: usize): u32 {
  return <u32>bswap<u16>(load<u16>(address));
}

// @ts-ignore: decorator
@inline
export function readU32BE(address: usize): u32 {
  return bswap<u32>(load<u32>(address));
}

/** Reads a u32 stored little-endian, or big-endian when `swapped`. */
// @ts-ignore: decorator
@inline
export function readU32(address: usize, swapped: bool): u32 {
  const value = load<u32>(address);
  return swapped ? bswap<u32>(value) : value;
}

/** Reads a u16 stored little-endian, or big-endian when `swapped`. */
// @ts-ignore: decorator
@inline
export function readU16(address: usize, swapped: bool): u32 {
  const value = load<u16>(address);
  return <u32>(swapped ? bswap<u16>(value) : value);
}
