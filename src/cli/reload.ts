// Reloading the blocklist in a running scan: when the file is replaced and on
// SIGHUP. The directory is watched, not the file, because an atomic replace
// (rename) gives the path a new inode, and a watch on the old inode gets no event.
// The new file is validated completely before it is used; an invalid one is
// logged and the current list stays.

import { createHash } from "node:crypto";
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import type { Blocklist } from "../blocklist/build.js";
import { BlocklistError, decodeBlocklist } from "../blocklist/format.js";
import { plural } from "../output/summary.js";
import { describeFileError } from "../util/file-errors.js";
import type { Diagnostics } from "./diagnostics.js";

/** Quiet time after the last change event before the file is read; a rename fires several events. */
const DEBOUNCE_MS = 100;

export interface ReloaderOptions {
  path: string;
  diagnostics: Diagnostics;
  /** Reads and validates a list file (by default into JavaScript memory); throws BlocklistError. */
  load?(path: string): Promise<Blocklist>;
  /** Installs the new list; called only with a completely validated one. */
  apply(list: Blocklist): void;
  /** Reload on SIGHUP too (the real command line). */
  signals: boolean;
}

export class ListReloader {
  readonly #options: ReloaderOptions;
  #watcher: FSWatcher | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #digest: string | undefined;
  /** The problem of the last failed reload, until a reload succeeds. */
  #lastFailure: string | undefined;
  readonly #onSignal = (): void => {
    this.#schedule(0, true);
  };
  #force = false;

  constructor(options: ReloaderOptions) {
    this.#options = options;
  }

  start(): void {
    const { path, diagnostics } = this.#options;
    const name = basename(path);
    try {
      this.#watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
        if (file === null || file === name) this.#schedule(DEBOUNCE_MS, false);
      });
      this.#watcher.on("error", (error) => {
        diagnostics.warning(`stopped watching ${dirname(path)} for a new list (${describeFileError(error)}); send SIGHUP to reload`);
        this.#watcher?.close();
      });
    } catch (error) {
      diagnostics.warning(`cannot watch ${dirname(path)} for a new list (${describeFileError(error)}); send SIGHUP to reload`);
    }
    if (this.#options.signals) process.on("SIGHUP", this.#onSignal);
  }

  /** Stops watching and waits for a reload in progress. */
  async stop(): Promise<void> {
    this.#watcher?.close();
    clearTimeout(this.#timer);
    process.off("SIGHUP", this.#onSignal);
    await this.#running;
  }

  #schedule(delayMs: number, force: boolean): void {
    this.#force ||= force;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#start(), delayMs);
  }

  #start(): void {
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    const force = this.#force;
    this.#force = false;
    this.#running = this.#reload(force).finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.#start();
      }
    });
  }

  /** Reads and validates the file, then installs it. A file identical to the last one read is skipped unless forced. */
  async #reload(force: boolean): Promise<void> {
    const { path, diagnostics } = this.#options;
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      this.#reportFailure(`cannot read it (${describeFileError(error)})`, force);
      return;
    }
    const digest = createHash("sha256").update(bytes).digest("hex");
    if (digest === this.#digest && !force) return;
    let list: Blocklist;
    try {
      list = this.#options.load !== undefined ? await this.#options.load(path) : decodeBlocklist(bytes, path);
    } catch (error) {
      if (!(error instanceof BlocklistError)) throw error;
      // The loader's messages start with the path, which this message names already.
      this.#reportFailure(error.message.startsWith(`${path}: `) ? error.message.slice(path.length + 2) : error.message, force);
      return;
    }
    this.#digest = digest;
    this.#lastFailure = undefined;
    this.#options.apply(list);
    diagnostics.info(`reloaded ${path}: ${plural(list.starts.length, "range")}, ${plural(list.sources.length, "source")}, built ${new Date(list.createdAt).toISOString()}`);
  }

  /**
   * Logs a failed reload in one form, whether a change to the file or SIGHUP
   * started it. A file change fires several events, so a repeat of the last
   * failure is not logged again unless SIGHUP asked for it.
   */
  #reportFailure(problem: string, force: boolean): void {
    if (problem === this.#lastFailure && !force) return;
    this.#lastFailure = problem;
    this.#options.diagnostics.warning(`reload of ${this.#options.path} failed: ${problem}; keeping the current list`);
  }
}
