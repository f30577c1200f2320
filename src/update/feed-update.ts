// Updating one feed: a conditional download, the checks, and the fallback on the
// last good copy when anything fails. A failed feed never contributes a partial
// or empty body. It keeps its last good copy while that is younger than
// maxAgeDays, and is left out of the list after that.

import type { Dispatcher } from "undici";
import type { FeedConfig, UpdateConfig } from "../feeds/config.js";
import type { FeedEntry } from "../feeds/parse-result.js";
import { redactUrl } from "../feeds/redact.js";
import { formatBytes, plural } from "../output/summary.js";
import { evaluateBody, type Evaluation } from "./evaluate.js";
import { fetchFeed, FetchError, type FetchResult } from "./http.js";
import { formatDuration, type UpdateLog } from "./log.js";
import { sha256, StateError, type CachedFeed, type StateStore } from "./state.js";

export type FeedStatus = "updated" | "not-modified" | "stale" | "failed" | "disabled";

export interface FeedOutcome {
  name: string;
  url: string;
  status: FeedStatus;
  /** Entries for the list, or undefined when the feed has no usable data. */
  entries?: FeedEntry[];
  invalidLines: number;
  unsafeEntries: number;
  /** Time since the server last delivered or confirmed the data used, in ms. */
  ageMs?: number;
  /** One line for the table: HTTP status, size and time, or what went wrong. */
  detail: string;
}

export interface FeedUpdateContext {
  config: UpdateConfig;
  state: StateStore;
  dispatcher: Dispatcher;
  log: UpdateLog;
  signal?: AbortSignal;
  now: () => number;
}

const DAY_MS = 86_400_000;

/**
 * Updates one feed and returns what the list gets from it. Download and body
 * problems, and state directory errors, become log lines and the outcome's status.
 */
export async function updateFeed(feed: FeedConfig, context: FeedUpdateContext): Promise<FeedOutcome> {
  const base = { name: feed.name, url: feed.url, invalidLines: 0, unsafeEntries: 0 };
  if (!feed.enabled) return { ...base, status: "disabled", detail: "disabled in the config" };

  const { config, log } = context;
  const started = performance.now();
  const stored = await readStored(feed, context);
  const cached = stored !== undefined && stored.state.url === feed.url ? await clampFutureTime(feed, stored, context) : undefined;
  let failure: string;
  try {
    const result = await fetchFeed(feed.url, {
      settings: config.fetch,
      dispatcher: context.dispatcher,
      ...(cached !== undefined ? { validators: cached.state } : {}),
      ...(context.signal !== undefined ? { signal: context.signal } : {}),
      onRetry: (error, attempt, delayMs) => log.warning(`${feed.name}: attempt ${attempt} failed: ${error.message}; retrying in ${formatDuration(delayMs)}`),
    });
    const elapsed = (): string => formatDuration(performance.now() - started);
    if (result.kind === "not-modified") {
      if (cached === undefined) {
        failure = `HTTP 304 Not Modified, but there is no stored copy to reuse (${redactUrl(feed.url)})`;
      } else {
        const outcome = await reuseCached(feed, cached, result, context, elapsed);
        if (typeof outcome !== "string") return outcome;
        failure = outcome;
      }
    } else {
      const evaluation = evaluateBody(feed, result.body, config.policy, config.fetch.maxBodyBytes, log, "download");
      if (!("failure" in evaluation)) return await storeDownload(feed, cached, result, evaluation, context, elapsed);
      const served = result.contentType !== undefined ? `, served as ${result.contentType}` : "";
      failure = `${evaluation.failure} (HTTP 200${served} from ${redactUrl(result.url)})`;
    }
  } catch (error) {
    if (!(error instanceof FetchError)) throw error;
    failure = error.attempts > 1 ? `${error.message} (after ${error.attempts} attempts)` : error.message;
  }
  return fallBack(feed, cached, failure, context);
}

async function readStored(feed: FeedConfig, context: FeedUpdateContext): Promise<CachedFeed | undefined> {
  try {
    return await context.state.read(feed.name);
  } catch (error) {
    if (error instanceof StateError) {
      context.log.warning(`${feed.name}: its state file is damaged: ${error.message}; starting fresh, without its last good copy`);
      return undefined;
    }
    context.log.warning(`${feed.name}: cannot read its last good copy in ${context.state.directory} (${describeError(error)}); going on without it`);
    return undefined;
  }
}

/**
 * Counts a last good copy validated in the future (a clock set back, an edited
 * state file) as validated now, and stores that time. Its age then never goes
 * negative, and it still expires maxAgeDays from now.
 */
async function clampFutureTime(feed: FeedConfig, cached: CachedFeed, context: FeedUpdateContext): Promise<CachedFeed> {
  const now = context.now();
  if (cached.state.validatedAt <= now) return cached;
  context.log.warning(
    `${feed.name}: its last good copy was validated at ${formatTime(cached.state.validatedAt)}, later than the current time ${formatTime(now)} ` +
      "(a clock set back or an edited state file); counting it as validated now",
  );
  const state = { ...cached.state, validatedAt: now, downloadedAt: Math.min(cached.state.downloadedAt, now) };
  await storeState(feed, context, () => context.state.writeState(feed.name, state));
  return { ...cached, state };
}

