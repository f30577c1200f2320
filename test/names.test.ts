// Host names on alerts: DNS answers, TLS server names and HTTP Host headers read
// in the core, kept per client and server, and attached to the hits.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildPcap } from "../src/pcap/writer.js";
import { decodeHostNames, escapeHostName, hostNamesJson, hostNamesText } from "../src/output/hostnames.js";
import { clientHello, dnsAnswer, dnsMessage, httpRequest, tcpDnsFrame, TYPE_A, TYPE_CNAME } from "./helpers/name-payloads.js";
import { ethernet, ipv4, type IPv4Options } from "./helpers/packets.js";
import { listOf, scanBytes, type ScanBytesOptions, type ScanResult } from "./helpers/scan.js";

const RESOLVER = "10.1.1.1";
const CLIENT = "10.1.1.10";
const OTHER_CLIENT = "10.1.1.20";
const SHARED = "203.0.113.7";
const LIST = listOf([SHARED]);
const SYN = 0x02;
const PSH_ACK = 0x18;

function capture(packets: IPv4Options[]): Buffer {
  const records = packets.map((options, i) => ({ tsSec: 1_700_000_000 + i, tsFrac: 0, data: ethernet(ipv4(options)) }));
  return buildPcap(records, { linkType: 1 });
}

function scan(packets: IPv4Options[], options: ScanBytesOptions = {}): ScanResult {
  return scanBytes(capture(packets), { list: LIST, ...options });
}

/** Returns a DNS response packet from the resolver to `client` over UDP. */
function dnsReply(client: string, message: Uint8Array): IPv4Options {
  return { src: RESOLVER, dst: client, proto: 17, srcPort: 53, dstPort: 33000, payload: message };
}

function syn(client: string, server: string, port = 443, seq = 1000): IPv4Options {
  return { src: client, dst: server, proto: 6, srcPort: 50000, dstPort: port, seq, tcpFlags: SYN };
}

/** Returns a client segment of the connection that `syn` opened (data starts at seq + 1). */
function segment(client: string, server: string, payload: Uint8Array, offset = 0, port = 443, seq = 1000): IPv4Options {
  return { src: client, dst: server, proto: 6, srcPort: 50000, dstPort: port, seq: seq + 1 + offset, tcpFlags: PSH_ACK, payload };
}

/** Returns each hit's names as "name(sources)" strings. */
function namesOf(result: ScanResult): string[][] {
  return result.hits.map((hit) => (hit.names ?? []).map(({ name, sources }) => `${name}(${sources.join("+")})`));
}

describe("names from DNS and TLS on one shared address", () => {
  const packets = [
    dnsReply(CLIENT, dnsAnswer("good.example", [SHARED])),
    dnsReply(CLIENT, dnsAnswer("bad.example", [SHARED])),
    dnsReply(OTHER_CLIENT, dnsAnswer("good.example", [SHARED])),
    syn(CLIENT, SHARED),
    segment(CLIENT, SHARED, clientHello({ serverName: "bad.example" })),
    syn(OTHER_CLIENT, SHARED),
    segment(OTHER_CLIENT, SHARED, clientHello({ serverName: "good.example" })),
  ];

  it("lists the name each client used", () => {
    const result = scan(packets, { dedupSeconds: 60 });
    assert.deepEqual(namesOf(result), [
      ["bad.example(dns)", "good.example(dns)"],
      ["bad.example(sni+dns)", "good.example(dns)"],
      ["good.example(dns)"],
      ["good.example(sni+dns)"],
    ]);
    assert.deepEqual(
      result.hits.map((hit) => hit.src),
      [CLIENT, CLIENT, OTHER_CLIENT, OTHER_CLIENT],
    );
  });

  it("alerts again within the dedup window for a new name", () => {
    const result = scan(packets, { dedupSeconds: 60 });
    assert.equal(result.counters.alerts, 4);
    assert.equal(result.counters.namesRealerts, 2);
    assert.equal(result.counters.suppressed, 0);
  });

  it("counts what it read", () => {
    const { counters } = scan(packets);
    assert.equal(counters.dnsResponses, 3);
    assert.equal(counters.namesDns, 3);
    assert.equal(counters.tlsClientHellos, 2);
    assert.equal(counters.namesSni, 2);
    assert.equal(counters.tlsClientHelloSplit, 0);
  });

  it("attaches nothing when the names table size is 0", () => {
    const result = scan(packets, { namesTableEntries: 0 });
    assert.equal(result.hits.length, 4);
    assert.ok(result.hits.every((hit) => hit.names === undefined));
    assert.equal(result.counters.dnsResponses, 0);
    assert.equal(result.counters.tlsClientHellos, 0);
  });

  it("suppresses a repeat that brings no new name", () => {
    const repeat = segment(CLIENT, SHARED, Buffer.from("more bytes"), 600);
    const result = scan([...packets.slice(0, 5), repeat], { dedupSeconds: 60 });
    assert.equal(result.hits.length, 2);
    assert.equal(result.counters.suppressed, 1);
  });

  it("gives an inbound hit the names its client used", () => {
    const reply: IPv4Options = { src: SHARED, dst: CLIENT, proto: 6, srcPort: 443, dstPort: 50000, tcpFlags: 0x12 };
    const result = scan([packets[1]!, reply]);
    assert.deepEqual(namesOf(result), [["bad.example(dns)"]]);
  });
});

