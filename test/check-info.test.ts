// `repfilter check` and `repfilter info`: output in text and JSON, and the exit
// status.

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { describe, it } from "node:test";
import { buildBlocklist } from "../src/blocklist/build.js";
import { recordsOffset } from "../src/blocklist/entries.js";
import { dayOf } from "../src/blocklist/provenance.js";
import { parseEntry } from "../src/lists/ipv4.js";
import { jsonLines, runCli, temporaryDirectory, writeBlocklist } from "./helpers/cli.js";

function range(text: string): { first: number; last: number } {
  const parsed = parseEntry(text);
  if (parsed.kind !== "range") throw new Error(`bad test entry ${text}`);
  return { first: parsed.first, last: parsed.last };
}

const MAY_1 = dayOf(Date.UTC(2026, 4, 1));
const LIST = writeBlocklist(
  buildBlocklist(
    [
      { name: "wide", entries: [range("203.0.0.0/16")], listed: [{ ...range("203.0.0.0/16"), firstSeen: MAY_1 + 3, lastSeen: MAY_1 + 9 }] },
      {
        name: "narrow",
        entries: [range("203.0.113.7"), range("198.51.100.0/24")],
        listed: [
          { ...range("203.0.113.7"), firstSeen: MAY_1, lastSeen: MAY_1 + 9 },
          { ...range("198.51.100.0/24"), firstSeen: MAY_1 + 1, lastSeen: MAY_1 + 2 },
        ],
      },
    ],
    Date.UTC(2026, 4, 10, 4, 17),
  ),
);

