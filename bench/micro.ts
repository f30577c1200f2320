// Micro-benchmarks of the core's parts with tinybench: framing and decoding of
// in-memory records, and range lookups at 1k, 100k and 1M ranges with the bucket
// index against the plain binary search it replaced.
//
//   npm run build && node dist/bench/micro.js [--time MS]

import { parseArgs } from "node:util";
import { Bench } from "tinybench";
import { buildBlocklist } from "../src/blocklist/build.js";
import { Scanner } from "../src/core/scanner.js";
import { AlertFormatter, ListLabels } from "../src/output/alerts.js";
import { ByteBuilder } from "../src/output/byte-builder.js";
import { DEFAULT_HOME_NET, HomeNet } from "../src/output/direction.js";
import { instantiateCore } from "../src/core/wasm.js";
import { generateRanges, random } from "./generate.js";

const PROBES = 1 << 20;

function loadRanges(core: ReturnType<typeof instantiateCore>, ranges: Array<[number, number]>): void {
  const pointer = core.allocateRanges(ranges.length);
  const words = new Uint32Array(core.memory.buffer, pointer, ranges.length * 2);
  ranges.forEach(([first, last], i) => {
    words[i] = first;
    words[ranges.length + i] = last;
  });
  core.commitRanges();
}

/** Addresses to probe: a tenth inside listed ranges, the rest random unicast. */
function probeAddresses(ranges: Array<[number, number]>): Uint32Array {
  const next = random(7);
  const addresses = new Uint32Array(PROBES);
  for (let i = 0; i < PROBES; i++) {
    if (i % 10 === 0) {
      const [first, last] = ranges[Math.floor(next() * ranges.length)]!;
      addresses[i] = first + Math.floor(next() * (last - first + 1));
    } else {
      addresses[i] = 0x01000000 + Math.floor(next() * 0xde000000);
    }
  }
  return addresses;
}

/** A chunk of records of 60-byte TCP frames from 10.0.0.1 to addresses in `ranges`. */
function matchingChunk(ranges: Array<[number, number]>, bytes: number): Buffer {
  const count = Math.floor(bytes / 76);
  const chunk = Buffer.alloc(count * 76);
  for (let i = 0; i < count; i++) {
    const record = i * 76;
    chunk.writeUInt32LE(1_767_225_600 + (i >> 10), record);
    chunk.writeUInt32LE((i * 997) % 1_000_000, record + 4);
    chunk.writeUInt32LE(60, record + 8);
    chunk.writeUInt32LE(60, record + 12);
    const frame = record + 16;
    chunk.writeUInt16BE(0x0800, frame + 12);
    chunk.writeUInt8(0x45, frame + 14);
    chunk.writeUInt16BE(46, frame + 16);
    chunk.writeUInt8(6, frame + 23);
    chunk.writeUInt32BE(0x0a000001 + (i & 0xff), frame + 26);
    chunk.writeUInt32BE(ranges[i % ranges.length]![0], frame + 30);
    chunk.writeUInt16BE(40000 + (i & 0x3fff), frame + 34);
    chunk.writeUInt16BE(443, frame + 36);
  }
  return chunk;
}

/** A chunk of classic pcap records (no file header) of 60-byte Ethernet/IPv4 frames. */
function recordChunk(bytes: number): Buffer {
  const record = Buffer.alloc(16 + 60);
  record.writeUInt32LE(60, 8);
  record.writeUInt32LE(60, 12);
  record.writeUInt16BE(0x0800, 16 + 12);
  record.writeUInt8(0x45, 16 + 14);
  record.writeUInt16BE(46, 16 + 16);
  record.writeUInt8(6, 16 + 23);
  record.writeUInt32BE(0x0a000001, 16 + 26);
  record.writeUInt32BE(0xc6336401, 16 + 30);
  const count = Math.floor(bytes / record.length);
  return Buffer.concat(Array.from({ length: count }, () => record));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { time: { type: "string", default: "1000" } } });
  const bench = new Bench({ time: Number(values.time), warmup: true });

  const chunk = recordChunk(4 << 20);
  const packetsPerChunk = chunk.length / 76;
  const scanner = new Scanner({ dedupSeconds: 0 }, { hits() {} });
  scanner.setRanges({ starts: Uint32Array.of(0xcb007100), ends: Uint32Array.of(0xcb0071ff) });
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  scanner.beginInput();
  scanner.write(header);
  bench.add(`frame+decode+probe, 4 MiB of 60-byte frames (${packetsPerChunk} packets)`, () => {
    scanner.write(chunk);
  });

  // Alert formatting: a chunk of records that all match, formatted as the scan does.
  const alertRanges = generateRanges(1000, 1);
  const alertList = buildBlocklist([{ name: "bench", entries: alertRanges.map(([first, last]) => ({ first, last })) }], 0);
  const alertChunk = matchingChunk(alertRanges, 4 << 20);
  for (const format of ["text", "json"] as const) {
    const output = new ByteBuilder();
    const formatter = new AlertFormatter(format, new ListLabels(alertList), { homeNet: HomeNet.parse(DEFAULT_HOME_NET) });
    formatter.setContext({ filename: "capture.pcap" });
    let lines = 0;
    const alertScanner = new Scanner({ dedupSeconds: 0 }, {
      hits(batch) {
        lines += formatter.formatBatch(batch, output);
        output.length = 0;
      },
    });
    alertScanner.setRanges(alertList);
    alertScanner.beginInput();
    alertScanner.write(header);
    bench.add(`format ${format} alerts, 4 MiB of matching 60-byte frames (${alertChunk.length / 76} lines)`, () => {
      alertScanner.write(alertChunk);
    });
    void lines;
  }

  for (const size of [1_000, 100_000, 1_000_000]) {
    const core = instantiateCore();
    const ranges = generateRanges(size, 1);
    loadRanges(core, ranges);
    const addresses = probeAddresses(ranges);
    const pointer = core.scratch(addresses.byteLength);
    new Uint32Array(core.memory.buffer, pointer, PROBES).set(addresses);
    bench.add(`lookup ${size} ranges, bucket index (${PROBES} probes)`, () => {
      core.lookupLoop(pointer, PROBES, 0);
    });
    bench.add(`lookup ${size} ranges, binary search (${PROBES} probes)`, () => {
      core.lookupLoop(pointer, PROBES, 1);
    });
  }

  await bench.run();
  const rows = bench.tasks.map((task) => {
    const result = task.result as { latency?: { p50?: number } } | undefined;
    const medianMs = result?.latency?.p50 ?? Number.NaN;
    const lineCount = /\((\d+) lines\)/.exec(task.name)?.[1];
    if (lineCount !== undefined) return `| ${task.name} | ${medianMs.toFixed(3)} | ${((Number(lineCount) / medianMs) * 1e3 / 1e6).toFixed(2)} M lines/s |`;
    const perUnit = task.name.startsWith("frame")
      ? `${((packetsPerChunk / medianMs) * 1e3 / 1e6).toFixed(1)} M packets/s, ${((chunk.length / medianMs) * 1e3 / 1e9).toFixed(2)} GB/s`
      : `${((medianMs * 1e6) / PROBES).toFixed(1)} ns per probe`;
    return `| ${task.name} | ${medianMs.toFixed(3)} | ${perUnit} |`;
  });
  process.stdout.write(["| task | median ms | rate |", "|---|---|---|", ...rows].join("\n") + "\n");
}

await main();
