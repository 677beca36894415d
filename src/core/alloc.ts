// Overlay address allocation. Every member allowed to admit holds a pool in
// its certificate; it hands out single addresses from block 0 of that pool and
// delegates whole blocks 1..15 to the admins it admits. Each issuer persists its
// counters, so two issuers can never hand out the same address.
import { poolBlock, MIN_POOL_LEN_FOR_DELEGATION } from './cert.ts';
import { prefix4Equal, type Prefix4 } from './ip.ts';
import { singlesLimit } from './clients.ts';
import { MAPPED_REGION_BLOCK } from './mapped.ts';

export interface AllocState {
  /** Next offset inside block 0 to try. */
  nextSingle: number;
  /** Next block index (1..15) to delegate. */
  nextBlock: number;
}

export class PoolExhaustedError extends Error {
  override name = 'PoolExhaustedError';
}

export function initialAllocState(firstSingle: number): AllocState {
  return { nextSingle: firstSingle, nextBlock: 1 };
}

/**
 * Picks the next free single address; skips .0 and .255 so no tool mistakes it
 * for a broadcast, and stays below the half of block 0 that holds client blocks (clients.ts).
 */
export function allocateSingle(pool: Prefix4, st: AllocState): { ipv4: number; state: AllocState } {
  const block = poolBlock(pool, 0);
  const size = singlesLimit(block);
  for (let off = Math.max(st.nextSingle, 1); off < size; off++) {
    const last = (block.base + off) & 255;
    if (last === 0 || last === 255) continue;
    return { ipv4: (block.base + off) >>> 0, state: { ...st, nextSingle: off + 1 } };
  }
  throw new PoolExhaustedError(`no free address left in ${size}-address block`);
}

/**
 * Delegates the next block to a new admin, or null when the pool cannot be split further.
 * The network's own pool (networkPool) keeps its last block: the mapped region (mapped.ts).
 */
export function allocateBlock(pool: Prefix4, st: AllocState, networkPool?: Prefix4): { pool: Prefix4; state: AllocState } | null {
  const last = networkPool && prefix4Equal(pool, networkPool) ? MAPPED_REGION_BLOCK - 1 : 15;
  if (st.nextBlock > last || pool.len + 4 > MIN_POOL_LEN_FOR_DELEGATION) return null;
  return { pool: poolBlock(pool, st.nextBlock), state: { ...st, nextBlock: st.nextBlock + 1 } };
}
