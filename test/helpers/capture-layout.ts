// Finding the records of a classic pcap file or the blocks of a pcapng file, with
// the offsets of their length fields, so tests can damage them on purpose. The
// walk is lenient: it stops at the first unit that does not fit.

export interface CaptureUnit {
  start: number;
  length: number;
  /** Offsets of the unit's u32 length fields (caplen, origLen, block lengths). */
  lengthFields: number[];
  littleEndian: boolean;
}

const PCAP_MAGICS = [0xa1b2c3d4, 0xa1b23c4d, 0xa1b2cd34];
const SHB = 0x0a0d0d0a;

/** Returns the records or blocks of `bytes`, or an empty list for anything else. */
export function captureUnits(bytes: Buffer): CaptureUnit[] {
  if (bytes.length < 4) return [];
  const magicLE = bytes.readUInt32LE(0);
  const magicBE = bytes.readUInt32BE(0);
  if (PCAP_MAGICS.includes(magicLE) || PCAP_MAGICS.includes(magicBE)) {
    return pcapRecords(bytes, PCAP_MAGICS.includes(magicLE), magicLE === 0xa1b2cd34 || magicBE === 0xa1b2cd34 ? 24 : 16);
  }
  if (magicLE === SHB) return pcapngBlocks(bytes);
  return [];
}

function pcapRecords(bytes: Buffer, littleEndian: boolean, headerLength: number): CaptureUnit[] {
  const units: CaptureUnit[] = [];
  let at = 24;
  while (at + headerLength <= bytes.length) {
    const caplen = littleEndian ? bytes.readUInt32LE(at + 8) : bytes.readUInt32BE(at + 8);
    const length = headerLength + caplen;
    if (at + length > bytes.length) break;
    units.push({ start: at, length, lengthFields: [at + 8, at + 12], littleEndian });
    at += length;
  }
  return units;
}

function pcapngBlocks(bytes: Buffer): CaptureUnit[] {
  const units: CaptureUnit[] = [];
  let littleEndian = true;
  let at = 0;
  while (at + 12 <= bytes.length) {
    if (bytes.readUInt32LE(at) === SHB) littleEndian = bytes.readUInt32LE(at + 8) === 0x1a2b3c4d;
    const read = (offset: number): number => (littleEndian ? bytes.readUInt32LE(offset) : bytes.readUInt32BE(offset));
    const type = read(at);
    const length = read(at + 4);
    if (length < 12 || at + length > bytes.length) break;
    const lengthFields = [at + 4, at + length - 4];
    // Enhanced and obsolete Packet Blocks: caplen and original length.
    if ((type === 6 || type === 2) && length >= 32) lengthFields.push(at + 20, at + 24);
    units.push({ start: at, length, lengthFields, littleEndian });
    at += length;
  }
  return units;
}
