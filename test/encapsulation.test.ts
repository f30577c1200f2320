// Link layers added for PPP, HDLC, NFLOG, PPPoE, MPLS and LLC/SNAP frames, and the
// IPv4 headers inside IP-in-IP, GRE and VXLAN tunnels, which alert with a layer.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildPcap } from "../src/pcap/writer.js";
import {
  ETHERTYPE_IPV6,
  ETHERTYPE_MPLS,
  ETHERTYPE_MPLS_MULTICAST,
  ETHERTYPE_PPPOE_SESSION,
  ciscoHdlc,
  ethernet,
  gre,
  ipv4,
  llcSnapEthernet,
  mplsStack,
  nflog,
  ppp,
  pppoeSession,
  vxlan,
} from "./helpers/packets.js";
import { listOf, scanBytes, type ScanResult } from "./helpers/scan.js";

function scanFrames(linkType: number, frames: Uint8Array[], options: { bigEndian?: boolean; dedupSeconds?: number } = {}): ScanResult {
  const records = frames.map((data, i) => ({ tsSec: i, tsFrac: 0, data }));
  return scanBytes(buildPcap(records, { linkType, bigEndian: options.bigEndian === true }), { dedupSeconds: options.dedupSeconds ?? 0 });
}

const packet = ipv4({ src: "192.0.2.1", dst: "198.51.100.2", proto: 6, srcPort: 1234, dstPort: 80 });
const ipv6 = Buffer.alloc(40);
ipv6[0] = 0x60;

