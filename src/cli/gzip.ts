// A gzip decoder that reads the member headers and trailers itself (RFC 1952) and
// lets zlib inflate only the compressed data in between. zlib's own gunzip stream
// drops the output of a whole write when data after the last member is not
// another member, and that output may contain alerts. Here every byte of every
// complete member is delivered before the bytes after it are examined.

import { createInflateRaw, crc32, type InflateRaw } from "node:zlib";

/** A gzip input that could not be decompressed: corrupt, or cut short. */
export class GzipError extends Error {
  /** ERR_GZIP_TRUNCATED for data cut short, ERR_GZIP_CORRUPT for anything else. */
  readonly code: "ERR_GZIP_TRUNCATED" | "ERR_GZIP_CORRUPT";

  constructor(message: string, code: GzipError["code"] = "ERR_GZIP_CORRUPT") {
    super(message);
    this.name = "GzipError";
    this.code = code;
  }
}

/** The result of a finished input: member count and the bytes after the last member. */
export interface GzipEnd {
  members: number;
  /** Bytes after the last member that are not a gzip member (gzip ignores them with a warning). */
  trailingBytes: number;
  /** True when those bytes are all zeros, as tape and block devices pad files. */
  trailingZeros: boolean;
}

const FLAG_HEADER_CRC = 2;
const FLAG_EXTRA = 4;
const FLAG_NAME = 8;
const FLAG_COMMENT = 16;
const RESERVED_FLAGS = 0xe0;
/** A header longer than this (file name and comment included) is taken as damage. */
const MAX_HEADER_LENGTH = 64 * 1024;
const TRAILER_LENGTH = 8;

type State = "header" | "body" | "trailer" | "trailing";

export class GzipDecoder {
  readonly #deliver: (chunk: Buffer) => Promise<void> | undefined;
  #state: State = "header";
  #pending: Buffer = Buffer.alloc(0);
  #inflater: InflateRaw | undefined;
  #inflaterEnded = false;
  #failure: unknown;
  #waiting: Promise<void> | undefined;
  #crc = 0;
  #size = 0;
  #members = 0;
  #trailingBytes = 0;
  #trailingZeros = true;

  /** `deliver` receives each decompressed chunk and may return a promise to wait on (output draining). */
  constructor(deliver: (chunk: Buffer) => Promise<void> | undefined) {
    this.#deliver = deliver;
  }

