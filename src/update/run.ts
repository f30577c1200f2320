// One update run: every enabled feed is updated (a bounded number at a time),
// the usable ones are merged into the binary list minus the allowlist, the
// merged list's address count is checked, and the file is replaced atomically.

import { readFile } from "node:fs/promises";
import { addressCount, buildBlocklist, type Blocklist } from "../blocklist/build.js";
import { decodeBlocklist, encodeBlocklist } from "../blocklist/format.js";
import { mergeRanges, subtractRanges } from "../feeds/allowlist.js";
import type { UpdateConfig } from "../feeds/config.js";
import { describeFileError } from "../util/file-errors.js";
import { plural } from "../output/summary.js";
import { updateFeed, type FeedOutcome } from "./feed-update.js";
import { createDispatcher } from "./http.js";
import { checkListPath, replaceListKeepingPrevious } from "./list-file.js";
import type { UpdateLog } from "./log.js";
import { datedEntries } from "./history.js";
import { StateStore } from "./state.js";

export interface UpdateRunOptions {
  config: UpdateConfig;
  /** The list file to replace. */
  output: string;
  stateDirectory: string;
  log: UpdateLog;
  /** Aborts downloads; an aborted run writes nothing. */
  signal?: AbortSignal;
  now?: () => number;
}

/**
 * Exit status of a run. 0: the list was written, and every enabled feed was
 * downloaded or confirmed unchanged. 1: some downloads failed, so those feeds
 * came from their last good copy or are missing, and the list was written or
 * kept as it was. 2: nothing usable, nothing written.
 */
export type UpdateStatus = 0 | 1 | 2;

export interface UpdateReport {
  outcomes: FeedOutcome[];
  status: UpdateStatus;
  written: boolean;
  ranges?: number;
}

/** Runs `work` over `items` with at most `limit` running at once, keeping the input order in the result. */
async function mapConcurrently<T, R>(items: ReadonlyArray<T>, limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Returns true when one of the merged ranges `allow` covers the whole entry. */
function coveredBy(allow: ReadonlyArray<{ first: number; last: number }>, entry: { first: number; last: number }): boolean {
  let low = 0;
  let high = allow.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (allow[middle]!.last < entry.first) low = middle + 1;
    else high = middle;
  }
  const range = allow[low];
  return range !== undefined && range.first <= entry.first && range.last >= entry.last;
}

