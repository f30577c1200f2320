// Reading host names from the payload of the last decoded IPv4 header, outer or
// tunneled: DNS responses from port 53 over UDP and TCP, and the first client
// payload of a TCP flow (a TLS ClientHello or an HTTP/1.x request). Fragments
// are skipped, since only a reassembled datagram would hold the whole message.

import { C_TLS_CLIENT_HELLOS, C_TLS_CLIENTHELLO_INCOMPLETE, C_TLS_CLIENTHELLO_SPLIT, C_TLS_MALFORMED, C_TLS_NO_SNI, C_TLS_NOT_TLS_443, HF_FRAGMENT, HF_PORTS, NAME_HTTP, NAME_SNI } from "./abi";
import { readU16BE, readU32BE } from "./bytes";
import { addCounter } from "./counters";
import { packetDst, packetDstPort, packetFlags, packetPayloadEnd, packetPayloadOffset, packetProto, packetSrc, packetSrcPort } from "./decode";
import { readDnsResponse, readTcpDns } from "./dns";
import { appendToFlow, awaitingFlows, flowBuffer, flowBuffered, flowNextSeq, FLOW_BUFFER_SIZE, helloFlows } from "./flows";
import { hostLength, hostOffset, readHttpHost, startsHttpRequest } from "./http";
import { namesEnabled, recordName, setTableSize } from "./names";
import { HELLO_FOUND, HELLO_NEED_MORE, HELLO_NO_SNI, HELLO_SPANS_RECORDS, helloNameLength, helloNameOffset, readClientHello, startsClientHello } from "./tls";

const PROTO_TCP: u32 = 6;
const PROTO_UDP: u32 = 17;
const DNS_PORT: u32 = 53;
const HTTPS_PORT: u32 = 443;
const UDP_HEADER_LENGTH: u32 = 8;
const TCP_MIN_HEADER_LENGTH: u32 = 20;
const TCP_SYN: u8 = 0x02;
const TCP_ACK: u8 = 0x10;

/**
 * Sizes the names table to `entries` and clears it and the flow table; 0 turns
 * name tracking off and leaves both unallocated.
 */
export function setNamesTableSize(entries: u32): void {
  setTableSize(entries);
  if (!namesEnabled) return;
  awaitingFlows.reset();
  helloFlows.reset();
}

/** Reads the names in the payload of the last decoded IPv4 header of `data`. */
export function observeNames(data: usize): void {
  if (!namesEnabled) return;
  if ((packetFlags & (HF_PORTS | HF_FRAGMENT)) != HF_PORTS) return;
  if (packetProto == PROTO_UDP) {
    if (packetSrcPort == DNS_PORT) observeUdpDns(data, packetPayloadOffset, packetPayloadEnd);
  } else if (packetProto == PROTO_TCP) {
    observeTcp(data, packetPayloadOffset, packetPayloadEnd);
  }
}

function observeUdpDns(data: usize, transport: u32, end: u32): void {
  if (transport + UDP_HEADER_LENGTH > end) return;
  // The UDP length may be shorter than the IPv4 payload (trailing padding).
  const udpLength = readU16BE(data + transport + 4);
  const payloadEnd = udpLength >= UDP_HEADER_LENGTH && transport + udpLength < end ? transport + udpLength : end;
  const payload = transport + UDP_HEADER_LENGTH;
  readDnsResponse(data + payload, payloadEnd - payload, packetDst, false);
}

function observeTcp(data: usize, transport: u32, end: u32): void {
  if (transport + TCP_MIN_HEADER_LENGTH > end) return;
  const header = data + transport;
  const headerLength = (<u32>load<u8>(header, 12) >> 4) << 2;
  if (headerLength < TCP_MIN_HEADER_LENGTH || transport + headerLength > end) return;
  const payload = data + transport + headerLength;
  const length = end - transport - headerLength;
  if (packetSrcPort == DNS_PORT) {
    if (length > 0) readTcpDns(payload, length, packetDst);
    return;
  }
  observeClientSegment(payload, length, readU32BE(header + 4), load<u8>(header, 13));
}

