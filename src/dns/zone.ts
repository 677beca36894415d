// The DNS index: built from the netmap's view of nodes and services, once per
// netmap change, into immutable lookup tables with every answer precomputed
// as wire bytes. Services listed under a node they were not published by are
// rejected here, because only a node may publish names under its own name.
import { parseIPv4, parseIPv6, parsePrefix, prefixContains, reverseName, reverseZones } from './addr.ts';
import type { Prefix } from './addr.ts';
import { T, RCODE, QNAME_OFFSET, encodeRecord, nameWireLength, pointer, prepare, wireKey } from './records.ts';
import { Writer } from '../core/codec.ts';
import type { Prepared, RecordData } from './records.ts';

export interface ZoneService {
  name: string;
  port: number;
  proto: 'tcp' | 'udp';
  /** Service type label without the underscore (default: the name). */
  type?: string;
  /** Node name that published it (from its signed record). */
  owner: string;
  /** TXT strings (DNS-SD key=value); default one empty string (RFC 6763 §6.1). */
  txt?: string[];
  /** It runs on a host of the node's LAN: that host's IPv4 address as reached from here (its only record). */
  address?: string;
  /** Why its LAN host cannot be named from here: it is left out with this reason. */
  refused?: string;
}

export interface ZoneNode {
  name: string;
  ipv4: string;
  ipv6: string;
  services: ZoneService[];
}

export interface ZoneInput {
  /** The mesh zone, e.g. "home.internal". */
  zone: string;
  /** The network's ULA prefix, e.g. "fd12:3456:789a::/48". */
  ula48: string;
  /** The overlay IPv4 pool, e.g. "100.64.0.0/10". */
  ipv4Pool: string;
  nodes: ZoneNode[];
  soaSerial: number;
  /** This node's name: the NS and SOA MNAME target (default: the zone apex). */
  self?: string;
}

/** A node or service that was left out of the index, and why. */
export interface Rejected {
  kind: 'node' | 'service';
  /** Node name, or "service@node" for services. */
  name: string;
  reason: string;
}

/** Everything known about one existing name (a name with no records is an empty non-terminal). */
export interface NameEntry {
  readonly byType: ReadonlyMap<number, Prepared>;
  /** NOERROR, no answers, the zone's SOA in authority. */
  readonly nodata: Prepared;
  /** The RFC 8482 minimal answer to ANY: one RRset (or nodata). */
  readonly any: Prepared;
}

export interface ApexEntry {
  readonly name: string;
  /** The SOA record from its type field on (the owner is a pointer added per response). */
  readonly soaTail: Uint8Array;
}

/**
 * The index, packed: every answer's body in one byte array and its counts in
 * one Int32Array, so a name costs its map entry and a few numbers. Under
 * txiki.js a JavaScript object, Map or Uint8Array costs 150 to 430 bytes; a
 * 1000-name index of objects held 1.6 MB, most of it such headers.
 */
export interface DnsIndex {
  readonly zone: string;
  readonly serial: number;
  /** Lookup by lowercased FQDN without trailing dot, for tests and tools (answers are unpacked per call). */
  readonly names: { get(name: string): NameEntry | undefined; has(name: string): boolean };
  /** Every name keyed by wireKey(name): where its entry starts in table. */
  readonly byWire: ReadonlyMap<string, number>;
  /** Per name: nodata answer, ANY answer, type count n, then n × (type, answer); an answer is its offset in prep. */
  readonly table: Int32Array;
  /**
   * Eight numbers per answer: rcode, an, ns, ar, body start and end in wire,
   * body length without the additional section, and where its answer ends
   * start in ends.
   */
  readonly prep: Int32Array;
  /** Each answer's record end offsets, relative to its body. */
  readonly ends: Int32Array;
  readonly wire: Uint8Array;
  /** Apexes of the forward zone and the reverse zones. */
  readonly apexes: ReadonlyMap<string, ApexEntry>;
  /** The same apexes keyed by wireKey(name). */
  readonly apexByWire: ReadonlyMap<string, ApexEntry>;
  readonly counts: { nodes: number; services: number; names: number; records: number };
}

/** The answer (its offset in prep) for qtype at a name's table entry. */
export function answerFor(index: DnsIndex, at: number, qtype: number): number {
  const t = index.table;
  if (qtype === T.ANY) return t[at + 1]!;
  for (let i = at + 3, end = at + 3 + 2 * t[at + 2]!; i < end; i += 2) if (t[i] === qtype) return t[i + 1]!;
  return t[at]!;
}

