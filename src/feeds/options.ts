// Per-feed parser options, as written in the feeds config under `options`.
// Each format reads the ones it needs; the config loader rejects the rest.

export interface FeedOptions {
  /** Comment prefixes: a string or a list. The default depends on the format. */
  comment?: string | string[];
  /**
   * Regular expression that the last non-blank line must match. When set, a
   * body without it is cut short and fails. A first capture group is the
   * number of data rows the feed states, and must equal the rows read.
   */
  trailer?: string;
  /** CSV and `scored`: the column with the address, by header name or 0-based index. */
  column?: string | number;
  /** `scored`: the field separator (default: any run of spaces or tabs). */
  separator?: string;
  /** CSV, JSON and `scored`: the column or field that holds a numeric score. */
  scoreColumn?: string | number;
  /** Rows whose score is below this are skipped. Needs `scoreColumn`. */
  minScore?: number;
  /** CSV and JSON: keep only rows whose named columns equal these values. */
  match?: Record<string, string>;
  /** JSON: the field of each object that holds the address. */
  field?: string;
  /** CSV and JSON: values may be written `address:port`; the port is dropped. */
  port?: boolean;
  /** Accept a well-formed body with no entries (default true). False keeps the last good copy instead. */
  allowEmpty?: boolean;
  /** Largest share of data lines that may be rejected before the body fails (default 0.5). */
  maxRejectedRatio?: number;
  /** Most IPv4 entries the body may list (default 1,000,000); a body with more fails. */
  maxEntries?: number;
}

export const DEFAULT_MAX_REJECTED_RATIO = 0.5;

/**
 * Each entry costs a few hundred bytes on its way from the body to the list, so
 * this bounds one feed's share of the updater's memory. The largest public
 * threat feeds list well under a million entries.
 */
export const DEFAULT_MAX_ENTRIES = 1_000_000;

/** Returns the comment prefixes from the options, else the format's default. */
export function commentPrefixes(options: FeedOptions, fallback: ReadonlyArray<string>): string[] {
  if (options.comment === undefined) return [...fallback];
  return typeof options.comment === "string" ? [options.comment] : options.comment;
}
