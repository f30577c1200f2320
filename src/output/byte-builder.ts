// Building output lines as bytes. Formatting a million alert lines a second as
// JavaScript strings spends most of its time in string allocation and garbage
// collection; writing digits and cached labels into one byte buffer avoids both.

const encoder = new TextEncoder();

/** Returns the UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

const ZERO = 0x30;
const DOT = 0x2e;
const SLASH = 0x2f;
const DASH = 0x2d;

export class ByteBuilder {
  bytes: Uint8Array;
  length = 0;

  constructor(capacity = 1 << 18) {
    this.bytes = new Uint8Array(capacity);
  }

  /** Makes room for `count` more bytes. */
  reserve(count: number): void {
    if (this.length + count <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + count));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  /** Appends raw bytes. */
  append(bytes: Uint8Array): void {
    const length = bytes.length;
    this.reserve(length);
    this.bytes.set(bytes, this.length);
    this.length += length;
  }

  /** Appends `text` encoded as UTF-8, without an intermediate array. */
  text(text: string): void {
    const length = text.length;
    this.reserve(length * 3);
    const bytes = this.bytes;
    let at = this.length;
    // ASCII, which labels nearly always are, is copied code by code; anything else
    // goes through the encoder (which returns an object per call).
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) {
        this.length = at + encoder.encodeInto(text.slice(i), bytes.subarray(at)).written;
        return;
      }
      bytes[at++] = code;
    }
    this.length = at;
  }

  /** Appends one byte. */
  byte(value: number): void {
    this.reserve(1);
    this.bytes[this.length++] = value;
  }

  /** Appends a non-negative integer below 2^53 in decimal. */
  decimal(value: number): void {
    this.reserve(16);
    if (value < 10) {
      this.bytes[this.length++] = ZERO + value;
      return;
    }
    let digits = 0;
    for (let rest = value; rest >= 1; rest = Math.floor(rest / 10)) digits++;
    let at = this.length + digits;
    this.length = at;
    for (let rest = value; digits > 0; digits--) {
      const next = Math.floor(rest / 10);
      this.bytes[--at] = ZERO + (rest - next * 10);
      rest = next;
    }
  }

  /** Appends `value` zero-padded to `width` digits. */
  padded(value: number, width: number): void {
    this.reserve(width);
    let at = this.length + width;
    this.length = at;
    for (let rest = value; width > 0; width--) {
      const next = Math.floor(rest / 10);
      this.bytes[--at] = ZERO + (rest - next * 10);
      rest = next;
    }
  }

  /** Appends an IPv4 address (a number) as a dotted quad. */
  ipv4(address: number): void {
    this.reserve(15);
    let at = this.#octet(this.length, address >>> 24);
    this.bytes[at++] = DOT;
    at = this.#octet(at, (address >>> 16) & 255);
    this.bytes[at++] = DOT;
    at = this.#octet(at, (address >>> 8) & 255);
    this.bytes[at++] = DOT;
    this.length = this.#octet(at, address & 255);
  }

  /** Appends a range of addresses as `a.b.c.d/n` when it is one CIDR block, else as `first-last`. */
  range(first: number, last: number): void {
    this.ipv4(first);
    const size = last - first + 1;
    // A power of two (one bit set, or 2^32 for the whole space) aligned at `first`.
    const bits = size === 2 ** 32 ? 32 : 31 - Math.clz32(size);
    if (2 ** bits === size && first % size === 0) {
      this.byte(SLASH);
      this.decimal(32 - bits);
    } else {
      this.byte(DASH);
      this.ipv4(last);
    }
  }

  #octet(at: number, value: number): number {
    const bytes = this.bytes;
    if (value >= 100) {
      const hundreds = (value / 100) | 0;
      const rest = value - hundreds * 100;
      const tens = (rest / 10) | 0;
      bytes[at] = ZERO + hundreds;
      bytes[at + 1] = ZERO + tens;
      bytes[at + 2] = ZERO + rest - tens * 10;
      return at + 3;
    }
    if (value >= 10) {
      const tens = (value / 10) | 0;
      bytes[at] = ZERO + tens;
      bytes[at + 1] = ZERO + value - tens * 10;
      return at + 2;
    }
    bytes[at] = ZERO + value;
    return at + 1;
  }

  /**
   * Returns the bytes so far as a view and starts over. The view stays valid until
   * the next call unless `release` is called first, which lets the builder reuse
   * the memory once the consumer has copied it (a synchronous write has).
   */
  take(): Uint8Array {
    const view = this.bytes.subarray(0, this.length);
    const next = this.#spare ?? new Uint8Array(this.bytes.length);
    this.#spare = undefined;
    this.#pending = this.bytes;
    this.bytes = next;
    this.length = 0;
    return view;
  }

  /** Marks the bytes returned by the last `take` as no longer referenced. */
  release(): void {
    if (this.#pending === undefined) return;
    this.#spare = this.#pending;
    this.#pending = undefined;
  }

  #pending: Uint8Array | undefined;
  #spare: Uint8Array | undefined;
}
