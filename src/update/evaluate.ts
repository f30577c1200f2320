// Turning one feed body into entries for the list: body checks, the format's
// parser, the whole-body checks, then the safety policy, entry by entry and for
// the feed's entries taken together. Logs what was rejected and why.

import type { FeedConfig } from "../feeds/config.js";
import { FeedError } from "../feeds/errors.js";
import { readFeedBody } from "../feeds/formats.js";
import type { FeedEntry } from "../feeds/parse-result.js";
import { applyPolicy, checkJoinedEntries, type PolicyReason, type SafetyPolicy } from "../feeds/policy.js";
import type { UpdateLog } from "./log.js";
import { plural } from "../output/summary.js";
import { quoteLine } from "../util/quote.js";

/** Rejected lines and unsafe entries shown per feed; the rest are only counted. */
export const SHOWN_REJECTIONS = 5;

export interface Evaluation {
  entries: FeedEntry[];
  /** Lines the parser rejected as invalid. */
  invalidLines: number;
  /** Entries the safety policy rejected. */
  unsafeEntries: number;
}

export type EvaluationResult = Evaluation | { failure: string };

const REASON_NAMES: Record<PolicyReason, string> = {
  "all-addresses": "whole address space (0.0.0.0/0)",
  "too-broad": "prefix too short",
  reserved: "reserved range",
};

/** Formats counts per reason, most frequent first: "not an IPv4 address: 3, prefix length not in 0-32: 1". */
function countByReason(reasons: ReadonlyArray<string>): string {
  const counts = new Map<string, number>();
  for (const reason of reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([reason, count]) => `${reason}: ${count}`)
    .join(", ");
}

/** Parses and checks a body. `origin` names where it came from in log lines ("download", "cached copy"). */
export function evaluateBody(feed: FeedConfig, body: Uint8Array, policy: SafetyPolicy, maxDecodedBytes: number, log: UpdateLog, origin: string): EvaluationResult {
  let parsed;
  try {
    parsed = readFeedBody(body, feed.format, feed.options, maxDecodedBytes);
  } catch (error) {
    if (!(error instanceof FeedError)) throw error;
    // The decompression limit is the download's maxBodyBytes; the message names the option.
    return { failure: error.code === "ERR_FEED_TOO_LARGE" ? `${error.message} (maxBodyBytes)` : error.message };
  }

  const label = `${feed.name} (${origin})`;
  if (parsed.rejected.length > 0) {
    log.warning(`${label}: ${plural(parsed.rejected.length, "invalid line")} rejected (${countByReason(parsed.rejected.map((line) => line.reason))})`);
    for (const line of parsed.rejected.slice(0, SHOWN_REJECTIONS)) {
      const where = line.line > 0 ? `line ${line.line}` : "JSON item";
      log.warning(`${label}: ${where}: ${line.reason}: ${quoteLine(line.text)}`);
    }
    if (parsed.rejected.length > SHOWN_REJECTIONS) log.warning(`${label}: ${plural(parsed.rejected.length - SHOWN_REJECTIONS, "more invalid line")} not shown`);
  }
  if (parsed.failure !== undefined) return { failure: parsed.failure };
  for (const note of parsed.notes) log.warning(`${label}: ${note}`);
  if (parsed.ipv6Skipped > 0) log.info(`${label}: ${plural(parsed.ipv6Skipped, "IPv6 entry", "IPv6 entries")} skipped (the list is IPv4-only)`);
  if (parsed.hostBitsMasked > 0) log.info(`${label}: ${plural(parsed.hostBitsMasked, "CIDR entry", "CIDR entries")} had host bits set; the host bits were cleared`);

  const { accepted, rejected } = applyPolicy(parsed.entries, policy);
  if (rejected.length > 0) {
    const summary = countByReason(rejected.map((rejection) => REASON_NAMES[rejection.reason]));
    log.warning(`${label}: ${plural(rejected.length, "unsafe entry", "unsafe entries")} rejected by the safety policy (${summary})`);
    for (const rejection of rejected.slice(0, SHOWN_REJECTIONS)) {
      log.warning(`${label}: ${rejection.line > 0 ? `line ${rejection.line}: ` : ""}${rejection.message}`);
    }
    if (rejected.length > SHOWN_REJECTIONS) log.warning(`${label}: ${plural(rejected.length - SHOWN_REJECTIONS, "more unsafe entry", "more unsafe entries")} not shown`);
  }

  const problems = checkJoinedEntries(accepted, policy);
  if (problems.length > 0) return { failure: `its entries together are unsafe: ${problems[0]}` };
  return { entries: accepted, invalidLines: parsed.rejected.length, unsafeEntries: rejected.length };
}
