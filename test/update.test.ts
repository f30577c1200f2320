// `repfilter update` end to end: the real command line against a real HTTP
// server on 127.0.0.1 that serves the feed fixtures and misbehaves on purpose.

import assert from "node:assert/strict";
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { deflateSync, gzipSync } from "node:zlib";
import { buildBlocklist } from "../src/blocklist/build.js";
import { decodeBlocklist, encodeBlocklist } from "../src/blocklist/format.js";
import { formatRange } from "../src/lists/ipv4.js";
import { buildPcap } from "../src/pcap/writer.js";
import { VERSION } from "../src/version.js";
import { runCli, temporaryDirectory, type CliResult } from "./helpers/cli.js";
import { delayed, failFirst, FeedServer, serve, serveWithEtag } from "./helpers/feed-server.js";
import { ethernet, ipv4 } from "./helpers/packets.js";

const FIXTURES = new URL("../../test/fixtures/feeds/", import.meta.url);

function fixture(name: string): Buffer {
  return readFileSync(new URL(name, FIXTURES));
}

/** Fetch settings short enough for tests: timeouts under a second, retries 10 ms apart. */
const FAST_FETCH = {
  connectTimeoutSeconds: 2,
  headersTimeoutSeconds: 2,
  bodyTimeoutSeconds: 0.4,
  totalTimeoutSeconds: 5,
  maxBodyBytes: 100_000,
  maxRedirects: 3,
  retries: 2,
  retryDelaySeconds: 0.01,
  concurrency: 4,
};

/** The fixtures' stand-in ranges, allowed the way a test allowlists documentation space. */
const FIXTURE_POLICY = {
  reservedRanges: ["0.0.0.0/8", "10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4"],
  reservedExceptions: ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "100.64.0.0/10", "233.252.0.0/24"],
};

interface Workspace {
  directory: string;
  config: string;
  output: string;
  state: string;
}

function workspace(feeds: object[], extra: Record<string, unknown> = {}): Workspace {
  const directory = temporaryDirectory();
  const config = join(directory, "feeds.json");
  writeFileSync(config, JSON.stringify({ includeDefaultFeeds: false, feeds, fetch: FAST_FETCH, policy: FIXTURE_POLICY, ...extra }, null, 2));
  return { directory, config, output: join(directory, "data", "blocklist.bin"), state: join(directory, "state") };
}

function update(space: Workspace, args: string[] = []): Promise<CliResult> {
  return runCli(["update", "--config", space.config, "--output", space.output, "--state-dir", space.state, ...args], {
    env: { XDG_CONFIG_HOME: space.directory, XDG_STATE_HOME: space.directory },
  });
}

/** Returns the list's ranges with their source names, like "192.0.2.17/32 feodo". */
function listRanges(path: string): string[] {
  const list = decodeBlocklist(readFileSync(path), path);
  const lines: string[] = [];
  for (let i = 0; i < list.starts.length; i++) {
    const names = list.sets[list.setIds[i]!]!.map((source) => list.sources[source]).join(",");
    lines.push(`${formatRange(list.starts[i]!, list.ends[i]!)} ${names}`);
  }
  return lines;
}

/** Returns the table row of a feed, split into its columns. */
function tableRow(stdout: string, feed: string): string[] {
  const line = stdout.split("\n").find((row) => row.startsWith(`${feed} `));
  assert.ok(line !== undefined, `no table row for ${feed} in:\n${stdout}`);
  return line.split(/\s{2,}/);
}

