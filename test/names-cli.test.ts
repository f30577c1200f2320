// Host names on alert lines from the real command line, text and JSON, and the
// summary lines that count them.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildPcap } from "../src/pcap/writer.js";
import { jsonLines, runCli, writeBlocklist } from "./helpers/cli.js";
import { clientHello, dnsAnswer } from "./helpers/name-payloads.js";
import { ethernet, ipv4, type IPv4Options } from "./helpers/packets.js";
import { listOf } from "./helpers/scan.js";

const LIST = writeBlocklist(listOf(["203.0.113.7"], "c2"));
const CLIENT = "10.1.1.10";
const SHARED = "203.0.113.7";

function capture(packets: IPv4Options[]): Buffer {
  const records = packets.map((options, i) => ({ tsSec: 1_700_000_000 + i, tsFrac: 0, data: ethernet(ipv4(options)) }));
  return buildPcap(records, { linkType: 1 });
}

/** Builds a capture in which the client resolves two names to one address and connects with one as SNI. */
function sharedHostCapture(serverName: string | Uint8Array = "bad.example"): Buffer {
  const reply = (name: string): IPv4Options => ({ src: "10.1.1.1", dst: CLIENT, proto: 17, srcPort: 53, dstPort: 33000, payload: dnsAnswer(name, [SHARED]) });
  return capture([
    reply("good.example"),
    reply("bad.example"),
    { src: CLIENT, dst: SHARED, proto: 6, srcPort: 50000, dstPort: 443, seq: 1, tcpFlags: 0x02 },
    { src: CLIENT, dst: SHARED, proto: 6, srcPort: 50000, dstPort: 443, seq: 2, tcpFlags: 0x18, payload: clientHello({ serverName }) },
  ]);
}

describe("names on alert lines", () => {
  it("prints names in text", async () => {
    const result = await runCli(["--blocklist", LIST], { input: sharedHostCapture() });
    assert.equal(result.status, 0);
    assert.deepEqual(result.stdout.split("\n"), [
      "2023-11-14T22:13:22.000000Z pkt=3 TCP 10.1.1.10:50000 -> 203.0.113.7:443 dir=outbound match=dst dst_range=203.0.113.7/32 dst_sources=c2 names=bad.example(dns),good.example(dns)",
      "2023-11-14T22:13:23.000000Z pkt=4 TCP 10.1.1.10:50000 -> 203.0.113.7:443 dir=outbound match=dst dst_range=203.0.113.7/32 dst_sources=c2 names=bad.example(sni+dns),good.example(dns)",
      "",
    ]);
  });

  it("prints hostnames in JSON", async () => {
    const result = await runCli(["--blocklist", LIST, "--format", "json"], { input: sharedHostCapture() });
    const alerts = jsonLines(result.stdout);
    assert.equal(alerts.length, 2);
    assert.deepEqual(alerts[1]!.hostnames, ["bad.example", "good.example"]);
    assert.deepEqual(alerts[1]!.hostname_sources, [["sni", "dns"], ["dns"]]);
    assert.equal(alerts[1]!.direction, "outbound");
    assert.deepEqual(alerts[1]!.match, { side: "dest", dest: { range: "203.0.113.7/32", sources: ["c2"], listed: [{ source: "c2", range: "203.0.113.7/32" }] } });
  });

  it("keeps JSON valid for a server name with quotes and backslashes", async () => {
    const result = await runCli(["--blocklist", LIST, "--format", "json", "--quiet"], { input: sharedHostCapture(Buffer.from('x"y\\z\n.example', "latin1")) });
    const alerts = jsonLines(result.stdout);
    assert.deepEqual(alerts[1]!.hostnames, ["x\\x22y\\x5cz\\x0a.example", "bad.example", "good.example"]);
  });

  it("omits names with --names-table 0", async () => {
    const result = await runCli(["--blocklist", LIST, "--names-table", "0"], { input: sharedHostCapture() });
    assert.equal(result.stdout.trim().split("\n").length, 1);
    assert.doesNotMatch(result.stdout, /names=/);
    assert.doesNotMatch(result.stderr, /names:/);
  });

  it("counts names in the summary", async () => {
    const result = await runCli(["--blocklist", LIST], { input: sharedHostCapture() });
    assert.match(result.stderr, /\nrepfilter: names: 2 DNS responses, 1 TLS ClientHello, 0 HTTP requests; recorded 2 from DNS, 1 from SNI, 0 from HTTP Host\n/);
    assert.match(result.stderr, /\nrepfilter: names noted: names_realerts 1\n/);
  });

  it("rejects an invalid --names-table", async () => {
    for (const value of ["-1", "1.5", "many", "131073"]) {
      const result = await runCli(["--blocklist", LIST, "--names-table", value], { input: sharedHostCapture() });
      assert.equal(result.status, 2, value);
      assert.match(result.stderr, /expected a whole number of entries from 0 to 131072/, value);
    }
  });
});
