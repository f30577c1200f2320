// Turning hit batches into alert lines: text for people and grep, or one JSON
// object per line with Suricata EVE field names. Lines are built as bytes (see
// byte-builder.ts) because alert-heavy captures produce millions of them.

import type { Blocklist } from "../blocklist/build.js";
import * as abi from "../core/abi.js";
import type { HitBatch } from "../core/hits.js";
import { formatRange } from "../lists/ipv4.js";
import { utf8, type ByteBuilder } from "./byte-builder.js";
import { HostNameFormatter } from "./hostnames.js";
import { protocolName } from "./protocols.js";
import { TimestampFormatter } from "./timestamp.js";

export type AlertFormat = "text" | "json";

/**
 * Range and source labels of one loaded list. Source names are encoded once per
 * source set; range labels are formatted on each use, because a large list can
 * have a million ranges and a cache of them would grow with the capture.
 */
export class ListLabels {
  readonly list: Blocklist;
  readonly #setText: (Uint8Array | undefined)[] = [];
  readonly #setJson: (Uint8Array | undefined)[] = [];

  constructor(list: Blocklist) {
    this.list = list;
  }

  /** Returns the range as `a.b.c.d/n` or `first-last`. */
  range(index: number): Uint8Array {
    return utf8(formatRange(this.list.starts[index]!, this.list.ends[index]!));
  }

  /** Appends the range as `a.b.c.d/n` or `first-last`. */
  appendRange(out: ByteBuilder, index: number): void {
    out.range(this.list.starts[index]!, this.list.ends[index]!);
  }

