// The numeric interface of the WebAssembly core. These values mirror
// assembly/abi.ts; test/core-abi.test.ts checks them against the exported globals.

export const STATUS_OK = 0;
export const STATUS_HITS_FULL = 1;
export const STATUS_ERROR = 2;

export const ERR_NONE = 0;
export const ERR_BAD_MAGIC = 1;
export const ERR_SHORT_HEADER = 2;
export const ERR_CAPLEN_TOO_LARGE = 3;
export const ERR_TRUNCATED_RECORD = 4;
export const ERR_EMPTY = 5;
export const ERR_BAD_VERSION = 6;
export const ERR_BLOCK_TOO_SHORT = 7;
export const ERR_BLOCK_UNALIGNED = 8;
export const ERR_BLOCK_TOO_LARGE = 9;
export const ERR_BLOCK_TRAILER_MISMATCH = 10;
export const ERR_UNKNOWN_INTERFACE = 11;
export const ERR_NO_SECTION_HEADER = 12;
export const ERR_BAD_BYTE_ORDER_MAGIC = 13;
export const ERR_BAD_SECTION_VERSION = 14;
export const ERR_TOO_MANY_INTERFACES = 15;
export const ERR_CAPLEN_BEYOND_BLOCK = 16;
export const ERR_SKIPPED_BLOCK_TOO_LARGE = 17;
export const ERR_SECOND_CAPTURE_HEADER = 18;

/** What a CaptureError's `record` counts. */
export const UNIT_RECORD = 0;
export const UNIT_BLOCK = 1;

export const MAX_CAPLEN = 262144;
export const MAX_BUFFERED_BLOCK_LENGTH = 393248;
export const MAX_SKIPPED_BLOCK_LENGTH = 16777216;
export const MAX_INTERFACES = 65536;

/** Indexes of the core's f64 counters. */
export const Counter = {
  packets: 0,
  ipv4: 1,
  alerts: 2,
  suppressed: 3,
  skipLinkType: 4,
  skipNotIPv4: 5,
  skipTruncatedLink: 6,
  skipBadIPVersion: 7,
  skipBadIHL: 8,
  skipIPTruncated: 9,
  skipBadIPLength: 10,
  caplenAboveLen: 11,
  caplenAboveSnaplen: 12,
  dedupEvictions: 13,
  capturedBytes: 14,
  innerIPv4: 15,
  ipOptionsCut: 16,
  skipHeaderLimit: 17,
  tunnelDepthLimit: 18,
  dnsResponses: 32,
  dnsTruncated: 33,
  dnsBadPointer: 34,
  dnsBadLabel: 35,
  dnsNameTooLong: 36,
  dnsUnsupported: 37,
  dnsAnswersCapped: 38,
  dnsTcpPartial: 39,
  namesDns: 40,
  namesSni: 41,
  namesHttp: 42,
  namesEvicted: 43,
  namesReplaced: 44,
  namesRejected: 45,
  namesRealerts: 46,
  tlsClientHellos: 47,
  tlsClientHelloSplit: 48,
  tlsClientHelloIncomplete: 49,
  tlsNoSni: 50,
  tlsMalformed: 51,
  tlsNotTls443: 52,
  httpRequests: 53,
  httpNoHost: 54,
} as const;
export const COUNTER_SLOTS = 64;

/** Skip reasons as the summary names them, with their counter index. */
export const SKIP_REASONS: ReadonlyArray<readonly [string, number]> = [
  ["unsupported_linktype", Counter.skipLinkType],
  ["not_ipv4", Counter.skipNotIPv4],
  ["truncated_link_header", Counter.skipTruncatedLink],
  ["bad_ip_version", Counter.skipBadIPVersion],
  ["bad_ip_header_length", Counter.skipBadIHL],
  ["truncated_ip_header", Counter.skipIPTruncated],
  ["bad_ip_len", Counter.skipBadIPLength],
  ["header_limit", Counter.skipHeaderLimit],
];

export const NOTICE_LINKTYPE = 1;
export const NOTICE_UNSUPPORTED_LINKTYPE = 2;

export const HIT_SIZE = 80;
export const HIT_PACKET = 0;
export const HIT_TS_SEC = 8;
export const HIT_TS_FRAC = 16;
export const HIT_SRC = 20;
export const HIT_DST = 24;
export const HIT_SRC_PORT = 28;
export const HIT_DST_PORT = 30;
export const HIT_PROTO = 32;
export const HIT_FLAGS = 33;
export const HIT_TS_DIGITS = 34;
export const HIT_LAYER = 35;
export const HIT_SRC_RANGE = 36;
export const HIT_DST_RANGE = 40;
export const HIT_LINKTYPE = 44;
export const HIT_DATA = 48;
export const HIT_CAPLEN = 52;
export const HIT_ORIGLEN = 56;
export const HIT_INTERFACE = 60;
export const HIT_NAMES_OFFSET = 64;
export const HIT_NAMES_LENGTH = 68;
export const HIT_NAMES_VERSION = 72;

export const HF_PORTS = 1;
export const HF_FRAGMENT = 2;
export const HF_SUPPRESSED = 4;

/** Sources of a recorded name: bits of the sources byte of each name of a hit. */
export const NAME_DNS = 1;
export const NAME_CNAME = 2;
export const NAME_SNI = 4;
export const NAME_HTTP = 8;
export const MAX_NAME_LENGTH = 253;
