// Every feed fixture, parsed from its raw bytes and compared with expected.json:
// verdict, ranges in file order, rejected lines, IPv6 and host-bit counts, the
// safety policy's rejections, and the merged list a build would contain.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { mergeRanges } from "../src/feeds/allowlist.js";
import { FeedError } from "../src/feeds/errors.js";
import { feedVerdict, readFeedBody, type FeedFormat } from "../src/feeds/formats.js";
import type { FeedOptions } from "../src/feeds/options.js";
import { applyPolicy, createPolicy, DEFAULT_RESERVED_RANGES, type PolicyReason } from "../src/feeds/policy.js";
import { formatRange, rangeToCidrs } from "../src/lists/ipv4.js";

const FIXTURES = new URL("../../test/fixtures/feeds/", import.meta.url);

interface Expected {
  family: string;
  verdict: "ok" | "empty-valid" | "fail" | "export-target";
  fail_reason?: string;
  ranges: string[];
  merged_cidrs_fixture_policy: string[];
  rejected?: Array<[number, string, string]>;
  rejected_ratio?: number;
  ipv6_skipped?: number;
  host_bits_normalized?: number;
  rejected_by_fixture_policy?: Array<[number, string, string]>;
  variants?: Record<string, string[]>;
}

const expected = JSON.parse(readFileSync(new URL("expected.json", FIXTURES), "utf8")) as { fixtures: Record<string, Expected> };

/** The fixture policy: the default reserved ranges less 100.64.0.0/10, with the five stand-in ranges allowed. */
const FIXTURE_POLICY = createPolicy({
  reservedRanges: DEFAULT_RESERVED_RANGES.filter((range) => range !== "100.64.0.0/10"),
  reservedExceptions: ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "100.64.0.0/10", "233.252.0.0/24"],
});

const FEODO_TRAILER = "^# END \\(?(\\d+)\\)? entries$";
const THREATFOX_CSV: FeedOptions = { column: "ioc_value", port: true, match: { ioc_type: "ip:port" }, trailer: "^# Number of entries: (\\d+)$" };

interface Setup {
  format: FeedFormat;
  options?: FeedOptions;
  /** Extra options for each expected variant, by the variant's name in expected.json. */
  variants?: Record<string, FeedOptions>;
  /**
   * Compare ranges as a set: JSON.parse orders an object's integer-like keys
   * (ThreatFox's IOC ids) numerically, not as written, and order does not change the list.
   */
  anyOrder?: boolean;
}

/** How a feeds config would describe each fixture's feed. */
const SETUPS: Record<string, Setup> = {
  "feodo-ipblocklist.txt": { format: "plain", options: { trailer: FEODO_TRAILER } },
  "feodo-ipblocklist-recommended.txt": { format: "plain", options: { trailer: FEODO_TRAILER } },
  "feodo-ipblocklist-recommended-empty.txt": { format: "plain", options: { trailer: FEODO_TRAILER } },
  "feodo-ipblocklist.csv": {
    format: "csv",
    options: { column: "dst_ip", trailer: FEODO_TRAILER },
    variants: { "c2_status == online": { match: { c2_status: "online" } } },
  },
  "feodo-ipblocklist-legacy-2020.csv": { format: "csv", options: { column: "DstIP", trailer: FEODO_TRAILER } },
  "feodo-ipblocklist.json": {
    format: "json",
    options: { field: "ip_address" },
    variants: { "status == online": { match: { status: "online" } } },
  },
  "sslbl-sslipblacklist-deprecated.csv": { format: "csv", options: { column: "DstIP" } },
  "sslbl-sslipblacklist.csv": { format: "csv", options: { column: "DstIP", trailer: FEODO_TRAILER } },
  "threatfox-ipport-recent.csv": {
    format: "csv",
    options: THREATFOX_CSV,
    variants: { "confidence_level >= 75": { scoreColumn: "confidence_level", minScore: 75 } },
  },
  "threatfox-full.csv.zip": { format: "csv", options: THREATFOX_CSV },
  "threatfox-recent.json": { format: "json", options: { field: "ioc_value", port: true, match: { ioc_type: "ip:port" } }, anyOrder: true },
  "threatfox-ipport.txt": { format: "ipport" },
  "spamhaus-drop.txt": { format: "spamhaus-text" },
  "spamhaus-drop.txt.gz": { format: "spamhaus-text" },
  "spamhaus-edrop-merged.txt": { format: "spamhaus-text" },
  "spamhaus-drop_v4.json": { format: "spamhaus-ndjson" },
  "spamhaus-drop_v6.json": { format: "spamhaus-ndjson" },
  "dshield-block.txt": { format: "dshield-block" },
  "dshield-block-legacy-2015.txt": { format: "dshield-block" },
  "dshield-ipsascii.txt": { format: "scored", options: { separator: "\t" } },
  "dshield-top10-2.txt": { format: "scored", options: { separator: "\t" } },
  "ipsum.txt": {
    format: "scored",
    options: { scoreColumn: 1 },
    variants: { "score >= 3": { minScore: 3 } },
  },
  "alienvault-reputation.generic": { format: "plain", options: { comment: "#" } },
  "alienvault-reputation.data": { format: "scored", options: { separator: "#" } },
  "tor-exit-addresses.txt": { format: "tor-exit-addresses" },
  "hostile-truncated-feodo.txt": { format: "plain", options: { trailer: FEODO_TRAILER } },
  "hostile-truncated-spamhaus-drop.txt": { format: "spamhaus-text" },
  "hostile-truncated-drop_v4.json": { format: "spamhaus-ndjson" },
  "hostile-drop_v4-records-mismatch.json": { format: "spamhaus-ndjson" },
};

