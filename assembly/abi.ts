// Numbers shared with the TypeScript side (src/core/abi.ts mirrors them, and a
// test compares the two through the exported globals).

/** Result of `process`, `resume` and `finish`. */
export const STATUS_OK: i32 = 0;
/** The hit buffer is full: read the hits, then call `resume`. */
export const STATUS_HITS_FULL: i32 = 1;
/** A fatal framing error; `errorCode` and the error fields say which. */
export const STATUS_ERROR: i32 = 2;

// Framing errors (value of `errorCode`).
export const ERR_NONE: i32 = 0;
/** The first bytes are neither a pcap nor a pcapng magic number. */
export const ERR_BAD_MAGIC: i32 = 1;
/** The input ended before a complete file header (errorValue: bytes seen). */
export const ERR_SHORT_HEADER: i32 = 2;
/** A record's caplen exceeds MAX_CAPLEN (errorValue: caplen). */
export const ERR_CAPLEN_TOO_LARGE: i32 = 3;
/** The input ended inside a record (a warning, not fatal; errorValue: bytes present). */
export const ERR_TRUNCATED_RECORD: i32 = 4;
/** The input is empty. */
export const ERR_EMPTY: i32 = 5;
/** The pcap file header has a major version other than 2 (errorValue: version). */
export const ERR_BAD_VERSION: i32 = 6;
/** A pcapng block length below 12 or below the minimum of its type (errorLimit: minimum). */
export const ERR_BLOCK_TOO_SHORT: i32 = 7;
/** A pcapng block length that is not a multiple of 4. */
export const ERR_BLOCK_UNALIGNED: i32 = 8;
/** A pcapng block that must be buffered whole is longer than MAX_BUFFERED_BLOCK_LENGTH. */
export const ERR_BLOCK_TOO_LARGE: i32 = 9;
/** The trailing block length differs from the leading one (errorValue: trailing, errorLimit: leading). */
export const ERR_BLOCK_TRAILER_MISMATCH: i32 = 10;
/** A packet block names an interface with no Interface Description Block (errorLimit: interfaces). */
export const ERR_UNKNOWN_INTERFACE: i32 = 11;
/** The input starts with a pcapng block other than a Section Header Block. */
export const ERR_NO_SECTION_HEADER: i32 = 12;
/** A Section Header Block whose byte-order magic is not 0x1A2B3C4D in either order. */
export const ERR_BAD_BYTE_ORDER_MAGIC: i32 = 13;
/** A Section Header Block version other than 1.0 or 1.2 (errorValue: major, errorLimit: minor). */
export const ERR_BAD_SECTION_VERSION: i32 = 14;
/** A section describes more than MAX_INTERFACES interfaces. */
export const ERR_TOO_MANY_INTERFACES: i32 = 15;
/** A packet block's caplen runs past the end of the block (errorLimit: room for packet data). */
export const ERR_CAPLEN_BEYOND_BLOCK: i32 = 16;
/** A pcapng block that is skipped, not buffered, is longer than MAX_SKIPPED_BLOCK_LENGTH (errorLimit: maximum). */
export const ERR_SKIPPED_BLOCK_TOO_LARGE: i32 = 17;
/**
 * A pcap or pcapng file header where a record or block should start, as in two
 * captures joined with cat (errorValue: its first four bytes, in file order).
 */
export const ERR_SECOND_CAPTURE_HEADER: i32 = 18;

// What `errorRecord` counts (value of `errorUnit`).
/** Classic pcap records (0 is the file header). */
export const UNIT_RECORD: i32 = 0;
/** pcapng blocks of every type, the first Section Header Block being block 1. */
export const UNIT_BLOCK: i32 = 1;

/** libpcap's MAXIMUM_SNAPLEN: no real record is longer. */
export const MAX_CAPLEN: u32 = 262144;
/**
 * Maximum length of a pcapng block that is buffered whole (packet and interface
 * blocks): a MAX_CAPLEN packet, the 32 bytes of an Enhanced Packet Block's fixed
 * fields and 128 KiB of options. Blocks of other types are skipped without
 * buffering, whatever their length.
 */
