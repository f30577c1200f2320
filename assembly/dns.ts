// DNS responses (RFC 1035): the A records of the answer section, recorded in the
// names table under the question name for the client the response went to.
//
// Only the answer section is read, at most MAX_DNS_ANSWERS records. A CNAME
// whose owner is the question name, or a name already reached through the chain,
// extends the chain, so the A record of its canonical name is recorded under the
// question name (NAME_DNS) and the canonical name (NAME_CNAME). Names are decoded
// with compression: a pointer must point into the message body (past the 12-byte
// header) and before every position the name has visited, so each pointer moves
// strictly backwards and no loop is possible; MAX_POINTER_HOPS bounds the work.

import {
  C_DNS_ANSWERS_CAPPED,
  C_DNS_BAD_LABEL,
  C_DNS_BAD_POINTER,
  C_DNS_NAME_TOO_LONG,
  C_DNS_RESPONSES,
  C_DNS_TCP_PARTIAL,
  C_DNS_TRUNCATED,
  C_DNS_UNSUPPORTED,
  MAX_NAME_LENGTH,
  NAME_CNAME,
  NAME_DNS,
} from "./abi";
import { readU16BE, readU32BE } from "./bytes";
import { addCounter } from "./counters";
import { recordName } from "./names";

/** Answer records read per response; a response with more is counted. */
export const MAX_DNS_ANSWERS: u32 = 32;
/** Names in one CNAME chain, the question name included. */
const MAX_CHAIN: i32 = 8;
/** Compression pointers followed while decoding one name. */
const MAX_POINTER_HOPS: i32 = 32;

const HEADER_LENGTH: u32 = 12;
const TYPE_A: u32 = 1;
const TYPE_CNAME: u32 = 5;
const CLASS_IN: u32 = 1;

const NAME_SLOT_SIZE: usize = 256;

/** Decoded names: slot 0 is the question name, then the chain, then the record owner. */
let names: usize = 0;
let nameLengths: StaticArray<u32> = new StaticArray<u32>(MAX_CHAIN + 1);
/** Length of the name the last `readName` decoded. */
let decodedLength: u32 = 0;

function nameSlot(index: i32): usize {
  if (names == 0) names = heap.alloc(<usize>(MAX_CHAIN + 1) * NAME_SLOT_SIZE);
  return names + <usize>index * NAME_SLOT_SIZE;
}

/**
 * Decodes the name at `offset` of the message at `message` (`length` bytes) into
 * `out` as dotted text, lower-cased. Returns the offset after the name where it
 * is stored (after its first pointer, if any), or a counter index negated when
 * the name is malformed. Reads only bytes before `length`.
 */
function readName(message: usize, length: u32, offset: u32, out: usize): i32 {
  let position = offset;
  let lowest = offset;
  let after: i32 = -1;
  let hops = 0;
  let written: u32 = 0;
  while (true) {
    if (position >= length) return -C_DNS_TRUNCATED;
    const labelLength = <u32>load<u8>(message + position);
    if (labelLength == 0) {
      if (after < 0) after = <i32>(position + 1);
      break;
    }
    const kind = labelLength & 0xc0;
    if (kind == 0xc0) {
      if (position + 1 >= length) return -C_DNS_TRUNCATED;
      const target = ((labelLength & 0x3f) << 8) | <u32>load<u8>(message + position + 1);
      if (after < 0) after = <i32>(position + 2);
      if (target < HEADER_LENGTH || target >= lowest || ++hops > MAX_POINTER_HOPS) return -C_DNS_BAD_POINTER;
      lowest = target;
      position = target;
      continue;
    }
    // 0x40 was the EDNS extended label type (RFC 6891 retired it); 0x80 is reserved.
    if (kind != 0) return -C_DNS_BAD_LABEL;
    if (position + 1 + labelLength > length) return -C_DNS_TRUNCATED;
    const separator: u32 = written > 0 ? 1 : 0;
    if (written + separator + labelLength > MAX_NAME_LENGTH) return -C_DNS_NAME_TOO_LONG;
    if (separator != 0) store<u8>(out + written, 0x2e);
    written += separator;
    copyLowerCase(out + written, message + position + 1, labelLength);
    written += labelLength;
    position += 1 + labelLength;
  }
  decodedLength = written;
  return after;
}

function copyLowerCase(target: usize, source: usize, length: u32): void {
  for (let i: u32 = 0; i < length; i++) {
    const byte = load<u8>(source + i);
    store<u8>(target + i, byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte);
  }
}

