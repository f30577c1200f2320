// Framing errors from the core, turned into messages that name the record or
// block, its byte offset, the value found and the limit.

import * as abi from "./abi.js";

const CODE_NAMES: Record<number, string> = {
  [abi.ERR_BAD_MAGIC]: "ERR_BAD_MAGIC",
  [abi.ERR_SHORT_HEADER]: "ERR_SHORT_HEADER",
  [abi.ERR_CAPLEN_TOO_LARGE]: "ERR_CAPLEN_TOO_LARGE",
  [abi.ERR_TRUNCATED_RECORD]: "ERR_TRUNCATED_RECORD",
  [abi.ERR_EMPTY]: "ERR_EMPTY",
  [abi.ERR_BAD_VERSION]: "ERR_BAD_VERSION",
  [abi.ERR_BLOCK_TOO_SHORT]: "ERR_BLOCK_TOO_SHORT",
  [abi.ERR_BLOCK_UNALIGNED]: "ERR_BLOCK_UNALIGNED",
  [abi.ERR_BLOCK_TOO_LARGE]: "ERR_BLOCK_TOO_LARGE",
  [abi.ERR_BLOCK_TRAILER_MISMATCH]: "ERR_BLOCK_TRAILER_MISMATCH",
  [abi.ERR_UNKNOWN_INTERFACE]: "ERR_UNKNOWN_INTERFACE",
  [abi.ERR_NO_SECTION_HEADER]: "ERR_NO_SECTION_HEADER",
  [abi.ERR_BAD_BYTE_ORDER_MAGIC]: "ERR_BAD_BYTE_ORDER_MAGIC",
  [abi.ERR_BAD_SECTION_VERSION]: "ERR_BAD_SECTION_VERSION",
  [abi.ERR_TOO_MANY_INTERFACES]: "ERR_TOO_MANY_INTERFACES",
  [abi.ERR_CAPLEN_BEYOND_BLOCK]: "ERR_CAPLEN_BEYOND_BLOCK",
  [abi.ERR_SKIPPED_BLOCK_TOO_LARGE]: "ERR_SKIPPED_BLOCK_TOO_LARGE",
  [abi.ERR_SECOND_CAPTURE_HEADER]: "ERR_SECOND_CAPTURE_HEADER",
};

/** The Section Header Block type, which starts every pcapng file. */
const PCAPNG_MAGIC = 0x0a0d0d0a;

/** Names of the pcapng block types, for messages. */
const BLOCK_NAMES: Record<number, string> = {
  [PCAPNG_MAGIC]: "Section Header Block",
  1: "Interface Description Block",
  2: "Packet Block",
  3: "Simple Packet Block",
  4: "Name Resolution Block",
  5: "Interface Statistics Block",
  6: "Enhanced Packet Block",
  0x0bad: "Custom Block",
  0x40000bad: "Custom Block",
};

/** A capture the core could not frame. `code` is one of the core's ERR_* values. */
export class CaptureError extends Error {
  readonly code: number;
  readonly codeName: string;
  readonly value: number;
  readonly limit: number;
  /**
   * 1-based number of the record (classic pcap; 0 for the file header) or of the
   * block (pcapng, counting blocks of every type) concerned; `unit` says which.
   */
  readonly record: number;
  /** abi.UNIT_RECORD or abi.UNIT_BLOCK. */
  readonly unit: number;
  /** For pcapng errors, the type of the block concerned. */
  readonly blockType: number;
  /** Byte offset in the input where the record, block or header starts. */
  readonly offset: number;

  constructor(code: number, value: number, limit: number, record: number, offset: number, unit = abi.UNIT_RECORD, blockType = 0) {
    super(describe({ code, value, limit, record, offset, unit, blockType }));
    this.name = "CaptureError";
    this.code = code;
    this.codeName = CODE_NAMES[code] ?? `ERR_${code}`;
    this.value = value;
    this.limit = limit;
    this.record = record;
    this.unit = unit;
    this.blockType = blockType;
    this.offset = offset;
  }
}

interface ErrorFields {
  code: number;
  value: number;
  limit: number;
  record: number;
  offset: number;
  unit: number;
  blockType: number;
}

