// Fuzzing the name parsers (DNS, TLS ClientHello, HTTP Host) with damaged
// payloads inside well-formed captures. Each case must not throw, must keep the
// counters consistent, must not depend on the chunking and must finish within
// a time bound. NAMES_FUZZ_SEED and NAMES_FUZZ_CASES change the seed and the
// budget, and NAMES_FUZZ_CASE=n reruns one case.

import assert from "node:assert/strict";
import { it } from "node:test";
import { numberFromEnvironment, runFuzzWorker } from "./helpers/fuzz-runner.js";
import type { NamesFuzzOptions } from "./helpers/names-fuzz-worker.js";

const DEFAULT_SEED = 0x6e616d65;
/** About 170 cases per base capture, in a few seconds. */
const DEFAULT_CASES = 2000;
/** Hang detector, not a benchmark: the captures are under 100 KB. */
const LIMITS = { baseCaseMs: 10_000, perMbMs: 10_000 };

it("fuzz: damaged DNS, TLS and HTTP payloads neither crash, hang nor miscount", async (t) => {
  const seed = numberFromEnvironment("NAMES_FUZZ_SEED", DEFAULT_SEED);
  const cases = numberFromEnvironment("NAMES_FUZZ_CASES", DEFAULT_CASES);
  const only = process.env.NAMES_FUZZ_CASE === undefined ? undefined : numberFromEnvironment("NAMES_FUZZ_CASE", 0);
  t.diagnostic(`names fuzz seed ${seed} (0x${seed.toString(16)}), ${cases} cases`);

  const options: NamesFuzzOptions = { seed, cases, ...(only === undefined ? {} : { only }) };
  const run = await runFuzzWorker(new URL("./helpers/names-fuzz-worker.js", import.meta.url), options, LIMITS);
  if (run.done !== undefined) {
    t.diagnostic(`names fuzz: ${run.done.cases} cases, ${(run.done.bytes / 1e6).toFixed(1)} MB, ${run.done.names} names recorded, ${run.seconds.toFixed(1)} s`);
  }
  assert.deepEqual(run.failures.slice(0, 20), [], `${run.failures.length} failures; rerun one with NAMES_FUZZ_SEED=${seed} NAMES_FUZZ_CASE=n`);
  assert.ok(run.done !== undefined, "the names fuzz worker did not finish");
  assert.ok(Number(run.done.names) > 0, "no case recorded a name: the bases do not reach the parsers");
});
