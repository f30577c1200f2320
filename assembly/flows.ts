// TCP flows in one of two short-lived states: a SYN was seen and the client's
// first payload is still to come, or a ClientHello started in one segment and
// its next segment is awaited. Knowing the first payload lets the summary count
// non-TLS first payloads on port 443 without counting every later segment.
//
// The table is direct-mapped by the flow's addresses and ports: a new flow
// replaces whatever its slot held, and a replaced ClientHello in progress is
// counted as incomplete. Each slot has room for FLOW_BUFFER_SIZE bytes of
// ClientHello, enough for the 1.5 to 2 KB hellos that post-quantum key shares
// make (an estimate from current browsers, not a limit of TLS).

import { C_TLS_CLIENTHELLO_INCOMPLETE } from "./abi";
import { addCounter } from "./counters";

const FLOW_SLOT_BITS: u32 = 10;
const FLOW_SIZE: usize = 4096;

const FLOW_SRC: usize = 0; // u32, the client
const FLOW_DST: usize = 4; // u32
const FLOW_PORTS: usize = 8; // u32, source port << 16 | destination port
const FLOW_NEXT_SEQ: usize = 12; // u32, sequence number of the next client byte
const FLOW_STATE: usize = 16; // u8, FLOW_* state or 0 for a free slot
const FLOW_BUFFERED: usize = 20; // u32, ClientHello bytes held
const FLOW_HEADER_SIZE: usize = 24;

/** ClientHello bytes one flow can hold. */
export const FLOW_BUFFER_SIZE: u32 = <u32>(FLOW_SIZE - FLOW_HEADER_SIZE);
export const FLOW_AWAITING_PAYLOAD: u8 = 1;
export const FLOW_PARTIAL_HELLO: u8 = 2;

let flows: usize = 0;
/** Slots in use, so that a capture without SYNs or split hellos skips the lookups. */
let activeFlows: u32 = 0;

/** Allocates the table on first use and frees every slot. */
export function resetFlows(): void {
  const size = FLOW_SIZE << FLOW_SLOT_BITS;
  if (flows == 0) flows = heap.alloc(size);
  memory.fill(flows, 0, size);
  activeFlows = 0;
}

// @ts-ignore: decorator
@inline
function slotFor(src: u32, dst: u32, ports: u32): usize {
  const hash = (src * 0x9e3779b1) ^ (dst * 0x85ebca77) ^ (ports * 0xc2b2ae35);
  return flows + (<usize>(hash >> (32 - FLOW_SLOT_BITS)) * FLOW_SIZE);
}

/** Returns the flow of these addresses and ports, or 0. */
export function findFlow(src: u32, dst: u32, ports: u32): usize {
  if (activeFlows == 0) return 0;
  const flow = slotFor(src, dst, ports);
  if (load<u8>(flow, FLOW_STATE) == 0) return 0;
  if (load<u32>(flow, FLOW_SRC) != src || load<u32>(flow, FLOW_DST) != dst || load<u32>(flow, FLOW_PORTS) != ports) return 0;
  return flow;
}

/** Takes the slot of a flow for `state`, replacing what it held, and returns it. */
export function claimFlow(src: u32, dst: u32, ports: u32, state: u8, nextSeq: u32): usize {
  const flow = slotFor(src, dst, ports);
  const previous = load<u8>(flow, FLOW_STATE);
  if (previous == 0) activeFlows++;
  else if (previous == FLOW_PARTIAL_HELLO) addCounter(C_TLS_CLIENTHELLO_INCOMPLETE, 1);
  store<u32>(flow, src, FLOW_SRC);
  store<u32>(flow, dst, FLOW_DST);
  store<u32>(flow, ports, FLOW_PORTS);
  store<u32>(flow, nextSeq, FLOW_NEXT_SEQ);
  store<u8>(flow, state, FLOW_STATE);
  store<u32>(flow, 0, FLOW_BUFFERED);
  return flow;
}

export function releaseFlow(flow: usize): void {
  store<u8>(flow, 0, FLOW_STATE);
  activeFlows--;
}

export function flowState(flow: usize): u8 {
  return load<u8>(flow, FLOW_STATE);
}

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
 * Appends the first `length` bytes at `bytes` that fit the flow's buffer and
 * advances its next sequence number by `segmentLength`.
 */
export function appendToFlow(flow: usize, bytes: usize, length: u32, segmentLength: u32): void {
  const buffered = flowBuffered(flow);
  const copied = min(length, FLOW_BUFFER_SIZE - buffered);
  memory.copy(flowBuffer(flow) + buffered, bytes, copied);
  store<u32>(flow, buffered + copied, FLOW_BUFFERED);
  store<u32>(flow, flowNextSeq(flow) + segmentLength, FLOW_NEXT_SEQ);
}
