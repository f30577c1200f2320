// The gzip decoder on its own: members, trailers, trailing bytes and the error
// code for each kind of damage.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { GzipDecoder, GzipError, type GzipEnd } from "../src/cli/gzip.js";

const PLAIN = Buffer.from(Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join(""));

/** Decodes `input` written in pieces of `size` bytes; returns the output and the end, or the error. */
async function decode(input: Uint8Array, size = input.length): Promise<{ output: Buffer; end?: GzipEnd; error?: unknown }> {
  const pieces: Buffer[] = [];
  const decoder = new GzipDecoder((chunk) => {
    pieces.push(Buffer.from(chunk));
    return undefined;
  });
  try {
    for (let at = 0; at < input.length; at += size) await decoder.write(input.subarray(at, at + size));
    return { output: Buffer.concat(pieces), end: await decoder.end() };
  } catch (error) {
    return { output: Buffer.concat(pieces), error };
  }
}

describe("gzip decoder", () => {
  it("decodes two members at any write size", async () => {
    const input = Buffer.concat([gzipSync(PLAIN.subarray(0, 1000)), gzipSync(PLAIN.subarray(1000))]);
    for (const size of [1, 7, 100, input.length]) {
      const result = await decode(input, size);
      assert.equal(result.error, undefined, `write size ${size}`);
      assert.ok(result.output.equals(PLAIN), `write size ${size}`);
      assert.equal(result.end?.members, 2);
      assert.equal(result.end?.trailingBytes, 0);
    }
  });

  it("counts zero padding and other trailing bytes", async () => {
    const padded = await decode(Buffer.concat([gzipSync(PLAIN), Buffer.alloc(512)]));
    assert.deepEqual(padded.end, { members: 1, trailingBytes: 512, trailingZeros: true });
    const garbage = await decode(Buffer.concat([gzipSync(PLAIN), Buffer.from("junk")]));
    assert.deepEqual(garbage.end, { members: 1, trailingBytes: 4, trailingZeros: false });
    assert.ok(garbage.output.equals(PLAIN));
  });

  it("marks a cut member as truncated", async () => {
    const compressed = gzipSync(PLAIN);
    for (const length of [5, 20, compressed.length - 4]) {
      const result = await decode(compressed.subarray(0, length));
      assert.ok(result.error instanceof GzipError, `cut at ${length}`);
      assert.equal(result.error.code, "ERR_GZIP_TRUNCATED", `cut at ${length}`);
    }
  });

  it("marks a bad CRC-32 as corrupt", async () => {
    const compressed = Buffer.from(gzipSync(PLAIN));
    compressed[compressed.length - 8] = compressed[compressed.length - 8]! ^ 1;
    const result = await decode(compressed);
    assert.ok(result.error instanceof GzipError);
    assert.equal(result.error.code, "ERR_GZIP_CORRUPT");
    assert.match(result.error.message, /^gzip member 1 failed its CRC-32 check/);
  });

  it("settles on damaged deflate data", async () => {
    const compressed = Buffer.from(gzipSync(PLAIN));
    compressed[10] = compressed[10]! ^ 0x06;
    const result = await decode(compressed, 64);
    assert.ok(result.error instanceof GzipError);
    assert.equal(result.error.code, "ERR_GZIP_CORRUPT");
  });
});
