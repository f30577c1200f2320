// What alerts name: each source's own entry and its dates, never a split piece
// of the table. Covers the source entries section (encoding, the lookup with
// nested entries, lazy checks), the streaming loader and files without the
// section.

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { buildBlocklist, type Blocklist, type SourceEntries } from "../src/blocklist/build.js";
import { ENTRY_RECORD_LENGTH, recordsOffset } from "../src/blocklist/entries.js";
import { BlocklistError, decodeBlocklist, encodeBlocklist, HEADER_LENGTH } from "../src/blocklist/format.js";
import { closeBlocklist, loadBlocklist } from "../src/blocklist/load.js";
import { dayOf, formatDay, listingsAt } from "../src/blocklist/provenance.js";
import { formatRange, parseEntry, parseIPv4 } from "../src/lists/ipv4.js";
import { buildPcap } from "../src/pcap/writer.js";
import { crc32 } from "node:zlib";
import { jsonLines, runCli, temporaryDirectory, writeBlocklist } from "./helpers/cli.js";
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

/** Returns the listings for `text` as "source range" strings, by a probe of the table. */
function listed(list: Blocklist, text: string): string[] {
  const value = address(text);
  const index = list.starts.findIndex((start, i) => start <= value && value <= list.ends[i]!);
  if (index < 0) return [];
  return listingsAt(list, index, value).map((listing) => `${list.sources[listing.source]} ${formatRange(listing.first, listing.last)}`);
}

const DAY = dayOf(Date.UTC(2026, 4, 1));

function dated(text: string, firstSeen: number, lastSeen: number): { first: number; last: number; firstSeen: number; lastSeen: number } {
  return { ...range(text), firstSeen, lastSeen };
}

describe("source entries in alerts", () => {
  const wideNarrow: SourceEntries[] = [
    { name: "wide", entries: [range("203.0.0.0/16")] },
    { name: "narrow", entries: [range("203.0.113.7")] },
  ];

  it("names the feed's entry, not the split table range", async () => {
    const list = writeBlocklist(buildBlocklist(wideNarrow, 0));
    const packets = ["203.0.113.8", "203.0.113.7"].map((src, i) => ({ tsSec: 1_700_000_000 + i, tsFrac: 0, data: ethernet(ipv4({ src, dst: "10.0.0.1" })) }));
    const text = await runCli(["--blocklist", list, "--quiet", "--dedup", "0"], { input: buildPcap(packets, { linkType: 1 }) });
    const lines = text.stdout.trim().split("\n");
    assert.match(lines[0]!, / match=src src_range=203\.0\.0\.0\/16 src_sources=wide$/);
    assert.doesNotMatch(text.stdout, /203\.0\.113\.8-203\.0\.255\.255/);
    assert.match(lines[1]!, / match=src src_range=203\.0\.113\.7\/32 src_sources=wide,narrow$/);

    const json = await runCli(["--blocklist", list, "--quiet", "--dedup", "0", "--format", "json"], { input: buildPcap(packets, { linkType: 1 }) });
    const [first, second] = jsonLines(json.stdout);
    assert.deepEqual((first!.match as Record<string, unknown>).src, { range: "203.0.0.0/16", sources: ["wide"], listed: [{ source: "wide", range: "203.0.0.0/16" }] });
    assert.deepEqual((second!.match as Record<string, unknown>).src, {
      range: "203.0.113.7/32",
      sources: ["wide", "narrow"],
      listed: [
        { source: "wide", range: "203.0.0.0/16" },
        { source: "narrow", range: "203.0.113.7/32" },
      ],
    });
  });

  it("shows listed since and each source's days", async () => {
    const list = buildBlocklist(
      [
        { name: "wide", entries: [range("203.0.0.0/16")], listed: [dated("203.0.0.0/16", DAY + 10, DAY + 20)] },
        { name: "narrow", entries: [range("203.0.113.7")], listed: [dated("203.0.113.7", DAY, DAY + 20)] },
      ],
      0,
    );
    const path = writeBlocklist(list);
    const input = buildPcap([{ tsSec: 1_700_000_000, tsFrac: 0, data: ethernet(ipv4({ src: "10.0.0.1", dst: "203.0.113.7" })) }], { linkType: 1 });
    const text = await runCli(["--blocklist", path, "--quiet"], { input });
    assert.match(text.stdout, / dir=outbound match=dst dst_range=203\.0\.113\.7\/32 dst_sources=wide,narrow dst_listed_since=2026-05-01\n$/);
    const json = await runCli(["--blocklist", path, "--quiet", "--format", "json"], { input });
    const [alert] = jsonLines(json.stdout);
    assert.equal(alert!.direction, "outbound");
    assert.deepEqual((alert!.match as Record<string, unknown>).dest, {
      range: "203.0.113.7/32",
      sources: ["wide", "narrow"],
      listed_since: "2026-05-01",
      listed: [
        { source: "wide", range: "203.0.0.0/16", first_seen: "2026-05-11", last_seen: "2026-05-21" },
        { source: "narrow", range: "203.0.113.7/32", first_seen: "2026-05-01", last_seen: "2026-05-21" },
      ],
    });
  });

  it("formats day numbers as UTC dates", () => {
    assert.equal(formatDay(0), "1970-01-01");
    assert.equal(formatDay(DAY), "2026-05-01");
    assert.equal(dayOf(Date.UTC(2026, 4, 1, 23, 59, 59)), DAY);
  });
});

