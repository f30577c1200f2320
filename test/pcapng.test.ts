// pcapng framing in the core: sections in both byte orders, interfaces and their
// timestamp resolutions, every packet block type, skipped blocks, chunk
// boundaries, and each framing error with its block number and offset.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as abi from "../src/core/abi.js";
import {
  BLOCK_CUSTOM,
  BLOCK_EPB,
  BLOCK_IDB,
  BLOCK_ISB,
  BLOCK_NRB,
  buildPcapng,
  enhancedPacketBlock,
  interfaceDescriptionBlock,
  obsoletePacketBlock,
  OPT_COMMENT,
  pcapngBlock,
  sectionHeaderBlock,
  simplePacketBlock,
  type PcapngPacket,
} from "../src/pcap/pcapng-writer.js";
import { instantiateCore } from "../src/core/wasm.js";
import { buildPcap } from "../src/pcap/writer.js";
import { ethernet, ipv4, sll } from "./helpers/packets.js";
import { listOf, scanBytes } from "./helpers/scan.js";

function packets(count: number, interfaceId = 0): PcapngPacket[] {
  return Array.from({ length: count }, (_, i) => ({
    interfaceId,
    timestamp: 1_700_000_000_000_000n + BigInt(i) * 1_000_001n,
    data: ethernet(ipv4({ src: `192.0.2.${i + 1}`, dst: "198.51.100.7", proto: 17, srcPort: 2000 + i, dstPort: 53, payload: new Uint8Array(i * 3) })),
  }));
}

const ETHERNET = { linkType: 1 };

