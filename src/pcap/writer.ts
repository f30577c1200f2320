// Writing classic pcap files: a 24-byte file header, then a 16-byte header and the
// captured bytes for each record. Used for evidence files and for test captures.

export interface PcapFileOptions {
  linkType: number;
  snaplen?: number;
  /** Nanosecond timestamps (magic a1b23c4d) instead of microseconds. */
  nanoseconds?: boolean;
  /** Write every header field big-endian, as a big-endian host would. */
  bigEndian?: boolean;
}

export interface PcapRecord {
  /** Seconds since 1970 (UTC). */
  tsSec: number;
  /** Fraction of the second: microseconds, or nanoseconds in a nanosecond file. */
  tsFrac: number;
  data: Uint8Array;
  /** Length on the wire; defaults to the captured length. */
  origLen?: number;
  /** Overrides the caplen field, for building corrupt records in tests. */
  caplen?: number;
}

export const PCAP_FILE_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;

export function pcapFileHeader(options: PcapFileOptions): Buffer {
  const header = Buffer.alloc(PCAP_FILE_HEADER_LENGTH);
  const little = options.bigEndian !== true;
  const u32 = (value: number, offset: number): void => {
    if (little) header.writeUInt32LE(value >>> 0, offset);
    else header.writeUInt32BE(value >>> 0, offset);
  };
  const u16 = (value: number, offset: number): void => {
    if (little) header.writeUInt16LE(value, offset);
    else header.writeUInt16BE(value, offset);
  };
  u32(options.nanoseconds === true ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  u16(2, 4);
  u16(4, 6);
  u32(0, 8); // thiszone
  u32(0, 12); // sigfigs
  u32(options.snaplen ?? 262144, 16);
  u32(options.linkType, 20);
  return header;
}

export function pcapRecordHeader(record: PcapRecord, bigEndian = false): Buffer {
  const header = Buffer.alloc(PCAP_RECORD_HEADER_LENGTH);
  const u32 = (value: number, offset: number): void => {
    if (bigEndian) header.writeUInt32BE(value >>> 0, offset);
    else header.writeUInt32LE(value >>> 0, offset);
  };
  u32(record.tsSec, 0);
  u32(record.tsFrac, 4);
  u32(record.caplen ?? record.data.length, 8);
  u32(record.origLen ?? record.data.length, 12);
  return header;
}

/** Builds a whole pcap file in memory. */
export function buildPcap(records: ReadonlyArray<PcapRecord>, options: PcapFileOptions): Buffer {
  const parts: Uint8Array[] = [pcapFileHeader(options)];
  for (const record of records) {
    parts.push(pcapRecordHeader(record, options.bigEndian === true), record.data);
  }
  return Buffer.concat(parts);
}
