// The compile command: text lists in, one blocklist file out.

import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { addressCount, buildBlocklist, type SourceEntries } from "../blocklist/build.js";
import { encodeBlocklist } from "../blocklist/format.js";
import { decodeListText, ListFormatError, parseTextList, type ParsedList } from "../lists/text-list.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { Diagnostics } from "./diagnostics.js";
import type { ScanIO } from "./scan.js";

export interface CompileOptions {
  output: string;
  /** Source names for the files, in order; missing ones default to the file name. */
  names: string[];
}

/** Source names appear in alert lines, so they are restricted to characters that need no quoting. */
const SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Rejected lines shown per file; the rest are only counted. */
const SHOWN_REJECTS = 5;

/** Returns the default source name of a list file: its name without the extension. */
export function defaultSourceName(path: string): string {
  if (path === "-") return "stdin";
  const name = basename(path);
  const extension = extname(name);
  return extension.length > 0 && extension.length < name.length ? name.slice(0, -extension.length) : name;
}

export async function runCompile(files: string[], options: CompileOptions, io: Pick<ScanIO, "stdin" | "stderr" | "env">): Promise<number> {
  const diagnostics = new Diagnostics(io.stderr);
  if (options.names.length > files.length) {
    diagnostics.error(`${options.names.length} --name values for ${files.length} files; give at most one name per file`);
    return 2;
  }
  const sources: SourceEntries[] = [];
  let entryCount = 0;
  for (const [index, file] of files.entries()) {
    const name = options.names[index] ?? defaultSourceName(file);
    if (!SOURCE_NAME.test(name)) {
      diagnostics.error(`source name "${name}" for ${file} is invalid; use 1-64 letters, digits, '.', '_' or '-' (set it with --name)`);
      return 2;
    }
    if (sources.some((source) => source.name === name)) {
      diagnostics.error(`source name "${name}" is used twice; give each file its own --name`);
      return 2;
    }
    const parsed = await readList(file, io, diagnostics);
    if (parsed === undefined) return 2;
    reportList(file, parsed, diagnostics);
    if (parsed.entries.length === 0 && parsed.rejected.length > 0) {
      diagnostics.error(`${file}: no valid entries in ${parsed.rejected.length} lines; is this a list of addresses?`);
      return 2;
    }
    entryCount += parsed.entries.length;
    sources.push({ name, entries: parsed.entries });
  }

  const createdAt = buildTime(io.env);
  const list = buildBlocklist(sources, createdAt);
  try {
    await writeFileAtomic(options.output, encodeBlocklist(list));
  } catch (error) {
    diagnostics.error(`cannot write ${options.output}: ${(error as Error).message}`);
    return 2;
  }
  diagnostics.info(
    `wrote ${options.output}: ${list.starts.length} ranges (${addressCount(list)} addresses) ` +
      `from ${entryCount} entries in ${sources.length} sources`,
  );
  return 0;
}

async function readList(file: string, io: Pick<ScanIO, "stdin">, diagnostics: Diagnostics): Promise<ParsedList | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = file === "-" ? await readStream(io.stdin) : await readFile(file);
  } catch (error) {
    diagnostics.error(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    return undefined;
  }
  try {
    return parseTextList(decodeListText(bytes));
  } catch (error) {
    if (!(error instanceof ListFormatError)) throw error;
    diagnostics.error(`${file}: ${error.message}`);
    return undefined;
  }
}

async function readStream(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

function reportList(file: string, parsed: ParsedList, diagnostics: Diagnostics): void {
  if (parsed.rejected.length > 0) {
    diagnostics.warning(`${file}: ${parsed.rejected.length} invalid lines skipped`);
    for (const reject of parsed.rejected.slice(0, SHOWN_REJECTS)) {
      diagnostics.warning(`${file}:${reject.line}: ${reject.reason}: ${JSON.stringify(reject.text)}`);
    }
    if (parsed.rejected.length > SHOWN_REJECTS) {
      diagnostics.warning(`${file}: ${parsed.rejected.length - SHOWN_REJECTS} more invalid lines not shown`);
    }
  }
  if (parsed.ipv6Skipped > 0) diagnostics.info(`${file}: ${parsed.ipv6Skipped} IPv6 entries skipped (the list is IPv4-only)`);
  if (parsed.hostBitsMasked > 0) diagnostics.info(`${file}: ${parsed.hostBitsMasked} CIDR entries had host bits set; they were cleared`);
}

/** Uses $SOURCE_DATE_EPOCH (seconds) when set, so that builds can be reproduced byte for byte. */
function buildTime(env: ScanIO["env"]): number {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && /^[0-9]+$/.test(epoch)) return Number(epoch) * 1000;
  return Date.now();
}