export async function runUpdate(options: UpdateRunOptions): Promise<UpdateReport> {
  const { config, log } = options;
  const now = options.now ?? Date.now;
  const enabled = config.feeds.filter((feed) => feed.enabled);
  if (enabled.length === 0) {
    const files = config.files.join(" + ");
    if (config.feeds.length === 0) {
      log.error(`the feeds config (${files}) lists no feeds; add one under "feeds", or drop "includeDefaultFeeds": false; ${options.output} left unchanged`);
    } else {
      const example = JSON.stringify({ name: config.feeds[0]!.name, enabled: true });
      log.error(`every feed in the feeds config (${files}) is disabled; enable one, as in ${example} under "feeds"; ${options.output} left unchanged`);
    }
    return { outcomes: [], status: 2, written: false };
  }
  // Checked before any download, so that a wrong -o fails at once.
  const outputProblem = await checkListPath(options.output);
  if (outputProblem !== undefined) {
    log.error(outputProblem);
    return { outcomes: [], status: 2, written: false };
  }

  const dispatcher = createDispatcher(config.fetch);
  const context = { config, state: new StateStore(options.stateDirectory), dispatcher, log, now, ...(options.signal !== undefined ? { signal: options.signal } : {}) };
  let outcomes: FeedOutcome[];
  try {
    outcomes = await mapConcurrently(config.feeds, config.fetch.concurrency, (feed) => updateFeed(feed, context));
  } finally {
    await dispatcher.close();
  }
  if (options.signal?.aborted === true) {
    log.warning(`update cancelled; ${options.output} left unchanged`);
    return { outcomes, status: 2, written: false };
  }

  const usable = outcomes.filter((outcome) => outcome.entries !== undefined);
  const missing = outcomes.filter((outcome) => outcome.status === "failed");
  if (usable.length === 0) {
    log.error(`no feed gave usable data; ${options.output} left unchanged`);
    return { outcomes, status: 2, written: false };
  }

  const allow = mergeRanges(config.allowlist);
  let allowed = 0;
  const sources = [];
  for (const outcome of usable) {
    const listed = await datedEntries({ ...outcome, entries: outcome.entries! }, now(), config.historyDays, options.stateDirectory, log);
    const { entries, changed } = subtractRanges(outcome.entries!, allow);
    allowed += changed;
    // An entry cut only in part keeps its full form: that is what the feed lists.
    sources.push({ name: outcome.name, entries, listed: listed.filter((entry) => !coveredBy(allow, entry)) });
  }
  if (allowed > 0) log.info(`allowlist: ${plural(allowed, "entry", "entries")} lost addresses that must never alert`);

  const stale = outcomes.filter((outcome) => outcome.status === "stale").length;
  const list = buildBlocklist(sources, now());
  // Adjacent entries from different feeds may merge into a block shorter than
  // minPrefixLength. That is allowed, because each entry passed the policy, and
  // only the total is limited.
  const listed = addressCount(list);
  const maxListed = config.policy.maxListedAddresses;
  if (listed > maxListed) {
    log.error(
      `the merged list covers ${plural(listed, "address", "addresses")} (${formatShare(listed)} of the IPv4 space), more than policy.maxListedAddresses (${maxListed}); ` +
        `the broadest feeds: ${describeBroadestFeeds(list)}`,
    );
    log.error(`${options.output} left unchanged; disable or narrow the broadest feeds, or raise policy.maxListedAddresses`);
    return { outcomes, status: 2, written: false };
  }

  const encoded = encodeBlocklist(list);
  if (stale === usable.length && (await sameListOnDisk(options.output, list))) {
    // No download succeeded and the list on disk already contains the same data, so it stays byte for byte.
    log.error(`every download failed; ${options.output} left unchanged, because it already contains the last good copies`);
    return { outcomes, status: 1, written: false };
  }

  let files: { written: string; previous?: string };
  try {
    files = await replaceListKeepingPrevious(options.output, encoded);
  } catch (error) {
    log.error(`cannot write the list to ${options.output}: ${describeFileError(error)}`);
    return { outcomes, status: 2, written: false };
  }
  log.info(
    `wrote ${files.written === options.output ? options.output : `${options.output} -> ${files.written}`}: ${plural(list.starts.length, "range")} (${plural(addressCount(list), "address", "addresses")}) from ${plural(usable.length, "feed")}` +
      describeStale(stale, usable.length) +
      (files.previous !== undefined ? `; the previous list is at ${files.previous}` : ""),
  );
  if (missing.length > 0) log.warning(`${plural(missing.length, "feed")} ${missing.length === 1 ? "is" : "are"} missing from the list: ${missing.map((outcome) => outcome.name).join(", ")}`);
  return { outcomes, status: missing.length > 0 || stale > 0 ? 1 : 0, written: true, ranges: list.starts.length };
}

/** Describes how many of the feeds in the list came from a last good copy, for the "wrote" line. */
function describeStale(stale: number, usable: number): string {
  if (stale === 0) return "";
  if (stale === usable) return usable === 1 ? " (its last good copy)" : ", all from a last good copy";
  return `, ${stale} of them from a last good copy`;
}

/** Formats a share of the 2^32 IPv4 addresses as a percentage, like "26.6%". */
function formatShare(addresses: number): string {
  return `${((100 * addresses) / 2 ** 32).toFixed(1)}%`;
}

/** Lists the three sources that cover the most addresses, with their counts. */
function describeBroadestFeeds(list: Blocklist): string {
  const covered = new Array<number>(list.sources.length).fill(0);
  for (let i = 0; i < list.starts.length; i++) {
    const size = list.ends[i]! - list.starts[i]! + 1;
    for (const source of list.sets[list.setIds[i]!]!) covered[source]! += size;
  }
  return covered
    .map((addresses, source) => ({ name: list.sources[source]!, addresses }))
    .sort((a, b) => b.addresses - a.addresses)
    .slice(0, 3)
    .map((feed) => `${feed.name} (${plural(feed.addresses, "address", "addresses")})`)
    .join(", ");
}

/**
 * Returns whether the list file at `path` contains `list` apart from its build time:
 * the same bytes once encoded with the build time of the file.
 */
async function sameListOnDisk(path: string, list: Blocklist): Promise<boolean> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
    const onDisk = decodeBlocklist(bytes, path);
    return encodeBlocklist({ ...list, createdAt: onDisk.createdAt }).equals(bytes);
  } catch {
    // A missing or damaged file is rewritten.
    return false;
  }
}