describe("DNS answers", () => {
  it("maps a CNAME chain to the question and the canonical name", () => {
    const message = dnsMessage({
      question: { name: "www.bad.example" },
      answers: [
        { name: "www.bad.example", type: TYPE_CNAME, data: "bad.example.cdn.example" },
        { name: "bad.example.cdn.example", type: TYPE_CNAME, data: "edge7.cdn.example" },
        { name: "edge7.cdn.example", type: TYPE_A, data: SHARED },
      ],
      compress: true,
    });
    const result = scan([dnsReply(CLIENT, message), syn(CLIENT, SHARED)]);
    assert.deepEqual(namesOf(result), [["edge7.cdn.example(cname)", "www.bad.example(dns)"]]);
  });

  it("ignores an A record outside the chain", () => {
    const message = dnsMessage({
      question: { name: "asked.example" },
      answers: [{ name: "unrelated.example", type: TYPE_A, data: SHARED }],
    });
    const result = scan([dnsReply(CLIENT, message), syn(CLIENT, SHARED)]);
    assert.deepEqual(namesOf(result), [[]]);
    assert.equal(result.counters.namesDns, 0);
  });

  it("reads compressed and uncompressed answers alike", () => {
    for (const compress of [false, true]) {
      const result = scan([dnsReply(CLIENT, dnsAnswer("Mixed.Case.Example", [SHARED], compress)), syn(CLIENT, SHARED)]);
      assert.deepEqual(namesOf(result), [["mixed.case.example(dns)"]], `compress ${compress}`);
    }
  });

  it("ignores queries", () => {
    const query = dnsMessage({ flags: 0x0100, question: { name: "bad.example" } });
    const result = scan([{ src: RESOLVER, dst: CLIENT, proto: 17, srcPort: 53, dstPort: 53, payload: query }]);
    assert.equal(result.counters.dnsResponses, 0);
  });

  it("counts a response to another opcode as unsupported", () => {
    const message = dnsMessage({ flags: 0x8000 | (4 << 11), question: { name: "bad.example" } });
    const result = scan([dnsReply(CLIENT, message)]);
    assert.equal(result.counters.dnsUnsupported, 1);
  });

  it("records at most 32 answers and counts the cap", () => {
    const addresses = Array.from({ length: 100 }, (_, i) => `203.0.113.${i + 1}`);
    const flows = [addresses[0]!, addresses[31]!, addresses[32]!].map((server) => syn(CLIENT, server));
    const result = scan([dnsReply(CLIENT, dnsAnswer("many.example", addresses)), ...flows], { list: listOf(["203.0.113.0/24"]) });
    assert.deepEqual(namesOf(result), [["many.example(dns)"], ["many.example(dns)"], []]);
    assert.equal(result.counters.dnsAnswersCapped, 1);
    assert.equal(result.counters.namesDns, 32);
  });
});

/** Builds a response whose question name starts at offset 12, with `body` after the header. */
function rawResponse(body: number[], answers = 0): Buffer {
  const header = Buffer.from([0x12, 0x34, 0x81, 0x80, 0, 1, 0, answers, 0, 0, 0, 0]);
  return Buffer.concat([header, Buffer.from(body)]);
}

