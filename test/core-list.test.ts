// Lists read straight into core memory: the scan's way of loading a list once.

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";
import { encodeBlocklist } from "../src/blocklist/format.js";
import { loadBlocklist } from "../src/blocklist/load.js";
import { Scanner } from "../src/core/scanner.js";
import { parseIPv4 } from "../src/lists/ipv4.js";
import { temporaryDirectory } from "./helpers/cli.js";
import { listOf } from "./helpers/scan.js";

const ip = (text: string): number => parseIPv4(text)!;

function listFile(entries: string[], name: string): string {
  const path = join(temporaryDirectory(), `${name}.bin`);
  writeFileSync(path, encodeBlocklist(listOf(entries, name)));
  return path;
}

async function loadIntoCore(scanner: Scanner, path: string) {
  const list = await loadBlocklist(path, { rangesBody: (length) => scanner.reserveRangeSection(length) });
  return scanner.adoptList(list);
}

it("probes a list read into core memory", async () => {
  const scanner = new Scanner({ dedupSeconds: 0 }, { hits() {} });
  const list = await loadIntoCore(scanner, listFile(["192.0.2.0/24", "198.51.100.7", "203.0.113.10-203.0.113.20"], "a"));
  scanner.setRanges(list);
  assert.equal(scanner.probe(ip("192.0.2.77")), 0);
  assert.equal(scanner.probe(ip("198.51.100.7")), 1);
  assert.equal(scanner.probe(ip("203.0.113.21")), -1);
  assert.equal(list.starts.length, 3);
  assert.equal(list.sources[0], "a");
});

it("keeps the range arrays readable after core memory grows", async () => {
  const scanner = new Scanner({ dedupSeconds: 0 }, { hits() {} });
  const list = await loadIntoCore(scanner, listFile(["192.0.2.0/24", "198.51.100.0/24"], "a"));
  scanner.setRanges(list);
  scanner.probe(0);
  const before = list.starts;
  // A second list of 200k ranges makes the core grow its memory.
  const many = Array.from({ length: 200_000 }, (_, i) => `10.${i >> 14}.${(i >> 6) & 255}.${(i & 63) * 4}`);
  const big = await loadIntoCore(scanner, listFile(many, "big"));
  assert.equal(before.length, 0, "the old view is detached");
  assert.equal(list.starts.length, 2);
  assert.equal(list.starts[1], ip("198.51.100.0"));
  assert.equal(list.setIds[1], 0);
  scanner.setRanges(big);
  assert.equal(scanner.probe(ip("10.0.0.4")), 1);
  assert.equal(scanner.probe(ip("192.0.2.1")), -1);
});

it("installs a queued list before reserving memory for the next", async () => {
  const scanner = new Scanner({ dedupSeconds: 0 }, { hits() {} });
  const first = await loadIntoCore(scanner, listFile(["192.0.2.0/24"], "first"));
  let applied = 0;
  scanner.setRanges(first, () => applied++);
  // The next load fails after reserving its block; the queued list must survive it.
  const broken = join(temporaryDirectory(), "broken.bin");
  const bytes = encodeBlocklist(listOf(["198.51.100.0/24"], "broken"));
  bytes[bytes.length - 1]! ^= 1;
  writeFileSync(broken, bytes);
  await assert.rejects(loadIntoCore(scanner, broken), /checksum mismatch/);
  assert.equal(applied, 1);
  assert.equal(scanner.probe(ip("192.0.2.9")), 0);
  assert.equal(scanner.probe(ip("198.51.100.9")), -1);
});
