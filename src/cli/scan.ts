// The scan command: read captures, print an alert line per blocklisted packet,
// and finish with a summary on stderr.

import { Writable } from "node:stream";
import { isatty } from "node:tty";
import type { Blocklist } from "../blocklist/build.js";
import { BlocklistError } from "../blocklist/format.js";
import { closeBlocklist, loadBlocklist, resolveBlocklistPath, type Environment } from "../blocklist/load.js";
import { Counter, ERR_EMPTY, NOTICE_LINKTYPE, NOTICE_UNSUPPORTED_LINKTYPE } from "../core/abi.js";
import { CaptureError } from "../core/capture-error.js";
import type { HitBatch } from "../core/hits.js";
import { Scanner } from "../core/scanner.js";
import { AlertFormatter, ListLabels, type AlertFormat } from "../output/alerts.js";
import { AllowFilter } from "../output/allow.js";
import type { HomeNet } from "../output/direction.js";
import type { EvidenceWriter } from "../pcap/evidence.js";
import { RangeFileError, readRangeFile } from "../lists/range-file.js";
import { ByteBuilder } from "../output/byte-builder.js";
import { describeLinkType } from "../output/linktypes.js";
import { formatBytes, formatCount, plural, summaryLines } from "../output/summary.js";
import { LineWriter } from "../output/writer.js";
import { describeFileError, displayName } from "../util/file-errors.js";
import { findSameFile, sameFileAsDescriptor } from "../util/same-file.js";
import { Diagnostics } from "./diagnostics.js";
import { GzipError, readFileInput, readStdinInput, type Readable, type StdinSource } from "./inputs.js";
import { ListReloader } from "./reload.js";

export interface ScanIO {
  /** The stdin stream; the real command passes a getter so it is created only when used. */
  stdin: Readable;
  /** A descriptor for stdin that may be read directly (0 in the real command). */
  stdinFd?: number;
  /** The descriptor behind `stdout` (1 in the real command), to tell whether a path names it. */
  stdoutFd?: number;
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  env: Environment;
  /** Install SIGINT and SIGTERM handlers (the real command line does). */
  handleSignals?: boolean;
}

export interface ScanOptions {
  blocklist?: string;
  format: AlertFormat;
  dedupSeconds: number;
  quiet: boolean;
  progress: boolean;
  /** Adds each alert's direction relative to this network. */
  homeNet?: HomeNet;
  /** Text lists of listed addresses that must not alert. */
  allow?: string[];
  /** Evidence file for every matched packet; "-" writes it to stdout in place of the alerts. */
  writePcap?: string;
  /** Entries of the names table; 0 turns name tracking off (default DEFAULT_NAMES_TABLE_ENTRIES). */
  namesTableEntries?: number;
}

/** The allowlist and the evidence file, which a scan sets up before it reads. */
interface ScanExtras {
  allow?: AllowFilter;
  evidence?: EvidenceWriter;
}

const PROGRESS_INTERVAL_MS = 250;

/** The list a session starts with: no ranges, so no packet alerts before the first list is in. */
const EMPTY_LIST: Blocklist = {
  createdAt: 0,
  sources: [],
  sets: [],
  starts: new Uint32Array(0),
  ends: new Uint32Array(0),
  setIds: new Uint32Array(0),
};

/** Runs a scan and returns the exit status: 0 alerts printed, 1 none, 2 an error. */
export async function runScan(files: string[], options: ScanOptions, io: ScanIO): Promise<number> {
  const diagnostics = new Diagnostics(io.stderr);
  const listPath = resolveBlocklistPath(options.blocklist, io.env);
  const inputs = files.length > 0 ? files : ["-"];
  if (options.writePcap !== undefined) {
    const problem = checkEvidencePath(options.writePcap, inputs, [listPath, ...(options.allow ?? [])], io);
    if (problem !== undefined) {
      diagnostics.error(problem);
      return 2;
    }
  }
  const extras = await prepareExtras(options, io, diagnostics);
  if (extras === undefined) return 2;
  const session = new ScanSession(options, io, diagnostics, extras);
  try {
    session.replaceList(await session.loadList(listPath));
  } catch (error) {
    if (!(error instanceof BlocklistError)) throw error;
    diagnostics.error(error.message);
    await extras.evidence?.close();
    return 2;
  }
  const reloader = new ListReloader({
    path: listPath,
    diagnostics,
    load: (path) => session.loadList(path),
    apply: (next) => session.replaceList(next),
    signals: io.handleSignals === true,
  });
  reloader.start();
  try {
    return await session.run(inputs);
  } finally {
    await reloader.stop();
    session.close();
  }
}

