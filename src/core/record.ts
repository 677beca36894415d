// Node records: what a node says about itself, signed by its own key and
// versioned by a sequence number. Gossiped; a newer seq replaces an older one.
//
// Wire layout (version 1):
//   u8 version | chain (u8 n, n × vbytes cert) | u64 seq
//   | u8 nEndpoints × (u8 kind, u8 family 4|6, 4|16 addr, u16 port)
//   | u8 nLinks × (8 peerId, u16 rttMs)
//   | u8 nSubnets × (u8 family, 4|16 addr, u8 len)
//   | u8 flags (bit0 relay) | u16 exitCapacityMbit (0 = no exit offer)
//   | u8 nServices × (str8 name, u16 port, u8 proto 6|17, str8 type)
//   | [u8 nClients × 4 ipv4]   (only when the node has clients (core/clients.ts) or LAN hosts;
//                               0 clients only when LAN hosts follow)
//   | [u8 nHosts × (u8 service index, 4 ipv4)]   (only when a service runs on a
//                               host of the node's LAN, not on the node itself)
//   | 64 signature by the leaf certificate's key over everything before
import { Reader, Writer, DecodeError } from './codec.ts';
import { signDetached, verifyDetached, type SignKeys } from './crypto.ts';
import { toHex } from './bytes.ts';
import { decodeChain, encodeChain, type Cert } from './cert.ts';
import { parseIPv4, parseIPv6, formatIPv4, formatIPv6 } from './ip.ts';
import { isDnsLabel } from './network.ts';

export const RECORD_VERSION = 1;
export const MAX_RECORD_BYTES = 1400;
export const MAX_ENDPOINTS = 8;
export const MAX_LINKS = 64;
export const MAX_SUBNETS = 16;
export const MAX_SERVICES = 32;
/** Client addresses a record may carry (core/clients.ts: a /28 per member). */
export const MAX_RECORD_CLIENTS = 16;
export const NODE_ID_BYTES = 8;

export type EndpointKind = 'lan' | 'public' | 'configured';
const KIND_CODES: Record<EndpointKind, number> = { lan: 1, public: 2, configured: 3 };
const KIND_NAMES: Record<number, EndpointKind> = { 1: 'lan', 2: 'public', 3: 'configured' };

export interface Endpoint { kind: EndpointKind; host: string; port: number }
export interface Link { peer: string /* node id hex */; rttMs: number }
export interface Service {
  name: string; port: number; proto: 'tcp' | 'udp'; type: string;
  /** The IPv4 address of the host on the node's LAN that runs it (absent: the node itself). */
  host?: string;
}

export interface RecordBody {
  seq: number;
  endpoints: Endpoint[];
  links: Link[];
  subnets: string[];
  relay: boolean;
  exitCapacityMbit: number;
  services: Service[];
  /** Addresses of the plain WireGuard clients this node routes (absent or empty: none). */
  clients?: string[];
}

export interface NodeRecord extends RecordBody {
  chain: Cert[];
  /** Short node id: hex of the first 8 bytes of the signing key. */
  id: string;
  bytes: Uint8Array;
}

export function nodeIdOf(signPub: Uint8Array): string {
  return toHex(signPub.subarray(0, NODE_ID_BYTES));
}

function writeAddr(w: Writer, host: string): void {
  const v4 = parseIPv4(host);
  if (v4 !== null) { w.u8(4).u32(v4); return; }
  const v6 = parseIPv6(host);
  if (!v6) throw new RangeError(`not an IP address: "${host}"`);
  w.u8(6).bytes(v6);
}

function readAddr(r: Reader, field: string): string {
  const fam = r.u8(field);
  if (fam === 4) return formatIPv4(r.u32(field));
  if (fam === 6) return formatIPv6(r.bytes(16, field));
  throw new DecodeError(`record: ${field} has unknown address family ${fam}`);
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new RangeError(`record: ${what}`);
}

