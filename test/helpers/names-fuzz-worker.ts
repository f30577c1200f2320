// The names fuzz loop, run in a worker thread (see fuzz-runner.ts). Each case
// takes a short capture of DNS, TLS and HTTP traffic and damages the payload of
// one to three packets, so that the damage reaches the name parsers instead of
// the capture framing. It scans the result whole and in random chunks, with a
// 64-entry names table and a 4-entry one (the size changes only evictions), and
// checks the invariants.

import { parentPort, workerData } from "node:worker_threads";
import { Counter, SKIP_REASONS } from "../../src/core/abi.js";
import { buildPcap } from "../../src/pcap/writer.js";
import { clientHello, dnsAnswer, dnsMessage, httpRequest, tcpDnsFrame, TYPE_A, TYPE_CNAME } from "./name-payloads.js";
import { ethernet, ipv4, vxlan, type IPv4Options } from "./packets.js";
import { caseSeed, Random } from "./random.js";
import { EVERYTHING, scanBytes, type ScanResult } from "./scan.js";
import type { WorkerMessage } from "./fuzz-runner.js";

export interface NamesFuzzOptions {
  seed: number;
  cases: number;
  /** Run only this case (its index), to reproduce a failure. */
  only?: number;
}

const CLIENT = "10.2.0.10";
const RESOLVER = "10.2.0.1";
const SERVER = "203.0.113.50";

function dns(message: Uint8Array): IPv4Options {
  return { src: RESOLVER, dst: CLIENT, proto: 17, srcPort: 53, dstPort: 41000, payload: message };
}

function tcp(payload: Uint8Array, options: Partial<IPv4Options> = {}): IPv4Options {
  return { src: CLIENT, dst: SERVER, proto: 6, srcPort: 52000, dstPort: 443, seq: 101, tcpFlags: 0x18, payload, ...options };
}

const SYN: IPv4Options = { src: CLIENT, dst: SERVER, proto: 6, srcPort: 52000, dstPort: 443, seq: 100, tcpFlags: 0x02 };

/** Packet sequences that reach every parser and state: one base per case, in turn. */
function bases(): IPv4Options[][] {
  const chain = dnsMessage({
    question: { name: "www.fuzz.example" },
    answers: [
      { name: "www.fuzz.example", type: TYPE_CNAME, data: "edge.cdn.example" },
      { name: "edge.cdn.example", type: TYPE_A, data: SERVER },
      { name: "edge.cdn.example", type: TYPE_A, data: "203.0.113.51" },
    ],
    compress: true,
  });
  const many = dnsAnswer("many.fuzz.example", Array.from({ length: 40 }, (_, i) => `198.51.100.${i + 1}`));
  const hello = clientHello({ serverName: "tls.fuzz.example", paddingBefore: 200 });
  const vxlanDns = ipv4({ src: "192.0.2.1", dst: "192.0.2.2", proto: 17, dstPort: 4789, payload: vxlan(ethernet(ipv4(dns(chain)))) });
  return [
    [dns(chain), SYN, tcp(hello)],
    [dns(many), SYN],
    [dns(dnsAnswer("plain.fuzz.example", [SERVER], false)), tcp(httpRequest("GET", ["Host: plain.fuzz.example"]), { dstPort: 80 })],
    [{ ...dns(chain), proto: 6, srcPort: 53, tcpFlags: 0x18, payload: tcpDnsFrame(chain) }],
    [{ ...dns(chain), proto: 6, srcPort: 53, tcpFlags: 0x18, payload: tcpDnsFrame(chain, 4000) }],
    [SYN, tcp(hello.subarray(0, 120)), tcp(hello.subarray(120), { seq: 221 })],
    [tcp(hello.subarray(0, 60), { tcpFlags: 0x10 }), tcp(hello.subarray(60), { seq: 161 })],
    [SYN, tcp(Buffer.from("not a handshake at all"))],
    [tcp(httpRequest("POST", ["Content-Type: text/plain", "HOST: Post.Fuzz.Example:8080"]), { dstPort: 8080 })],
    [dns(chain), { src: "192.0.2.1", dst: "192.0.2.2", proto: 47, payload: Buffer.concat([Buffer.from([0, 0, 8, 0]), ipv4(tcp(hello))]) }],
    [{ src: "192.0.2.1", dst: "192.0.2.2", proto: 17, srcPort: 1000, dstPort: 4789, payload: vxlan(ethernet(ipv4(dns(chain)))) }],
    [{ src: "192.0.2.1", dst: "192.0.2.2", proto: 4, payload: vxlanDns }],
  ];
}

