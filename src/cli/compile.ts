// The compile command: text lists in, one blocklist file out.

import { readFile, stat } from "node:fs/promises";
import { basename, dirname, extname } from "node:path";
import { addressCount, buildBlocklist, type SourceEntries } from "../blocklist/build.js";
import { encodeBlocklist } from "../blocklist/format.js";
import { isValidSourceName, SOURCE_NAME_RULE } from "../blocklist/source-name.js";
import { applyPolicy, checkJoinedEntries, createPolicy, type AddressRange, type PolicyRejection, type SafetyPolicy } from "../feeds/policy.js";
import { formatRange } from "../lists/ipv4.js";
import { decodeListText, ListFormatError, parseTextList, type ParsedList } from "../lists/text-list.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { describeFileError, displayName } from "../util/file-errors.js";
import { findSameFile } from "../util/same-file.js";
import { plural } from "../output/summary.js";
import { Diagnostics } from "./diagnostics.js";
import type { ScanIO } from "./scan.js";
import { quoteLine } from "../util/quote.js";

export interface CompileOptions {
  output: string;
  /** Source names for the files, in order; missing ones default to the file name. */
  names: string[];
  /** Apply the updater's default safety policy (false with --no-policy). */
  policy: boolean;
}

/** Rejected lines shown per file; the rest are only counted. */
const SHOWN_REJECTS = 5;
/**
 * Largest list file read. Public feeds are a few MB; a file this large is almost
 * surely something else, and reading it whole would need as much memory.
 */
const MAX_LIST_BYTES = 256 * 1024 * 1024;

/** Returns the default source name of a list file: its name without the extension. */
export function defaultSourceName(path: string): string {
  if (path === "-") return "stdin";
  const name = basename(path);
  const extension = extname(name);
  return extension.length > 0 && extension.length < name.length ? name.slice(0, -extension.length) : name;
}

export async function runCompile(files: string[], options: CompileOptions, io: Pick<ScanIO, "stdin" | "stdinFd" | "stderr" | "env">): Promise<number> {
  const diagnostics = new Diagnostics(io.stderr);
  if (options.names.length > files.length) {
    diagnostics.error(`${plural(options.names.length, "--name value")} for ${plural(files.length, "file")}; give at most one name per file`);
    return 2;
  }
  const overwritten = findSameFile(options.output, files, io.stdinFd);
  if (overwritten !== undefined) {
    const input = overwritten === "-" ? "stdin" : displayName(overwritten);
    diagnostics.error(`the output ${displayName(options.output)} is the input ${input}; write the list to another file`);
    return 2;
  }
  const policy = options.policy ? createPolicy() : undefined;
  const sources: SourceEntries[] = [];
  let entryCount = 0;
  for (const [index, file] of files.entries()) {
    const name = options.names[index] ?? defaultSourceName(file);
    if (!isValidSourceName(name)) {
      diagnostics.error(`source name ${JSON.stringify(name)} for ${displayName(file)} is invalid; use ${SOURCE_NAME_RULE} (set it with --name)`);
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
      diagnostics.error(`${file}: no valid entries in ${plural(parsed.rejected.length, "line")}; is this a list of addresses?`);
      return 2;
    }
    let entries = parsed.entries;
    if (policy !== undefined) {
      const checked = applyPolicy(entries, policy);
      reportUnsafe(file, checked.rejected, diagnostics);
      entries = checked.accepted;
      if (!checkJoined(file, entries, policy, options.output, diagnostics)) return 2;
    }
    if (entries.length === 0) diagnostics.warning(`${file}: no entries; source "${name}" will list nothing`);
    entryCount += entries.length;
    sources.push({ name, entries });
  }

  const createdAt = buildTime(io.env);
  const list = buildBlocklist(sources, createdAt);
  try {
    // Like tcpdump -w, a mistyped directory is an error rather than created.
    await writeFileAtomic(options.output, encodeBlocklist(list), { createDirectory: false });
  } catch (error) {
    const missingDirectory = (error as NodeJS.ErrnoException).code === "ENOENT";
    const problem = missingDirectory ? `the directory ${displayName(dirname(options.output))} does not exist; create it first` : describeFileError(error);
    diagnostics.error(`cannot write ${displayName(options.output)}: ${problem}`);
    return 2;
  }
  diagnostics.info(
    `wrote ${options.output}: ${plural(list.starts.length, "range")} (${plural(addressCount(list), "address", "addresses")}) ` +
      `from ${plural(entryCount, "entry", "entries")} in ${plural(sources.length, "source")}`,
  );
  if (list.starts.length === 0) diagnostics.warning(`${options.output} is empty: a scan with it never alerts`);
  return 0;
}