/**
 * Returns why the evidence path cannot be used, or undefined. Opening it
 * truncates it, so it must not be a file the run reads, and a pcap on the stdout
 * of the alerts would mix binary data into text lines.
 */
function checkEvidencePath(path: string, inputs: ReadonlyArray<string>, lists: ReadonlyArray<string>, io: ScanIO): string | undefined {
  const terminal = io.stdoutFd !== undefined ? isatty(io.stdoutFd) : io.stdout.isTTY === true;
  if (path === "-") {
    return terminal ? "--write-pcap - writes a capture to stdout, which is a terminal; redirect stdout to a file or pipe it to a reader such as tshark -r -" : undefined;
  }
  const name = displayName(path);
  const input = findSameFile(path, inputs, io.stdinFd);
  if (input !== undefined) {
    return `the evidence file ${name} is the input ${input === "-" ? "stdin" : displayName(input)}, which writing it would destroy; name another file for --write-pcap`;
  }
  const list = findSameFile(path, lists);
  if (list !== undefined) return `the evidence file ${name} is the list ${displayName(list)}, which writing it would destroy; name another file for --write-pcap`;
  const stdout = io.stdoutFd !== undefined ? sameFileAsDescriptor(path, io.stdoutFd) : undefined;
  // /dev/null as both stdout and evidence mixes nothing.
  if (stdout !== undefined && (!stdout.isCharacterDevice() || terminal)) {
    return `the evidence file ${name} is stdout, where the alerts go; use --write-pcap - to write the packets to stdout in place of the alerts`;
  }
  return undefined;
}

/** Reads the allowlists and opens the evidence file; reports a failure and returns undefined. */
async function prepareExtras(options: ScanOptions, io: ScanIO, diagnostics: Diagnostics): Promise<ScanExtras | undefined> {
  const extras: ScanExtras = {};
  if (options.allow !== undefined && options.allow.length > 0) {
    const ranges: Array<{ first: number; last: number }> = [];
    try {
      for (const file of options.allow) ranges.push(...(await readRangeFile(file, "--allow")));
    } catch (error) {
      if (!(error instanceof RangeFileError)) throw error;
      diagnostics.error(error.message);
      return undefined;
    }
    extras.allow = new AllowFilter(ranges);
  }
  if (options.writePcap !== undefined) {
    try {
      // Loaded on demand: most scans write no evidence.
      const { EvidenceWriter } = await import("../pcap/evidence.js");
      extras.evidence = options.writePcap === "-" ? EvidenceWriter.toStream(io.stdout) : await EvidenceWriter.open(options.writePcap);
    } catch (error) {
      diagnostics.error(`cannot create the evidence file ${options.writePcap}: ${describeFileError(error)}`);
      return undefined;
    }
  }
  return extras;
}

