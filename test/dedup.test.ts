// Suppression of repeat alerts for the same source and destination pair.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HF_SUPPRESSED } from "../src/core/abi.js";
import { buildPcap, type PcapRecord } from "../src/pcap/writer.js";
import { ipv4 } from "./helpers/packets.js";
import { scanBytes } from "./helpers/scan.js";

function capture(times: Array<[number, string, string]>): Buffer {
  const records: PcapRecord[] = times.map(([time, src, dst]) => ({
    tsSec: Math.floor(time),
    tsFrac: Math.round((time % 1) * 1e6),
    data: ipv4({ src, dst, proto: 1 }),
  }));
  return buildPcap(records, { linkType: 228 });
}

describe("repeat suppression", () => {
  const bytes = capture([
    [1000, "192.0.2.1", "10.0.0.1"],
    [1010, "192.0.2.1", "10.0.0.1"],
    [1010.5, "10.0.0.1", "192.0.2.1"],
    [1059.999, "192.0.2.1", "10.0.0.1"],
    [1060, "192.0.2.1", "10.0.0.1"],
    [1061, "192.0.2.1", "10.0.0.1"],
  ]);

  it("suppresses a pair for the window after its alert", () => {
    const result = scanBytes(bytes, { dedupSeconds: 60 });
    assert.deepEqual(result.hits.map((hit) => hit.packet), [1, 3, 5]);
    assert.equal(result.counters.alerts, 3);
    assert.equal(result.counters.suppressed, 3);
  });

  it("reports every packet with a window of 0", () => {
    const result = scanBytes(bytes, { dedupSeconds: 0 });
    assert.equal(result.hits.length, 6);
    assert.equal(result.counters.suppressed, 0);
  });

  it("returns suppressed repeats flagged when asked", () => {
    const result = scanBytes(bytes, { dedupSeconds: 60, returnSuppressed: true });
    assert.equal(result.hits.length, 6);
    assert.deepEqual(
      result.hits.filter((hit) => (hit.flags & HF_SUPPRESSED) !== 0).map((hit) => hit.packet),
      [2, 4, 6],
    );
  });

  it("alerts again when capture time jumps backwards past the window", () => {
    const result = scanBytes(capture([
      [5000, "192.0.2.1", "10.0.0.1"],
      [100, "192.0.2.1", "10.0.0.1"],
    ]), { dedupSeconds: 60 });
    assert.equal(result.hits.length, 2);
  });

  it("never loses a first alert when the table overflows", () => {
    const times: Array<[number, string, string]> = [];
    for (let i = 0; i < 100_000; i++) times.push([1000, `192.0.${(i >> 8) & 255}.${i & 255}`, `10.${i >> 16}.0.1`]);
    const result = scanBytes(capture(times), { dedupSeconds: 60 });
    assert.equal(result.counters.alerts, 100_000);
    assert.ok(result.counters.dedupEvictions > 0);
  });
});