describe("repfilter check", () => {
  it("prints each source's entry and days, and exits 0 when one is listed", async () => {
    const result = await runCli(["check", "--blocklist", LIST, "203.0.113.8", "203.0.113.7", "192.0.2.1"]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(
      result.stdout,
      [
        "ADDRESS      SOURCE  LISTED ENTRY    FIRST SEEN  LAST SEEN",
        "203.0.113.8  wide    203.0.0.0/16    2026-05-04  2026-05-10",
        "203.0.113.7  wide    203.0.0.0/16    2026-05-04  2026-05-10",
        "203.0.113.7  narrow  203.0.113.7/32  2026-05-01  2026-05-10",
        "192.0.2.1    -       not listed      -           -",
        "",
      ].join("\n"),
    );
    assert.equal(result.stderr, "");
  });

  it("prints one JSON object per address", async () => {
    const result = await runCli(["check", "-b", LIST, "--format", "json", "203.0.113.7", "192.0.2.1"]);
    assert.equal(result.status, 0);
    assert.deepEqual(jsonLines(result.stdout), [
      {
        address: "203.0.113.7",
        listed_since: "2026-05-01",
        listed: [
          { source: "wide", range: "203.0.0.0/16", first_seen: "2026-05-04", last_seen: "2026-05-10" },
          { source: "narrow", range: "203.0.113.7/32", first_seen: "2026-05-01", last_seen: "2026-05-10" },
        ],
      },
      { address: "192.0.2.1", listed: [] },
    ]);
  });

  it("exits 1 when no address is listed", async () => {
    const result = await runCli(["check", "-b", LIST, "192.0.2.1", "10.0.0.1"]);
    assert.equal(result.status, 1);
    assert.match(result.stdout, /^192\.0\.2\.1 +- +not listed/m);
  });

  it("exits 2 on an invalid address, naming it", async () => {
    const invalid = await runCli(["check", "-b", LIST, "203.0.113.7", "203.0.113"]);
    assert.equal(invalid.status, 2);
    assert.match(invalid.stdout, /^203\.0\.113\.7 +narrow +203\.0\.113\.7\/32 /m);
    assert.equal(invalid.stderr, 'repfilter: error: "203.0.113" is not an IPv4 address; give dotted-quad addresses such as 192.0.2.1\n');
    const ipv6 = await runCli(["check", "-b", LIST, "2001:db8::1"]);
    assert.equal(ipv6.status, 2);
    assert.equal(ipv6.stdout, "");
    assert.match(ipv6.stderr, /"2001:db8::1" is an IPv6 address, which is not supported yet/);
  });

  it("checks the IPv4 addresses beside an IPv6 one", async () => {
    const result = await runCli(["check", "-b", LIST, "203.0.113.7", "2001:db8::1", "192.0.2.1"]);
    assert.equal(result.status, 2);
    const rows = result.stdout.trim().split("\n");
    assert.equal(rows.length, 4, result.stdout);
    assert.match(rows[1]!, /^203\.0\.113\.7 +wide /);
    assert.match(rows[2]!, /^203\.0\.113\.7 +narrow /);
    assert.match(rows[3]!, /^192\.0\.2\.1 +- +not listed/);
    const errors = result.stderr.trim().split("\n");
    assert.equal(errors.length, 1, result.stderr);
    assert.match(errors[0]!, /^repfilter: error: "2001:db8::1" is an IPv6 address, which is not supported yet/);
  });

  it("checks valid addresses in JSON beside an invalid one", async () => {
    const result = await runCli(["check", "-b", LIST, "--format", "json", "fe80::1", "192.0.2.1"]);
    assert.equal(result.status, 2);
    assert.deepEqual(jsonLines(result.stdout), [{ address: "192.0.2.1", listed: [] }]);
    assert.match(result.stderr, /"fe80::1" is an IPv6 address/);
  });

  it("exits 2 without a blocklist or an address", async () => {
    const missing = await runCli(["check", "-b", join(temporaryDirectory(), "none.bin"), "192.0.2.1"]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /error: no blocklist at .*none\.bin/);
    const none = await runCli(["check", "-b", LIST]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /missing required argument 'IP/);
  });
});

describe("repfilter info", () => {
  it("prints the build, counts and per-source figures", async () => {
    const result = await runCli(["info", LIST]);
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.split("\n");
    assert.match(lines[0]!, /^file {7}.*list\.bin \(\d+ B\)$/);
    assert.deepEqual(lines.slice(1), [
      "format     version 1",
      "built      2026-05-10T04:17:00.000Z",
      "ranges     4",
      "addresses  65792",
      "entries    3 source entries, first seen 2026-05-01, last seen 2026-05-10",
      "",
      "SOURCE  ENTRIES  RANGES  ADDRESSES  FIRST SEEN  LAST SEEN",
      "wide          1       3      65536  2026-05-04  2026-05-10",
      "narrow        2       2        257  2026-05-01  2026-05-10",
      "",
    ]);
  });

  it("prints JSON and reads the scan's list by default", async () => {
    const result = await runCli(["info", "--format", "json"], { env: { REPFILTER_BLOCKLIST: LIST } });
    assert.equal(result.status, 0, result.stderr);
    const info = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.equal(info.file, LIST);
    assert.equal(info.format_version, 1);
    assert.equal(info.built, "2026-05-10T04:17:00.000Z");
    assert.equal(info.ranges, 4);
    assert.equal(info.addresses, 65792);
    assert.equal(info.entries, 3);
    assert.equal(info.first_seen, "2026-05-01");
    assert.equal(info.last_seen, "2026-05-10");
    assert.deepEqual(info.sources, [
      { name: "wide", entries: 1, ranges: 3, addresses: 65536, first_seen: "2026-05-04", last_seen: "2026-05-10" },
      { name: "narrow", entries: 2, ranges: 2, addresses: 257, first_seen: "2026-05-01", last_seen: "2026-05-10" },
    ]);
  });

  it("exits 2 for a file that is not a blocklist", async () => {
    const result = await runCli(["info", "README.md"]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /^repfilter: error: README\.md: not a repfilter blocklist/);
  });
});

describe("damaged source entries", () => {
  /** Writes LIST with the first entry record's last address set below its first. */
  function damagedList(): string {
    const file = Buffer.from(readFileSync(LIST));
    const sectionCount = file.readUInt32LE(12);
    let offset = -1;
    for (let i = 0; i < sectionCount; i++) if (file.readUInt32LE(48 + i * 16) === 4) offset = file.readUInt32LE(48 + i * 16 + 8);
    const record = offset + recordsOffset(2);
    file.writeUInt32LE(file.readUInt32LE(record) - 1, record + 4);
    file.writeUInt32LE(0, 24);
    file.writeUInt32LE(crc32(file), 24);
    const path = join(temporaryDirectory(), "damaged.bin");
    writeFileSync(path, file);
    return path;
  }

  it("check warns and falls back to table runs", async () => {
    const result = await runCli(["check", "-b", damagedList(), "203.0.113.8"]);
    assert.equal(result.status, 0);
    assert.match(result.stdout, /^203\.0\.113\.8 +wide +203\.0\.0\.0\/16 +- +-$/m);
    assert.match(result.stderr, /^repfilter: warning: source entries section \(source 0\): entry 0 starts after it ends; the entries shown are runs of table ranges instead\n$/);
  });

  it("info fails with status 2", async () => {
    const path = damagedList();
    const result = await runCli(["info", path]);
    assert.equal(result.status, 2);
    assert.equal(result.stdout, "");
    assert.equal(result.stderr, `repfilter: error: ${path}: source entries section (source 0): entry 0 starts after it ends; rebuild the list\n`);
  });
});
