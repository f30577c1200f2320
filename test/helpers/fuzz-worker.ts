// The fuzz loop, run in a worker thread so that the test can stop it when a case
// hangs (Worker.terminate interrupts WebAssembly too). Each case mutates one base
// capture, scans it whole and in random chunks, and checks the invariants; it
// posts a "case" message before it starts and a "failure" message per violation.

import { readFileSync } from "node:fs";
import { PassThrough, Readable } from "node:stream";
import { parentPort, workerData } from "node:worker_threads";
import { gzipSync } from "node:zlib";
import { main } from "../../src/cli/main.js";
import { SKIP_REASONS } from "../../src/core/abi.js";
import { CaptureError } from "../../src/core/capture-error.js";
import {
  BLOCK_CUSTOM,
  enhancedPacketBlock,
  interfaceDescriptionBlock,
  obsoletePacketBlock,
  pcapngBlock,
  sectionHeaderBlock,
  simplePacketBlock,
} from "../../src/pcap/pcapng-writer.js";
import { buildPcap } from "../../src/pcap/writer.js";
import { captureUnits } from "./capture-layout.js";
import {
  ETHERTYPE_MPLS,
  ETHERTYPE_PPPOE_SESSION,
  ciscoHdlc,
  ethernet,
  gre,
  ipv4,
  llcSnapEthernet,
  loopback,
  mplsStack,
  nflog,
  ppp,
  pppoeSession,
  sll,
  sll2,
  vxlan,
} from "./packets.js";
import { caseSeed, Random } from "./random.js";
import { EVERYTHING, scanBytes, type ScanResult } from "./scan.js";

export interface FuzzOptions {
  seed: number;
  cases: number;
  /** Run only this case (its index), to reproduce a failure. */
  only?: number;
  /** Capture files to mutate besides the generated captures. */
  files: string[];
  /** Path of a blocklist file holding 0.0.0.0/0, for the command-line cases. */
  listPath: string;
}

export type FuzzMessage =
  | { type: "case"; index: number; description: string; bytes: number }
  | { type: "failure"; index: number; description: string; problem: string }
  | { type: "done"; cases: number; bytes: number; packets: number; errors: number };

interface Base {
  name: string;
  bytes: Buffer;
}

/** Captures built here so every link layer, block type and tunnel is mutated too. */
function generatedBases(): Base[] {
  const inner = ipv4({ src: "203.0.113.9", dst: "10.9.9.9", proto: 17, srcPort: 5353, dstPort: 53 });
  const packet = ipv4({ src: "192.0.2.1", dst: "198.51.100.2", proto: 6, srcPort: 1234, dstPort: 80 });
  const frames: Array<[number, Uint8Array]> = [
    [1, ethernet(packet, 0x0800, [[0x8100, 5]])],
    [1, ethernet(pppoeSession(packet), ETHERTYPE_PPPOE_SESSION)],
    [1, ethernet(mplsStack(packet, [1, 2]), ETHERTYPE_MPLS)],
    [1, ethernet(mplsStack(Buffer.concat([Buffer.alloc(4), ethernet(packet)]), [3]), ETHERTYPE_MPLS)],
    [1, llcSnapEthernet(packet)],
    [1, ethernet(ipv4({ src: "192.0.2.2", dst: "198.51.100.3", proto: 47, payload: gre(ethernet(inner), { protocol: 0x6558, key: true }) }))],
    [1, ethernet(ipv4({ src: "192.0.2.3", dst: "198.51.100.4", proto: 17, dstPort: 4789, payload: vxlan(ethernet(ipv4({ src: "192.0.2.4", dst: "10.0.0.1", proto: 4, payload: inner }))) }))],
    [9, ppp(packet, { addressControl: true })],
    [50, ciscoHdlc(packet)],
    [104, ciscoHdlc(mplsStack(packet, [9]), ETHERTYPE_MPLS)],
    [239, nflog(packet)],
    [113, sll(packet)],
    [276, sll2(packet)],
    [0, loopback(packet)],
    [101, ipv4({ src: "192.0.2.5", dst: "10.0.0.1", proto: 4, payload: inner })],
  ];
  const bases: Base[] = [];
  const linkTypes = [...new Set(frames.map(([linkType]) => linkType))];
  for (const bigEndian of [false, true]) {
    const options = { bigEndian };
    const blocks: Buffer[] = [sectionHeaderBlock(options)];
    for (const linkType of linkTypes) blocks.push(interfaceDescriptionBlock({ linkType, snaplen: 65535, tsresol: bigEndian ? 0x80 | 20 : 9, tsoffset: 5n }, options));
    blocks.push(pcapngBlock(BLOCK_CUSTOM, Buffer.alloc(24, 1), options));
    frames.forEach(([linkType, data], i) => {
      const interfaceId = linkTypes.indexOf(linkType);
      const timestamp = 1_700_000_000_000_000_000n + BigInt(i);
      if (i % 5 === 3) blocks.push(obsoletePacketBlock({ interfaceId, timestamp, data }, options));
      else blocks.push(enhancedPacketBlock({ interfaceId, timestamp, data }, options));
    });
    blocks.push(simplePacketBlock({ data: ethernet(packet) }, options));
    // A second section in the other byte order, with its own interfaces.
    const other = { bigEndian: !bigEndian };
    blocks.push(sectionHeaderBlock(other), interfaceDescriptionBlock({ linkType: 101 }, other), enhancedPacketBlock({ data: packet }, other));
    bases.push({ name: `generated-${bigEndian ? "be" : "le"}.pcapng`, bytes: Buffer.concat(blocks) });
  }
  for (const [linkType, data] of frames) {
    const records = [0, 1, 2].map((i) => ({ tsSec: 1_700_000_000 + i, tsFrac: i, data }));
    bases.push({ name: `generated-${linkType}-${bases.length}.pcap`, bytes: buildPcap(records, { linkType }) });
  }
  // Captures joined with cat: a second file header where a record or block should start.
  const records = [0, 1].map((i) => ({ tsSec: 1_700_000_000 + i, tsFrac: i, data: ethernet(packet) }));
  const pcap = buildPcap(records, { linkType: 1 });
  bases.push({ name: "generated-cat-pcap-pcap.pcap", bytes: Buffer.concat([pcap, buildPcap(records, { linkType: 1, bigEndian: true })]) });
  bases.push({ name: "generated-cat-pcap-pcapng.pcap", bytes: Buffer.concat([pcap, bases[0]!.bytes]) });
  bases.push({ name: "generated-cat-pcapng-pcap.pcapng", bytes: Buffer.concat([bases[0]!.bytes, pcap]) });
  return bases;
}

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x0a, 0x0d, 0x45, 0x08, 0x88];
const INTERESTING_LENGTHS = [0, 1, 3, 4, 8, 11, 12, 13, 16, 28, 31, 32, 0x7fffffff, 0x80000000, 0xffffffff, 262144, 262145, 0x63503d00, 393248, 393252, 16777216, 16777220];

