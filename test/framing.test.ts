// Classic pcap framing in the core: chunk boundaries, byte orders, timestamp
// precision, corrupt and truncated records.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as abi from "../src/core/abi.js";
import { buildPcapng } from "../src/pcap/pcapng-writer.js";
import { buildPcap, pcapFileHeader, pcapRecordHeader, type PcapRecord } from "../src/pcap/writer.js";
import { ethernet, ipv4 } from "./helpers/packets.js";
import { listOf as listFromEntries, scanBytes } from "./helpers/scan.js";

function sampleRecords(count: number): PcapRecord[] {
  const records: PcapRecord[] = [];
  for (let i = 0; i < count; i++) {
    const data = ethernet(ipv4({ src: `192.0.2.${i + 1}`, dst: "198.51.100.7", proto: i % 2 === 0 ? 6 : 17, srcPort: 1000 + i, dstPort: 53, payload: new Uint8Array(i * 7) }));
    records.push({ tsSec: 1_700_000_000 + i, tsFrac: 1000 * i, data });
  }
  return records;
}

describe("pcap framing", () => {
  const capture = buildPcap(sampleRecords(5), { linkType: 1 });
  const whole = scanBytes(capture);

  it("decodes every record of a whole capture", () => {
    assert.equal(whole.hits.length, 5);
    assert.deepEqual(whole.hits.map((hit) => hit.packet), [1, 2, 3, 4, 5]);
    assert.equal(whole.hits[2]!.src, "192.0.2.3");
    assert.equal(whole.hits[2]!.srcPort, 1002);
    assert.equal(whole.hits[2]!.dstPort, 53);
    assert.equal(whole.counters.packets, 5);
    assert.equal(whole.error, undefined);
    assert.equal(whole.truncated, undefined);
  });

  it("gives the same hits for a split at every byte offset", () => {
    for (let split = 1; split < capture.length; split++) {
      const result = scanBytes(capture, { chunkSizes: [split, capture.length] });
      assert.deepEqual(result.hits, whole.hits, `split at byte ${split}`);
      assert.equal(result.counters.packets, 5, `split at byte ${split}`);
    }
  });

  it("gives the same hits for 1-byte and 7-byte chunks", () => {
    assert.deepEqual(scanBytes(capture, { chunkSizes: [1] }).hits, whole.hits);
    assert.deepEqual(scanBytes(capture, { chunkSizes: [7] }).hits, whole.hits);
  });

  it("reads big-endian files like little-endian ones", () => {
    const big = scanBytes(buildPcap(sampleRecords(5), { linkType: 1, bigEndian: true }));
    assert.deepEqual(big.hits, whole.hits);
  });

  it("reads a big-endian 98-byte record without misreading its length", () => {
    const data = ethernet(ipv4({ src: "10.0.0.1", dst: "203.0.113.9", proto: 1, payload: new Uint8Array(64) }));
    assert.equal(data.length, 98);
    const result = scanBytes(buildPcap([{ tsSec: 1, tsFrac: 0, data }], { linkType: 1, bigEndian: true }));
    assert.equal(result.hits.length, 1);
    assert.equal(result.hits[0]!.caplen, 98);
    assert.equal(result.hits[0]!.dst, "203.0.113.9");
  });

  it("keeps nanosecond timestamps with nine digits", () => {
    const records = [{ tsSec: 1_700_000_000, tsFrac: 305_694_000, data: ipv4({ src: "192.0.2.1", dst: "10.0.0.1" }) }];
    const result = scanBytes(buildPcap(records, { linkType: 101, nanoseconds: true }));
    assert.equal(result.hits.length, 1);
    assert.equal(result.hits[0]!.tsDigits, 9);
    assert.equal(result.hits[0]!.tsFrac, 305_694_000);
    const big = scanBytes(buildPcap(records, { linkType: 101, nanoseconds: true, bigEndian: true }));
    assert.deepEqual(big.hits, result.hits);
  });

  it("keeps microsecond timestamps with six digits", () => {
    const result = scanBytes(buildPcap(sampleRecords(1), { linkType: 1 }));
    assert.equal(result.hits[0]!.tsDigits, 6);
  });

  it("carries a microsecond fraction above 999999 into the seconds", () => {
    const records = [{ tsSec: 100, tsFrac: 2_500_000, data: ipv4({ src: "192.0.2.1", dst: "10.0.0.1" }) }];
    const result = scanBytes(buildPcap(records, { linkType: 228 }));
    assert.equal(result.hits[0]!.tsSec, 102);
    assert.equal(result.hits[0]!.tsFrac, 500_000);
  });

  it("takes the link type from the low 16 bits of the header field", () => {
    const records = [{ tsSec: 1, tsFrac: 0, data: ethernet(ipv4({ src: "192.0.2.1", dst: "10.0.0.1" })) }];
    const result = scanBytes(buildPcap(records, { linkType: 0x1000_0001 }));
    assert.equal(result.hits.length, 1);
    assert.equal(result.hits[0]!.linkType, 1);
  });

  it("reads the Kuznetzov variant with 24-byte record headers", () => {
    const data = ipv4({ src: "192.0.2.1", dst: "10.0.0.1" });
    const header = pcapFileHeader({ linkType: 228 });
    header.writeUInt32LE(0xa1b2cd34, 0);
    const record = Buffer.concat([pcapRecordHeader({ tsSec: 5, tsFrac: 6, data }), Buffer.alloc(8), data]);
    const result = scanBytes(Buffer.concat([header, record, record]));
    assert.equal(result.hits.length, 2);
    assert.equal(result.error, undefined);
  });
});

