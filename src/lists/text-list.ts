// The plain text list format that `repfilter compile` reads: one address, CIDR
// block or range per line; `#` and `;` start comments; blank lines and CRLF line
// ends are fine.

import { parseEntry } from "./ipv4.js";

export interface ListEntry {
  first: number;
  last: number;
  /** 1-based line number in the input. */
  line: number;
}

export interface RejectedLine {
  line: number;
  text: string;
  reason: string;
}

export interface ParsedList {
  entries: ListEntry[];
  rejected: RejectedLine[];
  /** Valid IPv6 entries, skipped because the table is IPv4-only. */
  ipv6Skipped: number;
  /** CIDR entries whose host bits were set and cleared. */
  hostBitsMasked: number;
  /** The masked entries: line, text as written, and the range it was read as. */
  masked: Array<{ line: number; text: string; first: number; last: number }>;
}

/** An input that is not a text list at all (binary or UTF-16 data). */
export class ListFormatError extends Error {
  readonly code = "ERR_LIST_FORMAT";
}

/**
 * Decodes list bytes as UTF-8 text. Rejects UTF-16 and binary data instead of
 * guessing: read as UTF-8 they are full of NUL bytes.
 */
export function decodeListText(bytes: Uint8Array): string {
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    throw new ListFormatError("UTF-16 text (byte order mark FF FE or FE FF); save the list as UTF-8");
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new ListFormatError(`binary data (NUL byte at offset ${nul}); expected a text list`);
  let text = new TextDecoder("utf-8").decode(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text;
}

/** Splits text into lines on LF, dropping a CR before each LF. */
export function splitLines(text: string): string[] {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.endsWith("\r")) lines[i] = line.slice(0, -1);
  }
  return lines;
}

/** Returns the line without its `#` or `;` comment, trimmed (String.prototype.trim, so U+00A0 too). */
export function stripComment(line: string): string {
  let end = line.length;
  const hash = line.indexOf("#");
  const semicolon = line.indexOf(";");
  if (hash >= 0) end = hash;
  if (semicolon >= 0 && semicolon < end) end = semicolon;
  return line.slice(0, end).trim();
}

/** Parses a text list. */
export function parseTextList(text: string): ParsedList {
  const result: ParsedList = { entries: [], rejected: [], ipv6Skipped: 0, hostBitsMasked: 0, masked: [] };
  const lines = splitLines(text);
  for (let index = 0; index < lines.length; index++) {
    const content = stripComment(lines[index]!);
    if (content === "") continue;
    const parsed = parseEntry(content);
    const line = index + 1;
    if (parsed.kind === "range") {
      result.entries.push({ first: parsed.first, last: parsed.last, line });
      if (parsed.hostBitsMasked) {
        result.hostBitsMasked++;
        result.masked.push({ line, text: content, first: parsed.first, last: parsed.last });
      }
    } else if (parsed.kind === "ipv6") {
      result.ipv6Skipped++;
    } else {
      result.rejected.push({ line, text: content, reason: parsed.reason });
    }
  }
  return result;
}
