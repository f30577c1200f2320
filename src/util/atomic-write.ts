// Replacing a file so that readers see either the old or the new content, never a
// partial one: write a temporary file in the same directory, fsync it, rename it
// over the target, then fsync the directory so the rename survives a crash.

import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Replaces `path` with `data` atomically. Missing parent directories are created unless `createDirectory` is false. */
export async function writeFileAtomic(path: string, data: Uint8Array, options: { createDirectory?: boolean } = {}): Promise<void> {
  const directory = dirname(path);
  if (options.createDirectory !== false) await mkdir(directory, { recursive: true });
  const temporary = join(directory, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temporary, "wx", 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(directory);
}

async function syncDirectory(directory: string): Promise<void> {
  let handle;
  try {
    handle = await open(directory, "r");
    await handle.sync();
  } catch {
    // Some file systems cannot fsync a directory; the rename itself is still atomic.
  } finally {
    await handle?.close();
  }
}
