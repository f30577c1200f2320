// Telling whether an output path names one of the inputs, so that opening the
// output for writing cannot truncate or replace a file before it is read.

import { fstatSync, statSync, type Stats } from "node:fs";
import { resolve } from "node:path";

function statOrUndefined(read: () => Stats): Stats | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function sameIdentity(a: Stats | undefined, b: Stats | undefined): boolean {
  return a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;
}

/**
 * Returns the first of `inputs` that is the same file as `output`: the same
 * absolute path, or the same device and inode when both exist, which also
 * matches hard and symbolic links. "-" in `inputs` is stdin, compared through
 * `stdinFd` when it is given. A character device never matches.
 */
export function findSameFile(output: string, inputs: ReadonlyArray<string>, stdinFd?: number): string | undefined {
  const outputStats = statOrUndefined(() => statSync(output));
  // Opening a device such as /dev/null for writing changes nothing that is read.
  if (outputStats?.isCharacterDevice() === true) return undefined;
  const outputPath = resolve(output);
  return inputs.find((input) => {
    if (input === "-") return stdinFd !== undefined && sameIdentity(outputStats, statOrUndefined(() => fstatSync(stdinFd)));
    return resolve(input) === outputPath || sameIdentity(outputStats, statOrUndefined(() => statSync(input)));
  });
}

/** Returns the stats of `path` when it is the same file as the open descriptor `fd`. */
export function sameFileAsDescriptor(path: string, fd: number): Stats | undefined {
  const pathStats = statOrUndefined(() => statSync(path));
  const fdStats = statOrUndefined(() => fstatSync(fd));
  return sameIdentity(pathStats, fdStats) ? fdStats : undefined;
}