/** Everything the signature covers: the record without its last 64 bytes. */
export function encodeUnsigned(body: RecordBody, chain: Cert[]): Uint8Array {
  check(body.endpoints.length <= MAX_ENDPOINTS, `${body.endpoints.length} endpoints exceed ${MAX_ENDPOINTS}`);
  check(body.links.length <= MAX_LINKS, `${body.links.length} links exceed ${MAX_LINKS}`);
  check(body.subnets.length <= MAX_SUBNETS, `${body.subnets.length} subnets exceed ${MAX_SUBNETS}`);
  check(body.services.length <= MAX_SERVICES, `${body.services.length} services exceed ${MAX_SERVICES}`);
  const clients = body.clients ?? [];
  check(clients.length <= MAX_RECORD_CLIENTS, `${clients.length} clients exceed ${MAX_RECORD_CLIENTS}`);
  const w = new Writer().u8(RECORD_VERSION);
  encodeChain(w, chain);
  w.u64(body.seq).u8(body.endpoints.length);
  for (const e of body.endpoints) { w.u8(KIND_CODES[e.kind]); writeAddr(w, e.host); w.u16(e.port); }
  w.u8(body.links.length);
  for (const l of body.links) w.bytes(fromHex8(l.peer)).u16(Math.min(65535, Math.max(0, Math.round(l.rttMs))));
  w.u8(body.subnets.length);
  for (const s of body.subnets) {
    const [addr, len] = s.split('/');
    writeAddr(w, addr!);
    w.u8(Number(len));
  }
  w.u8(body.relay ? 1 : 0).u16(body.exitCapacityMbit).u8(body.services.length);
  for (const s of body.services) w.str8(s.name).u16(s.port).u8(s.proto === 'udp' ? 17 : 6).str8(s.type);
  const hosts = body.services.flatMap((s, i) => (s.host === undefined ? [] : [[i, s.host] as const]));
  const ipv4 = (a: string, what: string) => { const v = parseIPv4(a); check(v !== null, `${what} "${a}" is not IPv4`); return v!; };
  if (clients.length || hosts.length) {
    w.u8(clients.length);
    for (const c of clients) w.u32(ipv4(c, 'client address'));
  }
  if (hosts.length) {
    w.u8(hosts.length);
    for (const [i, h] of hosts) w.u8(i).u32(ipv4(h, 'service host'));
  }
  return w.finish();
}

/** The size in bytes the record would have, signature included. */
export function recordSize(body: RecordBody, chain: Cert[]): number {
  return encodeUnsigned(body, chain).length + SIGNATURE_BYTES;
}

const SIGNATURE_BYTES = 64;

/** What fitRecord left out of a record to keep it within MAX_RECORD_BYTES. */
export interface Trimmed { links: number; endpoints: number; services: number; subnets: number; clients?: number }

/**
 * The body trimmed to fit MAX_RECORD_BYTES (and the per-field limits), least
 * useful first: the slowest links (a peer we also reach some other way loses
 * least), then LAN endpoints beyond the first, then services and subnets from
 * the end (local commands refuse what would not fit, so these only go when a
 * longer certificate chain leaves less room). Never throws for size.
 */
export function fitRecord(body: RecordBody, chain: Cert[], published: ReadonlySet<string> = new Set(),
  rttOf: (l: Link) => number = (l) => l.rttMs): { body: RecordBody; trimmed: Trimmed } {
  const trimmed: Trimmed = { links: 0, endpoints: 0, services: 0, subnets: 0 };
  // When not all fit, the fastest go first (by rttOf: the caller's last
  // reading, which may differ from the published value), but a published link
  // keeps its place until another is faster by LINK_STICKY_MS: links swapped
  // in and out as pings measured them, each swap a new record for every member.
  const cost = (l: Link) => rttOf(l) + (published.has(l.peer) ? 0 : LINK_STICKY_MS);
  const b: RecordBody = {
    ...body,
    endpoints: body.endpoints.slice(0, MAX_ENDPOINTS),
    links: [...body.links].sort((x, y) => cost(x) - cost(y) || (x.peer < y.peer ? -1 : 1)).slice(0, MAX_LINKS),
    subnets: body.subnets.slice(0, MAX_SUBNETS),
    services: body.services.slice(0, MAX_SERVICES),
  };
  trimmed.endpoints += body.endpoints.length - b.endpoints.length;
  trimmed.links += body.links.length - b.links.length;
  trimmed.subnets += body.subnets.length - b.subnets.length;
  trimmed.services += body.services.length - b.services.length;
  const lanBeyondFirst = () => {
    const lans = b.endpoints.flatMap((e, i) => (e.kind === 'lan' ? [i] : []));
    return lans.length > 1 ? lans[lans.length - 1]! : -1;
  };
  for (let guard = 0; guard < 200 && recordSize(b, chain) > MAX_RECORD_BYTES; guard++) {
    if (b.links.length) { b.links = b.links.slice(0, -1); trimmed.links++; continue; }
    const lan = lanBeyondFirst();
    if (lan >= 0) { b.endpoints = b.endpoints.filter((_, i) => i !== lan); trimmed.endpoints++; continue; }
    if (b.services.length) { b.services = b.services.slice(0, -1); trimmed.services++; continue; }
    if (b.subnets.length) { b.subnets = b.subnets.slice(0, -1); trimmed.subnets++; continue; }
    if (b.clients?.length) { b.clients = b.clients.slice(0, -1); trimmed.clients = (trimmed.clients ?? 0) + 1; continue; }
    break;
  }
  b.links.sort((x, y) => (x.peer < y.peer ? -1 : 1));
  return { body: b, trimmed };
}

