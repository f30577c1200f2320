// The check command: which sources list each address, with the entry each source
// lists and the days it was first and last seen.

import type { Blocklist } from "../blocklist/build.js";
import { BlocklistError } from "../blocklist/format.js";
import { closeBlocklist, loadBlocklist, resolveBlocklistPath } from "../blocklist/load.js";
import { formatDay, listedSince, listingsAt, type Listing } from "../blocklist/provenance.js";
import { formatIPv4, formatRange, parseEntry, parseIPv4 } from "../lists/ipv4.js";
import { formatTable } from "../output/table.js";
import { Diagnostics } from "./diagnostics.js";
import type { ScanIO } from "./scan.js";

export interface CheckOptions {
  blocklist?: string;
  format: "text" | "json";
}

interface AddressResult {
  address: number;
  listings: Listing[];
}

/**
 * Runs the check and returns the exit status, as grep does: 2 when an address
 * was invalid or the list could not be read, else 0 when an address is listed
 * and 1 when none is. The valid addresses are looked up even when others are
 * invalid.
 */
export async function runCheck(texts: string[], options: CheckOptions, io: Pick<ScanIO, "stdout" | "stderr" | "env">): Promise<number> {
  const diagnostics = new Diagnostics(io.stderr);
  const addresses: number[] = [];
  for (const text of texts) {
    const address = parseIPv4(text.trim());
    if (address !== undefined) {
      addresses.push(address);
      continue;
    }
    const ipv6 = parseEntry(text.trim()).kind === "ipv6";
    const quoted = JSON.stringify(text);
    diagnostics.error(ipv6 ? `${quoted} is an IPv6 address, which is not supported yet; the blocklist holds IPv4 addresses only` : `${quoted} is not an IPv4 address; give dotted-quad addresses such as 192.0.2.1`);
  }
  if (addresses.length === 0) return 2;

  let list: Blocklist;
  try {
    list = await loadBlocklist(resolveBlocklistPath(options.blocklist, io.env));
  } catch (error) {
    if (!(error instanceof BlocklistError)) throw error;
    diagnostics.error(error.message);
    return 2;
  }
  let results: AddressResult[];
  try {
    results = addresses.map((address) => {
      const range = findRange(list, address);
      return { address, listings: range >= 0 ? listingsAt(list, range, address) : [] };
    });
  } finally {
    closeBlocklist(list);
  }
  const failure = list.entries?.readFailure;
  if (failure !== undefined) diagnostics.warning(`${failure.message}; the entries shown are runs of table ranges instead`);

  io.stdout.write(options.format === "json" ? formatJson(list, results) : formatText(list, results));
  if (diagnostics.errors > 0) return 2;
  return results.some((result) => result.listings.length > 0) ? 0 : 1;
}

/** Returns the index of the range that contains `address`, or -1. */
export function findRange(list: Blocklist, address: number): number {
  let low = 0;
  let high = list.starts.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (list.ends[middle]! < address) low = middle + 1;
    else high = middle;
  }
  return low < list.starts.length && list.starts[low]! <= address ? low : -1;
}

function day(value: number): string {
  return value !== 0 ? formatDay(value) : "-";
}

function formatText(list: Blocklist, results: ReadonlyArray<AddressResult>): string {
  const rows: string[][] = [];
  for (const { address, listings } of results) {
    if (listings.length === 0) rows.push([formatIPv4(address), "-", "not listed", "-", "-"]);
    for (const listing of listings) {
      rows.push([formatIPv4(address), list.sources[listing.source] ?? `#${listing.source}`, formatRange(listing.first, listing.last), day(listing.firstSeen), day(listing.lastSeen)]);
    }
  }
  return formatTable(["ADDRESS", "SOURCE", "LISTED ENTRY", "FIRST SEEN", "LAST SEEN"], rows);
}

function formatJson(list: Blocklist, results: ReadonlyArray<AddressResult>): string {
  return results
    .map(({ address, listings }) => {
      const since = listedSince(listings);
      const listed = listings.map((listing) => ({
        source: list.sources[listing.source] ?? `#${listing.source}`,
        range: formatRange(listing.first, listing.last),
        ...(listing.firstSeen !== 0 ? { first_seen: formatDay(listing.firstSeen), last_seen: formatDay(listing.lastSeen) } : {}),
      }));
      return JSON.stringify({ address: formatIPv4(address), ...(since !== 0 ? { listed_since: formatDay(since) } : {}), listed }) + "\n";
    })
    .join("");
}