/** Reports the entries the safety policy rejected: the count, then the first few with their line numbers. */
function reportUnsafe(file: string, rejected: ReadonlyArray<PolicyRejection>, diagnostics: Diagnostics): void {
  if (rejected.length === 0) return;
  diagnostics.warning(`${file}: ${plural(rejected.length, "unsafe entry", "unsafe entries")} rejected by the safety policy (--no-policy keeps them)`);
  for (const rejection of rejected.slice(0, SHOWN_REJECTS)) {
    diagnostics.warning(`${file}:${rejection.line}: ${rejection.message}`);
  }
  if (rejected.length > SHOWN_REJECTS) {
    diagnostics.warning(`${file}: ${plural(rejected.length - SHOWN_REJECTS, "more unsafe entry", "more unsafe entries")} not shown`);
  }
}

/**
 * Checks one file's entries joined together, as `update` checks one feed: a file
 * that lists 12.0.0.0/8 and 13.0.0.0/8 lists 12.0.0.0/7. Entries of different
 * files may join, because each file is its own source. Reports each problem and
 * returns false when there is one.
 */
function checkJoined(file: string, entries: ReadonlyArray<AddressRange>, policy: SafetyPolicy, output: string, diagnostics: Diagnostics): boolean {
  const problems = checkJoinedEntries(entries, policy);
  if (problems.length === 0) return true;
  for (const problem of problems.slice(0, SHOWN_REJECTS)) diagnostics.error(`${file}: its entries together are unsafe: ${problem}`);
  diagnostics.error(`${output} not written; remove these ranges from ${file}, or pass --no-policy to write them anyway`);
  return false;
}

async function readList(file: string, io: Pick<ScanIO, "stdin">, diagnostics: Diagnostics): Promise<ParsedList | undefined> {
  let bytes: Uint8Array;
  try {
    if (file !== "-") {
      const size = (await stat(file)).size;
      if (size > MAX_LIST_BYTES) {
        diagnostics.error(`${file}: ${size} bytes is more than the ${MAX_LIST_BYTES}-byte maximum for a list; is it a list of addresses?`);
        return undefined;
      }
    }
    bytes = file === "-" ? await readStream(io.stdin) : await readFile(file);
  } catch (error) {
    diagnostics.error(`${file}: cannot read: ${describeFileError(error)}`);
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
  let total = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
    total += bytes.length;
    if (total > MAX_LIST_BYTES) throw new Error(`more than the ${MAX_LIST_BYTES}-byte maximum for a list`);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

function reportList(file: string, parsed: ParsedList, diagnostics: Diagnostics): void {
  if (parsed.rejected.length > 0) {
    diagnostics.warning(`${file}: ${plural(parsed.rejected.length, "invalid line")} skipped`);
    for (const reject of parsed.rejected.slice(0, SHOWN_REJECTS)) {
      diagnostics.warning(`${file}:${reject.line}: ${reject.reason}: ${quoteLine(reject.text)}`);
    }
    if (parsed.rejected.length > SHOWN_REJECTS) {
      diagnostics.warning(`${file}: ${parsed.rejected.length - SHOWN_REJECTS} more invalid lines not shown`);
    }
  }
  if (parsed.ipv6Skipped > 0) diagnostics.info(`${file}: ${plural(parsed.ipv6Skipped, "IPv6 entry", "IPv6 entries")} skipped (the list is IPv4-only)`);
  // A mask that clears host bits may widen an entry a lot (1.2.3.4/8 is 16M addresses), so show where.
  if (parsed.masked.length > 0) {
    diagnostics.warning(`${file}: ${plural(parsed.masked.length, "CIDR entry", "CIDR entries")} had host bits set; they were cleared`);
    for (const entry of parsed.masked.slice(0, SHOWN_REJECTS)) {
      diagnostics.warning(`${file}:${entry.line}: ${quoteLine(entry.text)} is read as ${formatRange(entry.first, entry.last)}`);
    }
  }
}

/** Uses $SOURCE_DATE_EPOCH (seconds) when set, so that builds can be reproduced byte for byte. */
function buildTime(env: ScanIO["env"]): number {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && /^[0-9]+$/.test(epoch)) return Number(epoch) * 1000;
  return Date.now();
}