/** How much faster (ms) a link must be to take a published link's place in a full record. */
export const LINK_STICKY_MS = 40;

/** Links a record keeps room for whatever the configuration: local commands refuse to take it. */
export const LINK_ROOM = 16;

/**
 * Why services and subnets would not fit in this node's record next to a full
 * set of endpoints and LINK_ROOM links, or null. Local commands check this
 * before they persist anything, so the core never has to drop configuration.
 */
export function configFitError(services: Service[], subnets: string[], chain: Cert[], clients = 0): string | null {
  if (services.length > MAX_SERVICES) return `${services.length} services: at most ${MAX_SERVICES}`;
  if (subnets.length > MAX_SUBNETS) return `${subnets.length} subnets: at most ${MAX_SUBNETS}`;
  const worst: RecordBody = {
    seq: 0, relay: true, exitCapacityMbit: 0, services, subnets, clients: Array.from({ length: clients }, () => '255.255.255.255'),
    endpoints: Array.from({ length: MAX_ENDPOINTS }, () => ({ kind: 'lan' as const, host: 'ffff::ffff', port: 65535 })),
    links: Array.from({ length: LINK_ROOM }, (_, i) => ({ peer: i.toString(16).padStart(16, '0'), rttMs: 0 })),
  };
  const size = recordSize(worst, chain);
  if (size > MAX_RECORD_BYTES) return `${clients ? 'services, subnets and clients' : 'services and subnets'} take too much of the ${MAX_RECORD_BYTES}-byte node record (${size - MAX_RECORD_BYTES} bytes over): use shorter names or fewer entries`;
  return null;
}

export function encodeRecord(body: RecordBody, chain: Cert[], keys: SignKeys): NodeRecord {
  const unsigned = encodeUnsigned(body, chain);
  return signedRecord(body, chain, unsigned, signDetached(unsigned, keys.secretKey));
}

/** The record of body and chain from its unsigned bytes (encodeUnsigned) and their signature, which the caller has checked. */
export function signedRecord(body: RecordBody, chain: Cert[], unsigned: Uint8Array, signature: Uint8Array): NodeRecord {
  check(signature.length === SIGNATURE_BYTES, `a signature of ${signature.length} bytes`);
  const bytes = new Writer().bytes(unsigned).bytes(signature).finish();
  check(bytes.length <= MAX_RECORD_BYTES, `${bytes.length} bytes exceed ${MAX_RECORD_BYTES}`);
  return { ...body, chain, id: nodeIdOf(chain[0]!.signPub), bytes };
}

function fromHex8(hex: string): Uint8Array {
  const out = new Uint8Array(NODE_ID_BYTES);
  for (let i = 0; i < NODE_ID_BYTES; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16) || 0;
  return out;
}

export class OversizeError extends DecodeError {
  override name = 'OversizeError';
}
export class SignatureError extends DecodeError {
  override name = 'SignatureError';
}

/**
 * Decodes a record and checks its signature against its leaf certificate.
 * The chain itself is verified by the caller against the network.
 */
