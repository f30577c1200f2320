// The command line on pcapng and gzip input, through files, pipes and in-process
// streams cut into chunks of every size.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { main } from "../src/cli/main.js";
import { TimestampFormatter } from "../src/output/timestamp.js";
import { buildPcapng, type PcapngPacket } from "../src/pcap/pcapng-writer.js";
import { buildPcap } from "../src/pcap/writer.js";
import { BIN, jsonLines, runCli, temporaryDirectory, writeBlocklist } from "./helpers/cli.js";
import { ethernet, gre, ipv4 } from "./helpers/packets.js";
import { listOf } from "./helpers/scan.js";

const LIST = writeBlocklist(listOf(["192.0.2.0/24", "203.0.113.7"], "demo"));

function pcapngPackets(count: number): PcapngPacket[] {
  return Array.from({ length: count }, (_, i) => ({
    timestamp: 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000_007n,
    data: ethernet(ipv4({ src: i % 3 === 0 ? "10.0.0.1" : `192.0.2.${i % 200}`, dst: "10.0.0.2", proto: 6, srcPort: 1000 + i, dstPort: 443 })),
  }));
}

const PCAPNG = buildPcapng(pcapngPackets(300), { interfaces: [{ linkType: 1, tsresol: 9 }] });

/** Runs the CLI as a child, writing `input` to its stdin `size` bytes at a time, each after the last was consumed. */
function runWithWrites(input: Uint8Array, size: number, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
    child.stdin.on("error", () => {});
    const writeFrom = (offset: number): void => {
      if (offset >= input.length) {
        child.stdin.end();
        return;
      }
      child.stdin.write(input.subarray(offset, offset + size), () => setImmediate(() => writeFrom(offset + size)));
    };
    writeFrom(0);
  });
}

/** Runs `main` in-process with stdin delivered in chunks of exactly the given sizes, cycled. */
async function runInProcess(input: Uint8Array, sizes: number[], args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const chunks: Buffer[] = [];
  let turn = 0;
  for (let offset = 0; offset < input.length; ) {
    const size = sizes[turn++ % sizes.length]!;
    chunks.push(Buffer.from(input.subarray(offset, offset + size)));
    offset += size;
  }
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const status = await main(args, { stdin: Readable.from(chunks, { objectMode: false }), stdout, stderr, env: {} });
  return { status, stdout: out, stderr: err };
}