function describe(fields: ErrorFields): string {
  const { code, value, limit, offset } = fields;
  const where = location(fields);
  switch (code) {
    case abi.ERR_EMPTY:
      return "input is empty: expected a pcap or pcapng capture";
    case abi.ERR_SHORT_HEADER:
      return `input ends after ${value} bytes, inside the capture file header`;
    case abi.ERR_BAD_MAGIC:
      return `not a pcap or pcapng capture: the first bytes are ${hexBytes(value)}${guessFormat(value)}`;
    case abi.ERR_BAD_VERSION:
      return `unsupported pcap major version ${value} at byte ${offset} (expected 2)`;
    case abi.ERR_CAPLEN_TOO_LARGE:
      return `${where}: caplen ${value} exceeds maximum ${limit}; the capture is corrupt from here on`;
    case abi.ERR_TRUNCATED_RECORD: {
      const total = limit > 0 ? ` of ${limit}` : "";
      return `capture ends inside ${where}: ${value}${total} bytes present (was the writer stopped mid-write?)`;
    }
    case abi.ERR_BLOCK_TOO_SHORT:
      return `${where}: block length ${value} is below the minimum ${limit} for this block type`;
    case abi.ERR_BLOCK_UNALIGNED:
      return `${where}: block length ${value} is not a multiple of 4`;
    case abi.ERR_BLOCK_TOO_LARGE:
      return `${where}: block length ${value} exceeds maximum ${limit} for a packet or interface block`;
    case abi.ERR_SKIPPED_BLOCK_TOO_LARGE:
      return `${where}: block length ${value} exceeds maximum ${limit}; the capture is corrupt from here on`;
    case abi.ERR_SECOND_CAPTURE_HEADER: {
      const format = value === PCAPNG_MAGIC ? "pcapng" : "pcap";
      return (
        `${where}: found a second capture file header (${format}, magic ${hexBytes(value)}); ` +
        "the input looks like capture files joined with cat. Merge them with `mergecap -w out.pcap a.pcap b.pcap`, " +
        "or pass each file as its own argument: `repfilter a.pcap b.pcap`"
      );
    }
    case abi.ERR_BLOCK_TRAILER_MISMATCH:
      return `${where}: trailing block length ${value} differs from the leading block length ${limit}`;
    case abi.ERR_UNKNOWN_INTERFACE:
      return `${where}: interface id ${value} has no Interface Description Block (the section describes ${limit})`;
    case abi.ERR_NO_SECTION_HEADER:
      return `${where}: a pcapng block before any Section Header Block; the start of the file is missing`;
    case abi.ERR_BAD_BYTE_ORDER_MAGIC:
      return `${where}: byte-order magic ${hexBytes(value)} is not 1a 2b 3c 4d in either byte order`;
    case abi.ERR_BAD_SECTION_VERSION:
      return `${where}: unsupported pcapng version ${value}.${limit} (expected 1.0 or 1.2)`;
    case abi.ERR_TOO_MANY_INTERFACES:
      return `${where}: interface ${value} exceeds the maximum of ${limit} interfaces per section`;
    case abi.ERR_CAPLEN_BEYOND_BLOCK:
      return `${where}: caplen ${value} exceeds the ${limit} bytes of packet data the block has room for`;
    default:
      return `capture error ${code} at byte ${offset}`;
  }
}

/** Returns `record N at byte X` or `block N at byte X (Enhanced Packet Block)`. */
function location(fields: ErrorFields): string {
  if (fields.unit !== abi.UNIT_BLOCK) return `record ${fields.record} at byte ${fields.offset}`;
  const name = BLOCK_NAMES[fields.blockType] ?? `type 0x${fields.blockType.toString(16).padStart(8, "0")}`;
  return `block ${fields.record} at byte ${fields.offset} (${name})`;
}

/** Formats the first four bytes of the input, given big-endian in `value`. */
function hexBytes(value: number): string {
  const bytes = [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
  return bytes.map((byte) => byte.toString(16).padStart(2, "0")).join(" ");
}

function guessFormat(value: number): string {
  const first = value >>> 24;
  const second = (value >>> 16) & 0xff;
  // Inputs are decompressed once, so gzip here means gzip inside gzip.
  if (first === 0x1f && second === 0x8b) return " (gzip data inside gzip data: decompress it first)";
  const bytes = [first, second, (value >>> 8) & 0xff, value & 0xff];
  const printable = bytes.every((byte) => byte === 0x09 || byte === 0x0a || byte === 0x0d || (byte >= 0x20 && byte < 0x7f));
  // Whitespace alone is no sign of text (a pcapng magic is 0a 0d 0d 0a).
  const visible = bytes.some((byte) => byte > 0x20 && byte < 0x7f);
  if (printable && visible) return ` ("${String.fromCharCode(...bytes).replace(/[\t\r\n]/g, " ")}": text, not a capture)`;
  return "";
}
