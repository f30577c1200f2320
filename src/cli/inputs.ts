// Reading one input into the scanner: a named file, or stdin (a file when
// redirected, a pipe or socket otherwise).

import { fstatSync, read } from "node:fs";
import { open } from "node:fs/promises";
import type { Scanner } from "../core/scanner.js";

export interface InputHooks {
  /** Called after each chunk is framed; resolves when its alerts are written. */
  afterChunk(bytesRead: number): Promise<void>;
  /** True when the run should stop reading (a signal, or stdout closed). */
  stopped(): boolean;
  /** The input's size in bytes when known (regular files), for progress. */
  setSize(bytes: number | undefined): void;
}

export type Readable = NodeJS.ReadableStream & { isTTY?: boolean; fd?: number };

/** Reads a named file by reading straight into the core's window. */
export async function readFileInput(path: string, scanner: Scanner, hooks: InputHooks): Promise<void> {
  const handle = await open(path, "r");
  try {
    const stats = await handle.stat();
    hooks.setSize(stats.isFile() ? stats.size : undefined);
    while (!hooks.stopped()) {
      const window = scanner.openWindow();
      const { bytesRead } = await handle.read(window, 0, window.length, null);
      if (bytesRead === 0) break;
      scanner.commit(bytesRead);
      await hooks.afterChunk(bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** Reads stdin: a redirected file like a named one, anything else as a stream. */
export async function readStdinInput(stdin: Readable, scanner: Scanner, hooks: InputHooks): Promise<void> {
  const fd = stdin.fd;
  if (fd !== undefined && isRegularFile(fd)) {
    hooks.setSize(fstatSync(fd).size);
    await readFdInput(fd, scanner, hooks);
    return;
  }
  hooks.setSize(undefined);
  for await (const chunk of stdin) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Uint8Array);
    scanner.write(bytes);
    await hooks.afterChunk(bytes.length);
    if (hooks.stopped()) break;
  }
}

function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

async function readFdInput(fd: number, scanner: Scanner, hooks: InputHooks): Promise<void> {
  while (!hooks.stopped()) {
    const window = scanner.openWindow();
    const bytesRead = await new Promise<number>((resolve, reject) => {
      read(fd, window, 0, window.length, null, (error, count) => (error ? reject(error) : resolve(count)));
    });
    if (bytesRead === 0) break;
    scanner.commit(bytesRead);
    await hooks.afterChunk(bytesRead);
  }
}
