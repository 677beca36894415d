// Mapped blocks: how two homes that advertise the same LAN (most use
// 192.168.1.0/24) reach each other anyway, without a broker. Every node
// computes the same answer from the records:
//
//  - When an advertised IPv4 prefix overlaps another member's (prefixes.ts
//    finds the clash), each prefix of the clash gets a mapped block of the same
//    size from the network's mapped region (block 15 of the network's pool,
//    never delegated: alloc.ts, cert.ts). The owner translates 1:1 between the
//    two (nftables prefix netmap: wg/mapped-nft.ts): traffic to the mapped
//    block reaches its LAN, and its LAN's traffic into the mesh leaves from
//    the mapped block. Other members route the mapped block to the owner.
//  - The member that advertised the range first keeps its native route too
//    (nothing a later member advertises takes a route away); later ones are
//    reached through their mapped block only.
//  - Blocks are given widest first, then in certificate order (as prefixes.ts
//    decides), each at a place hashed from (node id, prefix), probing on to
//    the next free aligned block: a newcomer never moves an older member's
//    block of its width or wider, and one leaving moves only a block that had
//    probed past it. (Most home LANs are /24s, all of one width.)
//  - Bounds: at most MAX_MAPPED_PER_MEMBER prefixes of a member are mapped, and
//    none wider than /MIN_MAPPED_LEN; what cannot be mapped is refused with
//    its reason (prefixes.ts).
import { formatPrefix4, prefix4Contains, prefix4Size, type Prefix4 } from './ip.ts';

/** The block of the network pool that holds mapped blocks (cert.ts refuses it as an admin's pool). */
export const MAPPED_REGION_BLOCK = 15;
/** The widest prefix that gets a mapped block (4096 addresses). */
export const MIN_MAPPED_LEN = 20;
/** Prefixes of one member that may be mapped: a member cannot fill the region. */
export const MAX_MAPPED_PER_MEMBER = 4;

/** The mapped region: block 15 of the pool's 16 (cert.ts poolBlock; only ip.ts is imported here, for the config checker). */
export function mappedRegion(pool: Prefix4): Prefix4 {
  return { base: (pool.base + MAPPED_REGION_BLOCK * 2 ** (32 - pool.len - 4)) >>> 0, len: pool.len + 4 };
}

/** A prefix that needs a mapped block (its text and length), in the order blocks are given. */
export interface MapRequest { id: string; prefix: string; len: number }

export type MapResult = { mappedTo: string } | { refused: string };

/** FNV-1a over the text's UTF-16 code units (node ids and prefixes are ASCII): where a block's probe starts. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Taken blocks as sorted disjoint [start, end] ranges. */
class Taken {
  private readonly list: [number, number][] = [];

  private indexAfter(x: number): number {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.list[mid]![0] <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  free(start: number, end: number): boolean {
    const prev = this.list[this.indexAfter(end) - 1];
    return !prev || prev[1] < start;
  }

  add(start: number, end: number): void { this.list.splice(this.indexAfter(start), 0, [start, end]); }
}

/**
 * Blocks for the requests, in their order. `memberAddresses` are the members'
 * certified addresses: a region holding one (a network that delegated block 15
 * before mapping existed) maps nothing.
 */
export function assignMappedBlocks(requests: readonly MapRequest[], pool: Prefix4, memberAddresses: readonly number[]): Map<string, MapResult> {
  const out = new Map<string, MapResult>();
  const region = mappedRegion(pool);
  const regionText = formatPrefix4(region);
  const blocked = memberAddresses.some((a) => prefix4Contains(region, a));
  const taken = new Taken();
  const perMember = new Map<string, number>();
  // Wider blocks first (stable: certificate order within a length), so scattered narrow ones cannot leave no room for them.
  for (const r of [...requests].sort((a, b) => a.len - b.len)) {
    const key = mapKey(r.id, r.prefix);
    if (out.has(key)) continue;
    const refuse = (why: string) => out.set(key, { refused: why });
    if (blocked) { refuse(`the mapped region ${regionText} holds members' addresses`); continue; }
    if (r.len < MIN_MAPPED_LEN) { refuse(`wider than /${MIN_MAPPED_LEN}, too wide to map`); continue; }
    if (r.len < region.len) { refuse(`wider than the mapped region ${regionText}`); continue; }
    const n = perMember.get(r.id) ?? 0;
    if (n >= MAX_MAPPED_PER_MEMBER) { refuse(`this member already has ${MAX_MAPPED_PER_MEMBER} mapped prefixes`); continue; }
    const size = 2 ** (32 - r.len);
    const slots = prefix4Size(region) / size;
    const first = fnv1a(key) % slots;
    let found: number | null = null;
    for (let i = 0; i < slots && found === null; i++) {
      const start = region.base + ((first + i) % slots) * size;
      if (taken.free(start, start + size - 1)) found = start;
    }
    if (found === null) { refuse(`the mapped region ${regionText} is full`); continue; }
    taken.add(found, found + size - 1);
    perMember.set(r.id, n + 1);
    out.set(key, { mappedTo: formatPrefix4({ base: found >>> 0, len: r.len }) });
  }
  return out;
}

export function mapKey(id: string, prefix: string): string { return `${id}|${prefix}`; }
