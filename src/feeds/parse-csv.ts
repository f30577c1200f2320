// CSV feeds with a header row, such as abuse.ch Feodo Tracker and ThreatFox.
//
// The header may be a plain row (Feodo since 2021: every field quoted) or a
// comment (Feodo before 2021, SSLBL, ThreatFox: `# Firstseen,DstIP,...`). The
// address column is found by name in whichever comes first, never by position:
// ThreatFox added a column in 2026 and broke readers that counted columns.

import { commentPrefixes, type FeedOptions } from "./options.js";
import {
  addAddressPortText,
  addEntryText,
  checkTrailerCount,
  emptyParse,
  isComment,
  noteRetirement,
  numberedLines,
  takeTrailer,
  type FeedParse,
} from "./parse-result.js";

/**
 * Splits one CSV row. Fields may be quoted (`""` inside quotes is a quote), and
 * spaces around fields are dropped, since ThreatFox separates fields with `", "`.
 * Returns undefined for a row with an unterminated quote or text after a closing quote.
 * NOTE: a quoted field cannot span lines; none of the supported feeds does that.
 */
export function splitCsvRow(row: string): string[] | undefined {
  const fields: string[] = [];
  let i = 0;
  while (true) {
    while (row[i] === " " || row[i] === "\t") i++;
    let field = "";
    if (row[i] === '"') {
      i++;
      while (true) {
        if (i >= row.length) return undefined;
        if (row[i] === '"') {
          if (row[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += row[i++];
      }
      while (row[i] === " " || row[i] === "\t") i++;
      if (i < row.length && row[i] !== ",") return undefined;
    } else {
      const comma = row.indexOf(",", i);
      const end = comma < 0 ? row.length : comma;
      field = row.slice(i, end).trim();
      i = end;
    }
    fields.push(field);
    if (i >= row.length) return fields;
    i++; // the comma
  }
}

/** Resolves a column given by name (case-insensitive) or 0-based index against a header. */
export function columnIndex(column: string | number, header: string[] | undefined): number | undefined {
  if (typeof column === "number") return column;
  if (header === undefined) return undefined;
  const wanted = column.toLowerCase();
  const index = header.findIndex((name) => name.toLowerCase() === wanted);
  return index >= 0 ? index : undefined;
}

interface Columns {
  address: number;
  score?: number;
  match: Array<{ index: number; value: string }>;
}

function resolveColumns(options: FeedOptions, header: string[] | undefined): Columns | string {
  const address = columnIndex(options.column ?? 0, header);
  if (address === undefined) return `no column named ${JSON.stringify(options.column)} in the header`;
  const columns: Columns = { address, match: [] };
  if (options.scoreColumn !== undefined) {
    const score = columnIndex(options.scoreColumn, header);
    if (score === undefined) return `no score column named ${JSON.stringify(options.scoreColumn)} in the header`;
    columns.score = score;
  }
  for (const [name, value] of Object.entries(options.match ?? {})) {
    const index = columnIndex(name, header);
    if (index === undefined) return `no column named ${JSON.stringify(name)} (used in "match") in the header`;
    columns.match.push({ index, value });
  }
  return columns;
}

/** True when the header must be found by name before any data row. */
function needsHeader(options: FeedOptions): boolean {
  return (
    typeof options.column !== "number" ||
    typeof options.scoreColumn === "string" ||
    Object.keys(options.match ?? {}).length > 0
  );
}

/** Parses a CSV feed; `column` names the address column. */
export function parseCsv(text: string, options: FeedOptions): FeedParse {
  const result = emptyParse(options);
  const comments = commentPrefixes(options, ["#"]);
  const lines = numberedLines(text);
  const closing = options.trailer !== undefined ? takeTrailer(lines, new RegExp(options.trailer), result) : undefined;
  const headerNeeded = needsHeader(options);
  const wantedName = typeof options.column === "string" ? options.column.toLowerCase() : undefined;
  let header: string[] | undefined;
  let columns: Columns | undefined = headerNeeded ? undefined : (resolveColumns(options, undefined) as Columns);
  let rows = 0;

  for (const { line, text: raw } of lines) {
    if (raw.trim() === "") continue;
    const comment = isComment(raw, comments);
    const content = comment ? raw.trimStart().replace(/^[#;]+/, "").trim() : raw;
    if (comment) result.structured = true;

    if (header === undefined && headerNeeded && (wantedName !== undefined || !comment)) {
      const fields = splitCsvRow(content);
      const isHeader = fields !== undefined && (wantedName === undefined || fields.some((field) => field.toLowerCase() === wantedName));
      if (isHeader) {
        header = fields;
        result.structured = true;
        const resolved = resolveColumns(options, header);
        if (typeof resolved === "string") {
          result.failure = resolved;
          return result;
        }
        columns = resolved;
        continue;
      }
    }
    if (comment) {
      noteRetirement(content, result);
      continue;
    }

    rows++;
    if (columns === undefined) {
      result.rejected.push({ line, text: raw, reason: "data row before the header row" });
      continue;
    }
    addRow(raw, line, columns, options, result);
  }

  if (headerNeeded && header === undefined && rows > 0) {
    result.failure = `no header row names the column ${JSON.stringify(options.column)}`;
  }
  checkTrailerCount(closing, rows, result);
  return result;
}

function addRow(raw: string, line: number, columns: Columns, options: FeedOptions, result: FeedParse): void {
  const fields = splitCsvRow(raw);
  if (fields === undefined) {
    result.rejected.push({ line, text: raw, reason: "malformed CSV row (unbalanced quotes)" });
    return;
  }
  for (const { index, value } of columns.match) {
    if (fields[index] !== value) return;
  }
  if (columns.score !== undefined && options.minScore !== undefined) {
    const score = Number(fields[columns.score] ?? "");
    if (fields[columns.score] === undefined || fields[columns.score]!.trim() === "" || !Number.isFinite(score)) {
      result.rejected.push({ line, text: raw, reason: "score is not a number" });
      return;
    }
    if (score < options.minScore) return;
  }
  const value = fields[columns.address];
  if (value === undefined || value === "") {
    result.rejected.push({ line, text: raw, reason: `row has no value in column ${columns.address}` });
    return;
  }
  if (options.port === true) addAddressPortText(value, line, result);
  else addEntryText(value, line, result);
}
