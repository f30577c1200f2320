// The command line end to end, through a child process.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DEFAULT_RESERVED_RANGES } from "../src/feeds/policy.js";
import { BLOCK_NRB, enhancedPacketBlock, interfaceDescriptionBlock, pcapngBlock, sectionHeaderBlock } from "../src/pcap/pcapng-writer.js";
import { buildPcap, pcapFileHeader, pcapRecordHeader, type PcapRecord } from "../src/pcap/writer.js";
import { BIN, jsonLines, REPO, runCli, temporaryDirectory, writeBlocklist } from "./helpers/cli.js";
import { ethernet, ipv4, sll2 } from "./helpers/packets.js";
import { listOf } from "./helpers/scan.js";

const LIST = writeBlocklist(listOf(["192.0.2.0/24", "203.0.113.7"], "demo"));

/** Runs `repfilter ARGS...` with stdin opened from `path`, as a shell redirection does, and a 10-second limit. */
function runWithStdin(args: string[], path: string): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const input = openSync(path, "r");
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: [input, "pipe", "pipe"] });
    closeSync(input);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/**
 * Waits until a thread of process `pid` blocks in the kernel's FIFO open, which
 * Linux shows as wait_for_partner in /proc/PID/task/TID/wchan; gives up after 10 s.
 */
