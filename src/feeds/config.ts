// The feeds config: a bundled default (default-feeds.json next to this file's
// source) and a user file that overrides it. The user file is --config FILE, else
// $XDG_CONFIG_HOME/repfilter/feeds.json when it exists. Feeds are matched by name:
// a user entry changes the fields it gives, and a new name adds a feed.

import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Environment } from "../blocklist/load.js";
import { FEED_FORMATS, isFeedFormat, type FeedFormat } from "./formats.js";
import type { FeedOptions } from "./options.js";
import { createPolicy, parseRangeList, type AddressRange, type SafetyPolicy } from "./policy.js";
import { redactUrl } from "./redact.js";
import { describeFileError } from "../util/file-errors.js";

export interface FeedConfig {
  name: string;
  url: string;
  format: FeedFormat;
  enabled: boolean;
  options: FeedOptions;
}

export interface FetchSettings {
  connectTimeoutSeconds: number;
  headersTimeoutSeconds: number;
  /** Maximum pause between two pieces of the body. */
  bodyTimeoutSeconds: number;
  /** Limit on one whole download, redirects and body included. */
  totalTimeoutSeconds: number;
  maxBodyBytes: number;
  maxRedirects: number;
  /** Further attempts after a network error or a 5xx status. */
  retries: number;
  /** Delay before the first retry; it doubles for each further one. */
  retryDelaySeconds: number;
  /** Feeds downloaded at the same time. */
  concurrency: number;
}

export interface UpdateConfig {
  feeds: FeedConfig[];
  allowlist: AddressRange[];
  policy: SafetyPolicy;
  fetch: FetchSettings;
  /** How long a feed's last good copy may stand in for a failed download. */
  maxAgeDays: number;
  /** How long an entry's first-seen day is remembered after its feed stopped listing it. */
  historyDays: number;
  /** The files the config was read from, bundled default first. */
  files: string[];
}

/** A feeds config that cannot be used; the message names the file and the field. */
export class ConfigError extends Error {
  readonly code = "ERR_FEEDS_CONFIG";
}

export const BUNDLED_CONFIG_PATH = new URL("../../../src/feeds/default-feeds.json", import.meta.url);

/** Feed names become source names in alerts and file names in the state directory. */
export const FEED_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const TOP_LEVEL_KEYS = ["includeDefaultFeeds", "feeds", "allowlist", "policy", "fetch", "maxAgeDays", "historyDays"];
const FEED_KEYS = ["name", "url", "format", "enabled", "options"];
const POLICY_KEYS = ["minPrefixLength", "reservedRanges", "reservedExceptions", "maxListedAddresses"];

type Json = Record<string, unknown>;

/** Returns $XDG_CONFIG_HOME/repfilter/feeds.json, else ~/.config/repfilter/feeds.json. */
export function defaultUserConfigPath(env: Environment): string {
  const configHome = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== "" ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), ".config");
  return join(configHome, "repfilter", "feeds.json");
}

