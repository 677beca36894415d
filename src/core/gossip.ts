// Control messages between members, carried as UDP inside the overlay (so
// WireGuard authenticates the sender's overlay address and encrypts them).
//
// Layout: u8 version=1 | u8 type | body
//   1 DIGEST   u16 n × (8 nodeId, u64 seq)          what I hold
//   2 RECORDS  u8 n × vbytes record                  records you lack
//   3 WANT     u8 n × 8 nodeId                       send me these
//   4 PING     u32 nonce | u64 sentMs
//   5 PONG     u32 nonce | u64 sentMs (echoed)
//   6 OBSERVED u8 family | 4|16 addr | u16 port      your endpoint as I see it
//   7 PUNCH    u8 attempt | u8 family | 4|16 addr | u16 port
//                                                   I opened my NAT toward you: dial me now, here
//   8 RENEW    (empty)                               renew my certificate (to its issuer; see renew.ts)
//   9 CERT     u8 n × vbytes cert                    your renewed chain, leaf first (n ≤ MAX_CHAIN)
//  10 REVOKE   u8 n × vbytes revocation              revocations (revoke.ts; n ≤ MAX_REVOCATIONS_PER_MESSAGE)
//  11 REVSUM   u16 count | 8 hash                    the revocations I hold, summed (revocations.ts)
//  12 REVIDS   u16 n × 8 nodeId                      the nodes I hold revocations of (n ≤ MAX_DIGEST_ENTRIES)
//  13 REVWANT  u8 n × 8 nodeId                       send me these revocations
//  14 SUMMARY  u16 count | 8 hash | u16 revCount | 8 revHash
//                                                   what I hold, summed: records and revocations (antientropy.ts)
//  15 BUCKETS  64 × u32 bucket hash                  mine differ from yours: send me a digest of the buckets that differ
//  16 BDIGEST  8 bucket mask | u16 n × (8 nodeId, u64 seq)
//                                                   every record I hold in these buckets
//  17 HAVE     u8 n × (8 nodeId, u64 seq)           records new to me (n ≤ MAX_RECORDS_PER_MESSAGE):
//                                                   want those you lack of me (rumour.ts)
import { Reader, Writer, DecodeError } from './codec.ts';
import { fromHex, toHex } from './bytes.ts';
import { parseIPv4, parseIPv6, formatIPv4, formatIPv6 } from './ip.ts';
import { NODE_ID_BYTES } from './record.ts';
import { MAX_CHAIN } from './cert.ts';

export const CONTROL_VERSION = 1;
export const MAX_DIGEST_ENTRIES = 80;
export const MAX_RECORDS_PER_MESSAGE = 4;
export const MAX_CONTROL_BYTES = 8192;
export const MAX_REVOCATIONS_PER_MESSAGE = 4;

export type ControlMessage =
  | { type: 'digest'; entries: { id: string; seq: number }[] }
  | { type: 'records'; records: Uint8Array[] }
  | { type: 'want'; ids: string[] }
  | { type: 'ping'; nonce: number; sentMs: number }
  | { type: 'pong'; nonce: number; sentMs: number }
  | { type: 'observed'; host: string; port: number }
  | { type: 'punch'; attempt: number; host: string; port: number }
  | { type: 'renew' }
  /** Certificates as bytes: the receiver decodes (and so verifies) them only if it asked. */
  | { type: 'cert'; chain: Uint8Array[] }
  | { type: 'revoke'; revocations: Uint8Array[] }
  | { type: 'revsum'; count: number; hash: Uint8Array }
  | { type: 'revids'; ids: string[] }
  | { type: 'revwant'; ids: string[] }
  | { type: 'summary'; count: number; hash: Uint8Array; revCount: number; revHash: Uint8Array }
  /** One hash per bucket of node ids (SUMMARY_BUCKETS of them, by the id's first 6 bits). */
  | { type: 'buckets'; hashes: number[] }
  /** Bit i of the mask (byte i >> 3, bit i & 7) set: the entries are every record held in bucket i. */
  | { type: 'bdigest'; mask: Uint8Array; entries: { id: string; seq: number }[] }
  | { type: 'have'; entries: { id: string; seq: number }[] };