async function waitForFifoOpen(pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      const tasks = readdirSync(`/proc/${pid}/task`);
      if (tasks.some((task) => readFileSync(`/proc/${pid}/task/${task}/wchan`, "utf8").includes("wait_for_partner"))) return;
    } catch {
      // A thread may end between the listing and the read.
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function records(count: number, src = "192.0.2.1", dst = "10.0.0.1"): PcapRecord[] {
  return Array.from({ length: count }, (_, i) => ({ tsSec: 1_700_000_000 + i, tsFrac: i, data: ethernet(ipv4({ src, dst, proto: 6, srcPort: 1000 + i, dstPort: 443 })) }));
}

describe("scan output", () => {
  it("prints one text line per alert and exits 0", async () => {
    const input = buildPcap([...records(2), ...records(1, "10.0.0.1", "10.0.0.2")], { linkType: 1 });
    const result = await runCli(["--blocklist", LIST, "--dedup", "0"], { input });
    assert.equal(result.status, 0);
    assert.deepEqual(result.stdout.split("\n"), [
      "2023-11-14T22:13:20.000000Z pkt=1 TCP 192.0.2.1:1000 -> 10.0.0.1:443 dir=inbound match=src src_range=192.0.2.0/24 src_sources=demo",
      "2023-11-14T22:13:21.000001Z pkt=2 TCP 192.0.2.1:1001 -> 10.0.0.1:443 dir=inbound match=src src_range=192.0.2.0/24 src_sources=demo",
      "",
    ]);
    assert.match(result.stderr, /^repfilter: 3 packets, .* 3 IPv4, 2 alerts, 0 suppressed\n$/);
  });

  it("prints EVE-style JSON with the capture's precision", async () => {
    const input = buildPcap([{ tsSec: 1_700_000_000, tsFrac: 305_694_000, data: ipv4({ src: "10.0.0.1", dst: "203.0.113.7", proto: 17, srcPort: 5000, dstPort: 53 }) }], { linkType: 101, nanoseconds: true });
    const result = await runCli(["--blocklist", LIST, "--format", "json"], { input });
    assert.equal(result.status, 0);
    assert.deepEqual(jsonLines(result.stdout), [
      {
        timestamp: "2023-11-14T22:13:20.305694000Z",
        event_type: "alert",
        pcap_cnt: 1,
        src_ip: "10.0.0.1",
        src_port: 5000,
        dest_ip: "203.0.113.7",
        dest_port: 53,
        proto: "UDP",
        ip_proto: 17,
        direction: "outbound",
        match: { side: "dest", dest: { range: "203.0.113.7/32", sources: ["demo"], listed: [{ source: "demo", range: "203.0.113.7/32" }] } },
      },
    ]);
  });

  it("matches both sides in one line", async () => {
    const input = buildPcap(records(1, "192.0.2.9", "203.0.113.7"), { linkType: 1 });
    const result = await runCli(["--blocklist", LIST, "--quiet"], { input });
    assert.match(result.stdout, /match=both src_range=192\.0\.2\.0\/24 src_sources=demo dst_range=203\.0\.113\.7\/32 dst_sources=demo\n$/);
    assert.equal(result.stderr, "");
  });

  it("exits 1 when nothing matches", async () => {
    const result = await runCli(["--blocklist", LIST], { input: buildPcap(records(3, "10.0.0.1"), { linkType: 1 }) });
    assert.equal(result.status, 1);
    assert.equal(result.stdout, "");
  });

  it("suppresses repeats by default and counts them", async () => {
    const result = await runCli(["--blocklist", LIST], { input: buildPcap(records(5), { linkType: 1 }) });
    assert.equal(result.stdout.trim().split("\n").length, 1);
    assert.match(result.stderr, /1 alert, 4 suppressed/);
  });

  it("labels hits on many distinct ranges correctly", async () => {
    // More distinct ranges than the formatter caches line ends for, each hit twice.
    // Every other address, so that no two entries merge into one range.
    const addresses = Array.from({ length: 6000 }, (_, i) => `100.64.${(2 * i) >> 8}.${(2 * i) & 255}`);
    const list = writeBlocklist(listOf(addresses, "many"));
    const packets = [...addresses, ...addresses].map((src, i) => ({ tsSec: 1_700_000_000 + i, tsFrac: 0, data: ipv4({ src, dst: "10.0.0.1", proto: 1 }) }));
    const result = await runCli(["--blocklist", list, "--dedup", "0", "--quiet"], { input: buildPcap(packets, { linkType: 228 }) });
    const lines = result.stdout.trim().split("\n");
    assert.equal(lines.length, 12000);
    for (const [i, line] of lines.entries()) {
      const address = addresses[i % 6000]!;
      assert.ok(line.endsWith(` ICMP ${address} -> 10.0.0.1 dir=internal match=src src_range=${address}/32 src_sources=many`), line);
    }
  });

  it("prefixes lines with the input name when reading several inputs", async () => {
    const directory = temporaryDirectory();
    writeFileSync(join(directory, "a.pcap"), buildPcap(records(1), { linkType: 1 }));
    writeFileSync(join(directory, "b.pcap"), buildPcap(records(1, "203.0.113.7"), { linkType: 1 }));
    const result = await runCli(["--blocklist", LIST, "--quiet", "a.pcap", "b.pcap"], { cwd: directory });
    assert.equal(result.status, 0);
    const lines = result.stdout.trim().split("\n");
    assert.match(lines[0]!, /^a\.pcap: 2023-/);
    assert.match(lines[1]!, /^b\.pcap: 2023-.* pkt=1 /);
  });

  it("reads stdin redirected from a file", async () => {
    const directory = temporaryDirectory();
    const path = join(directory, "in.pcap");
    writeFileSync(path, buildPcap(records(3), { linkType: 1 }));
    const fd = openSync(path, "r");
    const result = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, "--blocklist", LIST, "--dedup", "0", "--quiet"], { stdio: [fd, "pipe", "pipe"] });
      let stdout = "";
      child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.on("close", (status) => resolve({ status, stdout }));
    });
    closeSync(fd);
    assert.equal(result.status, 0);
    assert.equal(result.stdout.trim().split("\n").length, 3);
  });

  it("gives the same output for 1-byte, 7-byte and 64 KiB writes", async () => {
    const input = buildPcap(records(40), { linkType: 1 });
    const outputs: string[] = [];
    for (const size of [1, 7, 65536]) {
      const output = await new Promise<string>((resolve) => {
        const child = spawn(process.execPath, [BIN, "--blocklist", LIST, "--dedup", "0", "--quiet", "--format", "json"], { stdio: ["pipe", "pipe", "inherit"] });
        let stdout = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.on("close", () => resolve(stdout));
        const writeFrom = (offset: number): void => {
          if (offset >= input.length) {
            child.stdin.end();
            return;
          }
          child.stdin.write(input.subarray(offset, offset + size), () => setImmediate(() => writeFrom(offset + size)));
        };
        writeFrom(0);
      });
      outputs.push(output);
    }
    assert.equal(jsonLines(outputs[0]!).length, 40);
    assert.equal(outputs[1], outputs[0]);
    assert.equal(outputs[2], outputs[0]);
  });
});

