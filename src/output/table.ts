// Aligned text tables for the check and info commands.

/** Formats rows under headers, columns two spaces apart; `numeric` columns are right-aligned. */
export function formatTable(headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>, numeric: ReadonlySet<number> = new Set()): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)));
  const format = (row: ReadonlyArray<string>): string =>
    row
      .map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join("  ")
      .trimEnd();
  return [format(headers), ...rows.map(format)].join("\n") + "\n";
}
