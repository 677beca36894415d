// Wire encoding of the index's precomputed answers. Every record is encoded
// once, when the index is built, by dns-packet; owner names become
// compression pointers into the question, which is always at offset 12 and
// never compressed, so a response is header + copied question + these bytes.
import * as packet from 'dns-packet';

/** Record type numbers (RFC 1035, 3596, 2782, 6891). */
export const T = { A: 1, NS: 2, SOA: 6, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, IXFR: 251, AXFR: 252, MAILB: 253, MAILA: 254, ANY: 255 } as const;
export const CLASS_IN = 1;
export const CLASS_ANY = 255;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** The question's name always starts right after the 12-byte header. */
export const QNAME_OFFSET = 12;

/** One resource record as dns-packet encodes it. */
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
  const wire = packet.encode({ type: 'response', answers: [{ name: owner, type: r.rec.type, class: 'IN', ttl: r.ttl, data: r.rec.data } as packet.Answer] });
  const full = new Uint8Array(wire.buffer, wire.byteOffset + QNAME_OFFSET, wire.length - QNAME_OFFSET);
  if (!ownerPointer) return full.slice();
  const tail = full.subarray(nameWireLength(owner));
  const out = new Uint8Array(2 + tail.length);
  out.set(ownerPointer);
  out.set(tail, 2);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
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
