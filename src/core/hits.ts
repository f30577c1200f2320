// Read access to the core's hit records (layout in abi.ts).

import * as abi from "./abi.js";

/** A view over the hit buffer; `refresh` re-creates it after memory growth. */
export class HitBatch {
  readonly #memory: WebAssembly.Memory;
  readonly #pointer: number;
  readonly #namesPointer: number;
  #view: DataView;
  count = 0;

  constructor(memory: WebAssembly.Memory, pointer: number, namesPointer: number) {
    this.#memory = memory;
    this.#pointer = pointer;
    this.#namesPointer = namesPointer;
    this.#view = new DataView(memory.buffer);
  }

  /** Returns this batch, pointing at `count` hits of the current memory. */
  refresh(count: number): HitBatch {
    if (this.#view.buffer !== this.#memory.buffer) this.#view = new DataView(this.#memory.buffer);
    this.count = count;
    return this;
  }

  /** Returns the byte offset of hit `index` in core memory, for the accessors below. */
  at(index: number): number {
    return this.#pointer + index * abi.HIT_SIZE;
  }

  packetNumber(hit: number): number {
    return this.#view.getFloat64(hit + abi.HIT_PACKET, true);
  }
  tsSeconds(hit: number): number {
    return this.#view.getFloat64(hit + abi.HIT_TS_SEC, true);
  }
  tsFraction(hit: number): number {
    return this.#view.getUint32(hit + abi.HIT_TS_FRAC, true);
  }
  tsDigits(hit: number): number {
    return this.#view.getUint8(hit + abi.HIT_TS_DIGITS);
  }
  src(hit: number): number {
    return this.#view.getUint32(hit + abi.HIT_SRC, true);
  }
  dst(hit: number): number {
    return this.#view.getUint32(hit + abi.HIT_DST, true);
  }
  srcPort(hit: number): number {
    return this.#view.getUint16(hit + abi.HIT_SRC_PORT, true);
  }
  dstPort(hit: number): number {
    return this.#view.getUint16(hit + abi.HIT_DST_PORT, true);
  }
  proto(hit: number): number {
    return this.#view.getUint8(hit + abi.HIT_PROTO);
  }
  flags(hit: number): number {
    return this.#view.getUint8(hit + abi.HIT_FLAGS);
  }
  layer(hit: number): number {
    return this.#view.getUint8(hit + abi.HIT_LAYER);
  }
  srcRange(hit: number): number {
    return this.#view.getInt32(hit + abi.HIT_SRC_RANGE, true);
  }
  dstRange(hit: number): number {
    return this.#view.getInt32(hit + abi.HIT_DST_RANGE, true);
  }
  linkType(hit: number): number {
    return this.#view.getUint32(hit + abi.HIT_LINKTYPE, true);
  }
  interfaceId(hit: number): number {
    return this.#view.getUint32(hit + abi.HIT_INTERFACE, true);
  }
  origLen(hit: number): number {
    return this.#view.getUint32(hit + abi.HIT_ORIGLEN, true);
  }
  /** Returns the length in bytes of the hit's names; 0 when it has none. */
  namesLength(hit: number): number {
    return this.#view.getUint32(hit + abi.HIT_NAMES_LENGTH, true);
  }
  /** Returns the version of the hit's names: hits with equal versions in one run have equal names. */
  namesVersion(hit: number): number {
    return this.#view.getFloat64(hit + abi.HIT_NAMES_VERSION, true);
  }
  /**
   * Returns the hit's names as encoded by the core (see hitnames.ts there): a view
   * into core memory, valid during the callback.
   */
  namesData(hit: number): Uint8Array {
    const offset = this.#view.getUint32(hit + abi.HIT_NAMES_OFFSET, true);
    return new Uint8Array(this.#memory.buffer, this.#namesPointer + offset, this.namesLength(hit));
  }
  /** Returns the captured packet bytes: a view into core memory, valid during the callback. */
  packetData(hit: number): Uint8Array {
    const pointer = this.#view.getUint32(hit + abi.HIT_DATA, true);
    const caplen = this.#view.getUint32(hit + abi.HIT_CAPLEN, true);
    return new Uint8Array(this.#memory.buffer, pointer, caplen);
  }
}
