// Downloading one feed with undici: conditional requests, a limit on the body
// size, gzip and deflate Content-Encoding, and retries with backoff on network
// errors and 5xx statuses. Redirects are followed here rather than by undici, so
// that each hop is counted and only http and https are followed.
// undici.request() does not decode Content-Encoding (only fetch() does), so this
// module does. undici 7 also ignores user information in a URL, so this module
// sends it as HTTP Basic authentication, to the URL's own origin only.
// URLs in messages are redacted, because they may carry credentials.

import { setTimeout as sleep } from "node:timers/promises";
import { inflateRawSync, inflateSync } from "node:zlib";
import { Agent, request, type Dispatcher } from "undici";
import { gunzipStrict } from "../feeds/body.js";
import type { FetchSettings } from "../feeds/config.js";
import { FeedError } from "../feeds/errors.js";
import { redactUrl, redactUrlsInText } from "../feeds/redact.js";
import { VERSION } from "../version.js";

export const USER_AGENT = `repfilter/${VERSION} (IP blocklist updater)`;

/** Validators from the last good download, sent so that an unchanged feed answers 304. */
export interface Validators {
  etag?: string;
  lastModified?: string;
}

interface BodyResponse {
  kind: "body";
  status: number;
  /** The body after Content-Encoding is undone. */
  body: Buffer;
  /** Bytes received on the wire, before Content-Encoding is undone. */
  wireBytes: number;
  contentType?: string;
  validators: Validators;
  /** The URL after redirects. */
  url: string;
}

interface NotModifiedResponse {
  kind: "not-modified";
  status: 304;
  validators: Validators;
  url: string;
}

export type FetchResult = (BodyResponse | NotModifiedResponse) & { attempts: number };

/** A download that failed. `retryable` is false for 4xx statuses, size limits and cancellation. */
export class FetchError extends Error {
  readonly code: string;
  readonly status: number | undefined;
  readonly retryable: boolean;
  attempts = 1;
  constructor(code: string, message: string, options: { status?: number; retryable: boolean }) {
    super(message);
    this.name = "FetchError";
    this.code = code;
    this.status = options.status;
    this.retryable = options.retryable;
  }
}

/** Creates the connection pool for one update run; close it when the run ends. */
export function createDispatcher(settings: FetchSettings): Agent {
  return new Agent({
    connect: { timeout: settings.connectTimeoutSeconds * 1000 },
    headersTimeout: settings.headersTimeoutSeconds * 1000,
    bodyTimeout: settings.bodyTimeoutSeconds * 1000,
  });
}

export interface FetchOptions {
  settings: FetchSettings;
  dispatcher: Dispatcher;
  validators?: Validators;
  /** Aborts the download for good (shutdown); no retry follows. */
  signal?: AbortSignal;
  /** Called before each retry with the error and the delay in milliseconds. */
  onRetry?: (error: FetchError, attempt: number, delayMs: number) => void;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Downloads `url`, retrying network errors and 5xx statuses with exponential backoff. */
export async function fetchFeed(url: string, options: FetchOptions): Promise<FetchResult> {
  const attempts = 1 + options.settings.retries;
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await fetchOnce(url, options);
      return { ...result, attempts: attempt };
    } catch (error) {
      const failure = error instanceof FetchError ? error : describeNetworkError(error, url, options);
      failure.attempts = attempt;
      if (!failure.retryable || attempt >= attempts || options.signal?.aborted === true) throw failure;
      const delayMs = options.settings.retryDelaySeconds * 1000 * 2 ** (attempt - 1);
      options.onRetry?.(failure, attempt, delayMs);
      try {
        await sleep(delayMs, undefined, options.signal !== undefined ? { signal: options.signal } : {});
      } catch {
        throw failure;
      }
    }
  }
}

