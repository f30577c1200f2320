// The feed formats a config can name, and the checks that decide whether a
// parsed body may replace a feed's previous entries.

import { decodeFeedBody, DEFAULT_MAX_DECODED_BYTES } from "./body.js";
import { DEFAULT_MAX_REJECTED_RATIO, type FeedOptions } from "./options.js";
import { parseCsv } from "./parse-csv.js";
import { parseDShieldBlock } from "./parse-dshield.js";
import { parseJsonDocument, parseSpamhausNdjson } from "./parse-json.js";
import { parseAddressPort, parsePlain, parseSpamhausText } from "./parse-plain.js";
import type { FeedParse } from "./parse-result.js";
import { parseScored } from "./parse-scored.js";
import { parseTorExitAddresses } from "./parse-tor.js";

type Parser = (text: string, options: FeedOptions) => FeedParse;

interface FormatSpec {
  parse: Parser;
  /** Option names this format reads; any other option in a config is an error. */
  options: ReadonlyArray<keyof FeedOptions>;
}

const COMMON: ReadonlyArray<keyof FeedOptions> = ["allowEmpty", "maxRejectedRatio", "maxEntries"];

export const FEED_FORMATS = {
  plain: { parse: parsePlain, options: [...COMMON, "comment", "trailer"] },
  ipport: { parse: parseAddressPort, options: [...COMMON, "comment", "trailer"] },
  "spamhaus-text": { parse: parseSpamhausText, options: [...COMMON, "comment", "trailer"] },
  "spamhaus-ndjson": { parse: parseSpamhausNdjson, options: [...COMMON] },
  "dshield-block": { parse: parseDShieldBlock, options: [...COMMON] },
  csv: { parse: parseCsv, options: [...COMMON, "comment", "trailer", "column", "scoreColumn", "minScore", "match", "port"] },
  scored: { parse: parseScored, options: [...COMMON, "comment", "trailer", "column", "separator", "scoreColumn", "minScore"] },
  json: { parse: parseJsonDocument, options: [...COMMON, "field", "scoreColumn", "minScore", "match", "port"] },
  "tor-exit-addresses": { parse: parseTorExitAddresses, options: [...COMMON] },
} satisfies Record<string, FormatSpec>;

export type FeedFormat = keyof typeof FEED_FORMATS;

export function isFeedFormat(name: string): name is FeedFormat {
  return Object.hasOwn(FEED_FORMATS, name);
}

export type FeedVerdict = "ok" | "empty-valid" | "fail";

/** Returns the verdict of a checked parse: fail, a legitimately empty feed, or ok. */
export function feedVerdict(result: FeedParse): FeedVerdict {
  if (result.failure !== undefined) return "fail";
  return result.entries.length === 0 ? "empty-valid" : "ok";
}

/**
 * Records a failure when the body as a whole cannot be trusted: too many
 * rejected lines (mostly garbage), or no data at all without a header or
 * closing line that shows the feed is meant to be empty.
 */
export function checkFeedParse(result: FeedParse, options: FeedOptions): FeedParse {
  if (result.entriesOverLimit > 0) {
    const count = result.entries.length + result.entriesOverLimit;
    result.failure = `${count} IPv4 entries, more than the maximum of ${result.maxEntries} (options.maxEntries); raise this feed's options.maxEntries if that is expected`;
    return result;
  }
  if (result.failure !== undefined) return result;
  const rejected = result.rejected.length;
  const total = rejected + result.entries.length;
  const maxRatio = options.maxRejectedRatio ?? DEFAULT_MAX_REJECTED_RATIO;
  if (total > 0 && rejected / total > maxRatio) {
    result.failure = `${rejected} of ${total} data lines rejected (${Math.round((100 * rejected) / total)}%, above the limit of ${Math.round(100 * maxRatio)}%)`;
  } else if (total === 0 && result.ipv6Skipped === 0 && !result.structured) {
    result.failure = "no data lines, and no header or closing line shows that the feed is meant to be empty";
  } else if (result.entries.length === 0 && options.allowEmpty === false) {
    result.failure = "no IPv4 entries, and the feed is set to reject empty results (allowEmpty: false)";
  }
  return result;
}

/** Parses decoded list text in the given format and applies the whole-body checks. */
export function parseFeedText(text: string, format: FeedFormat, options: FeedOptions): FeedParse {
  const spec: FormatSpec = FEED_FORMATS[format];
  return checkFeedParse(spec.parse(text, options), options);
}

/** Decodes and parses a raw body. Throws FeedError when the body is not a list at all. */
export function readFeedBody(bytes: Uint8Array, format: FeedFormat, options: FeedOptions, maxDecodedBytes = DEFAULT_MAX_DECODED_BYTES): FeedParse {
  return parseFeedText(decodeFeedBody(bytes, maxDecodedBytes), format, options);
}
