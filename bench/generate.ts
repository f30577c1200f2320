// Deterministic capture and list generator for benchmarks. The same options and
// seed always give the same bytes, so every figure in BENCHMARKS.md can be rebuilt.
//
//   node dist/bench/generate.js --bytes 1e9 --ranges 1000 --hit-rate 0.01 \
//     --out bench/out/mixed.pcap --list bench/out/list-1000.txt

import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { formatIPv4 } from "../src/lists/ipv4.js";

export interface GeneratorOptions {
  /** Stop after this many capture bytes (at a record boundary). */
  bytes: number;
  /** Number of disjoint ranges in the generated list. */
  ranges: number;
  /** Share of packets whose destination lies in a listed range. */
  hitRate: number;
  /** Share of frames carrying one 802.1Q tag. */
  vlanShare: number;
  /** "imix": 60, 590 and 1514-byte frames in the ratio 7:4:1; or a fixed frame size. */
  frameSize: "imix" | number;
  /** 1 (Ethernet) or 101 (raw IPv4). */
  linkType: 1 | 101;
  seed: number;
}

/** mulberry32: a small, fast, seedable generator. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** The sources of generated traffic are in 10.0.0.0/16; no listed range may cover them. */
const SOURCE_BLOCK_START = 0x0a000000;
const SOURCE_BLOCK_END = 0x0affffff;

/**
 * Returns `count` disjoint, non-touching ranges (sizes /20 to /32) spread over
 * 1.0.0.0 to 223.255.255.255, leaving out 10.0.0.0/8 where the generated sources are.
 */
export function generateRanges(count: number, seed: number): Array<[number, number]> {
  const next = random(seed ^ 0x5eed);
  const ranges: Array<[number, number]> = [];
  // Each range gets its own slot of the address space and leaves room at the end of
  // it, so ranges never overlap or touch and the list keeps `count` ranges.
  const span = 0xdf000000 - (SOURCE_BLOCK_END - SOURCE_BLOCK_START + 1);
  const slot = Math.floor(span / count);
  const largestPrefix = Math.max(20, 32 - Math.floor(Math.log2(slot / 2)));
  for (let i = 0; i < count; i++) {
    const prefix = Math.min(32, largestPrefix + Math.floor(next() * (33 - largestPrefix)));
    const size = 2 ** (32 - prefix);
    let slotStart = 0x01000000 + i * slot;
    // Slots at or past 10.0.0.0 move up by the /8 they skip; aligned sizes keep their alignment.
    if (slotStart + slot > SOURCE_BLOCK_START) slotStart += SOURCE_BLOCK_END - SOURCE_BLOCK_START + 1;
    const firstAligned = Math.ceil(slotStart / size) * size;
    const choices = Math.max(1, Math.floor((slotStart + slot - 1 - firstAligned) / size));
    const first = firstAligned + Math.floor(next() * choices) * size;
    ranges.push([first, first + size - 1]);
  }
  return ranges;
}

const IMIX_SIZES = [60, 60, 60, 60, 60, 60, 60, 590, 590, 590, 590, 1514];

/** Writes the capture to `path` and returns the number of packets. */
export function generateCapture(path: string, options: GeneratorOptions, ranges: Array<[number, number]>): number {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, "w");
  const next = random(options.seed);
  const chunk = Buffer.alloc(8 << 20);
  let used = writeFileHeader(chunk, options.linkType);
  let written = used;
  let packets = 0;
  const clock = { seconds: 1_767_225_600, micros: 0 }; // 2026-01-01T00:00:00Z

  while (written < options.bytes) {
    const frameSize = options.frameSize === "imix" ? IMIX_SIZES[Math.floor(next() * IMIX_SIZES.length)]! : options.frameSize;
    const vlan = options.linkType === 1 && next() < options.vlanShare;
    const length = Math.max(frameSize, 14 + 28) + (vlan ? 4 : 0);
    if (used + 16 + length > chunk.length) {
      writeSync(fd, chunk, 0, used);
      used = 0;
    }
    clock.micros += 1 + Math.floor(next() * 400);
    if (clock.micros >= 1_000_000) {
      clock.seconds += 1;
      clock.micros -= 1_000_000;
    }
    chunk.writeUInt32LE(clock.seconds, used);
    chunk.writeUInt32LE(clock.micros, used + 4);
    chunk.writeUInt32LE(length, used + 8);
    chunk.writeUInt32LE(length, used + 12);
    writeFrame(chunk, used + 16, length, options, vlan, next, ranges);
    used += 16 + length;
    written += 16 + length;
    packets++;
  }
  writeSync(fd, chunk, 0, used);
  closeSync(fd);
  return packets;
}

