// The end-of-run summary printed on stderr.

import { Counter, SKIP_REASONS } from "../core/abi.js";
import { namesSummaryLines } from "./names-summary.js";

export interface RunTotals {
  counters: Float64Array;
  /** Bytes read from the inputs (compressed size for compressed inputs). */
  inputBytes: number;
  elapsedSeconds: number;
  /** Alerts dropped by the scan's allowlist; set only when one was given. */
  allowed?: number;
}

/** Formats a byte count with SI units (kB = 1000 bytes), as `ls -h --si` does. */
export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Returns "1 packet" or "2 packets": the count and the noun, plural unless the count is 1. */
export function plural(count: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : pluralNoun}`;
}

/** Formats a rate with k and M suffixes. */
export function formatCount(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  return String(Math.round(value));
}

/** Formats a duration as milliseconds below one second, else as seconds. */
export function formatDuration(seconds: number): string {
  return seconds < 1 ? `${(seconds * 1000).toFixed(1)} ms` : `${seconds.toFixed(2)} s`;
}

/** Returns the summary lines, without the program-name prefix. */
export function summaryLines(totals: RunTotals): string[] {
  const c = totals.counters;
  const seconds = Math.max(totals.elapsedSeconds, 1e-6);
  const packets = c[Counter.packets]!;
  // The core counts an allowed hit as an alert; the scan drops it afterwards.
  const allowed = totals.allowed ?? 0;
  const lines = [
    `${plural(packets, "packet")}, ${formatBytes(totals.inputBytes)} in ${formatDuration(totals.elapsedSeconds)} ` +
      `(${formatBytes(totals.inputBytes / seconds)}/s, ${formatCount(packets / seconds)} packets/s); ` +
      `${c[Counter.ipv4]} IPv4, ${plural(c[Counter.alerts]! - allowed, "alert")}, ${c[Counter.suppressed]} suppressed` +
      (totals.allowed !== undefined ? `, ${allowed} allowed` : ""),
  ];
  // Headers inside IP-in-IP, GRE and VXLAN tunnels, probed besides the outer ones.
  if (c[Counter.innerIPv4]! > 0) lines[0] += `; ${plural(c[Counter.innerIPv4]!, "tunneled IPv4 header")}`;
  const skips = SKIP_REASONS.filter(([, index]) => c[index]! > 0).map(([name, index]) => `${name} ${c[index]}`);
  if (skips.length > 0) {
    const skipped = SKIP_REASONS.reduce((sum, [, index]) => sum + c[index]!, 0);
    lines.push(`skipped ${plural(skipped, "packet")}: ${skips.join(", ")}`);
  }
  const oddities: string[] = [];
  if (c[Counter.caplenAboveLen]! > 0) oddities.push(`caplen_above_len ${c[Counter.caplenAboveLen]}`);
  if (c[Counter.caplenAboveSnaplen]! > 0) oddities.push(`caplen_above_snaplen ${c[Counter.caplenAboveSnaplen]}`);
  if (c[Counter.dedupEvictions]! > 0) oddities.push(`dedup_evictions ${c[Counter.dedupEvictions]}`);
  if (c[Counter.ipOptionsCut]! > 0) oddities.push(`ip_options_cut ${c[Counter.ipOptionsCut]}`);
  // Packets whose innermost headers were not probed, because their tunnels nest too deep.
  if (c[Counter.tunnelDepthLimit]! > 0) oddities.push(`tunnel_depth_limit ${c[Counter.tunnelDepthLimit]}`);
  if (oddities.length > 0) lines.push(`noted: ${oddities.join(", ")}`);
  lines.push(...namesSummaryLines(c));
  return lines;
}