describe("scan errors", () => {
  it("rejects a bad magic in one line naming the first bytes", async () => {
    const result = await runCli(["--blocklist", LIST], { input: "hello, this is not a capture\n" });
    assert.equal(result.status, 2);
    assert.equal(result.stderr.split("\n")[0], 'repfilter: error: stdin: not a pcap or pcapng capture: the first bytes are 68 65 6c 6c ("hell": text, not a capture)');
    assert.doesNotMatch(result.stderr, /at .*\.js:\d+/);
  });

  it("rejects an absurd caplen after printing earlier alerts", async () => {
    const bad: PcapRecord = { tsSec: 9, tsFrac: 0, data: new Uint8Array(0), caplen: 0x63503d00, origLen: 0 };
    const input = Buffer.concat([buildPcap([...records(1), bad], { linkType: 1 }), Buffer.alloc(2000)]);
    const result = await runCli(["--blocklist", LIST], { input });
    assert.equal(result.status, 2);
    assert.equal(result.stdout.trim().split("\n").length, 1);
    assert.match(result.stderr, /stdin: record 2 at byte 94: caplen 1666202880 exceeds maximum 262144/);
  });

  it("rejects a pcapng block claiming 2 GiB with status 2", async () => {
    const alerting = enhancedPacketBlock({ data: ethernet(ipv4({ src: "192.0.2.1", dst: "10.0.0.1" })) });
    const head = Buffer.concat([sectionHeaderBlock(), interfaceDescriptionBlock({ linkType: 1 }), alerting]);
    const input = Buffer.concat([head, pcapngBlock(BLOCK_NRB, Buffer.alloc(16), { length: 0x80000000 }), alerting]);
    const result = await runCli(["--blocklist", LIST], { input });
    assert.equal(result.status, 2);
    assert.equal(result.stdout.trim().split("\n").length, 1);
    assert.match(result.stderr, new RegExp(`error: stdin: block 4 at byte ${head.length} \\(Name Resolution Block\\): block length 2147483648 exceeds maximum 16777216`));
  });

  it("explains captures joined with cat", async () => {
    const first = buildPcap(records(2), { linkType: 1 });
    const input = Buffer.concat([first, buildPcap(records(2, "192.0.2.2"), { linkType: 1 })]);
    const result = await runCli(["--blocklist", LIST, "--dedup", "0"], { input });
    assert.equal(result.status, 2);
    assert.equal(result.stdout.trim().split("\n").length, 2);
    const message =
      `repfilter: error: stdin: record 3 at byte ${first.length}: found a second capture file header (pcap, magic d4 c3 b2 a1); ` +
      "the input looks like capture files joined with cat. Merge them with `mergecap -w out.pcap a.pcap b.pcap`, " +
      "or pass each file as its own argument: `repfilter a.pcap b.pcap`";
    assert.equal(result.stderr.split("\n")[0], message);
  });

  it("warns about a truncated last record and keeps the earlier alerts", async () => {
    const full = buildPcap(records(3, "192.0.2.1"), { linkType: 1 });
    const result = await runCli(["--blocklist", LIST, "--dedup", "0"], { input: full.subarray(0, full.length - 10) });
    assert.equal(result.status, 0);
    assert.equal(result.stdout.trim().split("\n").length, 2);
    assert.match(result.stderr, /warning: stdin: capture ends inside record 3 at byte \d+: \d+ of \d+ bytes present/);
  });

  it("warns about empty input and exits 1", async () => {
    const result = await runCli(["--blocklist", LIST], { input: "" });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^repfilter: warning: stdin: input is empty \(0 bytes\); nothing to scan\n/);
    assert.equal(result.stdout, "");
  });

  it("reads /dev/null named and on stdin", async () => {
    const named = await runCli(["--blocklist", LIST, "--quiet", "/dev/null"]);
    assert.equal(named.status, 1);
    assert.equal(named.stderr, "repfilter: warning: /dev/null: input is empty (0 bytes); nothing to scan\n");
    const redirected = await runWithStdin(["--blocklist", LIST, "--quiet"], "/dev/null");
    assert.equal(redirected.status, 1);
    assert.equal(redirected.stderr, "repfilter: warning: stdin: input is empty (0 bytes); nothing to scan\n");
  });

  it("rejects /dev/zero on stdin promptly", async () => {
    const result = await runWithStdin(["--blocklist", LIST], "/dev/zero");
    assert.equal(result.signal, null, "killed by the timeout");
    assert.equal(result.status, 2);
    assert.equal(result.stderr.split("\n")[0], "repfilter: error: stdin: not a pcap or pcapng capture: the first bytes are 00 00 00 00");
    assert.equal(result.stdout, "");
  });

  it("rejects directory and socket paths", async () => {
    const directory = temporaryDirectory();
    const socketPath = join(directory, "capture.sock");
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const result = await runCli(["--blocklist", LIST, directory, socketPath]);
      assert.equal(result.status, 2);
      assert.deepEqual(result.stderr.trim().split("\n"), [
        `repfilter: error: ${directory}: cannot read: is a directory`,
        `repfilter: error: ${socketPath}: cannot read: is a UNIX socket, not a file; connect to it with a tool such as socat and pipe the data in`,
      ]);
    } finally {
      server.close();
    }
  });

  it("exits 2 when no packet has a decodable link type", async () => {
    const result = await runCli(["--blocklist", LIST], { input: buildPcap(records(2), { linkType: 195 }) });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /warning: stdin: link type 195 \(IEEE802_15_4_WITHFCS\) is not supported/);
    assert.match(result.stderr, /error: stdin: none of its 2 packets could be decoded/);
    assert.match(result.stderr, /unsupported_linktype 2/);
  });

  it("reports a missing file and goes on with the others", async () => {
    const directory = temporaryDirectory();
    writeFileSync(join(directory, "b.pcap"), buildPcap(records(1), { linkType: 1 }));
    const result = await runCli(["--blocklist", LIST, "missing.pcap", "b.pcap"], { cwd: directory });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /error: missing\.pcap: cannot read: no such file/);
    assert.equal(result.stdout.trim().split("\n").length, 1);
  });

  it("rejects an invalid --dedup and an unknown option with status 2", async () => {
    const dedup = await runCli(["--blocklist", LIST, "--dedup", "soon"]);
    assert.equal(dedup.status, 2);
    assert.match(dedup.stderr, /repfilter: error: option '--dedup <seconds>' argument 'soon' is invalid/);
    const unknown = await runCli(["--frobnicate"]);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown option '--frobnicate'/);
  });

  it("refuses to read a capture from a terminal-less empty pipe quietly", async () => {
    const result = await runCli(["--blocklist", LIST, "--quiet"], { input: pcapFileHeader({ linkType: 1 }) });
    assert.equal(result.status, 1);
    assert.equal(result.stderr, "");
  });
});

