// Which advertised subnets a node routes (imports only ip.ts and mapped.ts: the
// config checker in src/uci uses the same rules). A member says what it advertises in
// its signed record; nothing it says may take an address the host or the
// network already uses. Rules, each refusal with a one-line reason:
//  - the prefix is canonical (no host bits set: the record is signed bytes, so
//    a non-canonical subnet is refused, never rewritten);
//  - at least /8 (IPv4) or /16 (IPv6): a member cannot claim "everything";
//  - not loopback, link-local, multicast or otherwise reserved;
//  - no overlap with the network's IPv4 pool or its ULA /48 (the overlay);
//  - an overlap with a prefix advertised before it: the member certified
//    first (issue time, then node id) keeps the range, so every node decides
//    alike; an overlapping IPv4 prefix of another member is reached through
//    a mapped block, and the first one gets a mapped block too (mapped.ts);
//    what cannot be mapped, and a member's own later overlapping prefix, is
//    refused;
//  - no overlap with this node's own connected networks (local: each node
//    routes such a prefix only through its mapped block, else refuses it; a
//    clash does not free the prefix for a later member).
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6, type Prefix4 } from './ip.ts';
import { assignMappedBlocks, mapKey, MAX_MAPPED_PER_MEMBER, MIN_MAPPED_LEN, type MapRequest } from './mapped.ts';

/** Shortest prefixes a member may advertise: anything shorter would swallow other networks. */
export const MIN_PREFIX_LEN_V4 = 8;
export const MIN_PREFIX_LEN_V6 = 16;

export interface Prefix { family: 4 | 6; addr: Uint8Array; len: number }

export type RefusalKind = 'invalid' | 'host-bits' | 'too-short' | 'reserved' | 'pool' | 'ula' | 'taken' | 'connected';

export interface Refusal { kind: RefusalKind; reason: string }

/** A prefix a node does not route, and why. */
export interface RefusedPrefix { node: string; name: string; prefix: string; kind: RefusalKind; reason: string }

/** Where a member's prefixes come from: its record, ordered by its certificate (ipv4: its certified address). */
export interface Advertiser { id: string; name: string; issuedAtMs: number; subnets: readonly string[]; ipv4?: number }

/** The network's own address space, which no advertised prefix may overlap. */
export interface OverlaySpace { ipv4Pool: Prefix4; ula48: Uint8Array }

const RESERVED: readonly [string, string][] = [
  ['0.0.0.0/8', 'this-network'], ['127.0.0.0/8', 'loopback'], ['169.254.0.0/16', 'link-local'],
  ['224.0.0.0/4', 'multicast'], ['240.0.0.0/4', 'reserved'],
  ['::/128', 'unspecified'], ['::1/128', 'loopback'], ['::ffff:0:0/96', 'IPv4-mapped'], ['fe80::/10', 'link-local'], ['ff00::/8', 'multicast'],
];

/** Parses "a.b.c.d/n" or "v6/n"; host bits may be set (see isCanonical). */
export function parsePrefix(s: string): Prefix | null {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(s);
  if (!m) return null;
  const v4 = parseIPv4(m[1]!);
  const addr = v4 !== null ? new Uint8Array([v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255]) : parseIPv6(m[1]!);
  const len = Number(m[2]);
  if (!addr || len > addr.length * 8) return null;
  return { family: addr.length === 4 ? 4 : 6, addr, len };
}

/** The prefix with its host bits cleared. */
export function masked(p: Prefix): Prefix {
  const addr = p.addr.map((b, i) => b & (0xff << Math.max(0, 8 - Math.max(0, p.len - 8 * i))) & 0xff);
  return { ...p, addr };
}

export function formatPrefix(p: Prefix): string {
  const a = p.addr;
  const host = p.family === 4 ? formatIPv4(((a[0]! << 24) | (a[1]! << 16) | (a[2]! << 8) | a[3]!) >>> 0) : formatIPv6(a);
  return `${host}/${p.len}`;
}

export function isCanonical(p: Prefix): boolean {
  const m = masked(p);
  return m.addr.every((b, i) => b === p.addr[i]);
}

/**
 * The first of `subnets` (prefix strings) that holds the IPv4 address `host`,
 * or undefined: the one test of "is this host on one of a node's LANs".
 */
export function lanOf(host: string, subnets: readonly string[]): string | undefined {
  const h = parsePrefix(`${host}/32`);
  if (h === null || h.family !== 4) return undefined;
  return subnets.find((s) => { const p = parsePrefix(s); return p !== null && overlaps(p, h); });
}

/** Whether two prefixes share an address: same family, and the shorter contains the longer's base. */
export function overlaps(a: Prefix, b: Prefix): boolean {
  if (a.family !== b.family) return false;
  return bitsEqual(a.addr, b.addr, Math.min(a.len, b.len));
}

