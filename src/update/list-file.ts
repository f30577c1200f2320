// Replacing the list file. The current file is first copied to PATH.prev. The
// new one is then written to a temporary file in the same directory, synced and
// renamed over PATH, so a reader gets the old list or the new one, never a mix.
// When PATH is a symbolic link, the file it points to is replaced and the link
// stays, as with cp or a shell redirection. A rename over the link itself
// would replace the link.

import { randomBytes } from "node:crypto";
import { copyFile, readlink, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { describeFileError } from "../util/file-errors.js";
import { writeFileAtomic } from "../util/atomic-write.js";

/** Links followed at most, as Linux's MAXSYMLINKS. */
const MAX_LINKS = 40;

export function previousListPath(path: string): string {
  return `${path}.prev`;
}

/** Follows symbolic links from `path` to the file they name, which need not exist yet. */
export async function resolveListPath(path: string): Promise<string> {
  let current = path;
  for (let links = 0; links <= MAX_LINKS; links++) {
    let target: string;
    try {
      target = await readlink(current);
    } catch {
      // EINVAL: not a link. ENOENT: nothing there yet. Other errors show up when the file is written.
      return current;
    }
    current = resolve(dirname(current), target);
  }
  throw Object.assign(new Error(`more than ${MAX_LINKS} symbolic links from ${path}`), { code: "ELOOP" });
}

/** Returns why the list cannot be written to `path` (a directory there), or undefined. */
export async function checkListPath(path: string): Promise<string | undefined> {
  let target: string;
  try {
    target = await resolveListPath(path);
    if (!(await stat(target)).isDirectory()) return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    return `cannot write the list to ${path}: ${describeFileError(error)}`;
  }
  return `cannot write the list to ${path}: it is a directory; pass -o with the list file's path, such as ${join(path, "blocklist.bin")}`;
}

/**
 * Writes `data` to `path`, or to the file it links to, atomically, and keeps the
 * file it replaces at PATH.prev next to it. Returns the path written and that of
 * the kept file, when there was one.
 */
export async function replaceListKeepingPrevious(path: string, data: Uint8Array): Promise<{ written: string; previous?: string }> {
  const target = await resolveListPath(path);
  const temporary = join(dirname(target), `.${basename(target)}.prev.${randomBytes(6).toString("hex")}.tmp`);
  let previous: string | undefined;
  try {
    await copyFile(target, temporary);
    await rename(temporary, previousListPath(target));
    previous = previousListPath(target);
  } catch (error) {
    await rm(temporary, { force: true });
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await writeFileAtomic(target, data);
  return previous !== undefined ? { written: target, previous } : { written: target };
}
