// Messages on stderr: errors, warnings and notes, each one line prefixed with the
// program name, plus an optional status line that is cleared before each message.

import type { Writable } from "node:stream";

export class Diagnostics {
  readonly #stream: Writable;
  #statusShown = false;
  errors = 0;

  constructor(stream: Writable) {
    this.#stream = stream;
  }

  error(message: string): void {
    this.errors++;
    this.#line(`repfilter: error: ${message}`);
  }

  warning(message: string): void {
    this.#line(`repfilter: warning: ${message}`);
  }

  info(message: string): void {
    this.#line(`repfilter: ${message}`);
  }

  /** Replaces the status line (a terminal only: it uses a carriage return and erase-line). */
  status(text: string): void {
    this.#stream.write(`\r\x1b[K${text}`);
    this.#statusShown = true;
  }

  clearStatus(): void {
    if (!this.#statusShown) return;
    this.#stream.write("\r\x1b[K");
    this.#statusShown = false;
  }

  #line(text: string): void {
    this.clearStatus();
    this.#stream.write(`${text}\n`);
  }
}
