// Capture timestamps as ISO 8601 in UTC, with as many fractional digits as the
// capture records (6 for microsecond files, 9 for nanosecond ones).

/** The largest second Date can represent (Date's limit is 8.64e15 ms). */
const MAX_DATE_SECONDS = 8.64e12;

export class TimestampFormatter {
  #lastSeconds = Number.NaN;
  #lastPrefix = "";

  /** Formats `seconds` plus `fraction` units of 10^-digits as `YYYY-MM-DDTHH:MM:SS.fffffZ`. */
  format(seconds: number, fraction: number, digits: number): string {
    const suffix = digits > 0 ? `.${String(fraction).padStart(digits, "0")}Z` : "Z";
    if (seconds !== this.#lastSeconds) {
      this.#lastSeconds = seconds;
      // Date cannot represent every 64-bit pcapng time; print those as epoch seconds.
      this.#lastPrefix =
        Math.abs(seconds) <= MAX_DATE_SECONDS ? new Date(seconds * 1000).toISOString().slice(0, 19) : `@${seconds}`;
    }
    if (this.#lastPrefix.startsWith("@")) return `${this.#lastPrefix}${suffix.slice(0, -1)}`;
    return this.#lastPrefix + suffix;
  }
}
