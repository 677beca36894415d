// Wire encoding of the index's precomputed answers. Every record is encoded
// once, when the index is built (RFC 1035 layout, checked byte for byte against
// dns-packet in the tests; encoding here keeps dns-packet and its Buffer
// polyfill out of the router bundle); owner names become compression pointers
// into the question, which is always at offset 12 and never compressed, so a
// response is header + copied question + these bytes.
import { Writer } from '../core/codec.ts';
import { utf8Encode, concat as concatAll } from '../core/bytes.ts';

const concat = (parts: Uint8Array[]): Uint8Array => concatAll(...parts);
import { parseIPv4, parseIPv6 } from '../core/ip.ts';

/** Record type numbers (RFC 1035, 3596, 2782, 6891). */
export const T = { A: 1, NS: 2, SOA: 6, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, IXFR: 251, AXFR: 252, MAILB: 253, MAILA: 254, ANY: 255 } as const;
export const CLASS_IN = 1;
export const CLASS_ANY = 255;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** The question's name always starts right after the 12-byte header. */
export const QNAME_OFFSET = 12;

/** One resource record (dns-packet's shape, so tests can compare). */
export type RecordData =
  | { type: 'A' | 'AAAA' | 'PTR' | 'NS'; data: string }
  | { type: 'TXT'; data: string[] }
  | { type: 'SRV'; data: { priority: number; weight: number; port: number; target: string } }
  | { type: 'SOA'; data: { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number } };

export interface Rec { rec: RecordData; ttl: number }

/**
 * A precomputed response body for one (name, type): answer, authority and
 * additional records, in that order, ready to follow the copied question.
 */
export interface Prepared {
  readonly rcode: number;
  readonly an: number;
  readonly ns: number;
  readonly ar: number;
  readonly body: Uint8Array;
  /** Length of body without the additional section (dropped first when too big). */
  readonly noAdditional: number;
  /** End offset in body of each answer record, for the per-response answer cap. */
  readonly answerEnds: readonly number[];
}

/** Length of a name in uncompressed wire form ("" is the root: 1 byte). */
export function nameWireLength(name: string): number {
  return name === '' ? 1 : name.length + 2;
}

/** A compression pointer to `offset` in the message. */
export function pointer(offset: number): Uint8Array {
  return Uint8Array.of(0xc0 | (offset >> 8), offset & 255);
}

/**
 * Encodes one record with an uncompressed owner name. With `ownerPointer`
 * the owner is replaced by that 2-byte pointer.
 */
export function encodeRecord(owner: string, r: Rec, ownerPointer?: Uint8Array): Uint8Array {
  const w = new Writer();
  if (ownerPointer) w.bytes(ownerPointer);
  else writeName(w, owner);
  const rdata = encodeRdata(r.rec);
  w.u16(T[r.rec.type]).u16(CLASS_IN).u32(r.ttl >>> 0).u16(rdata.length).bytes(rdata);
  return w.finish();
}

/** An uncompressed name: length-prefixed labels, then the root. */
function writeName(w: Writer, name: string): void {
  const trimmed = name.replace(/\.$/, '');
  if (trimmed !== '') {
    for (const label of trimmed.split('.')) {
      const b = utf8Encode(label);
      if (b.length < 1 || b.length > 63) throw new RangeError(`dns: label "${label}" of ${b.length} bytes in "${name}"`);
      w.u8(b.length).bytes(b);
    }
  }
  w.u8(0);
}

function encodeRdata(rec: RecordData): Uint8Array {
  const w = new Writer();
  switch (rec.type) {
    case 'A': {
      const v = parseIPv4(rec.data);
      if (v === null) throw new RangeError(`dns: A record with "${rec.data}"`);
      w.u32(v);
      break;
    }
    case 'AAAA': {
      const v = parseIPv6(rec.data);
      if (!v) throw new RangeError(`dns: AAAA record with "${rec.data}"`);
      w.bytes(v);
      break;
    }
    case 'PTR':
    case 'NS':
      writeName(w, rec.data);
      break;
    case 'TXT':
      for (const t of rec.data.length ? rec.data : ['']) {
        const b = utf8Encode(t);
        if (b.length > 255) throw new RangeError('dns: TXT string over 255 bytes');
        w.u8(b.length).bytes(b);
      }
      break;
    case 'SRV':
      w.u16(rec.data.priority).u16(rec.data.weight).u16(rec.data.port);
      writeName(w, rec.data.target);
      break;
    case 'SOA':
      writeName(w, rec.data.mname);
      writeName(w, rec.data.rname);
      w.u32(rec.data.serial >>> 0).u32(rec.data.refresh).u32(rec.data.retry).u32(rec.data.expire).u32(rec.data.minimum);
      break;
  }
  return w.finish();
}


/** Builds a Prepared from encoded records of each section. */
export function prepare(rcode: number, answers: Uint8Array[], authority: Uint8Array[], additional: Uint8Array[]): Prepared {
  const answerEnds: number[] = [];
  let end = 0;
  for (const a of answers) { end += a.length; answerEnds.push(end); }
  const main = concat([...answers, ...authority]);
  return {
    rcode, an: answers.length, ns: authority.length, ar: additional.length,
    body: concat([main, ...additional]), noAdditional: main.length, answerEnds,
  };
}

/**
 * The key of a name in the index: its lowercased wire form without the final
 * zero byte, one character per byte. The resolver makes the same string from
 * the query's bytes with native calls (no per-byte JavaScript loop, which
 * matters on an interpreter like QuickJS).
 */
export function wireKey(name: string): string {
  const w = nameToWire(name);
  let k = '';
  for (let i = 0; i < w.length - 1; i++) k += String.fromCharCode(w[i]!);
  return k;
}

/** Lowercased uncompressed wire form of a name ("" is the root). */
export function nameToWire(name: string): Uint8Array {
  const out = new Uint8Array(nameWireLength(name));
  let o = 0;
  if (name !== '') {
    for (const label of name.toLowerCase().split('.')) {
      out[o++] = label.length;
      for (let i = 0; i < label.length; i++) out[o++] = label.charCodeAt(i);
    }
  }
  return out;
}
