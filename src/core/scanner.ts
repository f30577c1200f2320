// The JavaScript side of the core: moves input bytes into WebAssembly memory, runs
// the framing, and hands each batch of hits to a callback. Nothing here runs per
// packet; the callbacks run per batch of hits.

import * as abi from "./abi.js";
import { CaptureError } from "./capture-error.js";
import { HitBatch } from "./hits.js";
import { instantiateCore, type CoreExports } from "./wasm.js";

/** A sorted table of disjoint ranges, inclusive at both ends. */
export interface RangeArrays {
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
}

export interface ScannerEvents {
  /** Receives the hits of one call; the batch is valid only during the callback. */
  hits(batch: HitBatch): void;
  /** Receives an event the core queued, such as a new interface's link type. */
  notice?(kind: number, value: number): void;
}

export interface ScannerOptions {
  /** Suppression window in seconds of capture time; 0 reports every packet. */
  dedupSeconds: number;
  /** Also return suppressed repeats, flagged HF_SUPPRESSED. */
  returnSuppressed?: boolean;
  /** Entries of the names table (see names.ts in the core); 0 turns name tracking off. */
  namesTableEntries?: number;
}

/** Default names table entries: about 8.7 MB of core memory, allocated at the first name. */
export const DEFAULT_NAMES_TABLE_ENTRIES = 8192;
/** Maximum names table entries that the core accepts (MAX_NAMES_TABLE_ENTRIES in names.ts). */
export const MAX_NAMES_TABLE_ENTRIES = 131072;

/** What the end of an input looked like. */
export interface InputEnd {
  /** Set when the input stopped inside a record: the packets before it stand. */
  truncated?: CaptureError;
}

export class Scanner {
  readonly #core: CoreExports;
  readonly #events: ScannerEvents;
  #bytes: Uint8Array;
  #pendingRanges: RangeArrays | undefined;
  #onPendingApplied: (() => void) | undefined;
  /** The core block from the last `reserveRangeSection`, until a table is committed. */
  #reservedRegion: number | undefined;
  /** Lists whose range arrays lie in a reserved core block, with where they lie. */
  readonly #inCore = new WeakMap<RangeArrays, { region: number; starts: number; ends: number; count: number }>();
  readonly #batch: HitBatch;

  constructor(options: ScannerOptions, events: ScannerEvents) {
    this.#core = instantiateCore();
    this.#events = events;
    // Allocate every fixed buffer now, so that later calls grow memory only when a
    // new range table is loaded or the first host name is recorded (the names
    // table, which a capture without names never needs).
    this.#core.inputPointer();
    this.#core.hitsPointer();
    this.#core.countersPointer();
    this.#core.noticesPointer();
    this.#core.setDedupWindow(options.dedupSeconds);
    this.#core.setReturnSuppressed(options.returnSuppressed === true ? 1 : 0);
    this.#core.setNamesTableSize(options.namesTableEntries ?? DEFAULT_NAMES_TABLE_ENTRIES);
    this.#bytes = new Uint8Array(this.#core.memory.buffer);
    this.#batch = new HitBatch(this.#core.memory, this.#core.hitsPointer(), this.#core.hitNamesPointer());
  }

  /**
   * Queues a new range table. It replaces the current one when the next chunk is
   * framed, so each packet is probed against exactly one whole table and every
   * chunk framed after this call uses the new one.
   * `onApplied` runs right after the swap, before any packet is probed against
   * the new table, so that hit labels can switch at the same moment. A table
   * queued before the previous one was applied replaces it, with its callback.
   */
  setRanges(ranges: RangeArrays, onApplied?: () => void): void {
    this.#pendingRanges = ranges;
    this.#onPendingApplied = onApplied;
  }

