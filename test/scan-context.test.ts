// The scan's context options: --home-net (direction), --allow (suppression at
// scan time) and --write-pcap (evidence read back by tcpdump and tshark).

import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { closeSync, linkSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { buildBlocklist } from "../src/blocklist/build.js";
import { DIRECTION_NAMES, HomeNet, HomeNetError } from "../src/output/direction.js";
import { buildPcapng } from "../src/pcap/pcapng-writer.js";
import { buildPcap, type PcapRecord } from "../src/pcap/writer.js";
import { parseEntry, parseIPv4 } from "../src/lists/ipv4.js";
import { BIN, jsonLines, runCli, temporaryDirectory, writeBlocklist } from "./helpers/cli.js";
import { ethernet, ipv4 } from "./helpers/packets.js";

function range(text: string): { first: number; last: number } {
  const parsed = parseEntry(text);
  if (parsed.kind !== "range") throw new Error(`bad test entry ${text}`);
  return { first: parsed.first, last: parsed.last };
}

function address(text: string): number {
  const value = parseIPv4(text);
  if (value === undefined) throw new Error(`bad test address ${text}`);
  return value;
}

const LIST = writeBlocklist(
  buildBlocklist(
    [
      { name: "bad", entries: ["203.0.113.0/24", "10.9.9.0/24"].map(range) },
      { name: "drop", entries: [range("198.51.100.0/24")] },
    ],
    0,
  ),
);

function packet(src: string, dst: string, second: number, fraction = 0): PcapRecord {
  return { tsSec: 1_700_000_000 + second, tsFrac: fraction, data: ethernet(ipv4({ src, dst, proto: 6, srcPort: 40000 + second, dstPort: 443 })) };
}

describe("direction", () => {
  const cases: Array<[string, string, string]> = [
    ["203.0.113.5", "10.0.0.1", "inbound"],
    ["10.0.0.1", "203.0.113.5", "outbound"],
    ["10.0.0.1", "10.9.9.9", "internal"],
    ["192.0.2.1", "203.0.113.5", "external"],
  ];
  const input = buildPcap(
    cases.map(([src, dst], i) => packet(src, dst, i)),
    { linkType: 1 },
  );

  it("marks each of the four cases in text", async () => {
    const result = await runCli(["--blocklist", LIST, "--quiet", "--home-net", "10.0.0.0/8"], { input });
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.trim().split("\n");
    assert.equal(lines.length, 4);
    cases.forEach(([src, dst, direction], i) => {
      assert.ok(lines[i]!.includes(` ${src}:${40000 + i} -> ${dst}:443 dir=${direction} match=`), lines[i]);
    });
  });

  it("marks each of the four cases in JSON", async () => {
    const result = await runCli(["--blocklist", LIST, "--quiet", "--home-net", "[10.0.0.0/8]", "--format", "json"], { input });
    assert.deepEqual(
      jsonLines(result.stdout).map((alert) => alert.direction),
      cases.map(([, , direction]) => direction),
    );
  });

  it("takes private, shared and link-local blocks as home by default", async () => {
    const defaults = buildPcap(
      [packet("192.168.1.10", "203.0.113.5", 0), packet("100.64.0.9", "203.0.113.5", 1), packet("169.254.3.3", "203.0.113.5", 2), packet("8.8.8.8", "203.0.113.5", 3)],
      { linkType: 1 },
    );
    const result = await runCli(["--blocklist", LIST, "--quiet"], { input: defaults });
    assert.deepEqual(
      result.stdout.trim().split("\n").map((line) => / dir=(\w+) /.exec(line)?.[1]),
      ["outbound", "outbound", "outbound", "external"],
    );
  });

  it("cuts negated blocks out of the home network", () => {
    const home = HomeNet.parse("[10.0.0.0/8, !10.9.0.0/16, 192.0.2.10-192.0.2.20, 2001:db8::/32]");
    assert.equal(home.describe(), "10.0.0.0-10.8.255.255,10.10.0.0-10.255.255.255,192.0.2.10-192.0.2.20");
    assert.equal(DIRECTION_NAMES[home.direction(address("10.0.0.1"), address("10.9.9.9"))], "outbound");
    assert.equal(DIRECTION_NAMES[home.direction(address("10.9.9.9"), address("192.0.2.15"))], "inbound");
  });

  it("takes negations alone as every other address", async () => {
    const result = await runCli(["--blocklist", LIST, "--quiet", "--home-net", "!10.0.0.0/8"], { input });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(
      result.stdout.trim().split("\n").map((line) => / dir=(\w+) /.exec(line)?.[1]),
      ["outbound", "inbound", "external", "internal"],
    );
    assert.equal(HomeNet.parse("[!10.0.0.0/8, !192.0.2.0/24]").describe(), "0.0.0.0-9.255.255.255,11.0.0.0-192.0.1.255,192.0.3.0-255.255.255.255");
    assert.equal(HomeNet.parse("fd00::/8,!10.0.0.0/8").describe(), "");
  });

  it("rejects an invalid home network with status 2", async () => {
    assert.throws(() => HomeNet.parse("10.0.0.0/8,,192.168.0.0/16"), HomeNetError);
    const result = await runCli(["--blocklist", LIST, "--home-net", "10.0.0.0/33"], { input });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /option '--home-net <cidrs>' argument '10\.0\.0\.0\/33' is invalid\. "10\.0\.0\.0\/33" in the home network is invalid \(prefix length not in 0-32\)/);
  });
});

