// Reading a text list of ranges that must be valid line by line, as the
// allowlists of `update --allow` and the scan's `--allow` are: one address, CIDR
// block or range per line, in the syntax of `repfilter compile` inputs.

import { readFile } from "node:fs/promises";
import { describeFileError } from "../util/file-errors.js";
import { decodeListText, ListFormatError, parseTextList, type ListEntry } from "./text-list.js";
import { quoteLine } from "../util/quote.js";

/** A range file that cannot be used; the message names the file and, when known, the line. */
export class RangeFileError extends Error {
  readonly code = "ERR_RANGE_FILE";
}

/** Reads `path`; an unreadable file, binary data or an invalid line raises RangeFileError. `label` starts each message. */
export async function readRangeFile(path: string, label: string): Promise<ListEntry[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new RangeFileError(`${label} ${path}: cannot read it (${describeFileError(error)})`);
  }
  let parsed;
  try {
    parsed = parseTextList(decodeListText(bytes));
  } catch (error) {
    if (error instanceof ListFormatError) throw new RangeFileError(`${label} ${path}: ${error.message}`);
    throw error;
  }
  const first = parsed.rejected[0];
  if (first !== undefined) throw new RangeFileError(`${label} ${path}:${first.line}: ${first.reason}: ${quoteLine(first.text)}; fix the line`);
  return parsed.entries;
}