describe("pcapng framing", () => {
  const capture = buildPcapng(packets(5), { interfaces: [ETHERNET] });
  const whole = scanBytes(capture);

  it("decodes every Enhanced Packet Block", () => {
    assert.equal(whole.error, undefined);
    assert.equal(whole.truncated, undefined);
    assert.equal(whole.hits.length, 5);
    assert.deepEqual(whole.hits.map((hit) => hit.packet), [1, 2, 3, 4, 5]);
    assert.equal(whole.hits[2]!.src, "192.0.2.3");
    assert.equal(whole.hits[2]!.srcPort, 2002);
    assert.equal(whole.hits[0]!.tsSec, 1_700_000_000);
    assert.equal(whole.hits[1]!.tsFrac, 1);
    assert.equal(whole.hits[1]!.tsSec, 1_700_000_001);
    assert.equal(whole.hits[0]!.tsDigits, 6);
    assert.equal(whole.counters.packets, 5);
  });

  it("gives the same hits for a split at every byte offset", () => {
    for (let split = 1; split < capture.length; split++) {
      const result = scanBytes(capture, { chunkSizes: [split, capture.length] });
      assert.deepEqual(result.hits, whole.hits, `split at byte ${split}`);
      assert.equal(result.error, undefined, `split at byte ${split}`);
    }
  });

  it("gives the same hits for 1-byte and 7-byte chunks", () => {
    assert.deepEqual(scanBytes(capture, { chunkSizes: [1] }).hits, whole.hits);
    assert.deepEqual(scanBytes(capture, { chunkSizes: [7] }).hits, whole.hits);
  });

  it("reads a big-endian section like a little-endian one", () => {
    const big = scanBytes(buildPcapng(packets(5), { interfaces: [ETHERNET], bigEndian: true }));
    assert.deepEqual(big.hits, whole.hits);
  });

  it("reads sections of different byte orders in one file", () => {
    const first = buildPcapng(packets(2, 1), { interfaces: [{ linkType: 101 }, ETHERNET] });
    const second = buildPcapng(packets(3), { interfaces: [ETHERNET], bigEndian: true });
    const result = scanBytes(Buffer.concat([first, second]));
    assert.equal(result.error, undefined);
    assert.equal(result.hits.length, 5);
    assert.deepEqual(result.hits.map((hit) => hit.packet), [1, 2, 3, 4, 5]);
    // Interface ids restart in each section.
    assert.equal(result.hits[1]!.linkType, 1);
    assert.equal(result.hits[2]!.linkType, 1);
    assert.deepEqual(result.counters.skipLinkType, 0);
  });

  it("decodes interfaces of different link types in one section", () => {
    const packet = ipv4({ src: "192.0.2.9", dst: "10.0.0.1", proto: 6, srcPort: 1, dstPort: 2 });
    const capture = buildPcapng(
      [
        { interfaceId: 0, data: ethernet(packet) },
        { interfaceId: 1, data: packet },
        { interfaceId: 2, data: sll(packet) },
        { interfaceId: 3, data: packet },
      ],
      { interfaces: [ETHERNET, { linkType: 101 }, { linkType: 113 }, { linkType: 147 }] },
    );
    const result = scanBytes(capture);
    assert.equal(result.hits.length, 3);
    assert.deepEqual(result.hits.map((hit) => hit.linkType), [1, 101, 113]);
    assert.equal(result.counters.skipLinkType, 1);
    assert.deepEqual(result.notices, [
      [abi.NOTICE_LINKTYPE, 1],
      [abi.NOTICE_LINKTYPE, 101],
      [abi.NOTICE_LINKTYPE, 113],
      [abi.NOTICE_LINKTYPE, 147],
      [abi.NOTICE_UNSUPPORTED_LINKTYPE, 147],
    ]);
  });

  it("announces a link type once for many interfaces", () => {
    const interfaces = Array.from({ length: 100 }, () => ({ linkType: 195 }));
    const result = scanBytes(buildPcapng([], { interfaces }));
    assert.deepEqual(result.notices, [
      [abi.NOTICE_LINKTYPE, 195],
      [abi.NOTICE_UNSUPPORTED_LINKTYPE, 195],
    ]);
  });

  it("counts packets, not blocks, and skips other block types", () => {
    const [first, second] = packets(2);
    const capture = Buffer.concat([
      sectionHeaderBlock({ options: [[OPT_COMMENT, Buffer.from("section comment")]] }),
      pcapngBlock(BLOCK_CUSTOM, Buffer.alloc(40, 7)),
      interfaceDescriptionBlock(ETHERNET),
      pcapngBlock(4, Buffer.alloc(16)), // Name Resolution Block
      enhancedPacketBlock(first!),
      pcapngBlock(BLOCK_ISB, Buffer.alloc(20)),
      pcapngBlock(0x80000001, Buffer.alloc(8)), // a local-use type
      enhancedPacketBlock({ ...second!, options: [[OPT_COMMENT, Buffer.from("with a comment")]] }),
    ]);
    const result = scanBytes(capture);
    assert.equal(result.error, undefined);
    assert.deepEqual(result.hits.map((hit) => hit.packet), [1, 2]);
    assert.deepEqual(scanBytes(capture, { chunkSizes: [3] }).hits, result.hits);
  });

  it("skips a block larger than the input buffer without buffering it", () => {
    const [packet] = packets(1);
    const huge = pcapngBlock(BLOCK_CUSTOM, Buffer.alloc(9 << 20, 1));
    const capture = Buffer.concat([sectionHeaderBlock(), interfaceDescriptionBlock(ETHERNET), huge, enhancedPacketBlock(packet!)]);
    const result = scanBytes(capture, { chunkSizes: [1 << 20] });
    assert.equal(result.error, undefined);
    assert.equal(result.hits.length, 1);
  });

  it("reads Simple Packet Blocks on interface 0, cut to the snaplen", () => {
    const data = ethernet(ipv4({ src: "192.0.2.1", dst: "10.0.0.1", proto: 6, payload: new Uint8Array(100) }));
    const capture = Buffer.concat([
      sectionHeaderBlock(),
      interfaceDescriptionBlock({ linkType: 1, snaplen: 60 }),
      simplePacketBlock({ data: data.subarray(0, 60), origLen: data.length }),
      simplePacketBlock({ data: data.subarray(0, 60), origLen: 58 }),
    ]);
    const result = scanBytes(capture);
    assert.equal(result.error, undefined);
    assert.equal(result.hits.length, 2);
    assert.equal(result.hits[0]!.caplen, 60);
    assert.equal(result.hits[1]!.caplen, 58);
    assert.equal(result.hits[0]!.tsSec, 0);
    assert.equal(result.hits[0]!.srcPort, 40000);
  });

  it("reads the obsolete Packet Block", () => {
    const capture = Buffer.concat([sectionHeaderBlock(), interfaceDescriptionBlock(ETHERNET), interfaceDescriptionBlock({ linkType: 101 })]);
    const data = ipv4({ src: "192.0.2.1", dst: "10.0.0.1" });
    const result = scanBytes(Buffer.concat([capture, obsoletePacketBlock({ interfaceId: 1, timestamp: 5_000_007n, data })]));
    assert.equal(result.error, undefined);
    assert.equal(result.hits.length, 1);
    assert.equal(result.hits[0]!.linkType, 101);
    assert.equal(result.hits[0]!.tsSec, 5);
    assert.equal(result.hits[0]!.tsFrac, 7);
  });

  it("gives the same hits when one chunk grows memory", () => {
    // 20 blocks of 256 KiB in one chunk make the core's memory grow between calls.
    const big = Buffer.concat([ipv4({ src: "10.0.0.1", dst: "10.0.0.2", proto: 17 }), Buffer.alloc(262144 - 28)]);
    const blocks = Array.from({ length: 20 }, (_, i) => enhancedPacketBlock({ timestamp: BigInt(i), data: big }));
    const capture = Buffer.concat([sectionHeaderBlock(), interfaceDescriptionBlock({ linkType: 101 }), ...blocks, enhancedPacketBlock({ data: ipv4({ src: "192.0.2.1", dst: "10.0.0.1" }) })]);
    const list = listOf(["192.0.2.0/24"]);
    const whole = scanBytes(capture, { list });
    assert.equal(whole.hits.length, 1);
    assert.equal(whole.hits[0]!.packet, 21);
    assert.deepEqual(scanBytes(capture, { list, chunkSizes: [4096] }).hits, whole.hits);
    assert.deepEqual(scanBytes(capture, { list, chunkSizes: [capture.length - 60, 1] }).hits, whole.hits);
  });

  it("returns more hits than one buffer holds", () => {
    // Each packet is IP-in-IP, so it yields two hits: 12000 in all, past the 4096 per call.
    const tunneled = ipv4({ src: "192.0.2.1", dst: "10.0.0.1", proto: 4, payload: ipv4({ src: "192.0.2.2", dst: "10.0.0.2", proto: 1 }) });
    const many = Array.from({ length: 6000 }, (_, i) => ({ timestamp: BigInt(i), data: tunneled }));
    const result = scanBytes(buildPcapng(many, { interfaces: [{ linkType: 101 }] }));
    assert.equal(result.error, undefined);
    assert.equal(result.hits.length, 12000);
    assert.deepEqual(result.hits.slice(-2).map((hit) => [hit.packet, hit.layer]), [[6000, 0], [6000, 1]]);
    assert.ok(result.hits.every((hit, i) => hit.packet === Math.floor(i / 2) + 1 && hit.layer === i % 2));
  });

  it("accepts section version 1.2", () => {
    const capture = Buffer.concat([sectionHeaderBlock({ minor: 2 }), interfaceDescriptionBlock(ETHERNET), enhancedPacketBlock(packets(1)[0]!)]);
    assert.equal(scanBytes(capture).hits.length, 1);
  });

  it("reads the 96-byte capture of a bare Ethernet header", () => {
    const frame = ethernet(new Uint8Array(0), 0x9000);
    const capture = buildPcapng([{ data: frame }], { interfaces: [ETHERNET] });
    assert.equal(capture.length, 96);
    const result = scanBytes(capture);
    assert.equal(result.error, undefined);
    assert.equal(result.counters.packets, 1);
    assert.equal(result.counters.skipNotIPv4, 1);

    const variant = buildPcapng([{ data: ethernet(ipv4({ src: "192.0.2.5", dst: "10.0.0.1", proto: 1 })) }], { interfaces: [{ linkType: 1, snaplen: 262144 }] });
    const hits = scanBytes(variant, { list: listOf(["192.0.2.5"]) }).hits;
    assert.equal(hits.length, 1);
    assert.equal(hits[0]!.caplen, 34);
  });
});