describe("scan allowlist", () => {
  const directory = temporaryDirectory();
  const allow = join(directory, "allow.txt");
  writeFileSync(allow, "# our partners\n203.0.113.7\n198.51.100.0/25\n");
  const input = buildPcap(
    [
      packet("203.0.113.7", "10.0.0.1", 0),
      packet("203.0.113.8", "10.0.0.1", 1),
      packet("203.0.113.7", "198.51.100.200", 2),
      packet("198.51.100.5", "203.0.113.7", 3),
    ],
    { linkType: 1 },
  );

  it("drops allowed sides and counts the dropped alerts", async () => {
    const result = await runCli(["--blocklist", LIST, "--dedup", "0", "--allow", allow], { input });
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.trim().split("\n");
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /pkt=2 TCP 203\.0\.113\.8:40001 -> 10\.0\.0\.1:443 dir=inbound match=src src_range=203\.0\.113\.0\/24/);
    assert.match(lines[1]!, /pkt=3 TCP 203\.0\.113\.7:40002 -> 198\.51\.100\.200:443 dir=external match=dst dst_range=198\.51\.100\.0\/24 dst_sources=drop$/);
    assert.match(result.stderr, / 2 alerts, 0 suppressed, 2 allowed\n/);
  });

  it("exits 1 when every alert is allowed", async () => {
    const allowAll = join(directory, "all.txt");
    writeFileSync(allowAll, "203.0.113.0/24\n198.51.100.0/24\n");
    const result = await runCli(["--blocklist", LIST, "--dedup", "0", "--allow", allowAll, "--allow", allow], { input });
    assert.equal(result.status, 1);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, / 0 alerts, 0 suppressed, 4 allowed\n/);
  });

  it("rejects an invalid line naming the file and line", async () => {
    const bad = join(directory, "bad.txt");
    writeFileSync(bad, "192.0.2.1\nexample.com\n");
    const result = await runCli(["--blocklist", LIST, "--allow", bad], { input });
    assert.equal(result.status, 2);
    assert.equal(result.stderr, `repfilter: error: --allow ${bad}:2: not an IPv4 address: "example.com"; fix the line\n`);
  });
});