const TYPES = { digest: 1, records: 2, want: 3, ping: 4, pong: 5, observed: 6, punch: 7, renew: 8, cert: 9, revoke: 10, revsum: 11, revids: 12, revwant: 13, summary: 14, buckets: 15, bdigest: 16, have: 17 } as const;
const REVSUM_HASH_BYTES = 8;
export const SUMMARY_HASH_BYTES = 8;
/** Buckets of node ids in anti-entropy (SUMMARY, BUCKETS, BDIGEST): 1024 records are 16 a bucket. */
export const SUMMARY_BUCKETS = 64;
const MASK_BYTES = SUMMARY_BUCKETS / 8;

export function encodeControl(m: ControlMessage): Uint8Array {
  const w = new Writer().u8(CONTROL_VERSION).u8(TYPES[m.type]);
  switch (m.type) {
    case 'digest':
    case 'bdigest':
    case 'have':
      if (m.type === 'bdigest') w.bytes(m.mask);
      if (m.type === 'have') w.u8(m.entries.length);
      else w.u16(m.entries.length);
      for (const e of m.entries) w.bytes(fromHex(e.id)).u64(e.seq);
      break;
    case 'summary':
      w.u16(m.count).bytes(m.hash).u16(m.revCount).bytes(m.revHash);
      break;
    case 'buckets':
      for (const h of m.hashes) w.u32(h);
      break;
    case 'records':
      w.u8(m.records.length);
      for (const r of m.records) w.vbytes(r);
      break;
    case 'want':
      w.u8(m.ids.length);
      for (const id of m.ids) w.bytes(fromHex(id));
      break;
    case 'ping':
    case 'pong':
      w.u32(m.nonce).u64(m.sentMs);
      break;
    case 'punch':
      w.u8(m.attempt);
      writeEndpoint(w, m.host, m.port);
      break;
    case 'observed':
      writeEndpoint(w, m.host, m.port);
      break;
    case 'renew':
      break;
    case 'cert':
      w.u8(m.chain.length);
      for (const c of m.chain) w.vbytes(c);
      break;
    case 'revoke':
      w.u8(m.revocations.length);
      for (const r of m.revocations) w.vbytes(r);
      break;
    case 'revsum':
      w.u16(m.count).bytes(m.hash);
      break;
    case 'revids':
      w.u16(m.ids.length);
      for (const id of m.ids) w.bytes(fromHex(id));
      break;
    case 'revwant':
      w.u8(m.ids.length);
      for (const id of m.ids) w.bytes(fromHex(id));
      break;
  }
  return w.finish();
}

/** decodeControl, or null for what does not decode. */
export function safeDecodeControl(b: Uint8Array): ControlMessage | null {
  try { return decodeControl(b); } catch { return null; }
}