describe("pcapng timestamps", () => {
  function timeOf(iface: Parameters<typeof interfaceDescriptionBlock>[0], timestamp: bigint): { tsSec: number; tsFrac: number; tsDigits: number } {
    const data = ipv4({ src: "192.0.2.1", dst: "10.0.0.1" });
    const hit = scanBytes(buildPcapng([{ timestamp, data }], { interfaces: [{ ...iface, linkType: 101 }] })).hits[0]!;
    return { tsSec: hit.tsSec, tsFrac: hit.tsFrac, tsDigits: hit.tsDigits };
  }

  const cases: Array<[string, { linkType: number; tsresol?: number; tsoffset?: bigint }, bigint, { tsSec: number; tsFrac: number; tsDigits: number }]> = [
    ["microseconds by default", ETHERNET, 1_700_000_000_123_456n, { tsSec: 1_700_000_000, tsFrac: 123_456, tsDigits: 6 }],
    ["nanoseconds (if_tsresol 9)", { linkType: 1, tsresol: 9 }, 1_700_000_000_123_456_789n, { tsSec: 1_700_000_000, tsFrac: 123_456_789, tsDigits: 9 }],
    ["milliseconds (if_tsresol 3)", { linkType: 1, tsresol: 3 }, 1_700_000_000_123n, { tsSec: 1_700_000_000, tsFrac: 123, tsDigits: 3 }],
    ["whole seconds (if_tsresol 0)", { linkType: 1, tsresol: 0 }, 1_700_000_000n, { tsSec: 1_700_000_000, tsFrac: 0, tsDigits: 0 }],
    ["2^-10 s as nanoseconds", { linkType: 1, tsresol: 0x80 | 10 }, (100n << 10n) | 512n, { tsSec: 100, tsFrac: 500_000_000, tsDigits: 9 }],
    ["2^-30 s as nanoseconds", { linkType: 1, tsresol: 0x80 | 30 }, (7n << 30n) | (1n << 28n), { tsSec: 7, tsFrac: 250_000_000, tsDigits: 9 }],
    ["2^-40 s as nanoseconds", { linkType: 1, tsresol: 0x80 | 40 }, (3n << 40n) | (1n << 39n), { tsSec: 3, tsFrac: 500_000_000, tsDigits: 9 }],
    ["2^-64 s: all fraction", { linkType: 1, tsresol: 0x80 | 64 }, 1n << 63n, { tsSec: 0, tsFrac: 500_000_000, tsDigits: 9 }],
    ["2^-127 s: below a nanosecond", { linkType: 1, tsresol: 0x80 | 127 }, 0xffffffffffffffffn, { tsSec: 0, tsFrac: 0, tsDigits: 9 }],
    ["10^-30 s: below a nanosecond", { linkType: 1, tsresol: 30 }, 0xffffffffffffffffn, { tsSec: 0, tsFrac: 0, tsDigits: 9 }],
    ["if_tsoffset added to the seconds", { linkType: 1, tsoffset: 1_000_000_000n }, 700_000_000_000_001n, { tsSec: 1_700_000_000, tsFrac: 1, tsDigits: 6 }],
    ["a negative if_tsoffset", { linkType: 1, tsoffset: -10n }, 20_000_000n, { tsSec: 10, tsFrac: 0, tsDigits: 6 }],
  ];
  for (const [name, iface, timestamp, expected] of cases) {
    it(`converts ${name}`, () => {
      assert.deepEqual(timeOf(iface, timestamp), expected);
    });
  }

  it("converts picoseconds, cut to 9 digits", () => {
    // 10^12 units per second: 12345 s and 678901234567 ps.
    assert.deepEqual(timeOf({ linkType: 1, tsresol: 12 }, 12_345_678_901_234_567n), { tsSec: 12_345, tsFrac: 678_901_234, tsDigits: 9 });
  });

  it("keeps the defaults when an option runs past the block", () => {
    const data = ipv4({ src: "192.0.2.1", dst: "10.0.0.1" });
    const idb = interfaceDescriptionBlock({ linkType: 101, tsresol: 9 });
    // The if_tsresol option's length field (after linktype, reserved, snaplen and the code): 200.
    idb.writeUInt16LE(200, 8 + 8 + 2);
    const capture = Buffer.concat([sectionHeaderBlock(), idb, enhancedPacketBlock({ timestamp: 1_000_002n, data })]);
    const result = scanBytes(capture);
    assert.equal(result.error, undefined);
    assert.deepEqual([result.hits[0]!.tsSec, result.hits[0]!.tsFrac, result.hits[0]!.tsDigits], [1, 2, 6]);
  });
});

