// Run-wide counters, as f64 so that JavaScript reads them with one Float64Array.

import { COUNTER_SLOTS } from "./abi";

let counters: usize = 0;

/** Returns the address of the counter array, allocating it on first use. */
export function countersPointer(): usize {
  if (counters == 0) {
    counters = heap.alloc(<usize>COUNTER_SLOTS << 3);
    resetCounters();
  }
  return counters;
}

/** Sets every counter to zero. */
export function resetCounters(): void {
  memory.fill(countersPointer(), 0, <usize>COUNTER_SLOTS << 3);
}

// @ts-ignore: decorator
@inline
export function addCounter(index: i32, amount: f64): void {
  const slot = counters + (<usize>index << 3);
  store<f64>(slot, load<f64>(slot) + amount);
}
