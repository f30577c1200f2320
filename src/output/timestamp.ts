// Capture timestamps as ISO 8601 in UTC, with as many fractional digits as the
// capture records (6 for microsecond files, 9 for nanosecond ones).

import { utf8, type ByteBuilder } from "./byte-builder.js";

/** The largest second Date can represent (Date's limit is 8.64e15 ms). */
const MAX_DATE_SECONDS = 8.64e12;
const DOT = 0x2e;
const Z = 0x5a;

export class TimestampFormatter {
  #lastSeconds = Number.NaN;
  #lastPrefix = "";
  #lastPrefixBytes: Uint8Array = new Uint8Array(0);

  /** Formats `seconds` plus `fraction` units of 10^-digits as `YYYY-MM-DDTHH:MM:SS.fffffZ`. */
  format(seconds: number, fraction: number, digits: number): string {
    const prefix = this.#prefix(seconds);
    if (prefix.startsWith("@")) return digits > 0 ? `${prefix}.${String(fraction).padStart(digits, "0")}` : prefix;
    return digits > 0 ? `${prefix}.${String(fraction).padStart(digits, "0")}Z` : `${prefix}Z`;
  }

  /** Appends the same text as `format` to `builder`. */
  append(builder: ByteBuilder, seconds: number, fraction: number, digits: number): void {
    const prefix = this.#prefix(seconds);
    builder.append(this.#lastPrefixBytes);
    if (digits > 0) {
      builder.byte(DOT);
      builder.padded(fraction, digits);
    }
    if (!prefix.startsWith("@")) builder.byte(Z);
  }

  #prefix(seconds: number): string {
    if (seconds !== this.#lastSeconds) {
      this.#lastSeconds = seconds;
      // Date cannot represent every 64-bit pcapng time; print those as epoch seconds.
      this.#lastPrefix =
        Math.abs(seconds) <= MAX_DATE_SECONDS ? new Date(seconds * 1000).toISOString().slice(0, 19) : `@${seconds}`;
      this.#lastPrefixBytes = utf8(this.#lastPrefix);
    }
    return this.#lastPrefix;
  }
}