function bitsEqual(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const bit = 0x80 >> (i % 8);
    if ((a[i >> 3]! & bit) !== (b[i >> 3]! & bit)) return false;
  }
  return true;
}

const RESERVED_PREFIXES = RESERVED.map(([p, what]) => ({ p: parsePrefix(p)!, what, text: p }));

function overlaySpace(net: OverlaySpace): { pool: Prefix; ula: Prefix } {
  const b = net.ipv4Pool.base;
  const ula = new Uint8Array(16);
  ula.set(net.ula48);
  return {
    pool: { family: 4, addr: new Uint8Array([b >>> 24, (b >>> 16) & 255, (b >>> 8) & 255, b & 255]), len: net.ipv4Pool.len },
    ula: { family: 6, addr: ula, len: 48 },
  };
}

/**
 * Why this prefix can never be routed in this network, whoever advertises it
 * (records and the local config alike), or null. The same answer on every node.
 * Without a network (a config checked before joining) the overlay is not checked.
 */
export function prefixRefusal(text: string, net: OverlaySpace | null): Refusal | null {
  const p = parsePrefix(text);
  if (!p) return { kind: 'invalid', reason: `"${text}" is not a network in CIDR form` };
  if (!isCanonical(p)) return { kind: 'host-bits', reason: `host bits are set (the network is ${formatPrefix(masked(p))})` };
  const min = p.family === 4 ? MIN_PREFIX_LEN_V4 : MIN_PREFIX_LEN_V6;
  if (p.len < min) return { kind: 'too-short', reason: `shorter than /${min}: too wide to route into the mesh` };
  const r = RESERVED_PREFIXES.find((x) => overlaps(x.p, p));
  if (r) return { kind: 'reserved', reason: `overlaps ${r.text} (${r.what})` };
  if (!net) return null;
  const o = overlaySpace(net);
  if (overlaps(p, o.pool)) return { kind: 'pool', reason: `overlaps the network's IPv4 pool ${formatPrefix(o.pool)}` };
  if (overlaps(p, o.ula)) return { kind: 'ula', reason: `overlaps the network's ULA ${formatPrefix(o.ula)}` };
  return null;
}

/** The host's connected networks from `ip -o addr show` lines, canonical ("198.18.1.2/24" → 198.18.1.0/24), without duplicates. */
export function connectedNetworks(addresses: readonly string[]): Prefix[] {
  const out: Prefix[] = [];
  for (const a of addresses) {
    const p = parsePrefix(a.includes('/') ? a : `${a}/${a.includes(':') ? 128 : 32}`);
    if (!p) continue;
    const m = masked(p);
    if (!out.some((x) => x.family === m.family && x.len === m.len && bitsEqual(x.addr, m.addr, m.len))) out.push(m);
  }
  return out;
}

/** An advertised prefix and the mapped block it is reached through (mapped.ts). */
export interface MappedSubnet { prefix: string; mappedTo: string }

export interface PrefixVerdict {
  /** By node id: what this node routes to that member, native prefixes and mapped blocks (self: its prefixes that stand). */
  accepted: Map<string, string[]>;
  /** By node id, self included: its prefixes that have a mapped block. */
  mapped: Map<string, MappedSubnet[]>;
  refused: RefusedPrefix[];
}

interface Claim { start: Uint8Array; end: Uint8Array; text: string; id: string; name: string }

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/**
 * Claimed ranges, pairwise disjoint, sorted by start (one array per family):
 * an overlap is found by one binary search, so deciding every prefix of a
 * full mesh (1024 records of 16 subnets) stays O(n log n) plus the inserts.
 */
class Claims {
  private readonly byFamily = { 4: [] as Claim[], 6: [] as Claim[] };

  static range(p: Prefix): { start: Uint8Array; end: Uint8Array } {
    const start = masked(p).addr;
    const end = start.map((b, i) => b | (0xff >> Math.min(8, Math.max(0, p.len - 8 * i))));
    return { start, end };
  }

  /** The claim overlapping [start, end], if any: the last one starting at or before `end`, if it reaches `start`. */
  find(family: 4 | 6, start: Uint8Array, end: Uint8Array): Claim | undefined {
    const list = this.byFamily[family];
    const c = list[this.lastStartingBy(list, end)];
    return c && compareBytes(c.end, start) >= 0 ? c : undefined;
  }

  /** The index of the last claim starting at or before `end` (-1: none). */
  private lastStartingBy(list: Claim[], end: Uint8Array): number {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareBytes(list[mid]!.start, end) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** Up to `max` claims overlapping [start, end]: the run of disjoint claims that ends at the one find() returns. */
  overlapping(family: 4 | 6, start: Uint8Array, end: Uint8Array, max: number): Claim[] {
    const list = this.byFamily[family];
    const out: Claim[] = [];
    for (let i = this.lastStartingBy(list, end); i >= 0 && out.length < max && compareBytes(list[i]!.end, start) >= 0; i--) out.push(list[i]!);
    return out;
  }

  add(family: 4 | 6, c: Claim): void {
    const list = this.byFamily[family];
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareBytes(list[mid]!.start, c.start) < 0) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, c);
  }
}