describe("blocklist location", () => {
  const input = buildPcap(records(1), { linkType: 1 });

  it("explains how to build a list when none exists", async () => {
    const home = temporaryDirectory();
    const result = await runCli([], { input, env: { HOME: home } });
    assert.equal(result.status, 2);
    const expected = join(home, ".local", "share", "repfilter", "blocklist.bin");
    assert.equal(result.stderr, `repfilter: error: no blocklist at ${expected}; build one with \`repfilter compile LIST.txt -o ${expected}\` or \`repfilter update\`, or pass --blocklist PATH\n`);
    assert.equal(result.stdout, "");
  });

  it("uses $REPFILTER_BLOCKLIST, then $XDG_DATA_HOME", async () => {
    const fromEnv = await runCli(["--quiet"], { input, env: { REPFILTER_BLOCKLIST: LIST } });
    assert.equal(fromEnv.status, 0);
    const dataHome = temporaryDirectory();
    mkdirSync(join(dataHome, "repfilter"));
    writeFileSync(join(dataHome, "repfilter", "blocklist.bin"), readFileSync(LIST));
    const fromXdg = await runCli(["--quiet"], { input, env: { XDG_DATA_HOME: dataHome } });
    assert.equal(fromXdg.status, 0);
  });

  it("rejects a corrupt list naming the file", async () => {
    const directory = temporaryDirectory();
    const path = join(directory, "bad.bin");
    const bytes = readFileSync(LIST);
    bytes[bytes.length - 1]! ^= 1;
    writeFileSync(path, bytes);
    const result = await runCli(["--blocklist", path], { input });
    assert.equal(result.status, 2);
    assert.match(result.stderr, new RegExp(`^repfilter: error: ${path.replace(/[/.]/g, "\\$&")}: checksum mismatch`));
  });
});