describe("link layers", () => {
  const cases: Array<[string, number, Uint8Array]> = [
    ["PPP 9 with address and control", 9, ppp(packet, { addressControl: true })],
    ["PPP 9 without address and control", 9, ppp(packet)],
    ["PPP 9 with a compressed protocol field", 9, ppp(packet, { compressed: true })],
    ["PPP 9 carrying MPLS", 9, ppp(mplsStack(packet, [100]), { addressControl: true, protocol: 0x0281 })],
    ["PPP_HDLC 50 in RFC 1662 framing", 50, ppp(packet, { addressControl: true })],
    ["PPP_HDLC 50 in Cisco HDLC framing", 50, ciscoHdlc(packet)],
    ["C_HDLC 104", 104, ciscoHdlc(packet)],
    ["C_HDLC 104 carrying MPLS", 104, ciscoHdlc(mplsStack(packet, [16, 17]), ETHERTYPE_MPLS)],
    ["NFLOG 239", 239, nflog(packet)],
    ["PPPoE session in Ethernet", 1, ethernet(pppoeSession(packet), ETHERTYPE_PPPOE_SESSION)],
    ["PPPoE session in two VLAN tags", 1, ethernet(pppoeSession(packet), ETHERTYPE_PPPOE_SESSION, [[0x8100, 1], [0x8100, 2]])],
    ["MPLS unicast, one label", 1, ethernet(mplsStack(packet, [100]), ETHERTYPE_MPLS)],
    ["MPLS multicast, three labels", 1, ethernet(mplsStack(packet, [1, 2, 3]), ETHERTYPE_MPLS_MULTICAST)],
    ["MPLS in a VLAN tag", 1, ethernet(mplsStack(packet, [5]), ETHERTYPE_MPLS, [[0x8100, 7]])],
    ["an MPLS Ethernet pseudowire with a control word", 1, ethernet(mplsStack(Buffer.concat([Buffer.alloc(4), ethernet(packet)]), [20, 21]), ETHERTYPE_MPLS)],
    ["802.3 with LLC/SNAP (RFC 1042)", 1, llcSnapEthernet(packet)],
    ["802.3 with LLC/SNAP (802.1H)", 1, llcSnapEthernet(packet, 0x0800, 0xf8)],
    ["LLC/SNAP inside a VLAN tag", 1, ethernet(Buffer.concat([Buffer.from([0xaa, 0xaa, 3, 0, 0, 0, 8, 0]), packet]), 48, [[0x8100, 3]])],
  ];
  for (const [name, linkType, frame] of cases) {
    it(`decodes ${name}`, () => {
      const result = scanFrames(linkType, [frame]);
      assert.equal(result.hits.length, 1);
      assert.equal(result.hits[0]!.src, "192.0.2.1");
      assert.equal(result.hits[0]!.dst, "198.51.100.2");
      assert.equal(result.hits[0]!.srcPort, 1234);
      assert.equal(result.hits[0]!.layer, 0);
      assert.equal(result.counters.ipv4, 1);
    });
  }

  it("reads NFLOG TLVs in the capture's byte order", () => {
    const result = scanFrames(239, [nflog(packet, { bigEndian: true })], { bigEndian: true });
    assert.equal(result.hits.length, 1);
    assert.equal(result.hits[0]!.srcPort, 1234);
  });

  const skips: Array<[string, number, Uint8Array, "skipNotIPv4" | "skipTruncatedLink" | "skipIPTruncated" | "skipHeaderLimit"]> = [
    ["PPP carrying IPv6", 9, ppp(ipv6, { protocol: 0x0057 }), "skipNotIPv4"],
    ["PPP cut inside its protocol field", 9, Buffer.from([0xff, 0x03, 0x00]), "skipTruncatedLink"],
    ["Cisco HDLC SLARP", 104, ciscoHdlc(new Uint8Array(20), 0x8035), "skipNotIPv4"],
    ["Cisco HDLC cut short", 104, Buffer.from([0x0f, 0x00, 0x08]), "skipTruncatedLink"],
    ["NFLOG for IPv6", 239, nflog(ipv6, { family: 10 }), "skipNotIPv4"],
    ["NFLOG with a TLV length below 4", 239, Buffer.from([2, 0, 0, 1, 2, 0, 9, 0]), "skipTruncatedLink"],
    ["NFLOG without a payload TLV", 239, nflog(packet).subarray(0, 4 + 8 + 12), "skipTruncatedLink"],
    ["PPPoE with a non-IP PPP protocol", 1, ethernet(pppoeSession(new Uint8Array(20), 0xc021), ETHERTYPE_PPPOE_SESSION), "skipNotIPv4"],
    ["PPPoE cut inside its header", 1, ethernet(pppoeSession(packet), ETHERTYPE_PPPOE_SESSION).subarray(0, 18), "skipTruncatedLink"],
    ["MPLS carrying IPv6", 1, ethernet(mplsStack(ipv6, [3]), ETHERTYPE_MPLS), "skipNotIPv4"],
    ["MPLS with no bottom of stack", 1, ethernet(Buffer.alloc(17 * 4), ETHERTYPE_MPLS), "skipHeaderLimit"],
    ["MPLS cut inside the label stack", 1, ethernet(mplsStack(packet, [1, 2]), ETHERTYPE_MPLS).subarray(0, 20), "skipTruncatedLink"],
    ["MPLS with nothing after the stack", 1, ethernet(mplsStack(new Uint8Array(0), [1]), ETHERTYPE_MPLS), "skipNotIPv4"],
    ["802.3 LLC that is not SNAP (spanning tree)", 1, ethernet(Buffer.from([0x42, 0x42, 0x03, 0, 0, 0, 0, 0]), 38), "skipNotIPv4"],
    ["LLC/SNAP with a vendor OUI (CDP)", 1, llcSnapEthernet(packet, 0x2000, 0x00000c), "skipNotIPv4"],
    ["LLC/SNAP cut short", 1, llcSnapEthernet(packet).subarray(0, 18), "skipTruncatedLink"],
    ["PPP whose IPv4 header is cut", 9, ppp(packet).subarray(0, 12), "skipIPTruncated"],
  ];
  for (const [name, linkType, frame, counter] of skips) {
    it(`counts ${name}`, () => {
      const result = scanFrames(linkType, [frame]);
      assert.equal(result.hits.length, 0);
      assert.equal(result.counters[counter], 1);
      assert.equal(result.counters.packets, 1);
    });
  }

  it("reads an NFLOG payload that is the 64th TLV", () => {
    // Two TLVs before the marks, then the payload: 2 + 61 + 1 = 64.
    const result = scanFrames(239, [nflog(packet, { extraTlvs: 61 })]);
    assert.equal(result.hits.length, 1);
    assert.equal(result.counters.ipv4, 1);
  });

  it("counts an NFLOG payload past 64 TLVs as header_limit", () => {
    const result = scanFrames(239, [nflog(packet, { extraTlvs: 62 })]);
    assert.equal(result.hits.length, 0);
    assert.equal(result.counters.skipHeaderLimit, 1);
    assert.equal(result.counters.skipNotIPv4, 0);
  });

  it("gives up on a chain longer than 16 headers", () => {
    // Ethernet pseudowires nested 20 deep, each an MPLS label, a control word and a frame.
    let frame: Uint8Array = ethernet(packet);
    for (let i = 0; i < 20; i++) frame = ethernet(mplsStack(Buffer.concat([Buffer.alloc(4), frame]), [i]), ETHERTYPE_MPLS);
    assert.equal(scanFrames(1, [frame]).counters.skipHeaderLimit, 1);
    let shallow: Uint8Array = ethernet(packet);
    for (let i = 0; i < 10; i++) shallow = ethernet(mplsStack(Buffer.concat([Buffer.alloc(4), shallow]), [i]), ETHERTYPE_MPLS);
    assert.equal(scanFrames(1, [shallow]).hits.length, 1);
  });

  it("counts an IPv6 frame in a VLAN as not IPv4", () => {
    assert.equal(scanFrames(1, [ethernet(ipv6, ETHERTYPE_IPV6, [[0x8100, 1]])]).counters.skipNotIPv4, 1);
  });
});

