// Baseline for the benchmarks: what a careful Node.js developer writes without
// WebAssembly. Same job and output as scan.c: classic little-endian pcap read in
// 4 MiB fs.readSync calls (or from stdin), Ethernet with 802.1Q/802.1ad tags or raw
// IPv4, binary search over Uint32Array ranges, one "packet src dst" line per match.
//
//   node scan-plain.mjs LIST CAPTURE|-

import { closeSync, openSync, readFileSync, readSync, writeSync } from "node:fs";

const CHUNK = 4 << 20;
const MAX_CAPLEN = 262144;

function loadList(path) {
  const starts = [];
  const ends = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!/^[0-9]/.test(line)) continue;
    const [first, last] = line.split("-");
    starts.push(toNumber(first));
    ends.push(last === undefined ? toNumber(first) : toNumber(last));
  }
  return { starts: Uint32Array.from(starts), ends: Uint32Array.from(ends) };
}

function toNumber(text) {
  return text.split(".").reduce((value, octet) => value * 256 + Number(octet), 0);
}

function lookup(list, address) {
  let low = 0;
  let high = list.starts.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (list.starts[middle] <= address) low = middle + 1;
    else high = middle;
  }
  return low > 0 && list.ends[low - 1] >= address ? low - 1 : -1;
}

const [listPath, capturePath] = process.argv.slice(2);
const list = loadList(listPath);
const fd = capturePath === "-" ? 0 : openSync(capturePath, "r");
const buffer = Buffer.alloc(CHUNK + MAX_CAPLEN + 16);
const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);

let filled = 0;
while (filled < 24) {
  const got = readSync(fd, buffer, filled, 24 - filled, null);
  if (got === 0) throw new Error("not a pcap");
  filled += got;
}
if (view.getUint32(0, true) !== 0xa1b2c3d4) throw new Error("not a little-endian pcap");
const linkType = view.getUint32(20, true) & 0xffff;

let position = 0;
filled = 0;
let packet = 0;
let matches = 0;
let output = "";
for (;;) {
  buffer.copy(buffer, 0, position, filled);
  filled -= position;
  position = 0;
  let got;
  try {
    got = readSync(fd, buffer, filled, CHUNK, null);
  } catch (error) {
    if (error.code === "EAGAIN") continue;
    if (error.code === "EOF") break;
    throw error;
  }
  if (got === 0) break;
  filled += got;
  while (filled - position >= 16) {
    const caplen = view.getUint32(position + 8, true);
    if (caplen > MAX_CAPLEN) throw new Error(`record ${packet + 1}: bad caplen`);
    if (filled - position - 16 < caplen) break;
    const frame = position + 16;
    position += 16 + caplen;
    packet++;
    let offset = frame;
    if (linkType === 1) {
      if (caplen < 14) continue;
      let type = view.getUint16(frame + 12);
      offset = frame + 14;
      while ((type === 0x8100 || type === 0x88a8) && offset + 4 <= frame + caplen) {
        type = view.getUint16(offset + 2);
        offset += 4;
      }
      if (type !== 0x0800) continue;
    }
    const first = buffer[offset];
    if (offset + 20 > frame + caplen || first >> 4 !== 4 || (first & 15) < 5) continue;
    const src = view.getUint32(offset + 12);
    const dst = view.getUint32(offset + 16);
    if (lookup(list, src) >= 0 || lookup(list, dst) >= 0) {
      matches++;
      output += `${packet} ${src} ${dst}\n`;
      if (output.length > 65536) {
        writeSync(1, output);
        output = "";
      }
    }
  }
}
writeSync(1, output);
if (fd !== 0) closeSync(fd);
process.stderr.write(`scan-plain: ${packet} packets, ${matches} matches\n`);
process.exitCode = matches > 0 ? 0 : 1;
