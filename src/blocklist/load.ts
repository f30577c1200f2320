// Finding and loading the blocklist file.

import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Blocklist } from "./build.js";
import { describeFileError } from "../util/file-errors.js";
import { BlocklistError, decodeBlocklist } from "./format.js";

export type Environment = Readonly<Record<string, string | undefined>>;

/** Returns the standard data location: $XDG_DATA_HOME/repfilter/blocklist.bin, else ~/.local/share/... */
export function defaultBlocklistPath(env: Environment): string {
  const dataHome = env.XDG_DATA_HOME !== undefined && env.XDG_DATA_HOME !== "" ? env.XDG_DATA_HOME : join(env.HOME ?? homedir(), ".local", "share");
  return join(dataHome, "repfilter", "blocklist.bin");
}

/** Picks the list path: the option, else $REPFILTER_BLOCKLIST, else the standard location. */
export function resolveBlocklistPath(option: string | undefined, env: Environment): string {
  if (option !== undefined && option !== "") return option;
  const fromEnv = env.REPFILTER_BLOCKLIST;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  return defaultBlocklistPath(env);
}

/** Reads and validates a blocklist file. Throws BlocklistError with a message naming the file. */
export async function loadBlocklist(path: string): Promise<Blocklist> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new BlocklistError(
        "ERR_BLOCKLIST_MISSING",
        `no blocklist at ${path}; build one with \`repfilter compile LIST.txt -o ${path}\` or \`repfilter update\`, or pass --blocklist PATH`,
      );
    }
    throw new BlocklistError("ERR_BLOCKLIST_READ", `${path}: cannot read the blocklist (${describeFileError(error)})`);
  }
  return decodeBlocklist(bytes, path);
}
