// Reloading the list in a running scan: a filter reads a live pipe, the list is
// replaced on disk (atomically, as `repfilter update` does), and the next packets
// alert on the new list only. A corrupt replacement keeps the current list.

import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { encodeBlocklist } from "../src/blocklist/format.js";
import { Scanner } from "../src/core/scanner.js";
import { pcapFileHeader, pcapRecordHeader } from "../src/pcap/writer.js";
import { writeFileAtomic } from "../src/util/atomic-write.js";
import { BIN, REPO, temporaryDirectory } from "./helpers/cli.js";
import { ethernet, ipv4 } from "./helpers/packets.js";
import { listOf } from "./helpers/scan.js";

const LIST_A = listOf(["192.0.2.0/24"], "list-a");
const LIST_B = listOf(["198.51.100.0/24"], "list-b");

/** A scan of a pipe that the test writes packets into, with its output collected line by line. */
class LiveScan {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = "";
  stderr = "";
  #packet = 0;

  constructor(listPath: string) {
    this.child = spawn(process.execPath, [BIN, "--blocklist", listPath, "--dedup", "0", "--no-progress"], {
      cwd: REPO,
      env: { ...process.env, XDG_DATA_HOME: undefined, REPFILTER_BLOCKLIST: undefined },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stdout.setEncoding("utf8").on("data", (text: string) => (this.stdout += text));
    this.child.stderr.setEncoding("utf8").on("data", (text: string) => (this.stderr += text));
    this.child.stdin.write(pcapFileHeader({ linkType: 1 }));
  }

  /** Writes one packet from `src` to 10.0.0.1. */
  send(src: string): void {
    this.#packet++;
    const data = ethernet(ipv4({ src, dst: "10.0.0.1", proto: 6, srcPort: 40000 + this.#packet, dstPort: 443 }));
    const record = { tsSec: 1_700_000_000 + this.#packet, tsFrac: 0, data };
    this.child.stdin.write(Buffer.concat([pcapRecordHeader(record), data]));
  }

  alerts(): string[] {
    return this.stdout.split("\n").filter((line) => line !== "");
  }

  /** Waits until `read()` matches, or fails after `timeoutMs`. */
  async waitFor(read: () => string, pattern: RegExp, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(read())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${pattern}; stdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async finish(): Promise<number | null> {
    this.child.stdin.end();
    const [status] = (await once(this.child, "close")) as [number | null];
    return status;
  }
}

describe("list reload", () => {
  it("runs the swap callback before the next hits", () => {
    const events: string[] = [];
    const scanner = new Scanner({ dedupSeconds: 0 }, { hits: (batch) => events.push(`hits ${batch.count}`) });
    const packet = (src: string): Buffer => {
      const data = ethernet(ipv4({ src, dst: "10.0.0.1", proto: 17, srcPort: 1, dstPort: 2 }));
      return Buffer.concat([pcapRecordHeader({ tsSec: 1_700_000_000, tsFrac: 0, data }), data]);
    };
    scanner.setRanges(LIST_A);
    scanner.beginInput();
    scanner.write(Buffer.concat([pcapFileHeader({ linkType: 1 }), packet("192.0.2.1")]));
    scanner.setRanges(LIST_B, () => events.push("applied B"));
    assert.deepEqual(events, ["hits 1"]);

    scanner.write(Buffer.concat([packet("192.0.2.2"), packet("198.51.100.1")]));

    assert.deepEqual(events, ["hits 1", "applied B", "hits 1"]);
  });

  it("switches to a replaced list between packets", async () => {
    const directory = temporaryDirectory();
    const listPath = join(directory, "blocklist.bin");
    writeFileSync(listPath, encodeBlocklist(LIST_A));
    const scan = new LiveScan(listPath);

    scan.send("192.0.2.1");
    await scan.waitFor(() => scan.stdout, /192\.0\.2\.1:40001 .* src_sources=list-a\n/);

    await writeFileAtomic(listPath, encodeBlocklist({ ...LIST_B, createdAt: Date.UTC(2026, 6, 4, 12) }));
    await scan.waitFor(() => scan.stderr, /repfilter: reloaded .*blocklist\.bin: 1 range, 1 source, built 2026-07-04T12:00:00\.000Z\n/);
    scan.send("192.0.2.2");
    scan.send("198.51.100.3");
    await scan.waitFor(() => scan.stdout, /198\.51\.100\.3/);

    assert.equal(await scan.finish(), 0);
    const alerts = scan.alerts();
    assert.equal(alerts.length, 2, scan.stdout);
    assert.match(alerts[0]!, /pkt=1 TCP 192\.0\.2\.1:40001 -> 10\.0\.0\.1:443 dir=inbound match=src src_range=192\.0\.2\.0\/24 src_sources=list-a$/);
    assert.match(alerts[1]!, /pkt=3 TCP 198\.51\.100\.3:40003 -> 10\.0\.0\.1:443 dir=inbound match=src src_range=198\.51\.100\.0\/24 src_sources=list-b$/);
    assert.equal(scan.stderr.match(/reloaded/g)?.length, 1, scan.stderr);
  });

  it("keeps the list when the replacement is corrupt", async () => {
    const directory = temporaryDirectory();
    const listPath = join(directory, "blocklist.bin");
    writeFileSync(listPath, encodeBlocklist(LIST_A));
    const scan = new LiveScan(listPath);
    scan.send("192.0.2.1");
    await scan.waitFor(() => scan.stdout, /192\.0\.2\.1/);

    const corrupt = encodeBlocklist(LIST_B);
    corrupt[corrupt.length - 3]! ^= 0xff; // a flipped byte in the range table fails the CRC-32
    await writeFileAtomic(listPath, corrupt);
    await scan.waitFor(() => scan.stderr, /repfilter: warning: reload of .*blocklist\.bin failed: checksum mismatch[^\n]*; keeping the current list\n/);
    scan.send("192.0.2.4");
    scan.send("198.51.100.5");
    await scan.waitFor(() => scan.stdout, /192\.0\.2\.4/);

    assert.equal(await scan.finish(), 0);
    const alerts = scan.alerts();
    assert.equal(alerts.length, 2, scan.stdout);
    assert.match(alerts[1]!, /192\.0\.2\.4:40002 .* src_sources=list-a$/);
    assert.doesNotMatch(scan.stdout, /198\.51\.100\.5/);
    assert.doesNotMatch(scan.stderr, /reloaded/);
  });

  it("reloads on SIGHUP", async () => {
    const directory = temporaryDirectory();
    const listPath = join(directory, "blocklist.bin");
    writeFileSync(listPath, encodeBlocklist(LIST_A));
    const scan = new LiveScan(listPath);
    scan.send("192.0.2.1");
    await scan.waitFor(() => scan.stdout, /192\.0\.2\.1/);

    scan.child.kill("SIGHUP");
    await scan.waitFor(() => scan.stderr, /reloaded .*: 1 range, 1 source,/);

    scan.send("192.0.2.6");
    await scan.waitFor(() => scan.stdout, /192\.0\.2\.6/);
    assert.equal(await scan.finish(), 0);
    assert.equal(scan.alerts().length, 2);
  });

  it("words every reload failure one way", async () => {
    const directory = temporaryDirectory();
    const listPath = join(directory, "blocklist.bin");
    writeFileSync(listPath, encodeBlocklist(LIST_A));
    const scan = new LiveScan(listPath);
    scan.send("192.0.2.1");
    await scan.waitFor(() => scan.stdout, /192\.0\.2\.1/);

    rmSync(listPath);
    scan.child.kill("SIGHUP");
    await scan.waitFor(() => scan.stderr, /cannot read it/);
    const corrupt = encodeBlocklist(LIST_B);
    corrupt[corrupt.length - 3]! ^= 0xff;
    await writeFileAtomic(listPath, corrupt);
    await scan.waitFor(() => scan.stderr, /checksum/);

    scan.send("192.0.2.2");
    await scan.waitFor(() => scan.stdout, /192\.0\.2\.2/);
    assert.equal(await scan.finish(), 0);
    const path = listPath.replace(/[/.]/g, "\\$&");
    // The removal and the replacement also wake the directory watch, so either failure may be logged more than once.
    const warnings = scan.stderr.split("\n").filter((line) => line.includes("warning"));
    const unreadable = new RegExp(`^repfilter: warning: reload of ${path} failed: cannot read it \\(no such file\\); keeping the current list$`);
    const corrupted = new RegExp(`^repfilter: warning: reload of ${path} failed: checksum mismatch .*; keeping the current list$`);
    assert.ok(warnings.some((line) => unreadable.test(line)), scan.stderr);
    assert.ok(warnings.some((line) => corrupted.test(line)), scan.stderr);
    assert.deepEqual(warnings.filter((line) => !unreadable.test(line) && !corrupted.test(line)), []);
  });
});
