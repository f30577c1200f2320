// Running the core in-process on a byte array, for unit tests.

import { buildBlocklist, type Blocklist } from "../../src/blocklist/build.js";
import { Counter } from "../../src/core/abi.js";
import { CaptureError } from "../../src/core/capture-error.js";
import { Scanner } from "../../src/core/scanner.js";
import { formatIPv4, parseEntry } from "../../src/lists/ipv4.js";
import { decodeHostNames, type HostName } from "../../src/output/hostnames.js";

export interface ScannedHit {
  packet: number;
  tsSec: number;
  tsFrac: number;
  tsDigits: number;
  src: string;
  dst: string;
  srcPort?: number;
  dstPort?: number;
  proto: number;
  flags: number;
  layer: number;
  srcRange: number;
  dstRange: number;
  linkType: number;
  caplen: number;
  /** The names the core attached, when it attached any. */
  names?: HostName[];
}

export interface ScanResult {
  hits: ScannedHit[];
  counters: Record<keyof typeof Counter, number>;
  error?: CaptureError;
  truncated?: CaptureError;
  notices: Array<[number, number]>;
}

/** Builds a one-source blocklist from entry texts such as "192.0.2.0/24". */
export function listOf(entries: string[], name = "test"): Blocklist {
  const parsed = entries.map((text) => {
    const entry = parseEntry(text);
    if (entry.kind !== "range") throw new Error(`bad test entry ${text}`);
    return { first: entry.first, last: entry.last };
  });
  return buildBlocklist([{ name, entries: parsed }], 0);
}

export const EVERYTHING = listOf(["0.0.0.0/0"]);

export interface ScanBytesOptions {
  list?: Blocklist;
  /** Sizes of the pieces the input is split into, cycled; default one piece. */
  chunkSizes?: number[];
  dedupSeconds?: number;
  returnSuppressed?: boolean;
  namesTableEntries?: number;
}

/** Scans `bytes` as one input and collects every hit, counter and error. */
export function scanBytes(bytes: Uint8Array, options: ScanBytesOptions = {}): ScanResult {
  const hits: ScannedHit[] = [];
  const notices: Array<[number, number]> = [];
  const scanner = new Scanner(
    {
      dedupSeconds: options.dedupSeconds ?? 0,
      returnSuppressed: options.returnSuppressed ?? false,
      ...(options.namesTableEntries !== undefined ? { namesTableEntries: options.namesTableEntries } : {}),
    },
    {
      hits(batch) {
        for (let i = 0; i < batch.count; i++) {
          const hit = batch.at(i);
          const hasPorts = (batch.flags(hit) & 1) !== 0;
          hits.push({
            packet: batch.packetNumber(hit),
            tsSec: batch.tsSeconds(hit),
            tsFrac: batch.tsFraction(hit),
            tsDigits: batch.tsDigits(hit),
            src: formatIPv4(batch.src(hit)),
            dst: formatIPv4(batch.dst(hit)),
            ...(hasPorts ? { srcPort: batch.srcPort(hit), dstPort: batch.dstPort(hit) } : {}),
            proto: batch.proto(hit),
            flags: batch.flags(hit),
            layer: batch.layer(hit),
            srcRange: batch.srcRange(hit),
            dstRange: batch.dstRange(hit),
            linkType: batch.linkType(hit),
            caplen: batch.packetData(hit).length,
            ...(batch.namesLength(hit) > 0 ? { names: decodeHostNames(batch.namesData(hit)) } : {}),
          });
        }
      },
      notice(kind, value) {
        notices.push([kind, value]);
      },
    },
  );
  scanner.setRanges(options.list ?? EVERYTHING);
  scanner.beginInput();
  const result: Omit<ScanResult, "counters"> = { hits, notices };
  try {
    const sizes = options.chunkSizes ?? [Math.max(bytes.length, 1)];
    let offset = 0;
    let turn = 0;
    while (offset < bytes.length) {
      const size = sizes[turn++ % sizes.length]!;
      scanner.write(bytes.subarray(offset, offset + size));
      offset += size;
    }
    const end = scanner.end();
    if (end.truncated !== undefined) result.truncated = end.truncated;
  } catch (error) {
    if (!(error instanceof CaptureError)) throw error;
    result.error = error;
  }
  const raw = scanner.counters();
  const counters = Object.fromEntries(Object.entries(Counter).map(([name, index]) => [name, raw[index]!])) as ScanResult["counters"];
  return { ...result, counters };
}