/** Runs a program that the CI script installs; a missing one fails the test with the fix. */
function tool(name: string, args: string[]): string {
  try {
    return execFileSync(name, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") assert.fail(`${name} is not installed; .ci/run installs it (apt-get install ${name})`);
    throw error;
  }
}

interface ClassicRecord {
  tsSec: number;
  tsFrac: number;
  caplen: number;
  origLen: number;
  data: Buffer;
}

/** Parses a little-endian classic pcap: its magic, link type and records. */
function readPcap(path: string): { magic: number; linkType: number; records: ClassicRecord[] } {
  const file = readFileSync(path);
  const records: ClassicRecord[] = [];
  for (let at = 24; at < file.length; ) {
    const caplen = file.readUInt32LE(at + 8);
    records.push({ tsSec: file.readUInt32LE(at), tsFrac: file.readUInt32LE(at + 4), caplen, origLen: file.readUInt32LE(at + 12), data: file.subarray(at + 16, at + 16 + caplen) });
    at += 16 + caplen;
  }
  return { magic: file.readUInt32LE(0), linkType: file.readUInt32LE(20), records };
}

interface BinaryResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs `repfilter ARGS...` and keeps stdout as bytes. `stdin` names a file to
 * redirect from, as a shell does, and `closeStdoutAfterBytes` closes stdout
 * once that many bytes arrived.
 */
function runBinary(args: string[], options: { input?: Uint8Array; stdin?: string; closeStdoutAfterBytes?: number }): Promise<BinaryResult> {
  const stdinFd = options.stdin !== undefined ? openSync(options.stdin, "r") : undefined;
  return new Promise((resolve) => {
    // A scratch directory as cwd, so that a file named "-" could not land in the repository.
    const child = spawn(process.execPath, [BIN, ...args], { cwd: temporaryDirectory(), stdio: [stdinFd ?? "pipe", "pipe", "pipe"] });
    if (stdinFd !== undefined) closeSync(stdinFd);
    const stdout: Buffer[] = [];
    let received = 0;
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout.push(chunk);
      received += chunk.length;
      if (options.closeStdoutAfterBytes !== undefined && received >= options.closeStdoutAfterBytes) child.stdout!.destroy();
    });
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout: Buffer.concat(stdout), stderr });
    });
    child.stdin?.on("error", () => {});
    child.stdin?.end(options.input ?? "");
  });
}