async function fetchOnce(url: string, options: FetchOptions): Promise<BodyResponse | NotModifiedResponse> {
  const { settings } = options;
  const total = AbortSignal.timeout(settings.totalTimeoutSeconds * 1000);
  const signal = options.signal !== undefined ? AbortSignal.any([options.signal, total]) : total;
  const headers: Record<string, string> = { "user-agent": USER_AGENT, "accept-encoding": "gzip, deflate", accept: "*/*" };
  if (options.validators?.etag !== undefined) headers["if-none-match"] = options.validators.etag;
  if (options.validators?.lastModified !== undefined) headers["if-modified-since"] = options.validators.lastModified;
  const credentials = basicCredentials(url);

  try {
    let current = url;
    for (let redirects = 0; ; redirects++) {
      const target = new URL(current);
      // A redirect to another origin must not receive the credentials.
      const sendCredentials = credentials !== undefined && target.origin === credentials.origin;
      target.username = "";
      target.password = "";
      const response = await request(target, {
        method: "GET",
        headers: sendCredentials ? { ...headers, authorization: credentials.header } : headers,
        dispatcher: options.dispatcher,
        signal,
      });
      const status = response.statusCode;
      const redactedUrl = redactUrl(current);
      if (REDIRECT_STATUSES.has(status)) {
        await response.body.dump();
        current = nextLocation(current, header(response.headers, "location"), status, redirects, settings.maxRedirects);
        continue;
      }
      const validators = readValidators(response.headers);
      if (status === 304) {
        await response.body.dump();
        return { kind: "not-modified", status, validators, url: current };
      }
      if (status !== 200) {
        await response.body.dump();
        throw new FetchError("ERR_FEED_HTTP", `HTTP ${status} from ${redactedUrl}`, { status, retryable: status >= 500 });
      }
      const wire = await readLimited(response, settings.maxBodyBytes, redactedUrl);
      const body = decodeContentEncoding(wire, header(response.headers, "content-encoding"), settings.maxBodyBytes, redactedUrl);
      const contentType = header(response.headers, "content-type");
      return { kind: "body", status, body, wireBytes: wire.length, ...(contentType !== undefined ? { contentType } : {}), validators, url: current };
    }
  } catch (error) {
    if (total.aborted && options.signal?.aborted !== true) {
      throw new FetchError("ERR_FEED_TIMEOUT", `timed out after ${settings.totalTimeoutSeconds} s in total (totalTimeoutSeconds) for ${redactUrl(url)}`, {
        retryable: true,
      });
    }
    throw error;
  }
}

/** Builds the Basic authentication header from a URL's user information, with the origin it may be sent to. */
function basicCredentials(url: string): { header: string; origin: string } | undefined {
  const parsed = new URL(url);
  if (parsed.username === "" && parsed.password === "") return undefined;
  const userPass = `${decodeUserInfo(parsed.username)}:${decodeUserInfo(parsed.password)}`;
  return { header: `Basic ${Buffer.from(userPass, "utf8").toString("base64")}`, origin: parsed.origin };
}

