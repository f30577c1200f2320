// Building the payloads that carry host names, byte by byte: DNS messages (RFC
// 1035, with optional name compression), TLS ClientHello records (RFC 8446
// section 4.1.2) and HTTP/1.x requests.

import { parseIPv4 } from "../../src/lists/ipv4.js";

export const TYPE_A = 1;
export const TYPE_CNAME = 5;
export const TYPE_AAAA = 28;
export const CLASS_IN = 1;

export interface DnsRecord {
  name: string;
  type: number;
  class?: number;
  ttl?: number;
  /** An IPv4 address for A records, a name for CNAME records, or raw bytes. */
  data: string | Uint8Array;
}

export interface DnsMessageOptions {
  id?: number;
  /** Defaults to a response (QR and RD, RA set, RCODE 0). */
  flags?: number;
  question?: { name: string; type?: number; class?: number };
  answers?: DnsRecord[];
  /** Write repeated name suffixes as pointers to their first occurrence. */
  compress?: boolean;
  /** Overrides the answer count in the header. */
  answerCount?: number;
}

/** Encodes DNS messages, remembering where each name suffix was written when compressing. */
class NameWriter {
  readonly #compress: boolean;
  readonly #offsets = new Map<string, number>();
  constructor(compress: boolean) {
    this.#compress = compress;
  }

  /** Returns the wire form of `name` when written at message offset `at`. */
  encode(name: string, at: number): Buffer {
    const labels = name === "" ? [] : name.split(".");
    const parts: Buffer[] = [];
    let offset = at;
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join(".").toLowerCase();
      const earlier = this.#offsets.get(suffix);
      if (this.#compress && earlier !== undefined) {
        parts.push(Buffer.from([0xc0 | (earlier >> 8), earlier & 0xff]));
        return Buffer.concat(parts);
      }
      if (offset < 0x3fff) this.#offsets.set(suffix, offset);
      const label = Buffer.from(labels[i]!, "latin1");
      parts.push(Buffer.from([label.length]), label);
      offset += 1 + label.length;
    }
    parts.push(Buffer.from([0]));
    return Buffer.concat(parts);
  }
}

/** Builds a DNS message with one question and the given answers. */
export function dnsMessage(options: DnsMessageOptions = {}): Buffer {
  const writer = new NameWriter(options.compress === true);
  const answers = options.answers ?? [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(options.id ?? 0x1234, 0);
  header.writeUInt16BE(options.flags ?? 0x8180, 2);
  header.writeUInt16BE(options.question === undefined ? 0 : 1, 4);
  header.writeUInt16BE(options.answerCount ?? answers.length, 6);
  const parts: Buffer[] = [header];
  let length = 12;
  const push = (bytes: Buffer): void => {
    parts.push(bytes);
    length += bytes.length;
  };
  if (options.question !== undefined) {
    push(writer.encode(options.question.name, length));
    const fields = Buffer.alloc(4);
    fields.writeUInt16BE(options.question.type ?? TYPE_A, 0);
    fields.writeUInt16BE(options.question.class ?? CLASS_IN, 2);
    push(fields);
  }
  for (const record of answers) {
    push(writer.encode(record.name, length));
    const fields = Buffer.alloc(10);
    let data: Buffer;
    if (typeof record.data !== "string") data = Buffer.from(record.data);
    else if (record.type === TYPE_A) data = ipv4Bytes(record.data);
    else data = writer.encode(record.data, length + 10);
    fields.writeUInt16BE(record.type, 0);
    fields.writeUInt16BE(record.class ?? CLASS_IN, 2);
    fields.writeUInt32BE(record.ttl ?? 300, 4);
    fields.writeUInt16BE(data.length, 8);
    push(fields);
    push(data);
  }
  return Buffer.concat(parts);
}

export function ipv4Bytes(text: string): Buffer {
  const value = parseIPv4(text);
  if (value === undefined) throw new Error(`bad test address ${text}`);
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value, 0);
  return bytes;
}

/** Builds a response for `name` whose answers are A records for `addresses`. */
export function dnsAnswer(name: string, addresses: string[], compress = true): Buffer {
  return dnsMessage({ question: { name }, answers: addresses.map((address) => ({ name, type: TYPE_A, data: address })), compress });
}

/** Prepends the 2-byte length that DNS over TCP uses (RFC 1035 section 4.2.2). */
export function tcpDnsFrame(message: Uint8Array, length = message.length): Buffer {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(length, 0);
  return Buffer.concat([prefix, message]);
}

export interface ClientHelloOptions {
  /** The host_name; omitted means no server_name extension. */
  serverName?: string | Uint8Array;
  /** Bytes of a padding extension (RFC 7685) placed before server_name. */
  paddingBefore?: number;
  /** Record version minor byte (default 1, as TLS 1.3 clients send). */
  recordMinor?: number;
}

function extension(type: number, body: Uint8Array): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(body.length, 2);
  return Buffer.concat([header, body]);
}

/** Builds a TLS record holding one ClientHello. */
export function clientHello(options: ClientHelloOptions = {}): Buffer {
  const extensions: Buffer[] = [];
  if (options.paddingBefore !== undefined) extensions.push(extension(21, Buffer.alloc(options.paddingBefore)));
  if (options.serverName !== undefined) {
    const name = typeof options.serverName === "string" ? Buffer.from(options.serverName, "latin1") : Buffer.from(options.serverName);
    const entry = Buffer.alloc(3);
    entry.writeUInt8(0, 0); // host_name
    entry.writeUInt16BE(name.length, 1);
    const list = Buffer.alloc(2);
    list.writeUInt16BE(entry.length + name.length, 0);
    extensions.push(extension(0, Buffer.concat([list, entry, name])));
  }
  extensions.push(extension(43, Buffer.from([2, 0x03, 0x04]))); // supported_versions: TLS 1.3
  const extensionBytes = Buffer.concat(extensions);
  const extensionsLength = Buffer.alloc(2);
  extensionsLength.writeUInt16BE(extensionBytes.length, 0);

  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]), // legacy_version
    Buffer.alloc(32, 0xab), // random
    Buffer.from([32]),
    Buffer.alloc(32, 0xcd), // legacy_session_id
    Buffer.from([0, 4, 0x13, 0x01, 0x13, 0x02]), // two cipher suites
    Buffer.from([1, 0]), // compression: null
    extensionsLength,
    extensionBytes,
  ]);

  const handshake = Buffer.concat([Buffer.from([1, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
  const record = Buffer.alloc(5);
  record.writeUInt8(22, 0);
  record.writeUInt8(3, 1);
  record.writeUInt8(options.recordMinor ?? 1, 2);
  record.writeUInt16BE(handshake.length, 3);
  return Buffer.concat([record, handshake]);
}

/** Builds an HTTP/1.1 request head with the given header lines. */
export function httpRequest(method: string, headers: string[], target = "/"): Buffer {
  return Buffer.from(`${method} ${target} HTTP/1.1\r\n${headers.map((line) => `${line}\r\n`).join("")}\r\n`, "latin1");
}