describe("crafted source names", () => {
  // A name that would end the alert line and print a fake one after it.
  const fakeAlert = "demo\n2026-01-01T00:00:00.000000Z pkt=1 TCP 198.51.100.1:1 -> 10.0.0.1:2 dir=inbound match=src src_range=198.51.100.1/32 src_sources=fake";
  const path = writeBlocklist(listOf(["192.0.2.0/24"], fakeAlert));
  const expected = `repfilter: error: ${path}: source 0 has the invalid name ${JSON.stringify(fakeAlert)}; names are 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, so rebuild the list\n`;

  it("scan, check and info reject the list in one line", async () => {
    const scan = await runCli(["--blocklist", path], { input: buildPcap(records(1), { linkType: 1 }) });
    assert.equal(scan.status, 2);
    assert.equal(scan.stdout, "");
    assert.equal(scan.stderr, expected);
    const check = await runCli(["check", "-b", path, "192.0.2.1"]);
    assert.equal(check.status, 2);
    assert.equal(check.stdout, "");
    assert.equal(check.stderr, expected);
    const info = await runCli(["info", path]);
    assert.equal(info.status, 2);
    assert.equal(info.stdout, "");
    assert.equal(info.stderr, expected);
  });

  it("compile rejects a line break in a default name", async () => {
    const directory = temporaryDirectory();
    writeFileSync(join(directory, "evil\nname.txt"), "192.0.2.1\n");
    const result = await runCli(["compile", "-o", "list.bin", "evil\nname.txt"], { cwd: directory });
    assert.equal(result.status, 2);
    assert.equal(
      result.stderr,
      `repfilter: error: source name "evil\\nname" for evil\\nname.txt is invalid; use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit (set it with --name)\n`,
    );
  });
});

describe("pipes and signals", () => {
  it("ends quietly when stdout is closed early", async () => {
    const input = buildPcap(records(200), { linkType: 1 });
    const result = await new Promise<{ status: number | null; stderr: string; first: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, "--blocklist", LIST, "--dedup", "0"], { stdio: ["pipe", "pipe", "pipe"] });
      let stderr = "";
      let first = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.once("data", (chunk: Buffer) => {
        first = chunk.toString().split("\n")[0]!;
        child.stdout.destroy();
        // Send the rest only now: sent on a timer, it could reach a slow-starting child
        // before the first alert did, and every line would fit in the open pipe.
        child.stdin.end(input.subarray(24 + 70));
      });
      child.on("close", (status) => resolve({ status, stderr, first }));
      child.stdin.on("error", () => {});
      child.stdin.write(input.subarray(0, 24 + 70));
    });
    assert.match(result.first, /pkt=1 /);
    assert.equal(result.stderr, "");
    assert.equal(result.status, 0);
  });

  it("alerts on a live stream, summary on SIGINT", async () => {
    const child = spawn(process.execPath, [BIN, "--blocklist", LIST], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const data = ipv4({ src: "192.0.2.1", dst: "10.0.0.1", proto: 17 });
    child.stdin.write(Buffer.concat([pcapFileHeader({ linkType: 228 }), pcapRecordHeader({ tsSec: 1, tsFrac: 0, data }), data]));
    const started = Date.now();
    while (!stdout.includes("\n") && Date.now() - started < 10_000) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.match(stdout, /pkt=1 UDP 192\.0\.2\.1:40000 -> 10\.0\.0\.1:443 dir=inbound match=src/);
    const closed = new Promise<number | null>((resolve) => child.on("close", (status) => resolve(status)));
    child.kill("SIGINT");
    const status = await closed;
    assert.equal(status, 130);
    assert.match(stderr, /repfilter: 1 packet, .* 1 alert/);
    assert.match(stderr, /repfilter: interrupted by SIGINT/);
  });

  it("stops on SIGTERM while a named FIFO is quiet", async () => {
    const directory = temporaryDirectory();
    const fifo = join(directory, "live.pcap");
    execFileSync("mkfifo", [fifo]);
    const child = spawn(process.execPath, [BIN, "--blocklist", LIST, fifo], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    // The writer sends one packet and then stays open and silent, as a quiet link does.
    const writer = openSync(fifo, "w");
    const data = ipv4({ src: "192.0.2.1", dst: "10.0.0.1", proto: 17 });
    writeSync(writer, Buffer.concat([pcapFileHeader({ linkType: 228 }), pcapRecordHeader({ tsSec: 1, tsFrac: 0, data }), data]));
    const started = Date.now();
    while (!stdout.includes("\n") && Date.now() - started < 10_000) await new Promise((resolve) => setTimeout(resolve, 20));
    const closed = new Promise<number | null>((resolve) => child.on("close", (status) => resolve(status)));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    const status = await closed;
    clearTimeout(timer);
    closeSync(writer);
    assert.equal(status, 143);
    assert.match(stdout, /pkt=1 UDP 192\.0\.2\.1/);
    assert.match(stderr, /interrupted by SIGTERM/);
  });

  for (const [signal, expected] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
    it(`stops on ${signal} while a named FIFO has no writer`, async () => {
      const directory = temporaryDirectory();
      const fifo = join(directory, "never-written.pcap");
      execFileSync("mkfifo", [fifo]);
      const child = spawn(process.execPath, [BIN, "--blocklist", LIST, fifo], { stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("close", (status, killer) => resolve([status, killer])));
      await waitForFifoOpen(child.pid!);
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      const [status, killer] = await closed;
      clearTimeout(timer);
      assert.equal(killer, null, "killed by the timeout");
      assert.equal(status, expected);
      assert.equal(stderr, `repfilter: interrupted by ${signal}; the summary covers the packets read until then\n`);
    });
  }

  it("keeps running when stderr is closed", async () => {
    // stderr is a pipe whose reader has gone: every warning and the summary fail with EPIPE.
    const input = buildPcap(records(3), { linkType: 1 });
    const directory = temporaryDirectory();
    writeFileSync(join(directory, "a.pcap"), buildPcap(records(1), { linkType: 195 }));
    writeFileSync(join(directory, "b.pcap"), input);
    const result = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, "--blocklist", LIST, "--dedup", "0", "a.pcap", "b.pcap"], { cwd: directory, stdio: ["ignore", "pipe", "pipe"] });
      child.stderr.destroy();
      let stdout = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.on("close", (status) => resolve({ status, stdout }));
    });
    assert.equal(result.stdout.trim().split("\n").length, 3);
    assert.equal(result.status, 2); // a.pcap has no decodable packet
  });
});