describe("tunnels", () => {
  const inner = ipv4({ src: "203.0.113.9", dst: "10.9.9.9", proto: 17, srcPort: 5353, dstPort: 53 });
  const outer = (proto: number, payload: Uint8Array): Buffer => ethernet(ipv4({ src: "192.0.2.1", dst: "198.51.100.2", proto, payload }));

  function layers(result: ScanResult): Array<[number, string, string, number | undefined]> {
    return result.hits.map((hit) => [hit.layer, hit.src, hit.dst, hit.dstPort]);
  }

  const cases: Array<[string, Uint8Array]> = [
    ["IP-in-IP", outer(4, inner)],
    ["GRE carrying IPv4", outer(47, gre(inner))],
    ["GRE with checksum, key and sequence number", outer(47, gre(inner, { checksum: true, key: true, sequence: true }))],
    ["GRE carrying Ethernet (transparent bridging)", outer(47, gre(ethernet(inner, 0x0800, [[0x8100, 4]]), { protocol: 0x6558, key: true }))],
    ["GRE carrying MPLS", outer(47, gre(mplsStack(inner, [9]), { protocol: ETHERTYPE_MPLS }))],
    ["VXLAN on UDP 4789", ethernet(ipv4({ src: "192.0.2.1", dst: "198.51.100.2", proto: 17, srcPort: 40000, dstPort: 4789, payload: vxlan(ethernet(inner)) }))],
  ];
  for (const [name, frame] of cases) {
    it(`probes the header inside ${name}`, () => {
      const result = scanFrames(1, [frame]);
      const outerPort = name.startsWith("VXLAN") ? 4789 : undefined;
      assert.deepEqual(layers(result), [
        [0, "192.0.2.1", "198.51.100.2", outerPort],
        [1, "203.0.113.9", "10.9.9.9", 53],
      ]);
      assert.equal(result.counters.ipv4, 1);
      assert.equal(result.counters.innerIPv4, 1);
    });
  }

  it("probes nested tunnels up to three deep", () => {
    let frame: Uint8Array = inner;
    for (let depth = 0; depth < 5; depth++) frame = ipv4({ src: `192.0.2.${10 + depth}`, dst: "198.51.100.2", proto: 4, payload: frame });
    const result = scanFrames(101, [frame]);
    assert.deepEqual(result.hits.map((hit) => hit.layer), [0, 1, 2, 3]);
    assert.deepEqual(result.hits.map((hit) => hit.src), ["192.0.2.14", "192.0.2.13", "192.0.2.12", "192.0.2.11"]);
    assert.equal(result.counters.innerIPv4, 3);
    assert.equal(result.counters.tunnelDepthLimit, 1);
  });

  it("counts tunnels nested deeper than three", () => {
    // depth counts the IP-in-IP headers around `inner`, and probed the headers of those depth + 1 that alert.
    const cases: Array<[depth: number, probed: number, limited: number]> = [
      [1, 2, 0],
      [3, 4, 0],
      [4, 4, 1],
      [5, 4, 1],
    ];
    for (const [depth, probed, limited] of cases) {
      let frame: Uint8Array = inner;
      for (let i = 0; i < depth; i++) frame = ipv4({ src: `192.0.2.${10 + i}`, dst: "198.51.100.2", proto: 4, payload: frame });
      const result = scanFrames(101, [frame, frame]);
      assert.equal(result.hits.length, 2 * probed, `depth ${depth}`);
      assert.equal(result.counters.innerIPv4, 2 * (probed - 1), `depth ${depth}`);
      assert.equal(result.counters.tunnelDepthLimit, 2 * limited, `depth ${depth}`);
      assert.equal(result.counters.ipv4, 2, `depth ${depth}`);
    }
  });

  it("does not count a fourth tunnel header that is not IPv4", () => {
    let frame: Uint8Array = outer(47, gre(ipv6, { protocol: ETHERTYPE_IPV6 })).subarray(14);
    for (let i = 0; i < 3; i++) frame = ipv4({ src: `192.0.2.${10 + i}`, dst: "198.51.100.2", proto: 4, payload: frame });
    const result = scanFrames(101, [frame]);
    assert.equal(result.hits.length, 4);
    assert.equal(result.counters.tunnelDepthLimit, 0);
  });

  it("alerts on an inner address only when it is listed", () => {
    const frames = [outer(47, gre(inner))];
    const records = frames.map((data, i) => ({ tsSec: i, tsFrac: 0, data }));
    const result = scanBytes(buildPcap(records, { linkType: 1 }), { list: listOf(["203.0.113.0/24"]), dedupSeconds: 0 });
    assert.deepEqual(layers(result), [[1, "203.0.113.9", "10.9.9.9", 53]]);
  });

  it("suppresses repeats per address pair at each layer", () => {
    const frames = [outer(4, inner), outer(4, inner), outer(4, ipv4({ src: "203.0.113.10", dst: "10.9.9.9", proto: 1 }))];
    const result = scanFrames(1, frames, { dedupSeconds: 60 });
    assert.deepEqual(layers(result), [
      [0, "192.0.2.1", "198.51.100.2", undefined],
      [1, "203.0.113.9", "10.9.9.9", 53],
      [1, "203.0.113.10", "10.9.9.9", undefined],
    ]);
    assert.equal(result.counters.suppressed, 3);
  });

  const ignored: Array<[string, Uint8Array]> = [
    ["GRE version 1 (PPTP)", outer(47, gre(inner, { version: 1 }))],
    ["GRE with the routing bit", outer(47, Buffer.concat([Buffer.from([0x40, 0, 8, 0, 0, 0, 0, 0]), inner]))],
    ["GRE carrying IPv6", outer(47, gre(ipv6, { protocol: ETHERTYPE_IPV6 }))],
    ["GRE cut inside its header", outer(47, Buffer.from([0x20, 0x00, 0x08, 0x00, 1, 2]))],
    ["VXLAN without the I flag", ethernet(ipv4({ src: "192.0.2.1", dst: "198.51.100.2", proto: 17, dstPort: 4789, payload: vxlan(ethernet(inner), 0) }))],
    ["UDP to another port", ethernet(ipv4({ src: "192.0.2.1", dst: "198.51.100.2", proto: 17, dstPort: 4790, payload: vxlan(ethernet(inner)) }))],
    ["a later IP-in-IP fragment", ethernet(ipv4({ src: "192.0.2.1", dst: "198.51.100.2", proto: 4, fragmentOffset: 10, payload: inner }))],
    ["IP-in-IP cut inside the inner header", outer(4, inner).subarray(0, 14 + 20 + 10)],
    ["an inner header beyond the outer total length", ethernet(Buffer.concat([ipv4({ src: "192.0.2.1", dst: "198.51.100.2", proto: 4, totalLength: 24 }), inner.subarray(4)]))],
  ];
  for (const [name, frame] of ignored) {
    it(`reports only the outer header for ${name}`, () => {
      const result = scanFrames(1, [frame]);
      assert.deepEqual(result.hits.map((hit) => hit.layer), [0]);
      assert.equal(result.counters.innerIPv4, 0);
    });
  }
});
