// Reading one input into the scanner. Regular files and devices are read with
// fs.read straight into the core's window. Pipes, FIFOs and sockets are read
// through a net.Socket whose `onread` buffer is that same window: the event loop
// waits for data, so a signal can stop a run on a quiet link, and no Buffer is
// allocated per chunk.
// An input that starts with the gzip magic is decompressed as it streams in,
// whatever its name.

import { closeSync, constants, fstatSync, openSync, read, readSync } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import { Socket, type SocketConstructorOpts } from "node:net";
import { PassThrough } from "node:stream";
import type { Scanner } from "../core/scanner.js";
import { GzipDecoder, GzipError } from "./gzip.js";

export { GzipError };

export interface InputHooks {
  /** Counts bytes read from the input (for gzip input, the compressed bytes), before they are framed. */
  counted(bytesRead: number): void;
  /** Called after each chunk is framed; returns a promise when output must drain first. */
  afterChunk(): Promise<void> | undefined;
  /** True when the run should stop reading (a signal, or stdout closed). */
  stopped(): boolean;
  /** Resolves when the run should stop, to end a read that waits on a quiet pipe. */
  readonly stopping: Promise<void>;
  /** The input's size in bytes when known (regular files), for progress. */
  setSize(bytes: number | undefined): void;
  /** Reports a problem that does not stop the input. */
  warning(message: string): void;
}

export type Readable = NodeJS.ReadableStream & { isTTY?: boolean; fd?: number; destroy?(): void };

export interface StdinSource {
  /** A descriptor to read directly (0 in the real command); tests pass streams instead. */
  fd?: number;
  /** The stdin stream, used when there is no descriptor. */
  stream(): Readable;
}

const GZIP_MAGIC_1 = 0x1f;
const GZIP_MAGIC_2 = 0x8b;
/** Bytes read at a time for gzip input and for the first read of a pipe. */
const GZIP_READ_SIZE = 64 * 1024;

/** `onread` is accepted by the constructor since Node 15.8, but @types/node 20 types it only for connect(). */
type SocketOptionsWithOnread = SocketConstructorOpts & {
  onread: { buffer: () => Uint8Array; callback: (bytesRead: number, buffer: Uint8Array) => boolean };
};

/** Reads into `target` from the current position; resolves with the byte count, 0 at the end. */
type ReadFunction = (target: Uint8Array) => Promise<number>;

/** Reads a named file, FIFO or device. */
export async function readFileInput(path: string, scanner: Scanner, hooks: InputHooks): Promise<void> {
  const kind = await stat(path);
  // open() would succeed on a directory and fail with a bare ENXIO on a socket.
  if (kind.isDirectory()) throw fileTypeError("EISDIR", path);
  if (kind.isSocket()) throw fileTypeError("ERR_UNIX_SOCKET", path);
  const handle = kind.isFIFO() ? await openFifo(path, hooks) : await open(path, "r");
  if (handle === undefined) return;
  const stats = await handle.stat().catch(async (error: unknown) => {
    await handle.close();
    throw error;
  });
  if (stats.isDirectory()) {
    await handle.close();
    throw fileTypeError("EISDIR", path);
  }
  if (!stats.isFile() && !stats.isCharacterDevice() && !stats.isBlockDevice()) {
    // The socket takes over the descriptor and closes it when done.
    await readStreamDescriptor(handle.fd, scanner, hooks);
    return;
  }
  try {
    hooks.setSize(stats.isFile() ? stats.size : undefined);
    const readInto = stats.isFile() ? regularFileReader(handle.fd) : async (target: Uint8Array) => (await handle.read(target, 0, target.length, null)).bytesRead;
    await readDirect(readInto, scanner, hooks);
  } finally {
    await handle.close();
  }
}

/** Reads stdin: a redirected file or device like a named one, a pipe or socket through the event loop. */
export async function readStdinInput(stdin: StdinSource, scanner: Scanner, hooks: InputHooks): Promise<void> {
  const fd = stdin.fd;
  if (fd === undefined) {
    hooks.setSize(undefined);
    await readStream(stdin.stream(), scanner, hooks);
    return;
  }
  const stats = fstatSync(fd);
  if (stats.isDirectory()) throw fileTypeError("EISDIR", "stdin");
  if (stats.isCharacterDevice() || stats.isBlockDevice()) {
    // A net.Socket rejects a device (ERR_INVALID_FD_TYPE): read /dev/null or /dev/zero in the thread pool.
    hooks.setSize(undefined);
    await readDirect(descriptorReader(fd), scanner, hooks);
    return;
  }
  if (!stats.isFile()) {
    await readStreamDescriptor(fd, scanner, hooks);
    return;
  }
  hooks.setSize(stats.size);
  await readDirect(regularFileReader(fd), scanner, hooks);
}

