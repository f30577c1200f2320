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
   */
  async read(name: string): Promise<CachedFeed | undefined> {
    let state: FeedState;
    let body: Buffer;
    try {
      state = JSON.parse(await readFile(this.#path(name, "json"), "utf8")) as FeedState;
      body = await readFile(this.#path(name, "body"));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT" || error instanceof SyntaxError) return undefined;
      throw error;
    }
    if (typeof state.url !== "string" || typeof state.validatedAt !== "number" || state.sha256 !== sha256(body)) return undefined;
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