/** One packed answer as a Prepared (a copy; the resolver reads the packed form). */
function unpack(index: DnsIndex, a: number): Prepared {
  const p = index.prep;
  return { rcode: p[a]!, an: p[a + 1]!, ns: p[a + 2]!, ar: p[a + 3]!, body: index.wire.slice(p[a + 4], p[a + 5]), noAdditional: p[a + 6]!,
    answerEnds: [...index.ends.subarray(p[a + 7], p[a + 7]! + p[a + 1]!)] };
}

function entryOf(index: DnsIndex, at: number): NameEntry {
  const t = index.table;
  const byType = new Map<number, Prepared>();
  for (let i = at + 3, end = at + 3 + 2 * t[at + 2]!; i < end; i += 2) byType.set(t[i]!, unpack(index, t[i + 1]!));
  return { byType, nodata: unpack(index, t[at]!), any: unpack(index, t[at + 1]!) };
}

/**
 * A growing Int32Array: 4 bytes a number where a JavaScript array of numbers
 * takes 16 under QuickJS-ng (and twice that while it grows), which made the
 * index's build peak well above the index itself.
 */
class Ints {
  private a = new Int32Array(256);
  length = 0;
  push(...v: number[]): void {
    if (this.length + v.length > this.a.length) {
      const b = new Int32Array(Math.max(this.a.length * 2, this.length + v.length));
      b.set(this.a.subarray(0, this.length));
      this.a = b;
    }
    this.a.set(v, this.length);
    this.length += v.length;
  }
  finish(): Int32Array { return this.a.slice(0, this.length); }
}

/** Appends answers and name entries to growing buffers; finish() packs them. */
class Packer {
  private readonly wire = new Writer();
  private readonly prep = new Ints();
  private readonly ends = new Ints();
  readonly table = new Ints();
  answer(p: Prepared): number {
    const a = this.prep.length;
    const start = this.wire.length;
    this.wire.bytes(p.body);
    this.prep.push(p.rcode, p.an, p.ns, p.ar, start, start + p.body.length, p.noAdditional, this.ends.length);
    this.ends.push(...p.answerEnds);
    return a;
  }
  finish(): { table: Int32Array; prep: Int32Array; ends: Int32Array; wire: Uint8Array } {
    return { table: this.table.finish(), prep: this.prep.finish(), ends: this.ends.finish(), wire: this.wire.finish() };
  }
}

/** Limits: a netmap cannot make the index unbounded. */
export const MAX_NODES = 4096;
export const MAX_SERVICES_PER_NODE = 64;
export const MAX_TXT_BYTES = 1024;
/** TTLs: names move when the netmap does, so keep them short. */
export const RECORD_TTL_S = 60;
export const NEGATIVE_TTL_S = 30;

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function checkName(name: string, what: string): string {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (n.length > 200 || !n.split('.').every((l) => LABEL.test(l))) throw new SyntaxError(`${what}: not a valid DNS name: "${name}"`);
  return n;
}

/** Records by name, in the order added; an empty non-terminal has none. */
class Builder {
  readonly sets = new Map<string, RecordData[]>();
  records = 0;
  add(name: string, rec: RecordData): void {
    let list = this.sets.get(name);
    if (!list) this.sets.set(name, (list = []));
    if (list.some((r) => r.type === rec.type && JSON.stringify(r.data) === JSON.stringify(rec.data))) return;
    list.push(rec);
    this.records++;
  }
}

const NO_RECORDS: RecordData[] = [];