describe("malformed DNS", () => {
  const cases: Array<[string, Buffer, keyof ScanResult["counters"]]> = [
    ["a pointer to itself", rawResponse([0xc0, 12, 0, 1, 0, 1]), "dnsBadPointer"],
    ["two pointers to each other", rawResponse([1, 0x61, 0xc0, 16, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4], 1), "dnsBadPointer"],
    ["a pointer past the end", rawResponse([0xff, 0xff, 0, 1, 0, 1]), "dnsBadPointer"],
    ["a pointer into the header", rawResponse([0xc0, 2, 0, 1, 0, 1]), "dnsBadPointer"],
    ["a label cut short", rawResponse([5, 0x61, 0x62]), "dnsTruncated"],
    ["a header cut short", Buffer.from([0x12, 0x34, 0x81, 0x80, 0, 1]), "dnsTruncated"],
    ["an extended label type", rawResponse([0x41, 0x61, 0, 0, 1, 0, 1]), "dnsBadLabel"],
    ["a name over 255 bytes", rawResponse([...Array.from({ length: 5 }, () => [63, ...Array.from({ length: 63 }, () => 0x61)]).flat(), 0, 0, 1, 0, 1]), "dnsNameTooLong"],
    ["two questions", Buffer.from([0x12, 0x34, 0x81, 0x80, 0, 2, 0, 0, 0, 0, 0, 0]), "dnsUnsupported"],
  ];
  for (const [name, message, counter] of cases) {
    it(`counts ${name}`, () => {
      const result = scan([dnsReply(CLIENT, message)]);
      assert.equal(result.counters.dnsResponses, 1);
      assert.equal(result.counters[counter], 1);
      assert.equal(result.counters.namesDns, 0);
    });
  }

  it("keeps the answers before a cut", () => {
    const whole = dnsAnswer("cut.example", [SHARED, "203.0.113.8"]);
    const result = scan([dnsReply(CLIENT, whole.subarray(0, whole.length - 2)), syn(CLIENT, SHARED)]);
    assert.equal(result.counters.dnsTruncated, 1);
    assert.deepEqual(namesOf(result), [["cut.example(dns)"]]);
  });
});

describe("DNS over TCP", () => {
  function tcpReply(payload: Uint8Array): IPv4Options {
    return { src: RESOLVER, dst: CLIENT, proto: 6, srcPort: 53, dstPort: 40000, tcpFlags: PSH_ACK, payload };
  }

  it("reads a length-prefixed response", () => {
    const result = scan([tcpReply(tcpDnsFrame(dnsAnswer("tcp.example", [SHARED]))), syn(CLIENT, SHARED)]);
    assert.deepEqual(namesOf(result), [["tcp.example(dns)"]]);
  });

  it("reads a 64 KiB response in one segment with bounded work", () => {
    const addresses = Array.from({ length: 40 }, (_, i) => `198.51.100.${i + 1}`);
    const answers = addresses.map((address) => ({ name: "big.example", type: TYPE_A, data: address }));
    const small = dnsMessage({ question: { name: "big.example" }, answers, compress: true });
    // A TXT-like record of another type fills the message to 65535 bytes.
    const filler = { name: "big.example", type: 16, data: Buffer.alloc(65535 - small.length - 2 - 10, 0x61) };
    const message = dnsMessage({ question: { name: "big.example" }, answers: [...answers, filler], compress: true });
    assert.equal(message.length, 65535);
    // Only a segmentation-offload capture (IPv4 total length 0) contains a segment this long.
    const segment64k = { ...tcpReply(tcpDnsFrame(message)), totalLength: 0 };
    const result = scan([segment64k, syn(CLIENT, "198.51.100.1")], { list: listOf(["198.51.100.0/24"]) });
    assert.deepEqual(namesOf(result), [["big.example(dns)"]]);
    assert.equal(result.counters.dnsAnswersCapped, 1);
    assert.equal(result.counters.namesDns, 32);
  });

  it("reads the start of a message longer than its segment", () => {
    const message = dnsAnswer("long.example", [SHARED, "203.0.113.8", "203.0.113.9"]);
    const frame = tcpDnsFrame(message, 65535);
    const result = scan([tcpReply(frame), syn(CLIENT, SHARED)]);
    assert.equal(result.counters.dnsTcpPartial, 1);
    assert.equal(result.counters.dnsTruncated, 0);
    assert.deepEqual(namesOf(result), [["long.example(dns)"]]);
  });
});

