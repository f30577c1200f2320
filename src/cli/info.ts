// The info command: what a blocklist file holds, per source and in total.

import { statSync } from "node:fs";
import type { Blocklist } from "../blocklist/build.js";
import { BlocklistError } from "../blocklist/format.js";
import { closeBlocklist, loadBlocklist, resolveBlocklistPath } from "../blocklist/load.js";
import { formatDay } from "../blocklist/provenance.js";
import { formatBytes, plural } from "../output/summary.js";
import { formatTable } from "../output/table.js";
import { Diagnostics } from "./diagnostics.js";
import type { ScanIO } from "./scan.js";

export interface InfoOptions {
  blocklist?: string;
  format: "text" | "json";
}

interface SourceFigures {
  name: string;
  /** Entries in the source entries section, or undefined when the file has none. */
  entries: number | undefined;
  ranges: number;
  addresses: number;
  firstSeen: number;
  lastSeen: number;
}

/** Prints the summary of the list at `path` (else the scan's list) and returns 0, or 2 on an error. */
export async function runInfo(path: string | undefined, options: InfoOptions, io: Pick<ScanIO, "stdout" | "stderr" | "env">): Promise<number> {
  const diagnostics = new Diagnostics(io.stderr);
  const listPath = resolveBlocklistPath(path ?? options.blocklist, io.env);
  let list: Blocklist;
  try {
    list = await loadBlocklist(listPath);
  } catch (error) {
    if (!(error instanceof BlocklistError)) throw error;
    diagnostics.error(error.message);
    return 2;
  }
  let sources: SourceFigures[];
  try {
    sources = sourceFigures(list);
  } catch (error) {
    if (!(error instanceof BlocklistError)) throw error;
    diagnostics.error(`${listPath}: ${error.message}; rebuild the list`);
    return 2;
  } finally {
    closeBlocklist(list);
  }
  const size = statSync(listPath).size;
  io.stdout.write(options.format === "json" ? formatJson(listPath, size, list, sources) : formatText(listPath, size, list, sources));
  return 0;
}

function sourceFigures(list: Blocklist): SourceFigures[] {
  const figures: SourceFigures[] = list.sources.map((name, source) => {
    const summary = list.entries?.summary(source);
    return { name, entries: summary?.entries, ranges: 0, addresses: 0, firstSeen: summary?.firstSeen ?? 0, lastSeen: summary?.lastSeen ?? 0 };
  });
  for (let range = 0; range < list.starts.length; range++) {
    const size = list.ends[range]! - list.starts[range]! + 1;
    for (const source of list.sets[list.setIds[range]!] ?? []) {
      figures[source]!.ranges++;
      figures[source]!.addresses += size;
    }
  }
  return figures;
}

interface Totals {
  addresses: number;
  entries: number | undefined;
  firstSeen: number;
  lastSeen: number;
}

function totals(list: Blocklist, sources: ReadonlyArray<SourceFigures>): Totals {
  let addresses = 0;
  for (let range = 0; range < list.starts.length; range++) addresses += list.ends[range]! - list.starts[range]! + 1;
  const dated = sources.filter((source) => source.firstSeen !== 0);
  return {
    addresses,
    entries: list.entries?.count,
    firstSeen: dated.length > 0 ? Math.min(...dated.map((source) => source.firstSeen)) : 0,
    lastSeen: dated.length > 0 ? Math.max(...dated.map((source) => source.lastSeen)) : 0,
  };
}

function day(value: number): string {
  return value !== 0 ? formatDay(value) : "-";
}

function formatText(path: string, size: number, list: Blocklist, sources: ReadonlyArray<SourceFigures>): string {
  const total = totals(list, sources);
  const dates = total.firstSeen !== 0 ? `first seen ${day(total.firstSeen)}, last seen ${day(total.lastSeen)}` : "no first-seen and last-seen dates";
  const entries =
    total.entries !== undefined ? `${plural(total.entries, "source entry", "source entries")}, ${dates}` : "not stored: the file predates source entries; rebuild it to see what each source lists";
  const lines = [
    `file       ${path} (${formatBytes(size)})`,
    `format     version ${list.formatVersion ?? "?"}`,
    `built      ${new Date(list.createdAt).toISOString()}`,
    `ranges     ${list.starts.length}`,
    `addresses  ${total.addresses}`,
    `entries    ${entries}`,
    "",
  ];
  const rows = sources.map((source) => [source.name, source.entries !== undefined ? String(source.entries) : "-", String(source.ranges), String(source.addresses), day(source.firstSeen), day(source.lastSeen)]);
  return lines.join("\n") + "\n" + formatTable(["SOURCE", "ENTRIES", "RANGES", "ADDRESSES", "FIRST SEEN", "LAST SEEN"], rows, new Set([1, 2, 3]));
}

function formatJson(path: string, size: number, list: Blocklist, sources: ReadonlyArray<SourceFigures>): string {
  const total = totals(list, sources);
  const dates = (first: number, last: number): Record<string, string> => (first !== 0 ? { first_seen: formatDay(first), last_seen: formatDay(last) } : {});
  const object = {
    file: path,
    bytes: size,
    format_version: list.formatVersion,
    built: new Date(list.createdAt).toISOString(),
    ranges: list.starts.length,
    addresses: total.addresses,
    ...(total.entries !== undefined ? { entries: total.entries } : {}),
    ...dates(total.firstSeen, total.lastSeen),
    sources: sources.map((source) => ({
      name: source.name,
      ...(source.entries !== undefined ? { entries: source.entries } : {}),
      ranges: source.ranges,
      addresses: source.addresses,
      ...dates(source.firstSeen, source.lastSeen),
    })),
  };
  return JSON.stringify(object) + "\n";
}
