// The scan's --allow list: listed addresses that must not alert, applied without
// rebuilding the blocklist. Only the listed side of a hit is checked: a hit whose
// every listed address is allowed is dropped, and a two-sided hit with one side
// allowed becomes a one-sided alert.

import type { HitBatch } from "../core/hits.js";
import type { RangeArrays } from "../core/scanner.js";
import { mergeRanges } from "../feeds/allowlist.js";

const UNKNOWN = 0;
const NONE_ALLOWED = 1;
const ALL_ALLOWED = 2;
const PART_ALLOWED = 3;

export class AllowFilter {
  readonly #firsts: Uint32Array;
  readonly #lasts: Uint32Array;
  #list: RangeArrays | undefined;
  /** Per range of #list: how much of it the allowlist covers, found on first use. */
  #coverage = new Uint8Array(0);

  constructor(ranges: ReadonlyArray<{ first: number; last: number }>) {
    const merged = mergeRanges(ranges);
    this.#firsts = Uint32Array.from(merged, (range) => range.first);
    this.#lasts = Uint32Array.from(merged, (range) => range.last);
  }

  /** Returns true when `address`, which lies in range `range` of `list`, is allowed. */
  allows(list: RangeArrays, range: number, address: number): boolean {
    if (list !== this.#list) {
      this.#list = list;
      this.#coverage = new Uint8Array(list.starts.length);
    }
    let coverage = this.#coverage[range]!;
    if (coverage === UNKNOWN) {
      coverage = this.#cover(list.starts[range]!, list.ends[range]!);
      this.#coverage[range] = coverage;
    }
    if (coverage === NONE_ALLOWED) return false;
    if (coverage === ALL_ALLOWED) return true;
    const index = this.#firstEndingAtOrAfter(address);
    return index < this.#firsts.length && this.#firsts[index]! <= address;
  }

  /**
   * Returns a bit mask of the sides of `hit` that remain listed after the
   * allowlist: 1 for the source, 2 for the destination.
   */
  listedSides(batch: HitBatch, hit: number, list: RangeArrays): number {
    const srcRange = batch.srcRange(hit);
    const dstRange = batch.dstRange(hit);
    const src = srcRange >= 0 && !this.allows(list, srcRange, batch.src(hit)) ? 1 : 0;
    const dst = dstRange >= 0 && !this.allows(list, dstRange, batch.dst(hit)) ? 2 : 0;
    return src | dst;
  }

  #cover(first: number, last: number): number {
    const index = this.#firstEndingAtOrAfter(first);
    if (index >= this.#firsts.length || this.#firsts[index]! > last) return NONE_ALLOWED;
    // Merged ranges never touch, so one of them covers the range or none does.
    if (this.#firsts[index]! <= first && this.#lasts[index]! >= last) return ALL_ALLOWED;
    return PART_ALLOWED;
  }

  #firstEndingAtOrAfter(address: number): number {
    let low = 0;
    let high = this.#firsts.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#lasts[middle]! < address) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
