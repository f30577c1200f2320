// Feed config loading, the safety policy, the allowlist and the body checks,
// tested directly.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { decodeFeedBody, looksLikeHtml } from "../src/feeds/body.js";
import { mergeRanges, subtractRanges } from "../src/feeds/allowlist.js";
import { BUNDLED_CONFIG_PATH, ConfigError, mergeConfig } from "../src/feeds/config.js";
import { FeedError } from "../src/feeds/errors.js";
import { splitCsvRow } from "../src/feeds/parse-csv.js";
import { parsePlain } from "../src/feeds/parse-plain.js";
import { applyPolicy, checkMergedRanges, createPolicy } from "../src/feeds/policy.js";
import { redactUrl, redactUrlsInText } from "../src/feeds/redact.js";
import { formatRange, parseEntry } from "../src/lists/ipv4.js";

const bundled = JSON.parse(readFileSync(BUNDLED_CONFIG_PATH, "utf8")) as Record<string, unknown>;

function entry(text: string, line = 1): { first: number; last: number; line: number } {
  const parsed = parseEntry(text);
  if (parsed.kind !== "range") throw new Error(`bad test entry ${text}`);
  return { first: parsed.first, last: parsed.last, line };
}

describe("feeds config", () => {
  it("loads the bundled default", () => {
    const config = mergeConfig(bundled, undefined, "user.json", []);
    assert.deepEqual(
      config.feeds.map((feed) => [feed.name, feed.enabled]),
      [
        ["feodo", true],
        ["spamhaus-drop", true],
        ["dshield", true],
        ["et-compromised", true],
        ["cins-army", true],
        ["blocklist-de", true],
        ["tor-exit", false],
      ],
    );
    for (const feed of config.feeds) assert.match(feed.url, /^https:\/\//, feed.name);
    assert.equal(config.maxAgeDays, 7);
    assert.equal(config.policy.minPrefixLength, 8);
  });

  it("overrides feeds by name and adds new ones", () => {
    const config = mergeConfig(
      bundled,
      { feeds: [{ name: "tor-exit", enabled: true }, { name: "ipsum", url: "https://example.net/ipsum.txt", format: "scored", options: { scoreColumn: 1, minScore: 3 } }], fetch: { concurrency: 2 } },
      "user.json",
      [],
    );
    assert.equal(config.feeds.find((feed) => feed.name === "tor-exit")?.enabled, true);
    assert.equal(config.feeds.find((feed) => feed.name === "tor-exit")?.url, "https://check.torproject.org/torbulkexitlist");
    assert.deepEqual(config.feeds.at(-1)?.options, { scoreColumn: 1, minScore: 3 });
    assert.equal(config.fetch.concurrency, 2);
    assert.equal(config.fetch.retries, 2);
  });

  it("keeps a feed's options unless its format changes", () => {
    const same = mergeConfig(bundled, { feeds: [{ name: "feodo", options: { maxRejectedRatio: 0.1 } }] }, "user.json", []);
    assert.deepEqual(same.feeds[0]?.options, { trailer: "^# END \\(?(\\d+)\\)? entries$", maxRejectedRatio: 0.1 });
    const changed = mergeConfig(bundled, { feeds: [{ name: "feodo", format: "csv", options: { column: "dst_ip" } }] }, "user.json", []);
    assert.deepEqual(changed.feeds[0]?.options, { column: "dst_ip" });
  });

  it("drops the bundled feeds on request", () => {
    const config = mergeConfig(bundled, { includeDefaultFeeds: false, feeds: [{ name: "mine", url: "http://127.0.0.1:8080/list.txt", format: "plain" }] }, "user.json", []);
    assert.deepEqual(config.feeds.map((feed) => feed.name), ["mine"]);
  });

  it("rejects invalid fields with their path", () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ feed: [] }, /^feeds config user\.json: feed: unknown field; expected one of includeDefaultFeeds, /],
      [{ feeds: [{ name: "feodo", format: "xml" }] }, /feeds\[0\] \(feodo\)\.format: expected one of plain, ipport, .*, got "xml"/],
      [{ feeds: [{ name: "feodo", options: { column: "x" } }] }, /feeds\[0\] \(feodo\)\.options\.column: not an option of the plain format; it takes allowEmpty, maxRejectedRatio, maxEntries, comment, trailer/],
      [{ feeds: [{ name: "feodo", options: { maxEntries: 0 } }] }, /options\.maxEntries: expected a whole number of entries, 1 or more, got 0/],
      [{ feeds: [{ name: "feodo", options: { trailer: "(" } }] }, /options\.trailer: invalid regular expression/],
      [{ feeds: [{ name: "x y", url: "https://example.net/", format: "plain" }] }, /\.name: "x y" is invalid; use 1-64 letters/],
      [{ feeds: [{ name: "n", url: "https://example.net/", format: "csv", options: { minScore: 3 } }] }, /minScore: needs "scoreColumn"/],
      [{ fetch: { retries: -1 } }, /fetch\.retries: expected an integer from 0 to 10, got -1/],
      [{ policy: { reservedRanges: ["10.0.0.0/33"] } }, /"10\.0\.0\.0\/33" is not an IPv4 address, CIDR block or range/],
      [{ allowlist: "192.0.2.1" }, /allowlist: expected a list of addresses/],
      [
        { feeds: [{ name: "mine", url: "https://example.net/a", format: "plain" }, { name: "other", url: "https://example.net/b", format: "plain" }, { name: "mine", url: "https://example.net/c", format: "plain" }] },
        /^feeds config user\.json: feeds\[2\]\.name: duplicate feed name "mine", also at feeds\[0\]; give each feed its own name$/,
      ],
    ];
    for (const [user, message] of cases) {
      assert.throws(() => mergeConfig(bundled, user, "user.json", []), (error: unknown) => error instanceof ConfigError && message.test(error.message), JSON.stringify(user));
    }
  });
});