class ScanSession {
  readonly #options: ScanOptions;
  readonly #io: ScanIO;
  readonly #diagnostics: Diagnostics;
  readonly #scanner: Scanner;
  readonly #formatter: AlertFormatter;
  readonly #writer: LineWriter;
  readonly #output = new ByteBuilder();
  readonly #allow: AllowFilter | undefined;
  readonly #evidence: EvidenceWriter | undefined;
  /** The list the core probes; empty until `replaceList` installs the first one. */
  #list: Blocklist = EMPTY_LIST;
  #printed = 0;
  #inputBytes = 0;
  #inputName = "";
  #inputSize: number | undefined;
  #inputRead = 0;
  #stopRequested = false;
  /** The signal that stopped the run, if one did. */
  #stopSignal: NodeJS.Signals | undefined;
  /** Inputs opened, so that a run whose every input failed to open prints no summary. */
  #opened = 0;
  #resolveStopping: () => void = () => {};
  readonly #stopping = new Promise<void>((resolve) => {
    this.#resolveStopping = resolve;
  });
  #started = 0;

  constructor(options: ScanOptions, io: ScanIO, diagnostics: Diagnostics, extras: ScanExtras = {}) {
    this.#options = options;
    this.#io = io;
    this.#diagnostics = diagnostics;
    const list = this.#list;
    this.#allow = extras.allow;
    this.#evidence = extras.evidence;
    // With --write-pcap - the capture takes stdout, and the alert lines are dropped.
    this.#writer = new LineWriter(options.writePcap === "-" ? discardingStream() : io.stdout);
    this.#formatter = new AlertFormatter(options.format, new ListLabels(list), {
      ...(options.homeNet !== undefined ? { homeNet: options.homeNet } : {}),
      ...(extras.allow !== undefined ? { allow: extras.allow } : {}),
    });
    this.#scanner = new Scanner(
      {
        dedupSeconds: options.dedupSeconds,
        // The evidence file gets the suppressed repeats too.
        returnSuppressed: extras.evidence !== undefined,
        ...(options.namesTableEntries !== undefined ? { namesTableEntries: options.namesTableEntries } : {}),
      },
      {
        hits: (batch) => {
          this.#printed += this.#formatter.formatBatch(batch, this.#output);
          if (this.#evidence !== undefined) this.#collectEvidence(batch, this.#evidence);
        },
        notice: (kind, value) => this.#notice(kind, value),
      },
    );
  }

  /**
   * Reads and validates a list file straight into the core's memory, so that a
   * large list is held once. Throws BlocklistError. Install it with `replaceList`.
   */
  async loadList(path: string): Promise<Blocklist> {
    const list = await loadBlocklist(path, { rangesBody: (length) => this.#scanner.reserveRangeSection(length) });
    return this.#scanner.adoptList(list);
  }

  /**
   * Installs a new list. The core swaps tables at its next chunk boundary, and the
   * alert labels switch in the same step, so hits from the old table are
   * formatted with the old labels and hits from the new one with the new.
   */
  replaceList(list: Blocklist): void {
    this.#scanner.setRanges(list, () => {
      const previous = this.#list;
      this.#list = list;
      this.#formatter.labels = new ListLabels(list);
      closeBlocklist(previous);
    });
  }

  /** Releases the list's file. */
  close(): void {
    closeBlocklist(this.#list);
  }

  #collectEvidence(batch: HitBatch, evidence: EvidenceWriter): void {
    for (let i = 0; i < batch.count; i++) {
      const hit = batch.at(i);
      if (this.#allow !== undefined && this.#allow.listedSides(batch, hit, this.#list) === 0) continue;
      evidence.add(batch, hit);
    }
  }

  async run(inputs: string[]): Promise<number> {
    this.#started = performance.now();
    const removeSignals = this.#io.handleSignals === true ? this.#installSignalHandlers() : () => {};
    const progress = this.#startProgress();
    try {
      for (const input of inputs) {
        if (this.#stopped()) break;
        await this.#scanInput(input, inputs.length > 1);
      }
    } finally {
      clearInterval(progress);
      this.#diagnostics.clearStatus();
      removeSignals();
    }
    if (this.#evidence !== undefined) await this.#evidence.close();
    if (this.#writer.failure !== undefined) {
      this.#diagnostics.error(`cannot write alerts: ${this.#writer.failure.message}`);
    }
    // A reader of --write-pcap - that exits early closes stdout too, which ends the run quietly below.
    const stdoutClosed = (this.#writer.closed && this.#writer.failure === undefined) || this.#evidence?.readerClosed === true;
    if (this.#evidence?.failure !== undefined && this.#evidence.readerClosed !== true) {
      const name = this.#evidence.path === "-" ? "on stdout" : displayName(this.#evidence.path);
      this.#diagnostics.error(`cannot write the evidence file ${name}: ${describeFileError(this.#evidence.failure)}`);
    }
    const readFailure = this.#list.entries?.readFailure;
    if (readFailure !== undefined) this.#diagnostics.warning(`cannot read the source entries of the blocklist (${readFailure.message}); alerts named table ranges instead`);
    const status = this.#diagnostics.errors > 0 ? 2 : this.#printed > 0 ? 0 : 1;
    // A closed stdout ends the run quietly, as SIGPIPE would end tcpdump or grep.
    if (stdoutClosed) return status;
    if (!this.#options.quiet && this.#opened > 0) this.#printSummary();
    if (this.#stopSignal !== undefined) {
      this.#diagnostics.info(`interrupted by ${this.#stopSignal}; the summary covers the packets read until then`);
      // 128 + the signal number, as a shell reports a command killed by it.
      return this.#stopSignal === "SIGINT" ? 130 : 143;
    }
    return status;
  }

  async #scanInput(input: string, several: boolean): Promise<void> {
    const isStdin = input === "-";
    this.#inputName = isStdin ? "stdin" : displayName(input);
    this.#inputSize = undefined;
    this.#inputRead = 0;
    this.#formatter.setContext({
      ...(isStdin ? {} : { filename: input }),
      ...(several ? { prefix: `${this.#inputName}: ` } : {}),
    });
    if (isStdin && this.#stdinIsTerminal()) {
      this.#diagnostics.error("stdin is a terminal; pipe a capture in (tcpdump -w - ... | repfilter) or name a file");
      return;
    }
    const before = this.#scanner.counters();
    this.#scanner.beginInput();
    this.#evidence?.beginInput();
    const hooks = {
      counted: (bytesRead: number) => {
        this.#opened = Math.max(this.#opened, 1);
        this.#inputBytes += bytesRead;
        this.#inputRead += bytesRead;
      },
      afterChunk: () => this.#flush(),
      stopped: () => this.#stopped(),
      stopping: this.#stopping,
      setSize: (bytes: number | undefined) => {
        this.#opened++;
        this.#inputSize = bytes;
      },
      warning: (message: string) => this.#diagnostics.warning(`${this.#inputName}: ${message}`),
    };
    try {
      if (isStdin) await readStdinInput(this.#stdinSource(), this.#scanner, hooks);
      else await readFileInput(input, this.#scanner, hooks);
      if (this.#stopped()) return;
      const end = this.#scanner.end();
      if (end.truncated !== undefined) this.#diagnostics.warning(`${this.#inputName}: ${end.truncated.message}`);
    } catch (error) {
      await this.#flush();
      // Ending stdin on a signal may surface as a premature-close error; it is expected.
      if (!this.#stopRequested) this.#reportInputError(error);
      return;
    }
    await this.#flush();
    this.#checkDecoded(before);
  }

  #reportInputError(error: unknown): void {
    // An empty input contains no packets, so it alerts on none, like a capture of a quiet link.
    if (error instanceof CaptureError && error.code === ERR_EMPTY) {
      this.#diagnostics.warning(`${this.#inputName}: input is empty (0 bytes); nothing to scan`);
      return;
    }
    if (error instanceof CaptureError || error instanceof GzipError) {
      this.#diagnostics.error(`${this.#inputName}: ${error.message}`);
      return;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === "string" && code.startsWith("E")) {
      this.#diagnostics.error(`${this.#inputName}: cannot read: ${describeFileError(error)}`);
      return;
    }
    throw error;
  }

  /** Flags an input in which packets arrived but none had a link type we decode. */
  #checkDecoded(before: Float64Array): void {
    const after = this.#scanner.counters();
    const packets = after[Counter.packets]! - before[Counter.packets]!;
    const unsupported = after[Counter.skipLinkType]! - before[Counter.skipLinkType]!;
    if (packets > 0 && unsupported === packets) {
      this.#diagnostics.error(`${this.#inputName}: none of its ${plural(packets, "packet")} could be decoded (unsupported link type)`);
    }
  }

  #notice(kind: number, value: number): void {
    if (kind === NOTICE_LINKTYPE) this.#evidence?.noteLinkType(value);
    if (kind === NOTICE_UNSUPPORTED_LINKTYPE) {
      this.#diagnostics.warning(`${this.#inputName}: link type ${describeLinkType(value)} is not supported; its packets are counted as skipped`);
    }
  }

  /** Writes the pending alert lines and evidence; returns a promise when either must drain first. */
  #flush(): Promise<void> | undefined {
    const alerts = this.#flushAlerts();
    const evidence = this.#evidence?.flush();
    if (evidence === undefined) return alerts;
    return alerts === undefined ? evidence : Promise.all([alerts, evidence]).then(() => {});
  }

  #flushAlerts(): Promise<void> | undefined {
    if (this.#output.length === 0) return undefined;
    if (this.#io.stdout.isTTY === true) this.#diagnostics.clearStatus();
    const waiting = this.#writer.write(this.#output.take());
    if (this.#writer.released) this.#output.release();
    return waiting;
  }

  #stdinStream: Readable | undefined;

  #stdinSource(): StdinSource {
    return {
      ...(this.#io.stdinFd !== undefined ? { fd: this.#io.stdinFd } : {}),
      stream: () => {
        this.#stdinStream ??= this.#io.stdin;
        return this.#stdinStream;
      },
    };
  }

  #stdinIsTerminal(): boolean {
    if (this.#io.stdinFd !== undefined) return isatty(this.#io.stdinFd);
    return this.#io.stdin.isTTY === true;
  }

  #stopped(): boolean {
    return this.#stopRequested || this.#writer.closed || this.#evidence?.failure !== undefined;
  }

  #printSummary(): void {
    const elapsedSeconds = (performance.now() - this.#started) / 1000;
    const allowed = this.#allow !== undefined ? { allowed: this.#formatter.allowed } : {};
    for (const line of summaryLines({ counters: this.#scanner.counters(), inputBytes: this.#inputBytes, elapsedSeconds, ...allowed })) {
      this.#diagnostics.info(line);
    }
  }

  #startProgress(): ReturnType<typeof setInterval> | undefined {
    if (this.#options.quiet || !this.#options.progress || this.#io.stderr.isTTY !== true) return undefined;
    const timer = setInterval(() => this.#showProgress(), PROGRESS_INTERVAL_MS);
    timer.unref();
    return timer;
  }

  #showProgress(): void {
    if (this.#inputSize === undefined || this.#inputSize === 0) return;
    const counters = this.#scanner.counters();
    const elapsed = Math.max((performance.now() - this.#started) / 1000, 1e-3);
    const percent = Math.min(100, (100 * this.#inputRead) / this.#inputSize).toFixed(0);
    this.#diagnostics.status(
      `${this.#inputName}: ${percent}% ${formatBytes(this.#inputRead)}, ` +
        `${formatCount(counters[Counter.packets]! / elapsed)} packets/s, ${counters[Counter.alerts]} alerts`,
    );
  }

  #installSignalHandlers(): () => void {
    const stop = (signal: NodeJS.Signals): void => {
      if (this.#stopRequested) process.exit(signal === "SIGINT" ? 130 : 143);
      this.#stopRequested = true;
      this.#stopSignal = signal;
      this.#resolveStopping();
      // A stream blocked on a live pipe would wait for the next packet; end it now.
      this.#stdinStream?.destroy?.();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    return () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    };
  }
}

/** Returns a stream that discards everything written to it. */
function discardingStream(): Writable {
  return new Writable({
    write: (_chunk, _encoding, callback) => callback(),
  });
}
