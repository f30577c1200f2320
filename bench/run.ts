// Whole-pipeline benchmark: runs repfilter and its baselines on the same generated
// captures, in alternation, and prints a Markdown table of medians and ratios.
//
//   npm run bench                    # every scenario, 7 rounds
//   npm run bench -- --rounds 3 --scenario mixed --bytes 2e8
//
// Each round runs every peer of a scenario once, in a rotated order, so that a
// burst of load on a shared machine hits all peers alike.

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildBlocklist } from "../src/blocklist/build.js";
import { encodeBlocklist } from "../src/blocklist/format.js";
import { generateCapture, generateRanges, type GeneratorOptions } from "./generate.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const OUT = join(ROOT, "bench", "out");
const BIN = join(ROOT, "bin", "repfilter.js");
const C_BASELINE = join(OUT, "scan-c");
const JS_BASELINE = join(ROOT, "bench", "baselines", "scan-plain.mjs");
/** Changes whenever generate.ts writes different bytes for the same options. */
const GENERATOR_VERSION = 2;

interface Peer {
  name: string;
  /** A bash command; {time} is replaced by the GNU time prefix that records wall time and peak RSS. */
  command: string;
  /** Count output lines (matches) to check that the peers agree. */
  countsLines?: boolean;
}

interface Measurement {
  seconds: number[];
  rssKb: number[];
  lines?: number;
}

