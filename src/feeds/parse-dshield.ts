// DShield's recommended block list (block.txt): tab-separated rows of start
// address, end address, prefix length, attack count, network name, country and
// contact, after a `#` header. The 2015 layout adds a `Start<TAB>End...` column
// row, which is not a comment and is recognised by its first field.

import { cidrBounds, formatIPv4, parseIPv4 } from "../lists/ipv4.js";
import type { FeedOptions } from "./options.js";
import { emptyParse, isComment, noteRetirement, numberedLines, pushEntry, type FeedParse } from "./parse-result.js";

/** Parses block.txt: one block per row, from the start address and the prefix length. */
export function parseDShieldBlock(text: string, options: FeedOptions): FeedParse {
  const result = emptyParse(options);
  for (const { line, text: raw } of numberedLines(text)) {
    if (raw.trim() === "") continue;
    if (isComment(raw, ["#"])) {
      result.structured = true;
      noteRetirement(raw, result);
      continue;
    }
    const fields = raw.split("\t").map((field) => field.trim());
    if (fields[0] === "Start") {
      result.structured = true;
      continue;
    }
    const reason = addBlockRow(fields, line, result);
    if (reason !== undefined) result.rejected.push({ line, text: raw, reason });
  }
  return result;
}

/** Adds the row's block, or returns why the row is invalid. */
function addBlockRow(fields: string[], line: number, result: FeedParse): string | undefined {
  if (fields.length < 3) return "expected start, end and prefix length separated by tabs";
  const start = parseIPv4(fields[0]!);
  const end = parseIPv4(fields[1]!);
  const prefixText = fields[2]!;
  if (start === undefined) return "start is not an IPv4 address";
  if (end === undefined) return "end is not an IPv4 address";
  if (!/^[0-9]{1,2}$/.test(prefixText) || Number(prefixText) > 32) return "prefix length not in 0-32";
  const block = cidrBounds(start, Number(prefixText));
  if (block.first !== start) return `start is not the first address of a /${prefixText} block`;
  if (block.last !== end) return `end should be ${formatIPv4(block.last)}, the last address of the /${prefixText} block`;
  pushEntry(result, block.first, block.last, line);
  return undefined;
}
