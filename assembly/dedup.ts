// Suppression of repeat alerts: the last alert time per (source, destination) pair,
// in capture time, in a fixed-size 4-way set-associative table. When a set is full
// the oldest entry is replaced, so a repeat of an evicted pair alerts again: the
// table can cost an extra alert but never hides one outside the window.

import { C_DEDUP_EVICTIONS } from "./abi";
import { addCounter } from "./counters";

const WAYS: u32 = 4;
const SET_BITS: u32 = 14;
const SET_MASK: u32 = (1 << SET_BITS) - 1;
const ENTRY_SIZE: usize = 16; // u32 src, u32 dst, f64 time of the last alert

let table: usize = 0;
let windowSeconds: f64 = 60;

function ensureTable(): void {
  if (table != 0) return;
  const size = (<usize>(SET_MASK + 1) * WAYS) * ENTRY_SIZE;
  table = heap.alloc(size);
  clearTable();
}

function clearTable(): void {
  const slots = (SET_MASK + 1) * WAYS;
  for (let i: u32 = 0; i < slots; i++) {
    const entry = table + <usize>i * ENTRY_SIZE;
    store<u64>(entry, 0);
    store<f64>(entry, -Infinity, 8);
  }
}

/** Sets the suppression window in seconds of capture time; 0 turns suppression off. */
export function setDedupWindow(seconds: f64): void {
  windowSeconds = seconds;
}

/** Forgets every remembered pair. */
export function resetDedup(): void {
  if (table != 0) clearTable();
}

/**
 * Returns true when (src, dst) alerted less than the window ago, in either direction
 * of capture time. Otherwise records `time` as the pair's last alert and returns false.
 */
export function isRepeat(src: u32, dst: u32, time: f64): bool {
  if (windowSeconds <= 0) return false;
  ensureTable();
  const hash = (src * 0x9e3779b1) ^ (dst * 0x85ebca77);
  const set = table + <usize>((hash >> (32 - SET_BITS)) & SET_MASK) * WAYS * ENTRY_SIZE;
  let victim = set;
  let victimTime: f64 = Infinity;
  for (let way: u32 = 0; way < WAYS; way++) {
    const entry = set + <usize>way * ENTRY_SIZE;
    const last = load<f64>(entry, 8);
    if (load<u32>(entry) == src && load<u32>(entry, 4) == dst && last != -Infinity) {
      if (abs<f64>(time - last) < windowSeconds) return true;
      store<f64>(entry, time, 8);
      return false;
    }
    if (last < victimTime) {
      victimTime = last;
      victim = entry;
    }
  }
  if (abs<f64>(time - victimTime) < windowSeconds) addCounter(C_DEDUP_EVICTIONS, 1);
  store<u32>(victim, src);
  store<u32>(victim, dst, 4);
  store<f64>(victim, time, 8);
  return false;
}