describe("URL redaction", () => {
  it("hides user information and credential parameters", () => {
    const cases: Array<[string, string]> = [
      ["https://user:pass@feeds.example/list.txt", "https://***@feeds.example/list.txt"],
      ["https://token@feeds.example/list.txt?key=abc", "https://***@feeds.example/list.txt?key=***"],
      ["https://feeds.example/l?api_key=1&format=csv&access_token=2#top", "https://feeds.example/l?api_key=***&format=csv&access_token=***#top"],
      ["https://feeds.example/l?Auth=1&apikey=2&secret=3&password=4&sig=5", "https://feeds.example/l?Auth=***&apikey=***&secret=***&password=***&sig=***"],
      ["https://feeds.example/user@name/list.txt", "https://feeds.example/user@name/list.txt"],
      ["https://feeds.example/list.txt?format=plain", "https://feeds.example/list.txt?format=plain"],
      ["https://user:pa/ss@feeds.example/list.txt", "https://***@feeds.example/list.txt"],
    ];
    for (const [url, shown] of cases) assert.equal(redactUrl(url), shown, url);
  });

  it("redacts URLs inside a message", () => {
    assert.equal(redactUrlsInText("connect to http://u:p@192.0.2.1/x?token=t failed"), "connect to http://***@192.0.2.1/x?token=*** failed");
  });
});

describe("safety policy", () => {
  const policy = createPolicy();

  it("rejects catch-all and private entries", () => {
    const entries = ["0.0.0.0/0", "10.0.0.0/8", "192.168.0.0/16", "203.0.113.7"].map((text, index) => entry(text, index + 1));
    const { accepted, rejected } = applyPolicy(entries, policy);
    assert.deepEqual(accepted.map((item) => formatRange(item.first, item.last)), ["203.0.113.7/32"]);
    assert.deepEqual(rejected.map((item) => [item.line, item.reason]), [
      [1, "all-addresses"],
      [2, "reserved"],
      [3, "reserved"],
    ]);
    assert.equal(rejected[2]?.message, "192.168.0.0/16 overlaps 192.168.0.0/16, private network (RFC 1918)");
  });

  it("accepts documentation ranges", () => {
    const { accepted } = applyPolicy(["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"].map((text) => entry(text)), policy);
    assert.equal(accepted.length, 3);
  });

  it("rejects entries spanning several /8 blocks", () => {
    const { rejected } = applyPolicy([entry("11.255.255.0-12.0.0.255"), entry("8.0.0.0/7"), entry("100.0.0.0/9")], policy);
    assert.deepEqual(rejected.map((item) => item.reason), ["too-broad", "too-broad", "reserved"]);
  });

  it("takes a configured minimum prefix", () => {
    const strict = createPolicy({ minPrefixLength: 16 });
    assert.equal(applyPolicy([entry("11.0.0.0/15")], strict).rejected[0]?.reason, "too-broad");
    assert.equal(applyPolicy([entry("11.0.0.0/16")], strict).rejected.length, 0);
  });

  it("checks merged ranges as a whole", () => {
    const starts = Uint32Array.from([entry("12.0.0.0/8").first, entry("13.0.0.0/8").first]);
    const ends = Uint32Array.from([entry("12.0.0.0/8").last, entry("13.0.0.0/8").last]);
    assert.deepEqual(checkMergedRanges(starts, ends, policy), ["merged ranges 12.0.0.0-13.255.255.255 cover 12.0.0.0/7, a block shorter than /8"]);
    const apart = Uint32Array.from([entry("11.0.0.0/8").first, entry("12.0.0.0/8").first]);
    assert.deepEqual(checkMergedRanges(apart, Uint32Array.from([entry("11.0.0.0/8").last, entry("12.0.0.0/8").last]), policy), []);
  });

  it("accepts merged ranges across an exception's edge", () => {
    const excepted = createPolicy({ reservedRanges: ["100.64.0.0/10"], reservedExceptions: ["100.64.0.0/19"] });
    const starts = Uint32Array.from([entry("100.63.255.0/24").first, entry("100.64.0.0/19").first]);
    const ends = Uint32Array.from([entry("100.63.255.0/24").last, entry("100.64.0.0/19").last]);
    assert.deepEqual(checkMergedRanges(starts, ends, excepted), []);
  });
});

