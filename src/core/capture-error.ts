// Framing errors from the core, turned into messages that name the record, its
// byte offset, the value found and the limit.

import * as abi from "./abi.js";

const CODE_NAMES: Record<number, string> = {
  [abi.ERR_BAD_MAGIC]: "ERR_BAD_MAGIC",
  [abi.ERR_SHORT_HEADER]: "ERR_SHORT_HEADER",
  [abi.ERR_CAPLEN_TOO_LARGE]: "ERR_CAPLEN_TOO_LARGE",
  [abi.ERR_TRUNCATED_RECORD]: "ERR_TRUNCATED_RECORD",
  [abi.ERR_EMPTY]: "ERR_EMPTY",
  [abi.ERR_BAD_VERSION]: "ERR_BAD_VERSION",
};

/** A capture the core could not frame. `code` is one of the core's ERR_* values. */
export class CaptureError extends Error {
  readonly code: number;
  readonly codeName: string;
  readonly value: number;
  readonly limit: number;
  /** 1-based number of the record concerned, or 0 for the file header. */
  readonly record: number;
  /** Byte offset in the input where the record or header starts. */
  readonly offset: number;

  constructor(code: number, value: number, limit: number, record: number, offset: number) {
    super(describe(code, value, limit, record, offset));
    this.name = "CaptureError";
    this.code = code;
    this.codeName = CODE_NAMES[code] ?? `ERR_${code}`;
    this.value = value;
    this.limit = limit;
    this.record = record;
    this.offset = offset;
  }
}

function describe(code: number, value: number, limit: number, record: number, offset: number): string {
  const where = `record ${record} at byte ${offset}`;
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
    case abi.ERR_TRUNCATED_RECORD:
      return `capture ends inside ${where}: ${value} of ${limit} bytes present (was the writer stopped mid-write?)`;
    default:
      return `capture error ${code} at byte ${offset}`;
  }
}

/** Formats the first four bytes of the input, given big-endian in `value`. */
function hexBytes(value: number): string {
  const bytes = [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
  return bytes.map((byte) => byte.toString(16).padStart(2, "0")).join(" ");
}

function guessFormat(value: number): string {
  const first = value >>> 24;
  const second = (value >>> 16) & 0xff;
  if (first === 0x1f && second === 0x8b) return " (gzip data: decompress it first)";
  const bytes = [first, second, (value >>> 8) & 0xff, value & 0xff];
  const printable = bytes.every((byte) => byte === 0x09 || byte === 0x0a || byte === 0x0d || (byte >= 0x20 && byte < 0x7f));
  if (printable) return ` ("${String.fromCharCode(...bytes).replace(/[\t\r\n]/g, " ")}": text, not a capture)`;
  return "";
}