/** Returns the index of the chain name equal to slot `owner`, or -1. */
function chainIndex(owner: i32, chainLength: i32): i32 {
  const length = nameLengths[owner];
  for (let i = 0; i < chainLength; i++) {
    if (nameLengths[i] == length && memory.compare(nameSlot(i), nameSlot(owner), length) == 0) return i;
  }
  return -1;
}

/**
 * Reads a DNS-over-TCP segment that starts with a message: a 2-byte length, then
 * the message. A message longer than the segment is counted and read up to the
 * segment's end. Later messages in the segment are not read.
 * NOTE: without reassembly, a segment that continues a message is read as if it
 * started one; the QR bit and the question count reject most such segments.
 */
export function readTcpDns(payload: usize, available: u32, client: u32): void {
  if (available < 2) return;
  const messageLength = readU16BE(payload);
  const present = available - 2;
  const partial = messageLength > present;
  if (partial && present >= 3 && (load<u8>(payload + 4) & 0x80) != 0) addCounter(C_DNS_TCP_PARTIAL, 1);
  readDnsResponse(payload + 2, partial ? present : messageLength, client, partial);
}

/**
 * Reads the DNS message at `message` (`length` bytes) if it is a response, and
 * records the names of its A records for `client`. `partial` means that the
 * message continues past `length` (TCP), so running out of bytes is not malformed.
 */
export function readDnsResponse(message: usize, length: u32, client: u32, partial: bool): void {
  if (length < 3) return;
  const flags = readU16BE(message + 2);
  if ((flags & 0x8000) == 0) return; // a query
  addCounter(C_DNS_RESPONSES, 1);
  if (length < HEADER_LENGTH) {
    if (!partial) addCounter(C_DNS_TRUNCATED, 1);
    return;
  }
  if (((flags >> 11) & 15) != 0 || readU16BE(message + 4) != 1) {
    addCounter(C_DNS_UNSUPPORTED, 1);
    return;
  }
  const status = readAnswers(message, length, client);
  if (status < 0 && !(partial && status == -C_DNS_TRUNCATED)) addCounter(-status, 1);
}

/** Reads the question and the answer records. Returns 0, or a counter index negated. */
function readAnswers(message: usize, length: u32, client: u32): i32 {
  let position = readName(message, length, HEADER_LENGTH, nameSlot(0));
  if (position < 0) return position;
  nameLengths[0] = decodedLength;
  if (<u32>position + 4 > length) return -C_DNS_TRUNCATED;
  if (readU16BE(message + <u32>position + 2) != CLASS_IN) return 0;
  position += 4;

  let answers = readU16BE(message + 6);
  if (answers > MAX_DNS_ANSWERS) {
    addCounter(C_DNS_ANSWERS_CAPPED, 1);
    answers = MAX_DNS_ANSWERS;
  }
  let chainLength = 1;
  const owner = MAX_CHAIN; // the slot after the chain
  for (let i: u32 = 0; i < answers; i++) {
    position = readName(message, length, <u32>position, nameSlot(owner));
    if (position < 0) return position;
    nameLengths[owner] = decodedLength;
    const fields = <u32>position;
    if (fields + 10 > length) return -C_DNS_TRUNCATED;
    const type = readU16BE(message + fields);
    const rrClass = readU16BE(message + fields + 2);
    const dataLength = readU16BE(message + fields + 8);
    const data = fields + 10;
    if (data + dataLength > length) return -C_DNS_TRUNCATED;
    position = <i32>(data + dataLength);
    if (rrClass != CLASS_IN) continue;

    if (type == TYPE_A && dataLength == 4) {
      const link = chainIndex(owner, chainLength);
      if (link < 0) continue;
      const address = readU32BE(message + data);
      recordName(client, address, NAME_DNS, nameSlot(0), nameLengths[0]);
      if (link > 0) recordName(client, address, NAME_CNAME, nameSlot(owner), nameLengths[owner]);
    } else if (type == TYPE_CNAME && chainLength < MAX_CHAIN && chainIndex(owner, chainLength) >= 0) {
      // The target must end inside the record's data.
      const end = readName(message, data + dataLength, data, nameSlot(chainLength));
      if (end < 0) return end;
      nameLengths[chainLength] = decodedLength;
      chainLength++;
    }
  }
  return 0;
}