async function readJson(path: string | URL, required: boolean): Promise<Json | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !required) return undefined;
    throw new ConfigError(`feeds config ${String(path)}: cannot read it (${describeFileError(error)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`feeds config ${String(path)}: invalid JSON: ${(error as Error).message}`);
  }
  if (!isObject(value)) throw new ConfigError(`feeds config ${String(path)}: expected a JSON object at the top level`);
  return value;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Loads the bundled default and the user file (the option, else the standard location) and validates the result. */
export async function loadFeedsConfig(configOption: string | undefined, env: Environment): Promise<UpdateConfig> {
  const bundledPath = fileURLToPath(BUNDLED_CONFIG_PATH);
  const bundled = (await readJson(BUNDLED_CONFIG_PATH, true))!;
  const userPath = configOption ?? defaultUserConfigPath(env);
  const user = await readJson(userPath, configOption !== undefined);
  const files = user === undefined ? [bundledPath] : [bundledPath, userPath];
  return mergeConfig(bundled, user, userPath, files);
}

/** Applies a user config object over the bundled one and validates every field. */
export function mergeConfig(bundled: Json, user: Json | undefined, userPath: string, files: string[]): UpdateConfig {
  const where = (field: string): string => `feeds config ${userPath}: ${field}`;
  const overrides = user ?? {};
  for (const key of Object.keys(overrides)) {
    if (!TOP_LEVEL_KEYS.includes(key)) throw new ConfigError(`${where(key)}: unknown field; expected one of ${TOP_LEVEL_KEYS.join(", ")}`);
  }
  const includeDefaults = overrides.includeDefaultFeeds ?? true;
  if (typeof includeDefaults !== "boolean") throw new ConfigError(`${where("includeDefaultFeeds")}: expected true or false`);

  const feeds = new Map<string, Json>();
  if (includeDefaults) for (const feed of (bundled.feeds as Json[] | undefined) ?? []) feeds.set(String(feed.name), { ...feed });
  const userFeeds = overrides.feeds ?? [];
  if (!Array.isArray(userFeeds)) throw new ConfigError(`${where("feeds")}: expected an array of feed objects`);
  // A user entry with a bundled feed's name changes that feed. Two user entries
  // with one name are a mistake, because the second would silently win.
  const userIndexes = new Map<string, number>();
  userFeeds.forEach((feed: unknown, index) => {
    if (!isObject(feed) || typeof feed.name !== "string") throw new ConfigError(`${where(`feeds[${index}]`)}: expected an object with a "name"`);
    const earlier = userIndexes.get(feed.name);
    if (earlier !== undefined) {
      throw new ConfigError(`${where(`feeds[${index}].name`)}: duplicate feed name "${feed.name}", also at feeds[${earlier}]; give each feed its own name`);
    }
    userIndexes.set(feed.name, index);
    const base = feeds.get(feed.name);
    // A new format makes the old options meaningless, so they are replaced, not merged.
    const options = base === undefined || (feed.format !== undefined && feed.format !== base.format) ? feed.options : { ...(base.options as Json | undefined), ...(feed.options as Json | undefined) };
    feeds.set(feed.name, { ...base, ...feed, ...(options !== undefined ? { options } : {}) });
  });

  const policy = { ...(bundled.policy as Json), ...(overrides.policy as Json | undefined) };
  const fetch = { ...(bundled.fetch as Json), ...(overrides.fetch as Json | undefined) };
  return {
    feeds: [...feeds.values()].map((feed, index) => validateFeed(feed, `feeds[${index}] (${String(feed.name)})`, where)),
    allowlist: validateRanges(overrides.allowlist ?? bundled.allowlist ?? [], where("allowlist")),
    policy: validatePolicy(policy, where),
    fetch: validateFetch(fetch, where),
    maxAgeDays: validateNumber(overrides.maxAgeDays ?? bundled.maxAgeDays, where("maxAgeDays"), 0, 3650),
    historyDays: validateNumber(overrides.historyDays ?? bundled.historyDays, where("historyDays"), 0, 3650, true),
    files,
  };
}

function validateFeed(feed: Json, label: string, where: (field: string) => string): FeedConfig {
  for (const key of Object.keys(feed)) {
    if (!FEED_KEYS.includes(key)) throw new ConfigError(`${where(`${label}.${key}`)}: unknown field; expected one of ${FEED_KEYS.join(", ")}`);
  }
  const name = String(feed.name);
  if (!FEED_NAME.test(name)) throw new ConfigError(`${where(`${label}.name`)}: "${name}" is invalid; use 1-64 letters, digits, '.', '_' or '-'`);
  const url = feed.url;
  if (typeof url !== "string" || !/^https?:\/\//i.test(url) || !URL.canParse(url)) {
    const redactedUrl = typeof url === "string" ? redactUrl(url) : url;
    throw new ConfigError(`${where(`${label}.url`)}: expected an http:// or https:// URL, got ${JSON.stringify(redactedUrl)}`);
  }
  const format = feed.format;
  if (typeof format !== "string" || !isFeedFormat(format)) {
    throw new ConfigError(`${where(`${label}.format`)}: expected one of ${Object.keys(FEED_FORMATS).join(", ")}, got ${JSON.stringify(format)}`);
  }
  const enabled = feed.enabled ?? true;
  if (typeof enabled !== "boolean") throw new ConfigError(`${where(`${label}.enabled`)}: expected true or false`);
  const options = feed.options ?? {};
  if (!isObject(options)) throw new ConfigError(`${where(`${label}.options`)}: expected an object`);
  return { name, url, format, enabled, options: validateOptions(options, format, `${label}.options`, where) };
}

function validateOptions(options: Json, format: FeedFormat, label: string, where: (field: string) => string): FeedOptions {
  const allowed: ReadonlyArray<string> = FEED_FORMATS[format].options;
  for (const [key, value] of Object.entries(options)) {
    const field = where(`${label}.${key}`);
    if (!allowed.includes(key)) throw new ConfigError(`${field}: not an option of the ${format} format; it takes ${allowed.join(", ")}`);
    const ok = checkOptionType(key as keyof FeedOptions, value);
    if (ok !== undefined) throw new ConfigError(`${field}: ${ok}, got ${JSON.stringify(value)}`);
  }
  if (options.minScore !== undefined && options.scoreColumn === undefined) {
    throw new ConfigError(`${where(`${label}.minScore`)}: needs "scoreColumn" to say which column holds the score`);
  }
  return options as FeedOptions;
}

