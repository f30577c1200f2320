// Turning hit batches into alert lines: text for people and grep, or one JSON
// object per line with Suricata EVE field names.

import type { Blocklist } from "../blocklist/build.js";
import * as abi from "../core/abi.js";
import type { HitBatch } from "../core/hits.js";
import { formatIPv4, formatRange } from "../lists/ipv4.js";
import { protocolName } from "./protocols.js";
import { TimestampFormatter } from "./timestamp.js";

export type AlertFormat = "text" | "json";

/** Range and source labels of one loaded list, built on first use. */
export class ListLabels {
  readonly list: Blocklist;
  readonly #ranges: (string | undefined)[] = [];
  readonly #setText: (string | undefined)[] = [];
  readonly #setJson: (string | undefined)[] = [];

  constructor(list: Blocklist) {
    this.list = list;
  }

  range(index: number): string {
    let label = this.#ranges[index];
    if (label === undefined) {
      label = formatRange(this.list.starts[index]!, this.list.ends[index]!);
      this.#ranges[index] = label;
    }
    return label;
  }

  /** Returns the source names of range `index`, comma-separated. */
  sourcesText(index: number): string {
    const set = this.list.setIds[index]!;
    let text = this.#setText[set];
    if (text === undefined) {
      text = this.#names(set).join(",");
      this.#setText[set] = text;
    }
    return text;
  }

  /** Returns the source names of range `index` as a JSON array. */
  sourcesJson(index: number): string {
    const set = this.list.setIds[index]!;
    let json = this.#setJson[set];
    if (json === undefined) {
      json = JSON.stringify(this.#names(set));
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

export class AlertFormatter {
  readonly #format: AlertFormat;
  readonly #timestamps = new TimestampFormatter();
  labels: ListLabels;

  constructor(format: AlertFormat, labels: ListLabels) {
    this.#format = format;
    this.labels = labels;
  }

  /** Appends one line per reported hit of `batch` to `lines`, skipping suppressed repeats. */
  formatBatch(batch: HitBatch, context: AlertContext, lines: string[]): number {
    let written = 0;
    for (let i = 0; i < batch.count; i++) {
      const hit = batch.at(i);
      if ((batch.flags(hit) & abi.HF_SUPPRESSED) !== 0) continue;
      lines.push(this.#format === "json" ? this.#json(batch, hit, context) : this.#text(batch, hit, context));
      written++;
    }
    return written;
  }

  #text(batch: HitBatch, hit: number, context: AlertContext): string {
    const hasPorts = (batch.flags(hit) & abi.HF_PORTS) !== 0;
    const src = formatIPv4(batch.src(hit));
    const dst = formatIPv4(batch.dst(hit));
    const srcEnd = hasPorts ? `${src}:${batch.srcPort(hit)}` : src;
    const dstEnd = hasPorts ? `${dst}:${batch.dstPort(hit)}` : dst;
    const srcRange = batch.srcRange(hit);
    const dstRange = batch.dstRange(hit);
    let match: string;
    if (srcRange >= 0 && dstRange >= 0) {
      match = `match=both src_range=${this.labels.range(srcRange)} src_sources=${this.labels.sourcesText(srcRange)} dst_range=${this.labels.range(dstRange)} dst_sources=${this.labels.sourcesText(dstRange)}`;
    } else if (srcRange >= 0) {
      match = `match=src src_range=${this.labels.range(srcRange)} src_sources=${this.labels.sourcesText(srcRange)}`;
    } else {
      match = `match=dst dst_range=${this.labels.range(dstRange)} dst_sources=${this.labels.sourcesText(dstRange)}`;
    }
    const layer = batch.layer(hit) > 0 ? ` layer=${batch.layer(hit)}` : "";
    const time = this.#timestamps.format(batch.tsSeconds(hit), batch.tsFraction(hit), batch.tsDigits(hit));
    const proto = protocolName(batch.proto(hit));
    return `${context.prefix ?? ""}${time} pkt=${batch.packetNumber(hit)} ${proto} ${srcEnd} -> ${dstEnd} ${match}${layer}`;
  }

  #json(batch: HitBatch, hit: number, context: AlertContext): string {
    const hasPorts = (batch.flags(hit) & abi.HF_PORTS) !== 0;
    const time = this.#timestamps.format(batch.tsSeconds(hit), batch.tsFraction(hit), batch.tsDigits(hit));
    let line = `{"timestamp":"${time}","event_type":"alert","pcap_cnt":${batch.packetNumber(hit)}`;
    if (context.filename !== undefined) line += `,"pcap_filename":${JSON.stringify(context.filename)}`;
    line += `,"src_ip":"${formatIPv4(batch.src(hit))}"`;
    if (hasPorts) line += `,"src_port":${batch.srcPort(hit)}`;
    line += `,"dest_ip":"${formatIPv4(batch.dst(hit))}"`;
    if (hasPorts) line += `,"dest_port":${batch.dstPort(hit)}`;
    line += `,"proto":"${protocolName(batch.proto(hit))}","ip_proto":${batch.proto(hit)}`;
    if (batch.layer(hit) > 0) line += `,"layer":${batch.layer(hit)}`;

    const srcRange = batch.srcRange(hit);
    const dstRange = batch.dstRange(hit);
    const side = srcRange >= 0 && dstRange >= 0 ? "both" : srcRange >= 0 ? "src" : "dest";
    line += `,"match":{"side":"${side}"`;
    if (srcRange >= 0) line += `,"src":{"range":"${this.labels.range(srcRange)}","sources":${this.labels.sourcesJson(srcRange)}}`;
    if (dstRange >= 0) line += `,"dest":{"range":"${this.labels.range(dstRange)}","sources":${this.labels.sourcesJson(dstRange)}}`;
    return `${line}}}`;
  }
}
