// `repfilter update --daemon`: runs the update on a cron schedule (node-cron),
// never two at once, at start-up when the list is missing or older than one
// period, and once more when node-cron reports a missed run.
//
// node-cron 4 skips a run whose time passed while the event loop was blocked
// (more than its missedExecutionTolerance, 1 s by default) and only emits
// "execution:missed". With a daily schedule that would drop a day's update, so a
// missed run is caught up at once and the delay is logged.

import cron, { type ScheduledTask, type TaskContext } from "node-cron";
import { formatDuration, type UpdateLog } from "./log.js";
import { plural } from "../output/summary.js";
import type { UpdateReport } from "./run.js";

export { DEFAULT_SCHEDULE } from "./schedule.js";

export interface DaemonOptions {
  schedule: string;
  /** Runs one update; the signal aborts it when the daemon stops. */
  runUpdate: (signal: AbortSignal) => Promise<UpdateReport>;
  /** Returns the age of the current list in ms, or undefined when it is missing or invalid. */
  listAge: () => Promise<number | undefined>;
  log: UpdateLog;
  now?: () => number;
}

/** A schedule that node-cron cannot parse, or one that never fires; the message names the expression. */
export class ScheduleError extends Error {
  readonly code = "ERR_SCHEDULE";
}

export class UpdateDaemon {
  readonly #options: DaemonOptions;
  readonly #now: () => number;
  #task: ScheduledTask | undefined;
  #running: Promise<void> | undefined;
  #controller: AbortController | undefined;
  #runCount = 0;
  #stopped = false;

  constructor(options: DaemonOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const problem = checkSchedule(options.schedule);
    if (problem !== undefined) throw new ScheduleError(problem);
  }

  /** Schedules the runs and starts one at once when the list is missing or older than one period. */
  async start(): Promise<void> {
    const { log, schedule } = this.#options;
    const adapter = {
      info: (message: string) => log.info(`node-cron: ${message}`),
      warn: (message: string) => log.warning(`node-cron: ${message}`),
      error: (message: string | Error, error?: Error) => log.error(`node-cron: ${String(message)}${error !== undefined ? `: ${error.message}` : ""}`),
      debug: () => {},
    };
    this.#task = cron.schedule(schedule, (context) => this.#trigger("scheduled", context.date), { name: "repfilter-update", logger: adapter });
    this.#task.on("execution:missed", (context: TaskContext) => this.#catchUp(context));

    const period = this.periodMs();
    const next = this.#task.getNextRun();
    log.info(`daemon started: schedule "${schedule}", every ${formatDuration(period)}, next run at ${next?.toISOString() ?? "unknown"}`);
    const age = await this.#options.listAge();
    if (age === undefined) {
      this.#trigger("start-up: the list is missing or invalid");
    } else if (age > period) {
      this.#trigger(`start-up: the list is ${formatDuration(age)} old, older than one period`);
    }
  }

  /**
   * Returns the time between the next two runs in ms.
   * NOTE: for an irregular schedule (weekdays only) this is the next gap, not the longest.
   */
  periodMs(): number {
    const [first, second] = this.#task?.getNextRuns(2) ?? [];
    if (first === undefined || second === undefined) return 86_400_000;
    return second.getTime() - first.getTime();
  }

  /** The number of runs started so far. */
  get runCount(): number {
    return this.#runCount;
  }

  /** Stops scheduling, aborts a run in progress and waits for it to end. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#task?.destroy();
    if (this.#running !== undefined) {
      this.#options.log.info(`stopping: aborting update run ${this.#runCount}`);
      this.#controller?.abort();
      await this.#running;
    }
    this.#options.log.info("daemon stopped");
  }

  #catchUp(context: TaskContext): void {
    const delay = this.#now() - context.date.getTime();
    this.#options.log.warning(
      `the run scheduled for ${context.date.toISOString()} was missed by ${formatDuration(delay)} (the event loop was blocked); catching up now`,
    );
    this.#trigger("catch-up", context.date);
  }

  #trigger(reason: string, slot?: Date): void {
    const { log } = this.#options;
    if (this.#stopped) return;
    const when = slot !== undefined ? ` for ${slot.toISOString()}` : "";
    if (this.#running !== undefined) {
      log.warning(`${reason} run${when} skipped: update run ${this.#runCount} is still in progress`);
      return;
    }
    const id = ++this.#runCount;
    const controller = new AbortController();
    this.#controller = controller;
    const started = this.#now();
    log.info(`update run ${id} started (${reason})${when}`);
    this.#running = this.#options
      .runUpdate(controller.signal)
      .then((report) => log.info(`update run ${id} finished in ${formatDuration(this.#now() - started)}: ${describeReport(report)}`))
      .catch((error: unknown) => log.error(`update run ${id} failed: ${(error as Error).message}`))
      .finally(() => {
        this.#running = undefined;
      });
  }
}

const FIELD_NAMES: Record<string, string> = {
  second: "second",
  minute: "minute",
  hour: "hour",
  dayOfMonth: "day of month",
  month: "month",
  dayOfWeek: "day of week",
};

/** Returns why node-cron cannot run `schedule`, or undefined when it has a next run. */
export function checkSchedule(schedule: string): string | undefined {
  const expected = "expected 5 fields (minute hour day month weekday) or 6 with seconds first";
  let validation;
  try {
    validation = cron.validateDetailed(schedule);
  } catch (error) {
    return `invalid cron expression "${schedule}": ${(error as Error).message}; ${expected}`;
  }
  if (!validation.valid) {
    // node-cron 4.6 reports a day that no listed month has ("31 2") as an impossible day of month.
    if (validation.errors.some((error) => error.message.includes("impossible day of month"))) {
      const fields = schedule.trim().split(/\s+/);
      return `cron expression "${schedule}" never matches a date: no month in "${fields[fields.length - 2]}" has day "${fields[fields.length - 3]}"`;
    }
    const details = validation.errors.map((error) => {
      if (error.field in FIELD_NAMES) return `${FIELD_NAMES[error.field]} "${error.value}" is invalid`;
      return error.message.replace(/^expected 5 or 6 fields but got (\d+)$/, (_, count: string) => `it has ${plural(Number(count), "field")}`);
    });
    return `invalid cron expression "${schedule}": ${details.join(", ")}; ${expected}`;
  }
  // A valid expression can still never fire, such as day 1 and the second Monday
  // of a month: node-cron then finds no match in the 100 years it searches.
  const probe = cron.createTask(schedule, () => {});
  try {
    probe.getNextRuns(1);
  } catch {
    return `cron expression "${schedule}" never matches a date (node-cron found none in the next 100 years)`;
  } finally {
    void probe.destroy();
  }
  return undefined;
}

function describeReport(report: UpdateReport): string {
  const counts = new Map<string, number>();
  for (const outcome of report.outcomes) counts.set(outcome.status, (counts.get(outcome.status) ?? 0) + 1);
  const feeds = [...counts].map(([status, count]) => `${count} ${status}`).join(", ");
  const list = report.written ? `list written with ${plural(report.ranges ?? 0, "range")}` : "list left unchanged";
  return `exit status ${report.status}, ${list}; feeds: ${feeds || "none"}`;
}