/** Returns what the option expects when `value` does not fit, else undefined. */
function checkOptionType(key: keyof FeedOptions, value: unknown): string | undefined {
  switch (key) {
    case "comment":
      return typeof value === "string" || (Array.isArray(value) && value.every((item) => typeof item === "string" && item !== "")) ? undefined : "expected a string or a list of strings";
    case "trailer":
      if (typeof value !== "string") return "expected a regular expression as a string";
      try {
        new RegExp(value);
        return undefined;
      } catch (error) {
        return `invalid regular expression (${(error as Error).message})`;
      }
    case "column":
    case "scoreColumn":
      return typeof value === "string" || (Number.isInteger(value) && (value as number) >= 0) ? undefined : "expected a column name or a 0-based index";
    case "separator":
    case "field":
      return typeof value === "string" && value !== "" ? undefined : "expected a non-empty string";
    case "minScore":
      return typeof value === "number" && Number.isFinite(value) ? undefined : "expected a number";
    case "maxRejectedRatio":
      return typeof value === "number" && value >= 0 && value <= 1 ? undefined : "expected a number from 0 to 1";
    case "maxEntries":
      return Number.isInteger(value) && (value as number) >= 1 ? undefined : "expected a whole number of entries, 1 or more";
    case "match":
      return isObject(value) && Object.values(value).every((item) => typeof item === "string") ? undefined : 'expected an object of column names and string values, like {"status": "online"}';
    case "port":
    case "allowEmpty":
      return typeof value === "boolean" ? undefined : "expected true or false";
  }
}

function validateRanges(value: unknown, field: string): AddressRange[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) throw new ConfigError(`${field}: expected a list of addresses, CIDR blocks or ranges`);
  try {
    return parseRangeList(value, field);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

function validatePolicy(policy: Json, where: (field: string) => string): SafetyPolicy {
  for (const key of Object.keys(policy)) {
    if (!POLICY_KEYS.includes(key)) throw new ConfigError(`${where(`policy.${key}`)}: unknown field; expected one of ${POLICY_KEYS.join(", ")}`);
  }
  const minPrefixLength = validateNumber(policy.minPrefixLength, where("policy.minPrefixLength"), 0, 32, true);
  const maxListedAddresses = validateNumber(policy.maxListedAddresses, where("policy.maxListedAddresses"), 1, 2 ** 32, true);
  validateRanges(policy.reservedRanges, where("policy.reservedRanges"));
  validateRanges(policy.reservedExceptions, where("policy.reservedExceptions"));
  return createPolicy({
    minPrefixLength,
    reservedRanges: policy.reservedRanges as string[],
    reservedExceptions: policy.reservedExceptions as string[],
    maxListedAddresses,
  });
}

function validateFetch(fetch: Json, where: (field: string) => string): FetchSettings {
  const settings = {} as Record<keyof FetchSettings, number>;
  const limits: Record<keyof FetchSettings, [number, number, boolean]> = {
    connectTimeoutSeconds: [0.001, 3600, false],
    headersTimeoutSeconds: [0.001, 3600, false],
    bodyTimeoutSeconds: [0.001, 3600, false],
    totalTimeoutSeconds: [0.001, 86400, false],
    maxBodyBytes: [1, 2 ** 32, true],
    maxRedirects: [0, 20, true],
    retries: [0, 10, true],
    retryDelaySeconds: [0, 3600, false],
    concurrency: [1, 64, true],
  };
  for (const key of Object.keys(fetch)) {
    if (!Object.hasOwn(limits, key)) throw new ConfigError(`${where(`fetch.${key}`)}: unknown field; expected one of ${Object.keys(limits).join(", ")}`);
  }
  for (const [key, [low, high, integer]] of Object.entries(limits) as Array<[keyof FetchSettings, [number, number, boolean]]>) {
    settings[key] = validateNumber(fetch[key], where(`fetch.${key}`), low, high, integer);
  }
  return settings;
}

function validateNumber(value: unknown, field: string, low: number, high: number, integer = false): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < low || value > high || (integer && !Number.isInteger(value))) {
    throw new ConfigError(`${field}: expected ${integer ? "an integer" : "a number"} from ${low} to ${high}, got ${JSON.stringify(value)}`);
  }
  return value;
}