  /** Decompresses `chunk` and resolves when its output was delivered. Throws GzipError or the error of `deliver`. */
  async write(chunk: Uint8Array): Promise<void> {
    let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (data.length > 0) {
      if (this.#state === "trailing") {
        this.#noteTrailing(data);
        return;
      }
      if (this.#state === "header") data = this.#readHeader(data);
      else if (this.#state === "body") data = await this.#inflate(data);
      else data = this.#readTrailer(data);
    }
  }

  /** Checks the end of the input and throws GzipError for a member cut short. */
  async end(): Promise<GzipEnd> {
    const pending = this.#pending;
    // A header begun but not finished is a member cut short, unless it is not a header at all.
    const headerBegun = pending.length > 0 && pending[0] === 0x1f && (pending.length < 2 || pending[1] === 0x8b);
    const cut = this.#state === "body" || this.#state === "trailer" || (this.#state === "header" && (headerBegun || (pending.length > 0 && this.#members === 0)));
    if (cut) throw new GzipError("gzip data is cut short (unexpected end of file), so only the alerts before the cut were printed", "ERR_GZIP_TRUNCATED");
    if (this.#state === "header" && pending.length > 0) this.#noteTrailing(pending);
    return { members: this.#members, trailingBytes: this.#trailingBytes, trailingZeros: this.#trailingZeros };
  }

  /** Parses a member header from the pending bytes and `data`, and returns the bytes after it. */
  #readHeader(data: Buffer): Buffer {
    const bytes = this.#pending.length > 0 ? Buffer.concat([this.#pending, data]) : data;
    if (bytes.length >= 2 && (bytes[0] !== 0x1f || bytes[1] !== 0x8b)) {
      if (this.#members === 0) throw new GzipError("not gzip data (no 1f 8b magic)");
      this.#pending = Buffer.alloc(0);
      this.#state = "trailing";
      this.#noteTrailing(bytes);
      return Buffer.alloc(0);
    }
    const length = headerLength(bytes);
    if (length === undefined) {
      if (bytes.length > MAX_HEADER_LENGTH) throw new GzipError(`gzip member ${this.#members + 1} has a header longer than ${MAX_HEADER_LENGTH} bytes`);
      this.#pending = Buffer.from(bytes);
      return Buffer.alloc(0);
    }
    if (bytes[2] !== 8) throw new GzipError(`gzip member ${this.#members + 1} uses compression method ${bytes[2]}, not deflate (8)`);
    if ((bytes[3]! & RESERVED_FLAGS) !== 0) throw new GzipError(`gzip member ${this.#members + 1} sets reserved header flags`);
    this.#pending = Buffer.alloc(0);
    this.#startMember();
    return bytes.subarray(length);
  }

  #startMember(): void {
    this.#crc = 0;
    this.#size = 0;
    this.#inflaterEnded = false;
    const inflater = createInflateRaw();
    inflater.on("data", (chunk: Buffer) => this.#onData(chunk));
    inflater.on("end", () => {
      this.#inflaterEnded = true;
    });
    inflater.on("error", (error: NodeJS.ErrnoException) => {
      this.#failure ??= new GzipError(`gzip data is corrupt (${error.message})`);
    });
    this.#inflater = inflater;
    this.#state = "body";
  }

  #onData(chunk: Buffer): void {
    if (this.#failure !== undefined) return;
    this.#crc = crc32(chunk, this.#crc);
    this.#size = (this.#size + chunk.length) % 2 ** 32;
    try {
      const waiting = this.#deliver(chunk);
      if (waiting !== undefined) {
        // Stop inflating until the output has drained.
        this.#inflater!.pause();
        this.#waiting = waiting.then(() => {
          this.#inflater?.resume();
        });
      }
    } catch (error) {
      this.#failure = error;
    }
  }

  /** Feeds deflate data to zlib and returns the bytes after the end of the member's deflate stream. */
  async #inflate(data: Buffer): Promise<Buffer> {
    const inflater = this.#inflater!;
    const consumedBefore = inflater.bytesWritten;
    try {
      if (this.#failure === undefined) {
        // zlib never calls back a write that it failed on, so its error settles the wait too.
        await new Promise<void>((resolve) => {
          const settle = (): void => {
            inflater.off("error", settle);
            resolve();
          };
          inflater.once("error", settle);
          inflater.write(data, settle);
        });
      }
      while (this.#waiting !== undefined) {
        const waiting = this.#waiting;
        await waiting;
        if (this.#waiting === waiting) this.#waiting = undefined;
      }
    } catch (error) {
      this.#failure ??= error;
    }
    if (this.#failure !== undefined) {
      inflater.destroy();
      this.#inflater = undefined;
      throw this.#failure;
    }
    if (!this.#inflaterEnded) return Buffer.alloc(0);
    // zlib stops at the end of the deflate stream, so the bytes it did not consume start with the trailer.
    const consumed = inflater.bytesWritten - consumedBefore;
    this.#inflater = undefined;
    this.#state = "trailer";
    return data.subarray(consumed);
  }

  /** Checks the CRC-32 and length in the 8-byte trailer and returns the bytes after it. */
  #readTrailer(data: Buffer): Buffer {
    const bytes = this.#pending.length > 0 ? Buffer.concat([this.#pending, data]) : data;
    if (bytes.length < TRAILER_LENGTH) {
      this.#pending = Buffer.from(bytes);
      return Buffer.alloc(0);
    }
    const member = this.#members + 1;
    if (bytes.readUInt32LE(0) !== this.#crc) throw new GzipError(`gzip member ${member} failed its CRC-32 check, so the data is corrupt`);
    if (bytes.readUInt32LE(4) !== this.#size) throw new GzipError(`gzip member ${member} has a length field that does not match its data, so the data is corrupt`);
    this.#pending = Buffer.alloc(0);
    this.#members++;
    this.#state = "header";
    return bytes.subarray(TRAILER_LENGTH);
  }

  #noteTrailing(bytes: Uint8Array): void {
    this.#trailingBytes += bytes.length;
    if (this.#trailingZeros && bytes.some((byte) => byte !== 0)) this.#trailingZeros = false;
  }
}

/** Returns the length of the member header at the start of `bytes`, or undefined when it is not all there. */
function headerLength(bytes: Uint8Array): number | undefined {
  if (bytes.length < 10) return undefined;
  const flags = bytes[3]!;
  let at = 10;
  if ((flags & FLAG_EXTRA) !== 0) {
    if (bytes.length < at + 2) return undefined;
    at += 2 + (bytes[at]! | (bytes[at + 1]! << 8));
  }
  for (const flag of [FLAG_NAME, FLAG_COMMENT]) {
    if ((flags & flag) === 0) continue;
    const end = bytes.indexOf(0, at);
    if (end < 0) return undefined;
    at = end + 1;
  }
  if ((flags & FLAG_HEADER_CRC) !== 0) at += 2;
  return bytes.length >= at ? at : undefined;
}