describe("TLS server names", () => {
  const hello = clientHello({ serverName: "split.example", paddingBefore: 300 });

  it("reassembles a ClientHello split over two segments", () => {
    const packets = [syn(CLIENT, SHARED), segment(CLIENT, SHARED, hello.subarray(0, 100)), segment(CLIENT, SHARED, hello.subarray(100), 100)];
    for (const chunkSizes of [undefined, [7, 13, 101]]) {
      const result = scan(packets, chunkSizes === undefined ? {} : { chunkSizes });
      assert.equal(result.counters.tlsClientHelloSplit, 1);
      assert.equal(result.counters.tlsClientHellos, 1);
      assert.deepEqual(namesOf(result).at(-1), ["split.example(sni)"]);
    }
  });

  it("reassembles over three segments and skips a retransmission", () => {
    const packets = [
      syn(CLIENT, SHARED),
      segment(CLIENT, SHARED, hello.subarray(0, 100)),
      segment(CLIENT, SHARED, hello.subarray(0, 100)),
      segment(CLIENT, SHARED, hello.subarray(100, 200), 100),
      segment(CLIENT, SHARED, hello.subarray(200), 200),
    ];
    const result = scan(packets);
    assert.deepEqual(namesOf(result).at(-1), ["split.example(sni)"]);
    assert.equal(result.counters.tlsClientHelloIncomplete, 0);
  });

  it("reassembles without the SYN", () => {
    const result = scan([segment(CLIENT, SHARED, hello.subarray(0, 50)), segment(CLIENT, SHARED, hello.subarray(50), 50)]);
    assert.deepEqual(namesOf(result).at(-1), ["split.example(sni)"]);
  });

  it("gives up on a split ClientHello with a gap", () => {
    const packets = [syn(CLIENT, SHARED), segment(CLIENT, SHARED, hello.subarray(0, 100)), segment(CLIENT, SHARED, hello.subarray(200), 200)];
    const result = scan(packets);
    assert.equal(result.counters.tlsClientHelloSplit, 1);
    assert.equal(result.counters.tlsClientHelloIncomplete, 1);
    assert.equal(result.counters.namesSni, 0);
  });

  it("counts a non-TLS first payload on port 443 once", () => {
    const packets = [syn(CLIENT, SHARED), segment(CLIENT, SHARED, Buffer.from("SSH-2.0-OpenSSH_9.6\r\n")), segment(CLIENT, SHARED, Buffer.from("more"), 21)];
    const result = scan(packets);
    assert.equal(result.counters.tlsNotTls443, 1);
    assert.equal(result.counters.tlsMalformed, 0);
  });

  it("counts plain HTTP on port 443 and reads its Host", () => {
    const result = scan([syn(CLIENT, SHARED), segment(CLIENT, SHARED, httpRequest("GET", ["Host: plain.example"]))]);
    assert.equal(result.counters.tlsNotTls443, 1);
    assert.deepEqual(namesOf(result).at(-1), ["plain.example(http)"]);
  });

  it("reads a ClientHello on another port", () => {
    const result = scan([syn(CLIENT, SHARED, 8443), segment(CLIENT, SHARED, clientHello({ serverName: "alt.example" }), 0, 8443)]);
    assert.deepEqual(namesOf(result).at(-1), ["alt.example(sni)"]);
  });

  it("counts a ClientHello without server_name", () => {
    const result = scan([segment(CLIENT, SHARED, clientHello())]);
    assert.equal(result.counters.tlsClientHellos, 1);
    assert.equal(result.counters.tlsNoSni, 1);
  });

  it("counts a ClientHello whose lengths disagree as malformed", () => {
    const broken = Buffer.from(hello);
    broken.writeUInt16BE(0xfff0, 5 + 4 + 34 + 1 + 32); // cipher suites length past the end
    const result = scan([segment(CLIENT, SHARED, broken)]);
    assert.equal(result.counters.tlsMalformed, 1);
  });
});

