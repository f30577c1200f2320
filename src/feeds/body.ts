// Checks on a downloaded body before any parser reads it. A body that is empty,
// an HTML page, UTF-16, binary, or compressed and damaged fails the feed: a
// parser that tried to read it would shrink the list instead.

import { gunzipSync } from "node:zlib";
import { decodeListText, ListFormatError } from "../lists/text-list.js";
import { FeedError } from "./errors.js";
import { extractSingleMember, isZip } from "./zip.js";

/** Default limit on a body after decompression, in bytes. */
export const DEFAULT_MAX_DECODED_BYTES = 256 * 1024 * 1024;

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decompresses a gzip file strictly. Node 20's zlib fails on bytes after the
 * member ("incorrect header check") and on a missing trailer ("unexpected end of
 * file"). Both mean the download is damaged, so neither is salvaged.
 */
export function gunzipStrict(bytes: Uint8Array, maxOutputLength: number): Buffer {
  try {
    return gunzipSync(bytes, { maxOutputLength });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ERR_BUFFER_TOO_LARGE") throw new FeedError("ERR_FEED_TOO_LARGE", `gzip data expands past the maximum of ${maxOutputLength} bytes`);
    throw new FeedError("ERR_FEED_BODY", `damaged gzip data: ${(error as Error).message}${code !== undefined ? ` (${code})` : ""}`);
  }
}

/** Returns true when the first non-blank bytes are `<!doctype html` or `<html`, in any case. */
export function looksLikeHtml(bytes: Uint8Array): boolean {
  let start = 0;
  while (start < bytes.length && (bytes[start] === 0x20 || (bytes[start]! >= 0x09 && bytes[start]! <= 0x0d))) start++;
  if (bytes[start] === 0xef && bytes[start + 1] === 0xbb && bytes[start + 2] === 0xbf) start += 3;
  const head = Buffer.from(bytes.subarray(start, start + 14)).toString("latin1").toLowerCase();
  return head.startsWith("<!doctype html") || head.startsWith("<html");
}

/**
 * Turns a raw body into list text: decompresses a gzip file or a one-member zip
 * archive (recognised by their magic bytes, since servers send .gz files without
 * Content-Encoding), then rejects empty, HTML, UTF-16 and binary content.
 */
export function decodeFeedBody(bytes: Uint8Array, maxDecodedBytes = DEFAULT_MAX_DECODED_BYTES): string {
  if (bytes.length === 0) throw new FeedError("ERR_FEED_BODY", "empty body");
  let content: Uint8Array = bytes;
  if (isGzip(content)) content = gunzipStrict(content, maxDecodedBytes);
  else if (isZip(content)) content = extractSingleMember(content, maxDecodedBytes);
  if (content.length === 0) throw new FeedError("ERR_FEED_BODY", "empty body after decompression");
  if (looksLikeHtml(content)) throw new FeedError("ERR_FEED_BODY", "an HTML page instead of a list (an error, login or bot-check page?)");
  try {
    return decodeListText(content);
  } catch (error) {
    if (error instanceof ListFormatError) throw new FeedError("ERR_FEED_BODY", error.message);
    throw error;
  }
}
