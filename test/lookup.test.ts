// Range lookups in the core, checked at the edges and against a linear scan.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Scanner } from "../src/core/scanner.js";
import { parseIPv4 } from "../src/lists/ipv4.js";

function scannerWith(starts: number[], ends: number[]): Scanner {
  const scanner = new Scanner({ dedupSeconds: 0 }, { hits() {} });
  scanner.setRanges({ starts: Uint32Array.from(starts), ends: Uint32Array.from(ends) });
  return scanner;
}

const ip = (text: string): number => parseIPv4(text)!;

/** A small deterministic generator (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe("range lookup", () => {
  it("finds nothing in an empty table", () => {
    const scanner = scannerWith([], []);
    assert.equal(scanner.probe(0), -1);
    assert.equal(scanner.probe(ip("192.0.2.1")), -1);
  });

  it("checks the edges of a single range", () => {
    const scanner = scannerWith([ip("192.0.2.0")], [ip("192.0.2.255")]);
    assert.equal(scanner.probe(ip("192.0.1.255")), -1);
    assert.equal(scanner.probe(ip("192.0.2.0")), 0);
    assert.equal(scanner.probe(ip("192.0.2.255")), 0);
    assert.equal(scanner.probe(ip("192.0.3.0")), -1);
  });

  it("handles ranges at both ends of the address space", () => {
    const scanner = scannerWith([0, ip("255.255.255.255")], [ip("0.0.0.255"), ip("255.255.255.255")]);
    assert.equal(scanner.probe(0), 0);
    assert.equal(scanner.probe(ip("0.0.1.0")), -1);
    assert.equal(scanner.probe(ip("255.255.255.254")), -1);
    assert.equal(scanner.probe(ip("255.255.255.255")), 1);
  });

  it("checks first, last and one outside for each of many ranges", () => {
    const starts: number[] = [];
    const ends: number[] = [];
    for (let i = 0; i < 1000; i++) {
      starts.push(i * 1000 + 10);
      ends.push(i * 1000 + 10 + (i % 50));
    }
    const scanner = scannerWith(starts, ends);
    for (let i = 0; i < 1000; i++) {
      assert.equal(scanner.probe(starts[i]!), i);
      assert.equal(scanner.probe(ends[i]!), i);
      assert.equal(scanner.probe(starts[i]! - 1), -1);
      assert.equal(scanner.probe(ends[i]! + 1), -1);
    }
  });

  it("agrees with a linear scan on random tables and addresses", () => {
    const next = random(20261204);
    for (let round = 0; round < 20; round++) {
      const count = 1 + Math.floor(next() * 3000);
      const points = new Set<number>();
      while (points.size < count * 2) points.add(Math.floor(next() * 2 ** 32));
      const sorted = [...points].sort((a, b) => a - b);
      const starts = sorted.filter((_, index) => index % 2 === 0);
      const ends = sorted.filter((_, index) => index % 2 === 1);
      const scanner = scannerWith(starts, ends);
      for (let probe = 0; probe < 2000; probe++) {
        const address = probe % 4 === 0 ? starts[Math.floor(next() * count)]! : Math.floor(next() * 2 ** 32);
        const expected = starts.findIndex((start, index) => start <= address && address <= ends[index]!);
        assert.equal(scanner.probe(address), expected, `round ${round}, address ${address}`);
        assert.equal(scanner.probeBinary(address), expected, `round ${round}, address ${address}, binary search`);
      }
    }
  });

  it("agrees with the plain search around bucket edges", () => {
    // Ranges that start, end or span /16 boundaries, and many ranges inside one /16.
    const starts: number[] = [];
    const ends: number[] = [];
    for (let prefix = 0; prefix < 40; prefix++) {
      const base = (prefix * 3) * 65536;
      starts.push(base - (prefix % 2 === 0 ? 0 : 5) + 65536, base + 65536 + 10);
      ends.push(base + 65536 + 3, base + 3 * 65536 - 1 - prefix);
    }
    for (let i = 0; i < 500; i++) {
      starts.push(0x0a000000 + i * 4);
      ends.push(0x0a000000 + i * 4 + 1);
    }
    const scanner = scannerWith(starts, ends);
    for (const [index, start] of starts.entries()) {
      for (const address of [start - 1, start, start + 1, ends[index]! - 1, ends[index]!, ends[index]! + 1]) {
        assert.equal(scanner.probe(address), scanner.probeBinary(address), `address ${address}`);
      }
    }
  });

  it("agrees with the plain search on a table large enough for the coverage bitmap", () => {
    const next = random(77);
    const starts: number[] = [];
    const ends: number[] = [];
    let cursor = 0;
    for (let i = 0; i < 100_000; i++) {
      cursor += 1 + Math.floor(next() * 40_000);
      const size = 1 + Math.floor(next() * (i % 100 === 0 ? 300_000 : 600));
      starts.push(cursor);
      ends.push(Math.min(cursor + size - 1, 0xfffffffe));
      cursor += size;
    }
    // The last /24 of the address space, where a bit index + 1 would wrap.
    starts.push(0xffffff00);
    ends.push(0xffffffff);
    const scanner = scannerWith(starts, ends);
    for (let probe = 0; probe < 200_000; probe++) {
      const address = Math.floor(next() * 2 ** 32);
      assert.equal(scanner.probe(address), scanner.probeBinary(address), `address ${address}`);
    }
    for (const [index, start] of starts.entries()) {
      if (index % 7 !== 0) continue;
      for (const address of [start - 1, start, ends[index]!, ends[index]! + 1]) {
        if (address < 0 || address > 0xffffffff) continue;
        assert.equal(scanner.probe(address), scanner.probeBinary(address), `address ${address}`);
      }
    }
    assert.equal(scanner.probe(0xffffffff), starts.length - 1);
    assert.equal(scanner.probe(0xfffffeff), -1);
  });

  it("replaces the table at the next chunk boundary", () => {
    const scanner = scannerWith([ip("192.0.2.0")], [ip("192.0.2.255")]);
    assert.equal(scanner.probe(ip("192.0.2.7")), 0);
    scanner.setRanges({ starts: Uint32Array.of(ip("198.51.100.0")), ends: Uint32Array.of(ip("198.51.100.255")) });
    assert.equal(scanner.probe(ip("192.0.2.7")), -1);
    assert.equal(scanner.probe(ip("198.51.100.7")), 0);
  });
});
