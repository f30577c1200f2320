// The result every feed parser returns, and the helpers they share: line
// iteration with 1-based numbers, comment prefixes, closing-line (trailer)
// checks and the address forms that feeds write.

import { parseEntry, parseIPv4 } from "../lists/ipv4.js";
import { splitLines, type RejectedLine } from "../lists/text-list.js";
import { DEFAULT_MAX_ENTRIES, type FeedOptions } from "./options.js";

export interface FeedEntry {
  first: number;
  last: number;
  /** 1-based line number in the decoded body, or 0 for an entry from a JSON document. */
  line: number;
}

export type { RejectedLine };

export interface FeedParse {
  entries: FeedEntry[];
  rejected: RejectedLine[];
  /** Valid IPv6 entries, skipped because the list is IPv4-only. */
  ipv6Skipped: number;
  /** CIDR entries whose host bits were set and cleared. */
  hostBitsMasked: number;
  /**
   * True when the body showed the feed's own structure (a comment header, a
   * column-name row, a closing line or metadata). A body with no data lines is
   * accepted as a legitimately empty feed only when this is set.
   */
  structured: boolean;
  /** Set when the body as a whole is unusable (cut short, counts that disagree). */
  failure?: string;
  /** Remarks worth logging, such as a feed announcing that it is retired. */
  notes: string[];
  /** Most entries kept, from the maxEntries option. */
  maxEntries: number;
  /** Entries past `maxEntries`: counted, not kept, and the body fails. */
  entriesOverLimit: number;
}

export function emptyParse(options: FeedOptions = {}): FeedParse {
  return {
    entries: [],
    rejected: [],
    ipv6Skipped: 0,
    hostBitsMasked: 0,
    structured: false,
    notes: [],
    maxEntries: options.maxEntries ?? DEFAULT_MAX_ENTRIES,
    entriesOverLimit: 0,
  };
}

/** Adds an entry, or only counts it once `maxEntries` are kept, so that a huge body cannot fill the memory. */
export function pushEntry(result: FeedParse, first: number, last: number, line: number): void {
  if (result.entries.length >= result.maxEntries) result.entriesOverLimit++;
  else result.entries.push({ first, last, line });
}

export interface NumberedLine {
  /** 1-based line number. */
  line: number;
  text: string;
}

/** Splits a decoded body into numbered lines, dropping the empty piece after a final newline. */
export function numberedLines(text: string): NumberedLine[] {
  const lines = splitLines(text);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines.map((line, index) => ({ line: index + 1, text: line }));
}

/**
 * Calls `visit` with each line of `text` before offset `end` and its 1-based
 * number, as numberedLines splits them, without holding all lines at once: a
 * feed of millions of lines would otherwise keep an object and a string per line.
 */
export function forEachLine(text: string, end: number, visit: (line: string, number: number) => void): void {
  let start = 0;
  for (let number = 1; start < end; number++) {
    let stop = text.indexOf("\n", start);
    if (stop < 0 || stop > end) stop = end;
    const lineEnd = stop > start && text.charCodeAt(stop - 1) === 0x0d ? stop - 1 : stop;
    visit(text.slice(start, lineEnd), number);
    start = stop + 1;
  }
}

/** Returns true when `text` (trimmed) starts with one of the comment prefixes. */
export function isComment(text: string, prefixes: ReadonlyArray<string>): boolean {
  const trimmed = text.trimStart();
  return prefixes.some((prefix) => trimmed.startsWith(prefix));
}

/** Cuts an inline comment (the first comment prefix anywhere in the line) and trims the rest. */
export function stripInlineComment(text: string, prefixes: ReadonlyArray<string>): string {
  let end = text.length;
  for (const prefix of prefixes) {
    const at = text.indexOf(prefix);
    if (at >= 0 && at < end) end = at;
  }
  return text.slice(0, end).trim();
}

// Phrases with which abuse.ch and Spamhaus announce that a list is no longer
// maintained. Such a feed still parses, but the run should warn.
const RETIRED = /\b(deprecated|discontinued|has been merged into|no longer (maintained|updated|available))\b/i;

