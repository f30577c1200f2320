// The safety policy: entries that would make the list dangerous are rejected
// before they reach it, each feed's entries are checked together, and the
// merged list must stay below a maximum number of addresses.
//
// A threat feed that lists 0.0.0.0/0, 10.0.0.0/8 or 192.168.0.0/16, by mistake or
// because it merges a bogon list, turns nearly every internal packet into an
// alert. The checks run after host bits are cleared, so `192.0.2.1/0` is a /0.

import { cidrBounds, formatIPv4, formatRange, parseEntry } from "../lists/ipv4.js";
import { mergeRanges } from "./allowlist.js";
import type { FeedEntry } from "./parse-result.js";

export interface AddressRange {
  first: number;
  last: number;
}

export interface ReservedRange extends AddressRange {
  label: string;
}

export interface SafetyPolicy {
  /** Entries that need a shorter prefix than this (span several such blocks) are rejected. */
  minPrefixLength: number;
  /** Entries that overlap one of these are rejected... */
  reserved: ReservedRange[];
  /** ...unless they lie wholly inside one of these. */
  exceptions: AddressRange[];
  /** A merged list that covers more addresses than this is not written. */
  maxListedAddresses: number;
}

export type PolicyReason = "all-addresses" | "too-broad" | "reserved";

export interface PolicyRejection {
  line: number;
  first: number;
  last: number;
  reason: PolicyReason;
  message: string;
}

const RESERVED_LABELS: Record<string, string> = {
  "0.0.0.0/8": "this network (RFC 1122)",
  "10.0.0.0/8": "private network (RFC 1918)",
  "100.64.0.0/10": "shared address space (RFC 6598)",
  "127.0.0.0/8": "loopback (RFC 1122)",
  "169.254.0.0/16": "link-local (RFC 3927)",
  "172.16.0.0/12": "private network (RFC 1918)",
  "192.168.0.0/16": "private network (RFC 1918)",
  "224.0.0.0/4": "multicast (RFC 5771)",
  "240.0.0.0/4": "reserved for future use, with the broadcast address (RFC 1112)",
};

/** Ranges that no public feed should list: this network, private, shared, loopback, link-local, multicast, reserved. */
export const DEFAULT_RESERVED_RANGES: ReadonlyArray<string> = Object.keys(RESERVED_LABELS);

export const DEFAULT_MIN_PREFIX_LENGTH = 8;

/**
 * A quarter of the IPv4 space (64 /8 blocks). Threat feeds list far less, so a
 * merged list this large means a broken feed, not a threat picture.
 * NOTE: a judgment, not a measured figure; raise policy.maxListedAddresses if a
 * wide feed is intended.
 */
export const DEFAULT_MAX_LISTED_ADDRESSES = 2 ** 30;

const ALL_ADDRESSES_LAST = 2 ** 32 - 1;

/** Parses CIDR or range strings for a policy. Throws RangeError naming the first invalid one. */
export function parseRangeList(texts: ReadonlyArray<string>, what: string): AddressRange[] {
  return texts.map((text) => {
    const parsed = parseEntry(text.trim());
    if (parsed.kind !== "range") throw new RangeError(`${what}: "${text}" is not an IPv4 address, CIDR block or range`);
    return { first: parsed.first, last: parsed.last };
  });
}

/** Builds a policy. Reserved ranges get a label when they are one of the defaults. */
export function createPolicy(
  options: { minPrefixLength?: number; reservedRanges?: ReadonlyArray<string>; reservedExceptions?: ReadonlyArray<string>; maxListedAddresses?: number } = {},
): SafetyPolicy {
  const reservedTexts = options.reservedRanges ?? DEFAULT_RESERVED_RANGES;
  const reserved = parseRangeList(reservedTexts, "reservedRanges").map((range, index) => ({
    ...range,
    label: RESERVED_LABELS[formatRange(range.first, range.last)] ?? `reserved by the policy (${reservedTexts[index]})`,
  }));
  return {
    minPrefixLength: options.minPrefixLength ?? DEFAULT_MIN_PREFIX_LENGTH,
    reserved,
    exceptions: parseRangeList(options.reservedExceptions ?? [], "reservedExceptions"),
    maxListedAddresses: options.maxListedAddresses ?? DEFAULT_MAX_LISTED_ADDRESSES,
  };
}