export const MAX_BUFFERED_BLOCK_LENGTH: u32 = MAX_CAPLEN + 131072 + 32;
/**
 * Maximum length of a pcapng block that is skipped as it streams past: the Section
 * Header Block and every type other than packet and interface blocks. A longer
 * length field is taken as damage, because skipping it would swallow the rest of
 * the input. libpcap's pcapng reader (sf-pcapng.c) starts with the same 16 MiB
 * maximum block size.
 */
export const MAX_SKIPPED_BLOCK_LENGTH: u32 = 16 << 20;
/** Interface Description Blocks one pcapng section may hold. */
export const MAX_INTERFACES: u32 = 65536;

// Counters: f64 slots at `countersPointer()`, kept across inputs.
export const C_PACKETS: i32 = 0;
export const C_IPV4: i32 = 1;
export const C_ALERTS: i32 = 2;
export const C_SUPPRESSED: i32 = 3;
export const C_SKIP_LINKTYPE: i32 = 4;
export const C_SKIP_NOT_IPV4: i32 = 5;
export const C_SKIP_TRUNCATED_LINK: i32 = 6;
export const C_SKIP_BAD_IP_VERSION: i32 = 7;
export const C_SKIP_BAD_IHL: i32 = 8;
export const C_SKIP_IP_TRUNCATED: i32 = 9;
export const C_SKIP_BAD_IP_LEN: i32 = 10;
export const C_CAPLEN_ABOVE_LEN: i32 = 11;
export const C_CAPLEN_ABOVE_SNAPLEN: i32 = 12;
export const C_DEDUP_EVICTIONS: i32 = 13;
export const C_CAPTURED_BYTES: i32 = 14;
export const C_INNER_IPV4: i32 = 15; // IPv4 headers decoded inside a tunnel
export const C_IP_OPTIONS_CUT: i32 = 16; // decoded, but IPv4 options cut by the snaplen
export const C_SKIP_HEADER_LIMIT: i32 = 17; // more tags, labels or headers than the decoder follows
export const C_TUNNEL_DEPTH_LIMIT: i32 = 18; // packets whose tunnels nest deeper than the headers probed
// Slots 32 and up count the reading of host names (dns.ts, tls.ts, http.ts, names.ts).
export const C_DNS_RESPONSES: i32 = 32; // DNS responses (QR set) from port 53 that were read
export const C_DNS_TRUNCATED: i32 = 33; // a response that ends inside a field
export const C_DNS_BAD_POINTER: i32 = 34; // a compression pointer into the header, forward or looping
export const C_DNS_BAD_LABEL: i32 = 35; // a label whose top two bits are 01 or 10 (extended or reserved types)
export const C_DNS_NAME_TOO_LONG: i32 = 36; // a name longer than 255 bytes on the wire
export const C_DNS_UNSUPPORTED: i32 = 37; // an opcode other than QUERY, or a question count other than 1
export const C_DNS_ANSWERS_CAPPED: i32 = 38; // more answers than MAX_DNS_ANSWERS; the rest are not read
export const C_DNS_TCP_PARTIAL: i32 = 39; // a DNS-over-TCP message longer than its segment
export const C_NAMES_DNS: i32 = 40; // names recorded from DNS answers (queried and canonical names)
export const C_NAMES_SNI: i32 = 41; // names recorded from TLS server_name
export const C_NAMES_HTTP: i32 = 42; // names recorded from HTTP Host headers
export const C_NAMES_EVICTED: i32 = 43; // names table entries replaced while they held names
export const C_NAMES_REPLACED: i32 = 44; // names dropped from a full entry for a newer one
export const C_NAMES_REJECTED: i32 = 45; // names not recorded: empty or longer than MAX_NAME_LENGTH
export const C_NAMES_REALERTS: i32 = 46; // repeats that alerted again because the pair gained a name
export const C_TLS_CLIENT_HELLOS: i32 = 47; // ClientHellos read to the end or to their server_name
export const C_TLS_CLIENTHELLO_SPLIT: i32 = 48; // ClientHellos whose first segment ended before the server_name
export const C_TLS_CLIENTHELLO_INCOMPLETE: i32 = 49; // split ClientHellos given up: gap, eviction, too long
export const C_TLS_NO_SNI: i32 = 50; // ClientHellos without a host_name server_name
export const C_TLS_MALFORMED: i32 = 51; // handshake records that are not a well-formed ClientHello
export const C_TLS_NOT_TLS_443: i32 = 52; // first client payloads to port 443 that are not a TLS handshake
export const C_HTTP_REQUESTS: i32 = 53; // HTTP/1.x request lines at the start of a segment
export const C_HTTP_NO_HOST: i32 = 54; // complete request heads without a usable Host header
export const COUNTER_SLOTS: i32 = 64;

