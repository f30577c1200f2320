// Link layers and IPv4 header decoding in the core, one captured frame at a time.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HF_FRAGMENT, HF_PORTS } from "../src/core/abi.js";
import { buildPcap } from "../src/pcap/writer.js";
import { ETHERTYPE_IPV6, ethernet, ipv4, loopback, sll, sll2 } from "./helpers/packets.js";
import { scanBytes, type ScanResult } from "./helpers/scan.js";

function scanFrames(linkType: number, frames: Uint8Array[]): ScanResult {
  return scanBytes(buildPcap(frames.map((data, i) => ({ tsSec: i, tsFrac: 0, data })), { linkType }));
}

const packet = ipv4({ src: "192.0.2.1", dst: "198.51.100.2", proto: 6, srcPort: 1234, dstPort: 80 });

describe("link types", () => {
  const cases: Array<[string, number, Uint8Array]> = [
    ["Ethernet", 1, ethernet(packet)],
    ["DLT_RAW 12", 12, packet],
    ["DLT_RAW 14", 14, packet],
    ["LINKTYPE_RAW 101", 101, packet],
    ["LINKTYPE_IPV4 228", 228, packet],
    ["NULL, little-endian family", 0, loopback(packet, 2, false)],
    ["NULL, big-endian family", 0, loopback(packet, 2, true)],
    ["LOOP 108", 108, loopback(packet, 2, true)],
    ["Linux SLL 113", 113, sll(packet)],
    ["Linux SLL2 276", 276, sll2(packet)],
  ];
  for (const [name, linkType, frame] of cases) {
    it(`decodes ${name}`, () => {
      const result = scanFrames(linkType, [frame]);
      assert.equal(result.hits.length, 1);
      assert.equal(result.hits[0]!.src, "192.0.2.1");
      assert.equal(result.hits[0]!.dst, "198.51.100.2");
      assert.equal(result.hits[0]!.srcPort, 1234);
      assert.equal(result.hits[0]!.dstPort, 80);
      assert.equal(result.hits[0]!.proto, 6);
      assert.equal(result.counters.ipv4, 1);
    });
  }

  it("counts IPv6 on raw and cooked links as not IPv4", () => {
    const ipv6 = Buffer.alloc(40);
    ipv6[0] = 0x60;
    assert.equal(scanFrames(101, [ipv6]).counters.skipNotIPv4, 1);
    assert.equal(scanFrames(276, [sll2(ipv6, ETHERTYPE_IPV6)]).counters.skipNotIPv4, 1);
    assert.equal(scanFrames(113, [sll(ipv6, ETHERTYPE_IPV6)]).counters.skipNotIPv4, 1);
    assert.equal(scanFrames(0, [loopback(ipv6, 24)]).counters.skipNotIPv4, 1);
  });

  it("alerts on SLL2 IPv4 and counts the IPv6 record", () => {
    const ipv6 = Buffer.alloc(40);
    ipv6[0] = 0x60;
    const result = scanFrames(276, [sll2(packet), sll2(ipv6, ETHERTYPE_IPV6)]);
    assert.equal(result.hits.length, 1);
    assert.equal(result.counters.skipNotIPv4, 1);
  });

  it("counts a bad version nibble on a raw link", () => {
    const bad = Buffer.from(packet);
    bad[0] = 0x55;
    assert.equal(scanFrames(101, [bad]).counters.skipBadIPVersion, 1);
    assert.equal(scanFrames(228, [bad]).counters.skipBadIPVersion, 1);
  });

  it("skips an unsupported link type with a notice", () => {
    const result = scanFrames(195, [packet, packet]);
    assert.equal(result.hits.length, 0);
    assert.equal(result.counters.skipLinkType, 2);
    assert.deepEqual(result.notices, [
      [1, 195],
      [2, 195],
    ]);
  });

  it("counts link headers cut short", () => {
    for (const [linkType, length] of [[1, 13], [113, 15], [276, 19], [0, 3]] as const) {
      const result = scanFrames(linkType, [Buffer.alloc(length)]);
      assert.equal(result.counters.skipTruncatedLink, 1, `link type ${linkType}`);
    }
  });
});

describe("VLAN tags", () => {
  const tagStacks: Array<[string, Array<[number, number]>]> = [
    ["802.1Q", [[0x8100, 10]]],
    ["802.1ad over 802.1Q", [[0x88a8, 100], [0x8100, 10]]],
    ["three stacked tags", [[0x88a8, 1], [0x8100, 2], [0x8100, 3]]],
    ["old QinQ 0x9100", [[0x9100, 5], [0x8100, 6]]],
  ];
  for (const [name, tags] of tagStacks) {
    it(`follows ${name}`, () => {
      const result = scanFrames(1, [ethernet(packet, 0x0800, tags)]);
      assert.equal(result.hits.length, 1);
      assert.equal(result.hits[0]!.srcPort, 1234);
    });
  }

  it("counts a frame cut inside a tag", () => {
    const frame = ethernet(packet, 0x0800, [[0x8100, 10]]).subarray(0, 16);
    assert.equal(scanFrames(1, [frame]).counters.skipTruncatedLink, 1);
  });

  it("gives up after too many tags", () => {
    const tags: Array<[number, number]> = Array.from({ length: 12 }, () => [0x8100, 1]);
    assert.equal(scanFrames(1, [ethernet(packet, 0x0800, tags)]).counters.skipHeaderLimit, 1);
  });
});