function addNode(b: Builder, zone: string, pool: Prefix, ula: Prefix, node: ZoneNode, rejected: Rejected[]): number {
  const label = node.name.toLowerCase();
  if (!LABEL.test(label)) { rejected.push({ kind: 'node', name: node.name, reason: 'not a valid DNS label' }); return 0; }
  const fqdn = `${label}.${zone}`;
  if (b.sets.has(fqdn)) { rejected.push({ kind: 'node', name: node.name, reason: 'duplicate node name' }); return 0; }
  let v4: Uint8Array, v6: Uint8Array;
  try { v4 = parseIPv4(node.ipv4); v6 = parseIPv6(node.ipv6); } catch (e) {
    rejected.push({ kind: 'node', name: node.name, reason: (e as Error).message }); return 0;
  }
  const addrs: RecordData[] = [{ type: 'A', data: node.ipv4 }, { type: 'AAAA', data: node.ipv6 }];
  for (const r of addrs) b.add(fqdn, r);
  if (prefixContains(pool, v4)) b.add(reverseName(v4), { type: 'PTR', data: fqdn });
  if (prefixContains(ula, v6)) b.add(reverseName(v6), { type: 'PTR', data: fqdn });
  let services = 0;
  for (const s of node.services) {
    const id = `${s.name}@${node.name}`;
    const reject = (reason: string) => rejected.push({ kind: 'service', name: id, reason });
    if (s.owner.toLowerCase() !== label) { reject(`published by "${s.owner}", not by "${node.name}"`); continue; }
    const name = s.name.toLowerCase();
    const type = (s.type ?? s.name).toLowerCase();
    if (!LABEL.test(name) || !LABEL.test(type)) { reject(`service name "${s.name}" or type "${s.type}" is not a valid DNS label`); continue; }
    if (s.proto !== 'tcp' && s.proto !== 'udp') { reject(`protocol "${String(s.proto)}" is not tcp or udp`); continue; }
    if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535) { reject(`port ${s.port} out of range`); continue; }
    const txt = s.txt ?? [''];
    if (txt.reduce((n, t) => n + t.length + 1, 0) > MAX_TXT_BYTES || txt.some((t) => t.length > 255)) { reject('TXT data too long'); continue; }
    if (s.refused !== undefined) { reject(s.refused); continue; }
    if (s.address !== undefined && !isIPv4(s.address)) { reject(`host address "${s.address}" is not IPv4`); continue; }
    if (++services > MAX_SERVICES_PER_NODE) { reject(`more than ${MAX_SERVICES_PER_NODE} services`); continue; }
    const host = `${name}.${fqdn}`;
    for (const r of s.address !== undefined ? [{ type: 'A', data: s.address } as const] : addrs) b.add(host, r);
    const srvName = `_${type}._${s.proto}.${host}`;
    b.add(srvName, { type: 'SRV', data: { priority: 0, weight: 0, port: s.port, target: host } });
    b.add(srvName, { type: 'TXT', data: txt });
  }
  return Math.min(services, MAX_SERVICES_PER_NODE);
}

function isIPv4(s: string): boolean {
  try { parseIPv4(s); return true; } catch { return false; }
}

/** Order in which ANY picks its one RRset (RFC 8482 §4.2). */
const ANY_ORDER = [T.A, T.AAAA, T.SRV, T.TXT, T.PTR, T.SOA, T.NS];

