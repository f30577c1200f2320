// Strict IPv4 text parsing and formatting. Addresses are numbers in [0, 2^32).
//
// Only dotted-quad decimal is accepted. Octets may be zero-padded (DShield pads to
// three digits) and are read as decimal, never octal. Forms that inet_aton or the
// WHATWG URL parser accept, such as `192.0.2`, `3221225985` or `0x1f`, are invalid:
// in a threat feed they are garbage, not shorthand.

import { isIPv6 } from "node:net";

const OCTET = /^[0-9]{1,3}$/;
const PREFIX = /^[0-9]{1,2}$/;

/** Parses a dotted-quad address, or returns undefined. */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/** Formats an address number as a dotted quad. */
export function formatIPv4(address: number): string {
  return `${address >>> 24}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`;
}

/** Returns the first and last address of the block `prefix` bits long that holds `address`. */
export function cidrBounds(address: number, prefix: number): { first: number; last: number } {
  const size = 2 ** (32 - prefix);
  const first = Math.floor(address / size) * size;
  return { first, last: first + size - 1 };
}

/** Returns the prefix length when [first, last] is exactly one CIDR block, else -1. */
export function cidrPrefix(first: number, last: number): number {
  const size = last - first + 1;
  const bits = Math.log2(size);
  if (!Number.isInteger(bits) || first % size !== 0) return -1;
  return 32 - bits;
}

/** Formats a range as `a.b.c.d/n` when it is one CIDR block, else as `first-last`. */
export function formatRange(first: number, last: number): string {
  const prefix = cidrPrefix(first, last);
  if (prefix >= 0) return `${formatIPv4(first)}/${prefix}`;
  return `${formatIPv4(first)}-${formatIPv4(last)}`;
}

/** Splits a range into the minimal list of CIDR blocks. */
export function rangeToCidrs(first: number, last: number): string[] {
  const blocks: string[] = [];
  let start = first;
  while (start <= last) {
    let size = start === 0 ? 2 ** 32 : 2 ** Math.min(32, countTrailingZeros(start));
    while (start + size - 1 > last) size /= 2;
    blocks.push(`${formatIPv4(start)}/${32 - Math.log2(size)}`);
    start += size;
  }
  return blocks;
}

function countTrailingZeros(value: number): number {
  let zeros = 0;
  while (zeros < 32 && value % 2 ** (zeros + 1) === 0) zeros++;
  return zeros;
}

export type EntryParse =
  | { kind: "range"; first: number; last: number; hostBitsMasked: boolean }
  | { kind: "ipv6" }
  | { kind: "invalid"; reason: string };

/**
 * Parses one list entry: an address, a CIDR block (`192.0.2.0/24`) or a range
 * (`192.0.2.10-192.0.2.20`, spaces around the dash allowed). A CIDR with host bits
 * set is masked and flagged. IPv6 entries are recognised so that callers can skip
 * them apart from invalid ones.
 */
export function parseEntry(text: string): EntryParse {
  const dash = text.indexOf("-");
  if (dash >= 0) return parseDashRange(text.slice(0, dash).trim(), text.slice(dash + 1).trim());

  const slash = text.indexOf("/");
  if (slash < 0) {
    const address = parseIPv4(text);
    if (address !== undefined) return { kind: "range", first: address, last: address, hostBitsMasked: false };
    return isIPv6(text) ? { kind: "ipv6" } : invalid("not an IPv4 address");
  }

  const addressText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const address = parseIPv4(addressText);
  if (address === undefined) {
    const ipv6Prefix = /^[0-9]{1,3}$/.test(prefixText) && Number(prefixText) <= 128;
    if (isIPv6(addressText) && ipv6Prefix) return { kind: "ipv6" };
    return invalid("not an IPv4 CIDR block");
  }
  if (!PREFIX.test(prefixText) || Number(prefixText) > 32) return invalid("prefix length not in 0-32");
  const { first, last } = cidrBounds(address, Number(prefixText));
  return { kind: "range", first, last, hostBitsMasked: first !== address };
}

function parseDashRange(firstText: string, lastText: string): EntryParse {
  const first = parseIPv4(firstText);
  const last = parseIPv4(lastText);
  if (first === undefined || last === undefined) return invalid("not an IPv4 range");
  if (first > last) return invalid("range start is after its end");
  return { kind: "range", first, last, hostBitsMasked: false };
}

function invalid(reason: string): EntryParse {
  return { kind: "invalid", reason };
}
