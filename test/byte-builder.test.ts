// Byte-level formatting of alert fields against the string formatters.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatIPv4, formatRange } from "../src/lists/ipv4.js";
import { ByteBuilder } from "../src/output/byte-builder.js";

function text(build: (builder: ByteBuilder) => void): string {
  const builder = new ByteBuilder(16);
  build(builder);
  return Buffer.from(builder.take()).toString("latin1");
}

describe("byte builder", () => {
  it("formats addresses like formatIPv4", () => {
    for (const address of [0, 1, 9, 10, 99, 100, 255, 256, 0x0a000001, 0xc0000264, 0xffffffff, 0x64646464]) {
      assert.equal(text((b) => b.ipv4(address)), formatIPv4(address), `address ${address}`);
    }
  });

  it("formats ranges like formatRange", () => {
    const cases: Array<[number, number]> = [
      [0, 0xffffffff],
      [0, 0x7fffffff],
      [0x80000000, 0xffffffff],
      [0xc0000200, 0xc00002ff],
      [0xc0000201, 0xc0000201],
      [0xc0000201, 0xc0000202],
      [0xc0000200, 0xc0000202],
      [0xffffffff, 0xffffffff],
      [0xc0000000, 0xc0ffffff],
      [0x01000000, 0x01000000 + 2 ** 20],
    ];
    for (const [first, last] of cases) {
      assert.equal(text((b) => b.range(first, last)), formatRange(first, last), `${first}-${last}`);
    }
  });

  it("formats decimals and padded fractions", () => {
    assert.equal(text((b) => b.decimal(0)), "0");
    assert.equal(text((b) => b.decimal(65535)), "65535");
    assert.equal(text((b) => b.decimal(2 ** 53 - 1)), String(2 ** 53 - 1));
    assert.equal(text((b) => b.padded(5, 6)), "000005");
    assert.equal(text((b) => b.padded(123456789, 9)), "123456789");
  });

  it("grows past its initial capacity", () => {
    const builder = new ByteBuilder(4);
    for (let i = 0; i < 1000; i++) builder.ipv4(0xc0000201);
    assert.equal(builder.length, 1000 * "192.0.2.1".length);
  });
});

describe("byte builder text", () => {
  it("writes ASCII and UTF-8 text", () => {
    assert.equal(text((b) => b.text("src_sources=feodo,drop")), "src_sources=feodo,drop");
    const builder = new ByteBuilder(4);
    builder.text("a-ß-東-😀");
    assert.equal(Buffer.from(builder.take()).toString("utf8"), "a-ß-東-😀");
  });
});
