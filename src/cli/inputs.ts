// Reading one input into the scanner. Regular files are read with fs.read straight
// into the core's window. Pipes, FIFOs and sockets are read through a net.Socket
// whose `onread` buffer is that same window: the event loop waits for data, so a
// signal can stop a run on a quiet link, and no Buffer is allocated per chunk.

import { fstatSync, read } from "node:fs";
import { open } from "node:fs/promises";
import { Socket, type SocketConstructorOpts } from "node:net";

/** `onread` is accepted by the constructor since Node 15.8, but @types/node 20 types it only for connect(). */
type SocketOptionsWithOnread = SocketConstructorOpts & {
  onread: { buffer: () => Uint8Array; callback: (bytesRead: number, buffer: Uint8Array) => boolean };
};
import type { Scanner } from "../core/scanner.js";

export interface InputHooks {
  /** Called after each chunk is framed; returns a promise when output must drain first. */
  afterChunk(bytesRead: number): Promise<void> | undefined;
  /** True when the run should stop reading (a signal, or stdout closed). */
  stopped(): boolean;
  /** Resolves when the run should stop, to end a read that waits on a quiet pipe. */
  readonly stopping: Promise<void>;
  /** The input's size in bytes when known (regular files), for progress. */
  setSize(bytes: number | undefined): void;
}

export type Readable = NodeJS.ReadableStream & { isTTY?: boolean; fd?: number; destroy?(): void };

export interface StdinSource {
  /** A descriptor to read directly (0 in the real command); tests pass streams instead. */
  fd?: number;
  /** The stdin stream, used when there is no descriptor. */
  stream(): Readable;
}

/** Reads a named file, FIFO or device. */
export async function readFileInput(path: string, scanner: Scanner, hooks: InputHooks): Promise<void> {
  // Opening a FIFO waits for its writer; everything after the open can be stopped.
  const handle = await open(path, "r");
  const stats = await handle.stat().catch(async (error: unknown) => {
    await handle.close();
    throw error;
  });
  if (!stats.isFile() && !stats.isCharacterDevice() && !stats.isBlockDevice()) {
    // The socket takes over the descriptor and closes it when done.
    await readStreamDescriptor(handle.fd, scanner, hooks);
    return;
  }
  try {
    hooks.setSize(stats.isFile() ? stats.size : undefined);
    await readDescriptor(handle.fd, scanner, hooks);
  } finally {
    await handle.close();
  }
}

/** Reads stdin: a redirected file like a named one, a pipe or socket through the event loop. */
export async function readStdinInput(stdin: StdinSource, scanner: Scanner, hooks: InputHooks): Promise<void> {
  if (stdin.fd === undefined) {
    await readStream(stdin.stream(), scanner, hooks);
    return;
  }
  const stats = fstatSync(stdin.fd);
  if (stats.isFile()) {
    hooks.setSize(stats.size);
    await readDescriptor(stdin.fd, scanner, hooks);
    return;
  }
  await readStreamDescriptor(stdin.fd, scanner, hooks);
}

/** Reads a regular file or device with fs.read into the core's window. */
async function readDescriptor(fd: number, scanner: Scanner, hooks: InputHooks): Promise<void> {
  while (!hooks.stopped()) {
    const window = scanner.openWindow();
    const bytesRead = await new Promise<number>((resolve, reject) => {
      read(fd, window, 0, window.length, null, (error, count) => (error ? reject(error) : resolve(count)));
    });
    if (bytesRead === 0) break;
    scanner.commit(bytesRead);
    await hooks.afterChunk(bytesRead);
  }
}

/** Reads a pipe, FIFO or socket descriptor through a socket that fills the core's window. */
function readStreamDescriptor(fd: number, scanner: Scanner, hooks: InputHooks): Promise<void> {
  hooks.setSize(undefined);
  return new Promise<void>((resolve, reject) => {
    let failure: unknown;
    const options: SocketOptionsWithOnread = {
      fd,
      readable: true,
      writable: false,
      onread: {
        buffer: () => scanner.openWindow(),
        callback: (bytesRead: number) => {
          try {
            scanner.commit(bytesRead);
          } catch (error) {
            failure = error;
            socket.destroy();
            return false;
          }
          const waiting = hooks.afterChunk(bytesRead);
          if (hooks.stopped()) {
            socket.destroy();
            return false;
          }
          if (waiting === undefined) return true;
          // Hold further reads until the alerts of this chunk are written.
          socket.pause();
          void waiting.then(() => socket.resume());
          return false;
        },
      },
    };
    const socket = new Socket(options);
    void hooks.stopping.then(() => socket.destroy());
    socket.on("error", (error) => {
      failure ??= error;
    });
    socket.on("close", () => (failure === undefined ? resolve() : reject(failure)));
    socket.on("end", () => socket.destroy());
  });
}

/** Reads a stream of Buffers (stdin in tests that call `main` in-process). */
async function readStream(stream: Readable, scanner: Scanner, hooks: InputHooks): Promise<void> {
  hooks.setSize(undefined);
  for await (const chunk of stream) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Uint8Array);
    scanner.write(bytes);
    await hooks.afterChunk(bytes.length);
    if (hooks.stopped()) break;
  }
}