  /** Returns the source names of range `index`, comma-separated. */
  sourcesText(index: number): Uint8Array {
    const set = this.list.setIds[index]!;
    let text = this.#setText[set];
    if (text === undefined) {
      text = utf8(this.#names(set).join(","));
      this.#setText[set] = text;
    }
    return text;
  }

  /** Returns the source names of range `index` as a JSON array. */
  sourcesJson(index: number): Uint8Array {
    const set = this.list.setIds[index]!;
    let json = this.#setJson[set];
    if (json === undefined) {
      json = utf8(JSON.stringify(this.#names(set)));
      this.#setJson[set] = json;
    }
    return json;
  }

  #names(set: number): string[] {
    return (this.list.sets[set] ?? []).map((source) => this.list.sources[source] ?? `#${source}`);
  }
}

export interface AlertContext {
  /** Name of the input shown in JSON as `pcap_filename` (omitted for stdin). */
  filename?: string;
  /** Text prefix naming the input, used when a run reads several inputs. */
  prefix?: string;
}

/**
 * Cached line ends per range index, at most MAX_ENTRIES of them: a capture that
 * hits many distinct ranges of a large list must not grow memory without bound,
 * so a full cache is emptied and refilled by the ranges hit from then on.
 */
class TailCache {
  static readonly MAX_ENTRIES = 4096;
  readonly #tails = new Map<number, Uint8Array>();

  get(range: number): Uint8Array | undefined {
    return this.#tails.get(range);
  }

  set(range: number, tail: Uint8Array): void {
    if (this.#tails.size >= TailCache.MAX_ENTRIES) this.#tails.clear();
    this.#tails.set(range, tail);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return joined;
}

const TEXT = {
  pkt: utf8(" pkt="),
  arrow: utf8(" -> "),
  matchBoth: utf8(" match=both src_range="),
  matchSrc: utf8(" match=src src_range="),
  matchDst: utf8(" match=dst dst_range="),
  srcSources: utf8(" src_sources="),
  dstRange: utf8(" dst_range="),
  dstSources: utf8(" dst_sources="),
  layer: utf8(" layer="),
};

const JSON_TEXT = {
  timestamp: utf8('{"timestamp":"'),
  eventType: utf8('","event_type":"alert","pcap_cnt":'),
  srcPort: utf8('","src_port":'),
  destIp: utf8(',"dest_ip":"'),
  destIpAfterAddress: utf8('","dest_ip":"'),
  destPort: utf8('","dest_port":'),
  layer: utf8(',"layer":'),
  side: utf8(',"match":{"side":"'),
  srcRange: utf8(',"src":{"range":"'),
  destRange: utf8(',"dest":{"range":"'),
  sources: utf8('","sources":'),
  end: utf8("}}\n"),
};

const SIDE_NAMES = { both: utf8("both"), src: utf8("src"), dest: utf8("dest") };
const PROTOCOL_NAMES: Uint8Array[] = Array.from({ length: 256 }, (_, proto) => utf8(protocolName(proto)));
/** `,"proto":"NAME","ip_proto":N` after a port, and the same after an address's closing quote. */
const JSON_PROTOCOLS: Uint8Array[] = Array.from({ length: 256 }, (_, proto) => utf8(`,"proto":"${protocolName(proto)}","ip_proto":${proto}`));
const JSON_PROTOCOLS_AFTER_ADDRESS: Uint8Array[] = JSON_PROTOCOLS.map((bytes) => concat([Uint8Array.of(0x22), bytes]));

const SPACE = 0x20;
const COLON = 0x3a;
const NEWLINE = 0x0a;
const QUOTE = 0x22;
const CLOSE_BRACE = 0x7d;

export class AlertFormatter {
  readonly #format: AlertFormat;
  readonly #timestamps = new TimestampFormatter();
  #prefix: Uint8Array | undefined;
  /** The optional `pcap_filename` member and the key of `src_ip`, which follows it. */
  #jsonSource: Uint8Array = utf8(',"src_ip":"');
  #labels: ListLabels;
  // The end of a line for a match on one side, per range index: most lines end in
  // one of these, so one copy replaces the half-dozen pieces it is made of.
  #srcTails = new TailCache();
  #dstTails = new TailCache();
  readonly #hostNames: HostNameFormatter;

  constructor(format: AlertFormat, labels: ListLabels) {
    this.#format = format;
    this.#labels = labels;
    this.#hostNames = new HostNameFormatter(format);
  }

  get labels(): ListLabels {
    return this.#labels;
  }

  /** Switches to the labels of a new list; hits from then on index into it. */
  set labels(labels: ListLabels) {
    this.#labels = labels;
    this.#srcTails = new TailCache();
    this.#dstTails = new TailCache();
  }

  /** Sets the input that the next hits come from. */
  setContext(context: AlertContext): void {
    this.#prefix = context.prefix !== undefined ? utf8(context.prefix) : undefined;
    const filename = context.filename !== undefined ? `,"pcap_filename":${JSON.stringify(context.filename)}` : "";
    this.#jsonSource = utf8(`${filename},"src_ip":"`);
  }

  /** Appends one line per reported hit of `batch` to `output`, skipping suppressed repeats. */
  formatBatch(batch: HitBatch, output: ByteBuilder): number {
    let written = 0;
    for (let i = 0; i < batch.count; i++) {
      const hit = batch.at(i);
      if ((batch.flags(hit) & abi.HF_SUPPRESSED) !== 0) continue;
      if (this.#format === "json") this.#json(batch, hit, output);
      else this.#text(batch, hit, output);
      written++;
    }
    return written;
  }

  #text(batch: HitBatch, hit: number, out: ByteBuilder): void {
    const hasPorts = (batch.flags(hit) & abi.HF_PORTS) !== 0;
    if (this.#prefix !== undefined) out.append(this.#prefix);
    this.#timestamps.append(out, batch.tsSeconds(hit), batch.tsFraction(hit), batch.tsDigits(hit));
    out.append(TEXT.pkt);
    out.decimal(batch.packetNumber(hit));
    out.byte(SPACE);
    out.append(PROTOCOL_NAMES[batch.proto(hit)]!);
    out.byte(SPACE);
    out.ipv4(batch.src(hit));
    if (hasPorts) {
      out.byte(COLON);
      out.decimal(batch.srcPort(hit));
    }
    out.append(TEXT.arrow);
    out.ipv4(batch.dst(hit));
    if (hasPorts) {
      out.byte(COLON);
      out.decimal(batch.dstPort(hit));
    }

    const srcRange = batch.srcRange(hit);
    const dstRange = batch.dstRange(hit);
    if (srcRange >= 0 && dstRange >= 0) {
      out.append(TEXT.matchBoth);
      this.#labels.appendRange(out, srcRange);
      out.append(TEXT.srcSources);
      out.append(this.#labels.sourcesText(srcRange));
      out.append(TEXT.dstRange);
      this.#labels.appendRange(out, dstRange);
      out.append(TEXT.dstSources);
      out.append(this.#labels.sourcesText(dstRange));
    } else if (srcRange >= 0) {
      out.append(this.#srcTails.get(srcRange) ?? this.#textTail(this.#srcTails, srcRange, TEXT.matchSrc, TEXT.srcSources));
    } else {
      out.append(this.#dstTails.get(dstRange) ?? this.#textTail(this.#dstTails, dstRange, TEXT.matchDst, TEXT.dstSources));
    }
    const layer = batch.layer(hit);
    if (layer > 0) {
      out.append(TEXT.layer);
      out.decimal(layer);
    }
    if (batch.namesLength(hit) !== 0) this.#hostNames.append(batch, hit, out);
    out.byte(NEWLINE);
  }

  #json(batch: HitBatch, hit: number, out: ByteBuilder): void {
    const hasPorts = (batch.flags(hit) & abi.HF_PORTS) !== 0;
    out.append(JSON_TEXT.timestamp);
    this.#timestamps.append(out, batch.tsSeconds(hit), batch.tsFraction(hit), batch.tsDigits(hit));
    out.append(JSON_TEXT.eventType);
    out.decimal(batch.packetNumber(hit));
    out.append(this.#jsonSource);
    out.ipv4(batch.src(hit));
    if (hasPorts) {
      out.append(JSON_TEXT.srcPort);
      out.decimal(batch.srcPort(hit));
      out.append(JSON_TEXT.destIp);
    } else {
      out.append(JSON_TEXT.destIpAfterAddress);
    }
    out.ipv4(batch.dst(hit));
    const proto = batch.proto(hit);
    if (hasPorts) {
      out.append(JSON_TEXT.destPort);
      out.decimal(batch.dstPort(hit));
      out.append(JSON_PROTOCOLS[proto]!);
    } else {
      out.append(JSON_PROTOCOLS_AFTER_ADDRESS[proto]!);
    }
    const layer = batch.layer(hit);
    if (layer > 0) {
      out.append(JSON_TEXT.layer);
      out.decimal(layer);
    }
    if (batch.namesLength(hit) !== 0) this.#hostNames.append(batch, hit, out);

    const srcRange = batch.srcRange(hit);
    const dstRange = batch.dstRange(hit);
    if (srcRange >= 0 && dstRange >= 0) {
      out.append(JSON_TEXT.side);
      out.append(SIDE_NAMES.both);
      out.byte(QUOTE);
      this.#appendJsonSide(out, JSON_TEXT.srcRange, srcRange);
      this.#appendJsonSide(out, JSON_TEXT.destRange, dstRange);
      out.append(JSON_TEXT.end);
    } else if (srcRange >= 0) {
      out.append(this.#srcTails.get(srcRange) ?? this.#jsonTail(this.#srcTails, srcRange, SIDE_NAMES.src, JSON_TEXT.srcRange));
    } else {
      out.append(this.#dstTails.get(dstRange) ?? this.#jsonTail(this.#dstTails, dstRange, SIDE_NAMES.dest, JSON_TEXT.destRange));
    }
  }

  #appendJsonSide(out: ByteBuilder, key: Uint8Array, range: number): void {
    out.append(key);
    this.#labels.appendRange(out, range);
    out.append(JSON_TEXT.sources);
    out.append(this.#labels.sourcesJson(range));
    out.byte(CLOSE_BRACE);
  }

  /** Builds and caches ` match=src src_range=R src_sources=S` (or the dst form). */
  #textTail(cache: TailCache, range: number, match: Uint8Array, sources: Uint8Array): Uint8Array {
    const tail = concat([match, this.#labels.range(range), sources, this.#labels.sourcesText(range)]);
    cache.set(range, tail);
    return tail;
  }

  /** Builds and caches `,"match":{"side":...}}` and the newline for a one-sided match. */
  #jsonTail(cache: TailCache, range: number, side: Uint8Array, key: Uint8Array): Uint8Array {
    const parts = [JSON_TEXT.side, side, Uint8Array.of(QUOTE), key, this.#labels.range(range), JSON_TEXT.sources, this.#labels.sourcesJson(range)];
    const tail = concat([...parts, Uint8Array.of(CLOSE_BRACE), JSON_TEXT.end]);
    cache.set(range, tail);
    return tail;
  }
}