/** Records a note when a comment line announces that the feed is retired. */
export function noteRetirement(comment: string, result: FeedParse): void {
  if (RETIRED.test(comment) && result.notes.length < 3) {
    result.notes.push(`the feed says it is retired: ${JSON.stringify(comment.replace(/^[#;\s]+/, "").trim())}`);
  }
}

/**
 * Takes the closing line off the end of `lines`. `pattern` must match the last
 * non-blank line; its first capture group, if any, is the number of data rows
 * the feed states. Records a failure when the closing line is missing.
 */
export function takeTrailer(lines: NumberedLine[], pattern: RegExp, result: FeedParse): { count?: number } | undefined {
  let last = lines.length - 1;
  while (last >= 0 && lines[last]!.text.trim() === "") last--;
  const match = last >= 0 ? pattern.exec(lines[last]!.text.trim()) : null;
  if (match === null) {
    result.failure = `truncated: the closing line matching /${pattern.source}/ is missing`;
    return undefined;
  }
  lines.splice(last);
  result.structured = true;
  const countText = match[1];
  return countText !== undefined ? { count: Number(countText) } : {};
}

/**
 * Finds the closing line in the text, like takeTrailer: `pattern` must match the
 * last non-blank line. Returns the offset where that line starts (the data ends
 * there) and the row count it states, or records a failure and returns undefined.
 */
export function findTrailer(text: string, pattern: RegExp, result: FeedParse): { end: number; count?: number } | undefined {
  let end = text.length;
  while (end >= 0) {
    const start = text.lastIndexOf("\n", end - 1) + 1;
    const line = text.slice(start, end).trim();
    if (line !== "") {
      const match = pattern.exec(line);
      if (match === null) break;
      result.structured = true;
      return match[1] !== undefined ? { end: start, count: Number(match[1]) } : { end: start };
    }
    if (start === 0) break;
    end = start - 1;
  }
  result.failure = `truncated: the closing line matching /${pattern.source}/ is missing`;
  return undefined;
}

/** Records a failure when the closing line's row count differs from the rows read. */
export function checkTrailerCount(trailer: { count?: number } | undefined, rows: number, result: FeedParse): void {
  if (trailer?.count === undefined || trailer.count === rows || result.failure !== undefined) return;
  result.failure = `the closing line counts ${trailer.count} rows but the body has ${rows}`;
}

/** Adds one address, CIDR block or range, or records why it was rejected. */
export function addEntryText(text: string, line: number, result: FeedParse): void {
  const parsed = parseEntry(text);
  if (parsed.kind === "range") {
    pushEntry(result, parsed.first, parsed.last, line);
    if (parsed.hostBitsMasked) result.hostBitsMasked++;
  } else if (parsed.kind === "ipv6") {
    result.ipv6Skipped++;
  } else {
    result.rejected.push({ line, text, reason: parsed.reason });
  }
}

/**
 * Adds an `address:port` or bare address value. The port must be 1-65535. An
 * IPv6 address in brackets (`[2001:db8::1]:443`) counts as a skipped IPv6 entry.
 */
export function addAddressPortText(text: string, line: number, result: FeedParse): void {
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::([0-9]{1,5}))?$/.exec(text);
  if (bracketed !== null) {
    const inner = parseEntry(bracketed[1]!);
    if (inner.kind === "ipv6") result.ipv6Skipped++;
    else result.rejected.push({ line, text, reason: "invalid address in brackets" });
    return;
  }
  const parts = text.split(":");
  if (parts.length > 2) {
    // A bare IPv6 address has several colons; anything else is malformed.
    if (parseEntry(text).kind === "ipv6") result.ipv6Skipped++;
    else result.rejected.push({ line, text, reason: "invalid address:port" });
    return;
  }
  const address = parseIPv4(parts[0]!);
  if (address === undefined) {
    result.rejected.push({ line, text, reason: "not an IPv4 address" });
    return;
  }
  if (parts.length === 2) {
    const port = parts[1]!;
    if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      result.rejected.push({ line, text, reason: "port not in 1-65535" });
      return;
    }
  }
  pushEntry(result, address, address, line);
}