/** Undoes percent-encoding; a malformed sequence is sent as written. */
function decodeUserInfo(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function nextLocation(current: string, location: string | undefined, status: number, redirects: number, maxRedirects: number): string {
  const redactedUrl = redactUrl(current);
  if (location === undefined) throw new FetchError("ERR_FEED_HTTP", `HTTP ${status} without a Location header from ${redactedUrl}`, { status, retryable: false });
  if (redirects >= maxRedirects) {
    throw new FetchError("ERR_FEED_REDIRECTS", `more than ${maxRedirects} redirects (maxRedirects), the last from ${redactedUrl} to ${redactUrl(location)}`, {
      status,
      retryable: false,
    });
  }
  let next: URL;
  try {
    next = new URL(location, current);
  } catch {
    throw new FetchError("ERR_FEED_HTTP", `invalid redirect Location ${JSON.stringify(redactUrl(location))} from ${redactedUrl}`, { status, retryable: false });
  }
  if (next.protocol !== "http:" && next.protocol !== "https:") {
    throw new FetchError("ERR_FEED_HTTP", `redirect to a ${next.protocol} URL from ${redactedUrl}; only http and https are followed`, { status, retryable: false });
  }
  return next.href;
}

function header(headers: Dispatcher.ResponseData["headers"], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readValidators(headers: Dispatcher.ResponseData["headers"]): Validators {
  const etag = header(headers, "etag");
  const lastModified = header(headers, "last-modified");
  return { ...(etag !== undefined ? { etag } : {}), ...(lastModified !== undefined ? { lastModified } : {}) };
}

async function readLimited(response: Dispatcher.ResponseData, maxBytes: number, url: string): Promise<Buffer> {
  const declared = Number(header(response.headers, "content-length"));
  const tooLarge = (): FetchError => new FetchError("ERR_FEED_TOO_LARGE", `body from ${url} exceeds the maximum of ${maxBytes} bytes (maxBodyBytes)`, { retryable: false });
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.body.destroy();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of response.body) {
    length += (chunk as Buffer).length;
    if (length > maxBytes) {
      response.body.destroy();
      throw tooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, length);
}

/** Undoes Content-Encoding. An encoding other than gzip, deflate or identity fails the download. `url` is for messages only. */
export function decodeContentEncoding(body: Buffer, encoding: string | undefined, maxBytes: number, url: string): Buffer {
  const name = (encoding ?? "identity").trim().toLowerCase();
  try {
    if (name === "identity" || name === "") return body;
    if (name === "gzip" || name === "x-gzip") return gunzipStrict(body, maxBytes);
    if (name === "deflate") {
      // RFC 9110 defines "deflate" as zlib-wrapped data, but some servers send raw deflate.
      try {
        return inflateSync(body, { maxOutputLength: maxBytes });
      } catch (error) {
        if (isTooLarge(error)) throw error;
        return inflateRawSync(body, { maxOutputLength: maxBytes });
      }
    }
  } catch (error) {
    if (isTooLarge(error)) {
      throw new FetchError("ERR_FEED_TOO_LARGE", `body from ${url} expands past the maximum of ${maxBytes} bytes (maxBodyBytes) when its Content-Encoding ${name} is undone`, {
        retryable: false,
      });
    }
    const reason = error instanceof FeedError ? error.message : `damaged deflate data: ${(error as Error).message}`;
    throw new FetchError("ERR_FEED_ENCODING", `cannot decode Content-Encoding ${name} from ${url}: ${reason}`, { retryable: false });
  }
  throw new FetchError("ERR_FEED_ENCODING", `unsupported Content-Encoding ${JSON.stringify(name)} from ${url}`, { retryable: false });
}

/** True for zlib's output limit error (a RangeError) and for gunzipStrict's FeedError for it. */
function isTooLarge(error: unknown): boolean {
  return (error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE" || (error instanceof FeedError && error.code === "ERR_FEED_TOO_LARGE");
}

const NETWORK_MESSAGES: Record<string, (settings: FetchSettings) => string> = {
  UND_ERR_CONNECT_TIMEOUT: (s) => `connect timed out after ${s.connectTimeoutSeconds} s (connectTimeoutSeconds)`,
  UND_ERR_HEADERS_TIMEOUT: (s) => `no response headers within ${s.headersTimeoutSeconds} s (headersTimeoutSeconds)`,
  UND_ERR_BODY_TIMEOUT: (s) => `the body stalled for more than ${s.bodyTimeoutSeconds} s (bodyTimeoutSeconds)`,
  UND_ERR_SOCKET: () => "the connection was closed or reset by the server",
  ECONNRESET: () => "the connection was reset by the server",
  ECONNREFUSED: () => "the connection was refused",
  ENOTFOUND: () => "the host name was not found",
  EAI_AGAIN: () => "the host name could not be resolved (temporary DNS failure)",
};

function describeNetworkError(error: unknown, url: string, options: FetchOptions): FetchError {
  if (options.signal?.aborted === true) return new FetchError("ERR_FEED_ABORTED", "cancelled (the updater is stopping)", { retryable: false });
  const code = (error as { code?: string }).code ?? "";
  const describe = NETWORK_MESSAGES[code];
  const reason = describe !== undefined ? describe(options.settings) : `network error: ${redactUrlsInText((error as Error).message)}${code !== "" ? ` (${code})` : ""}`;
  const message = `${reason} for ${redactUrl(url)}`;
  return new FetchError("ERR_FEED_NETWORK", message, { retryable: true });
}
