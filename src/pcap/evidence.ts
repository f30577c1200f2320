// The evidence file of --write-pcap: every matched packet, suppressed repeats
// included, with its original timestamp, captured bytes and length on the wire.
//
// The file is a classic pcap while every packet has one link type, so that any
// tool reads it, with nanosecond timestamps once a packet carries more than six
// digits. Packets arrive while the capture streams, so the format is fixed by the
// first packet. When a later packet needs more (another link type, finer
// timestamps, a time past 2106), the file written so far is converted: to
// nanosecond pcap, or to pcapng with one interface per link type. An output that
// is not a regular file (a pipe or a device), or stdout, cannot be rewritten, so
// it gets pcapng from the start.

import { randomBytes } from "node:crypto";
import { open, rename, rm, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Writable } from "node:stream";
import type { HitBatch } from "../core/hits.js";
import { enhancedPacketBlock, interfaceDescriptionBlock, sectionHeaderBlock } from "./pcapng-writer.js";
import { PCAP_FILE_HEADER_LENGTH, PCAP_RECORD_HEADER_LENGTH, pcapFileHeader, pcapRecordHeader } from "./writer.js";

/** One packet waiting to be written. */
interface PendingPacket {
  linkType: number;
  tsSec: number;
  tsFrac: number;
  tsDigits: number;
  origLen: number;
  data: Uint8Array;
}

type Mode = { kind: "none" } | { kind: "pcap"; linkType: number; nanoseconds: boolean } | { kind: "pcapng"; interfaces: Map<number, number> };

const LINKTYPE_ETHERNET = 1;
const MAX_PCAP_SECONDS = 0xffffffff;
/** The snaplen written in classic headers: libpcap's maximum, the core's caplen limit too. */
const SNAPLEN = 262144;
/** if_tsresol 9: timestamps count nanoseconds. */
const NANOSECOND_RESOLUTION = 9;
const COPY_CHUNK_LENGTH = 1 << 20;

export class EvidenceWriter {
  /** The file's path, or "-" for stdout. */
  readonly path: string;
  readonly #regularFile: boolean;
  /** The open file; undefined when the evidence goes to `#stream`. */
  #handle: FileHandle | undefined;
  readonly #stream: Writable | undefined;
  #mode: Mode = { kind: "none" };
  #pending: PendingPacket[] = [];
  #lastInput = -1;
  #lastPacket = -1;
  #input = 0;
  #firstLinkType: number | undefined;
  #writing: Promise<void> | undefined;
  /** The first write error; nothing is written after it. */
  failure: Error | undefined;
  /** Packets written or waiting to be written. */
  packets = 0;

  private constructor(path: string, target: { handle: FileHandle; regularFile: boolean } | { stream: Writable }) {
    this.path = path;
    if ("stream" in target) {
      this.#stream = target.stream;
      this.#regularFile = false;
    } else {
      this.#handle = target.handle;
      this.#regularFile = target.regularFile;
    }
  }

  /** Writes the evidence to a stream, stdout for `--write-pcap -`, as pcapng. The stream is not closed. */
  static toStream(stream: Writable): EvidenceWriter {
    return new EvidenceWriter("-", { stream });
  }

  /** True when the evidence goes to a stream whose reader has gone (EPIPE), as with `| head`. */
  get readerClosed(): boolean {
    return this.#stream !== undefined && (this.failure as NodeJS.ErrnoException | undefined)?.code === "EPIPE";
  }

