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

  /**
   * Writes complete lines and waits while the stream is full. Returns true when the
   * stream no longer holds `bytes` (it wrote them synchronously), so the caller may
   * reuse the memory.
   */
  async write(bytes: Uint8Array): Promise<boolean> {
    if (bytes.length === 0 || this.#closed) return true;
    const accepted = this.#stream.write(bytes);
    const copied = this.#stream.writableLength === 0;
    if (!accepted) await this.#drained();
    return copied;
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
