// Short-lived TCP flow state, in two direct-mapped tables keyed by addresses and
// ports: flows whose SYN was seen and whose first client payload is still to
// come (`awaitingFlows`), and ClientHellos that started in one segment and wait
// for the next (`helloFlows`). Knowing the first payload lets the summary count
// non-TLS first payloads on port 443 without counting every later segment.
//
// A new flow replaces whatever its slot held; a replaced ClientHello in progress
// is counted as incomplete. A hello slot has room for FLOW_BUFFER_SIZE bytes,
// enough for the 1.5 to 2 KB ClientHellos that post-quantum key shares make (an
// estimate from current browsers, not a limit of TLS).

import { C_TLS_CLIENTHELLO_INCOMPLETE } from "./abi";
import { addCounter } from "./counters";

const FLOW_SRC: usize = 0; // u32, the client
const FLOW_DST: usize = 4; // u32
const FLOW_PORTS: usize = 8; // u32, source port << 16 | destination port
const FLOW_NEXT_SEQ: usize = 12; // u32, sequence number of the next client byte
const FLOW_USED: usize = 16; // u8
const FLOW_BUFFERED: usize = 20; // u32, ClientHello bytes held
const FLOW_HEADER_SIZE: usize = 24;

const HELLO_SLOT_SIZE: usize = 4096;
/** ClientHello bytes one hello slot can hold. */
export const FLOW_BUFFER_SIZE: u32 = <u32>(HELLO_SLOT_SIZE - FLOW_HEADER_SIZE);

export class FlowTable {
  slots: usize = 0;
  /** Slots in use, so that a capture without SYNs or split hellos skips the lookups. */
  active: u32 = 0;

  constructor(
    readonly slotBits: u32,
    readonly slotSize: usize,
    /** Counted when a slot in use is replaced. */
    readonly replacedCounter: i32,
  ) {}

  /** Allocates the table on first use and frees every slot. */
  reset(): void {
    const size = this.slotSize << this.slotBits;
    if (this.slots == 0) this.slots = heap.alloc(size);
    memory.fill(this.slots, 0, size);
    this.active = 0;
  }

  slotFor(src: u32, dst: u32, ports: u32): usize {
    const hash = (src * 0x9e3779b1) ^ (dst * 0x85ebca77) ^ (ports * 0xc2b2ae35);
    return this.slots + <usize>(hash >> (32 - this.slotBits)) * this.slotSize;
  }

  /** Returns the flow of these addresses and ports, or 0. */
  find(src: u32, dst: u32, ports: u32): usize {
    if (this.active == 0) return 0;
    const flow = this.slotFor(src, dst, ports);
    if (load<u8>(flow, FLOW_USED) == 0) return 0;
    if (load<u32>(flow, FLOW_SRC) != src || load<u32>(flow, FLOW_DST) != dst || load<u32>(flow, FLOW_PORTS) != ports) return 0;
    return flow;
  }

  /** Takes the slot of a flow, replacing what it held, and returns it. */
  claim(src: u32, dst: u32, ports: u32, nextSeq: u32): usize {
    const flow = this.slotFor(src, dst, ports);
    if (load<u8>(flow, FLOW_USED) == 0) this.active++;
    else if (this.replacedCounter >= 0) addCounter(this.replacedCounter, 1);
    store<u32>(flow, src, FLOW_SRC);
    store<u32>(flow, dst, FLOW_DST);
    store<u32>(flow, ports, FLOW_PORTS);
    store<u32>(flow, nextSeq, FLOW_NEXT_SEQ);
    store<u8>(flow, 1, FLOW_USED);
    store<u32>(flow, 0, FLOW_BUFFERED);
    return flow;
  }

  release(flow: usize): void {
    store<u8>(flow, 0, FLOW_USED);
    this.active--;
  }
}

/** Flows whose SYN was seen, until their first client payload (24 KiB). */
export const awaitingFlows = new FlowTable(10, FLOW_HEADER_SIZE, -1);
/** ClientHellos waiting for their next segment (256 KiB). */
export const helloFlows = new FlowTable(6, HELLO_SLOT_SIZE, C_TLS_CLIENTHELLO_INCOMPLETE);

export function flowNextSeq(flow: usize): u32 {
  return load<u32>(flow, FLOW_NEXT_SEQ);
}

export function flowBuffered(flow: usize): u32 {
  return load<u32>(flow, FLOW_BUFFERED);
}

export function flowBuffer(flow: usize): usize {
  return flow + FLOW_HEADER_SIZE;
}

/**
 * Appends to a hello flow's buffer the first `length` bytes at `bytes` that fit,
 * and advances its next sequence number by `length`.
 */
export function appendToFlow(flow: usize, bytes: usize, length: u32): void {
  const buffered = flowBuffered(flow);
  const copied = min(length, FLOW_BUFFER_SIZE - buffered);
  memory.copy(flowBuffer(flow) + buffered, bytes, copied);
  store<u32>(flow, buffered + copied, FLOW_BUFFERED);
  store<u32>(flow, flowNextSeq(flow) + length, FLOW_NEXT_SEQ);
}