function within(range: AddressRange, outer: AddressRange): boolean {
  return range.first >= outer.first && range.last <= outer.last;
}

function overlaps(range: AddressRange, other: AddressRange): boolean {
  return range.first <= other.last && other.first <= range.last;
}

/** Returns the reason an entry must not enter the list, or undefined when it may. */
export function checkEntry(range: AddressRange, policy: SafetyPolicy): { reason: PolicyReason; message: string } | undefined {
  const text = formatRange(range.first, range.last);
  if (range.first === 0 && range.last === ALL_ADDRESSES_LAST) {
    return { reason: "all-addresses", message: `${text} covers every address` };
  }
  if (policy.minPrefixLength > 0) {
    const blockSize = 2 ** (32 - policy.minPrefixLength);
    if (Math.floor(range.first / blockSize) !== Math.floor(range.last / blockSize)) {
      return { reason: "too-broad", message: `${text} spans more than one /${policy.minPrefixLength} block (a prefix shorter than /${policy.minPrefixLength})` };
    }
  }
  if (policy.exceptions.some((exception) => within(range, exception))) return undefined;
  const hit = policy.reserved.find((reserved) => overlaps(range, reserved));
  if (hit !== undefined) {
    return { reason: "reserved", message: `${text} overlaps ${formatRange(hit.first, hit.last)}, ${hit.label}` };
  }
  return undefined;
}

/** Splits entries into those the policy accepts and the rejections, in input order. */
export function applyPolicy(entries: ReadonlyArray<FeedEntry>, policy: SafetyPolicy): { accepted: FeedEntry[]; rejected: PolicyRejection[] } {
  const accepted: FeedEntry[] = [];
  const rejected: PolicyRejection[] = [];
  for (const entry of entries) {
    const problem = checkEntry(entry, policy);
    if (problem === undefined) accepted.push(entry);
    else rejected.push({ line: entry.line, first: entry.first, last: entry.last, ...problem });
  }
  return { accepted, rejected };
}

/**
 * Checks one feed's entries, merged into a sorted, disjoint range table, for a
 * run of adjacent ranges that contains a whole block shorter than the minimum
 * prefix: a feed that lists 12.0.0.0/8 and 13.0.0.0/8 lists 12.0.0.0/7. Each
 * entry already passed `checkEntry`, so every address in the table does too.
 * Returns one message per such run.
 */
export function checkMergedRanges(starts: Uint32Array, ends: Uint32Array, policy: SafetyPolicy): string[] {
  const problems: string[] = [];
  if (policy.minPrefixLength <= 0) return problems;
  const tooBroadSize = 2 ** (33 - policy.minPrefixLength);
  let runStart = -1;
  let runEnd = -1;
  const closeRun = (): void => {
    if (runStart < 0) return;
    const aligned = Math.ceil(runStart / tooBroadSize) * tooBroadSize;
    if (aligned + tooBroadSize - 1 <= runEnd) {
      const block = cidrBounds(aligned, policy.minPrefixLength - 1);
      problems.push(
        `merged ranges ${formatIPv4(runStart)}-${formatIPv4(runEnd)} cover ${formatRange(block.first, block.last)}, a block shorter than /${policy.minPrefixLength}`,
      );
    }
  };
  for (let i = 0; i < starts.length; i++) {
    if (runStart >= 0 && starts[i] === runEnd + 1) {
      runEnd = ends[i]!;
    } else {
      closeRun();
      runStart = starts[i]!;
      runEnd = ends[i]!;
    }
  }
  closeRun();
  return problems;
}

/**
 * Checks the entries of one feed or list file joined where they touch, as they
 * would be in the table: a source that lists 12.0.0.0/8 and 13.0.0.0/8 lists
 * 12.0.0.0/7. Returns one message per run that is too broad.
 */
export function checkJoinedEntries(entries: ReadonlyArray<AddressRange>, policy: SafetyPolicy): string[] {
  const joined = mergeRanges(entries);
  return checkMergedRanges(
    Uint32Array.from(joined, (range) => range.first),
    Uint32Array.from(joined, (range) => range.last),
    policy,
  );
}