function isListed(ranges: Array<[number, number]>, address: number): boolean {
  let low = 0;
  let high = ranges.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (ranges[middle]![0] <= address) low = middle + 1;
    else high = middle;
  }
  return low > 0 && ranges[low - 1]![1] >= address;
}

function writeFileHeader(buffer: Buffer, linkType: number): number {
  buffer.writeUInt32LE(0xa1b2c3d4, 0);
  buffer.writeUInt16LE(2, 4);
  buffer.writeUInt16LE(4, 6);
  buffer.writeUInt32LE(262144, 16);
  buffer.writeUInt32LE(linkType, 20);
  return 24;
}

/** Writes one frame of `length` bytes at `frame`: link header, IPv4, and TCP or UDP ports. */
function writeFrame(
  buffer: Buffer,
  frame: number,
  length: number,
  options: GeneratorOptions,
  vlan: boolean,
  next: () => number,
  ranges: Array<[number, number]>,
): void {
  buffer.fill(0, frame, frame + length);
  let ip = frame;
  if (options.linkType === 1) {
    buffer.writeUInt32BE(0x02000000, frame);
    buffer.writeUInt16BE(0x0001, frame + 4);
    buffer.writeUInt32BE(0x02000000, frame + 6);
    buffer.writeUInt16BE(0x0002, frame + 10);
    if (vlan) {
      buffer.writeUInt16BE(0x8100, frame + 12);
      buffer.writeUInt16BE(100, frame + 14);
    }
    ip = frame + (vlan ? 16 : 12);
    buffer.writeUInt16BE(0x0800, ip);
    ip += 2;
  }

  const udp = next() < 0.3;
  buffer.writeUInt8(0x45, ip);
  buffer.writeUInt16BE(frame + length - ip, ip + 2);
  buffer.writeUInt8(64, ip + 8);
  buffer.writeUInt8(udp ? 17 : 6, ip + 9);
  buffer.writeUInt32BE(0x0a000000 + Math.floor(next() * 0xffff), ip + 12);
  let dst: number;
  if (next() < options.hitRate && ranges.length > 0) {
    const [first, last] = ranges[Math.floor(next() * ranges.length)]!;
    dst = first + Math.floor(next() * (last - first + 1));
  } else {
    // A random unicast address outside every listed range, so that misses take
    // unpredictable paths through the search as real traffic does.
    do dst = 0x01000000 + Math.floor(next() * 0xde000000);
    while (isListed(ranges, dst));
  }
  buffer.writeUInt32BE(dst >>> 0, ip + 16);
  buffer.writeUInt16BE(1024 + Math.floor(next() * 60000), ip + 20);
  buffer.writeUInt16BE(udp ? 53 : 443, ip + 22);
}

function main(): void {
  const { values } = parseArgs({
    options: {
      bytes: { type: "string", default: "1e9" },
      ranges: { type: "string", default: "1000" },
      "hit-rate": { type: "string", default: "0.01" },
      "vlan-share": { type: "string", default: "0.1" },
      "frame-size": { type: "string", default: "imix" },
      "link-type": { type: "string", default: "1" },
      seed: { type: "string", default: "1" },
      out: { type: "string" },
      list: { type: "string" },
    },
  });
  const options: GeneratorOptions = {
    bytes: Number(values.bytes),
    ranges: Number(values.ranges),
    hitRate: Number(values["hit-rate"]),
    vlanShare: Number(values["vlan-share"]),
    frameSize: values["frame-size"] === "imix" ? "imix" : Number(values["frame-size"]),
    linkType: values["link-type"] === "101" ? 101 : 1,
    seed: Number(values.seed),
  };
  const ranges = generateRanges(options.ranges, options.seed);
  if (values.list !== undefined) {
    mkdirSync(dirname(values.list), { recursive: true });
    writeFileSync(values.list, ranges.map(([first, last]) => `${formatIPv4(first)}-${formatIPv4(last)}`).join("\n") + "\n");
  }
  if (values.out !== undefined) {
    const packets = generateCapture(values.out, options, ranges);
    process.stderr.write(`generated ${values.out}: ${packets} packets\n`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
