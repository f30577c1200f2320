// Running a fuzz worker under a watchdog: the worker posts a "case" message
// before each case, a "failure" message per broken invariant and a "done"
// message at the end. A case that runs past its time bound is reported as a
// hang and the worker is terminated (which interrupts WebAssembly too).

import { Worker } from "node:worker_threads";

export type WorkerMessage =
  | { type: "case"; index: number; description: string; bytes: number }
  | { type: "failure"; index: number; description: string; problem: string }
  | { type: "done"; cases: number; bytes: number; [figure: string]: number | string };

export interface FuzzRun {
  failures: string[];
  /** The worker's final message, or undefined when it hung or crashed. */
  done: Extract<WorkerMessage, { type: "done" }> | undefined;
  seconds: number;
}

export interface WatchdogLimits {
  /** Time any case may take. */
  baseCaseMs: number;
  /** Further time per MB of the case's input. */
  perMbMs: number;
}

/** Runs the worker at `url` with `workerData` and collects its failures. */
export async function runFuzzWorker(url: URL, workerData: unknown, limits: WatchdogLimits): Promise<FuzzRun> {
  const worker = new Worker(url, { workerData });
  const failures: string[] = [];
  let current = "(before the first case)";
  const started = performance.now();
  const done = await new Promise<FuzzRun["done"]>((resolve, reject) => {
    let watchdog: NodeJS.Timeout | undefined;
    const arm = (bytes: number): void => {
      clearTimeout(watchdog);
      const limit = limits.baseCaseMs + (limits.perMbMs * bytes) / 1e6;
      watchdog = setTimeout(() => {
        failures.push(`hang: ${current} ran longer than ${limit} ms`);
        void worker.terminate().then(() => resolve(undefined));
      }, limit);
    };
    arm(0);
    worker.on("message", (message: WorkerMessage) => {
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
  return { failures, done, seconds: (performance.now() - started) / 1000 };
}

/** Reads a non-negative integer from the environment, or returns `fallback`. */
export function numberFromEnvironment(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${text}"`);
  return value;
}
