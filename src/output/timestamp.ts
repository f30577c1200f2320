// Capture timestamps as ISO 8601 in UTC, with as many fractional digits as the
// capture records (6 for microsecond files, 9 for nanosecond ones).
//
// A pcapng timestamp is 64 bits in units of if_tsresol plus a signed 64-bit
// if_tsoffset, so it can fall far outside years 0000-9999. Such years are
// written in the ISO 8601 expanded form that JavaScript's Date uses: a sign and
// at least six digits, as in `+010000-01-01T00:00:00Z` or `-000001-...`.

import { utf8, type ByteBuilder } from "./byte-builder.js";

/** 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z in seconds: the span Date prints with a 4-digit year. */
const FOUR_DIGIT_YEAR_FIRST = -62_167_219_200;
const FOUR_DIGIT_YEAR_LAST = 253_402_300_799;
const DOT = 0x2e;
const Z = 0x5a;

export class TimestampFormatter {
  #lastSeconds = Number.NaN;
  #lastPrefixBytes: Uint8Array = new Uint8Array(0);
  #lastPrefix = "";

  /** Formats `seconds` plus `fraction` units of 10^-digits as `YYYY-MM-DDTHH:MM:SS.fffffZ`. */
  format(seconds: number, fraction: number, digits: number): string {
    const prefix = this.#prefix(seconds);
    return digits > 0 ? `${prefix}.${String(fraction).padStart(digits, "0")}Z` : `${prefix}Z`;
  }

  /** Appends the same text as `format` to `builder`. */
  append(builder: ByteBuilder, seconds: number, fraction: number, digits: number): void {
    this.#prefix(seconds);
    builder.append(this.#lastPrefixBytes);
    if (digits > 0) {
      builder.byte(DOT);
      builder.padded(fraction, digits);
    }
    builder.byte(Z);
  }

  #prefix(seconds: number): string {
    if (seconds !== this.#lastSeconds) {
      this.#lastSeconds = seconds;
      this.#lastPrefix = formatSeconds(seconds);
      this.#lastPrefixBytes = utf8(this.#lastPrefix);
    }
    return this.#lastPrefix;
  }
}

/** Formats whole seconds since 1970 as `YYYY-MM-DDTHH:MM:SS`, with an expanded year outside 0000-9999. */
export function formatSeconds(seconds: number): string {
  if (seconds >= FOUR_DIGIT_YEAR_FIRST && seconds <= FOUR_DIGIT_YEAR_LAST) {
    return new Date(Math.floor(seconds) * 1000).toISOString().slice(0, 19);
  }
  return formatExpandedSeconds(BigInt(Math.floor(seconds)));
}

function floorDivide(a: bigint, b: bigint): bigint {
  const quotient = a / b;
  return a % b < 0n ? quotient - 1n : quotient;
}

function pad(value: bigint, width: number): string {
  return value.toString().padStart(width, "0");
}

/**
 * Formats any whole number of seconds since 1970 with exact integer arithmetic,
 * in the proleptic Gregorian calendar as Date does. The day count is split into
 * 400-year eras of 146097 days, and years are counted from March 1, so that the
 * leap day is the last day of a year.
 */
function formatExpandedSeconds(seconds: bigint): string {
  const days = floorDivide(seconds, 86_400n);
  const secondOfDay = seconds - days * 86_400n;
  // Days since 0000-03-01, so that the leap day ends each year.
  const shifted = days + 719_468n;
  const era = floorDivide(shifted, 146_097n);
  const dayOfEra = shifted - era * 146_097n;
  const yearOfEra = (dayOfEra - dayOfEra / 1_460n + dayOfEra / 36_524n - dayOfEra / 146_096n) / 365n;
  const dayOfYear = dayOfEra - (365n * yearOfEra + yearOfEra / 4n - yearOfEra / 100n);
  const monthFromMarch = (5n * dayOfYear + 2n) / 153n;
  const day = dayOfYear - (153n * monthFromMarch + 2n) / 5n + 1n;
  const month = monthFromMarch < 10n ? monthFromMarch + 3n : monthFromMarch - 9n;
  const year = yearOfEra + era * 400n + (month <= 2n ? 1n : 0n);

  const yearText = year >= 0n && year <= 9_999n ? pad(year, 4) : `${year < 0n ? "-" : "+"}${pad(year < 0n ? -year : year, 6)}`;
  const time = `${pad(secondOfDay / 3_600n, 2)}:${pad((secondOfDay / 60n) % 60n, 2)}:${pad(secondOfDay % 60n, 2)}`;
  return `${yearText}-${pad(month, 2)}-${pad(day, 2)}T${time}`;
}