export function decodeControl(b: Uint8Array): ControlMessage {
  if (b.length > MAX_CONTROL_BYTES) throw new DecodeError(`control message of ${b.length} bytes`);
  const r = new Reader(b, 'control message');
  const v = r.u8('version');
  if (v !== CONTROL_VERSION) throw new DecodeError(`control message: unsupported version ${v}`);
  const type = r.u8('type');
  let m: ControlMessage;
  switch (type) {
    case 1:
    case 16:
    case 17: {
      const mask = type === 16 ? r.bytes(MASK_BYTES, 'mask') : null;
      const n = type === 17 ? r.u8('count') : r.u16('count');
      if (n > (type === 17 ? MAX_RECORDS_PER_MESSAGE : MAX_DIGEST_ENTRIES)) throw new DecodeError(`${type === 17 ? 'have' : 'digest'} of ${n} entries`);
      const entries = [];
      for (let i = 0; i < n; i++) entries.push({ id: toHex(r.bytes(NODE_ID_BYTES, 'id')), seq: r.u64('seq') });
      m = type === 17 ? { type: 'have', entries } : mask ? { type: 'bdigest', mask, entries } : { type: 'digest', entries };
      break;
    }
    case 14:
      m = { type: 'summary', count: r.u16('count'), hash: r.bytes(SUMMARY_HASH_BYTES, 'hash'), revCount: r.u16('revocation count'), revHash: r.bytes(REVSUM_HASH_BYTES, 'revocation hash') };
      break;
    case 15:
      m = { type: 'buckets', hashes: Array.from({ length: SUMMARY_BUCKETS }, () => r.u32('bucket hash')) };
      break;
    case 2: {
      const n = r.u8('count');
      if (n > MAX_RECORDS_PER_MESSAGE) throw new DecodeError(`${n} records in one message`);
      const records = [];
      for (let i = 0; i < n; i++) records.push(r.vbytes('record'));
      m = { type: 'records', records };
      break;
    }
    case 3: {
      const n = r.u8('count');
      const ids = [];
      for (let i = 0; i < n; i++) ids.push(toHex(r.bytes(NODE_ID_BYTES, 'id')));
      m = { type: 'want', ids };
      break;
    }
    case 4:
    case 5:
      m = { type: type === 4 ? 'ping' : 'pong', nonce: r.u32('nonce'), sentMs: r.u64('sent') };
      break;
    case 6:
      m = { type: 'observed', ...readEndpoint(r, 'observed') };
      break;
    case 7: {
      const attempt = r.u8('attempt');
      m = { type: 'punch', attempt, ...readEndpoint(r, 'punch') };
      break;
    }
    case 8:
      m = { type: 'renew' };
      break;
    case 9: {
      const n = r.u8('count');
      if (n === 0 || n > MAX_CHAIN) throw new DecodeError(`certificate chain of length ${n}`);
      const chain = [];
      for (let i = 0; i < n; i++) chain.push(r.vbytes('certificate'));
      m = { type: 'cert', chain };
      break;
    }
    case 10: {
      const n = r.u8('count');
      if (n > MAX_REVOCATIONS_PER_MESSAGE) throw new DecodeError(`${n} revocations in one message`);
      const revocations = [];
      for (let i = 0; i < n; i++) revocations.push(r.vbytes('revocation'));
      m = { type: 'revoke', revocations };
      break;
    }
    case 11:
      m = { type: 'revsum', count: r.u16('count'), hash: r.bytes(REVSUM_HASH_BYTES, 'hash') };
      break;
    case 12:
    case 13: {
      const n = type === 12 ? r.u16('count') : r.u8('count');
      if (n > MAX_DIGEST_ENTRIES && type === 12) throw new DecodeError(`revocation ids: ${n} entries`);
      const ids = [];
      for (let i = 0; i < n; i++) ids.push(toHex(r.bytes(NODE_ID_BYTES, 'id')));
      m = type === 12 ? { type: 'revids', ids } : { type: 'revwant', ids };
      break;
    }
    default:
      throw new DecodeError(`control message: unknown type ${type}`);
  }
  r.end();
  return m;
}

function writeEndpoint(w: Writer, host: string, port: number): void {
  const v4 = parseIPv4(host);
  if (v4 !== null) w.u8(4).u32(v4);
  else w.u8(6).bytes(parseIPv6(host) ?? new Uint8Array(16));
  w.u16(port);
}

function readEndpoint(r: Reader, what: string): { host: string; port: number } {
  const fam = r.u8('family');
  const host = fam === 4 ? formatIPv4(r.u32('addr')) : fam === 6 ? formatIPv6(r.bytes(16, 'addr')) : null;
  if (host === null) throw new DecodeError(`${what}: family ${fam}`);
  const port = r.u16('port');
  if (port === 0) throw new DecodeError(`${what}: port 0`);
  return { host, port };
}
