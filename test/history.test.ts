// Each feed's entry history in the updater: first-seen and last-seen days that
// survive across runs, forgetting entries not seen for historyDays, stale feeds
// keeping their days, and the dates reaching the list. Time is injected.

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { decodeBlocklist } from "../src/blocklist/format.js";
import { dayOf, formatDay, listingsAt } from "../src/blocklist/provenance.js";
import { BUNDLED_CONFIG_PATH, mergeConfig } from "../src/feeds/config.js";
import { parseEntry } from "../src/lists/ipv4.js";
import { datesFromHistory, decodeHistory, encodeHistory, HistoryError, readHistory, recordSighting } from "../src/update/history.js";
import type { UpdateLog } from "../src/update/log.js";
import { runUpdate } from "../src/update/run.js";
import { temporaryDirectory } from "./helpers/cli.js";
import { FeedServer } from "./helpers/feed-server.js";

function range(text: string): { first: number; last: number } {
  const parsed = parseEntry(text);
  if (parsed.kind !== "range") throw new Error(`bad test entry ${text}`);
  return { first: parsed.first, last: parsed.last };
}

const DAY = dayOf(Date.UTC(2026, 6, 1));

describe("entry history", () => {
  it("starts new entries today and keeps known first-seen days", () => {
    const first = recordSighting([], [range("192.0.2.1"), range("192.0.2.1"), range("198.51.100.0/24")], DAY, 30);
    assert.deepEqual(first.listed, [
      { ...range("192.0.2.1"), firstSeen: DAY, lastSeen: DAY },
      { ...range("198.51.100.0/24"), firstSeen: DAY, lastSeen: DAY },
    ]);
    const second = recordSighting(first.history, [range("198.51.100.0/24"), range("203.0.113.9")], DAY + 3, 30);
    assert.deepEqual(second.listed, [
      { ...range("198.51.100.0/24"), firstSeen: DAY, lastSeen: DAY + 3 },
      { ...range("203.0.113.9"), firstSeen: DAY + 3, lastSeen: DAY + 3 },
    ]);
    // 192.0.2.1 left the feed: remembered, but not listed.
    assert.deepEqual(second.history.map((record) => record.first), [range("192.0.2.1").first, range("198.51.100.0/24").first, range("203.0.113.9").first]);
  });

  it("keeps the first-seen day of an entry that returns within historyDays", () => {
    const seen = recordSighting([], [range("192.0.2.1")], DAY, 30).history;
    const gone = recordSighting(seen, [], DAY + 10, 30).history;
    const back = recordSighting(gone, [range("192.0.2.1")], DAY + 30, 30);
    assert.deepEqual(back.listed, [{ ...range("192.0.2.1"), firstSeen: DAY, lastSeen: DAY + 30 }]);
  });

  it("forgets an entry not seen for more than historyDays", () => {
    const seen = recordSighting([], [range("192.0.2.1")], DAY, 30).history;
    assert.equal(recordSighting(seen, [], DAY + 30, 30).history.length, 1);
    assert.equal(recordSighting(seen, [], DAY + 31, 30).history.length, 0);
    const back = recordSighting(recordSighting(seen, [], DAY + 31, 30).history, [range("192.0.2.1")], DAY + 32, 30);
    assert.equal(back.listed[0]!.firstSeen, DAY + 32);
  });

  it("does not move days back when the clock is set back", () => {
    const seen = recordSighting([], [range("192.0.2.1")], DAY + 5, 30).history;
    assert.deepEqual(recordSighting(seen, [range("192.0.2.1")], DAY, 30).listed, [{ ...range("192.0.2.1"), firstSeen: DAY, lastSeen: DAY + 5 }]);
  });

  it("dates a stale copy from the history without changing it", () => {
    const history = recordSighting([], [range("192.0.2.1")], DAY, 30).history;
    assert.deepEqual(datesFromHistory(history, [range("192.0.2.1"), range("192.0.2.2")], DAY + 2), [
      { ...range("192.0.2.1"), firstSeen: DAY, lastSeen: DAY },
      { ...range("192.0.2.2"), firstSeen: DAY + 2, lastSeen: DAY + 2 },
    ]);
  });

  it("round-trips the file and rejects a damaged one", () => {
    const records = recordSighting([], [range("192.0.2.1"), range("198.51.100.0/24")], DAY, 30).history;
    const bytes = encodeHistory(records);
    assert.equal(bytes.length, 16 + 2 * 12);
    assert.deepEqual(decodeHistory(bytes, "h"), records);
    const damaged = Buffer.from(bytes);
    damaged[20]! ^= 1;
    assert.throws(() => decodeHistory(damaged, "feeds/x.history"), (error: unknown) => error instanceof HistoryError && /feeds\/x\.history: checksum mismatch/.test(error.message));
    assert.throws(() => decodeHistory(bytes.subarray(0, 30), "h"), /is 30 bytes, but 2 records need 40/);
  });
});

class CollectingLog implements UpdateLog {
  readonly lines: string[] = [];
  info(message: string): void {
    this.lines.push(message);
  }
  warning(message: string): void {
    this.lines.push(`warning: ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error: ${message}`);
  }
}