describe("compile", () => {
  it("builds a list from named sources and reports invalid lines", async () => {
    const directory = temporaryDirectory();
    writeFileSync(join(directory, "feodo.txt"), "# C2\n192.0.2.17\nbogus\n203.0.113.0/24\n");
    writeFileSync(join(directory, "drop.txt"), "203.0.113.128/25 ; SBL1\r\n");
    mkdirSync(join(directory, "out"));
    const result = await runCli(["compile", "-o", "out/list.bin", "--name", "feodo-c2", "feodo.txt", "drop.txt"], { cwd: directory });
    assert.equal(result.status, 0);
    assert.match(result.stderr, /warning: feodo\.txt: 1 invalid line skipped/);
    assert.match(result.stderr, /warning: feodo\.txt:3: not an IPv4 address: "bogus"/);
    assert.match(result.stderr, /wrote out\/list\.bin: 3 ranges \(257 addresses\) from 3 entries in 2 sources/);
    const input = buildPcap(records(1, "203.0.113.200"), { linkType: 1 });
    const scan = await runCli(["--blocklist", join(directory, "out/list.bin"), "--quiet"], { input });
    assert.match(scan.stdout, /src_range=203\.0\.113\.128\/25 src_sources=feodo-c2,drop/);
  });

  it("fails on a file with no valid entries", async () => {
    const directory = temporaryDirectory();
    writeFileSync(join(directory, "page.html"), "<!doctype html>\n<html>oops</html>\n");
    const result = await runCli(["compile", "-o", "list.bin", "page.html"], { cwd: directory });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /error: page\.html: no valid entries in 2 lines/);
  });

  it("rejects a binary file and an invalid source name", async () => {
    const directory = temporaryDirectory();
    writeFileSync(join(directory, "cap.pcap"), buildPcap(records(1), { linkType: 1 }));
    const binary = await runCli(["compile", "-o", "list.bin", "cap.pcap"], { cwd: directory });
    assert.equal(binary.status, 2);
    assert.match(binary.stderr, /error: cap\.pcap: binary data/);
    const name = await runCli(["compile", "-o", "list.bin", "--name", "bad name", "cap.pcap"], { cwd: directory });
    assert.equal(name.status, 2);
    assert.match(name.stderr, /source name "bad name" for cap\.pcap is invalid/);
  });

  it("rejects an output in a missing directory", async () => {
    const directory = temporaryDirectory();
    writeFileSync(join(directory, "a.txt"), "192.0.2.1\n");
    const result = await runCli(["compile", "-o", "typo/list.bin", "a.txt"], { cwd: directory });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /^repfilter: error: cannot write typo\/list\.bin: the directory typo does not exist; create it first$/m);
    assert.equal(existsSync(join(directory, "typo")), false);
  });

  it("cuts a long invalid line in its message", async () => {
    const directory = temporaryDirectory();
    writeFileSync(join(directory, "long.txt"), `192.0.2.1${"x".repeat(300_000)}\n`);
    const result = await runCli(["compile", "-o", "list.bin", "long.txt"], { cwd: directory });
    assert.equal(result.status, 2);
    const lines = result.stderr.trim().split("\n");
    assert.equal(lines[1], `repfilter: warning: long.txt:1: not an IPv4 address: "192.0.2.1${"x".repeat(111)}"... (299889 more characters)`);
    assert.equal(lines[2], "repfilter: error: long.txt: no valid entries in 1 line; is this a list of addresses?");
    assert.ok(result.stderr.length < 1000, `stderr has ${result.stderr.length} characters`);
  });

  it("rejects an output that is one of the inputs", async () => {
    const directory = temporaryDirectory();
    writeFileSync(join(directory, "in.txt"), "192.0.2.1\n");
    linkSync(join(directory, "in.txt"), join(directory, "same.txt"));
    for (const [output, input] of [["in.txt", "in.txt"], ["./sub/../in.txt", "in.txt"], ["same.txt", "in.txt"]]) {
      mkdirSync(join(directory, "sub"), { recursive: true });
      const result = await runCli(["compile", "-o", output!, "other.txt", input!], { cwd: directory });
      assert.equal(result.status, 2, output);
      assert.equal(result.stderr, `repfilter: error: the output ${output} is the input ${input}; write the list to another file\n`);
    }
    assert.equal(readFileSync(join(directory, "in.txt"), "utf8"), "192.0.2.1\n");
  });
});