// Notices: events the TypeScript side reports once, read after each call.
// Each is queued once per input and link type.
export const NOTICE_LINKTYPE: i32 = 1; // value: link type of a new interface
export const NOTICE_UNSUPPORTED_LINKTYPE: i32 = 2; // value: the link type

// Hit record: HIT_SIZE bytes per hit at `hitsPointer()`.
export const HIT_SIZE: i32 = 80;
export const HIT_PACKET: i32 = 0; // f64, 1-based packet number in its input
export const HIT_TS_SEC: i32 = 8; // f64, seconds since 1970 (UTC)
export const HIT_TS_FRAC: i32 = 16; // u32, fraction in units of 10^-digits s
export const HIT_SRC: i32 = 20; // u32, IPv4 source as a number
export const HIT_DST: i32 = 24; // u32
export const HIT_SRC_PORT: i32 = 28; // u16
export const HIT_DST_PORT: i32 = 30; // u16
export const HIT_PROTO: i32 = 32; // u8
export const HIT_FLAGS: i32 = 33; // u8, HF_* bits
export const HIT_TS_DIGITS: i32 = 34; // u8, 0 to 9 (digits of the fraction)
export const HIT_LAYER: i32 = 35; // u8, 0 for the outer IPv4 header, n for n tunnels deep
export const HIT_SRC_RANGE: i32 = 36; // i32, index of the matching range or -1
export const HIT_DST_RANGE: i32 = 40; // i32
export const HIT_LINKTYPE: i32 = 44; // u32
export const HIT_DATA: i32 = 48; // u32, address of the packet bytes (valid until `prepare`)
export const HIT_CAPLEN: i32 = 52; // u32
export const HIT_ORIGLEN: i32 = 56; // u32
export const HIT_INTERFACE: i32 = 60; // u32, pcapng interface id (0 for pcap)
export const HIT_NAMES_OFFSET: i32 = 64; // u32, offset of the hit's names in the buffer at `hitNamesPointer()`
export const HIT_NAMES_LENGTH: i32 = 68; // u32, length of those names in bytes; 0 when there are none
export const HIT_NAMES_VERSION: i32 = 72; // f64, changes whenever the names change (a cache key)

export const HF_PORTS: u8 = 1; // the ports were read
export const HF_FRAGMENT: u8 = 2; // the packet is a fragment (MF set or offset > 0)
export const HF_SUPPRESSED: u8 = 4; // a repeat within the dedup window

// Sources of a recorded name: bits in the sources byte of each name (hitnames.ts).
export const NAME_DNS: u8 = 1; // the question of a DNS response whose answer held the address
export const NAME_CNAME: u8 = 2; // the canonical name at the end of that answer's CNAME chain
export const NAME_SNI: u8 = 4; // the server_name of a TLS ClientHello
export const NAME_HTTP: u8 = 8; // the Host header of an HTTP/1.x request
/** Longest name recorded: the longest DNS name in dotted form (255 wire bytes). */
export const MAX_NAME_LENGTH: u32 = 253;