/**
 * Follows a TCP segment that may be a client's: a SYN opens a flow whose first
 * payload is awaited, the segment after it is read as that first payload, and a
 * split ClientHello collects its next segments. Other segments that start like
 * a ClientHello or a request are read too, for flows whose SYN was not captured.
 */
function observeClientSegment(payload: usize, length: u32, seq: u32, tcpFlags: u8): void {
  const ports = (packetSrcPort << 16) | packetDstPort;
  if ((tcpFlags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
    // Data on a SYN (TCP Fast Open, RFC 7413) is the first payload; the SYN flag
    // takes the sequence number before it.
    if (length > 0) readFirstPayload(payload, length, seq + 1, true);
    else awaitingFlows.claim(packetSrc, packetDst, ports, seq + 1);
    return;
  }
  if (length == 0) return;

  const hello = helloFlows.find(packetSrc, packetDst, ports);
  if (hello != 0) {
    const gap = <i32>(seq - flowNextSeq(hello));
    if (gap < 0) return; // a retransmission of bytes already read
    if (gap == 0) {
      continueClientHello(hello, payload, length);
      return;
    }
    addCounter(C_TLS_CLIENTHELLO_INCOMPLETE, 1); // a segment is missing
    helloFlows.release(hello);
  }

  let first = false;
  const awaiting = awaitingFlows.find(packetSrc, packetDst, ports);
  if (awaiting != 0) {
    const gap = <i32>(seq - flowNextSeq(awaiting));
    if (gap < 0) return; // before the first byte: not a segment of this flow
    awaitingFlows.release(awaiting);
    first = gap == 0;
  }
  readFirstPayload(payload, length, seq, first);
}

/** Reads a payload that starts a flow (`first`) or may start a request. */
function readFirstPayload(payload: usize, length: u32, seq: u32, first: bool): void {
  if (startsClientHello(payload, length)) {
    startClientHello(payload, length, seq);
    return;
  }
  if (first && packetDstPort == HTTPS_PORT) addCounter(C_TLS_NOT_TLS_443, 1);
  if (startsHttpRequest(payload, length) && readHttpHost(payload, length)) {
    recordName(packetSrc, packetDst, NAME_HTTP, payload + hostOffset, hostLength);
  }
}

function startClientHello(payload: usize, length: u32, seq: u32): void {
  const result = readClientHello(payload, length);
  if (result != HELLO_NEED_MORE) {
    finishClientHello(payload, result);
    return;
  }
  addCounter(C_TLS_CLIENTHELLO_SPLIT, 1);
  if (length >= FLOW_BUFFER_SIZE) {
    addCounter(C_TLS_CLIENTHELLO_INCOMPLETE, 1);
    return;
  }
  const ports = (packetSrcPort << 16) | packetDstPort;
  const flow = helloFlows.claim(packetSrc, packetDst, ports, seq);
  appendToFlow(flow, payload, length);
}

function continueClientHello(flow: usize, payload: usize, length: u32): void {
  appendToFlow(flow, payload, length);
  const buffered = flowBuffered(flow);
  const result = readClientHello(flowBuffer(flow), buffered);
  if (result == HELLO_NEED_MORE && buffered < FLOW_BUFFER_SIZE) return;
  helloFlows.release(flow);
  if (result == HELLO_NEED_MORE) {
    addCounter(C_TLS_CLIENTHELLO_INCOMPLETE, 1); // longer than the buffer
    return;
  }
  finishClientHello(flowBuffer(flow), result);
}

/** Counts a read ClientHello and records its server name. */
function finishClientHello(bytes: usize, result: i32): void {
  if (result == HELLO_FOUND) {
    addCounter(C_TLS_CLIENT_HELLOS, 1);
    recordName(packetSrc, packetDst, NAME_SNI, bytes + helloNameOffset, helloNameLength);
  } else if (result == HELLO_NO_SNI) {
    addCounter(C_TLS_CLIENT_HELLOS, 1);
    addCounter(C_TLS_NO_SNI, 1);
  } else if (result == HELLO_SPANS_RECORDS) {
    addCounter(C_TLS_CLIENTHELLO_INCOMPLETE, 1);
  } else {
    addCounter(C_TLS_MALFORMED, 1);
  }
}
