// The direction of an alert relative to the home network, as Suricata's HOME_NET
// defines it: from home to home is internal, from home to elsewhere outbound,
// from elsewhere to home inbound, and between two outside hosts external.

import { mergeRanges, subtractRanges } from "../feeds/allowlist.js";
import { formatRange, parseEntry } from "../lists/ipv4.js";

/** Direction names, indexed by (source in home ? 2 : 0) + (destination in home ? 1 : 0). */
export const DIRECTION_NAMES = ["external", "inbound", "outbound", "internal"] as const;
export type Direction = (typeof DIRECTION_NAMES)[number];

/**
 * The default home network: the RFC 1918 private blocks (the HOME_NET of the
 * suricata.yaml that Suricata ships), the RFC 6598 shared address space that
 * carrier-grade NAT and many cloud networks use, and IPv4 link-local addresses.
 */
export const DEFAULT_HOME_NET = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,169.254.0.0/16";

const ALL_ADDRESSES_LAST = 2 ** 32 - 1;

/** A --home-net value that cannot be used; the message names the item. */
export class HomeNetError extends Error {
  readonly code = "ERR_HOME_NET";
}

export class HomeNet {
  readonly #firsts: Uint32Array;
  readonly #lasts: Uint32Array;

  constructor(ranges: ReadonlyArray<{ first: number; last: number }>) {
    const merged = mergeRanges(ranges);
    this.#firsts = Uint32Array.from(merged, (range) => range.first);
    this.#lasts = Uint32Array.from(merged, (range) => range.last);
  }

  /**
   * Parses a comma-separated list of addresses, CIDR blocks and ranges, in
   * Suricata's notation: the list may be in brackets, and an item that starts
   * with `!` is cut out of the others. A list of negations only, such as
   * `!10.0.0.0/8`, cuts them out of every address, as Suricata reads it. IPv6
   * items are accepted and ignored, because only IPv4 is scanned.
   */
  static parse(text: string): HomeNet {
    const inner = text.trim().replace(/^\[(.*)\]$/s, "$1");
    const included: Array<{ first: number; last: number; line: number }> = [];
    const excluded: Array<{ first: number; last: number }> = [];
    let positiveItems = 0;
    for (const raw of inner.split(",")) {
      const item = raw.trim();
      const negated = item.startsWith("!");
      const body = negated ? item.slice(1).trim() : item;
      if (body === "") throw new HomeNetError(`empty item in home network "${text}"; separate addresses and CIDR blocks with single commas`);
      const parsed = parseEntry(body);
      if (parsed.kind === "invalid") throw new HomeNetError(`"${item}" in the home network is invalid (${parsed.reason}); expected an IPv4 address, CIDR block or range`);
      if (!negated) positiveItems++;
      if (parsed.kind === "ipv6") continue;
      if (negated) excluded.push({ first: parsed.first, last: parsed.last });
      else included.push({ first: parsed.first, last: parsed.last, line: 0 });
    }
    // An IPv6 item counts as a positive one: "fd00::/8,!10.0.0.0/8" has no IPv4 home.
    if (positiveItems === 0) included.push({ first: 0, last: ALL_ADDRESSES_LAST, line: 0 });
    return new HomeNet(subtractRanges(mergeRanges(included).map((range) => ({ ...range, line: 0 })), mergeRanges(excluded)).entries);
  }

  contains(address: number): boolean {
    let low = 0;
    let high = this.#firsts.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#lasts[middle]! < address) low = middle + 1;
      else high = middle;
    }
    return low < this.#firsts.length && this.#firsts[low]! <= address;
  }

  /** Returns the index into DIRECTION_NAMES of a packet from `src` to `dst`. */
  direction(src: number, dst: number): number {
    return (this.contains(src) ? 2 : 0) + (this.contains(dst) ? 1 : 0);
  }

  /** Returns the network as CIDR blocks and ranges, for messages. */
  describe(): string {
    return Array.from(this.#firsts, (first, i) => formatRange(first, this.#lasts[i]!)).join(",");
  }
}
