// Running the real command line in a child process.

import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Blocklist } from "../../src/blocklist/build.js";
import { encodeBlocklist } from "../../src/blocklist/format.js";

export const BIN = fileURLToPath(new URL("../../../bin/repfilter.js", import.meta.url));
export const REPO = fileURLToPath(new URL("../../../", import.meta.url));

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  input?: Uint8Array | string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  timeoutMs?: number;
}

/** Runs `repfilter ARGS...`, feeding `input` on stdin, and collects its output. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? REPO,
      env: { ...process.env, XDG_DATA_HOME: undefined, REPFILTER_BLOCKLIST: undefined, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
    child.on("error", reject);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8") });
    });
    child.stdin.on("error", () => {}); // the child may exit before reading all input
    child.stdin.end(options.input ?? "");
  });
}

/** Creates a fresh temporary directory for one test. */
export function temporaryDirectory(): string {
  return mkdtempSync(join(tmpdir(), "repfilter-test-"));
}

/** Writes a blocklist file and returns its path. */
export function writeBlocklist(list: Blocklist, directory = temporaryDirectory()): string {
  const path = join(directory, "list.bin");
  writeFileSync(path, encodeBlocklist(list));
  return path;
}

/** Parses JSON alert lines. */
export function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