describe("pcapng and gzip input", () => {
  it("alerts on a pcapng file with nanosecond timestamps", async () => {
    const directory = temporaryDirectory();
    writeFileSync(join(directory, "a.pcapng"), PCAPNG);
    const result = await runCli(["--blocklist", LIST, "--dedup", "0", "--format", "json", "a.pcapng"], { cwd: directory });
    assert.equal(result.status, 0);
    const alerts = jsonLines(result.stdout);
    assert.equal(alerts.length, 200);
    assert.equal(alerts[0]!.pcap_cnt, 2);
    assert.equal(alerts[0]!.timestamp, "2023-11-14T22:13:21.000000007Z");
    assert.equal(alerts[0]!.pcap_filename, "a.pcapng");
  });

  it("reads the 96-byte bare-Ethernet pcapng through a pipe", async () => {
    const bare = buildPcapng([{ data: ethernet(new Uint8Array(0), 0x9000) }], { interfaces: [{ linkType: 1 }] });
    assert.equal(bare.length, 96);
    const quiet = await runCli(["--blocklist", LIST], { input: bare });
    assert.equal(quiet.status, 1);
    assert.equal(quiet.stdout, "");
    assert.match(quiet.stderr, /^repfilter: 1 packet, 96 B .* 0 IPv4, 0 alerts/);
    assert.match(quiet.stderr, /skipped 1 packet: not_ipv4 1/);

    const variant = buildPcapng([{ data: ethernet(ipv4({ src: "192.0.2.77", dst: "10.0.0.1", proto: 1 })) }], { interfaces: [{ linkType: 1 }] });
    const alert = await runCli(["--blocklist", LIST, "--quiet"], { input: variant });
    assert.equal(alert.status, 0);
    assert.match(alert.stdout, /^1970-01-01T00:00:00\.000000Z pkt=1 ICMP 192\.0\.2\.77 -> 10\.0\.0\.1 dir=inbound match=src/);
  });

  it("decompresses gzip files and gzip on stdin", async () => {
    const directory = temporaryDirectory();
    const compressed = gzipSync(PCAPNG);
    writeFileSync(join(directory, "a.pcapng.gz"), compressed);
    writeFileSync(join(directory, "b.pcap.gz"), gzipSync(buildPcap([{ tsSec: 1, tsFrac: 0, data: ipv4({ src: "203.0.113.7", dst: "10.0.0.1" }) }], { linkType: 101 })));
    const plain = await runCli(["--blocklist", LIST, "--dedup", "0", "-"], { input: PCAPNG });
    const file = await runCli(["--blocklist", LIST, "--dedup", "0", "a.pcapng.gz"], { cwd: directory });
    const piped = await runCli(["--blocklist", LIST, "--dedup", "0"], { input: compressed });
    assert.equal(file.status, 0);
    assert.equal(file.stdout, plain.stdout);
    assert.equal(piped.stdout, plain.stdout);
    // Input bytes count what was read: the compressed size.
    assert.match(file.stderr, new RegExp(`^repfilter: 300 packets, ${(compressed.length / 1000).toFixed(1)} kB in `));
    const pcap = await runCli(["--blocklist", LIST, "--quiet", "b.pcap.gz"], { cwd: directory });
    assert.equal(pcap.stdout.trim().split("\n").length, 1);
  });

  it("reads concatenated gzip members", async () => {
    const half = PCAPNG.length >> 1;
    const members = Buffer.concat([gzipSync(PCAPNG.subarray(0, half)), gzipSync(PCAPNG.subarray(half))]);
    const expected = await runCli(["--blocklist", LIST, "--dedup", "0"], { input: PCAPNG });
    const result = await runCli(["--blocklist", LIST, "--dedup", "0"], { input: members });
    assert.equal(result.stdout, expected.stdout);
  });

  it("names the file of a cut gzip stream after the earlier alerts", async () => {
    const directory = temporaryDirectory();
    const compressed = gzipSync(PCAPNG);
    writeFileSync(join(directory, "cut.pcapng.gz"), compressed.subarray(0, compressed.length - 30));
    const result = await runCli(["--blocklist", LIST, "--dedup", "0", "cut.pcapng.gz"], { cwd: directory });
    assert.equal(result.status, 2);
    assert.ok(result.stdout.split("\n").length > 100, "the alerts before the cut are printed");
    assert.match(result.stderr, /^repfilter: error: cut\.pcapng\.gz: gzip data is cut short \(unexpected end of file\)/);
  });

  it("names the input of a corrupt gzip stream", async () => {
    const compressed = Buffer.from(gzipSync(PCAPNG));
    // Damage the header's compression method: zlib rejects it before any output.
    compressed[2] = 7;
    const result = await runCli(["--blocklist", LIST], { input: compressed });
    assert.equal(result.status, 2);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^repfilter: error: stdin: gzip member 1 uses compression method 7, not deflate \(8\)\n/);
  });

  it("reports corrupt deflate data in-process and through a file, without hanging", async () => {
    const compressed = Buffer.from(gzipSync(PCAPNG));
    // A flipped bit in the first deflate block header: zlib fails the write instead of calling back.
    compressed[10] = compressed[10]! ^ 0x06;
    const inProcess = await runInProcess(compressed, [131, 85], ["--blocklist", LIST, "--dedup", "0"]);
    assert.equal(inProcess.status, 2);
    assert.match(inProcess.stderr, /^repfilter: error: stdin: gzip data is corrupt \(/m);
    const directory = temporaryDirectory();
    writeFileSync(join(directory, "bad.pcapng.gz"), compressed);
    const file = await runCli(["--blocklist", LIST, "bad.pcapng.gz"], { cwd: directory });
    assert.equal(file.status, 2);
    assert.match(file.stderr, /^repfilter: error: bad\.pcapng\.gz: gzip data is corrupt \(/m);
  });

  it("ignores zero padding after the gzip data and warns about other trailing bytes", async () => {
    const expected = await runCli(["--blocklist", LIST, "--dedup", "0"], { input: PCAPNG });
    const padded = await runCli(["--blocklist", LIST, "--dedup", "0"], { input: Buffer.concat([gzipSync(PCAPNG), Buffer.alloc(4096)]) });
    assert.equal(padded.status, 0);
    assert.equal(padded.stdout, expected.stdout);
    assert.doesNotMatch(padded.stderr, /warning/);
    const garbage = await runCli(["--blocklist", LIST, "--dedup", "0"], { input: Buffer.concat([gzipSync(PCAPNG), Buffer.from("not gzip at all\n")]) });
    assert.equal(garbage.status, 0);
    assert.equal(garbage.stdout, expected.stdout, "every alert of the complete member is printed");
    assert.match(garbage.stderr, /^repfilter: warning: stdin: 16 bytes after the end of the gzip data were ignored$/m);
  });

  it("stops reading gzip on stdin when stdout closes early", async () => {
    const big = buildPcapng(pcapngPackets(20000), { interfaces: [{ linkType: 1, tsresol: 9 }] });
    const script = `"${process.execPath}" "${BIN}" --blocklist "${LIST}" --dedup 0 --quiet | head -n 2; echo "status \${PIPESTATUS[0]}" >&2`;
    const child = spawn("bash", ["-c", script], { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stdin.on("error", () => {});
    child.stdin.end(gzipSync(big));
    const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
    assert.equal(status, 0);
    assert.equal(stdout.trim().split("\n").length, 2);
    // Alerts were printed, so the filter ends with 0, as grep does (not 13, an unsettled wait).
    assert.equal(stderr, "status 0\n");
  });

  it("gives the same output for 1-byte, 7-byte and 64 KiB writes", async () => {
    const args = ["--blocklist", LIST, "--dedup", "0", "--quiet", "--format", "json"];
    for (const input of [PCAPNG, gzipSync(PCAPNG)]) {
      const outputs: string[] = [];
      for (const size of [1, 7, 65536]) outputs.push((await runWithWrites(input, size, args)).stdout);
      assert.equal(jsonLines(outputs[0]!).length, 200);
      assert.equal(outputs[1], outputs[0]);
      assert.equal(outputs[2], outputs[0]);
    }
  });

  it("gives the same output for any stdin chunking in-process", async () => {
    const tunneled = buildPcapng(
      [{ data: ethernet(ipv4({ src: "198.51.100.1", dst: "198.51.100.2", proto: 47, payload: gre(ipv4({ src: "203.0.113.7", dst: "10.0.0.1", proto: 17, srcPort: 1, dstPort: 2 })) })) }],
      { interfaces: [{ linkType: 1 }] },
    );
    const args = ["--blocklist", LIST, "--dedup", "0", "--format", "json"];
    for (const input of [PCAPNG, gzipSync(PCAPNG), tunneled, gzipSync(tunneled)]) {
      const expected = await runInProcess(input, [input.length], args);
      assert.ok(expected.stdout.length > 0);
      for (const sizes of [[1], [7], [65536], [1, 2, 3, 5, 8, 13, 4096]]) {
        const result = await runInProcess(input, sizes, args);
        assert.equal(result.stdout, expected.stdout, `chunks ${sizes.join(",")}`);
        assert.equal(result.status, expected.status);
      }
    }
  });

  it("prints the tunnel depth of inner hits in text and JSON", async () => {
    const frame = ethernet(ipv4({ src: "198.51.100.1", dst: "198.51.100.2", proto: 4, payload: ipv4({ src: "203.0.113.7", dst: "10.0.0.1", proto: 1 }) }));
    const input = buildPcap([{ tsSec: 1, tsFrac: 0, data: frame }], { linkType: 1 });
    const text = await runCli(["--blocklist", LIST, "--quiet"], { input });
    assert.match(text.stdout, /^1970-01-01T00:00:01\.000000Z pkt=1 ICMP 203\.0\.113\.7 -> 10\.0\.0\.1 dir=inbound match=src .* layer=1\n$/);
    const json = await runCli(["--blocklist", LIST, "--quiet", "--format", "json"], { input });
    assert.equal(jsonLines(json.stdout)[0]!.layer, 1);
    const summary = await runCli(["--blocklist", LIST], { input });
    assert.match(summary.stderr, /1 IPv4, 1 alert, 0 suppressed; 1 tunneled IPv4 header/);
  });

  it("notes packets with tunnels nested too deep", async () => {
    let packet: Uint8Array = ipv4({ src: "203.0.113.7", dst: "10.0.0.1", proto: 1 });
    for (let i = 0; i < 4; i++) packet = ipv4({ src: "198.51.100.1", dst: "198.51.100.2", proto: 4, payload: packet });
    const input = buildPcap([{ tsSec: 1, tsFrac: 0, data: packet }], { linkType: 101 });
    const result = await runCli(["--blocklist", LIST], { input });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /; 3 tunneled IPv4 headers\n/);
    assert.match(result.stderr, /\nrepfilter: noted: tunnel_depth_limit 1\n/);
  });

  it("says in --help which formats and link types it reads", async () => {
    const result = await runCli(["--help"]);
    assert.match(result.stdout, /pcap and pcapng, each plain or gzip-compressed/);
    assert.match(result.stdout, /PPP, PPP in HDLC\s+framing, Cisco HDLC and NFLOG/);
    assert.match(result.stdout, /GRE and VXLAN/);
  });
});

describe("timestamps outside years 0000-9999", () => {
  const data = ethernet(ipv4({ src: "192.0.2.1", dst: "10.0.0.2", proto: 6, srcPort: 1000, dstPort: 443 }));
  // 10000-01-01 in microseconds; and 400000 years of 146097 days per 400 years after 1970, past Date's range.
  const year10000 = buildPcapng([{ timestamp: 253_402_300_800_123_456n, data }], { interfaces: [{ linkType: 1, tsresol: 6 }] });
  const year401970 = buildPcapng([{ timestamp: 123_456n, data }], { interfaces: [{ linkType: 1, tsresol: 6, tsoffset: 1000n * 146_097n * 86_400n }] });

  it("prints an expanded year in text", async () => {
    const near = await runCli(["--blocklist", LIST, "--quiet"], { input: year10000 });
    assert.equal(near.status, 0, near.stderr);
    assert.match(near.stdout, /^\+010000-01-01T00:00:00\.123456Z pkt=1 TCP /);
    const far = await runCli(["--blocklist", LIST, "--quiet"], { input: year401970 });
    assert.equal(far.status, 0, far.stderr);
    assert.match(far.stdout, /^\+401970-01-01T00:00:00\.123456Z pkt=1 TCP /);
  });

  it("prints an expanded year in JSON", async () => {
    const near = await runCli(["--blocklist", LIST, "--quiet", "--format", "json"], { input: year10000 });
    assert.equal(jsonLines(near.stdout)[0]!.timestamp, "+010000-01-01T00:00:00.123456Z");
    const far = await runCli(["--blocklist", LIST, "--quiet", "--format", "json"], { input: year401970 });
    assert.equal(jsonLines(far.stdout)[0]!.timestamp, "+401970-01-01T00:00:00.123456Z");
  });

  it("agrees with Date wherever Date has the year", () => {
    const formatter = new TimestampFormatter();
    // Date's range is 8.64e15 ms either side of 1970; step through it unevenly, across leap days.
    for (let seconds = -8.64e12; seconds <= 8.64e12; seconds += 7_919_999_937) {
      const whole = Math.floor(seconds);
      const expected = new Date(whole * 1000).toISOString().replace(/\.000Z$/, ".5Z");
      assert.equal(formatter.format(whole, 5, 1), expected, `${whole} s`);
    }
    for (const iso of ["-000001-12-31T23:59:59", "0000-02-29T00:00:00", "9999-12-31T23:59:59", "+010000-02-29T12:00:00", "-271821-04-20T00:00:00", "+275760-09-13T00:00:00"]) {
      assert.equal(formatter.format(Date.parse(`${iso}Z`) / 1000, 0, 0), `${iso}Z`);
    }
  });
});
