// The text list format read by `repfilter compile`, and strict address parsing.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cidrBounds, formatRange, parseEntry, parseIPv4, rangeToCidrs } from "../src/lists/ipv4.js";
import { decodeListText, ListFormatError, parseTextList } from "../src/lists/text-list.js";

describe("IPv4 parsing", () => {
  it("accepts dotted quads, zero-padded octets as decimal", () => {
    assert.equal(parseIPv4("192.0.2.1"), 0xc0000201);
    assert.equal(parseIPv4("192.000.002.010"), 0xc000020a);
    assert.equal(parseIPv4("0.0.0.0"), 0);
    assert.equal(parseIPv4("255.255.255.255"), 0xffffffff);
  });

  it("rejects shorthand, hex, octets out of range and extra digits", () => {
    for (const text of ["192.0.2", "3221225985", "192.0.2.0x1f", "192.0.2.256", "300.0.2.1", "203.0.113.0100", "0192.0.2.1", "1.2.3.4.5", "", "1..2.3", " 1.2.3.4", "+1.2.3.4"]) {
      assert.equal(parseIPv4(text), undefined, text);
    }
  });

  it("parses CIDR blocks, masking host bits", () => {
    assert.deepEqual(parseEntry("192.0.2.5/24"), { kind: "range", first: 0xc0000200, last: 0xc00002ff, hostBitsMasked: true });
    assert.deepEqual(parseEntry("0.0.0.0/0"), { kind: "range", first: 0, last: 0xffffffff, hostBitsMasked: false });
    assert.equal(parseEntry("192.0.2.0/33").kind, "invalid");
    assert.equal(parseEntry("198.51.100.0/234").kind, "invalid");
    assert.equal(parseEntry("203.0.113.0/-8").kind, "invalid");
  });

  it("parses ranges with or without spaces and rejects reversed ones", () => {
    assert.deepEqual(parseEntry("192.0.2.10 - 192.0.2.20"), { kind: "range", first: 0xc000020a, last: 0xc0000214, hostBitsMasked: false });
    assert.equal(parseEntry("192.0.2.20-192.0.2.10").kind, "invalid");
    assert.equal(parseEntry("192.0.2.1-192.0.2.256").kind, "invalid");
  });

  it("recognises IPv6 entries", () => {
    for (const text of ["2001:db8::1", "2001:db8::/32", "::", "::/0", "::ffff:192.0.2.1"]) assert.equal(parseEntry(text).kind, "ipv6", text);
    assert.equal(parseEntry("2001:db8:41d0").kind, "invalid");
    assert.equal(parseEntry("[2001:db8::33]").kind, "invalid");
  });

  it("formats ranges as CIDR when they are one block", () => {
    assert.equal(formatRange(0xc0000200, 0xc00002ff), "192.0.2.0/24");
    assert.equal(formatRange(0xc0000201, 0xc0000201), "192.0.2.1/32");
    assert.equal(formatRange(0xc0000201, 0xc0000202), "192.0.2.1-192.0.2.2");
    assert.equal(formatRange(0, 0xffffffff), "0.0.0.0/0");
    assert.deepEqual(cidrBounds(0xc0000205, 30), { first: 0xc0000204, last: 0xc0000207 });
  });

  it("splits a range into minimal CIDR blocks", () => {
    assert.deepEqual(rangeToCidrs(0xc0000201, 0xc0000206), ["192.0.2.1/32", "192.0.2.2/31", "192.0.2.4/31", "192.0.2.6/32"]);
    assert.deepEqual(rangeToCidrs(0, 0xffffffff), ["0.0.0.0/0"]);
  });
});

describe("text lists", () => {
  it("reads comments, blank lines, CRLF and a BOM", () => {
    const text = decodeListText(Buffer.from("\ufeff# header\r\n192.0.2.1\r\n\r\n198.51.100.0/24 ; SBL1\r\n  203.0.113.5 # note\u00a0\r\n203.0.113.9", "utf8"));
    const parsed = parseTextList(text);
    assert.deepEqual(parsed.entries.map((entry) => entry.line), [2, 4, 5, 6]);
    assert.equal(parsed.rejected.length, 0);
  });

  it("counts invalid lines with their numbers and reasons", () => {
    const parsed = parseTextList("192.0.2.1\nnot an address\n192.0.2.256\n192.0.2.3/40\n");
    assert.equal(parsed.entries.length, 1);
    assert.deepEqual(parsed.rejected.map((reject) => [reject.line, reject.text]), [
      [2, "not an address"],
      [3, "192.0.2.256"],
      [4, "192.0.2.3/40"],
    ]);
  });

  it("counts IPv6 entries and masked host bits apart from invalid lines", () => {
    const parsed = parseTextList("2001:db8::1\n192.0.2.5/24\n");
    assert.equal(parsed.ipv6Skipped, 1);
    assert.equal(parsed.hostBitsMasked, 1);
    assert.equal(parsed.rejected.length, 0);
  });

  it("rejects UTF-16 and binary input", () => {
    assert.throws(() => decodeListText(Uint8Array.of(0xff, 0xfe, 0x31, 0)), ListFormatError);
    assert.throws(() => decodeListText(Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0)), ListFormatError);
  });
});
