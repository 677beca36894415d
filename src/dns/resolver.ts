// The query path: DNS message bytes in, response bytes out, no I/O. Parses
// the header, question and EDNS OPT straight from the bytes, looks the name
// up in the prebuilt index and splices its precomputed answer after a copy of
// the question (so the client's 0x20 case comes back as sent). Remote input
// never throws: bad packets get FORMERR or no answer.
//
// Rules (RFC 1035, 2181, 6891, 8482, 9619): one question or FORMERR; opcode
// QUERY or NOTIMP; a QR=1 packet is dropped; names in our zones get AA and
// NOERROR/NODATA/NXDOMAIN with the SOA in authority for negatives; ANY gets
// one RRset; other names get REFUSED unless forwarding is on; over UDP the
// answer fits 512 bytes or the EDNS size (capped at EDNS_UDP_SIZE), else the
// additional section goes, then TC=1 with no records.
import { T, CLASS_IN, CLASS_ANY, RCODE } from './records.ts';
import { answerFor, type DnsIndex } from './zone.ts';

export interface ResolveOptions {
  transport: 'udp' | 'tcp';
  /** Most answer records in one response (the rest of an RRset is cut, no TC). */
  maxAnswers: number;
  /** Names outside our zones are handed back for forwarding instead of REFUSED. */
  forward?: boolean;
}

export interface ResolveResult {
  /** The response to send, or null to send nothing (then see forward). */
  response: Uint8Array | null;
  /** The query is for a name outside our zones: forward it upstream. */
  forward?: true;
  /** The packet was not a well-formed DNS query (counted by the caller). */
  malformed?: true;
}

/** The UDP payload size we advertise and the most we send (DNS flag day 2020). */
export const EDNS_UDP_SIZE = 1232;
/** Without EDNS a UDP response is at most 512 bytes (RFC 1035 §4.2.1). */
export const PLAIN_UDP_SIZE = 512;
const TCP_SIZE = 65535;
const OPT_RR_LENGTH = 11;
const MAX_NAME_WIRE = 255;
/** EDNS extended rcode BADVERS (16) carried in the OPT TTL's top byte as 16 >> 4. */
const BADVERS_HIGH = 1;

const OK = 0, DROP = -1;

// Scratch state of the last parse (resolve is synchronous, so never shared).
let qEnd = 0, qtype = 0, qclass = 0, labels = 0, edns = false, ednsSize = 0, ednsVersion = 0;
/** Offsets (from the name's start) of the question's labels. */
const labelStarts = new Int32Array(128);

/**
 * Responses are carved from a slab: small typed arrays with their own
 * buffers cost an allocation each, views of a shared one do not. A region
 * is handed out once and never reused; a full slab is left to the GC.
 */
const SLAB_SIZE = 65536;
let slab = new Uint8Array(SLAB_SIZE);
let slabUsed = 0;
function alloc(n: number): Uint8Array {
  if (n > SLAB_SIZE >> 3) return new Uint8Array(n);
  if (slabUsed + n > SLAB_SIZE) { slab = new Uint8Array(SLAB_SIZE); slabUsed = 0; }
  const r = slab.subarray(slabUsed, slabUsed + n);
  slabUsed += n;
  return r;
}

/** Skips a possibly compressed name; returns the offset after it, or -1. */
function skipName(q: Uint8Array, o: number): number {
  for (let n = 0; n < 128; n++) {
    if (o >= q.length) return -1;
    const l = q[o]!;
    if (l === 0) return o + 1;
    if ((l & 0xc0) === 0xc0) return o + 2 <= q.length ? o + 2 : -1;
    if (l > 63) return -1;
    o += 1 + l;
  }
  return -1;
}