describe("IPv4 header", () => {
  it("reads ports after IPv4 options (IHL > 5)", () => {
    const withOptions = ipv4({ src: "192.0.2.1", dst: "10.0.0.1", proto: 17, srcPort: 5353, dstPort: 53, options: Uint8Array.of(0x94, 0x04, 0, 0, 1, 1, 1, 0) });
    const result = scanFrames(228, [withOptions]);
    assert.equal(result.hits[0]!.srcPort, 5353);
    assert.equal(result.hits[0]!.dstPort, 53);
  });

  it("reports no ports for a non-first fragment", () => {
    const fragment = ipv4({ src: "192.0.2.1", dst: "10.0.0.1", proto: 17, fragmentOffset: 185 });
    const result = scanFrames(228, [fragment]);
    assert.equal(result.hits[0]!.srcPort, undefined);
    assert.equal(result.hits[0]!.flags & HF_FRAGMENT, HF_FRAGMENT);
    assert.equal(result.hits[0]!.flags & HF_PORTS, 0);
  });

  it("reads ports from a first fragment", () => {
    const first = ipv4({ src: "192.0.2.1", dst: "10.0.0.1", proto: 17, srcPort: 9, dstPort: 10, moreFragments: true });
    const result = scanFrames(228, [first]);
    assert.equal(result.hits[0]!.srcPort, 9);
    assert.equal(result.hits[0]!.flags & HF_FRAGMENT, HF_FRAGMENT);
  });

  it("reports no ports when they were not captured", () => {
    const cut = ipv4({ src: "192.0.2.1", dst: "10.0.0.1", proto: 6 }).subarray(0, 22);
    const result = scanFrames(228, [cut]);
    assert.equal(result.hits.length, 1);
    assert.equal(result.hits[0]!.srcPort, undefined);
  });

  it("reports no ports for protocols other than TCP and UDP", () => {
    const result = scanFrames(228, [ipv4({ src: "192.0.2.1", dst: "10.0.0.1", proto: 1, payload: new Uint8Array(8) })]);
    assert.equal(result.hits[0]!.srcPort, undefined);
  });

  it("uses the captured bytes when the total length is 0 (segmentation offload)", () => {
    const tso = ethernet(ipv4({ src: "192.0.2.1", dst: "10.0.0.1", proto: 6, srcPort: 7, dstPort: 8, totalLength: 0, payload: new Uint8Array(1460) }));
    assert.equal(tso.length, 1514);
    const result = scanFrames(1, [tso]);
    assert.equal(result.hits.length, 1);
    assert.equal(result.hits[0]!.srcPort, 7);
  });

  it("skips a total length below the header length", () => {
    const result = scanFrames(1, [ethernet(ipv4({ src: "192.0.2.1", dst: "10.0.0.1", totalLength: 19 }))]);
    assert.equal(result.hits.length, 0);
    assert.equal(result.counters.skipBadIPLength, 1);
  });

  it("does not read ports beyond the total length", () => {
    const padded = Buffer.concat([ipv4({ src: "192.0.2.1", dst: "10.0.0.1", proto: 6, totalLength: 20 }).subarray(0, 20), Buffer.alloc(26, 0xee)]);
    const result = scanFrames(228, [padded]);
    assert.equal(result.hits.length, 1);
    assert.equal(result.hits[0]!.srcPort, undefined);
  });

  it("skips an IHL below 5", () => {
    const result = scanFrames(228, [ipv4({ src: "192.0.2.1", dst: "10.0.0.1", versionIhl: 0x44 })]);
    assert.equal(result.counters.skipBadIHL, 1);
  });

  it("skips a header cut inside its first 20 bytes", () => {
    const result = scanFrames(1, [ethernet(ipv4({ src: "192.0.2.1", dst: "10.0.0.1" })).subarray(0, 14 + 19)]);
    assert.equal(result.counters.skipIPTruncated, 1);
    assert.equal(scanFrames(1, [ethernet(new Uint8Array(0))]).counters.skipIPTruncated, 1);
  });

  it("alerts when only options are cut", () => {
    // IGMP with a Router Alert option (IHL 6) captured with a 34-byte snaplen.
    const igmp = ipv4({ src: "192.0.2.9", dst: "224.0.0.251", proto: 2, options: Uint8Array.of(0x94, 0x04, 0, 0) });
    const result = scanFrames(1, [ethernet(igmp).subarray(0, 34)]);
    assert.equal(result.hits.length, 1);
    assert.equal(result.hits[0]!.src, "192.0.2.9");
    assert.equal(result.counters.ipOptionsCut, 1);
    assert.equal(result.counters.skipIPTruncated, 0);
    const udp = ipv4({ src: "192.0.2.1", dst: "10.0.0.1", proto: 17, options: new Uint8Array(8) }).subarray(0, 24);
    const cut = scanFrames(228, [udp]);
    assert.equal(cut.hits.length, 1);
    assert.equal(cut.hits[0]!.srcPort, undefined);
  });

  it("skips a wrong version after ethertype IPv4", () => {
    const bad = ethernet(ipv4({ src: "192.0.2.1", dst: "10.0.0.1", versionIhl: 0x65 }));
    assert.equal(scanFrames(1, [bad]).counters.skipBadIPVersion, 1);
  });
});