describe("update with entry history", () => {
  const server = new FeedServer();
  before(() => server.start());
  after(() => server.close());

  const bundled = JSON.parse(readFileSync(BUNDLED_CONFIG_PATH, "utf8")) as Record<string, unknown>;
  let body = "";
  let failing = false;

  function config(allowlist: string[] = []): ReturnType<typeof mergeConfig> {
    const user = {
      includeDefaultFeeds: false,
      feeds: [{ name: "feed", url: server.url("/feed.txt"), format: "plain" }],
      policy: { reservedExceptions: ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"] },
      fetch: { retries: 0, connectTimeoutSeconds: 2, headersTimeoutSeconds: 2, bodyTimeoutSeconds: 2, totalTimeoutSeconds: 5 },
      allowlist,
      maxAgeDays: 7,
      historyDays: 30,
    };
    return mergeConfig(bundled, user, "user.json", []);
  }

  /** Runs an update at 01:00 UTC on `day`, with the state and list in `directory`. */
  async function updateOn(directory: string, day: number, allowlist: string[] = []): Promise<ReturnType<typeof runUpdate>> {
    const log = new CollectingLog();
    const report = await runUpdate({ config: config(allowlist), output: join(directory, "list.bin"), stateDirectory: join(directory, "state"), log, now: () => day * 86_400_000 + 3_600_000 });
    return report;
  }

  function datesOf(directory: string, text: string): string[] {
    const list = decodeBlocklist(readFileSync(join(directory, "list.bin")), "list.bin");
    const address = range(text).first;
    const index = list.starts.findIndex((start, i) => start <= address && address <= list.ends[i]!);
    if (index < 0) return [];
    return listingsAt(list, index, address).map((listing) => `${formatDay(listing.firstSeen)} ${formatDay(listing.lastSeen)}`);
  }

  before(() => {
    server.route("/feed.txt", (_request, response) => {
      if (failing) response.writeHead(503).end();
      else response.writeHead(200, { "content-type": "text/plain" }).end(body);
    });
  });

  it("carries first-seen days across runs into the list", async () => {
    const directory = temporaryDirectory();
    body = "192.0.2.1\n198.51.100.0/24\n";
    assert.equal((await updateOn(directory, DAY)).status, 0);
    assert.deepEqual(datesOf(directory, "192.0.2.1"), ["2026-07-01 2026-07-01"]);

    body = "192.0.2.1\n203.0.113.0/24\n";
    assert.equal((await updateOn(directory, DAY + 2)).status, 0);
    assert.deepEqual(datesOf(directory, "192.0.2.1"), ["2026-07-01 2026-07-03"]);
    assert.deepEqual(datesOf(directory, "203.0.113.5"), ["2026-07-03 2026-07-03"]);
    // Dropped from the feed: out of the list at once, but remembered.
    assert.deepEqual(datesOf(directory, "198.51.100.1"), []);
    assert.equal((await readHistory(join(directory, "state"), "feed")).length, 3);

    body = "192.0.2.1\n198.51.100.0/24\n";
    await updateOn(directory, DAY + 20);
    assert.deepEqual(datesOf(directory, "198.51.100.1"), ["2026-07-01 2026-07-21"]);
  });

  it("keeps the days of a stale feed's last good copy", async () => {
    const directory = temporaryDirectory();
    body = "192.0.2.1\n";
    failing = false;
    await updateOn(directory, DAY);
    failing = true;
    try {
      const report = await updateOn(directory, DAY + 3);
      assert.equal(report.outcomes[0]!.status, "stale");
      // The list already contains the copy with its days, so it is left as it was.
      assert.equal(report.written, false);
      assert.equal(report.status, 1);
      assert.deepEqual(datesOf(directory, "192.0.2.1"), ["2026-07-01 2026-07-01"]);
    } finally {
      failing = false;
    }
  });

  it("expires a copy validated in the future", async () => {
    const directory = temporaryDirectory();
    body = "192.0.2.1\n";
    failing = false;
    await updateOn(directory, DAY);
    const statePath = join(directory, "state", "feeds", "feed.json");
    const state = JSON.parse(readFileSync(statePath, "utf8")) as Record<string, unknown>;
    writeFileSync(statePath, JSON.stringify({ ...state, validatedAt: (DAY + 100) * 86_400_000 }));
    failing = true;
    try {
      const skewed = await updateOn(directory, DAY + 1);
      assert.equal(skewed.outcomes[0]!.status, "stale");
      assert.equal(skewed.outcomes[0]!.ageMs, 0);
      // maxAgeDays is 7: the copy counts from DAY + 1, not from DAY + 100.
      const expired = await updateOn(directory, DAY + 9);
      assert.equal(expired.outcomes[0]!.status, "failed");
    } finally {
      failing = false;
    }
  });

  it("starts over from a damaged history file with a warning", async () => {
    const directory = temporaryDirectory();
    body = "192.0.2.1\n";
    await updateOn(directory, DAY);
    writeFileSync(join(directory, "state", "feeds", "feed.history"), "garbage");
    const log = new CollectingLog();
    await runUpdate({ config: config(), output: join(directory, "list.bin"), stateDirectory: join(directory, "state"), log, now: () => (DAY + 1) * 86_400_000 });
    assert.ok(log.lines.some((line) => /^warning: feed: cannot read its entry history \(.*not a repfilter entry history\)/.test(line)), log.lines.join("\n"));
    assert.deepEqual(datesOf(directory, "192.0.2.1"), ["2026-07-02 2026-07-02"]);
  });

  it("keeps a partly allowed entry whole", async () => {
    const directory = temporaryDirectory();
    body = "198.51.100.0/24\n192.0.2.1\n";
    await updateOn(directory, DAY, ["198.51.100.128/25", "192.0.2.1"]);
    const list = decodeBlocklist(readFileSync(join(directory, "list.bin")), "list.bin");
    assert.equal(list.entries!.count, 1);
    assert.deepEqual(datesOf(directory, "198.51.100.1"), ["2026-07-01 2026-07-01"]);
    assert.deepEqual(datesOf(directory, "198.51.100.200"), []);
  });
});