/** Builds the immutable index; never throws for bad nodes or services (they are rejected), only for a bad zone config. */
export function buildIndex(input: ZoneInput): { index: DnsIndex; rejected: Rejected[] } {
  const zone = checkName(input.zone, 'zone');
  const pool = parsePrefix(input.ipv4Pool);
  const ula = parsePrefix(input.ula48);
  if (pool.bytes.length !== 4) throw new SyntaxError(`ipv4Pool: not an IPv4 prefix: "${input.ipv4Pool}"`);
  if (ula.bytes.length !== 16) throw new SyntaxError(`ula48: not an IPv6 prefix: "${input.ula48}"`);
  const rejected: Rejected[] = [];
  const b = new Builder();
  const apexNames = [zone, ...reverseZones(pool), ...reverseZones(ula)];
  const self = input.self ? checkName(input.self, 'self') : '';
  const nsTarget = self ? `${self}.${zone}` : zone;
  const soa: RecordData = { type: 'SOA', data: { mname: nsTarget, rname: `hostmaster.${zone}`, serial: input.soaSerial >>> 0, refresh: 3600, retry: 600, expire: 86400, minimum: NEGATIVE_TTL_S } };
  for (const apex of apexNames) { b.add(apex, soa); b.add(apex, { type: 'NS', data: nsTarget }); }
  let nodes = 0;
  let services = 0;
  for (const node of input.nodes) {
    if (nodes >= MAX_NODES) { rejected.push({ kind: 'node', name: node.name, reason: `more than ${MAX_NODES} nodes` }); continue; }
    const before = rejected.length;
    services += addNode(b, zone, pool, ula, node, rejected);
    if (rejected.length === before || rejected[before]!.kind === 'service') nodes++;
  }
  const apexOf = (name: string): string | undefined => {
    for (let n = name; ; n = n.slice(n.indexOf('.') + 1)) {
      if (apexNames.includes(n)) return n;
      if (!n.includes('.')) return undefined;
    }
  };
  // Empty non-terminals: every ancestor up to the apex exists (NODATA, not NXDOMAIN).
  for (const name of [...b.sets.keys()]) {
    const apex = apexOf(name)!;
    for (let n = name; n !== apex; n = n.slice(n.indexOf('.') + 1)) if (!b.sets.has(n)) b.sets.set(n, NO_RECORDS);
  }
  const soaTails = new Map<string, Uint8Array>();
  for (const apex of apexNames) soaTails.set(apex, encodeRecord(apex, { rec: soa, ttl: NEGATIVE_TTL_S }).subarray(nameWireLength(apex)));
  const apexes = new Map<string, ApexEntry>(apexNames.map((a) => [a, { name: a, soaTail: soaTails.get(a)! }]));
  const byWire = new Map<string, number>();
  const packer = new Packer();
  const nodatas = new Map<string, { answer: number; entry: number }>();
  for (const [name, sets] of b.sets) byWire.set(wireKey(name), packName(name, apexOf(name)!, sets, soaTails.get(apexOf(name)!)!, b, packer, nodatas));
  const packed = packer.finish();
  const index: DnsIndex = { zone, serial: input.soaSerial >>> 0, byWire, ...packed,
    names: { get: (n: string) => { const at = byWire.get(wireKey(n)); return at === undefined ? undefined : entryOf(index, at); }, has: (n: string) => byWire.has(wireKey(n)) },
    apexes,
    apexByWire: new Map([...apexes].map(([n, a]) => [wireKey(n), a])), counts: { nodes, services, names: byWire.size, records: b.records } };
  return { index, rejected };
}

/**
 * A name's entry, packed; returns where it starts in the table. The NODATA
 * answer depends only on the apex and the name's length (the SOA owner is a
 * pointer into the question), so names share it, and empty non-terminals
 * (most names, with IPv6 reverse zones) share their whole entry.
 */
function packName(name: string, apex: string, recs: RecordData[], soaTail: Uint8Array, b: Builder, packer: Packer,
  nodatas: Map<string, { answer: number; entry: number }>): number {
  const qnamePtr = pointer(QNAME_OFFSET);
  const offset = QNAME_OFFSET + nameWireLength(name) - nameWireLength(apex);
  let nodata = nodatas.get(`${apex} ${offset}`);
  if (!nodata) {
    const soaRR = new Uint8Array(2 + soaTail.length);
    soaRR.set(pointer(offset)); soaRR.set(soaTail, 2);
    const answer = packer.answer(prepare(RCODE.NOERROR, [], [soaRR], []));
    nodata = { answer, entry: packer.table.length };
    packer.table.push(answer, answer, 0);
    nodatas.set(`${apex} ${offset}`, nodata);
  }
  if (recs.length === 0) return nodata.entry;
  const present = [...new Set(recs.map((r) => T[r.type]))];
  const types: number[] = [];
  for (const type of present) {
    const rrset = recs.filter((r) => T[r.type] === type);
    const answers = rrset.map((rec) => encodeRecord(name, { rec, ttl: RECORD_TTL_S }, qnamePtr));
    // Addresses of SRV and NS targets inside our zones go in the additional section.
    const targets = rrset.map((r) => (r.type === 'SRV' ? r.data.target : r.type === 'NS' ? r.data : ''));
    const additional: Uint8Array[] = [];
    for (const t of new Set(targets.filter((x) => x))) {
      for (const at of ['A', 'AAAA']) for (const rec of b.sets.get(t) ?? []) if (rec.type === at) additional.push(encodeRecord(t, { rec, ttl: RECORD_TTL_S }));
    }
    types.push(type, packer.answer(prepare(RCODE.NOERROR, answers, [], additional)));
  }
  const anyType = ANY_ORDER.find((t) => present.includes(t));
  let any = nodata.answer;
  for (let i = 0; i < types.length; i += 2) if (types[i] === anyType) any = types[i + 1]!;
  const entry = packer.table.length;
  packer.table.push(nodata.answer, any, types.length / 2, ...types);
  return entry;
}
