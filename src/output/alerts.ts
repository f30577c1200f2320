// Turning hit batches into alert lines: text for people and grep, or one JSON
// object per line with Suricata EVE field names. Lines are built as bytes (see
// byte-builder.ts) because alert-heavy captures produce millions of them.

import type { Blocklist } from "../blocklist/build.js";
import * as abi from "../core/abi.js";
import type { HitBatch } from "../core/hits.js";
import { formatDay, listedSince, listingsAt, narrowest } from "../blocklist/provenance.js";
import { formatRange } from "../lists/ipv4.js";
import type { AllowFilter } from "./allow.js";
import { utf8, type ByteBuilder } from "./byte-builder.js";
import { DIRECTION_NAMES, type HomeNet } from "./direction.js";
import { HostNameFormatter } from "./hostnames.js";
import { protocolName } from "./protocols.js";
import { TimestampFormatter } from "./timestamp.js";

export type AlertFormat = "text" | "json";

/**
 * Range and source labels of one loaded list, formatted on each use, because a
 * large list can have a million ranges and a cache of them would grow with the
 * capture. The formatter's bounded tail caches keep the common ones.
 *
 * A range's label names the source entries that contain it, found from the
 * hit's address: the table never joins ranges across an entry's boundary, so
 * any address of the range gives the same entries.
 */
export class ListLabels {
  readonly list: Blocklist;
  /** Source names per source set, comma-separated; one string per set, built on first use. */
  readonly #setNames = new Map<number, string>();

  constructor(list: Blocklist) {
    this.list = list;
  }

  /**
   * Returns `lead` and ` src_range=R src_sources=S src_listed_since=D` (with
   * `prefix` for src) for range `index`, which contains `address`: the narrowest
   * entry a source lists, the sources, and the earliest first-seen day, left out
   * when unknown. One encoding per call, because a capture that hits many ranges
   * builds many of these.
   */
  sideText(prefix: string, index: number, address: number, lead = ""): string {
    const listings = listingsAt(this.list, index, address);
    const since = listedSince(listings);
    const sinceText = since !== 0 ? ` ${prefix}_listed_since=${formatDay(since)}` : "";
    return `${lead} ${prefix}_range=${this.#narrowest(listings, index)} ${prefix}_sources=${this.#names(index)}${sinceText}`;
  }