describe("repfilter update", () => {
  const server = new FeedServer();
  before(() => server.start());
  after(() => server.close());

  it("builds the list from several formats", async () => {
    server.route("/feodo.txt", serve(fixture("feodo-ipblocklist.txt")));
    server.route("/drop.txt", serve(fixture("spamhaus-drop.txt")));
    server.route("/drop_v4.json", serve(fixture("spamhaus-drop_v4.json"), { "content-type": "application/json" }));
    server.route("/block.txt", serve(fixture("dshield-block.txt")));
    server.route("/feodo.csv", serve(fixture("feodo-ipblocklist.csv"), { "content-type": "text/csv" }));
    const space = workspace([
      { name: "feodo", url: server.url("/feodo.txt"), format: "plain", options: { trailer: "^# END (\\d+) entries$" } },
      { name: "drop", url: server.url("/drop.txt"), format: "spamhaus-text" },
      { name: "drop-json", url: server.url("/drop_v4.json"), format: "spamhaus-ndjson" },
      { name: "dshield", url: server.url("/block.txt"), format: "dshield-block" },
      { name: "feodo-csv", url: server.url("/feodo.csv"), format: "csv", options: { column: "dst_ip", match: { c2_status: "online" } } },
      { name: "tor", url: server.url("/never-requested"), format: "plain", enabled: false },
    ]);

    const result = await update(space);

    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(tableRow(result.stdout, "feodo").slice(0, 5), ["feodo", "updated", "4", "0", "0 ms"]);
    assert.deepEqual(tableRow(result.stdout, "dshield").slice(0, 3), ["dshield", "updated", "8"]);
    assert.deepEqual(tableRow(result.stdout, "feodo-csv").slice(0, 3), ["feodo-csv", "updated", "3"]);
    assert.deepEqual(tableRow(result.stdout, "tor").slice(0, 2), ["tor", "disabled"]);
    assert.equal(server.count("/never-requested"), 0);
    const ranges = listRanges(space.output);
    assert.ok(ranges.includes("192.0.2.17/32 feodo,drop,drop-json,dshield"), ranges.join("\n"));
    assert.ok(ranges.includes("100.64.32.0/19 drop,drop-json"), ranges.join("\n"));
    assert.ok(ranges.includes("192.0.2.10/32 drop,drop-json,dshield,feodo-csv"), ranges.join("\n"));
    assert.match(result.stderr, /feodo: HTTP 200, [0-9.]+ [kB]+, 4 entries, 0 rejected, \d+ ms/);
    assert.match(result.stderr, new RegExp(`wrote ${space.output.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: \\d+ ranges`));
  });

  it("sends a User-Agent naming repfilter and its version", async () => {
    server.route("/ua.txt", serve("192.0.2.1\n"));
    const space = workspace([{ name: "ua", url: server.url("/ua.txt"), format: "plain" }]);
    const result = await update(space);
    assert.equal(result.status, 0, result.stderr);
    const request = server.requests.find((record) => record.path === "/ua.txt");
    assert.equal(request?.headers["user-agent"], `repfilter/${VERSION} (IP blocklist updater)`);
  });

  it("reuses the stored copy on 304", async () => {
    server.route("/etag.txt", serveWithEtag(fixture("et-compromised-ips.txt"), '"v1"'));
    const space = workspace([{ name: "et", url: server.url("/etag.txt"), format: "plain" }]);

    const first = await update(space);
    const second = await update(space);

    assert.equal(first.status, 0, first.stderr);
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(tableRow(second.stdout, "et").slice(0, 3), ["et", "not-modified", "5"]);
    const conditional = server.requests.filter((record) => record.path === "/etag.txt")[1];
    assert.equal(conditional?.headers["if-none-match"], '"v1"');
    assert.equal(conditional?.headers["if-modified-since"], "Sat, 04 Jul 2026 11:43:35 GMT");
    // 203.0.113.121 and 203.0.113.122 stay two ranges: each is an entry of its own.
    assert.equal(listRanges(space.output).length, 5);
  });

  it("retries a 500 and then succeeds", async () => {
    server.route("/flaky.txt", failFirst(1, 500, serve(fixture("cins-ci-badguys.txt"))));
    const space = workspace([{ name: "cins", url: server.url("/flaky.txt"), format: "plain" }]);
    const result = await update(space);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(server.count("/flaky.txt"), 2);
    assert.match(result.stderr, /cins: attempt 1 failed: HTTP 500 from http:\/\/127\.0\.0\.1:\d+\/flaky\.txt; retrying in 10 ms/);
    assert.deepEqual(tableRow(result.stdout, "cins").slice(0, 3), ["cins", "updated", "6"]);
  });

  it("does not retry a 404", async () => {
    const space = workspace([{ name: "gone", url: server.url("/missing-404.txt"), format: "plain" }]);
    const result = await update(space);
    assert.equal(result.status, 2);
    assert.equal(server.count("/missing-404.txt"), 1);
    assert.match(result.stderr, /gone: HTTP 404 from http:\/\/127\.0\.0\.1:\d+\/missing-404\.txt; there is no last good copy/);
  });

  it("fails a body slower than the timeout", async () => {
    server.route("/slow.txt", (_request, response) => {
      response.writeHead(200, { "content-type": "text/plain" });
      response.write("192.0.2.1\n"); // and then nothing more
    });
    server.route("/fine.txt", serve("198.51.100.1\n"));
    const space = workspace([
      { name: "slow", url: server.url("/slow.txt"), format: "plain" },
      { name: "fine", url: server.url("/fine.txt"), format: "plain" },
    ]);
    const started = performance.now();
    const result = await update(space);
    assert.ok(performance.now() - started < 10_000);
    assert.equal(result.status, 1, result.stderr);
    assert.equal(server.count("/slow.txt"), 3);
    assert.match(result.stderr, /slow: the body stalled for more than 0\.4 s \(bodyTimeoutSeconds\) for http:\/\/127\.0\.0\.1:\d+\/slow\.txt \(after 3 attempts\)/);
    assert.deepEqual(tableRow(result.stdout, "slow").slice(0, 3), ["slow", "failed", "-"]);
    assert.deepEqual(listRanges(space.output), ["198.51.100.1/32 fine"]);
  });

  it("fails a body over the size limit", async () => {
    const big = Array.from({ length: 12_000 }, (_, i) => `198.51.100.${i % 256}`).join("\n");
    server.route("/big.txt", serve(big));
    server.route("/big-stream.txt", (_request, response) => {
      response.writeHead(200, { "content-type": "text/plain", "transfer-encoding": "chunked" });
      for (let i = 0; i < 20; i++) response.write(big.slice(0, 10_000));
      response.end();
    });
    const space = workspace([
      { name: "big", url: server.url("/big.txt"), format: "plain" },
      { name: "streamed", url: server.url("/big-stream.txt"), format: "plain" },
    ]);
    const result = await update(space);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /big: body from http:\/\/127\.0\.0\.1:\d+\/big\.txt exceeds the maximum of 100000 bytes \(maxBodyBytes\)/);
    assert.match(result.stderr, /streamed: body from http:\/\/127\.0\.0\.1:\d+\/big-stream\.txt exceeds the maximum of 100000 bytes/);
    assert.equal(server.count("/big.txt"), 1);
  });

  it("decodes a gzip Content-Encoding", async () => {
    server.route("/gzip.txt", serve(gzipSync("203.0.113.7\n198.51.100.0/24\n"), { "content-type": "text/plain", "content-encoding": "gzip" }));
    server.route("/bad-gzip.txt", serve(Buffer.from("not gzip at all\n"), { "content-type": "text/plain", "content-encoding": "gzip" }));
    const space = workspace([
      { name: "gz", url: server.url("/gzip.txt"), format: "plain" },
      { name: "bad-gz", url: server.url("/bad-gzip.txt"), format: "plain" },
    ]);
    const result = await update(space);
    assert.equal(result.status, 1, result.stderr);
    assert.equal(server.requests.find((record) => record.path === "/gzip.txt")?.headers["accept-encoding"], "gzip, deflate");
    assert.deepEqual(listRanges(space.output), ["198.51.100.0/24 gz", "203.0.113.7/32 gz"]);
    assert.match(result.stderr, /bad-gz: cannot decode Content-Encoding gzip from http:\/\/127\.0\.0\.1:\d+\/bad-gzip\.txt: damaged gzip data/);
  });

  it("fails a compression bomb naming maxBodyBytes", async () => {
    const bomb = Buffer.alloc(5_000_000, "1");
    server.route("/bomb-deflate.txt", serve(deflateSync(bomb), { "content-type": "text/plain", "content-encoding": "deflate" }));
    server.route("/bomb-gzip.txt", serve(gzipSync(bomb), { "content-type": "text/plain", "content-encoding": "gzip" }));
    server.route("/bomb.txt.gz", serve(gzipSync(bomb), { "content-type": "application/gzip" }));
    const space = workspace([
      { name: "deflate", url: server.url("/bomb-deflate.txt"), format: "plain" },
      { name: "gzip", url: server.url("/bomb-gzip.txt"), format: "plain" },
      { name: "file", url: server.url("/bomb.txt.gz"), format: "plain" },
    ]);
    const result = await update(space);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /deflate: body from http:\/\/127\.0\.0\.1:\d+\/bomb-deflate\.txt expands past the maximum of 100000 bytes \(maxBodyBytes\) when its Content-Encoding deflate is undone/);
    assert.match(result.stderr, /gzip: body from http:\/\/127\.0\.0\.1:\d+\/bomb-gzip\.txt expands past the maximum of 100000 bytes \(maxBodyBytes\) when its Content-Encoding gzip is undone/);
    assert.match(result.stderr, /file: gzip data expands past the maximum of 100000 bytes \(maxBodyBytes\)/);
    assert.equal(server.count("/bomb-deflate.txt"), 1);
  });

  it("reads a gzip file served without Content-Encoding", async () => {
    server.route("/drop.txt.gz", serve(fixture("spamhaus-drop.txt.gz"), { "content-type": "application/gzip" }));
    const space = workspace([{ name: "drop", url: server.url("/drop.txt.gz"), format: "spamhaus-text" }]);
    const result = await update(space);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(listRanges(space.output).length, 4);
  });

  it("stops a redirect loop", async () => {
    server.route("/loop", (_request, response) => {
      response.writeHead(302, { location: "/loop" }).end();
    });
    server.route("/moved", (_request, response) => {
      response.writeHead(301, { location: "/moved-here.txt" }).end();
    });
    server.route("/moved-here.txt", serve("192.0.2.9\n"));
    const space = workspace([
      { name: "loop", url: server.url("/loop"), format: "plain" },
      { name: "moved", url: server.url("/moved"), format: "plain" },
    ]);
    const result = await update(space);
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /loop: more than 3 redirects \(maxRedirects\)/);
    assert.equal(server.count("/loop"), 4);
    assert.deepEqual(listRanges(space.output), ["192.0.2.9/32 moved"]);
  });

  it("fails on a connection reset", async () => {
    server.route("/reset.txt", (request) => {
      request.socket.resetAndDestroy();
    });
    server.route("/ok.txt", serve("192.0.2.77\n"));
    const space = workspace([
      { name: "reset", url: server.url("/reset.txt"), format: "plain" },
      { name: "ok", url: server.url("/ok.txt"), format: "plain" },
    ]);
    const result = await update(space);
    assert.equal(result.status, 1, result.stderr);
    assert.equal(server.count("/reset.txt"), 3);
    assert.match(result.stderr, /reset: the connection was (reset|closed or reset) by the server for http:\/\/127\.0\.0\.1:\d+\/reset\.txt \(after 3 attempts\)/);
  });

  for (const contentType of ["text/html", "text/plain"]) {
    it(`keeps the list on HTML served as ${contentType}`, async () => {
      const path = `/moved-${contentType.replace("/", "-")}.txt`;
      server.route(path, serve("<!doctype html><html><body>Moved</body></html>", { "content-type": contentType }));
      const space = workspace([{ name: "moved", url: server.url(path), format: "plain" }]);
      const previous = encodeBlocklist(buildBlocklist([{ name: "moved", entries: [{ first: 1, last: 1 }, { first: 5, last: 6 }, { first: 9, last: 9 }] }], 1_700_000_000_000));
      mkdirSync(join(space.directory, "data"));
      writeFileSync(space.output, previous);

      const result = await update(space);

      assert.equal(result.status, 2);
      assert.deepEqual(readFileSync(space.output), previous);
      assert.match(result.stderr, new RegExp(`moved: an HTML page instead of a list .*\\(HTTP 200, served as ${contentType} from http://127\\.0\\.0\\.1:\\d+${path}\\)`));
      assert.match(result.stderr, /no feed gave usable data; .* left unchanged/);
      assert.doesNotMatch(result.stderr, /    at /);
    });
  }

  it("keeps the last good copy when a feed fails", async () => {
    server.route("/sometimes.txt", failFirst(0, 500, serve(fixture("greensnow.txt"))));
    const space = workspace([{ name: "green", url: server.url("/sometimes.txt"), format: "plain" }]);
    const first = await update(space);
    assert.equal(first.status, 0, first.stderr);
    server.route("/sometimes.txt", serve("<html><body>Bot check</body></html>", { "content-type": "text/html" }));

    const before = readFileSync(space.output);
    const second = await update(space);

    assert.equal(second.status, 1, second.stderr);
    assert.deepEqual(tableRow(second.stdout, "green").slice(0, 3), ["green", "stale", "5"]);
    assert.match(second.stderr, /repfilter: error: green: an HTML page instead of a list .* from http:\/\/127\.0\.0\.1:\d+\/sometimes\.txt\); keeping the last good copy from \d+ m?s ago \(5 entries\)/);
    assert.match(second.stderr, /every download failed; \S+ left unchanged, because it already contains the last good copies/);
    assert.deepEqual(readFileSync(space.output), before, "the list stays byte for byte");
    assert.equal(existsSync(`${space.output}.prev`), false);
  });

  it("writes the list when one feed is stale and another fresh", async () => {
    server.route("/steady.txt", serve("198.51.100.7\n"));
    server.route("/flaky.txt", serve("192.0.2.8\n"));
    const space = workspace([
      { name: "steady", url: server.url("/steady.txt"), format: "plain" },
      { name: "flaky", url: server.url("/flaky.txt"), format: "plain" },
    ]);
    assert.equal((await update(space)).status, 0);
    server.route("/steady.txt", serve("198.51.100.7\n198.51.100.9\n"));
    server.route("/flaky.txt", failFirst(100, 500, serve("")));

    const second = await update(space);

    assert.equal(second.status, 1, second.stderr);
    assert.equal(tableRow(second.stdout, "flaky")[1], "stale");
    assert.equal(tableRow(second.stdout, "steady")[1], "updated");
    assert.equal(listRanges(space.output).length, 3);
  });

  it("drops a last good copy past its maximum age", async () => {
    server.route("/aging.txt", serve(fixture("talos-ip-filter.blf")));
    const space = workspace([{ name: "talos", url: server.url("/aging.txt"), format: "plain" }], { maxAgeDays: 0 });
    const first = await update(space);
    assert.equal(first.status, 0, first.stderr);
    server.route("/aging.txt", failFirst(10, 503, serve("")));

    const second = await update(space);

    assert.equal(second.status, 2);
    assert.match(second.stderr, /talos: HTTP 503 .*; the last good copy is \d+ m?s old, past maxAgeDays \(0\), so the feed is left out of the list/);
  });

  it("counts a validatedAt in the future as now", async () => {
    server.route("/future.txt", serve("192.0.2.55\n"));
    const space = workspace([{ name: "future", url: server.url("/future.txt"), format: "plain" }], { maxAgeDays: 1 });
    assert.equal((await update(space)).status, 0);
    const statePath = join(space.state, "feeds", "future.json");
    const state = JSON.parse(readFileSync(statePath, "utf8")) as Record<string, unknown>;
    writeFileSync(statePath, JSON.stringify({ ...state, validatedAt: Date.now() + 30 * 86_400_000 }));
    server.route("/future.txt", failFirst(100, 500, serve("")));

    const second = await update(space);

    assert.equal(second.status, 1, second.stderr);
    const row = tableRow(second.stdout, "future");
    assert.deepEqual(row.slice(0, 3), ["future", "stale", "1"]);
    assert.match(row[4]!, /^\d+ m?s$/);
    assert.match(second.stderr, /future: its last good copy was validated at \S+, later than the current time \S+ \(a clock set back or an edited state file\); counting it as validated now/);
    assert.equal(second.stderr.match(/later than the current time/g)?.length, 1);
    assert.match(second.stderr, /keeping the last good copy from \d+ m?s ago/);
    const stored = JSON.parse(readFileSync(statePath, "utf8")) as { validatedAt: number };
    assert.ok(stored.validatedAt <= Date.now());

    const third = await update(space);
    assert.doesNotMatch(third.stderr, /later than the current time/);
    assert.equal(tableRow(third.stdout, "future")[1], "stale");
  });

  it("fails a feed over maxEntries", async () => {
    const addresses = (count: number): string => Array.from({ length: count }, (_, i) => `198.51.${100 + (i >> 8)}.${i & 255}`).join("\n") + "\n";
    server.route("/many.txt", serve(addresses(1000)));
    const space = workspace([{ name: "many", url: server.url("/many.txt"), format: "plain", options: { maxEntries: 1000 } }]);
    const first = await update(space);
    assert.equal(first.status, 0, first.stderr);
    assert.deepEqual(tableRow(first.stdout, "many").slice(0, 3), ["many", "updated", "1000"]);
    server.route("/many.txt", serve(addresses(1001)));

    const second = await update(space);

    assert.equal(second.status, 1, second.stderr);
    assert.match(
      second.stderr,
      /many: 1001 IPv4 entries, more than the maximum of 1000 \(options\.maxEntries\); raise this feed's options\.maxEntries if that is expected .*; keeping the last good copy/,
    );
    assert.deepEqual(tableRow(second.stdout, "many").slice(0, 3), ["many", "stale", "1000"]);
  });

  it("starts fresh from a malformed state file", async () => {
    server.route("/shape.txt", serve("192.0.2.66\n"));
    const space = workspace([{ name: "shape", url: server.url("/shape.txt"), format: "plain" }]);
    assert.equal((await update(space)).status, 0);
    const statePath = join(space.state, "feeds", "shape.json");
    const cases: Array<[string, RegExp]> = [
      ["null", /expected a JSON object, got null/],
      ["[1]", /expected a JSON object, got an array/],
      ['{"url": 5}', /"url" is not a string/],
      ["{", /invalid JSON \(.*\)/],
    ];
    server.route("/shape.txt", failFirst(100, 500, serve("")));
    for (const [text, reason] of cases) {
      writeFileSync(statePath, text);
      const result = await update(space);
      assert.equal(result.status, 2, text);
      assert.match(result.stderr, new RegExp(`shape: its state file is damaged: .*shape\\.json: ${reason.source}; starting fresh, without its last good copy`), text);
      assert.match(result.stderr, /shape: HTTP 500 .*; there is no last good copy/, text);
      assert.doesNotMatch(result.stderr, /    at /, text);
    }
    server.route("/shape.txt", serve("192.0.2.67\n"));
    const repaired = await update(space);
    assert.equal(repaired.status, 0, repaired.stderr);
    assert.equal((JSON.parse(readFileSync(statePath, "utf8")) as { entries: number }).entries, 1);
  });

  it("flags a feed that shrinks by more than half", async () => {
    server.route("/shrink.txt", serve(fixture("hostile-garbage-5pct.txt")));
    const space = workspace([{ name: "shrink", url: server.url("/shrink.txt"), format: "plain" }]);
    assert.equal((await update(space)).status, 0);
    server.route("/shrink.txt", serve(fixture("greensnow.txt")));
    const result = await update(space);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /shrink: shrank from 95 to 5 entries at once \(more than half\); kept, but check the feed/);
    assert.equal(listRanges(space.output).length, 5);
  });

  it("fails a mostly garbage body and a cut-off one", async () => {
    server.route("/garbage.txt", serve(fixture("hostile-garbage-60pct.txt")));
    server.route("/cut.txt", serve(fixture("hostile-truncated-spamhaus-drop.txt")));
    server.route("/empty.txt", serve(""));
    server.route("/ok2.txt", serve("203.0.113.99\n"));
    const space = workspace([
      { name: "garbage", url: server.url("/garbage.txt"), format: "plain" },
      { name: "cut", url: server.url("/cut.txt"), format: "spamhaus-text" },
      { name: "empty", url: server.url("/empty.txt"), format: "plain" },
      { name: "ok", url: server.url("/ok2.txt"), format: "plain" },
    ]);
    const result = await update(space);
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /garbage: 60 of 100 data lines rejected/);
    assert.match(result.stderr, /garbage \(download\): line 2: not an IPv4 \w+: "%PDF-1\.4"/);
    assert.match(result.stderr, /garbage \(download\): 60 invalid lines rejected \(not an IPv4 address: \d+, /);
    assert.match(result.stderr, /garbage \(download\): 55 more invalid lines not shown/);
    assert.match(result.stderr, /cut: truncated: the closing line matching \/\^; EOF\$\/ is missing/);
    assert.match(result.stderr, /empty: empty body/);
    assert.deepEqual(listRanges(space.output), ["203.0.113.99/32 ok"]);
  });

  it("rejects unsafe entries and counts them by reason", async () => {
    server.route("/catch-all.txt", serve("0.0.0.0/0\n10.0.0.0/8\n192.168.0.0/16\n203.0.113.7\n"));
    const directory = temporaryDirectory();
    const config = join(directory, "feeds.json");
    writeFileSync(config, JSON.stringify({ includeDefaultFeeds: false, fetch: FAST_FETCH, feeds: [{ name: "wide", url: server.url("/catch-all.txt"), format: "plain" }] }));
    const output = join(directory, "list.bin");

    const result = await runCli(["update", "--config", config, "--output", output, "--state-dir", join(directory, "state")]);

    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /wide \(download\): 3 unsafe entries rejected by the safety policy \(reserved range: 2, whole address space \(0\.0\.0\.0\/0\): 1\)/);
    assert.match(result.stderr, /wide \(download\): line 2: 10\.0\.0\.0\/8 overlaps 10\.0\.0\.0\/8, private network \(RFC 1918\)/);
    assert.deepEqual(tableRow(result.stdout, "wide").slice(0, 4), ["wide", "updated", "1", "3"]);
    assert.deepEqual(listRanges(output), ["203.0.113.7/32 wide"]);

    const pcap = buildPcap(
      [
        ["10.0.0.5", "10.0.0.9"],
        ["192.168.1.2", "192.168.1.1"],
        ["192.168.1.2", "203.0.113.7"],
      ].map(([src, dst], i) => ({ tsSec: 1_700_000_000 + i, tsFrac: 0, data: ethernet(ipv4({ src: src!, dst: dst!, proto: 17, srcPort: 5000, dstPort: 53 })) })),
      { linkType: 1 },
    );
    const scan = await runCli(["--blocklist", output, "--quiet", "--dedup", "0"], { input: pcap });
    assert.equal(scan.status, 0, scan.stderr);
    assert.equal(scan.stdout.trim().split("\n").length, 1);
    assert.match(scan.stdout, /192\.168\.1\.2:5000 -> 203\.0\.113\.7:53 dir=outbound match=dst/);
  });

  it("accepts adjacent /8 blocks from two feeds", async () => {
    server.route("/four.txt", serve("4.0.0.0/8\n"));
    server.route("/five.txt", serve("5.0.0.0/8\n"));
    const space = workspace([
      { name: "four", url: server.url("/four.txt"), format: "plain" },
      { name: "five", url: server.url("/five.txt"), format: "plain" },
    ]);
    const result = await update(space);
    assert.equal(result.status, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /error/);
    assert.deepEqual(listRanges(space.output), ["4.0.0.0/8 four", "5.0.0.0/8 five"]);
  });

  it("fails one feed whose entries join into a /7", async () => {
    server.route("/both.txt", serve("12.0.0.0/8\n13.0.0.0/8\n"));
    server.route("/one.txt", serve("192.0.2.1\n"));
    const space = workspace([
      { name: "both", url: server.url("/both.txt"), format: "plain" },
      { name: "one", url: server.url("/one.txt"), format: "plain" },
    ]);
    const result = await update(space);
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /both: its entries together are unsafe: merged ranges 12\.0\.0\.0-13\.255\.255\.255 cover 12\.0\.0\.0\/7, a block shorter than \/8/);
    assert.deepEqual(listRanges(space.output), ["192.0.2.1/32 one"]);
  });

  it("keeps the list when it exceeds maxListedAddresses", async () => {
    server.route("/twelve.txt", serve("12.0.0.0/8\n"));
    server.route("/thirteen.txt", serve("13.0.0.0/9\n"));
    const space = workspace(
      [
        { name: "twelve", url: server.url("/twelve.txt"), format: "plain" },
        { name: "thirteen", url: server.url("/thirteen.txt"), format: "plain" },
      ],
      { policy: { ...FIXTURE_POLICY, maxListedAddresses: 20_000_000 } },
    );
    const result = await update(space);
    assert.equal(result.status, 2);
    assert.match(
      result.stderr,
      /error: the merged list covers 25165824 addresses \(0\.6% of the IPv4 space\), more than policy\.maxListedAddresses \(20000000\); the broadest feeds: twelve \(16777216 addresses\), thirteen \(8388608 addresses\)\n/,
    );
    assert.match(result.stderr, /left unchanged; disable or narrow the broadest feeds, or raise policy\.maxListedAddresses/);
    assert.throws(() => readFileSync(space.output), { code: "ENOENT" });
  });

  it("uses the singular for counts of one", async () => {
    server.route("/single.txt", serve("192.0.2.1/24\nnot-an-ip\n2001:db8::1\n10.0.0.0/8\n"));
    const space = workspace(
      [
        { name: "single", url: server.url("/single.txt"), format: "plain" },
        { name: "gone", url: server.url("/single-404.txt"), format: "plain" },
      ],
      { allowlist: ["192.0.2.0/25"] },
    );
    const result = await update(space);
    assert.equal(result.status, 1, result.stderr);
    const lines = [
      /single \(download\): 1 invalid line rejected \(/,
      /single \(download\): 1 IPv6 entry skipped/,
      /single \(download\): 1 CIDR entry had host bits set; the host bits were cleared/,
      /single \(download\): 1 unsafe entry rejected by the safety policy \(reserved range: 1\)/,
      /single: HTTP 200, [0-9.]+ B, 1 entry, 2 rejected, /,
      /allowlist: 1 entry lost addresses that must never alert/,
      /wrote .*: 1 range \(128 addresses\) from 1 feed\n/,
      /warning: 1 feed is missing from the list: gone\n/,
    ];
    for (const line of lines) assert.match(result.stderr, line);
    assert.doesNotMatch(result.stderr, /\b1 (entries|ranges|feeds|lines|addresses)\b/);
  });

  it("subtracts the allowlist from config and --allow", async () => {
    server.route("/allow.txt", serve("198.51.100.0/24\n203.0.113.0/24\n"));
    const space = workspace([{ name: "nets", url: server.url("/allow.txt"), format: "plain" }], { allowlist: ["203.0.113.0/25"] });
    const allowFile = join(space.directory, "allow.txt");
    writeFileSync(allowFile, "# our own servers\n198.51.100.128/25\n");
    const result = await update(space, ["--allow", allowFile]);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(listRanges(space.output), ["198.51.100.0/25 nets", "203.0.113.128/25 nets"]);
    assert.match(result.stderr, /allowlist: 2 entries lost addresses that must never alert/);
  });

  it("downloads a bounded number of feeds at once", async () => {
    const feeds = [];
    for (let i = 0; i < 6; i++) {
      server.route(`/parallel-${i}.txt`, delayed(300, serve(`192.0.2.${i}\n`)));
      feeds.push({ name: `p${i}`, url: server.url(`/parallel-${i}.txt`), format: "plain" });
    }
    const space = workspace(feeds, { fetch: { ...FAST_FETCH, concurrency: 2 } });
    server.maxActive = 0;
    const result = await update(space);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(server.maxActive, 2);
  });

  it("hides credentials in feed URLs", async () => {
    const expected = `Basic ${Buffer.from("reader:s3cret-pw").toString("base64")}`;
    server.route("/private.txt", (request, response) => {
      const authorized = request.headers.authorization === expected && request.url?.endsWith("?key=s3cret-key&format=txt");
      response.writeHead(authorized ? 200 : 401, { "content-type": "text/plain" }).end(authorized ? "192.0.2.44\n" : "unauthorized\n");
    });
    server.route("/private-500.txt", (_request, response) => {
      response.writeHead(500, { "content-type": "text/plain" }).end("error\n");
    });
    const closed = new FeedServer();
    await closed.start();
    const refusedUrl = closed.url("/x.txt").replace("http://", "http://reader:s3cret-pw@");
    await closed.close();
    const withCredentials = (path: string, query: string): string => `${server.url(path).replace("http://", "http://reader:s3cret-pw@")}?${query}`;
    const space = workspace([
      { name: "private", url: withCredentials("/private.txt", "key=s3cret-key&format=txt"), format: "plain" },
      { name: "broken", url: withCredentials("/private-500.txt", "api_key=s3cret-key&token=s3cret-token"), format: "plain" },
      { name: "refused", url: `${refusedUrl}?auth=s3cret-auth`, format: "plain" },
    ]);

    const result = await update(space);

    assert.equal(result.status, 1, result.stderr);
    assert.deepEqual(tableRow(result.stdout, "private").slice(0, 3), ["private", "updated", "1"]);
    assert.match(result.stderr, /broken: HTTP 500 from http:\/\/\*\*\*@127\.0\.0\.1:\d+\/private-500\.txt\?api_key=\*\*\*&token=\*\*\*/);
    assert.match(result.stderr, /refused: the connection was refused for http:\/\/\*\*\*@127\.0\.0\.1:\d+\/x\.txt\?auth=\*\*\*/);
    assert.match(tableRow(result.stdout, "broken")[5] ?? "", /^HTTP 500 from http:\/\/\*\*\*@127\.0\.0\.1/);
    for (const [stream, text] of [["stdout", result.stdout], ["stderr", result.stderr]]) {
      assert.doesNotMatch(text!, /s3cret|reader/, `${stream} shows a credential:\n${text}`);
    }
  });

  it("rejects an output path that is a directory", async () => {
    server.route("/to-dir.txt", serve("192.0.2.1\n"));
    const space = workspace([{ name: "feed", url: server.url("/to-dir.txt"), format: "plain" }]);
    mkdirSync(space.output, { recursive: true });
    const result = await update(space);
    assert.equal(result.status, 2);
    assert.equal(
      result.stderr,
      `repfilter: error: cannot write the list to ${space.output}: it is a directory; pass -o with the list file's path, such as ${join(space.output, "blocklist.bin")}\n`,
    );
    assert.equal(result.stdout, "");
    assert.equal(server.count("/to-dir.txt"), 0);
  });

  it("writes through an output symlink", async () => {
    server.route("/via-link.txt", serve("192.0.2.1\n"));
    const space = workspace([{ name: "feed", url: server.url("/via-link.txt"), format: "plain" }]);
    mkdirSync(join(space.directory, "real"));
    const target = join(space.directory, "real", "list.bin");
    const previous = encodeBlocklist(buildBlocklist([{ name: "old", entries: [{ first: 5, last: 5 }] }], 1_700_000_000_000));
    writeFileSync(target, previous);
    mkdirSync(join(space.directory, "data"));
    symlinkSync("../real/list.bin", space.output);

    const result = await update(space);

    assert.equal(result.status, 0, result.stderr);
    assert.ok(lstatSync(space.output).isSymbolicLink());
    assert.deepEqual(listRanges(target), ["192.0.2.1/32 feed"]);
    assert.deepEqual(readFileSync(`${target}.prev`), previous);
    assert.match(result.stderr, new RegExp(`wrote ${space.output.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} -> ${target.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: `));
  });

  it("follows a dangling output symlink", async () => {
    server.route("/dangling.txt", serve("192.0.2.2\n"));
    const space = workspace([{ name: "feed", url: server.url("/dangling.txt"), format: "plain" }]);
    mkdirSync(join(space.directory, "data"));
    symlinkSync(join(space.directory, "data", "real.bin"), space.output);
    const result = await update(space);
    assert.equal(result.status, 0, result.stderr);
    assert.ok(lstatSync(space.output).isSymbolicLink());
    assert.deepEqual(listRanges(join(space.directory, "data", "real.bin")), ["192.0.2.2/32 feed"]);
  });

  it("writes nothing when every feed is disabled", async () => {
    const space = workspace([
      { name: "off-a", url: server.url("/never-a"), format: "plain", enabled: false },
      { name: "off-b", url: server.url("/never-b"), format: "plain", enabled: false },
    ]);
    mkdirSync(join(space.directory, "data"));
    writeFileSync(space.output, "previous list");
    const result = await update(space);
    assert.equal(result.status, 2);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^repfilter: error: every feed in the feeds config \(.*\) is disabled; enable one, as in \{"name":"off-a","enabled":true\} under "feeds"; .* left unchanged\n$/);
    assert.equal(readFileSync(space.output, "utf8"), "previous list");
    assert.equal(server.count("/never-a"), 0);
  });

  it("rejects --schedule without --daemon", async () => {
    const space = workspace([{ name: "x", url: server.url("/never-scheduled"), format: "plain" }]);
    const result = await update(space, ["--schedule", "0 * * * *"]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /^repfilter: error: --schedule needs --daemon; add --daemon to update on that schedule, or drop --schedule for a single update\n/);
    assert.equal(result.stdout, "");
    assert.equal(server.count("/never-scheduled"), 0);
  });

  it("prints its help with the exit statuses", async () => {
    const result = await runCli(["update", "--help"]);
    assert.equal(result.status, 0);
    assert.equal(result.stderr, "");
    assert.match(result.stdout, /^Usage: repfilter update \[options\]/);
    assert.match(result.stdout, /Exit status: 0 when the list was written/);
    assert.match(result.stdout, /2 when nothing was written: no feed is enabled/);
  });

  it("reports an invalid config in one line", async () => {
    const directory = temporaryDirectory();
    const config = join(directory, "feeds.json");
    writeFileSync(config, JSON.stringify({ includeDefaultFeeds: false, feeds: [{ name: "x", url: "ftp://192.0.2.1/list", format: "plain" }] }));
    const result = await runCli(["update", "--config", config, "--output", join(directory, "list.bin")]);
    assert.equal(result.status, 2);
    assert.equal(result.stderr, `repfilter: error: feeds config ${config}: feeds[0] (x).url: expected an http:// or https:// URL, got "ftp://192.0.2.1/list"\n`);
  });

  it("reports a missing config file", async () => {
    const directory = temporaryDirectory();
    const result = await runCli(["update", "--config", join(directory, "nope.json"), "--output", join(directory, "list.bin")]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /^repfilter: error: feeds config .*nope\.json: cannot read it \(no such file\)\n$/);
  });
});
