// Loading the WebAssembly core. The module is compiled once per process; each
// Scanner gets its own instance and therefore its own memory.

import { readFileSync } from "node:fs";
import { instantiateSync } from "@assemblyscript/loader";

/** The core's exports (see assembly/index.ts). Pointers are byte offsets into `memory`. */
export interface CoreExports {
  readonly memory: WebAssembly.Memory;
  countersPointer(): number;
  resetCounters(): void;
  resetDedup(): void;
  setDedupWindow(seconds: number): void;
  hitsPointer(): number;
  readonly hitCount: WebAssembly.Global;
  setReturnSuppressed(enabled: number): void;
  setNamesTableSize(entries: number): void;
  namesTableEntries(): number;
  hitNamesPointer(): number;
  allocateRanges(count: number): number;
  allocateRegion(length: number): number;
  placeRanges(starts: number, ends: number, count: number): number;
  commitRanges(): number;
  currentRangeCount(): number;
  probe(address: number): number;
  probeBinary(address: number): number;
  scratch(size: number): number;
  lookupLoop(addresses: number, count: number, binary: number): number;
  beginInput(): void;
  inputPointer(): number;
  readonly INPUT_CAPACITY: WebAssembly.Global;
  prepare(): number;
  windowPointer(): number;
  process(length: number): number;
  resume(): number;
  finish(): number;
  noticesPointer(): number;
  readonly noticeCount: WebAssembly.Global;
  readonly errorCode: WebAssembly.Global;
  readonly errorValue: WebAssembly.Global;
  readonly errorLimit: WebAssembly.Global;
  readonly errorRecord: WebAssembly.Global;
  readonly errorOffset: WebAssembly.Global;
  readonly errorUnit: WebAssembly.Global;
  readonly errorDetail: WebAssembly.Global;
  readonly [name: string]: unknown;
}

const WASM_URL = new URL("../../../build/core.wasm", import.meta.url);
let compiled: WebAssembly.Module | undefined;

function compiledModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(readFileSync(WASM_URL));
  return compiled;
}

/**
 * Instantiates the core. The loader supplies `env.abort`, which turns an abort in
 * the core (a bug, since input errors are status codes) into a JavaScript Error.
 */
export function instantiateCore(): CoreExports {
  const { instance } = instantiateSync<Record<string, unknown>>(compiledModule(), {});
  return instance.exports as unknown as CoreExports;
}
