// Line lists: one entry per line with comments. Covers plain address lists
// (addresses, CIDR blocks, ranges), `address:port` lists, and Spamhaus DROP in
// its text form (`CIDR ; SBLnnnnnn` lines closed by `; EOF`).

import { commentPrefixes, type FeedOptions } from "./options.js";
import {
  addAddressPortText,
  addEntryText,
  checkTrailerCount,
  emptyParse,
  findTrailer,
  forEachLine,
  isComment,
  noteRetirement,
  stripInlineComment,
  type FeedParse,
} from "./parse-result.js";

type LineAdder = (text: string, line: number, result: FeedParse) => void;

function parseLines(text: string, options: FeedOptions, comments: string[], trailer: RegExp | undefined, add: LineAdder): FeedParse {
  const result = emptyParse(options);
  const closing = trailer !== undefined ? findTrailer(text, trailer, result) : undefined;
  let rows = 0;
  forEachLine(text, closing?.end ?? text.length, (raw, line) => {
    if (raw.trim() === "") return;
    if (isComment(raw, comments)) {
      result.structured = true;
      noteRetirement(raw, result);
      return;
    }
    const content = stripInlineComment(raw, comments);
    if (content === "") return;
    rows++;
    add(content, line, result);
  });
  checkTrailerCount(closing, rows, result);
  return result;
}

function trailerOption(options: FeedOptions): RegExp | undefined {
  return options.trailer !== undefined ? new RegExp(options.trailer) : undefined;
}

/** Parses a plain list: one address, CIDR block or range per line; `#` and `;` comments by default. */
export function parsePlain(text: string, options: FeedOptions): FeedParse {
  return parseLines(text, options, commentPrefixes(options, ["#", ";"]), trailerOption(options), addEntryText);
}

/** Parses an `address:port` list; a bare address is accepted too. */
export function parseAddressPort(text: string, options: FeedOptions): FeedParse {
  return parseLines(text, options, commentPrefixes(options, ["#"]), trailerOption(options), addAddressPortText);
}

/** The closing line of Spamhaus DROP and EDROP text; a body without it was cut short. */
const SPAMHAUS_TRAILER = /^; EOF$/;

/** Parses Spamhaus DROP text: `CIDR ; SBLnnnnnn` lines, `;` comments, closed by `; EOF`. */
export function parseSpamhausText(text: string, options: FeedOptions): FeedParse {
  return parseLines(text, options, commentPrefixes(options, [";"]), trailerOption(options) ?? SPAMHAUS_TRAILER, addEntryText);
}