  /** Creates or truncates the file. Throws the open error (ENOENT, EACCES, ...). */
  static async open(path: string): Promise<EvidenceWriter> {
    const handle = await open(path, "w");
    try {
      const stats = await handle.stat();
      return new EvidenceWriter(path, { handle, regularFile: stats.isFile() });
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Starts a new input, whose packet numbers start again at 1. */
  beginInput(): void {
    this.#input++;
  }

  /** Records a link type the capture declared, for the header of a file that gets no packet. */
  noteLinkType(linkType: number): void {
    this.#firstLinkType ??= linkType;
  }

  /**
   * Copies the packet of `hit`. A packet with several hits (an outer and a
   * tunneled header) is kept once: its hits are consecutive in a batch.
   */
  add(batch: HitBatch, hit: number): void {
    const packet = batch.packetNumber(hit);
    if (packet === this.#lastPacket && this.#input === this.#lastInput) return;
    this.#lastPacket = packet;
    this.#lastInput = this.#input;
    this.#pending.push({
      linkType: batch.linkType(hit),
      tsSec: batch.tsSeconds(hit),
      tsFrac: batch.tsFraction(hit),
      tsDigits: batch.tsDigits(hit),
      origLen: batch.origLen(hit),
      data: batch.packetData(hit).slice(),
    });
    this.packets++;
  }

  /**
   * Writes the waiting packets. Returns a promise to wait on before reading more,
   * which bounds the memory held. It never rejects: a failure is kept in
   * `failure`, and the caller stops the run.
   */
  flush(): Promise<void> | undefined {
    if (this.#pending.length === 0 || this.failure !== undefined) return this.#writing;
    const packets = this.#pending;
    this.#pending = [];
    const writing = (this.#writing ?? Promise.resolve())
      .then(() => this.#write(packets))
      .catch((error: unknown) => {
        this.failure ??= error as Error;
      });
    this.#writing = writing;
    void writing.then(() => {
      if (this.#writing === writing) this.#writing = undefined;
    });
    return writing;
  }

  /** Writes what is left, a header when no packet came, and closes the file. */
  async close(): Promise<void> {
    await this.flush();
    try {
      if (this.failure === undefined && this.#mode.kind === "none") {
        await this.#writeAll(pcapFileHeader({ linkType: this.#firstLinkType ?? LINKTYPE_ETHERNET, snaplen: SNAPLEN }));
      }
    } catch (error) {
      this.failure ??= error as Error;
    }
    try {
      await this.#handle?.close();
    } catch (error) {
      this.failure ??= error as Error;
    }
  }

  async #write(packets: PendingPacket[]): Promise<void> {
    if (this.failure !== undefined) return;
    const parts: Uint8Array[] = [];
    for (const packet of packets) {
      const needed = this.#modeFor(packet);
      if (needed !== undefined) {
        await this.#writeAll(Buffer.concat(parts.splice(0)));
        await this.#changeMode(needed);
      }
      parts.push(...this.#encode(packet));
    }
    await this.#writeAll(Buffer.concat(parts));
  }

  /** Returns the mode the file must change to before `packet` can be written, if any. */
  #modeFor(packet: PendingPacket): Mode | undefined {
    const mode = this.#mode;
    if (mode.kind === "pcapng") return undefined;
    if (mode.kind === "none") {
      if (!this.#regularFile || packet.tsSec > MAX_PCAP_SECONDS) return { kind: "pcapng", interfaces: new Map() };
      return { kind: "pcap", linkType: packet.linkType, nanoseconds: packet.tsDigits > 6 };
    }
    if (packet.linkType !== mode.linkType || packet.tsSec > MAX_PCAP_SECONDS) return { kind: "pcapng", interfaces: new Map() };
    if (packet.tsDigits > 6 && !mode.nanoseconds) return { ...mode, nanoseconds: true };
    return undefined;
  }

  async #changeMode(mode: Mode): Promise<void> {
    const previous = this.#mode;
    this.#mode = mode;
    if (previous.kind === "none") {
      await this.#writeAll(this.#fileHeader(mode));
      return;
    }
    if (previous.kind === "pcap") await this.#convert(previous);
  }

  #fileHeader(mode: Mode): Uint8Array {
    if (mode.kind === "pcap") return pcapFileHeader({ linkType: mode.linkType, snaplen: SNAPLEN, nanoseconds: mode.nanoseconds });
    return sectionHeaderBlock();
  }

  #encode(packet: PendingPacket): Uint8Array[] {
    const mode = this.#mode;
    const seconds = Math.max(0, Math.floor(packet.tsSec));
    if (mode.kind === "pcap") {
      const tsFrac = scaleFraction(packet.tsFrac, packet.tsDigits, mode.nanoseconds ? 9 : 6);
      return [pcapRecordHeader({ tsSec: seconds, tsFrac, data: packet.data, origLen: packet.origLen }), packet.data];
    }
    if (mode.kind !== "pcapng") throw new Error("evidence file has no format yet");
    const blocks: Uint8Array[] = [];
    let interfaceId = mode.interfaces.get(packet.linkType);
    if (interfaceId === undefined) {
      interfaceId = mode.interfaces.size;
      mode.interfaces.set(packet.linkType, interfaceId);
      blocks.push(interfaceDescriptionBlock({ linkType: packet.linkType, snaplen: 0, tsresol: NANOSECOND_RESOLUTION }));
    }
    // NOTE: a time before 1970 (a negative if_tsoffset) is written as 1970-01-01.
    const timestamp = BigInt(seconds) * 1_000_000_000n + BigInt(scaleFraction(packet.tsFrac, packet.tsDigits, 9));
    blocks.push(enhancedPacketBlock({ interfaceId, timestamp, data: packet.data, origLen: packet.origLen }));
    return blocks;
  }

  /**
   * Rewrites the classic pcap written so far in the current mode: reads it back
   * record by record into a temporary file beside it, renames that over it, and
   * goes on appending.
   */
  async #convert(previous: Extract<Mode, { kind: "pcap" }>): Promise<void> {
    await this.#handle?.close();
    const temporary = join(dirname(this.path), `.${basename(this.path)}.${randomBytes(6).toString("hex")}.tmp`);
    const source = await open(this.path, "r");
    const target = await open(temporary, "w");
    try {
      this.#handle = target;
      await this.#writeAll(this.#fileHeader(this.#mode));
      for await (const packet of readOwnPcap(source, previous)) await this.#writeAll(Buffer.concat(this.#encode(packet)));
      await target.close();
      await rename(temporary, this.path);
    } catch (error) {
      await target.close().catch(() => {});
      await rm(temporary, { force: true });
      throw error;
    } finally {
      await source.close();
    }
    this.#handle = await open(this.path, "a");
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    const stream = this.#stream;
    if (stream !== undefined) {
      // The callback comes once the stream has passed the bytes on, which bounds what it buffers.
      await new Promise<void>((resolve, reject) => stream.write(bytes, (error) => (error == null ? resolve() : reject(error))));
      return;
    }
    let offset = 0;
    while (offset < bytes.length) {
      const { bytesWritten } = await this.#handle!.write(bytes, offset, bytes.length - offset);
      offset += bytesWritten;
    }
  }
}

/** Converts a fraction of `digits` decimal digits to one of `target` digits, truncating extra digits. */
function scaleFraction(fraction: number, digits: number, target: number): number {
  if (digits === target) return fraction;
  if (digits < target) return fraction * 10 ** (target - digits);
  return Math.floor(fraction / 10 ** (digits - target));
}

/** Reads back a classic pcap that this writer wrote (little-endian, one link type). */
async function* readOwnPcap(handle: FileHandle, mode: { linkType: number; nanoseconds: boolean }): AsyncGenerator<PendingPacket> {
  let buffered = Buffer.alloc(0);
  let position = PCAP_FILE_HEADER_LENGTH;
  const chunk = Buffer.alloc(COPY_CHUNK_LENGTH);
  while (true) {
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
    if (bytesRead === 0) break;
    position += bytesRead;
    buffered = Buffer.concat([buffered, chunk.subarray(0, bytesRead)]);
    let offset = 0;
    while (offset + PCAP_RECORD_HEADER_LENGTH <= buffered.length) {
      const caplen = buffered.readUInt32LE(offset + 8);
      if (offset + PCAP_RECORD_HEADER_LENGTH + caplen > buffered.length) break;
      yield {
        linkType: mode.linkType,
        tsSec: buffered.readUInt32LE(offset),
        tsFrac: buffered.readUInt32LE(offset + 4),
        tsDigits: mode.nanoseconds ? 9 : 6,
        origLen: buffered.readUInt32LE(offset + 12),
        data: Buffer.from(buffered.subarray(offset + PCAP_RECORD_HEADER_LENGTH, offset + PCAP_RECORD_HEADER_LENGTH + caplen)),
      };
      offset += PCAP_RECORD_HEADER_LENGTH + caplen;
    }
    buffered = buffered.subarray(offset);
  }
  if (buffered.length > 0) throw new Error(`the evidence file ends inside a record (${buffered.length} bytes left); it was changed while it was written`);
}
