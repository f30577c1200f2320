// JSON feeds. `json` reads one document: an array of objects (Feodo Tracker's
// ipblocklist.json) or an object whose values are arrays of objects (ThreatFox's
// export, keyed by IOC id). `spamhaus-ndjson` reads Spamhaus DROP's JSON-lines
// form: one record object per line and a closing metadata object that gives the
// record count.

import type { FeedOptions } from "./options.js";
import { addAddressPortText, addEntryText, emptyParse, numberedLines, type FeedParse } from "./parse-result.js";

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Collects the item objects of a document: array elements, or the elements of each array value. */
function documentItems(document: unknown): unknown[] | undefined {
  if (Array.isArray(document)) return document;
  if (!isObject(document)) return undefined;
  const items: unknown[] = [];
  for (const value of Object.values(document)) {
    if (Array.isArray(value)) items.push(...value);
    else items.push(value);
  }
  return items;
}

/** Parses a JSON document; `field` names the address field of each object. Entries have line 0. */
export function parseJsonDocument(text: string, options: FeedOptions): FeedParse {
  const result = emptyParse(options);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    result.failure = `invalid JSON: ${(error as Error).message}`;
    return result;
  }
  const items = documentItems(document);
  if (items === undefined) {
    result.failure = "expected a JSON array or object at the top level";
    return result;
  }
  result.structured = true;
  const field = options.field ?? "ip_address";
  for (const item of items) {
    if (!isObject(item)) {
      result.rejected.push({ line: 0, text: JSON.stringify(item) ?? String(item), reason: "not a JSON object" });
      continue;
    }
    if (!matches(item, options)) continue;
    const value = item[field];
    if (typeof value !== "string") {
      result.rejected.push({ line: 0, text: JSON.stringify(item), reason: `field "${field}" is missing or not a string` });
      continue;
    }
    if (options.port === true) addAddressPortText(value.trim(), 0, result);
    else addEntryText(value.trim(), 0, result);
  }
  return result;
}

function matches(item: JsonObject, options: FeedOptions): boolean {
  for (const [name, expected] of Object.entries(options.match ?? {})) {
    if (String(item[name]) !== expected) return false;
  }
  if (typeof options.scoreColumn === "string" && options.minScore !== undefined) {
    const score = Number(item[options.scoreColumn]);
    if (!Number.isFinite(score) || score < options.minScore) return false;
  }
  return true;
}

/** Parses Spamhaus DROP JSON lines; the metadata line must be present and its `records` must match. */
export function parseSpamhausNdjson(text: string, options: FeedOptions): FeedParse {
  const result = emptyParse(options);
  let metadata: JsonObject | undefined;
  let records = 0;
  for (const { line, text: raw } of numberedLines(text)) {
    if (raw.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      records++;
      result.rejected.push({ line, text: raw, reason: "invalid JSON" });
      continue;
    }
    if (isObject(value) && value.type === "metadata") {
      metadata = value;
      result.structured = true;
      continue;
    }
    records++;
    if (metadata !== undefined) {
      result.failure = `record on line ${line} after the metadata line`;
    }
    if (!isObject(value) || typeof value.cidr !== "string") {
      result.rejected.push({ line, text: raw, reason: 'expected an object with a "cidr" string' });
      continue;
    }
    addEntryText(value.cidr.trim(), line, result);
  }
  if (metadata === undefined) {
    result.failure ??= "truncated: the metadata line is missing";
  } else if (metadata.records !== records) {
    result.failure ??= `the metadata line counts ${String(metadata.records)} records but the body has ${records}`;
  }
  return result;
}