export function decodeRecord(bytes: Uint8Array, checkSignature = true): NodeRecord {
  if (bytes.length > MAX_RECORD_BYTES) throw new OversizeError(`record of ${bytes.length} bytes exceeds ${MAX_RECORD_BYTES}`);
  const r = new Reader(bytes, 'record');
  const v = r.u8('version');
  if (v !== RECORD_VERSION) throw new DecodeError(`record: unsupported version ${v}`);
  const chain = decodeChain(r);
  const seq = r.u64('seq');
  const nE = r.u8('endpoint count');
  if (nE > MAX_ENDPOINTS) throw new DecodeError(`record: ${nE} endpoints`);
  const endpoints: Endpoint[] = [];
  for (let i = 0; i < nE; i++) {
    const kind = KIND_NAMES[r.u8('endpoint kind')];
    if (!kind) throw new DecodeError('record: unknown endpoint kind');
    const host = readAddr(r, 'endpoint');
    const port = r.u16('endpoint port');
    if (port === 0) throw new DecodeError('record: endpoint port 0');
    endpoints.push({ kind, host, port });
  }
  const nL = r.u8('link count');
  if (nL > MAX_LINKS) throw new DecodeError(`record: ${nL} links`);
  const links: Link[] = [];
  for (let i = 0; i < nL; i++) links.push({ peer: toHex(r.bytes(NODE_ID_BYTES, 'link peer')), rttMs: r.u16('link rtt') });
  const nS = r.u8('subnet count');
  if (nS > MAX_SUBNETS) throw new DecodeError(`record: ${nS} subnets`);
  const subnets: string[] = [];
  for (let i = 0; i < nS; i++) {
    const addr = readAddr(r, 'subnet');
    const len = r.u8('subnet length');
    if (len > (addr.includes(':') ? 128 : 32)) throw new DecodeError(`record: subnet length ${len}`);
    subnets.push(`${addr}/${len}`);
  }
  const relay = (r.u8('flags') & 1) === 1;
  const exitCapacityMbit = r.u16('exit capacity');
  const nSv = r.u8('service count');
  if (nSv > MAX_SERVICES) throw new DecodeError(`record: ${nSv} services`);
  const services: Service[] = [];
  for (let i = 0; i < nSv; i++) {
    const name = r.str8('service name');
    const port = r.u16('service port');
    const protoCode = r.u8('service proto');
    const type = r.str8('service type');
    if (!isDnsLabel(name) || (type !== '' && !isDnsLabel(type)) || (protoCode !== 6 && protoCode !== 17) || port === 0) {
      throw new DecodeError(`record: invalid service "${name}"`);
    }
    services.push({ name, port, proto: protoCode === 17 ? 'udp' : 'tcp', type });
  }
  const clients: string[] = [];
  if (r.remaining > SIGNATURE_BYTES) {
    const nC = r.u8('client count');
    if (nC > MAX_RECORD_CLIENTS || (nC === 0 && r.remaining <= SIGNATURE_BYTES)) throw new DecodeError(`record: ${nC} clients`);
    for (let i = 0; i < nC; i++) clients.push(formatIPv4(r.u32('client')));
  }
  if (r.remaining > SIGNATURE_BYTES) readHosts(r, services);
  r.bytes(64, 'signature');
  r.end();
  const leaf = chain[0]!;
  const rec = { seq, endpoints, links, subnets, relay, exitCapacityMbit, services, ...(clients.length ? { clients } : {}), chain, id: nodeIdOf(leaf.signPub), bytes };
  if (checkSignature) verifyRecordSignature(rec);
  return rec;
}

/** The LAN hosts of services: each names a service once, in order (so one record has one encoding). */
function readHosts(r: Reader, services: Service[]): void {
  const n = r.u8('host count');
  if (n === 0 || n > services.length) throw new DecodeError(`record: ${n} service hosts`);
  let last = -1;
  for (let i = 0; i < n; i++) {
    const at = r.u8('service index');
    if (at <= last || at >= services.length) throw new DecodeError(`record: service host for service ${at}`);
    services[at]!.host = formatIPv4(r.u32('service host'));
    last = at;
  }
}

/** Checks a decoded record's signature (the last 64 bytes) against its leaf certificate. */
export function verifyRecordSignature(rec: NodeRecord): void {
  const n = rec.bytes.length - 64;
  if (!verifyDetached(rec.bytes.subarray(0, n), rec.bytes.subarray(n), rec.chain[0]!.signPub)) {
    throw new SignatureError(`record of "${rec.chain[0]!.name}": bad signature`);
  }
}

/**
 * Whether `a` differs from `b` only in RTTs of links `b` had measured (the
 * same peers, every other field equal): a first measurement (published as 0)
 * is no drift.
 */
export function rttDriftOnly(a: RecordBody, b: RecordBody): boolean {
  return a.links.length === b.links.length && a.links.every((l, i) => l.peer === b.links[i]!.peer && (l.rttMs === b.links[i]!.rttMs || b.links[i]!.rttMs > 0))
    && sameBody({ ...a, links: b.links }, b);
}

export function sameBody(a: RecordBody, b: RecordBody): boolean {
  const services = (x: RecordBody) => x.services.map((s) => [s.name, s.port, s.proto, s.type, s.host ?? null]);
  const key = (x: RecordBody) => JSON.stringify([x.endpoints, x.links, x.subnets, x.relay, x.exitCapacityMbit, services(x), x.clients ?? []]);
  return key(a) === key(b);
}