describe("HTTP Host headers", () => {
  const cases: Array<[string, Buffer, string]> = [
    ["GET", httpRequest("GET", ["Host: web.example"]), "web.example"],
    ["POST with a port", httpRequest("POST", ["Content-Length: 0", "Host: web.example:8080"]), "web.example"],
    ["an upper-case name and value", httpRequest("GET", ["HOST: WEB.Example"]), "web.example"],
    ["a lower-case name and tabs", httpRequest("HEAD", ["host:\tweb.example\t"]), "web.example"],
    ["an IPv6 literal", httpRequest("GET", ["Host: [2001:db8::1]:8080"]), "[2001:db8::1]"],
  ];
  for (const [name, request, expected] of cases) {
    it(`reads ${name}`, () => {
      const result = scan([segment(CLIENT, SHARED, request, 0, 80)]);
      assert.deepEqual(namesOf(result), [[`${expected}(http)`]]);
      assert.equal(result.counters.httpRequests, 1);
    });
  }

  it("orders names newest first at every chunk split", () => {
    // Three flows from one client to one server: Host a, then b, then a again.
    const request = (port: number, host: string): IPv4Options => ({
      src: CLIENT,
      dst: SHARED,
      proto: 6,
      srcPort: port,
      dstPort: 80,
      seq: 1001,
      tcpFlags: PSH_ACK,
      payload: httpRequest("GET", [`Host: ${host}`]),
    });
    const bytes = capture([request(50001, "a.example"), request(50002, "b.example"), request(50003, "a.example")]);
    const expected = [["a.example(http)"], ["b.example(http)", "a.example(http)"], ["a.example(http)", "b.example(http)"]];
    assert.deepEqual(namesOf(scanBytes(bytes, { list: LIST })), expected);
    for (let split = 1; split < bytes.length; split++) {
      const result = scanBytes(bytes, { list: LIST, chunkSizes: [split, bytes.length] });
      assert.deepEqual(namesOf(result), expected, `split at byte ${split}`);
    }
  });

  it("counts a request without Host", () => {
    const result = scan([segment(CLIENT, SHARED, httpRequest("GET", ["Accept: */*"]), 0, 80)]);
    assert.equal(result.counters.httpNoHost, 1);
    assert.equal(result.counters.namesHttp, 0);
  });

  it("ignores a head cut before its Host line", () => {
    const request = httpRequest("GET", ["Accept: */*", "Host: web.example"]);
    const result = scan([segment(CLIENT, SHARED, request.subarray(0, 30), 0, 80)]);
    assert.equal(result.counters.httpRequests, 1);
    assert.equal(result.counters.httpNoHost, 0);
    assert.equal(result.counters.namesHttp, 0);
  });

  it("ignores a line that only looks like a request", () => {
    const result = scan([segment(CLIENT, SHARED, Buffer.from("GET lost\r\nHost: web.example\r\n\r\n"), 0, 80)]);
    assert.equal(result.counters.httpRequests, 0);
    assert.equal(result.counters.namesHttp, 0);
  });
});

describe("names table", () => {
  it("evicts the least recently used pair of a full table and counts it", () => {
    const servers = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4", "203.0.113.5"];
    const packets = servers.map((server, i) => segment(CLIENT, server, httpRequest("GET", [`Host: h${i}.example`]), 0, 80));
    const result = scan([...packets, syn(CLIENT, servers[0]!, 80, 5)], { list: listOf(["203.0.113.0/24"]), namesTableEntries: 4 });
    assert.equal(result.counters.namesEvicted, 1);
    assert.deepEqual(namesOf(result).at(-1), []);
  });

  it("keeps the four most recent names of a pair", () => {
    const names = ["n1.example", "n2.example", "n3.example", "n4.example", "n5.example"];
    const result = scan([...names.map((name) => dnsReply(CLIENT, dnsAnswer(name, [SHARED]))), syn(CLIENT, SHARED)]);
    assert.deepEqual(namesOf(result), [["n5.example(dns)", "n4.example(dns)", "n3.example(dns)", "n2.example(dns)"]]);
    assert.equal(result.counters.namesReplaced, 1);
  });

  it("rejects an empty server name", () => {
    const result = scan([segment(CLIENT, SHARED, clientHello({ serverName: "" }))]);
    assert.equal(result.counters.namesRejected, 1);
  });
});

describe("name output", () => {
  it("escapes bytes that could break a line", () => {
    assert.equal(escapeHostName(Buffer.from('a"b\\c,d(e) f\x01\xff.example', "latin1")), "a\\x22b\\x5cc\\x2cd\\x28e\\x29\\x20f\\x01\\xff.example");
  });

  it("formats text and JSON from the core's encoding", () => {
    const bytes = Buffer.concat([Buffer.from([2, 4 | 1, 11]), Buffer.from("bad.example"), Buffer.from([1, 5]), Buffer.from('x"y\\z')]);
    const names = decodeHostNames(bytes);
    assert.equal(hostNamesText(names), " names=bad.example(sni+dns),x\\x22y\\x5cz(dns)");
    const json = JSON.parse(`{${hostNamesJson(names).slice(1)}}`) as { hostnames: string[]; hostname_sources: string[][] };
    assert.deepEqual(json.hostnames, ["bad.example", "x\\x22y\\x5cz"]);
    assert.deepEqual(json.hostname_sources, [["sni", "dns"], ["dns"]]);
  });

  it("stops decoding at the end of the bytes", () => {
    assert.deepEqual(decodeHostNames(Buffer.from([3, 1, 50, 0x61])), [{ name: "a", sources: ["dns"] }]);
  });
});
