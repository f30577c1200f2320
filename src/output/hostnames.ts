// Host names on alert lines: the names the client used for the listed address,
// as the core copied them into the hit (see assembly/hitnames.ts).
//
// Text: ` names=bad.example(sni+dns),good.example(dns)`.
// JSON: `,"hostnames":["bad.example","good.example"],"hostname_sources":[["sni","dns"],["dns"]]`.
//
// Names come from the wire and may hold any byte. Each byte outside printable
// ASCII, and each of space, `"`, `(`, `)`, `,` and `\`, is written as `\xHH`, so
// a name is one token in text and the JSON string decodes to the same text.

import { NAME_CNAME, NAME_DNS, NAME_HTTP, NAME_SNI } from "../core/abi.js";
import type { HitBatch } from "../core/hits.js";
import { utf8, type ByteBuilder } from "./byte-builder.js";
import type { AlertFormat } from "./alerts.js";

export interface HostName {
  name: string;
  /** Sources of the name: "sni", "http", "dns" (the question) or "cname" (the canonical name). */
  sources: string[];
}

/** Source bits in the order they are listed: names the client sent first, then DNS. */
const SOURCES: ReadonlyArray<readonly [number, string]> = [
  [NAME_SNI, "sni"],
  [NAME_HTTP, "http"],
  [NAME_DNS, "dns"],
  [NAME_CNAME, "cname"],
];

const HEX = "0123456789abcdef";

/** Returns `bytes` as printable ASCII, with the bytes described above as `\xHH`. */
export function escapeHostName(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) {
    const plain = byte > 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x28 && byte !== 0x29 && byte !== 0x2c && byte !== 0x5c;
    text += plain ? String.fromCharCode(byte) : `\\x${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return text;
}

/**
 * Decodes a hit's names: a count byte, then per name a sources byte, a length
 * byte and the name. Stops at the end of `bytes` if the count claims more.
 */
export function decodeHostNames(bytes: Uint8Array): HostName[] {
  const names: HostName[] = [];
  const count = bytes[0] ?? 0;
  let at = 1;
  for (let i = 0; i < count && at + 2 <= bytes.length; i++) {
    const sourceBits = bytes[at]!;
    const length = bytes[at + 1]!;
    const name = escapeHostName(bytes.subarray(at + 2, Math.min(at + 2 + length, bytes.length)));
    names.push({ name, sources: SOURCES.filter(([bit]) => (sourceBits & bit) !== 0).map(([, label]) => label) });
    at += 2 + length;
  }
  return names;
}

/** Returns the text form: ` names=` and each name with its sources in brackets. */
export function hostNamesText(names: HostName[]): string {
  return ` names=${names.map(({ name, sources }) => `${name}(${sources.join("+")})`).join(",")}`;
}

/** Returns the JSON members `,"hostnames":[...],"hostname_sources":[...]`. */
export function hostNamesJson(names: HostName[]): string {
  const hostnames = JSON.stringify(names.map(({ name }) => name));
  const sources = JSON.stringify(names.map(({ sources: labels }) => labels));
  return `,"hostnames":${hostnames},"hostname_sources":${sources}`;
}

/** Formatted names kept before the cache starts over. */
const CACHE_LIMIT = 16384;

/**
 * Appends the names of hits to alert lines. The formatted bytes are cached by
 * the names' version, which the core changes with every change of an entry, so
 * a run of alerts on one flow decodes its names once.
 */
export class HostNameFormatter {
  readonly #format: AlertFormat;
  readonly #cache = new Map<number, Uint8Array>();

  constructor(format: AlertFormat) {
    this.#format = format;
  }

  /** Appends the names of `hit`, which must have some (a non-zero namesLength). */
  append(batch: HitBatch, hit: number, out: ByteBuilder): void {
    const version = batch.namesVersion(hit);
    let bytes = this.#cache.get(version);
    if (bytes === undefined) {
      const names = decodeHostNames(batch.namesData(hit));
      bytes = utf8(this.#format === "json" ? hostNamesJson(names) : hostNamesText(names));
      if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
      this.#cache.set(version, bytes);
    }
    out.append(bytes);
  }
}