/** One advertised prefix on its way through decidePrefixes. */
interface Entry { m: Advertiser; text: string; p: Prefix; first: Claim | null; claim: Claim | null }

/**
 * Decides every advertised prefix. Members are taken in certificate order
 * (issued earlier first, then smaller id) and their prefixes in record order:
 * the first to advertise a range keeps it. A later prefix of another member
 * that overlaps it is reached through a mapped block instead (IPv4; both get
 * one: mapped.ts), or refused with the reason it could not be mapped; a
 * member's own overlapping prefix adds nothing (the same next hop) and is
 * refused. `connected` are this node's own addresses: a member's prefix that
 * overlaps one of their networks is routed only through its mapped block, if
 * it has one, else refused here (the node's own prefixes are not checked
 * against them: it advertises its own LANs).
 */
export function decidePrefixes(members: readonly Advertiser[], selfId: string, net: OverlaySpace, connected: readonly string[]): PrefixVerdict {
  const order = [...members].sort((a, b) => a.issuedAtMs - b.issuedAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const claims = new Claims();
  const refused: RefusedPrefix[] = [];
  const refuse = (m: Advertiser, text: string, r: Refusal) => refused.push({ node: m.id, name: m.name, prefix: text, kind: r.kind, reason: r.reason });
  const entries: Entry[] = [];
  const clashing = new Set<Claim>();
  const marking = new Map<string, number>();
  for (const m of order) {
    for (const text of m.subnets) {
      const global = prefixRefusal(text, net);
      if (global) { refuse(m, text, global); continue; }
      const p = parsePrefix(text)!;
      const { start, end } = Claims.range(p);
      const first = claims.find(p.family, start, end) ?? null;
      if (first?.id === m.id) { refuse(m, text, { kind: 'taken', reason: `overlaps ${first.text}, advertised first by the same member` }); continue; }
      const claim = first ? null : { start, end, text, id: m.id, name: m.name };
      // Only a prefix that may get a block of its own gives the ranges it overlaps one (a few at most),
      // and only a member's first MAX_MAPPED_PER_MEMBER such prefixes: a newcomer cannot fill the region.
      if (first && p.family === 4 && p.len >= MIN_MAPPED_LEN && (marking.get(m.id) ?? 0) < MAX_MAPPED_PER_MEMBER) {
        marking.set(m.id, (marking.get(m.id) ?? 0) + 1);
        for (const c of claims.overlapping(4, start, end, MAX_MAPPED_PER_MEMBER)) clashing.add(c);
      }
      if (!first) claims.add(p.family, claim!);
      entries.push({ m, text, p, first, claim });
    }
  }
  // Blocks for both sides of every IPv4 clash, in the same order.
  const isClashing = (e: Entry) => e.first !== null || clashing.has(e.claim!);
  const requests: MapRequest[] = entries.filter((e) => isClashing(e) && e.p.family === 4)
    .map((e) => ({ id: e.m.id, prefix: e.text, len: e.p.len }));
  const blocks = assignMappedBlocks(requests, net.ipv4Pool, members.flatMap((m) => (m.ipv4 === undefined ? [] : [m.ipv4])));

  const own = connectedNetworks(connected);
  const accepted = new Map<string, string[]>(order.map((m) => [m.id, []]));
  const mapped = new Map<string, MappedSubnet[]>();
  for (const e of entries) {
    const b = isClashing(e) ? blocks.get(mapKey(e.m.id, e.text)) : undefined;
    const mappedTo = b && 'mappedTo' in b ? b.mappedTo : null;
    if (mappedTo) mapped.set(e.m.id, [...(mapped.get(e.m.id) ?? []), { prefix: e.text, mappedTo }]);
    const routes = accepted.get(e.m.id)!;
    if (e.first) {
      if (mappedTo) routes.push(mappedTo);
      else {
        const why = b && 'refused' in b ? b.refused : 'only IPv4 prefixes are mapped';
        refuse(e.m, e.text, { kind: 'taken', reason: `overlaps ${e.first.text}, advertised first by ${e.first.name}; not mapped: ${why}` });
      }
      continue;
    }
    const clash = e.m.id === selfId ? undefined : own.find((c) => overlaps(c, e.p));
    if (clash && !mappedTo) { refuse(e.m, e.text, { kind: 'connected', reason: `overlaps this node's own network ${formatPrefix(clash)}` }); continue; }
    if (!clash) routes.push(e.text);
    if (mappedTo) routes.push(mappedTo);
  }
  return { accepted, mapped, refused };
}

/** One line for a log or a status: `peer 0.0.0.0/0: shorter than /8: …`. */
export function describeRefusal(r: RefusedPrefix): string {
  return `${r.name} ${r.prefix}: ${r.reason}`;
}