/** Applies one to four random mutations; returns the bytes and what was done. */
function mutate(base: Buffer, random: Random): { bytes: Buffer; steps: string[] } {
  let bytes = Buffer.from(base);
  const steps: string[] = [];
  const count = 1 + random.below(4);
  for (let i = 0; i < count; i++) {
    const kind = random.below(8);
    const units = captureUnits(bytes);
    if (kind === 0 && bytes.length > 0) {
      const flips = 1 + random.below(8);
      for (let j = 0; j < flips; j++) {
        const at = random.below(bytes.length);
        bytes[at]! ^= 1 << random.below(8);
      }
      steps.push(`flip ${flips} bits`);
    } else if (kind === 1 && bytes.length > 0) {
      const at = random.below(bytes.length);
      bytes[at] = random.next() < 0.5 ? random.pick(INTERESTING_BYTES) : random.below(256);
      steps.push(`set byte ${at}`);
    } else if (kind === 2) {
      const cut = random.next() < 0.5 ? bytes.length - random.below(Math.min(bytes.length, 64) + 1) : random.below(bytes.length + 1);
      bytes = bytes.subarray(0, cut);
      steps.push(`truncate to ${cut}`);
    } else if ((kind === 3 || kind === 4) && units.length > 0) {
      const unit = random.pick(units);
      const field = random.pick(unit.lengthFields);
      const old = unit.littleEndian ? bytes.readUInt32LE(field) : bytes.readUInt32BE(field);
      const value = random.next() < 0.7 ? random.pick(INTERESTING_LENGTHS) : (old + random.pick([-4, -1, 1, 4, 8])) >>> 0;
      if (unit.littleEndian) bytes.writeUInt32LE(value >>> 0, field);
      else bytes.writeUInt32BE(value >>> 0, field);
      steps.push(`length field at ${field}: ${old} -> ${value >>> 0}`);
    } else if (kind === 5 && units.length > 0) {
      const unit = random.pick(units);
      const target = random.pick(units);
      const copy = bytes.subarray(unit.start, unit.start + unit.length);
      bytes = Buffer.concat([bytes.subarray(0, target.start), copy, bytes.subarray(target.start)]);
      steps.push(`duplicate unit at ${unit.start} before ${target.start}`);
    } else if (kind === 6 && units.length > 0) {
      const unit = random.pick(units);
      bytes = Buffer.concat([bytes.subarray(0, unit.start), bytes.subarray(unit.start + unit.length)]);
      steps.push(`remove unit at ${unit.start}`);
    } else if (bytes.length > 0) {
      const from = random.below(bytes.length);
      const length = Math.min(random.below(256), bytes.length - from);
      const to = random.below(bytes.length + 1);
      bytes = Buffer.concat([bytes.subarray(0, to), Buffer.from(bytes.subarray(from, from + length)), bytes.subarray(to)]);
      steps.push(`splice ${length} bytes from ${from} to ${to}`);
    }
  }
  return { bytes, steps };
}