/** Parses header, question and OPT into the scratch state: OK, DROP or an rcode. */
function parse(q: Uint8Array): number {
  const len = q.length;
  if (len < 12 || (q[2]! & 0x80) !== 0) return DROP;
  if (((q[2]! >> 3) & 15) !== 0) return RCODE.NOTIMP;
  if (q[4] !== 0 || q[5] !== 1) return RCODE.FORMERR;
  let o = 12;
  let n = 0;
  for (;;) {
    if (o >= len) return RCODE.FORMERR;
    const l = q[o]!;
    if (l === 0) { o++; break; }
    if (l > 63 || o + 1 + l >= len) return RCODE.FORMERR;
    labelStarts[n++] = o - 12;
    o += 1 + l;
    if (o - 12 >= MAX_NAME_WIRE) return RCODE.FORMERR;
  }
  if (o + 4 > len) return RCODE.FORMERR;
  qtype = (q[o]! << 8) | q[o + 1]!;
  qclass = (q[o + 2]! << 8) | q[o + 3]!;
  qEnd = o + 4;
  labels = n;
  edns = false;
  const before = ((q[6]! << 8) | q[7]!) + ((q[8]! << 8) | q[9]!);
  const records = before + ((q[10]! << 8) | q[11]!);
  o = qEnd;
  for (let i = 0; i < records; i++) {
    const start = o;
    o = skipName(q, o);
    if (o < 0 || o + 10 > len) return RCODE.FORMERR;
    const end = o + 10 + ((q[o + 8]! << 8) | q[o + 9]!);
    if (end > len) return RCODE.FORMERR;
    if (q[o] === 0 && q[o + 1] === T.OPT) {
      if (i < before || edns || q[start] !== 0) return RCODE.FORMERR;
      edns = true;
      ednsSize = (q[o + 2]! << 8) | q[o + 3]!;
      ednsVersion = q[o + 5]!;
    }
    o = end;
  }
  return OK;
}

/** A response carrying only the header (for queries whose question we cannot trust). */
function headerOnly(q: Uint8Array, rcode: number): Uint8Array {
  const r = alloc(12);
  r[0] = q[0]!; r[1] = q[1]!;
  r[2] = 0x80 | (q[2]! & 0x79);
  r[3] = rcode;
  return r;
}

/**
 * Header + copied question + body[0, bodyLen) (+ OPT when the query had one).
 * `extra` is written after body (the NXDOMAIN SOA tail).
 */
function assemble(q: Uint8Array, rcode: number, aa: boolean, tc: boolean, an: number, ns: number, ar: number,
  body: Uint8Array | null, bodyLen: number, extra: Uint8Array | null, extRcodeHigh: number): Uint8Array {
  const extraLen = extra ? extra.length : 0;
  const total = qEnd + bodyLen + extraLen + (edns ? OPT_RR_LENGTH : 0);
  const r = alloc(total);
  r.set(q.subarray(0, qEnd));
  r[2] = 0x80 | (q[2]! & 0x79) | (aa ? 4 : 0) | (tc ? 2 : 0);
  r[3] = (q[3]! & 0x10) | rcode;
  r[4] = 0; r[5] = 1;
  r[6] = an >> 8; r[7] = an & 255;
  r[8] = ns >> 8; r[9] = ns & 255;
  const arAll = ar + (edns ? 1 : 0);
  r[10] = arAll >> 8; r[11] = arAll & 255;
  let o = qEnd;
  if (body && bodyLen) { r.set(bodyLen === body.length ? body : body.subarray(0, bodyLen), o); o += bodyLen; }
  if (extra) { r.set(extra, o); o += extraLen; }
  if (edns) {
    // Root name, type OPT, our UDP size, extended rcode, version 0, no flags, no options.
    r[o + 2] = T.OPT; r[o + 3] = EDNS_UDP_SIZE >> 8; r[o + 4] = EDNS_UDP_SIZE & 255; r[o + 5] = extRcodeHigh;
  }
  return r;
}

function sizeLimit(transport: 'udp' | 'tcp'): number {
  if (transport === 'tcp') return TCP_SIZE;
  if (!edns) return PLAIN_UDP_SIZE;
  return ednsSize < PLAIN_UDP_SIZE ? PLAIN_UDP_SIZE : ednsSize > EDNS_UDP_SIZE ? EDNS_UDP_SIZE : ednsSize;
}

/** The question's name as an index key (see wireKey), made by native calls only. */
function questionKey(q: Uint8Array): string {
  const raw = String.fromCharCode.apply(null, q.subarray(12, qEnd - 5) as unknown as number[]);
  return raw.toLowerCase();
}

/**
 * The zone (of ours) holding the question's name, and where its apex starts
 * inside the name, or undefined when the name is out of our zones.
 */
function findApex(key: string, index: DnsIndex): { offset: number; soaTail: Uint8Array } | undefined {
  for (let i = 1; i < labels; i++) {
    const apex = index.apexByWire.get(key.substring(labelStarts[i]!));
    if (apex) return { offset: labelStarts[i]!, soaTail: apex.soaTail };
  }
  return undefined;
}

