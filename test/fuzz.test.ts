// Fuzzing the framing and decoding with mutated and truncated captures: every
// capture in test/fixtures/ and generated ones, split at random chunk offsets.
// Each case must not throw anything but CaptureError, must count every packet as
// decoded or skipped, must not depend on the chunking, and must finish in a time
// bounded per MB. FUZZ_SEED and FUZZ_CASES change the seed and the budget, and
// FUZZ_CASE=n reruns one case.

import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { it } from "node:test";
import { Worker } from "node:worker_threads";
import type { FuzzMessage, FuzzOptions } from "./helpers/fuzz-worker.js";
import { writeBlocklist } from "./helpers/cli.js";
import { EVERYTHING } from "./helpers/scan.js";

const FIXTURES = fileURLToPath(new URL("../../test/fixtures/", import.meta.url));
const DEFAULT_SEED = 0x2f6e3a1d;
/** Enough cases to mutate every fixture and generated capture once, in a few seconds. */
const DEFAULT_CASES = 1500;
/** Hang detector, not a benchmark: a case may take this long plus PER_MB_MS per MB. */
const BASE_CASE_MS = 10_000;
const PER_MB_MS = 10_000;

function captureFiles(directory: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(directory).sort()) {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) files.push(...captureFiles(path));
    else if (/\.(pcap|pcapng|gz)$/.test(name)) files.push(path);
  }
  return files;
}

function numberFromEnvironment(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${text}"`);
  return value;
}

it("fuzz: mutated captures neither crash, hang nor lose packets", async (t) => {
  const files = captureFiles(FIXTURES);
  const seed = numberFromEnvironment("FUZZ_SEED", DEFAULT_SEED);
  const cases = numberFromEnvironment("FUZZ_CASES", DEFAULT_CASES);
  const only = process.env.FUZZ_CASE === undefined ? undefined : numberFromEnvironment("FUZZ_CASE", 0);
  t.diagnostic(`fuzz seed ${seed} (0x${seed.toString(16)}), ${cases} cases over ${files.length} fixture files and generated captures`);
  assert.ok(files.length > 400, `found only ${files.length} capture files in ${FIXTURES}`);

  const options: FuzzOptions = { seed, cases, files, listPath: writeBlocklist(EVERYTHING), ...(only === undefined ? {} : { only }) };
  const worker = new Worker(new URL("./helpers/fuzz-worker.js", import.meta.url), { workerData: options });
  const failures: string[] = [];
  let current = "(before the first case)";
  const started = performance.now();
  const done = await new Promise<Extract<FuzzMessage, { type: "done" }> | undefined>((resolve, reject) => {
    let watchdog: NodeJS.Timeout | undefined;
    const arm = (bytes: number): void => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        failures.push(`hang: ${current} ran longer than ${BASE_CASE_MS + (PER_MB_MS * bytes) / 1e6} ms`);
        void worker.terminate().then(() => resolve(undefined));
      }, BASE_CASE_MS + (PER_MB_MS * bytes) / 1e6);
    };
    arm(0);
    worker.on("message", (message: FuzzMessage) => {
      if (message.type === "case") {
        current = message.description;
        arm(message.bytes);
      } else if (message.type === "failure") {
        failures.push(`${message.description}: ${message.problem}`);
      } else {
        clearTimeout(watchdog);
        resolve(message);
      }
    });
    worker.on("error", (error) => {
      clearTimeout(watchdog);
      reject(new Error(`fuzz worker crashed during ${current}: ${error.stack ?? error.message}`));
    });
  });
  await worker.terminate();

  const seconds = (performance.now() - started) / 1000;
  if (done !== undefined) {
    t.diagnostic(`fuzz: ${done.cases} cases, ${(done.bytes / 1e6).toFixed(1)} MB, ${done.packets} packets, ${done.errors} framing errors, ${seconds.toFixed(1)} s`);
  }
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} failures; rerun one with FUZZ_SEED=${seed} FUZZ_CASE=n`);
  assert.ok(done !== undefined, "the fuzz worker did not finish");
});