describe("source entry lookup", () => {
  it("finds the most specific of nested entries", () => {
    const list = buildBlocklist([{ name: "a", entries: ["198.51.100.0/24", "198.51.100.0/26", "198.51.100.5", "198.51.100.128/25", "198.51.100.200-198.51.100.210"].map(range) }], 0);
    assert.deepEqual(listed(list, "198.51.100.5"), ["a 198.51.100.5/32"]);
    assert.deepEqual(listed(list, "198.51.100.6"), ["a 198.51.100.0/26"]);
    assert.deepEqual(listed(list, "198.51.100.64"), ["a 198.51.100.0/24"]);
    assert.deepEqual(listed(list, "198.51.100.205"), ["a 198.51.100.200-198.51.100.210"]);
    assert.deepEqual(listed(list, "198.51.100.211"), ["a 198.51.100.128/25"]);
    assert.deepEqual(listed(list, "198.51.101.0"), []);
  });

  it("agrees with a linear search on random overlapping entries", () => {
    let seed = 7;
    const next = (limit: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % limit;
    };
    for (let round = 0; round < 20; round++) {
      // 600 entries per source in 4096 addresses: long runs of nesting and partial overlap.
      const sources = ["a", "b", "c"].map((name) => ({
        name,
        entries: Array.from({ length: 600 }, () => {
          const first = 0xc6336000 + next(4096);
          return { first, last: first + next(next(2) === 0 ? 8 : 400) };
        }),
      }));
      const list = buildBlocklist(sources, 0);
      const decoded = decodeBlocklist(encodeBlocklist(list), "x");
      for (let probe = 0; probe < 300; probe++) {
        const value = 0xc6336000 + next(4500);
        const index = decoded.starts.findIndex((start, i) => start <= value && value <= decoded.ends[i]!);
        const found = index < 0 ? [] : listingsAt(decoded, index, value);
        const expected = sources.flatMap((source, number) => {
          const containing = source.entries.filter((entry) => entry.first <= value && value <= entry.last);
          if (containing.length === 0) return [];
          // The one that starts last, the shortest of those.
          containing.sort((x, y) => y.first - x.first || x.last - y.last);
          return [`${number} ${formatRange(containing[0]!.first, containing[0]!.last)}`];
        });
        assert.deepEqual(
          found.map((listing) => `${listing.source} ${formatRange(listing.first, listing.last)}`),
          expected,
          `round ${round}, address ${value}`,
        );
      }
    }
  });

  it("keeps the earliest and latest days of a repeated entry", () => {
    const list = buildBlocklist([{ name: "a", entries: [range("192.0.2.1")], listed: [dated("192.0.2.1", DAY + 5, DAY + 6), dated("192.0.2.1", DAY, DAY + 2)] }], 0);
    const [listing] = listingsAt(list, 0, address("192.0.2.1"));
    assert.equal(listing!.firstSeen, DAY);
    assert.equal(listing!.lastSeen, DAY + 6);
    assert.equal(list.entries!.count, 1);
  });

  it("keeps the feed's entry when an allowlist cut the table", () => {
    const list = buildBlocklist([{ name: "a", entries: [range("203.0.0.0-203.0.112.255"), range("203.0.114.0-203.0.255.255")], listed: [dated("203.0.0.0/16", DAY, DAY)] }], 0);
    assert.deepEqual(listed(list, "203.0.200.1"), ["a 203.0.0.0/16"]);
    assert.deepEqual(listed(list, "203.0.113.1"), []);
  });
});

/** Returns the file offset of the source entries section of an encoded list. */
function entriesOffset(file: Buffer): number {
  const count = file.readUInt32LE(12);
  for (let i = 0; i < count; i++) {
    const entry = HEADER_LENGTH + i * 16;
    if (file.readUInt32LE(entry) === 4) return file.readUInt32LE(entry + 8);
  }
  throw new Error("no source entries section");
}

function resealed(file: Buffer): Buffer {
  const copy = Buffer.from(file);
  copy.writeUInt32LE(0, 24);
  copy.writeUInt32LE(crc32(copy), 24);
  return copy;
}

