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
   * True when the stream no longer holds the bytes of the last `write`: it wrote
   * them synchronously, as Node does for files and for pipes on Linux, so the
   * caller may reuse that memory.
   */
  released = false;

  /** Writes complete lines. Returns a promise to wait on when the stream is full. */
  write(bytes: Uint8Array): Promise<void> | undefined {
    this.released = true;
    if (bytes.length === 0 || this.#closed) return undefined;
    const accepted = this.#stream.write(bytes);
    this.released = this.#stream.writableLength === 0;
    return accepted ? undefined : this.#drained();
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
