// Reading one input into the scanner: a named file, or stdin (a file when
// redirected, a pipe or socket otherwise). An input that starts with the gzip
// magic is decompressed as it streams in, whatever its name.

import { fstatSync, read } from "node:fs";
import { open } from "node:fs/promises";
import { Readable as ReadableStream } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import type { Scanner } from "../core/scanner.js";

export interface InputHooks {
  /**
   * Called after each chunk is framed with the input bytes it consumed (for gzip
   * input, the compressed bytes); resolves when its alerts are written.
   */
  afterChunk(bytesRead: number): Promise<void>;
  /** True when the run should stop reading (a signal, or stdout closed). */
  stopped(): boolean;
  /** The input's size in bytes when known (regular files), for progress. */
  setSize(bytes: number | undefined): void;
}

export type Readable = NodeJS.ReadableStream & { isTTY?: boolean; fd?: number };

/** A gzip input that could not be decompressed: corrupt, or cut short. */
export class GzipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GzipError";
  }
}

const GZIP_MAGIC_1 = 0x1f;
const GZIP_MAGIC_2 = 0x8b;
/** Bytes read at a time from a gzip file (the decompressed chunks are zlib's 16 KiB). */
const GZIP_READ_SIZE = 64 * 1024;

/** Reads into `target` from the current position; resolves with the byte count, 0 at the end. */
type ReadFunction = (target: Uint8Array) => Promise<number>;

/** Reads a named file straight into the core's window, or through gunzip. */
export async function readFileInput(path: string, scanner: Scanner, hooks: InputHooks): Promise<void> {
  const handle = await open(path, "r");
  try {
    const stats = await handle.stat();
    hooks.setSize(stats.isFile() ? stats.size : undefined);
    await readDirect(async (target) => (await handle.read(target, 0, target.length, null)).bytesRead, scanner, hooks);
  } finally {
    await handle.close();
  }
}

/** Reads stdin: a redirected file like a named one, anything else as a stream. */
export async function readStdinInput(stdin: Readable, scanner: Scanner, hooks: InputHooks): Promise<void> {
  const fd = stdin.fd;
  if (fd !== undefined && isRegularFile(fd)) {
    hooks.setSize(fstatSync(fd).size);
    await readDirect((target) => readFd(fd, target), scanner, hooks);
    return;
  }
  hooks.setSize(undefined);
  await readStream(stdin, scanner, hooks);
}

function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

function readFd(fd: number, target: Uint8Array): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    read(fd, target, 0, target.length, null, (error, count) => (error ? reject(error) : resolve(count)));
  });
}

function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === GZIP_MAGIC_1 && head[1] === GZIP_MAGIC_2;
}

/**
 * Reads with `readInto`: the first two bytes to tell gzip apart, then, for plain
 * captures, straight into the core's window with no copy.
 */
async function readDirect(readInto: ReadFunction, scanner: Scanner, hooks: InputHooks): Promise<void> {
  // A pipe opened by name may return one byte at a time, so read until two arrive.
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
    scanner.write(head.subarray(0, headLength));
    await hooks.afterChunk(headLength);
  }
  while (!hooks.stopped()) {
    const window = scanner.openWindow();
    const bytesRead = await readInto(window);
    if (bytesRead === 0) break;
    scanner.commit(bytesRead);
    await hooks.afterChunk(bytesRead);
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
    scanner.write(chunk);
    await hooks.afterChunk(chunk.length);
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
 * stream raises GzipError after the chunks before the damage were scanned.
 */
async function scanGzip(compressedChunks: AsyncIterable<Uint8Array>, scanner: Scanner, hooks: InputHooks): Promise<void> {
  let compressed = 0;
  let reported = 0;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of compressedChunks) {
      compressed += chunk.length;
      yield chunk;
    }
  }
  // An error thrown inside the last stage, or an early return from it, makes the
  // pipeline reject with an AbortError (Node 20), so the stage keeps its own error.
  let scanError: unknown;
  try {
    await pipeline(ReadableStream.from(counted()), createGunzip(), async (decompressed: AsyncIterable<Buffer>) => {
      for await (const chunk of decompressed) {
        try {
          scanner.write(chunk);
          await hooks.afterChunk(compressed - reported);
        } catch (error) {
          scanError = error;
          return;
        }
        reported = compressed;
        if (hooks.stopped()) return;
      }
    });
  } catch (error) {
    if (scanError === undefined && !hooks.stopped()) throw toGzipError(error);
  }
  if (scanError !== undefined) throw scanError;
  if (hooks.stopped()) return;
  if (compressed > reported) await hooks.afterChunk(compressed - reported);
}

/** Turns a zlib error into a GzipError; passes any other error through. */
function toGzipError(error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code !== "string" || !code.startsWith("Z_")) return error;
  const reason = (error as Error).message;
  if (code === "Z_BUF_ERROR") return new GzipError(`gzip data is cut short (${reason}); alerts up to the cut were printed`);
  return new GzipError(`gzip data is corrupt (${reason})`);
}