describe("evidence file", () => {
  it("writes every matched packet, repeats included, readable by tcpdump", async () => {
    const directory = temporaryDirectory();
    const evidence = join(directory, "evidence.pcap");
    const truncated = { ...packet("203.0.113.9", "10.0.0.1", 3, 999_999), origLen: 1500 };
    const records = [packet("203.0.113.5", "10.0.0.1", 0, 10), packet("10.0.0.1", "192.0.2.1", 1), packet("203.0.113.5", "10.0.0.1", 2, 20), truncated];
    const result = await runCli(["--blocklist", LIST, "--write-pcap", evidence], { input: buildPcap(records, { linkType: 1 }) });
    assert.equal(result.status, 0, result.stderr);
    // The repeat within 60 s is suppressed in the alerts but kept as evidence.
    assert.equal(result.stdout.trim().split("\n").length, 2);
    assert.match(result.stderr, / 2 alerts, 1 suppressed/);

    const written = readPcap(evidence);
    assert.equal(written.magic, 0xa1b2c3d4);
    assert.equal(written.linkType, 1);
    const expected = [records[0]!, records[2]!, records[3]!];
    assert.deepEqual(
      written.records.map((record) => [record.tsSec, record.tsFrac, record.origLen, record.data.toString("hex")]),
      expected.map((record) => [record.tsSec, record.tsFrac, record.origLen ?? record.data.length, Buffer.from(record.data).toString("hex")]),
    );

    const lines = tool("tcpdump", ["-nn", "-tt", "-r", evidence]).trim().split("\n");
    assert.deepEqual(
      lines.map((line) => line.split(" ").slice(0, 5).join(" ")),
      ["1700000000.000010 IP 203.0.113.5.40000 > 10.0.0.1.443:", "1700000002.000020 IP 203.0.113.5.40002 > 10.0.0.1.443:", "1700000003.999999 IP 203.0.113.9.40003 > 10.0.0.1.443:"],
    );
  });

  it("keeps nanoseconds and leaves allowed packets out", async () => {
    const directory = temporaryDirectory();
    const evidence = join(directory, "evidence.pcap");
    const allow = join(directory, "allow.txt");
    writeFileSync(allow, "203.0.113.7\n");
    const records = [packet("203.0.113.7", "10.0.0.1", 0, 1), packet("203.0.113.5", "10.0.0.1", 1, 123_456_789)];
    const result = await runCli(["--blocklist", LIST, "--allow", allow, "--write-pcap", evidence], { input: buildPcap(records, { linkType: 1, nanoseconds: true }) });
    assert.equal(result.status, 0, result.stderr);
    const written = readPcap(evidence);
    assert.equal(written.magic, 0xa1b23c4d);
    assert.deepEqual(
      written.records.map((record) => [record.tsSec, record.tsFrac]),
      [[1_700_000_001, 123_456_789]],
    );
    assert.match(tool("tcpdump", ["-nn", "-tt", "--nano", "-r", evidence]), /^1700000001\.123456789 IP 203\.0\.113\.5\.40001 > 10\.0\.0\.1\.443:/);
  });

  it("converts to pcapng when a second link type arrives, readable by tshark", async () => {
    const directory = temporaryDirectory();
    const evidence = join(directory, "evidence.pcap");
    writeFileSync(join(directory, "a.pcap"), buildPcap([packet("203.0.113.5", "10.0.0.1", 0, 5)], { linkType: 1 }));
    const raw = ipv4({ src: "10.0.0.2", dst: "198.51.100.9", proto: 17, srcPort: 5353, dstPort: 53 });
    writeFileSync(
      join(directory, "b.pcapng"),
      buildPcapng([{ interfaceId: 0, timestamp: 1_700_000_010_000_000_123n, data: raw }], { interfaces: [{ linkType: 101, tsresol: 9 }] }),
    );
    const result = await runCli(["--blocklist", LIST, "--quiet", "--write-pcap", evidence, "a.pcap", "b.pcapng"], { cwd: directory });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(readFileSync(evidence).readUInt32LE(0), 0x0a0d0d0a);

    const fields = tool("tshark", ["-r", evidence, "-T", "fields", "-e", "frame.time_epoch", "-e", "ip.src", "-e", "ip.dst", "-e", "frame.len"]);
    assert.deepEqual(
      fields.trim().split("\n").map((line) => line.split("\t")),
      [
        ["1700000000.000005000", "203.0.113.5", "10.0.0.1", "54"],
        ["1700000010.000000123", "10.0.0.2", "198.51.100.9", "28"],
      ],
    );
  });

  it("writes a valid empty capture when nothing matches", async () => {
    const evidence = join(temporaryDirectory(), "none.pcap");
    const result = await runCli(["--blocklist", LIST, "--write-pcap", evidence], { input: buildPcap([packet("10.0.0.1", "10.0.0.2", 0)], { linkType: 113 }) });
    assert.equal(result.status, 1);
    const written = readPcap(evidence);
    assert.equal(written.linkType, 113);
    assert.equal(written.records.length, 0);
    assert.equal(tool("tcpdump", ["-nn", "-r", evidence]), "");
  });

  it("fails with status 2 when the disk is full", async () => {
    const result = await runCli(["--blocklist", LIST, "--write-pcap", "/dev/full"], { input: buildPcap([packet("203.0.113.5", "10.0.0.1", 0)], { linkType: 1 }) });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /repfilter: error: cannot write the evidence file \/dev\/full: no space left on the device/);
  });

  it("rejects evidence paths that name an input", async () => {
    const directory = temporaryDirectory();
    const capture = join(directory, "capture.pcap");
    const bytes = buildPcap([packet("203.0.113.5", "10.0.0.1", 0)], { linkType: 1 });
    writeFileSync(capture, bytes);
    linkSync(capture, join(directory, "linked.pcap"));
    const cases: Array<[string, string[], string]> = [
      [capture, [capture], `the input ${capture}`],
      [join(directory, "linked.pcap"), ["other.pcap", capture], `the input ${capture}`],
      [LIST, [capture], `the list ${LIST}`],
    ];
    for (const [evidence, inputs, what] of cases) {
      const result = await runCli(["--blocklist", LIST, "--write-pcap", evidence, ...inputs]);
      assert.equal(result.status, 2, evidence);
      assert.equal(result.stdout, "");
      assert.equal(result.stderr, `repfilter: error: the evidence file ${evidence} is ${what}, which writing it would destroy; name another file for --write-pcap\n`);
    }
    const redirected = await runBinary(["--blocklist", LIST, "--write-pcap", capture], { stdin: capture });
    assert.equal(redirected.status, 2);
    assert.match(redirected.stderr, /is the input stdin, which writing it would destroy/);
    assert.deepEqual(readFileSync(capture), bytes);
    assert.ok(readFileSync(LIST).length > 0);
  });

  it("rejects /dev/stdout as the evidence file", async () => {
    const result = await runBinary(["--blocklist", LIST, "--write-pcap", "/dev/stdout"], { input: buildPcap([packet("203.0.113.5", "10.0.0.1", 0)], { linkType: 1 }) });
    assert.equal(result.status, 2);
    assert.equal(result.stdout.length, 0);
    assert.equal(
      result.stderr,
      "repfilter: error: the evidence file /dev/stdout is stdout, where the alerts go; use --write-pcap - to write the packets to stdout in place of the alerts\n",
    );
  });

  it("writes pcapng to stdout with -", async () => {
    const records = [packet("203.0.113.5", "10.0.0.1", 0, 10), packet("10.0.0.1", "10.0.0.2", 1), packet("10.0.0.1", "198.51.100.9", 2)];
    const result = await runBinary(["--blocklist", LIST, "--write-pcap", "-"], { input: buildPcap(records, { linkType: 1 }) });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /^repfilter: 3 packets, .* 2 alerts, 0 suppressed\n$/);
    assert.equal(result.stdout.readUInt32LE(0), 0x0a0d0d0a);
    const copy = join(temporaryDirectory(), "from-stdout.pcapng");
    writeFileSync(copy, result.stdout);
    assert.deepEqual(tool("tshark", ["-r", copy, "-T", "fields", "-e", "ip.src", "-e", "ip.dst"]).trim().split("\n"), ["203.0.113.5\t10.0.0.1", "10.0.0.1\t198.51.100.9"]);
  });

  it("ends quietly when the reader of - exits early", async () => {
    const records = Array.from({ length: 20_000 }, (_, i) => packet("203.0.113.5", "10.0.0.1", i));
    const result = await runBinary(["--blocklist", LIST, "--write-pcap", "-"], { input: buildPcap(records, { linkType: 1 }), closeStdoutAfterBytes: 1 });
    assert.equal(result.signal, null, "killed by the timeout");
    assert.equal(result.stdout.readUInt32LE(0), 0x0a0d0d0a);
    assert.equal(result.status, 0);
    assert.equal(result.stderr, "");
  });

  it("rejects - when stdout is a terminal", () => {
    const capture = join(temporaryDirectory(), "capture.pcap");
    writeFileSync(capture, buildPcap([packet("203.0.113.5", "10.0.0.1", 0)], { linkType: 1 }));
    // script(1) from util-linux runs the command on a pseudo-terminal and exits with its status.
    const command = `'${process.execPath}' '${BIN}' --blocklist '${LIST}' --write-pcap - < '${capture}'`;
    const result = spawnSync("script", ["-qec", command, "/dev/null"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 20_000 });
    assert.equal(result.error, undefined, "script(1) from util-linux is needed for this test");
    assert.equal(result.status, 2, result.stdout);
    assert.match(result.stdout, /repfilter: error: --write-pcap - writes a capture to stdout, which is a terminal; redirect stdout/);
  });

  it("fails with status 2 when the file cannot be created", async () => {
    const path = join(temporaryDirectory(), "missing", "evidence.pcap");
    const result = await runCli(["--blocklist", LIST, "--write-pcap", path], { input: buildPcap([packet("203.0.113.5", "10.0.0.1", 0)], { linkType: 1 }) });
    assert.equal(result.status, 2);
    assert.equal(result.stderr, `repfilter: error: cannot create the evidence file ${path}: no such file\n`);
    assert.equal(result.stdout, "");
  });
});
