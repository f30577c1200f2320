// The state directory: each feed's last good download and its HTTP validators,
// so that a run can send conditional requests and fall back on the last good
// copy when a download fails. Files per feed, each replaced atomically:
//   feeds/NAME.body  the body as received, after Content-Encoding is undone
//   feeds/NAME.json  URL, ETag, Last-Modified, times, entry count, SHA-256 of the body

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Environment } from "../blocklist/load.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import type { Validators } from "./http.js";

export interface FeedState extends Validators {
  url: string;
  /** When the server last delivered or confirmed (304) this body, in ms since the Unix epoch. */
  validatedAt: number;
  /** When this body was downloaded, in ms since the Unix epoch. */
  downloadedAt: number;
  /** Entries the body gave after the safety policy, to spot a feed that shrinks at once. */
  entries: number;
  sha256: string;
}

export interface CachedFeed {
  state: FeedState;
  body: Buffer;
}

/** A state file that is not valid JSON or lacks a field; the caller goes on without the last good copy. */
export class StateError extends Error {
  readonly code = "ERR_FEED_STATE";
}

/** Returns $XDG_STATE_HOME/repfilter, else ~/.local/state/repfilter. */
export function defaultStateDirectory(env: Environment): string {
  const stateHome = env.XDG_STATE_HOME !== undefined && env.XDG_STATE_HOME !== "" ? env.XDG_STATE_HOME : join(env.HOME ?? homedir(), ".local", "state");
  return join(stateHome, "repfilter");
}

export function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export class StateStore {
  readonly directory: string;

  constructor(directory: string) {
    this.directory = directory;
  }

  #path(name: string, extension: string): string {
    return join(this.directory, "feeds", `${name}.${extension}`);
  }

  /**
   * Reads a feed's last good copy. Returns undefined when there is none, or when
   * the body does not match its recorded hash (a crash between the two writes).
   * Throws StateError for a state file that is not valid JSON of the right shape.
   */
  async read(name: string): Promise<CachedFeed | undefined> {
    const path = this.#path(name, "json");
    let text: string;
    let body: Buffer;
    try {
      text = await readFile(path, "utf8");
      body = await readFile(this.#path(name, "body"));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new StateError(`${path}: invalid JSON (${(error as Error).message})`);
    }
    const problem = checkState(value);
    if (problem !== undefined) throw new StateError(`${path}: ${problem}`);
    const state = value as FeedState;
    if (state.sha256 !== sha256(body)) return undefined;
    return { state, body };
  }

  /** Stores a new good copy: the body first, then the state that describes it. */
  async write(name: string, state: FeedState, body: Buffer): Promise<void> {
    await writeFileAtomic(this.#path(name, "body"), body);
    await this.writeState(name, state);
  }

  /** Replaces only the state, as after a 304 that confirms the stored body. */
  async writeState(name: string, state: FeedState): Promise<void> {
    await writeFileAtomic(this.#path(name, "json"), Buffer.from(`${JSON.stringify(state, null, 2)}\n`));
  }
}

const STATE_FIELDS: Record<string, "string" | "number" | "optional string"> = {
  url: "string",
  validatedAt: "number",
  downloadedAt: "number",
  entries: "number",
  sha256: "string",
  etag: "optional string",
  lastModified: "optional string",
};

/** Returns what is wrong with a parsed state file, or undefined when it has the FeedState fields. */
function checkState(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return `expected a JSON object, got ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}`;
  }
  const fields = value as Record<string, unknown>;
  for (const [field, kind] of Object.entries(STATE_FIELDS)) {
    const item = fields[field];
    if (kind === "optional string" && item === undefined) continue;
    const ok = kind === "number" ? typeof item === "number" && Number.isFinite(item) : typeof item === "string";
    if (!ok) return `"${field}" is ${item === undefined ? "missing" : `not a ${kind === "number" ? "finite number" : "string"}`}`;
  }
  return undefined;
}