const INTERESTING_BYTES = [0x00, 0x01, 0x03, 0x05, 0x16, 0x3f, 0x40, 0x80, 0xc0, 0xc0, 0xff, 0x0a, 0x0d, 0x3a, 0x2e];
const INTERESTING_U16 = [0, 1, 2, 3, 4, 11, 12, 13, 32, 33, 63, 64, 253, 255, 256, 0x3fff, 0x4000, 0x7fff, 0x8000, 0xc00c, 0xffff];

/** Applies one random change to `payload`; returns the new bytes and what was done. */
function mutatePayload(payload: Buffer, random: Random): [Buffer, string] {
  const kind = random.below(6);
  if (payload.length === 0 || kind === 0) {
    const length = random.below(64);
    const bytes = Buffer.from(Array.from({ length }, () => random.pick(INTERESTING_BYTES)));
    const at = random.below(payload.length + 1);
    return [Buffer.concat([payload.subarray(0, at), bytes, payload.subarray(at)]), `insert ${length} bytes at ${at}`];
  }
  const at = random.below(payload.length);
  if (kind === 1) {
    const copy = Buffer.from(payload);
    copy[at]! ^= 1 << random.below(8);
    return [copy, `flip a bit at ${at}`];
  }
  if (kind === 2) {
    const copy = Buffer.from(payload);
    copy[at] = random.next() < 0.7 ? random.pick(INTERESTING_BYTES) : random.below(256);
    return [copy, `set byte ${at}`];
  }
  if (kind === 3 && at + 2 <= payload.length) {
    const copy = Buffer.from(payload);
    const value = random.pick(INTERESTING_U16);
    copy.writeUInt16BE(value, at);
    return [copy, `set u16 at ${at} to ${value}`];
  }
  if (kind === 4) return [payload.subarray(0, at), `truncate to ${at}`];
  const length = Math.min(1 + random.below(32), payload.length - at);
  return [Buffer.concat([payload.subarray(0, at), payload.subarray(at + length)]), `remove ${length} bytes at ${at}`];
}

/** Damages one to three packets of `packets`, in their payload or TCP fields. */
function mutate(packets: IPv4Options[], random: Random): { packets: IPv4Options[]; steps: string[] } {
  const copy = packets.map((packet) => ({ ...packet }));
  const steps: string[] = [];
  const count = 1 + random.below(3);
  for (let i = 0; i < count; i++) {
    const index = random.below(copy.length);
    const packet = copy[index]!;
    if (random.next() < 0.1) {
      packet.seq = (packet.seq ?? 0) + random.pick([-1, 1, 60, 120, 0x7fffffff]);
      packet.tcpFlags = random.pick([0x02, 0x10, 0x12, 0x18]);
      steps.push(`packet ${index}: seq ${packet.seq}, flags ${packet.tcpFlags}`);
      continue;
    }
    const [payload, step] = mutatePayload(Buffer.from(packet.payload ?? new Uint8Array(0)), random);
    packet.payload = payload;
    steps.push(`packet ${index}: ${step}`);
  }
  if (random.next() < 0.2) {
    const index = random.below(copy.length);
    copy.splice(index + 1, 0, { ...copy[index]! });
    steps.push(`repeat packet ${index}`);
  }
  return { packets: copy, steps };
}

function capture(packets: IPv4Options[]): Buffer {
  const records = packets.map((packet, i) => ({ tsSec: 1_700_000_000 + i, tsFrac: 0, data: ethernet(ipv4(packet)) }));
  return buildPcap(records, { linkType: 1 });
}

function chunkSizes(random: Random): number[] {
  return Array.from({ length: 8 }, () => 1 + random.below(random.next() < 0.3 ? 8 : 400));
}

/** Counter names (as in ScanResult.counters) by counter index. */
const COUNTER_NAMES = new Map<number, keyof typeof Counter>(Object.entries(Counter).map(([name, index]) => [index, name as keyof typeof Counter]));

