// Building, writing and validating the blocklist file.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildBlocklist } from "../src/blocklist/build.js";
import { BlocklistError, decodeBlocklist, encodeBlocklist, FORMAT_VERSION, HEADER_LENGTH } from "../src/blocklist/format.js";
import { crc32 } from "node:zlib";
import { formatRange, parseEntry } from "../src/lists/ipv4.js";

function entries(...texts: string[]): Array<{ first: number; last: number }> {
  return texts.map((text) => {
    const parsed = parseEntry(text);
    if (parsed.kind !== "range") throw new Error(text);
    return { first: parsed.first, last: parsed.last };
  });
}

function describeList(list: ReturnType<typeof buildBlocklist>): string[] {
  return Array.from(list.starts, (start, i) => {
    const names = list.sets[list.setIds[i]!]!.map((source) => list.sources[source]);
    return `${formatRange(start, list.ends[i]!)} ${names.join(",")}`;
  });
}

/** Rewrites the checksum after a test edits the file, so that a later check is reached. */
function resealed(file: Buffer): Buffer {
  const copy = Buffer.from(file);
  copy.writeUInt32LE(0, 24);
  copy.writeUInt32LE(crc32(copy), 24);
  return copy;
}

function expectError(file: Uint8Array, code: string, pattern: RegExp): void {
  assert.throws(
    () => decodeBlocklist(file, "lists/x.bin"),
    (error: unknown) => {
      assert.ok(error instanceof BlocklistError);
      assert.equal(error.code, code);
      assert.match(error.message, /^lists\/x\.bin: /);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe("blocklist building", () => {
  it("splits ranges at every entry boundary of one source", () => {
    const list = buildBlocklist([{ name: "a", entries: entries("192.0.2.0/25", "192.0.2.128/25", "192.0.2.7", "198.51.100.1-198.51.100.9") }], 0);
    assert.deepEqual(describeList(list), ["192.0.2.0-192.0.2.6 a", "192.0.2.7/32 a", "192.0.2.8-192.0.2.127 a", "192.0.2.128/25 a", "198.51.100.1-198.51.100.9 a"]);
  });

  it("splits overlaps between sources into disjoint ranges with source sets", () => {
    const list = buildBlocklist(
      [
        { name: "feodo", entries: entries("203.0.113.0/24") },
        { name: "drop", entries: entries("203.0.113.128/25", "198.51.100.0/24") },
      ],
      0,
    );
    assert.deepEqual(describeList(list), ["198.51.100.0/24 drop", "203.0.113.0/25 feodo", "203.0.113.128/25 feodo,drop"]);
  });

  it("covers the whole address space", () => {
    const list = buildBlocklist([{ name: "all", entries: entries("0.0.0.0/0", "255.255.255.255") }], 0);
    assert.deepEqual(describeList(list), ["0.0.0.0-255.255.255.254 all", "255.255.255.255/32 all"]);
  });

  it("builds an empty table from no entries", () => {
    const list = buildBlocklist([{ name: "none", entries: [] }], 0);
    assert.equal(list.starts.length, 0);
    assert.deepEqual(decodeBlocklist(encodeBlocklist(list), "x").sources, ["none"]);
  });
});

describe("blocklist file", () => {
  const list = buildBlocklist(
    [
      { name: "feodo", entries: entries("192.0.2.17", "203.0.113.0/24") },
      { name: "spamhaus-drop", entries: entries("203.0.113.128/25", "100.64.0.0/10") },
    ],
    Date.UTC(2026, 11, 1),
  );
  const file = encodeBlocklist(list);

  it("round-trips every field", () => {
    const decoded = decodeBlocklist(file, "x");
    assert.equal(decoded.createdAt, Date.UTC(2026, 11, 1));
    assert.deepEqual(decoded.sources, ["feodo", "spamhaus-drop"]);
    assert.deepEqual(decoded.sets, list.sets);
    assert.deepEqual(decoded.starts, list.starts);
    assert.deepEqual(decoded.ends, list.ends);
    assert.deepEqual(decoded.setIds, list.setIds);
  });

  it("round-trips from an unaligned buffer", () => {
    const unaligned = Buffer.alloc(file.length + 1).subarray(1);
    file.copy(unaligned);
    assert.deepEqual(decodeBlocklist(unaligned, "x").starts, list.starts);
  });

  it("rejects a short file", () => expectError(file.subarray(0, 20), "ERR_BLOCKLIST_SHORT", /20 bytes/));

  it("rejects a wrong magic", () => expectError(Buffer.from("192.0.2.1\n".repeat(10)), "ERR_BLOCKLIST_MAGIC", /not a repfilter blocklist \(first bytes 31 39 32/));

  it("rejects a newer format version", () => {
    const newer = Buffer.from(file);
    newer.writeUInt16LE(FORMAT_VERSION + 1, 8);
    expectError(newer, "ERR_BLOCKLIST_VERSION", /format version 2 is newer .*upgrade repfilter/);
  });

  it("rejects a bad checksum", () => {
    const corrupt = Buffer.from(file);
    corrupt[corrupt.length - 5]! ^= 0x40;
    expectError(corrupt, "ERR_BLOCKLIST_CHECKSUM", /checksum mismatch/);
  });

  it("rejects a file cut short", () => expectError(file.subarray(0, file.length - 4), "ERR_BLOCKLIST_LENGTH", /cut short/));

  it("rejects unsorted ranges", () => {
    const swapped = encodeBlocklist({ ...list, starts: Uint32Array.from([...list.starts].reverse()), ends: Uint32Array.from([...list.ends].reverse()) });
    expectError(swapped, "ERR_BLOCKLIST_UNSORTED", /ranges 0 \(.*\) and 1 \(.*\) are unsorted/);
  });

  it("rejects overlapping ranges", () => {
    const overlapping = encodeBlocklist({ ...list, ends: Uint32Array.from(list.ends, (end, i) => (i === 0 ? list.starts[1]! : end)) });
    expectError(overlapping, "ERR_BLOCKLIST_OVERLAPPING", /are overlapping/);
  });

  it("rejects a range that names a missing source set", () => {
    const broken = encodeBlocklist({ ...list, setIds: Uint32Array.from(list.setIds, () => 99) });
    expectError(broken, "ERR_BLOCKLIST_RANGE", /source set 99/);
  });

  it("rejects an unknown required section and skips an unknown optional one", () => {
    const withExtra = (flags: number): Buffer => {
      const sectionCount = file.readUInt32LE(12);
      const extended = Buffer.concat([file.subarray(0, HEADER_LENGTH + sectionCount * 16), Buffer.alloc(16), file.subarray(HEADER_LENGTH + sectionCount * 16), Buffer.alloc(8)]);
      extended.writeUInt32LE(sectionCount + 1, 12);
      for (let i = 0; i < sectionCount; i++) {
        const entry = HEADER_LENGTH + i * 16;
        extended.writeUInt32LE(extended.readUInt32LE(entry + 8) + 16, entry + 8);
      }
      const entry = HEADER_LENGTH + sectionCount * 16;
      extended.writeUInt32LE(77, entry);
      extended.writeUInt32LE(flags, entry + 4);
      extended.writeUInt32LE(extended.length - 8, entry + 8);
      extended.writeUInt32LE(8, entry + 12);
      extended.writeBigUInt64LE(BigInt(extended.length), 32);
      return resealed(extended);
    };
    assert.deepEqual(decodeBlocklist(withExtra(0), "x").starts, list.starts);
    expectError(withExtra(1), "ERR_BLOCKLIST_VERSION", /section type 77 is required but unknown/);
  });

  it("rejects a directory entry outside the file", () => {
    const broken = Buffer.from(file);
    broken.writeUInt32LE(file.length + 100, HEADER_LENGTH + 8);
    expectError(resealed(broken), "ERR_BLOCKLIST_DIRECTORY", /outside the file/);
  });

  it("rejects source names an alert could not print", () => {
    const names = ["", "two words", "a,b", "line\nbreak", "bell\u0007", "-leading-dash", "x".repeat(65), "ünïcode"];
    for (const name of names) {
      const crafted = encodeBlocklist(buildBlocklist([{ name, entries: entries("192.0.2.0/24") }], 0));
      assert.throws(
        () => decodeBlocklist(crafted, "lists/x.bin"),
        (error: unknown) => {
          assert.ok(error instanceof BlocklistError);
          assert.equal(error.code, "ERR_BLOCKLIST_SOURCE_NAME");
          assert.ok(error.message.startsWith(`lists/x.bin: source 0 has the invalid name ${JSON.stringify(name)}; `), error.message);
          assert.doesNotMatch(error.message, /\n/);
          return true;
        },
        JSON.stringify(name),
      );
    }
    const longest = "x".repeat(64);
    assert.deepEqual(decodeBlocklist(encodeBlocklist(buildBlocklist([{ name: longest, entries: entries("192.0.2.0/24") }], 0)), "x").sources, [longest]);
  });
});
