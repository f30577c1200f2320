// Log output of the updater. A single run writes to stderr through Diagnostics;
// the long-running daemon puts an ISO 8601 time in front of each line.

import type { Writable } from "node:stream";

export interface UpdateLog {
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
}

/** A log for a long-running process: each line starts with the UTC time. */
export class TimestampedLog implements UpdateLog {
  readonly #stream: Writable;
  readonly #now: () => number;

  constructor(stream: Writable, now: () => number = Date.now) {
    this.#stream = stream;
    this.#now = now;
  }

  info(message: string): void {
    this.#write(`repfilter: ${message}`);
  }

  warning(message: string): void {
    this.#write(`repfilter: warning: ${message}`);
  }

  error(message: string): void {
    this.#write(`repfilter: error: ${message}`);
  }

  #write(line: string): void {
    this.#stream.write(`${new Date(this.#now()).toISOString()} ${line}\n`);
  }
}

/** Formats a duration in milliseconds as a short text: 850 ms, 42 s, 17 min, 5 h, 3 d. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 172_800_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / 86_400_000)} d`;
}