describe("pcapng framing errors", () => {
  const header = Buffer.concat([sectionHeaderBlock(), interfaceDescriptionBlock(ETHERNET)]);
  const [good] = packets(1);
  const goodBlock = enhancedPacketBlock(good!);

  function errorOf(bytes: Uint8Array): NonNullable<ReturnType<typeof scanBytes>["error"]> {
    const result = scanBytes(bytes);
    assert.ok(result.error, "expected an error");
    // The same error for any chunking.
    assert.equal(scanBytes(bytes, { chunkSizes: [5] }).error?.message, result.error.message);
    return result.error;
  }

  it("rejects a block length below 12", () => {
    const error = errorOf(Buffer.concat([header, goodBlock, pcapngBlock(BLOCK_CUSTOM, Buffer.alloc(8), { length: 8 })]));
    assert.equal(error.code, abi.ERR_BLOCK_TOO_SHORT);
    assert.equal(error.unit, abi.UNIT_BLOCK);
    assert.equal(error.record, 4);
    assert.equal(error.offset, header.length + goodBlock.length);
    assert.equal(error.message, `block 4 at byte ${header.length + goodBlock.length} (Custom Block): block length 8 is below the minimum 12 for this block type`);
  });

  it("rejects an Enhanced Packet Block shorter than its fixed fields", () => {
    const error = errorOf(Buffer.concat([header, pcapngBlock(BLOCK_EPB, Buffer.alloc(8))]));
    assert.equal(error.code, abi.ERR_BLOCK_TOO_SHORT);
    assert.equal(error.limit, 32);
  });

  it("rejects a block length that is not a multiple of 4", () => {
    const block = pcapngBlock(BLOCK_CUSTOM, Buffer.alloc(4), { length: 13 });
    const error = errorOf(Buffer.concat([header, block, Buffer.alloc(16)]));
    assert.equal(error.code, abi.ERR_BLOCK_UNALIGNED);
    assert.equal(error.record, 3);
    assert.match(error.message, /^block 3 at byte 48 \(Custom Block\): block length 13 is not a multiple of 4$/);
  });

  it("rejects a trailing length that differs, in buffered and skipped blocks", () => {
    const buffered = errorOf(Buffer.concat([header, enhancedPacketBlock(good!, { trailingLength: 4 })]));
    assert.equal(buffered.code, abi.ERR_BLOCK_TRAILER_MISMATCH);
    assert.equal(buffered.value, 4);
    assert.equal(buffered.record, 3);
    const skipped = errorOf(Buffer.concat([header, pcapngBlock(BLOCK_CUSTOM, Buffer.alloc(400), { trailingLength: 408 }), goodBlock]));
    assert.equal(skipped.code, abi.ERR_BLOCK_TRAILER_MISMATCH);
    assert.equal(skipped.record, 3);
    assert.equal(skipped.offset, header.length);
    assert.match(skipped.message, /trailing block length 408 differs from the leading block length 412/);
    const section = errorOf(Buffer.concat([sectionHeaderBlock({ trailingLength: 32 }), goodBlock]));
    assert.equal(section.code, abi.ERR_BLOCK_TRAILER_MISMATCH);
    assert.equal(section.record, 1);
  });

  it("rejects a packet block naming an unknown interface", () => {
    const error = errorOf(Buffer.concat([header, goodBlock, enhancedPacketBlock({ ...good!, interfaceId: 3 })]));
    assert.equal(error.code, abi.ERR_UNKNOWN_INTERFACE);
    assert.equal(error.value, 3);
    assert.equal(error.limit, 1);
    assert.equal(error.record, 4);
    assert.match(error.message, /^block 4 at byte \d+ \(Enhanced Packet Block\): interface id 3 has no Interface Description Block/);
    const simple = errorOf(Buffer.concat([sectionHeaderBlock(), simplePacketBlock(good!)]));
    assert.equal(simple.code, abi.ERR_UNKNOWN_INTERFACE);
  });

  it("forgets the interfaces of the previous section", () => {
    const error = errorOf(Buffer.concat([header, goodBlock, sectionHeaderBlock(), goodBlock]));
    assert.equal(error.code, abi.ERR_UNKNOWN_INTERFACE);
    assert.equal(error.record, 5);
  });

  it("rejects a packet block before any section header", () => {
    for (const bigEndian of [false, true]) {
      const error = errorOf(Buffer.concat([interfaceDescriptionBlock(ETHERNET, { bigEndian }), enhancedPacketBlock(good!, { bigEndian })]));
      assert.equal(error.code, abi.ERR_NO_SECTION_HEADER);
      assert.equal(error.record, 1);
      assert.equal(error.offset, 0);
      assert.equal(error.message, "block 1 at byte 0 (Interface Description Block): a pcapng block before any Section Header Block; the start of the file is missing");
    }
    assert.equal(errorOf(goodBlock).blockType, BLOCK_EPB);
  });

  it("rejects a bad byte-order magic", () => {
    const bad = sectionHeaderBlock();
    bad.writeUInt32LE(0x11223344, 8);
    const error = errorOf(bad);
    assert.equal(error.code, abi.ERR_BAD_BYTE_ORDER_MAGIC);
    assert.match(error.message, /byte-order magic 44 33 22 11 is not 1a 2b 3c 4d/);
  });

  it("rejects section versions 0.1 and 1.1", () => {
    for (const [major, minor] of [[0, 1], [1, 1], [2, 0]] as const) {
      const error = errorOf(Buffer.concat([sectionHeaderBlock({ major, minor }), interfaceDescriptionBlock(ETHERNET)]));
      assert.equal(error.code, abi.ERR_BAD_SECTION_VERSION);
      assert.equal(error.message, `block 1 at byte 0 (Section Header Block): unsupported pcapng version ${major}.${minor} (expected 1.0 or 1.2)`);
    }
    // A later section with a bad version stops the input after the packets before it.
    const result = scanBytes(Buffer.concat([header, goodBlock, sectionHeaderBlock({ minor: 1 })]));
    assert.equal(result.hits.length, 1);
    assert.equal(result.error?.code, abi.ERR_BAD_SECTION_VERSION);
    assert.equal(result.error?.record, 4);
  });

  it("rejects an absurd caplen before the block is buffered", () => {
    const block = enhancedPacketBlock({ ...good!, caplen: 0x63503d00 });
    // Only the block's first 40 bytes exist: the error must not wait for the rest.
    const error = errorOf(Buffer.concat([header, goodBlock, block.subarray(0, 40)]));
    assert.equal(error.code, abi.ERR_CAPLEN_TOO_LARGE);
    assert.equal(error.record, 4);
    assert.equal(error.value, 0x63503d00);
    assert.match(error.message, /^block 4 at byte \d+ \(Enhanced Packet Block\): caplen 1666202880 exceeds maximum 262144/);
  });

  it("rejects a caplen that runs past its block", () => {
    const error = errorOf(Buffer.concat([header, enhancedPacketBlock({ ...good!, caplen: good!.data.length + 8 })]));
    assert.equal(error.code, abi.ERR_CAPLEN_BEYOND_BLOCK);
    assert.equal(error.limit, Math.ceil(good!.data.length / 4) * 4);
  });

  it("rejects a packet block longer than the buffered maximum", () => {
    const block = enhancedPacketBlock({ ...good!, options: [[OPT_COMMENT, Buffer.alloc(65000)], [OPT_COMMENT, Buffer.alloc(65000)], [OPT_COMMENT, Buffer.alloc(65000)], [OPT_COMMENT, Buffer.alloc(65000)], [OPT_COMMENT, Buffer.alloc(65000)], [OPT_COMMENT, Buffer.alloc(65000)], [OPT_COMMENT, Buffer.alloc(65000)]] });
    assert.ok(block.length > abi.MAX_BUFFERED_BLOCK_LENGTH);
    const error = errorOf(Buffer.concat([header, block]));
    assert.equal(error.code, abi.ERR_BLOCK_TOO_LARGE);
    assert.equal(error.limit, abi.MAX_BUFFERED_BLOCK_LENGTH);
  });

  it("accepts a packet block of the buffered maximum", () => {
    const data = Buffer.concat([ipv4({ src: "192.0.2.1", dst: "10.0.0.1", proto: 1 }), Buffer.alloc(262144 - 20)]);
    // 131072 bytes of options: two comments of 65532 and 65528 bytes, 4-byte headers and opt_endofopt.
    const block = enhancedPacketBlock({ data, options: [[OPT_COMMENT, Buffer.alloc(65532)], [OPT_COMMENT, Buffer.alloc(65528)]] });
    assert.equal(block.length, abi.MAX_BUFFERED_BLOCK_LENGTH);
    const result = scanBytes(Buffer.concat([sectionHeaderBlock(), interfaceDescriptionBlock({ linkType: 101 }), block, block]), { chunkSizes: [100_000] });
    assert.equal(result.error, undefined);
    assert.equal(result.hits.length, 2);
  });

  it("rejects a skipped block longer than 16 MiB at once", () => {
    // A Name Resolution Block claiming 2 GiB, followed by packets it would swallow.
    const huge = pcapngBlock(BLOCK_NRB, Buffer.alloc(16), { length: 0x80000000 });
    const bytes = Buffer.concat([header, goodBlock, huge, goodBlock, goodBlock]);
    const error = errorOf(bytes);
    assert.equal(error.code, abi.ERR_SKIPPED_BLOCK_TOO_LARGE);
    assert.equal(error.value, 0x80000000);
    assert.equal(error.limit, abi.MAX_SKIPPED_BLOCK_LENGTH);
    assert.equal(error.record, 4);
    assert.equal(error.offset, header.length + goodBlock.length);
    assert.equal(error.blockType, BLOCK_NRB);
    assert.equal(
      error.message,
      `block 4 at byte ${header.length + goodBlock.length} (Name Resolution Block): block length 2147483648 exceeds maximum 16777216; the capture is corrupt from here on`,
    );
  });

  it("rejects a too-long skipped block at every split", () => {
    const huge = pcapngBlock(BLOCK_NRB, Buffer.alloc(16), { length: 0x80000000 });
    const bytes = Buffer.concat([header, goodBlock, huge, goodBlock]);
    const whole = scanBytes(bytes);
    assert.equal(whole.error?.code, abi.ERR_SKIPPED_BLOCK_TOO_LARGE);
    assert.equal(whole.hits.length, 1, "the packet before the damaged block still alerts");
    for (let split = 1; split < bytes.length; split++) {
      const result = scanBytes(bytes, { chunkSizes: [split, bytes.length] });
      assert.equal(result.error?.message, whole.error?.message, `split at byte ${split}`);
      assert.deepEqual(result.hits, whole.hits, `split at byte ${split}`);
    }
  });

  it("checks the 16 MiB bound exactly", () => {
    const limit = abi.MAX_SKIPPED_BLOCK_LENGTH;
    const largest = pcapngBlock(BLOCK_CUSTOM, Buffer.alloc(limit - 12));
    assert.equal(largest.length, limit);
    const accepted = scanBytes(Buffer.concat([header, largest, goodBlock]), { chunkSizes: [1 << 20] });
    assert.equal(accepted.error, undefined);
    assert.equal(accepted.hits.length, 1);
    const rejected = errorOf(Buffer.concat([header, pcapngBlock(BLOCK_CUSTOM, Buffer.alloc(16), { length: limit + 4 }), goodBlock]));
    assert.equal(rejected.code, abi.ERR_SKIPPED_BLOCK_TOO_LARGE);
    assert.equal(rejected.value, limit + 4);
  });

  it("rejects a Section Header Block longer than 16 MiB", () => {
    for (const bigEndian of [false, true]) {
      const first = errorOf(Buffer.concat([sectionHeaderBlock({ bigEndian, length: 0xfffffffc }), interfaceDescriptionBlock(ETHERNET, { bigEndian })]));
      assert.equal(first.code, abi.ERR_SKIPPED_BLOCK_TOO_LARGE, `big-endian ${bigEndian}`);
      assert.equal(first.record, 1);
      assert.equal(first.offset, 0);
      assert.equal(first.value, 0xfffffffc);
      assert.match(first.message, /^block 1 at byte 0 \(Section Header Block\): block length 4294967292 exceeds maximum 16777216/);
    }
    const later = scanBytes(Buffer.concat([header, goodBlock, sectionHeaderBlock({ length: 0x10000004 }), goodBlock]));
    assert.equal(later.hits.length, 1);
    assert.equal(later.error?.code, abi.ERR_SKIPPED_BLOCK_TOO_LARGE);
    assert.equal(later.error?.record, 4);
  });

  it("reports a pcap file appended to a pcapng file", () => {
    for (const bigEndian of [false, true]) {
      const appended = buildPcap([{ tsSec: 1, tsFrac: 0, data: good!.data }], { linkType: 1, bigEndian });
      const error = errorOf(Buffer.concat([header, goodBlock, appended]));
      assert.equal(error.code, abi.ERR_SECOND_CAPTURE_HEADER, `big-endian ${bigEndian}`);
      assert.equal(error.record, 4);
      assert.equal(error.offset, header.length + goodBlock.length);
      assert.equal(error.value, bigEndian ? 0xa1b2c3d4 : 0xd4c3b2a1);
      assert.match(error.message, /^block 4 at byte \d+ \(type 0x[0-9a-f]{8}\): found a second capture file header \(pcap, magic /);
    }
    const result = scanBytes(Buffer.concat([header, goodBlock, buildPcap([], { linkType: 1 })]));
    assert.equal(result.hits.length, 1, "the packet before the pcap header still alerts");
    assert.equal(result.error?.code, abi.ERR_SECOND_CAPTURE_HEADER);
  });

  it("rejects more interfaces than a section may have", () => {
    const idb = interfaceDescriptionBlock({ linkType: 1 });
    const many = Buffer.concat([sectionHeaderBlock(), ...Array.from({ length: abi.MAX_INTERFACES + 1 }, () => idb)]);
    const error = scanBytes(many).error;
    assert.equal(error?.code, abi.ERR_TOO_MANY_INTERFACES);
    assert.equal(error?.record, abi.MAX_INTERFACES + 2);
    assert.equal(error?.blockType, BLOCK_IDB);
  });

  it("warns about a last block cut short, keeping earlier packets", () => {
    const bytes = Buffer.concat([header, goodBlock, goodBlock]);
    for (const cut of [1, 4, goodBlock.length - 8, goodBlock.length - 1]) {
      const result = scanBytes(bytes.subarray(0, bytes.length - cut));
      assert.equal(result.error, undefined, `cut ${cut}`);
      assert.equal(result.hits.length, 1, `cut ${cut}`);
      assert.equal(result.truncated?.code, abi.ERR_TRUNCATED_RECORD, `cut ${cut}`);
      assert.equal(result.truncated?.record, 4, `cut ${cut}`);
      assert.equal(result.truncated?.unit, abi.UNIT_BLOCK, `cut ${cut}`);
    }
    const skipped = scanBytes(Buffer.concat([header, pcapngBlock(BLOCK_CUSTOM, Buffer.alloc(100))]).subarray(0, header.length + 50));
    assert.equal(skipped.truncated?.code, abi.ERR_TRUNCATED_RECORD);
    assert.match(skipped.truncated!.message, /^capture ends inside block 3 at byte 48 \(Custom Block\): 50 of 112 bytes present/);
  });

  it("reports an input that ends inside the first section header", () => {
    const result = scanBytes(sectionHeaderBlock().subarray(0, 14));
    assert.equal(result.error?.code, abi.ERR_SHORT_HEADER);
    assert.equal(result.error?.value, 14);
  });

  it("does not grow memory for an absurd caplen", () => {
    const core = instantiateCore();
    core.inputPointer();
    core.hitsPointer();
    core.countersPointer();
    core.noticesPointer();
    core.beginInput();
    const bytes = Buffer.concat([header, enhancedPacketBlock({ ...good!, caplen: 0xfffffff0 }), Buffer.alloc(2000)]);
    core.prepare();
    new Uint8Array(core.memory.buffer).set(bytes, core.windowPointer());
    assert.equal(core.process(bytes.length), abi.STATUS_ERROR);
    assert.equal(core.errorCode.value, abi.ERR_CAPLEN_TOO_LARGE);
    assert.ok(core.memory.buffer.byteLength < 16 << 20, `memory grew to ${core.memory.buffer.byteLength} bytes`);
  });
});