describe("source entries section", () => {
  const list = buildBlocklist(
    [
      { name: "wide", entries: [range("203.0.0.0/16")], listed: [dated("203.0.0.0/16", DAY, DAY + 1)] },
      { name: "narrow", entries: [range("203.0.113.7"), range("192.0.2.0/24")] },
    ],
    0,
  );
  const file = encodeBlocklist(list);

  it("is optional: a file without it labels runs of table ranges", () => {
    const sectionCount = file.readUInt32LE(12);
    const withoutEntries = Buffer.from(file);
    withoutEntries.writeUInt32LE(sectionCount - 1, 12);
    // The entries section is last: drop its directory entry (zeroed) and keep the rest.
    withoutEntries.fill(0, HEADER_LENGTH + (sectionCount - 1) * 16, HEADER_LENGTH + sectionCount * 16);
    const decoded = decodeBlocklist(resealed(withoutEntries), "old.bin");
    assert.equal(decoded.entries, undefined);
    assert.deepEqual(listed(decoded, "203.0.113.8"), ["wide 203.0.0.0/16"]);
    assert.deepEqual(listed(decoded, "203.0.113.7"), ["wide 203.0.0.0/16", "narrow 203.0.113.7/32"]);
  });

  it("reads the same from a file as from memory", async () => {
    const path = join(temporaryDirectory(), "list.bin");
    writeFileSync(path, file);
    const loaded = await loadBlocklist(path);
    try {
      for (const text of ["203.0.113.7", "203.0.113.8", "192.0.2.200", "198.51.100.1"]) {
        assert.deepEqual(listed(loaded, text), listed(list, text), text);
      }
      assert.deepEqual(loaded.entries!.summary(0), { entries: 1, firstSeen: DAY, lastSeen: DAY + 1 });
      assert.deepEqual(loaded.entries!.summary(1), { entries: 2, firstSeen: 0, lastSeen: 0 });
      assert.deepEqual(Buffer.from(encodeBlocklist(loaded)), file);
    } finally {
      closeBlocklist(loaded);
    }
  });

  it("rejects counts that do not fit the section", () => {
    const damaged = Buffer.from(file);
    damaged.writeUInt32LE(99, entriesOffset(file) + 4);
    assert.throws(
      () => decodeBlocklist(resealed(damaged), "x.bin"),
      (error: unknown) => error instanceof BlocklistError && error.code === "ERR_BLOCKLIST_SECTION" && /does not fit 2 sources and 99 entries/.test(error.message),
    );
  });

  it("reports a bad checksum before a damaged section when loading a file", async () => {
    const damaged = Buffer.from(file);
    damaged.writeUInt32LE(99, entriesOffset(file) + 4);
    const path = join(temporaryDirectory(), "list.bin");
    writeFileSync(path, damaged);
    await assert.rejects(loadBlocklist(path), (error: unknown) => error instanceof BlocklistError && error.code === "ERR_BLOCKLIST_CHECKSUM");
    writeFileSync(path, resealed(damaged));
    await assert.rejects(loadBlocklist(path), (error: unknown) => error instanceof BlocklistError && error.code === "ERR_BLOCKLIST_SECTION");
  });

  it("stops using a damaged record block and falls back to the table", () => {
    const damaged = Buffer.from(file);
    // Entry 1 (narrow's 192.0.2.0/24) gets first > last.
    const record = entriesOffset(file) + recordsOffset(2) + ENTRY_RECORD_LENGTH;
    damaged.writeUInt32LE(0xc0000200 - 1, record + 4);
    const decoded = decodeBlocklist(resealed(damaged), "x.bin");
    assert.deepEqual(listed(decoded, "192.0.2.9"), ["narrow 192.0.2.0/24"]);
    assert.match(decoded.entries!.readFailure?.message ?? "", /source entries section \(source 1\): entry 1 starts after it ends/);
    assert.throws(() => decoded.entries!.summary(1), /entry 1 starts after it ends/);
  });

  it("alerts on a list of a million entries from the file", async () => {
    const entries = Array.from({ length: 1_000_000 }, (_, i) => ({ first: 0x0a000000 + i * 8, last: 0x0a000000 + i * 8 + 3 }));
    const big = buildBlocklist([{ name: "big", entries }], 0);
    const path = writeBlocklist(big);
    const packets = [0, 256, 999_999].map((i, n) => ({ tsSec: n, tsFrac: 0, data: ipv4({ src: `10.${(i * 8) >> 16}.${((i * 8) >> 8) & 255}.${(i * 8 + 2) & 255}`, dst: "192.0.2.1" }) }));
    const result = await runCli(["--blocklist", path, "--quiet", "--home-net", "192.0.2.0/24"], { input: buildPcap(packets, { linkType: 101 }) });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(
      result.stdout.trim().split("\n").map((line) => line.replace(/^.* match=/, "")),
      ["src src_range=10.0.0.0/30 src_sources=big", "src src_range=10.0.8.0/30 src_sources=big", "src src_range=10.122.17.248/30 src_sources=big"],
    );
  });
});