/** Fixtures for formats repfilter does not read, with the reason. */
const OUT_OF_SCOPE: Record<string, string> = {
  "misp-event.json": "MISP events are not a supported feed format",
  "stix2-bundle.json": "STIX 2 bundles are not a supported feed format",
  "suricata-iprep-categories.txt": "export target: repfilter does not write Suricata iprep files",
  "suricata-iprep-reputation.list": "export target: repfilter does not write Suricata iprep files",
  "zeek-intel.dat": "export target: repfilter does not write Zeek intel files",
};

/** Variants that need a filter no format offers, with the reason. */
const UNSUPPORTED_VARIANTS: Record<string, string> = {
  "activity is not only 'Scanning Host'": "AlienVault's activity text has no column of its own to match on",
};

/** Words of each expected failure reason, and what the failure message must say for it. */
const FAILURE_MESSAGES: Array<[string, RegExp]> = [
  ["HTML body", /HTML page/],
  ["empty body", /^empty body$/],
  ["no data lines", /no data lines/],
  ["truncated", /truncated/],
  ["records = 5", /counts 5 records but the body has 3/],
  ["gzip", /damaged gzip data/],
  ["rejected (above 50%)", /60 of 100 data lines rejected/],
  ["UTF-16", /UTF-16/],
];

function assertFailureMessage(reason: string | undefined, message: string): void {
  const rule = FAILURE_MESSAGES.find(([words]) => reason?.includes(words));
  assert.ok(rule !== undefined, `no message rule for the reason "${reason}"`);
  assert.match(message, rule[1]);
}

/** Maps the reason words in expected.json to the policy's reason codes. */
function expectedReason(words: string): PolicyReason {
  if (words.includes("/0")) return "all-addresses";
  if (words.includes("shorter than")) return "too-broad";
  return "reserved";
}

function uniqueRanges(entries: ReadonlyArray<{ first: number; last: number }>): string[] {
  return [...new Set(entries.map((entry) => formatRange(entry.first, entry.last)))];
}

function mergedCidrs(entries: ReadonlyArray<{ first: number; last: number }>): string[] {
  return mergeRanges(entries).flatMap((range) => rangeToCidrs(range.first, range.last));
}

describe("feed fixtures", () => {
  for (const [name, fixture] of Object.entries(expected.fixtures)) {
    if (OUT_OF_SCOPE[name] !== undefined) {
      it.skip(`${name}: ${OUT_OF_SCOPE[name]}`);
      continue;
    }
    const setup = SETUPS[name] ?? { format: "plain" };

    it(`${name} (${fixture.verdict})`, () => {
      const bytes = readFileSync(new URL(name, FIXTURES));
      const options = setup.options ?? {};
      let parsed;
      try {
        parsed = readFeedBody(bytes, setup.format, options);
      } catch (error) {
        assert.ok(error instanceof FeedError, `unexpected error: ${String(error)}`);
        assert.equal(fixture.verdict, "fail", `body rejected: ${error.message}`);
        assertFailureMessage(fixture.fail_reason, error.message);
        assert.deepEqual(fixture.ranges, []);
        return;
      }

      assert.equal(feedVerdict(parsed), fixture.verdict, parsed.failure ?? "no failure recorded");
      if (fixture.verdict === "fail") assertFailureMessage(fixture.fail_reason, parsed.failure ?? "");
      if (setup.anyOrder === true) assert.deepEqual(uniqueRanges(parsed.entries).sort(), [...fixture.ranges].sort());
      else assert.deepEqual(uniqueRanges(parsed.entries), fixture.ranges);
      assert.deepEqual(
        parsed.rejected.map((line) => [line.line, line.text.trim()]),
        (fixture.rejected ?? []).map(([line, text]) => [line, text.trim()]),
      );
      assert.equal(parsed.ipv6Skipped, fixture.ipv6_skipped ?? 0);
      assert.equal(parsed.hostBitsMasked, fixture.host_bits_normalized ?? 0);
      if (fixture.rejected_ratio !== undefined) {
        const total = parsed.rejected.length + parsed.entries.length;
        const ratio = total === 0 ? 0 : parsed.rejected.length / total;
        assert.ok(Math.abs(ratio - fixture.rejected_ratio) < 0.001, `rejected ratio ${ratio}`);
      }

      const { accepted, rejected } = applyPolicy(parsed.entries, FIXTURE_POLICY);
      assert.deepEqual(
        rejected.map((rejection) => [rejection.line, formatRange(rejection.first, rejection.last), rejection.reason]),
        (fixture.rejected_by_fixture_policy ?? []).map(([line, entry, words]) => [line, entry, expectedReason(words)]),
      );
      assert.deepEqual(mergedCidrs(accepted), fixture.merged_cidrs_fixture_policy);

      for (const [variant, ranges] of Object.entries(fixture.variants ?? {})) {
        if (UNSUPPORTED_VARIANTS[variant] !== undefined) continue;
        const extra = setup.variants?.[variant];
        assert.ok(extra !== undefined, `no options for variant "${variant}"`);
        const filtered = readFeedBody(bytes, setup.format, { ...options, ...extra });
        assert.deepEqual(uniqueRanges(filtered.entries), ranges, variant);
      }
    });
  }
});
