// A bounds-checked binary writer and reader, the base of every Kith wire
// format. Integers are big-endian. Readers throw DecodeError (never anything
// else) on short or malformed input, so callers can drop and count bad input.
import { utf8Decode, utf8Encode } from './bytes.ts';

/** Remote bytes did not decode; the message names the field and the problem. */
export class DecodeError extends Error {
  override name = 'DecodeError';
}

export class Writer {
  private buf = new Uint8Array(256);
  private len = 0;

  private grow(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  u8(v: number): this { this.grow(1); this.buf[this.len++] = v & 255; return this; }
  u16(v: number): this { this.grow(2); this.buf[this.len++] = (v >> 8) & 255; this.buf[this.len++] = v & 255; return this; }
  u32(v: number): this { this.u16(Math.floor(v / 65536) & 0xffff); return this.u16(v & 0xffff); }
  /** An unsigned integer up to 2^53, as 8 bytes. */
  u64(v: number): this { return this.u32(Math.floor(v / 2 ** 32)).u32(v % 2 ** 32); }
  bytes(b: Uint8Array): this { this.grow(b.length); this.buf.set(b, this.len); this.len += b.length; return this; }
  /** Bytes with a u16 length prefix. */
  vbytes(b: Uint8Array): this { if (b.length > 0xffff) throw new RangeError(`field of ${b.length} bytes exceeds 65535`); return this.u16(b.length).bytes(b); }
  /** A UTF-8 string with a u8 length prefix (at most 255 bytes). */
  str8(s: string): this {
    const b = utf8Encode(s);
    if (b.length > 255) throw new RangeError(`string "${s.slice(0, 20)}…" exceeds 255 bytes`);
    return this.u8(b.length).bytes(b);
  }
  get length(): number { return this.len; }
  finish(): Uint8Array { return this.buf.slice(0, this.len); }
}

export class Reader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array, private readonly what = 'message') {}

  private need(n: number, field: string): void {
    if (this.pos + n > this.buf.length) throw new DecodeError(`${this.what}: truncated at ${field} (offset ${this.pos}, need ${n} bytes, have ${this.buf.length - this.pos})`);
  }
  u8(field = 'u8'): number { this.need(1, field); return this.buf[this.pos++]!; }
  u16(field = 'u16'): number { this.need(2, field); const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!; this.pos += 2; return v; }
  u32(field = 'u32'): number { return this.u16(field) * 65536 + this.u16(field); }
  u64(field = 'u64'): number {
    const hi = this.u32(field);
    if (hi >= 2 ** 21) throw new DecodeError(`${this.what}: ${field} exceeds 2^53`);
    return hi * 2 ** 32 + this.u32(field);
  }
  bytes(n: number, field = 'bytes'): Uint8Array { this.need(n, field); const b = this.buf.slice(this.pos, this.pos + n); this.pos += n; return b; }
  vbytes(field = 'vbytes'): Uint8Array { return this.bytes(this.u16(field), field); }
  str8(field = 'string'): string { return utf8Decode(this.bytes(this.u8(field), field)); }
  get offset(): number { return this.pos; }
  get remaining(): number { return this.buf.length - this.pos; }
  /** Throws unless every byte was consumed. */
  end(): void { if (this.pos !== this.buf.length) throw new DecodeError(`${this.what}: ${this.buf.length - this.pos} trailing bytes`); }
}
