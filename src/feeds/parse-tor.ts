// The Tor Project's exit-addresses list: records of `ExitNode <fingerprint>`,
// `Published`, `LastStatus` and one or more `ExitAddress <address> <date> <time>`
// lines. Only ExitAddress lines give addresses; a node may have none.

import type { FeedOptions } from "./options.js";
import { addEntryText, emptyParse, numberedLines, type FeedParse } from "./parse-result.js";

const RECORD_KEYWORDS = new Set(["ExitNode", "Published", "LastStatus"]);

export function parseTorExitAddresses(text: string, options: FeedOptions): FeedParse {
  const result = emptyParse(options);
  for (const { line, text: raw } of numberedLines(text)) {
    const fields = raw.trim().split(/\s+/);
    const keyword = fields[0]!;
    if (keyword === "") continue;
    if (RECORD_KEYWORDS.has(keyword)) {
      result.structured = true;
      continue;
    }
    if (keyword !== "ExitAddress" || fields[1] === undefined) {
      result.rejected.push({ line, text: raw, reason: "not an ExitNode record line" });
      continue;
    }
    addEntryText(fields[1], line, result);
  }
  return result;
}
