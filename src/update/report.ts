// The per-feed table that `repfilter update` prints on stdout.

import type { FeedOutcome } from "./feed-update.js";
import { formatDuration } from "./log.js";

const HEADERS = ["FEED", "STATUS", "ENTRIES", "REJECTED", "AGE", "DETAIL"];

/** Formats the outcomes as an aligned text table, one row per feed. */
export function formatFeedTable(outcomes: ReadonlyArray<FeedOutcome>): string {
  const rows = outcomes.map((outcome) => [
    outcome.name,
    outcome.status,
    outcome.entries !== undefined ? String(outcome.entries.length) : "-",
    outcome.status === "disabled" ? "-" : String(outcome.invalidLines + outcome.unsafeEntries),
    // A clock set back can make an age negative; the table shows it as 0.
    outcome.ageMs !== undefined ? formatDuration(Math.max(0, outcome.ageMs)) : "-",
    outcome.detail,
  ]);
  const widths = HEADERS.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column]!.length)));
  const numeric = new Set([2, 3]);
  const format = (row: string[]): string =>
    row
      .map((cell, column) => {
        if (column === row.length - 1) return cell;
        return numeric.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!);
      })
      .join("  ")
      .trimEnd();
  return [format(HEADERS), ...rows.map(format)].join("\n") + "\n";
}