/** Returns the broken invariants of one scan. */
export function problems(result: ScanResult): string[] {
  const found: string[] = [];
  const c = result.counters;
  const skipped = SKIP_REASONS.reduce((sum, [, index]) => sum + c[COUNTER_NAMES.get(index)!], 0);
  if (c.packets !== c.ipv4 + skipped) found.push(`packets ${c.packets} != decoded ${c.ipv4} + skipped ${skipped}`);
  if (result.hits.length !== c.alerts) found.push(`${result.hits.length} hits but ${c.alerts} alerts`);
  const dnsFailures = c.dnsTruncated + c.dnsBadPointer + c.dnsBadLabel + c.dnsNameTooLong + c.dnsUnsupported;
  if (dnsFailures > c.dnsResponses) found.push(`${dnsFailures} malformed DNS responses of ${c.dnsResponses}`);
  if (c.tlsNoSni > c.tlsClientHellos) found.push(`${c.tlsNoSni} ClientHellos without SNI of ${c.tlsClientHellos}`);
  if (c.namesSni > c.tlsClientHellos) found.push(`${c.namesSni} SNI names from ${c.tlsClientHellos} ClientHellos`);
  if (c.httpNoHost + c.namesHttp > c.httpRequests) found.push(`${c.httpNoHost} without Host and ${c.namesHttp} with, of ${c.httpRequests} requests`);
  if (c.namesRealerts > c.alerts) found.push(`${c.namesRealerts} re-alerts of ${c.alerts} alerts`);
  if (c.dnsAnswersCapped > c.dnsResponses) found.push(`${c.dnsAnswersCapped} capped of ${c.dnsResponses} responses`);
  for (const hit of result.hits) {
    const names = hit.names ?? [];
    if (names.length > 4) found.push(`hit ${hit.packet} has ${names.length} names`);
    for (const { name, sources } of names) {
      if (sources.length === 0) found.push(`name ${name} without a source`);
      if (!/^[\x21-\x7e]+$/.test(name)) found.push(`name ${JSON.stringify(name)} is not escaped`);
      if (name.replace(/\\x[0-9a-f]{2}/g, "_").length > 253) found.push(`name ${name} is longer than 253 bytes`);
    }
  }
  return found;
}

function summary(result: ScanResult): string {
  return JSON.stringify({ hits: result.hits, counters: result.counters, error: result.error?.message });
}

function run(options: NamesFuzzOptions): void {
  const port = parentPort!;
  const post = (message: WorkerMessage): void => port.postMessage(message);
  const all = bases();
  let totalBytes = 0;
  let names = 0;
  let ran = 0;
  for (let index = 0; index < options.cases; index++) {
    if (options.only !== undefined && index !== options.only) continue;
    const random = new Random(caseSeed(options.seed, index));
    const base = index % all.length;
    const { packets, steps } = mutate(all[base]!, random);
    const description = `case ${index}: base ${base}: ${steps.join(", ")}`;
    const bytes = capture(packets);
    post({ type: "case", index, description, bytes: bytes.length });
    const found: string[] = [];
    try {
      for (const namesTableEntries of [64, 4]) {
        const whole = scanBytes(bytes, { list: EVERYTHING, namesTableEntries });
        const sizes = chunkSizes(random);
        const split = scanBytes(bytes, { list: EVERYTHING, namesTableEntries, chunkSizes: sizes });
        found.push(...problems(whole));
        if (whole.error !== undefined) found.push(`capture error ${whole.error.message}`);
        if (summary(split) !== summary(whole)) found.push(`chunks ${sizes.join(",")} change the result with ${namesTableEntries} entries`);
        names += whole.counters.namesDns + whole.counters.namesSni + whole.counters.namesHttp;
      }
    } catch (error) {
      found.push(`threw ${(error as Error).stack ?? String(error)}`);
    }
    for (const problem of found) post({ type: "failure", index, description, problem });
    totalBytes += bytes.length;
    ran++;
  }
  post({ type: "done", cases: ran, bytes: totalBytes, names });
}

if (parentPort !== null && workerData !== undefined) run(workerData as NamesFuzzOptions);