function fileTypeError(code: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${path}: ${code}`), { code, path });
}

/**
 * Opens a FIFO for reading. The open waits in the thread pool until a writer
 * opens the FIFO, and no signal interrupts it. So when the run is stopped first,
 * this opens the FIFO for writing itself, without blocking, which completes the
 * pending open, and closes both ends. Returns undefined when the run stopped.
 */
async function openFifo(path: string, hooks: InputHooks): Promise<FileHandle | undefined> {
  let settled = false;
  const opening = open(path, "r").finally(() => {
    settled = true;
  });
  void hooks.stopping.then(() => releasePendingOpen(path, () => settled));
  const handle = await opening;
  if (!hooks.stopped()) return handle;
  await handle.close();
  return undefined;
}

/** Opens and closes the write end of a FIFO until the pending read open has returned. */
async function releasePendingOpen(path: string, settled: () => boolean): Promise<void> {
  while (!settled()) {
    try {
      closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch (error) {
      // ENXIO: no reader yet, because the pending open has not reached the kernel; try again.
      if ((error as NodeJS.ErrnoException).code !== "ENXIO") return;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Reads the event loop gets a turn after: 32 reads of up to 1 MiB each, some milliseconds of work. */
const READS_BETWEEN_TURNS = 32;

/**
 * Returns a reader for a regular file that reads synchronously, yielding to the
 * event loop every READS_BETWEEN_TURNS reads for signals and progress. A read of a
 * regular file never waits long, and skipping the thread pool's round trip per
 * read made a 1 GB scan 25% faster on the benchmark machine (see BENCHMARKS.md).
 */
function regularFileReader(fd: number): ReadFunction {
  let reads = 0;
  return async (target) => {
    if (++reads % READS_BETWEEN_TURNS === 0) await new Promise((resolve) => setImmediate(resolve));
    return readSync(fd, target, 0, target.length, null);
  };
}

/** Returns a reader for a device, whose reads run in the thread pool. */
function descriptorReader(fd: number): ReadFunction {
  return (target) =>
    new Promise((resolve, reject) => {
      read(fd, target, 0, target.length, null, (error, bytesRead) => (error === null ? resolve(bytesRead) : reject(error)));
    });
}

function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === GZIP_MAGIC_1 && head[1] === GZIP_MAGIC_2;
}

/**
 * Reads a file with `readInto`: the first two bytes to tell gzip apart, then, for
 * plain captures, straight into the core's window with no copy.
 */
async function readDirect(readInto: ReadFunction, scanner: Scanner, hooks: InputHooks): Promise<void> {
  // A device may return one byte at a time, so read until two arrive.
  const head = Buffer.alloc(2);
  let headLength = 0;
  while (headLength < head.length) {
    const count = await readInto(head.subarray(headLength));
    if (count === 0) break;
    headLength += count;
  }
  if (isGzip(head)) {
    await scanGzip(fileChunks(head, readInto), scanner, hooks);
    return;
  }
  if (headLength > 0) {
    hooks.counted(headLength);
    scanner.write(head.subarray(0, headLength));
    await hooks.afterChunk();
  }
  while (!hooks.stopped()) {
    const window = scanner.openWindow();
    const bytesRead = await readInto(window);
    if (bytesRead === 0) break;
    hooks.counted(bytesRead);
    scanner.commit(bytesRead);
    await hooks.afterChunk();
  }
}

async function* fileChunks(head: Uint8Array, readInto: ReadFunction): AsyncGenerator<Uint8Array> {
  yield head;
  while (true) {
    const chunk = Buffer.allocUnsafe(GZIP_READ_SIZE);
    const count = await readInto(chunk);
    if (count === 0) return;
    yield chunk.subarray(0, count);
  }
}

/**
 * Reads a pipe, FIFO or socket descriptor. The first read goes to a small buffer
 * to tell gzip apart; after that a plain capture is read straight into the core's
 * window, and a gzip one into a reused buffer that feeds gunzip.
 */
function readStreamDescriptor(fd: number, scanner: Scanner, hooks: InputHooks): Promise<void> {
  hooks.setSize(undefined);
  return new Promise<void>((resolve, reject) => {
    let mode: "head" | "plain" | "gzip" = "head";
    let failure: unknown;
    let head = Buffer.alloc(0);
    const scratch = Buffer.allocUnsafe(GZIP_READ_SIZE);
    const compressed = new PassThrough();
    let gzipDone: Promise<void> = Promise.resolve();

    const fail = (error: unknown): false => {
      failure ??= error;
      socket.destroy();
      return false;
    };
    // Holds further reads until `waiting` settles (alerts written, gunzip drained).
    const hold = (waiting: Promise<unknown>): false => {
      socket.pause();
      void waiting.then(() => socket.resume());
      return false;
    };
    const framePlain = (bytes: Uint8Array | number): boolean => {
      hooks.counted(typeof bytes === "number" ? bytes : bytes.length);
      try {
        if (typeof bytes === "number") scanner.commit(bytes);
        else scanner.write(bytes);
      } catch (error) {
        return fail(error);
      }
      const waiting = hooks.afterChunk();
      if (hooks.stopped()) return fail(undefined);
      return waiting === undefined ? true : hold(waiting);
    };
    const feedGzip = (bytes: Uint8Array): boolean => (compressed.write(bytes) ? true : hold(new Promise((drained) => compressed.once("drain", drained))));

    const options: SocketOptionsWithOnread = {
      fd,
      readable: true,
      writable: false,
      onread: {
        buffer: () => (mode === "plain" ? scanner.openWindow() : scratch),
        callback: (bytesRead, buffer) => {
          if (mode === "plain") return framePlain(bytesRead);
          if (mode === "gzip") return feedGzip(Buffer.from(buffer.subarray(0, bytesRead)));
          head = Buffer.concat([head, buffer.subarray(0, bytesRead)]);
          if (head.length < 2) return true;
          if (isGzip(head)) {
            mode = "gzip";
            // When the decoder stops (the end, an error, a closed stdout), so does the socket:
            // otherwise a full PassThrough would hold it paused for ever.
            gzipDone = scanGzip(compressed, scanner, hooks).then(
              () => void socket.destroy(),
              (error: unknown) => void fail(error),
            );
            return feedGzip(head);
          }
          mode = "plain";
          return framePlain(head);
        },
      },
    };
    const socket = new Socket(options);
    void hooks.stopping.then(() => socket.destroy());
    socket.on("error", (error) => {
      failure ??= error;
    });
    socket.on("end", () => {
      // A lone first byte never reached the scanner; frame it so the core can report it.
      if (mode === "head" && head.length > 0) framePlain(head);
      compressed.end();
      socket.destroy();
    });
    socket.on("close", () => {
      compressed.end();
      void gzipDone.then(() => (failure === undefined ? resolve() : reject(failure)));
    });
  });
}

/** Reads a stream chunk by chunk, through gunzip when its first two bytes are the gzip magic. */
async function readStream(stream: Readable, scanner: Scanner, hooks: InputHooks): Promise<void> {
  const iterator = (stream as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let headLength = 0;
  while (headLength < 2) {
    const next = await iterator.next();
    if (next.done === true) break;
    const chunk = toBytes(next.value);
    head.push(chunk);
    headLength += chunk.length;
  }
  const chunks = streamChunks(head, iterator);
  if (isGzip(Buffer.concat(head))) {
    await scanGzip(chunks, scanner, hooks);
    return;
  }
  for await (const chunk of chunks) {
    hooks.counted(chunk.length);
    scanner.write(chunk);
    await hooks.afterChunk();
    if (hooks.stopped()) break;
  }
}

/** Yields the chunks read ahead, then the rest of the stream; ending early ends the stream. */
async function* streamChunks(head: Uint8Array[], iterator: AsyncIterator<Buffer | string>): AsyncGenerator<Uint8Array> {
  let finished = false;
  try {
    yield* head;
    while (true) {
      const next = await iterator.next();
      if (next.done === true) break;
      yield toBytes(next.value);
    }
    finished = true;
  } finally {
    if (!finished) await iterator.return?.();
  }
}

function toBytes(chunk: Buffer | string): Uint8Array {
  return typeof chunk === "string" ? Buffer.from(chunk) : chunk;
}

/**
 * Decompresses a gzip stream (concatenated members too, as gunzip does) and scans
 * each decompressed chunk as it comes, so memory stays bounded. A corrupt or cut
 * stream raises GzipError after the chunks before the damage were scanned. Data
 * after the last member is ignored with a warning, as gzip does; zero padding
 * silently.
 */
async function scanGzip(compressedChunks: AsyncIterable<Uint8Array>, scanner: Scanner, hooks: InputHooks): Promise<void> {
  const decoder = new GzipDecoder((chunk) => {
    scanner.write(chunk);
    return hooks.afterChunk();
  });
  for await (const chunk of compressedChunks) {
    hooks.counted(chunk.length);
    await decoder.write(chunk);
    if (hooks.stopped()) return;
  }
  const end = await decoder.end();
  if (end.trailingBytes > 0 && !end.trailingZeros) {
    hooks.warning(`${end.trailingBytes} bytes after the end of the gzip data were ignored`);
  }
}
