// The bundled demo: sample/demo.pcap must match its generator, and scanning it
// against the demo lists must print the recorded alerts. Run with UPDATE_GOLDEN=1
// to rewrite both files after an intended change.

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";
import { REPO, runCli, temporaryDirectory } from "./helpers/cli.js";
import { sampleCapture } from "./helpers/sample-capture.js";

const update = process.env.UPDATE_GOLDEN === "1";
const SAMPLE = join(REPO, "sample", "demo.pcap");
const EXPECTED = join(REPO, "test", "fixtures", "expected", "demo.txt");

it("demo capture matches its generator", () => {
  const generated = sampleCapture();
  if (update) writeFileSync(SAMPLE, generated);
  assert.ok(readFileSync(SAMPLE).equals(generated), "sample/demo.pcap differs from test/helpers/sample-capture.ts");
});

it("demo scan prints the recorded alerts", async () => {
  const list = join(temporaryDirectory(), "demo.bin");
  const compile = await runCli(["compile", "-o", list, "sample/lists/c2.txt", "sample/lists/drop.txt"]);
  assert.equal(compile.status, 0, compile.stderr);
  const scan = await runCli(["--blocklist", list, "--quiet", "sample/demo.pcap"]);
  assert.equal(scan.status, 0, scan.stderr);
  if (update) writeFileSync(EXPECTED, scan.stdout);
  assert.equal(scan.stdout, readFileSync(EXPECTED, "utf8"));
});
