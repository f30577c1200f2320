// The update command: download the feeds, rebuild the list, print a per-feed
// table; or, with --daemon, do that on a schedule until SIGTERM.

import { readFile } from "node:fs/promises";
import { decodeBlocklist } from "../blocklist/format.js";
import { resolveBlocklistPath } from "../blocklist/load.js";
import { ConfigError, loadFeedsConfig, type UpdateConfig } from "../feeds/config.js";
import { RangeFileError, readRangeFile } from "../lists/range-file.js";
import { DEFAULT_SCHEDULE, ScheduleError, UpdateDaemon } from "../update/daemon.js";
import { TimestampedLog, type UpdateLog } from "../update/log.js";
import { formatFeedTable } from "../update/report.js";
import { runUpdate } from "../update/run.js";
import { defaultStateDirectory } from "../update/state.js";
import { Diagnostics } from "./diagnostics.js";
import type { ScanIO } from "./scan.js";

export interface UpdateCommandOptions {
  config?: string;
  output?: string;
  stateDir?: string;
  /** Allowlist files: text lists of ranges that must never alert. */
  allow: string[];
  daemon: boolean;
  schedule?: string;
}

export async function runUpdateCommand(options: UpdateCommandOptions, io: ScanIO): Promise<number> {
  const log: UpdateLog = options.daemon ? new TimestampedLog(io.stderr) : new Diagnostics(io.stderr);
  let config: UpdateConfig;
  try {
    config = await loadFeedsConfig(options.config, io.env);
    for (const file of options.allow) config.allowlist.push(...(await readAllowFile(file)));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log.error(error.message);
    return 2;
  }
  const output = options.output ?? resolveBlocklistPath(undefined, io.env);
  const stateDirectory = options.stateDir ?? defaultStateDirectory(io.env);
  const runOnce = async (signal?: AbortSignal) => {
    const report = await runUpdate({ config, output, stateDirectory, log, ...(signal !== undefined ? { signal } : {}) });
    // A run that stopped before any feed (no feed enabled, an invalid -o) has no
    // rows, and its log line gives the reason.
    if (report.outcomes.length > 0) io.stdout.write(formatFeedTable(report.outcomes));
    return report;
  };

  if (!options.daemon) return (await runOnce()).status;

  let daemon: UpdateDaemon;
  try {
    daemon = new UpdateDaemon({ schedule: options.schedule ?? DEFAULT_SCHEDULE, runUpdate: runOnce, listAge: () => listAge(output), log });
  } catch (error) {
    if (!(error instanceof ScheduleError)) throw error;
    log.error(error.message);
    return 2;
  }
  await daemon.start();
  await waitForStopSignal(io);
  await daemon.stop();
  return 0;
}

/** Reads an allowlist file: one address, CIDR block or range per line, as `compile` reads lists. */
async function readAllowFile(file: string): Promise<Array<{ first: number; last: number }>> {
  try {
    return await readRangeFile(file, "--allow");
  } catch (error) {
    if (error instanceof RangeFileError) throw new ConfigError(error.message);
    throw error;
  }
}

/** Returns the list's age from its build time, or undefined when it is missing or invalid. */
async function listAge(path: string): Promise<number | undefined> {
  try {
    return Date.now() - decodeBlocklist(await readFile(path), path).createdAt;
  } catch {
    return undefined;
  }
}

/** Resolves on SIGTERM or SIGINT when the real command line installed handlers, else never. */
function waitForStopSignal(io: ScanIO): Promise<void> {
  return new Promise((resolve) => {
    if (io.handleSignals !== true) return;
    const stop = (): void => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      resolve();
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}
