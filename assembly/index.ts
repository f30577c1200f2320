// repfilter's WebAssembly core: frames capture records, decodes IPv4 headers,
// probes the blocklist and returns hits. Every function here takes and returns
// numbers only; input errors come back as status codes, never as traps.

export * from "./abi";
export { countersPointer, resetCounters } from "./counters";
export { resetDedup, setDedupWindow } from "./dedup";
export { hitCount, hitsPointer } from "./hits";
export { hitNamesPointer } from "./hitnames";
export { namesTableEntries } from "./names";
export { setNamesTableSize } from "./observe";
export { setReturnSuppressed } from "./inspect";
export { allocateRanges, allocateRegion, commitRanges, currentRangeCount, placeRanges, probe, probeBinary } from "./lookup";
export { lookupLoop, scratch } from "./bench";
export {
  beginInput,
  errorCode,
  errorDetail,
  errorLimit,
  errorOffset,
  errorRecord,
  errorUnit,
  errorValue,
  finish,
  inputPointer,
  INPUT_CAPACITY,
  noticeCount,
  noticesPointer,
  prepare,
  process,
  resume,
  windowPointer,
} from "./stream";
