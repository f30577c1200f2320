// Delimited lists with an address column and, optionally, a score column and a
// threshold: IPsum (address TAB number of lists), DShield's top-sources tables
// (zero-padded octets, read as decimal), AlienVault's `#`-separated reputation.data.

import { commentPrefixes, type FeedOptions } from "./options.js";
import { addEntryText, checkTrailerCount, emptyParse, isComment, noteRetirement, numberedLines, takeTrailer, type FeedParse } from "./parse-result.js";

/** Parses a delimited list; `column` and `scoreColumn` are 0-based indexes. */
export function parseScored(text: string, options: FeedOptions): FeedParse {
  const result = emptyParse(options);
  const comments = commentPrefixes(options, ["#"]);
  const lines = numberedLines(text);
  const closing = options.trailer !== undefined ? takeTrailer(lines, new RegExp(options.trailer), result) : undefined;
  const addressColumn = typeof options.column === "number" ? options.column : 0;
  const scoreColumn = typeof options.scoreColumn === "number" ? options.scoreColumn : undefined;
  let rows = 0;

  for (const { line, text: raw } of lines) {
    if (raw.trim() === "") continue;
    if (isComment(raw, comments)) {
      result.structured = true;
      noteRetirement(raw, result);
      continue;
    }
    rows++;
    const fields = options.separator !== undefined ? raw.split(options.separator).map((field) => field.trim()) : raw.trim().split(/\s+/);
    const value = fields[addressColumn];
    if (value === undefined || value === "") {
      result.rejected.push({ line, text: raw, reason: `no value in column ${addressColumn}` });
      continue;
    }
    if (scoreColumn !== undefined) {
      const scoreText = fields[scoreColumn];
      const score = Number(scoreText);
      if (scoreText === undefined || scoreText === "" || !Number.isFinite(score)) {
        result.rejected.push({ line, text: raw, reason: `score in column ${scoreColumn} is not a number` });
        continue;
      }
      if (options.minScore !== undefined && score < options.minScore) continue;
    }
    addEntryText(value, line, result);
  }
  checkTrailerCount(closing, rows, result);
  return result;
}
