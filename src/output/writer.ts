// Writing alert lines to stdout with backpressure, and ending quietly when the
// reader goes away (`repfilter ... | head -3`).

import type { Writable } from "node:stream";

export class LineWriter {
  readonly #stream: Writable;
  #closed = false;
  #failure: Error | undefined;

  constructor(stream: Writable) {
    this.#stream = stream;
    stream.on("error", (error: NodeJS.ErrnoException) => {
      this.#closed = true;
      // EPIPE means the reader exited; anything else is a real write failure.
      if (error.code !== "EPIPE" && error.code !== "ERR_STREAM_DESTROYED") this.#failure = error;
    });
  }

  /** True once the output can no longer be written (the reader closed the pipe). */
  get closed(): boolean {
    return this.#closed;
  }

  /** A write error other than a closed pipe, if one happened. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Writes the lines, each followed by a newline, and waits while the stream is full. */
  async write(lines: string[]): Promise<void> {
    if (lines.length === 0 || this.#closed) return;
    const text = lines.join("\n") + "\n";
    lines.length = 0;
    if (this.#stream.write(text)) return;
    await this.#drained();
  }

  /** Resolves on the first of drain, close or error. */
  #drained(): Promise<void> {
    const stream = this.#stream;
    return new Promise((resolve) => {
      const done = (): void => {
        stream.off("drain", done);
        stream.off("close", done);
        stream.off("error", done);
        resolve();
      };
      stream.on("drain", done);
      stream.on("close", done);
      stream.on("error", done);
    });
  }
}