/** Random chunk sizes, scaled so that no input needs more than a few thousand writes. */
function chunkSizes(random: Random, length: number): number[] {
  const largest = Math.max(64, Math.ceil(length / 500));
  return Array.from({ length: 16 }, () => (random.next() < 0.2 ? 1 + random.below(7) : 1 + random.below(largest)));
}

/** Returns what must not depend on chunking: hits, counters and errors. */
function summary(result: ScanResult): string {
  return JSON.stringify({
    hits: result.hits,
    counters: result.counters,
    error: result.error?.message,
    truncated: result.truncated?.message,
  });
}

/** Returns the broken invariants of one scan. */
function problems(result: ScanResult): string[] {
  const found: string[] = [];
  const counters = result.counters as Record<string, number>;
  const skipped = SKIP_REASONS.reduce((sum, [name]) => sum + counters[skipCounterName(name)]!, 0);
  if (counters.packets !== counters.ipv4! + skipped) {
    found.push(`packets ${counters.packets} != decoded ${counters.ipv4} + skipped ${skipped}`);
  }
  if (result.hits.length !== counters.alerts) found.push(`${result.hits.length} hits but ${counters.alerts} alerts`);
  for (const hit of result.hits) {
    if (hit.layer > 3) found.push(`hit with layer ${hit.layer}`);
    if (hit.packet < 1 || hit.packet > counters.packets!) found.push(`hit for packet ${hit.packet} of ${counters.packets}`);
  }
  return found;
}

/** Maps a summary skip name (`not_ipv4`) to its counter name (`skipNotIPv4`). */
function skipCounterName(name: string): string {
  const names: Record<string, string> = {
    unsupported_linktype: "skipLinkType",
    not_ipv4: "skipNotIPv4",
    truncated_link_header: "skipTruncatedLink",
    bad_ip_version: "skipBadIPVersion",
    bad_ip_header_length: "skipBadIHL",
    truncated_ip_header: "skipIPTruncated",
    bad_ip_len: "skipBadIPLength",
    header_limit: "skipHeaderLimit",
  };
  return names[name]!;
}

/** Runs the command line in-process on a damaged gzip of `bytes`: any exit status, no exception. */
async function runGzipCase(bytes: Buffer, random: Random, listPath: string): Promise<string[]> {
  let compressed = gzipSync(bytes);
  if (random.next() < 0.5) compressed = compressed.subarray(0, random.below(compressed.length + 1));
  else if (compressed.length > 0) compressed[random.below(compressed.length)]! ^= 1 << random.below(8);
  const chunks: Buffer[] = [];
  for (let at = 0; at < compressed.length; ) {
    const size = 1 + random.below(512);
    chunks.push(Buffer.from(compressed.subarray(at, at + size)));
    at += size;
  }
  const sink = (): PassThrough => new PassThrough().on("data", () => {});
  const status = await main(["--blocklist", listPath, "--dedup", "0", "--quiet"], { stdin: Readable.from(chunks), stdout: sink(), stderr: sink(), env: {} });
  return status === 0 || status === 1 || status === 2 ? [] : [`gzip case exited with ${status}`];
}

async function run(options: FuzzOptions): Promise<void> {
  const port = parentPort!;
  const post = (message: FuzzMessage): void => port.postMessage(message);
  const bases: Base[] = [...options.files.map((file) => ({ name: file.split("/").pop()!, bytes: readFileSync(file) })), ...generatedBases()];
  let totalBytes = 0;
  let totalPackets = 0;
  let errors = 0;
  let ran = 0;
  for (let index = 0; index < options.cases; index++) {
    if (options.only !== undefined && index !== options.only) continue;
    const random = new Random(caseSeed(options.seed, index));
    const base = bases[index % bases.length]!;
    const { bytes, steps } = mutate(base.bytes, random);
    const description = `case ${index}: ${base.name} (${base.bytes.length} bytes): ${steps.join(", ")}`;
    post({ type: "case", index, description, bytes: bytes.length });
    const found: string[] = [];
    try {
      const whole = scanBytes(bytes, { list: EVERYTHING, dedupSeconds: 0 });
      const sizes = chunkSizes(random, bytes.length);
      const split = scanBytes(bytes, { list: EVERYTHING, dedupSeconds: 0, chunkSizes: sizes });
      found.push(...problems(whole));
      if (summary(split) !== summary(whole)) found.push(`chunks ${sizes.join(",")} change the result`);
      if (whole.error !== undefined && !(whole.error instanceof CaptureError)) found.push("error is not a CaptureError");
      if (whole.error !== undefined) errors++;
      totalPackets += whole.counters.packets;
      if (index % 10 === 0) found.push(...(await runGzipCase(bytes, random, options.listPath)));
    } catch (error) {
      found.push(`threw ${(error as Error).stack ?? String(error)}`);
    }
    for (const problem of found) post({ type: "failure", index, description, problem });
    totalBytes += bytes.length;
    ran++;
  }
  post({ type: "done", cases: ran, bytes: totalBytes, packets: totalPackets, errors });
}

if (parentPort !== null && workerData !== undefined) await run(workerData as FuzzOptions);