/** Formats ms since the Unix epoch as ISO 8601, or as the number when no date has it. */
function formatTime(ms: number): string {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms after the Unix epoch`;
}

/** Stores state; a failure is logged, because the list can still use this run's data. */
async function storeState(feed: FeedConfig, context: FeedUpdateContext, store: () => Promise<void>): Promise<void> {
  try {
    await store();
  } catch (error) {
    context.log.warning(`${feed.name}: cannot store its last good copy in ${context.state.directory} (${describeError(error)}); check the --state-dir permissions`);
  }
}

function describeError(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

async function reuseCached(
  feed: FeedConfig,
  cached: CachedFeed,
  result: FetchResult,
  context: FeedUpdateContext,
  elapsed: () => string,
): Promise<FeedOutcome | string> {
  const evaluation = evaluateBody(feed, cached.body, context.config.policy, context.config.fetch.maxBodyBytes, context.log, "stored copy");
  if ("failure" in evaluation) return `HTTP 304, but the stored copy is now rejected: ${evaluation.failure}`;
  const validators = { ...cached.state, ...result.validators };
  await storeState(feed, context, () => context.state.writeState(feed.name, { ...validators, url: feed.url, validatedAt: context.now(), entries: evaluation.entries.length }));
  context.log.info(`${feed.name}: HTTP 304 not modified, ${plural(evaluation.entries.length, "entry", "entries")} from the stored copy, ${elapsed()}`);
  return { ...outcomeBase(feed, evaluation), status: "not-modified", ageMs: 0, detail: `HTTP 304, ${elapsed()}` };
}

async function storeDownload(
  feed: FeedConfig,
  cached: CachedFeed | undefined,
  result: Extract<FetchResult, { kind: "body" }>,
  evaluation: Evaluation,
  context: FeedUpdateContext,
  elapsed: () => string,
): Promise<FeedOutcome> {
  const now = context.now();
  const count = evaluation.entries.length;
  const state = { ...result.validators, url: feed.url, validatedAt: now, downloadedAt: now, entries: count, sha256: sha256(result.body) };
  await storeState(feed, context, () => context.state.write(feed.name, state, result.body));
  const size = formatBytes(result.wireBytes);
  context.log.info(
    `${feed.name}: HTTP ${result.status}, ${size}, ${plural(count, "entry", "entries")}, ${evaluation.invalidLines + evaluation.unsafeEntries} rejected, ${elapsed()}` +
      (result.attempts > 1 ? ` (attempt ${result.attempts})` : ""),
  );
  if (count === 0) context.log.warning(`${feed.name}: the feed is well formed but lists no IPv4 entries today`);
  const previous = cached?.state.entries ?? 0;
  if (previous > 0 && count < previous / 2) {
    context.log.warning(`${feed.name}: shrank from ${previous} to ${plural(count, "entry", "entries")} at once (more than half); kept, but check the feed`);
  }
  return { ...outcomeBase(feed, evaluation), status: "updated", ageMs: 0, detail: `HTTP ${result.status}, ${size}, ${elapsed()}` };
}

function fallBack(feed: FeedConfig, cached: CachedFeed | undefined, failure: string, context: FeedUpdateContext): FeedOutcome {
  const { config, log } = context;
  const base = { name: feed.name, url: feed.url, invalidLines: 0, unsafeEntries: 0 };
  if (context.signal?.aborted === true) return { ...base, status: "failed", detail: "cancelled" };
  if (cached === undefined) {
    log.error(`${feed.name}: ${failure}; there is no last good copy, so the feed is left out of the list`);
    return { ...base, status: "failed", detail: failure };
  }
  const ageMs = context.now() - cached.state.validatedAt;
  if (ageMs > config.maxAgeDays * DAY_MS) {
    log.error(`${feed.name}: ${failure}; the last good copy is ${formatDuration(ageMs)} old, past maxAgeDays (${config.maxAgeDays}), so the feed is left out of the list`);
    return { ...base, status: "failed", ageMs, detail: failure };
  }
  const evaluation = evaluateBody(feed, cached.body, config.policy, config.fetch.maxBodyBytes, log, "stored copy");
  if ("failure" in evaluation) {
    log.error(`${feed.name}: ${failure}; the last good copy is rejected too (${evaluation.failure}), so the feed is left out of the list`);
    return { ...base, status: "failed", ageMs, detail: failure };
  }
  log.error(`${feed.name}: ${failure}; keeping the last good copy from ${formatDuration(ageMs)} ago (${plural(evaluation.entries.length, "entry", "entries")})`);
  return { ...outcomeBase(feed, evaluation), status: "stale", ageMs, detail: failure };
}

function outcomeBase(feed: FeedConfig, evaluation: Evaluation): Omit<FeedOutcome, "status" | "detail"> {
  return { name: feed.name, url: feed.url, entries: evaluation.entries, invalidLines: evaluation.invalidLines, unsafeEntries: evaluation.unsafeEntries };
}