interface Scenario {
  name: string;
  describe: string;
  prepare(): Record<string, string>;
  peers(files: Record<string, string>): Peer[];
  /** Per-scenario figures derived from the medians, printed under the table. */
  notes?(medians: Map<string, number>, files: Record<string, string>): string[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function ensureCapture(name: string, options: Partial<GeneratorOptions> & { bytes: number; ranges: number }): { capture: string; list: string; listText: string } {
  const full: GeneratorOptions = { hitRate: 0.01, vlanShare: 0.1, frameSize: "imix", linkType: 1, seed: 1, ...options };
  const capture = join(OUT, `${name}.pcap`);
  const listText = join(OUT, `list-${full.ranges}.txt`);
  const list = join(OUT, `list-${full.ranges}.bin`);
  const ranges = generateRanges(full.ranges, full.seed);
  // Lists are cheap to rebuild, and a list left from another generator version
  // would not match the capture's hits, so they are always rewritten.
  const lines = ranges.map(([first, last]) => `${formatIPv4(first)}-${formatIPv4(last)}`);
  writeFileSync(listText, lines.join("\n") + "\n");
  const built = buildBlocklist([{ name: "bench", entries: ranges.map(([first, last]) => ({ first, last })) }], 0);
  writeFileSync(list, encodeBlocklist(built));
  const stamp = `${capture}.options.json`;
  // The stamp names the generator version too: bump it when the bytes it writes change.
  const wanted = JSON.stringify({ ...full, generator: GENERATOR_VERSION });
  if (!existsSync(capture) || !existsSync(stamp) || readFileSync(stamp, "utf8") !== wanted) {
    process.stderr.write(`generating ${capture} (${full.bytes} bytes)\n`);
    generateCapture(capture, full, ranges);
    writeFileSync(stamp, wanted);
  }
  return { capture, list, listText };
}

function formatIPv4(address: number): string {
  return `${address >>> 24}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`;
}

function hasCompiler(): boolean {
  if (existsSync(C_BASELINE)) return true;
  try {
    execFileSync("cc", ["-O2", "-o", C_BASELINE, join(ROOT, "bench", "baselines", "scan.c")], { stdio: "inherit" });
    return true;
  } catch {
    process.stderr.write("no C compiler (cc): the C baselines are skipped\n");
    return false;
  }
}

function runPeer(peer: Peer): { seconds: number; rssKb: number; lines: number | undefined } {
  const timing = join(OUT, "time.txt");
  const output = join(OUT, "peer-output.txt");
  rmSync(timing, { force: true });
  const command = peer.command.replaceAll("{time}", `/usr/bin/time -f "%e %M" -o ${timing}`).replaceAll("{out}", output);
  const started = process.hrtime.bigint();
  const result = spawnSync("bash", ["-c", `set -o pipefail; ${command}`], { stdio: ["ignore", "ignore", "pipe"] });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0 && result.status !== 1) {
    throw new Error(`${peer.name} failed (status ${result.status}): ${result.stderr.toString().trim()}`);
  }
  const rssKb = existsSync(timing) ? Number(readFileSync(timing, "utf8").trim().split(/\s+/).at(-1)) : 0;
  let lines: number | undefined;
  if (peer.countsLines === true && existsSync(output)) {
    lines = readFileSync(output).reduce((count, byte) => count + (byte === 10 ? 1 : 0), 0);
  }
  rmSync(output, { force: true });
  return { seconds, rssKb, lines };
}

function measure(peers: Peer[], rounds: number): Map<string, Measurement> {
  const results = new Map<string, Measurement>(peers.map((peer) => [peer.name, { seconds: [], rssKb: [] }]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < peers.length; i++) {
      const peer = peers[(i + round) % peers.length]!;
      const { seconds, rssKb, lines } = runPeer(peer);
      const entry = results.get(peer.name)!;
      entry.seconds.push(seconds);
      entry.rssKb.push(rssKb);
      if (lines !== undefined) {
        if (entry.lines !== undefined && entry.lines !== lines) throw new Error(`${peer.name}: ${lines} lines, earlier ${entry.lines}`);
        entry.lines = lines;
      }
    }
  }
  return results;
}

function table(results: Map<string, Measurement>, reference: string, bytes: number | undefined): string[] {
  const base = median(results.get(reference)?.seconds ?? [1]);
  const lines = ["| peer | median s | min-max s | vs " + reference + " | GB/s | peak RSS MB | lines |", "|---|---|---|---|---|---|---|"];
  for (const [name, entry] of results) {
    const m = median(entry.seconds);
    const rate = bytes !== undefined ? (bytes / m / 1e9).toFixed(2) : "-";
    const rss = entry.rssKb.some((value) => value > 0) ? (Math.max(...entry.rssKb) / 1024).toFixed(1) : "-";
    lines.push(
      `| ${name} | ${m.toFixed(3)} | ${Math.min(...entry.seconds).toFixed(3)}-${Math.max(...entry.seconds).toFixed(3)} | ${(m / base).toFixed(2)}x | ${rate} | ${rss} | ${entry.lines ?? "-"} |`,
    );
  }
  return lines;
}

/** Runs the installed way, through the launcher's #! line and the Node options it sets. */
function repfilter(list: string, extra = ""): string {
  return `{time} ${BIN} --quiet --dedup 0 --blocklist ${list} ${extra}`;
}

function scenarios(bytes: number, withC: boolean): Scenario[] {
  return [
    {
      name: "mixed",
      describe: `IMIX frames (60/590/1514 in 7:4:1), 10% VLAN-tagged, 1% hit rate, 1,000-range list`,
      prepare: () => ensureCapture("mixed", { bytes, ranges: 1000 }),
      peers: (f) => [
        { name: "cat > /dev/null", command: `{time} cat ${f.capture} > /dev/null` },
        { name: "cat | cat > /dev/null", command: `cat ${f.capture} | {time} cat > /dev/null` },
        ...(withC
          ? [
              { name: "C binary search", command: `{time} ${C_BASELINE} ${f.listText} ${f.capture} > {out}`, countsLines: true },
              { name: "C bucket index", command: `{time} ${C_BASELINE} -b ${f.listText} ${f.capture} > {out}`, countsLines: true },
            ]
          : []),
        { name: "plain JS, file", command: `{time} node ${JS_BASELINE} ${f.listText} ${f.capture} > {out}`, countsLines: true },
        { name: "plain JS, stdin", command: `cat ${f.capture} | {time} node ${JS_BASELINE} ${f.listText} - > {out}`, countsLines: true },
        { name: "repfilter FILE", command: `${repfilter(f.list!, f.capture)} > {out}`, countsLines: true },
        { name: "cat FILE | repfilter", command: `cat ${f.capture} | ${repfilter(f.list!)} > {out}`, countsLines: true },
      ],
    },
    {
      name: "small",
      describe: "60-byte frames, 1% hit rate, 1,000-range list",
      prepare: () => ensureCapture("small", { bytes, ranges: 1000, frameSize: 60, vlanShare: 0 }),
      peers: (f) => [
        ...(withC ? [{ name: "C binary search", command: `{time} ${C_BASELINE} ${f.listText} ${f.capture} > {out}`, countsLines: true }] : []),
        { name: "plain JS, file", command: `{time} node ${JS_BASELINE} ${f.listText} ${f.capture} > {out}`, countsLines: true },
        { name: "repfilter FILE", command: `${repfilter(f.list!, f.capture)} > {out}`, countsLines: true },
      ],
    },
    {
      name: "million",
      describe: "IMIX frames, 1% hit rate, 1,000,000-range list against the 1,000-range list",
      prepare: () => {
        const small = ensureCapture("mixed", { bytes, ranges: 1000 });
        const large = ensureCapture("mixed-1m", { bytes, ranges: 1_000_000 });
        return { capture: small.capture, list: small.list, captureLarge: large.capture, listLarge: large.list, listLargeText: large.listText };
      },
      peers: (f) => [
        { name: "repfilter, 1k ranges", command: `${repfilter(f.list!, f.capture)} > {out}` },
        { name: "repfilter, 1M ranges", command: `${repfilter(f.listLarge!, f.captureLarge)} > {out}` },
        ...(withC ? [{ name: "C binary search, 1M ranges", command: `{time} ${C_BASELINE} ${f.listLargeText} ${f.captureLarge} > {out}` }] : []),
      ],
    },
    {
      name: "startup",
      describe: "start-up: load and validate the 1,000,000-range list, scan a header-only capture",
      prepare: () => {
        const large = ensureCapture("mixed-1m", { bytes, ranges: 1_000_000 });
        const empty = join(OUT, "empty.pcap");
        const header = Buffer.alloc(24);
        header.writeUInt32LE(0xa1b2c3d4, 0);
        header.writeUInt16LE(2, 4);
        header.writeUInt16LE(4, 6);
        header.writeUInt32LE(65535, 16);
        header.writeUInt32LE(1, 20);
        writeFileSync(empty, header);
        return { list: large.list, empty };
      },
      peers: (f) => [
        { name: "node -e 0", command: `{time} node -e 0` },
        { name: "repfilter, 1M-range list", command: `${repfilter(f.list!, f.empty)}` },
      ],
    },
    {
      name: "memory",
      describe: "peak RSS with the 1,000,000-range list on a 100 MB and a 4 GB capture (constant in capture size)",
      prepare: () => {
        const small = ensureCapture("mixed-1m-100m", { bytes: 1e8, ranges: 1_000_000 });
        const large = ensureCapture("mixed-1m-4g", { bytes: 4e9, ranges: 1_000_000 });
        return { list: small.list, captureSmall: small.capture, captureLarge: large.capture };
      },
      peers: (f) => [
        { name: "repfilter, 1M ranges, 100 MB", command: `${repfilter(f.list!, f.captureSmall)} > {out}` },
        { name: "repfilter, 1M ranges, 4 GB", command: `${repfilter(f.list!, f.captureLarge)} > {out}` },
      ],
    },
    {
      name: "alerts",
      describe: "every packet matches, --dedup 0, alerts written to a file",
      prepare: () => ensureCapture("all-hits", { bytes: Math.min(bytes, 3e8), ranges: 1000, hitRate: 1 }),
      peers: (f) => [
        { name: "repfilter text", command: `${repfilter(f.list!, f.capture)} > {out}`, countsLines: true },
        { name: "repfilter json", command: `${repfilter(f.list!, `--format json ${f.capture}`)} > {out}`, countsLines: true },
      ],
    },
  ];
}

/** One performance target: the figure measured, the bound it must meet, and whether it did. */
interface Target {
  name: string;
  measured: string;
  bound: string;
  met: boolean;
}

/**
 * Builds the table of targets from the scenarios that ran. Each ratio compares
 * medians of peers measured in the same rounds, so machine load affects both sides.
 */
function targetTable(all: Map<string, Map<string, Measurement>>): string[] {
  const medianOf = (scenario: string, peer: string): number | undefined => {
    const entry = all.get(scenario)?.get(peer);
    return entry === undefined ? undefined : median(entry.seconds);
  };
  const peakMb = (scenario: string, peer: string): number | undefined => {
    const entry = all.get(scenario)?.get(peer);
    return entry === undefined ? undefined : Math.max(...entry.rssKb) / 1024;
  };
  const targets: Target[] = [];
  const speedup = (name: string, scenario: string, peer: string, reference: string, bound: number): void => {
    const time = medianOf(scenario, peer);
    const referenceTime = medianOf(scenario, reference);
    if (time === undefined || referenceTime === undefined) return;
    const ratio = referenceTime / time;
    targets.push({ name, measured: `${ratio.toFixed(2)}x (${time.toFixed(3)} s vs ${referenceTime.toFixed(3)} s)`, bound: `>= ${bound}x`, met: ratio >= bound });
  };
  speedup("file: speed vs C binary search", "mixed", "repfilter FILE", "C binary search", 1);
  speedup("file: speed vs plain JS", "mixed", "repfilter FILE", "plain JS, file", 1.5);
  speedup("stdin pipe: speed vs cat | cat", "mixed", "cat FILE | repfilter", "cat | cat > /dev/null", 1);
  speedup("60-byte frames: speed vs plain JS", "small", "repfilter FILE", "plain JS, file", 1.5);
  speedup("1M ranges: throughput vs 1k ranges", "million", "repfilter, 1M ranges", "repfilter, 1k ranges", 0.5);
  const bare = medianOf("startup", "node -e 0");
  const start = medianOf("startup", "repfilter, 1M-range list");
  if (bare !== undefined && start !== undefined) {
    const above = (start - bare) * 1000;
    targets.push({ name: "start-up with 1M ranges, above node -e 0", measured: `${above.toFixed(0)} ms`, bound: "< 150 ms", met: above < 150 });
  }
  for (const peer of ["repfilter, 1M ranges, 100 MB", "repfilter, 1M ranges, 4 GB"]) {
    const peak = peakMb("memory", peer);
    if (peak !== undefined) targets.push({ name: `peak RSS, ${peer.slice("repfilter, ".length)}`, measured: `${peak.toFixed(1)} MB`, bound: "< 80 MB", met: peak < 80 });
  }
  for (const peer of ["repfilter text", "repfilter json"]) {
    const entry = all.get("alerts")?.get(peer);
    if (entry?.lines === undefined) continue;
    const rate = entry.lines / median(entry.seconds);
    targets.push({ name: `alert lines per second, ${peer.slice("repfilter ".length)}`, measured: `${(rate / 1e6).toFixed(2)} M/s`, bound: ">= 1 M/s", met: rate >= 1e6 });
  }
  if (targets.length === 0) return [];
  return [
    "### Targets",
    "",
    "| target | measured | bound | met |",
    "|---|---|---|---|",
    ...targets.map((target) => `| ${target.name} | ${target.measured} | ${target.bound} | ${target.met ? "yes" : "no"} |`),
    "",
  ];
}

function main(): void {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "7" },
      bytes: { type: "string", default: "1e9" },
      scenario: { type: "string", multiple: true },
    },
  });
  mkdirSync(OUT, { recursive: true });
  const rounds = Number(values.rounds);
  const bytes = Number(values.bytes);
  const withC = hasCompiler();
  const chosen = scenarios(bytes, withC).filter((scenario) => values.scenario === undefined || values.scenario.includes(scenario.name));
  const report: string[] = [
    `Machine: ${cpus().length} x ${cpus()[0]?.model ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; ${rounds} rounds; ${new Date().toISOString()}`,
    `Load average at the start: ${loadavg().map((value) => value.toFixed(2)).join(" ")}`,
    "",
  ];
  const all = new Map<string, Map<string, Measurement>>();
  for (const scenario of chosen) {
    const files = scenario.prepare();
    const results = measure(scenario.peers(files), rounds);
    all.set(scenario.name, results);
    const captureBytes = files.capture !== undefined ? statSync(files.capture).size : undefined;
    const reference = scenario.peers(files)[0]!.name;
    report.push(`### ${scenario.name}: ${scenario.describe}`, "");
    if (files.capture !== undefined) report.push(`Capture: ${files.capture} (${captureBytes} bytes)`, "");
    report.push(...table(results, reference, scenario.name === "startup" ? undefined : captureBytes), "");
  }
  report.push(...targetTable(all), `Load average at the end: ${loadavg().map((value) => value.toFixed(2)).join(" ")}`, "");
  process.stdout.write(report.join("\n") + "\n");
}

main();
