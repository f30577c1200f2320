// Replacing the list file. The current file is first copied to PATH.prev. The
// new one is then written to a temporary file in the same directory, synced and
// renamed over PATH, so a reader gets the old list or the new one, never a mix.

import { randomBytes } from "node:crypto";
import { copyFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { writeFileAtomic } from "../util/atomic-write.js";

export function previousListPath(path: string): string {
  return `${path}.prev`;
}

/** Writes `data` to `path` atomically and keeps the file it replaces at PATH.prev. Returns whether one was kept. */
export async function replaceListKeepingPrevious(path: string, data: Uint8Array): Promise<boolean> {
  const temporary = join(dirname(path), `.${basename(path)}.prev.${randomBytes(6).toString("hex")}.tmp`);
  let kept = false;
  try {
    await copyFile(path, temporary);
    await rename(temporary, previousListPath(path));
    kept = true;
  } catch (error) {
    await rm(temporary, { force: true });
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await writeFileAtomic(path, data);
  return kept;
}