describe("pcap framing errors", () => {
  it("rejects a caplen above 262144 naming the record and offset", () => {
    const good = sampleRecords(1);
    const bad: PcapRecord = { tsSec: 2, tsFrac: 0, data: new Uint8Array(0), caplen: 0x63503d00, origLen: 0 };
    const bytes = Buffer.concat([buildPcap([...good, bad], { linkType: 1 }), Buffer.alloc(2000)]);
    const result = scanBytes(bytes);
    assert.equal(result.hits.length, 1, "the record before the bad one still alerts");
    assert.equal(result.error?.code, abi.ERR_CAPLEN_TOO_LARGE);
    assert.equal(result.error?.record, 2);
    assert.equal(result.error?.offset, 24 + 16 + good[0]!.data.length);
    assert.equal(result.error?.value, 0x63503d00);
    assert.match(result.error!.message, /record 2 at byte \d+: caplen 1666202880 exceeds maximum 262144/);
  });

  it("accepts a caplen of exactly 262144 and above the snaplen", () => {
    const data = Buffer.concat([ipv4({ src: "192.0.2.1", dst: "10.0.0.1" }), Buffer.alloc(262144 - 40)]);
    const result = scanBytes(buildPcap([{ tsSec: 1, tsFrac: 0, data }], { linkType: 228, snaplen: 1500 }));
    assert.equal(result.error, undefined);
    assert.equal(result.hits.length, 1);
    assert.equal(result.counters.caplenAboveSnaplen, 1);
  });

  it("reports a last record cut short as truncated, keeping earlier packets", () => {
    const bytes = buildPcap(sampleRecords(3), { linkType: 1 });
    for (const cut of [5, 15, 16, 30]) {
      const result = scanBytes(bytes.subarray(0, bytes.length - cut));
      assert.equal(result.error, undefined, `cut ${cut}`);
      assert.equal(result.hits.length, 2, `cut ${cut}`);
      assert.equal(result.truncated?.code, abi.ERR_TRUNCATED_RECORD, `cut ${cut}`);
      assert.equal(result.truncated?.record, 3, `cut ${cut}`);
    }
  });

  it("reports an empty input", () => {
    assert.equal(scanBytes(new Uint8Array(0)).error?.code, abi.ERR_EMPTY);
  });

  it("reports an input shorter than the file header", () => {
    const result = scanBytes(pcapFileHeader({ linkType: 1 }).subarray(0, 10));
    assert.equal(result.error?.code, abi.ERR_SHORT_HEADER);
    assert.equal(result.error?.value, 10);
  });

  it("accepts a header-only capture", () => {
    const result = scanBytes(pcapFileHeader({ linkType: 1 }));
    assert.equal(result.error, undefined);
    assert.equal(result.counters.packets, 0);
  });

  it("rejects a bad magic naming the first bytes", () => {
    const result = scanBytes(Buffer.from("GET / HTTP/1.1\r\n"));
    assert.equal(result.error?.code, abi.ERR_BAD_MAGIC);
    assert.match(result.error!.message, /47 45 54 20/);
  });

  it("rejects a pcap major version other than 2", () => {
    const header = pcapFileHeader({ linkType: 1 });
    header.writeUInt16LE(3, 4);
    assert.equal(scanBytes(header).error?.code, abi.ERR_BAD_VERSION);
  });

  describe("captures joined with cat", () => {
    const first = buildPcap(sampleRecords(2), { linkType: 1 });
    const cases: Array<[name: string, second: Buffer, magic: number]> = [
      ["a little-endian pcap", buildPcap(sampleRecords(3), { linkType: 1 }), 0xd4c3b2a1],
      ["a big-endian pcap", buildPcap(sampleRecords(3), { linkType: 1, bigEndian: true }), 0xa1b2c3d4],
      ["a nanosecond pcap", buildPcap(sampleRecords(3), { linkType: 1, nanoseconds: true }), 0x4d3cb2a1],
      ["a header-only pcap", pcapFileHeader({ linkType: 1 }), 0xd4c3b2a1],
      ["a pcapng file", buildPcapng([{ data: sampleRecords(1)[0]!.data }], { interfaces: [{ linkType: 1 }] }), 0x0a0d0d0a],
    ];
    for (const [name, second, magic] of cases) {
      it(`reports the header of ${name}`, () => {
        const result = scanBytes(Buffer.concat([first, second]));
        assert.equal(result.hits.length, 2, "the packets of the first capture still alert");
        assert.equal(result.truncated, undefined);
        assert.equal(result.error?.code, abi.ERR_SECOND_CAPTURE_HEADER);
        assert.equal(result.error?.offset, first.length);
        assert.equal(result.error?.record, 3);
        assert.equal(result.error?.value, magic);
        assert.match(result.error!.message, new RegExp(`^record 3 at byte ${first.length}: found a second capture file header \\(pcap`));
        assert.match(result.error!.message, /mergecap -w out\.pcap a\.pcap b\.pcap/);
        assert.match(result.error!.message, /`repfilter a\.pcap b\.pcap`/);
      });
    }

    it("reports the second header at every split", () => {
      const bytes = Buffer.concat([first, buildPcap(sampleRecords(1), { linkType: 1 })]);
      const whole = scanBytes(bytes);
      assert.equal(whole.error?.code, abi.ERR_SECOND_CAPTURE_HEADER);
      for (let split = 1; split < bytes.length; split++) {
        const result = scanBytes(bytes, { chunkSizes: [split, bytes.length] });
        assert.equal(result.error?.message, whole.error!.message, `split at byte ${split}`);
        assert.deepEqual(result.hits, whole.hits, `split at byte ${split}`);
      }
      assert.equal(scanBytes(bytes, { chunkSizes: [1] }).error?.message, whole.error!.message);
    });

    it("ignores the input's own header", () => {
      const header = pcapFileHeader({ linkType: 1 });
      header.writeUInt32LE(0xa1b2cd34, 0);
      const bad = Buffer.alloc(24);
      bad.writeUInt32LE(0x63503d00, 8);
      const result = scanBytes(Buffer.concat([header, bad]));
      assert.equal(result.error?.code, abi.ERR_CAPLEN_TOO_LARGE);
      assert.equal(result.error?.offset, 24);
    });
  });

  it("handles a chunk larger than the initial memory, then a small one", () => {
    const big = Buffer.concat([ipv4({ src: "10.0.0.1", dst: "10.0.0.2", proto: 17 }), Buffer.alloc(262144 - 28)]);
    const hit = ipv4({ src: "192.0.2.1", dst: "10.0.0.1" });
    const records: PcapRecord[] = [];
    for (let i = 0; i < 20; i++) records.push({ tsSec: i, tsFrac: 0, data: big });
    records.push({ tsSec: 99, tsFrac: 0, data: hit });
    const bytes = buildPcap(records, { linkType: 228 });
    const list = ["192.0.2.0/24"];
    const expected = scanBytes(bytes, { chunkSizes: [4096], list: listFromEntries(list) });
    const whole = scanBytes(bytes, { list: listFromEntries(list) });
    assert.equal(whole.hits.length, 1);
    assert.deepEqual(whole.hits, expected.hits);
    assert.deepEqual(scanBytes(bytes, { chunkSizes: [1], list: listFromEntries(list) }).hits.length, 1);
  });

  it("returns more hits than one buffer holds", () => {
    const records: PcapRecord[] = [];
    for (let i = 0; i < 10_000; i++) records.push({ tsSec: i, tsFrac: 0, data: ipv4({ src: "192.0.2.1", dst: "10.0.0.1", proto: 1 }) });
    const result = scanBytes(buildPcap(records, { linkType: 228 }));
    assert.equal(result.hits.length, 10_000);
    assert.equal(result.hits[9_999]!.packet, 10_000);
  });
});