  /** Returns `lead`, `{"range":...,"sources":[...],"listed_since":...,"listed":[...]}` for range `index`, which contains `address`, and `end`. */
  sideJson(index: number, address: number, lead = "", end = ""): string {
    const listings = listingsAt(this.list, index, address);
    const since = listedSince(listings);
    const listed = listings.map((listing) => ({
      source: this.#name(listing.source),
      range: formatRange(listing.first, listing.last),
      ...(listing.firstSeen !== 0 ? { first_seen: formatDay(listing.firstSeen), last_seen: formatDay(listing.lastSeen) } : {}),
    }));
    const sources = listings.map((listing) => this.#name(listing.source));
    return lead + JSON.stringify({ range: this.#narrowest(listings, index), sources, ...(since !== 0 ? { listed_since: formatDay(since) } : {}), listed }) + end;
  }

  #narrowest(listings: ReturnType<typeof listingsAt>, index: number): string {
    const narrow = narrowest(listings);
    if (narrow !== undefined) return formatRange(narrow.first, narrow.last);
    return formatRange(this.list.starts[index]!, this.list.ends[index]!);
  }

  /** Returns the source names of range `index`, in set order, as the listings are. */
  #names(index: number): string {
    const set = this.list.setIds[index]!;
    let names = this.#setNames.get(set);
    if (names === undefined) {
      names = (this.list.sets[set] ?? []).map((source) => this.#name(source)).join(",");
      this.#setNames.set(set, names);
    }
    return names;
  }

  #name(source: number): string {
    return this.list.sources[source] ?? `#${source}`;
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
  /** Ranges seen once lately, one per slot (direct-mapped by the range's low bits). */
  readonly #seen = new Int32Array(TailCache.MAX_ENTRIES).fill(-1);

  get(range: number): Uint8Array | undefined {
    return this.#tails.get(range);
  }

  /** Returns true when `range` was seen lately, so its tail is worth keeping; else remembers it. */
  admit(range: number): boolean {
    const slot = range & (TailCache.MAX_ENTRIES - 1);
    if (this.#seen[slot] === range) return true;
    this.#seen[slot] = range;
    return false;
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
  matchBoth: utf8(" match=both"),
  layer: utf8(" layer="),
};
/** The starts of one-sided line ends, before the side's labels. */
const TAIL_LEADS = { textSrc: " match=src", textDst: " match=dst", jsonSrc: ',"match":{"side":"src","src":', jsonDest: ',"match":{"side":"dest","dest":' };
const JSON_TAIL_END = "}}\n";
const TEXT_DIRECTIONS: Uint8Array[] = DIRECTION_NAMES.map((name) => utf8(` dir=${name}`));
const JSON_DIRECTIONS: Uint8Array[] = DIRECTION_NAMES.map((name) => utf8(`,"direction":"${name}"`));

const JSON_TEXT = {
  timestamp: utf8('{"timestamp":"'),
  eventType: utf8('","event_type":"alert","pcap_cnt":'),
  srcPort: utf8('","src_port":'),
  destIp: utf8(',"dest_ip":"'),
  destIpAfterAddress: utf8('","dest_ip":"'),
  destPort: utf8('","dest_port":'),
  layer: utf8(',"layer":'),
  matchBoth: utf8(',"match":{"side":"both","src":'),
  dest: utf8(',"dest":'),
  end: utf8(JSON_TAIL_END),
};

const PROTOCOL_NAMES: Uint8Array[] = Array.from({ length: 256 }, (_, proto) => utf8(protocolName(proto)));
/** `,"proto":"NAME","ip_proto":N` after a port, and the same after an address's closing quote. */
const JSON_PROTOCOLS: Uint8Array[] = Array.from({ length: 256 }, (_, proto) => utf8(`,"proto":"${protocolName(proto)}","ip_proto":${proto}`));
const JSON_PROTOCOLS_AFTER_ADDRESS: Uint8Array[] = JSON_PROTOCOLS.map((bytes) => concat([Uint8Array.of(0x22), bytes]));

const SPACE = 0x20;
const COLON = 0x3a;
const NEWLINE = 0x0a;

export interface AlertOptions {
  /** Adds the direction of each alert relative to this network. */
  homeNet?: HomeNet;
  /** Drops the sides of an alert whose listed address this filter allows. */
  allow?: AllowFilter;
}

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
  readonly #homeNet: HomeNet | undefined;
  readonly #allow: AllowFilter | undefined;
  /** Hits that were not printed because the allowlist covers every listed address in them. */
  allowed = 0;

  constructor(format: AlertFormat, labels: ListLabels, options: AlertOptions = {}) {
    this.#format = format;
    this.#labels = labels;
    this.#hostNames = new HostNameFormatter(format);
    this.#homeNet = options.homeNet;
    this.#allow = options.allow;
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

  /** Appends one line per reported hit of `batch` to `output`, skipping suppressed repeats and allowed hits. */
  formatBatch(batch: HitBatch, output: ByteBuilder): number {
    let written = 0;
    for (let i = 0; i < batch.count; i++) {
      const hit = batch.at(i);
      if ((batch.flags(hit) & abi.HF_SUPPRESSED) !== 0) continue;
      let srcRange = batch.srcRange(hit);
      let dstRange = batch.dstRange(hit);
      if (this.#allow !== undefined) {
        if (srcRange >= 0 && this.#allow.allows(this.#labels.list, srcRange, batch.src(hit))) srcRange = -1;
        if (dstRange >= 0 && this.#allow.allows(this.#labels.list, dstRange, batch.dst(hit))) dstRange = -1;
        if (srcRange < 0 && dstRange < 0) {
          this.allowed++;
          continue;
        }
      }
      if (this.#format === "json") this.#json(batch, hit, output, srcRange, dstRange);
      else this.#text(batch, hit, output, srcRange, dstRange);
      written++;
    }
    return written;
  }

  #text(batch: HitBatch, hit: number, out: ByteBuilder, srcRange: number, dstRange: number): void {
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
    if (this.#homeNet !== undefined) out.append(TEXT_DIRECTIONS[this.#homeNet.direction(batch.src(hit), batch.dst(hit))]!);

    if (srcRange >= 0 && dstRange >= 0) {
      out.append(TEXT.matchBoth);
      out.text(this.#labels.sideText("src", srcRange, batch.src(hit)));
      out.text(this.#labels.sideText("dst", dstRange, batch.dst(hit)));
    } else if (srcRange >= 0) {
      const tail = this.#srcTails.get(srcRange);
      if (tail !== undefined) out.append(tail);
      else this.#appendTail(out, this.#srcTails, srcRange, this.#labels.sideText("src", srcRange, batch.src(hit), TAIL_LEADS.textSrc));
    } else {
      const tail = this.#dstTails.get(dstRange);
      if (tail !== undefined) out.append(tail);
      else this.#appendTail(out, this.#dstTails, dstRange, this.#labels.sideText("dst", dstRange, batch.dst(hit), TAIL_LEADS.textDst));
    }
    const layer = batch.layer(hit);
    if (layer > 0) {
      out.append(TEXT.layer);
      out.decimal(layer);
    }
    if (batch.namesLength(hit) !== 0) this.#hostNames.append(batch, hit, out);
    out.byte(NEWLINE);
  }

  #json(batch: HitBatch, hit: number, out: ByteBuilder, srcRange: number, dstRange: number): void {
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
    if (this.#homeNet !== undefined) out.append(JSON_DIRECTIONS[this.#homeNet.direction(batch.src(hit), batch.dst(hit))]!);
    if (batch.namesLength(hit) !== 0) this.#hostNames.append(batch, hit, out);

    if (srcRange >= 0 && dstRange >= 0) {
      out.append(JSON_TEXT.matchBoth);
      out.text(this.#labels.sideJson(srcRange, batch.src(hit)));
      out.append(JSON_TEXT.dest);
      out.text(this.#labels.sideJson(dstRange, batch.dst(hit)));
      out.append(JSON_TEXT.end);
    } else if (srcRange >= 0) {
      const tail = this.#srcTails.get(srcRange);
      if (tail !== undefined) out.append(tail);
      else this.#appendTail(out, this.#srcTails, srcRange, this.#labels.sideJson(srcRange, batch.src(hit), TAIL_LEADS.jsonSrc, JSON_TAIL_END));
    } else {
      const tail = this.#dstTails.get(dstRange);
      if (tail !== undefined) out.append(tail);
      else this.#appendTail(out, this.#dstTails, dstRange, this.#labels.sideJson(dstRange, batch.dst(hit), TAIL_LEADS.jsonDest, JSON_TAIL_END));
    }
  }

  /**
   * Caches the end of a line for a one-sided match: text ` match=src
   * src_range=...` (or the dst form), or JSON `,"match":{"side":...}}` with the
   * newline.
   */
  /**
   * Appends a line end that was not cached, and caches it when its range was hit
   * recently too. Caching only repeats keeps a capture that hits many distinct
   * ranges once each from filling the cache with bytes that die old.
   */
  #appendTail(out: ByteBuilder, cache: TailCache, range: number, tail: string): void {
    if (!cache.admit(range)) {
      out.text(tail);
      return;
    }
    const bytes = utf8(tail);
    cache.set(range, bytes);
    out.append(bytes);
  }
}