  /**
   * Reserves a block of core memory for a list file's IPv4 range section, so that
   * the loader reads it there instead of into JavaScript memory, and returns a view
   * of it. Use the view at once: core memory may grow, and move behind older views.
   * A table queued before this call is installed first. A later reservation, or
   * a list queued with `setRanges` that was not read into this block, drops it.
   */
  reserveRangeSection(length: number): Uint8Array {
    // A queued list may live in the block reserved before; install it first, so
    // that the new reservation never frees memory a queued list still reads.
    this.#applyPendingRanges();
    const pointer = this.#core.allocateRegion(length);
    this.#reservedRegion = pointer;
    return new Uint8Array(this.#core.memory.buffer, pointer, length);
  }

  /**
   * Takes a list whose range section was read into the block from
   * `reserveRangeSection` and returns it with range arrays that stay valid when
   * core memory grows: `starts`, `ends` and `setIds` become getters that re-create
   * their views as needed. Queue the returned list with `setRanges`; the core
   * then probes the arrays where they are. They are freed when another table
   * replaces this one, so the list must not be used after that.
   */
  adoptList<List extends RangeArrays & { readonly setIds: Uint32Array }>(list: List): List {
    const memory = this.#core.memory;
    const region = this.#reservedRegion;
    if (region === undefined || list.starts.buffer !== memory.buffer || list.ends.buffer !== memory.buffer || list.setIds.buffer !== memory.buffer) {
      throw new Error("the list was not read into the reserved core block");
    }
    const count = list.starts.length;
    const at = { starts: list.starts.byteOffset, ends: list.ends.byteOffset, setIds: list.setIds.byteOffset };
    let buffer = memory.buffer;
    let views = { starts: list.starts, ends: list.ends, setIds: list.setIds };
    const current = (): typeof views => {
      if (buffer !== memory.buffer) {
        buffer = memory.buffer;
        views = {
          starts: new Uint32Array(buffer, at.starts, count),
          ends: new Uint32Array(buffer, at.ends, count),
          setIds: new Uint32Array(buffer, at.setIds, count),
        };
      }
      return views;
    };
    const live = Object.defineProperties(Object.assign(Object.create(null) as object, list), {
      starts: { get: () => current().starts, enumerable: true },
      ends: { get: () => current().ends, enumerable: true },
      setIds: { get: () => current().setIds, enumerable: true },
    }) as List;
    this.#inCore.set(live, { region, starts: at.starts, ends: at.ends, count });
    return live;
  }

  /** Returns the index of the range that contains `address`, or -1. */
  probe(address: number): number {
    this.#applyPendingRanges();
    return this.#core.probe(address >>> 0);
  }

  /** Returns what the plain binary search over the whole table finds, for tests. */
  probeBinary(address: number): number {
    this.#applyPendingRanges();
    return this.#core.probeBinary(address >>> 0);
  }

  /** Starts a new input: framing state resets, counters and dedup memory carry over. */
  beginInput(): void {
    this.#core.beginInput();
  }

  /** Frames `chunk`, copying it into the core's window in as many pieces as needed. */
  write(chunk: Uint8Array): void {
    this.#applyPendingRanges();
    let offset = 0;
    while (offset < chunk.length) {
      const window = this.#openWindow();
      const length = Math.min(window.length, chunk.length - offset);
      window.set(chunk.subarray(offset, offset + length));
      this.#run(this.#core.process(length));
      offset += length;
    }
  }

  /**
   * Opens the core's free window for a caller that reads straight into it (a file
   * read, or a socket's onread buffer), then `commit` frames the bytes it wrote.
   * The bytes written survive a table swap in `commit`: the swap may grow core
   * memory, which keeps its contents but detaches older views.
   */
  openWindow(): Uint8Array {
    return this.#openWindow();
  }

  commit(length: number): void {
    // Applied here rather than in openWindow: a socket asks for its next buffer as
    // soon as a chunk is done, long before the data arrives.
    this.#applyPendingRanges();
    this.#run(this.#core.process(length));
  }

  /** Ends the current input. Throws CaptureError for an empty or headerless input. */
  end(): InputEnd {
    const status = this.#core.finish();
    if (status === abi.STATUS_OK) return {};
    const error = this.#readError();
    if (error.code === abi.ERR_TRUNCATED_RECORD) return { truncated: error };
    throw error;
  }

  /** Returns a copy of the run-wide counters (indexes in abi.Counter). */
  counters(): Float64Array {
    const pointer = this.#core.countersPointer();
    const view = new Float64Array(this.#core.memory.buffer, pointer, abi.COUNTER_SLOTS);
    return view.slice();
  }

  #openWindow(): Uint8Array {
    const length = this.#core.prepare();
    const pointer = this.#core.windowPointer();
    return this.#memoryBytes().subarray(pointer, pointer + length);
  }

  #applyPendingRanges(): void {
    const ranges = this.#pendingRanges;
    if (ranges === undefined) return;
    this.#pendingRanges = undefined;
    const inCore = this.#inCore.get(ranges);
    if (inCore !== undefined && inCore.region === this.#reservedRegion) {
      // The arrays are already in core memory, where the list file was read.
      if (this.#core.placeRanges(inCore.starts, inCore.ends, inCore.count) === 0) {
        throw new Error("range arrays lie outside their reserved block");
      }
    } else {
      const count = ranges.starts.length;
      const pointer = this.#core.allocateRanges(count);
      const arrays = new Uint32Array(this.#core.memory.buffer, pointer, count * 2);
      arrays.set(ranges.starts, 0);
      arrays.set(ranges.ends, count);
    }
    this.#reservedRegion = undefined;
    this.#core.commitRanges();
    const onApplied = this.#onPendingApplied;
    this.#onPendingApplied = undefined;
    onApplied?.();
  }

  #run(status: number): void {
    while (true) {
      this.#deliverNotices();
      if (this.#core.hitCount.value > 0) this.#events.hits(this.#batch.refresh(this.#core.hitCount.value));
      if (status === abi.STATUS_HITS_FULL) {
        status = this.#core.resume();
        continue;
      }
      if (status === abi.STATUS_ERROR) throw this.#readError();
      return;
    }
  }

  #deliverNotices(): void {
    const count = this.#core.noticeCount.value as number;
    if (count === 0 || this.#events.notice === undefined) return;
    const view = new DataView(this.#core.memory.buffer, this.#core.noticesPointer(), count * 8);
    for (let i = 0; i < count; i++) {
      this.#events.notice(view.getInt32(i * 8, true), view.getUint32(i * 8 + 4, true));
    }
  }

  #readError(): CaptureError {
    const core = this.#core;
    return new CaptureError(
      core.errorCode.value as number,
      core.errorValue.value as number,
      core.errorLimit.value as number,
      core.errorRecord.value as number,
      core.errorOffset.value as number,
      core.errorUnit.value as number,
      core.errorDetail.value as number,
    );
  }

  /** Returns a byte view of core memory, re-created after the memory has grown. */
  #memoryBytes(): Uint8Array {
    if (this.#bytes.buffer !== this.#core.memory.buffer) {
      this.#bytes = new Uint8Array(this.#core.memory.buffer);
    }
    return this.#bytes;
  }
}
