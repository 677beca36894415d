// Routed client blocks: the addresses a member hands to plain WireGuard
// clients (phones, laptops). A member's block is derived from its own overlay
// address, so every node computes it alike and no broker is needed:
//
//   Every member's address lies in block 0 (the single addresses) of its
//   issuer's pool (cert.ts). The lower half of each such block 0 holds the
//   members; the upper half is reserved and split into /28s, one per offset:
//   the member at offset o of block 0 B owns B.base + |B|/2 + 16·o, /28.
//
// So the map is 1:1 (distinct offsets give distinct /28s, distinct blocks 0 are
// disjoint), a client block never holds a member's address (the allocator
// stops at the half, alloc.ts), and a member only gets one while 16·o < |B|/2.
// Other members check an advertised client address against the block of the
// advertiser's certified address: nobody can take another member's block.
import { POOL_SPLIT_BITS, poolBlock } from './cert.ts';
import { formatIPv4, parseIPv4, prefix4Contains, prefix4Size, type Prefix4 } from './ip.ts';

export const CLIENT_BLOCK_LEN = 28;
/** Clients per member: what its /28 holds (addresses ending in .0 or .255 are skipped). */
export const MAX_CLIENTS = 2 ** (32 - CLIENT_BLOCK_LEN);

/** The block 0 (single addresses) of the pool level that holds `ipv4`, or null outside the pool. */
export function singlesBlockOf(ipv4: number, pool: Prefix4): Prefix4 | null {
  if (!prefix4Contains(pool, ipv4)) return null;
  let p = pool;
  while (p.len + POOL_SPLIT_BITS <= 32) {
    const b0 = poolBlock(p, 0);
    if (prefix4Contains(b0, ipv4)) return b0;
    const idx = Math.floor((ipv4 - p.base) / 2 ** (32 - p.len - POOL_SPLIT_BITS));
    p = poolBlock(p, idx);
  }
  return null;
}

/**
 * How many offsets of a block 0 may hold members: the lower half where the
 * upper half holds client blocks (a block 0 of 64 addresses or more), else all.
 */
export function singlesLimit(block0: Prefix4): number {
  const size = prefix4Size(block0);
  return size >= 4 * 2 ** (32 - CLIENT_BLOCK_LEN) ? size / 2 : size;
}

/** The client block of the member at `ipv4` in a network with this pool, or null when it has none. */
export function clientBlockOf(ipv4: number, pool: Prefix4): Prefix4 | null {
  const b0 = singlesBlockOf(ipv4, pool);
  if (!b0) return null;
  const half = prefix4Size(b0) / 2;
  const offset = ipv4 - b0.base;
  const blockSize = 2 ** (32 - CLIENT_BLOCK_LEN);
  if (offset <= 0 || (offset + 1) * blockSize > half) return null;
  return { base: (b0.base + half + offset * blockSize) >>> 0, len: CLIENT_BLOCK_LEN };
}

/** The first address of a block not in `taken` (skipping .0 and .255), or null when it is full. */
export function freeClientAddress(block: Prefix4, taken: readonly string[]): string | null {
  const used = new Set(taken);
  for (let i = 0; i < prefix4Size(block); i++) {
    const a = (block.base + i) >>> 0;
    const last = a & 255;
    if (last === 0 || last === 255 || used.has(formatIPv4(a))) continue;
    return formatIPv4(a);
  }
  return null;
}

/**
 * The client addresses a member advertises that are its own: inside the block
 * of its certified address, each once, at most MAX_CLIENTS. Everything else
 * is left out, so an advertiser can only route addresses it owns.
 */
export function ownClients(clients: readonly string[] | undefined, memberIPv4: number, pool: Prefix4): string[] {
  if (!clients?.length) return [];
  const block = clientBlockOf(memberIPv4, pool);
  if (!block) return [];
  const out: string[] = [];
  for (const c of clients) {
    const a = parseIPv4(c);
    if (a !== null && prefix4Contains(block, a) && !out.includes(c) && out.length < MAX_CLIENTS) out.push(c);
  }
  return out;
}