describe("compile safety", () => {
  it("rejects unsafe entries and reports the first five", async () => {
    const directory = temporaryDirectory();
    const lines = ["0.0.0.0/0", "10.1.0.0/16", "192.0.2.1", "127.0.0.1", "224.0.0.1", "2.0.0.0/7", "198.51.100.0/24", "169.254.1.1"];
    writeFileSync(join(directory, "unsafe.txt"), lines.join("\n") + "\n");
    const result = await runCli(["compile", "-o", "list.bin", "unsafe.txt"], { cwd: directory });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.stderr.trim().split("\n"), [
      "repfilter: warning: unsafe.txt: 6 unsafe entries rejected by the safety policy (--no-policy keeps them)",
      "repfilter: warning: unsafe.txt:1: 0.0.0.0/0 covers every address",
      "repfilter: warning: unsafe.txt:2: 10.1.0.0/16 overlaps 10.0.0.0/8, private network (RFC 1918)",
      "repfilter: warning: unsafe.txt:4: 127.0.0.1/32 overlaps 127.0.0.0/8, loopback (RFC 1122)",
      "repfilter: warning: unsafe.txt:5: 224.0.0.1/32 overlaps 224.0.0.0/4, multicast (RFC 5771)",
      "repfilter: warning: unsafe.txt:6: 2.0.0.0/7 spans more than one /8 block (a prefix shorter than /8)",
      "repfilter: warning: unsafe.txt: 1 more unsafe entry not shown",
      "repfilter: wrote list.bin: 2 ranges (257 addresses) from 2 entries in 1 source",
    ]);
    const check = await runCli(["check", "-b", join(directory, "list.bin"), "10.1.0.1", "192.0.2.1"]);
    assert.match(check.stdout, /^10\.1\.0\.1 +- +not listed/m);
    assert.match(check.stdout, /^192\.0\.2\.1 +unsafe +192\.0\.2\.1\/32/m);
  });

  it("keeps unsafe entries with --no-policy", async () => {
    const directory = temporaryDirectory();
    writeFileSync(join(directory, "all.txt"), "0.0.0.0/0\n10.0.0.0/8\n");
    const result = await runCli(["compile", "--no-policy", "-o", "list.bin", "all.txt"], { cwd: directory });
    assert.equal(result.status, 0);
    assert.equal(result.stderr, "repfilter: wrote list.bin: 3 ranges (4294967296 addresses) from 2 entries in 1 source\n");
    const scan = await runCli(["--blocklist", join(directory, "list.bin"), "--quiet"], { input: buildPcap(records(1, "10.0.0.1", "10.0.0.2"), { linkType: 1 }) });
    assert.equal(scan.status, 0);
  });

  it("writes nothing for one file joining into a /7", async () => {
    const directory = temporaryDirectory();
    writeFileSync(join(directory, "a.txt"), "12.0.0.0/8\n13.0.0.0/8\n");
    const result = await runCli(["compile", "-o", "list.bin", "a.txt"], { cwd: directory });
    assert.equal(result.status, 2);
    assert.deepEqual(result.stderr.trim().split("\n"), [
      "repfilter: error: a.txt: its entries together are unsafe: merged ranges 12.0.0.0-13.255.255.255 cover 12.0.0.0/7, a block shorter than /8",
      "repfilter: error: list.bin not written; remove these ranges from a.txt, or pass --no-policy to write them anyway",
    ]);
    assert.equal(existsSync(join(directory, "list.bin")), false);
  });

  it("accepts adjacent /8 blocks from two files", async () => {
    // Each file is its own source, as each feed is in update, so their entries may join.
    const directory = temporaryDirectory();
    writeFileSync(join(directory, "a.txt"), "12.0.0.0/8\n");
    writeFileSync(join(directory, "b.txt"), "13.0.0.0/8\n");
    const result = await runCli(["compile", "-o", "list.bin", "a.txt", "b.txt"], { cwd: directory });
    assert.equal(result.status, 0);
    assert.equal(existsSync(join(directory, "list.bin")), true);
  });
});

