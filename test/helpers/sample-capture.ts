// The bundled demo capture (sample/demo.pcap): a few minutes of an office network
// talking to hosts in the RFC 5737 documentation ranges. `npm start` scans it
// against the lists in sample/lists/; test/sample.test.ts checks that the committed
// file matches this generator byte for byte.

import { buildPcap, type PcapRecord } from "../../src/pcap/writer.js";
import { ETHERTYPE_ARP, ETHERTYPE_IPV6, ethernet, ipv4 } from "./packets.js";

const START = Date.UTC(2026, 10, 20, 9, 15, 0) / 1000;

export function sampleCapture(): Buffer {
  const records: PcapRecord[] = [];
  const add = (offsetSeconds: number, micros: number, data: Uint8Array): void => {
    records.push({ tsSec: START + offsetSeconds, tsFrac: micros, data });
  };
  const tcp = (src: string, srcPort: number, dst: string, dstPort: number, payload = 0) =>
    ethernet(ipv4({ src, dst, proto: 6, srcPort, dstPort, payload: new Uint8Array(payload) }));
  const udp = (src: string, srcPort: number, dst: string, dstPort: number, payload = 0) =>
    ethernet(ipv4({ src, dst, proto: 17, srcPort, dstPort, payload: new Uint8Array(payload) }));

  // A lookup and a connection to a listed C2 stand-in, then more of the same flow.
  add(0, 120_000, udp("10.0.0.5", 53211, "10.0.0.1", 53, 30));
  add(0, 131_500, udp("10.0.0.1", 53, "10.0.0.5", 53211, 46));
  add(0, 140_250, tcp("10.0.0.5", 51000, "192.0.2.66", 443));
  add(0, 188_004, tcp("192.0.2.66", 443, "10.0.0.5", 51000));
  for (let i = 0; i < 6; i++) add(1 + i, 5_000 * i, tcp("10.0.0.5", 51000, "192.0.2.66", 443, 200 + i * 100));

  // Unlisted traffic, and frames without IPv4.
  add(8, 900, tcp("10.0.0.7", 52100, "198.51.100.200", 443, 120));
  add(9, 0, ethernet(Buffer.alloc(28), ETHERTYPE_ARP));
  add(9, 500_000, ethernet(Buffer.alloc(40), ETHERTYPE_IPV6));

  // A web request into the DROP stand-in network.
  add(12, 333_333, tcp("10.0.0.7", 52200, "198.51.100.23", 80, 300));
  add(12, 377_000, tcp("198.51.100.23", 80, "10.0.0.7", 52200, 1200));

  // An inbound SSH probe from an address on both lists, on a tagged VLAN.
  const probe = ethernet(ipv4({ src: "203.0.113.210", dst: "10.0.0.5", proto: 6, srcPort: 40522, dstPort: 22 }), 0x0800, [[0x8100, 20]]);
  add(30, 10, probe);
  add(31, 10, probe);

  // The C2 flow again after the 60-second suppression window: a new alert.
  add(75, 250_000, tcp("10.0.0.5", 51002, "192.0.2.66", 443));
  add(76, 0, udp("10.0.0.5", 53212, "10.0.0.1", 53, 30));
  return buildPcap(records, { linkType: 1, snaplen: 65535 });
}
