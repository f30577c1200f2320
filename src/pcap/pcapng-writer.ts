// Writing pcapng blocks: each a 4-byte type, a 4-byte total length, the body padded
// to a multiple of 4 bytes and the total length again. Used to build test captures,
// including deliberately damaged ones, in either byte order.

export const BLOCK_SHB = 0x0a0d0d0a;
export const BLOCK_IDB = 1;
export const BLOCK_PB = 2;
export const BLOCK_SPB = 3;
export const BLOCK_NRB = 4;
export const BLOCK_ISB = 5;
export const BLOCK_EPB = 6;
export const BLOCK_CUSTOM = 0x00000bad;

export const OPT_COMMENT = 1;
export const OPT_IF_TSRESOL = 9;
export const OPT_IF_TSOFFSET = 14;

/** One option: its code and its value (padding is added). */
export type PcapngOption = readonly [code: number, value: Uint8Array];

/** Little-endian unless `bigEndian`, for one section. */
class FieldWriter {
  readonly #bigEndian: boolean;

  constructor(bigEndian: boolean) {
    this.#bigEndian = bigEndian;
  }

  u16(value: number): Buffer {
    const bytes = Buffer.alloc(2);
    if (this.#bigEndian) bytes.writeUInt16BE(value);
    else bytes.writeUInt16LE(value);
    return bytes;
  }

  u32(value: number): Buffer {
    const bytes = Buffer.alloc(4);
    if (this.#bigEndian) bytes.writeUInt32BE(value >>> 0);
    else bytes.writeUInt32LE(value >>> 0);
    return bytes;
  }

  i64(value: bigint): Buffer {
    const bytes = Buffer.alloc(8);
    if (this.#bigEndian) bytes.writeBigInt64BE(value);
    else bytes.writeBigInt64LE(value);
    return bytes;
  }
}

function padded(bytes: Uint8Array): Buffer {
  const length = Math.ceil(bytes.length / 4) * 4;
  const out = Buffer.alloc(length);
  out.set(bytes);
  return out;
}

export interface BlockOptions {
  bigEndian?: boolean;
  /** Overrides the leading total length, for damaged blocks. */
  length?: number;
  /** Overrides the trailing total length, for damaged blocks. */
  trailingLength?: number;
}

/** Builds a block of `type` around `body` (padded to 4 bytes). */
export function pcapngBlock(type: number, body: Uint8Array, options: BlockOptions = {}): Buffer {
  const fields = new FieldWriter(options.bigEndian === true);
  const paddedBody = padded(body);
  const length = 12 + paddedBody.length;
  return Buffer.concat([
    fields.u32(type),
    fields.u32(options.length ?? length),
    paddedBody,
    fields.u32(options.trailingLength ?? options.length ?? length),
  ]);
}

/** Encodes an option list, ending with opt_endofopt. */
export function pcapngOptions(options: ReadonlyArray<PcapngOption>, bigEndian = false): Buffer {
  if (options.length === 0) return Buffer.alloc(0);
  const fields = new FieldWriter(bigEndian);
  const parts: Buffer[] = [];
  for (const [code, value] of options) parts.push(fields.u16(code), fields.u16(value.length), padded(value));
  parts.push(fields.u16(0), fields.u16(0));
  return Buffer.concat(parts);
}

export interface SectionOptions extends BlockOptions {
  major?: number;
  minor?: number;
  options?: ReadonlyArray<PcapngOption>;
}

/** Section Header Block: byte-order magic, version (default 1.0) and section length -1. */
export function sectionHeaderBlock(options: SectionOptions = {}): Buffer {
  const bigEndian = options.bigEndian === true;
  const fields = new FieldWriter(bigEndian);
  const body = Buffer.concat([
    fields.u32(0x1a2b3c4d),
    fields.u16(options.major ?? 1),
    fields.u16(options.minor ?? 0),
    fields.i64(-1n),
    pcapngOptions(options.options ?? [], bigEndian),
  ]);
  return pcapngBlock(BLOCK_SHB, body, options);
}

export interface PcapngInterface {
  linkType: number;
  /** 0 means no limit. */
  snaplen?: number;
  /** if_tsresol: 10^-n seconds, or 2^-n with the top bit set; default 6 (microseconds). */
  tsresol?: number;
  /** if_tsoffset in seconds. */
  tsoffset?: bigint;
  options?: ReadonlyArray<PcapngOption>;
}

export function interfaceDescriptionBlock(iface: PcapngInterface, options: BlockOptions = {}): Buffer {
  const bigEndian = options.bigEndian === true;
  const fields = new FieldWriter(bigEndian);
  const list: PcapngOption[] = [...(iface.options ?? [])];
  if (iface.tsresol !== undefined) list.push([OPT_IF_TSRESOL, Uint8Array.of(iface.tsresol)]);
  if (iface.tsoffset !== undefined) list.push([OPT_IF_TSOFFSET, fields.i64(iface.tsoffset)]);
  const body = Buffer.concat([fields.u16(iface.linkType), fields.u16(0), fields.u32(iface.snaplen ?? 262144), pcapngOptions(list, bigEndian)]);
  return pcapngBlock(BLOCK_IDB, body, options);
}

export interface PcapngPacket {
  interfaceId?: number;
  /** Timestamp in the interface's units (if_tsresol). */
  timestamp?: bigint;
  data: Uint8Array;
  /** Length on the wire; defaults to the captured length. */
  origLen?: number;
  /** Overrides the caplen field, for damaged blocks. */
  caplen?: number;
  options?: ReadonlyArray<PcapngOption>;
}

/** Enhanced Packet Block. */
export function enhancedPacketBlock(packet: PcapngPacket, options: BlockOptions = {}): Buffer {
  const bigEndian = options.bigEndian === true;
  const fields = new FieldWriter(bigEndian);
  const timestamp = packet.timestamp ?? 0n;
  const body = Buffer.concat([
    fields.u32(packet.interfaceId ?? 0),
    fields.u32(Number(timestamp >> 32n)),
    fields.u32(Number(timestamp & 0xffffffffn)),
    fields.u32(packet.caplen ?? packet.data.length),
    fields.u32(packet.origLen ?? packet.data.length),
    padded(packet.data),
    pcapngOptions(packet.options ?? [], bigEndian),
  ]);
  return pcapngBlock(BLOCK_EPB, body, options);
}

/** Packet Block, the obsolete predecessor of the Enhanced Packet Block (16-bit interface id, drop count). */
export function obsoletePacketBlock(packet: PcapngPacket, options: BlockOptions = {}): Buffer {
  const fields = new FieldWriter(options.bigEndian === true);
  const timestamp = packet.timestamp ?? 0n;
  const body = Buffer.concat([
    fields.u16(packet.interfaceId ?? 0),
    fields.u16(0),
    fields.u32(Number(timestamp >> 32n)),
    fields.u32(Number(timestamp & 0xffffffffn)),
    fields.u32(packet.caplen ?? packet.data.length),
    fields.u32(packet.origLen ?? packet.data.length),
    padded(packet.data),
  ]);
  return pcapngBlock(BLOCK_PB, body, options);
}

/** Simple Packet Block: the original length and the packet data, for interface 0. */
export function simplePacketBlock(packet: PcapngPacket, options: BlockOptions = {}): Buffer {
  const fields = new FieldWriter(options.bigEndian === true);
  const body = Buffer.concat([fields.u32(packet.origLen ?? packet.data.length), padded(packet.data)]);
  return pcapngBlock(BLOCK_SPB, body, options);
}

export interface PcapngFileOptions {
  bigEndian?: boolean;
  interfaces: ReadonlyArray<PcapngInterface>;
}

/** Builds one section: a Section Header Block, the interfaces, then an Enhanced Packet Block per packet. */
export function buildPcapng(packets: ReadonlyArray<PcapngPacket>, options: PcapngFileOptions): Buffer {
  const blockOptions = { bigEndian: options.bigEndian === true };
  return Buffer.concat([
    sectionHeaderBlock(blockOptions),
    ...options.interfaces.map((iface) => interfaceDescriptionBlock(iface, blockOptions)),
    ...packets.map((packet) => enhancedPacketBlock(packet, blockOptions)),
  ]);
}