describe("help", () => {
  it("lists every option with its unit and default", async () => {
    const result = await runCli(["--help"]);
    assert.equal(result.status, 0);
    for (const option of ["--blocklist <path>", "--format <format>", "--dedup <seconds>", "--quiet", "--no-progress", "--version", "compile"]) {
      assert.ok(result.stdout.includes(option), option);
    }
    assert.match(result.stdout, /--dedup <seconds> +suppress repeat alerts[^-]*\(default: 60\)/);
    assert.match(result.stdout, /Exit status: 0 if an alert was printed, 1 if none, 2 on an error, 130 or 143\nwhen SIGINT or SIGTERM stopped the run\./);
  });

  it("prints usage for help and help SUBCOMMAND", async () => {
    const flag = await runCli(["--help"]);
    const command = await runCli(["help"]);
    assert.equal(command.status, 0);
    assert.equal(command.stderr, "");
    assert.equal(command.stdout, flag.stdout);
    const compileFlag = await runCli(["compile", "--help"]);
    const compileCommand = await runCli(["help", "compile"]);
    assert.equal(compileCommand.status, 0);
    assert.equal(compileCommand.stdout, compileFlag.stdout);
    assert.match(compileCommand.stdout, /--no-policy +keep entries the safety policy rejects/);
    for (const range of DEFAULT_RESERVED_RANGES) assert.ok(compileCommand.stdout.includes(range), range);
    const unknown = await runCli(["help", "frobnicate"]);
    assert.equal(unknown.status, 2);
    assert.equal(unknown.stdout, "");
    assert.match(unknown.stderr, /^repfilter: error: unknown command 'frobnicate'; the subcommands are compile, check, info and update\n/);
  });

  it("runs the README's demo", async () => {
    const directory = temporaryDirectory();
    const list = join(directory, "demo.bin");
    const compile = await runCli(["compile", "-o", list, "sample/lists/c2.txt", "sample/lists/drop.txt"], { cwd: REPO });
    assert.equal(compile.status, 0);
    const scan = await runCli(["--blocklist", list, "sample/demo.pcap"], { cwd: REPO });
    assert.equal(scan.status, 0);
    assert.equal(scan.stdout.trim().split("\n").length, 6);
  });
});