/** Answers one DNS query from the index. Pure; never throws for any input bytes. */
export function resolve(query: Uint8Array, index: DnsIndex, opts: ResolveOptions): ResolveResult {
  const st = parse(query);
  if (st === DROP) return { response: null, malformed: true };
  if (st !== OK) return st === RCODE.FORMERR ? { response: headerOnly(query, st), malformed: true } : { response: headerOnly(query, st) };
  if (edns && ednsVersion !== 0) return { response: assemble(query, 0, false, false, 0, 0, 0, null, 0, null, BADVERS_HIGH) };
  if (qtype === T.OPT) return { response: headerOnly(query, RCODE.FORMERR), malformed: true };
  const key = questionKey(query);
  const entry = index.byWire.get(key);
  const apex = entry !== undefined ? undefined : findApex(key, index);
  if (entry === undefined && !apex) {
    if (opts.forward) return { response: null, forward: true };
    return { response: assemble(query, RCODE.REFUSED, false, false, 0, 0, 0, null, 0, null, 0) };
  }
  if (qclass !== CLASS_IN && qclass !== CLASS_ANY) return { response: assemble(query, RCODE.REFUSED, false, false, 0, 0, 0, null, 0, null, 0) };
  if (qtype === T.AXFR || qtype === T.IXFR) return { response: assemble(query, RCODE.REFUSED, false, false, 0, 0, 0, null, 0, null, 0) };
  if (qtype === T.MAILA || qtype === T.MAILB) return { response: assemble(query, RCODE.NOTIMP, false, false, 0, 0, 0, null, 0, null, 0) };
  const limit = sizeLimit(opts.transport);
  const optLen = edns ? OPT_RR_LENGTH : 0;
  if (entry === undefined) {
    // NXDOMAIN: the SOA's owner is a pointer to the apex's place in the question.
    const soa = apex!;
    const ptrAt = 12 + soa.offset;
    const rr = new Uint8Array(2 + soa.soaTail.length);
    rr[0] = 0xc0 | (ptrAt >> 8); rr[1] = ptrAt & 255; rr.set(soa.soaTail, 2);
    if (qEnd + rr.length + optLen > limit) return { response: assemble(query, RCODE.NXDOMAIN, true, true, 0, 0, 0, null, 0, null, 0) };
    return { response: assemble(query, RCODE.NXDOMAIN, true, false, 0, 1, 0, rr, rr.length, null, 0) };
  }
  const a = answerFor(index, entry, qtype), p = index.prep;
  const rcode = p[a]!, start = p[a + 4]!;
  let an = p[a + 1]!, ns = p[a + 2]!, ar = p[a + 3]!, bodyLen = p[a + 5]! - start;
  const cap = opts.maxAnswers > 0 ? opts.maxAnswers : 1;
  if (an > cap) { an = cap; ns = 0; ar = 0; bodyLen = index.ends[p[a + 7]! + cap - 1]!; }
  if (qEnd + bodyLen + optLen > limit && ar) { ar = 0; bodyLen = Math.min(bodyLen, p[a + 6]!); }
  if (qEnd + bodyLen + optLen > limit) return { response: assemble(query, rcode, true, true, 0, 0, 0, null, 0, null, 0) };
  return { response: assemble(query, rcode, true, false, an, ns, ar, index.wire.subarray(start, start + bodyLen), bodyLen, null, 0) };
}

/** A TC=1 reply with no records (rate-limit "slip": a real client retries over TCP), or null. */
export function truncatedReply(query: Uint8Array): Uint8Array | null {
  if (parse(query) !== OK) return null;
  return assemble(query, RCODE.NOERROR, false, true, 0, 0, 0, null, 0, null, 0);
}

/** A header-and-question reply with the given rcode (SERVFAIL after a failed forward), or null. */
export function errorReply(query: Uint8Array, rcode: number): Uint8Array | null {
  if (parse(query) !== OK) return null;
  return assemble(query, rcode, false, false, 0, 0, 0, null, 0, null, 0);
}

/** Offset just past the question of a well-formed query, or -1. */
export function questionEnd(query: Uint8Array): number {
  return parse(query) === OK ? qEnd : -1;
}
