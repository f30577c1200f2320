// `repfilter update --daemon`: the schedule, no overlapping runs, the start-up
// run, catching up a run that node-cron missed, and a clean stop on SIGTERM.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { decodeBlocklist } from "../src/blocklist/format.js";
import { checkSchedule, UpdateDaemon } from "../src/update/daemon.js";
import type { UpdateLog } from "../src/update/log.js";
import type { UpdateReport } from "../src/update/run.js";
import { BIN, REPO, runCli, temporaryDirectory } from "./helpers/cli.js";
import { delayed, FeedServer, serve } from "./helpers/feed-server.js";

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

const EMPTY_REPORT: UpdateReport = { outcomes: [], status: 0, written: true, ranges: 1 };

/** Blocks the event loop, as a long synchronous parse would. */
function blockEventLoop(untilMs: number): void {
  while (Date.now() < untilMs) {
    // busy wait on purpose
  }
}

describe("update daemon", () => {
  it("catches up a run missed while the event loop was blocked", async () => {
    // A schedule that matches one second of the day, about 2 s from now: a missed
    // run would otherwise wait until tomorrow.
    const target = new Date(Math.ceil((Date.now() + 2000) / 1000) * 1000);
    const schedule = `${target.getSeconds()} ${target.getMinutes()} ${target.getHours()} * * *`;
    const log = new CollectingLog();
    let runs = 0;
    const daemon = new UpdateDaemon({
      schedule,
      runUpdate: async () => {
        runs++;
        return EMPTY_REPORT;
      },
      listAge: async () => 0,
      log,
    });
    await daemon.start();
    assert.equal(runs, 0, "no start-up run for a fresh list");

    blockEventLoop(target.getTime() + 2500);
    await sleep(300);
    await daemon.stop();

    assert.equal(runs, 1, log.lines.join("\n"));
    assert.ok(log.lines.some((line) => /^warning: the run scheduled for .* was missed by \d s \(the event loop was blocked\); catching up now$/.test(line)), log.lines.join("\n"));
    assert.ok(log.lines.some((line) => /^update run 1 started \(catch-up\) for /.test(line)), log.lines.join("\n"));
  });

  it("runs at start-up when the list is missing or old", async () => {
    for (const age of [undefined, 2 * 86_400_000]) {
      const log = new CollectingLog();
      let runs = 0;
      const daemon = new UpdateDaemon({
        schedule: "17 4 * * *",
        runUpdate: async () => {
          runs++;
          return EMPTY_REPORT;
        },
        listAge: async () => age,
        log,
      });
      await daemon.start();
      await daemon.stop();
      assert.equal(runs, 1, log.lines.join("\n"));
      assert.match(log.lines.find((line) => line.startsWith("update run 1 started")) ?? "", /start-up: the list is (missing or invalid|2 d old, older than one period)/);
    }
  });

  it("rejects an invalid schedule", async () => {
    const directory = temporaryDirectory();
    const config = join(directory, "feeds.json");
    writeFileSync(config, JSON.stringify({ includeDefaultFeeds: false, feeds: [{ name: "x", url: "http://127.0.0.1:9/x", format: "plain" }] }));
    const result = await runCli(["update", "--daemon", "--schedule", "every day", "--config", config, "--output", join(directory, "list.bin")]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /error: invalid cron expression "every day": it has 2 fields; expected 5 fields/);
  });

  it("explains schedules that never fire or are invalid", () => {
    const cases: Array<[string, string | undefined]> = [
      ["17 4 * * *", undefined],
      ["0 0 29 2 *", undefined],
      ["0 0 31 2 *", 'cron expression "0 0 31 2 *" never matches a date: no month in "2" has day "31"'],
      ["0 0 31 4,6 *", 'cron expression "0 0 31 4,6 *" never matches a date: no month in "4,6" has day "31"'],
      ["0 0 1 * 1#2", 'cron expression "0 0 1 * 1#2" never matches a date (node-cron found none in the next 100 years)'],
      ["0 0 * * 1#6", 'invalid cron expression "0 0 * * 1#6": day of week "1#6" is invalid; expected 5 fields (minute hour day month weekday) or 6 with seconds first'],
      ["0 25 * * *", 'invalid cron expression "0 25 * * *": hour "25" is invalid; expected 5 fields (minute hour day month weekday) or 6 with seconds first'],
    ];
    for (const [schedule, message] of cases) assert.equal(checkSchedule(schedule), message, schedule);
  });

  it("rejects a schedule that never fires", async () => {
    const directory = temporaryDirectory();
    const config = join(directory, "feeds.json");
    writeFileSync(config, JSON.stringify({ includeDefaultFeeds: false, feeds: [{ name: "x", url: "http://127.0.0.1:9/x", format: "plain" }] }));
    const result = await runCli(["update", "--daemon", "--schedule", "0 0 31 2 *", "--config", config, "--output", join(directory, "list.bin")]);
    assert.equal(result.status, 2);
    assert.equal(result.stderr.replace(/^\S+ /, ""), 'repfilter: error: cron expression "0 0 31 2 *" never matches a date: no month in "2" has day "31"\n');
  });

  describe("with a slow feed server", () => {
    const server = new FeedServer();
    before(() => server.start());
    after(() => server.close());

    it("never overlaps runs and stops on SIGTERM", async () => {
      server.route("/slow-list.txt", delayed(1500, serve("192.0.2.1\n198.51.100.0/24\n")));
      const directory = temporaryDirectory();
      const config = join(directory, "feeds.json");
      const output = join(directory, "blocklist.bin");
      writeFileSync(
        config,
        JSON.stringify({ includeDefaultFeeds: false, feeds: [{ name: "slow", url: server.url("/slow-list.txt"), format: "plain" }], fetch: { retries: 0 } }),
      );
      const child = spawn(process.execPath, [BIN, "update", "--daemon", "--schedule", "* * * * * *", "--config", config, "--output", output, "--state-dir", join(directory, "state")], {
        cwd: REPO,
        env: { ...process.env, XDG_CONFIG_HOME: directory },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      let stdout = "";
      child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
      child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
      const count = (pattern: RegExp): number => stderr.match(new RegExp(pattern, "g"))?.length ?? 0;

      const deadline = Date.now() + 30_000;
      while (count(/update run \d+ finished/) < 2 || count(/update run \d+ started/) <= count(/update run \d+ finished/)) {
        assert.ok(Date.now() < deadline, `timed out; stderr:\n${stderr}`);
        await sleep(50);
      }
      child.kill("SIGTERM");
      const [status] = (await once(child, "close")) as [number | null];

      assert.equal(status, 0, stderr);
      assert.equal(server.maxActive, 1);
      const events = stderr.split("\n").flatMap((line) => {
        const match = / update run (\d+) (started|finished)/.exec(line);
        return match !== null ? [`${match[2]} ${match[1]}`] : [];
      });
      for (let i = 0; i < events.length; i += 2) {
        const run = events[i]!.split(" ")[1];
        assert.equal(events[i], `started ${run}`, stderr);
        if (i + 1 < events.length) assert.equal(events[i + 1], `finished ${run}`, stderr);
      }
      assert.match(stderr, /^\d{4}-\d\d-\d\dT[\d:.]+Z repfilter: daemon started: schedule "\* \* \* \* \* \*", every 1 s/m);
      assert.match(stderr, /update run 1 started \(start-up: the list is missing or invalid\)/);
      assert.match(stderr, /scheduled run for .* skipped: update run \d+ is still in progress/);
      assert.match(stderr, /stopping: aborting update run \d+/);
      assert.match(stderr, /repfilter: daemon stopped\n$/);
      assert.match(stdout, /^FEED +STATUS/m);
      assert.equal(decodeBlocklist(readFileSync(output), output).starts.length, 2);
    });
  });
});