describe("allowlist", () => {
  it("cuts allowed ranges out of entries", () => {
    const allow = mergeRanges([entry("192.0.2.64/26"), entry("192.0.2.128/26"), entry("198.51.100.7")]);
    assert.deepEqual(allow.map((range) => formatRange(range.first, range.last)), ["192.0.2.64-192.0.2.191", "198.51.100.7/32"]);
    const { entries, changed } = subtractRanges([entry("192.0.2.0/24"), entry("198.51.100.7"), entry("203.0.113.1")], allow);
    assert.deepEqual(entries.map((item) => formatRange(item.first, item.last)), ["192.0.2.0/26", "192.0.2.192/26", "203.0.113.1/32"]);
    assert.equal(changed, 2);
  });
});

describe("feed body checks", () => {
  it("detects HTML after blanks, a BOM and in any case", () => {
    for (const text of ["<!DOCTYPE html><html>", "\n\n  <!doctype HTML>", "\ufeff<html lang=en>", "\t<HTML>"]) assert.equal(looksLikeHtml(Buffer.from(text)), true, text);
    for (const text of ["192.0.2.1\n", "# <html> in a comment\n", "<p>not a page</p>"]) assert.equal(looksLikeHtml(Buffer.from(text)), false, text);
  });

  it("rejects a cut-off zip archive", () => {
    const zip = readFileSync(new URL("../../test/fixtures/feeds/threatfox-full.csv.zip", import.meta.url));
    assert.throws(() => decodeFeedBody(zip.subarray(0, zip.length - 30)), (error: unknown) => error instanceof FeedError && /zip archive without its end record/.test(error.message));
  });

  it("limits the size after decompression", () => {
    const gz = readFileSync(new URL("../../test/fixtures/feeds/spamhaus-drop.txt.gz", import.meta.url));
    assert.throws(() => decodeFeedBody(gz, 100), (error: unknown) => error instanceof FeedError && error.code === "ERR_FEED_TOO_LARGE");
  });
});

describe("line lists", () => {
  it("numbers CRLF lines and stops at the closing line", () => {
    const result = parsePlain("# head\r\n192.0.2.1\r\n\r\n198.51.100.0/24 # net\r\n# END 2 entries\r\n\r\n  \n", { trailer: "^# END (\\d+) entries$" });
    assert.equal(result.failure, undefined);
    assert.deepEqual(result.entries.map((entry) => [formatRange(entry.first, entry.last), entry.line]), [
      ["192.0.2.1/32", 2],
      ["198.51.100.0/24", 4],
    ]);
  });

  it("fails a list without its closing line", () => {
    assert.match(parsePlain("192.0.2.1\n# END 5 entries\n192.0.2.2\n", { trailer: "^# END (\\d+) entries$" }).failure ?? "", /^truncated: the closing line/);
    assert.match(parsePlain("", { trailer: "^# END$" }).failure ?? "", /^truncated/);
    assert.match(parsePlain("192.0.2.1\n# END 2 entries\n", { trailer: "^# END (\\d+) entries$" }).failure ?? "", /counts 2 rows but the body has 1/);
  });

  it("caps entries at maxEntries", () => {
    const result = parsePlain("192.0.2.1\n192.0.2.2\n192.0.2.3\n", { maxEntries: 2 });
    assert.equal(result.entries.length, 2);
    assert.equal(result.entriesOverLimit, 1);
  });
});

describe("CSV rows", () => {
  it("splits quoted and plain fields", () => {
    assert.deepEqual(splitCsvRow('"a", "b,c", "d""e",f , '), ["a", "b,c", 'd"e', "f", ""]);
    assert.deepEqual(splitCsvRow("2020-10-29,192.0.2.40,80,,Heodo"), ["2020-10-29", "192.0.2.40", "80", "", "Heodo"]);
    assert.equal(splitCsvRow('"unterminated'), undefined);
    assert.equal(splitCsvRow('"a"b'), undefined);
  });
});
