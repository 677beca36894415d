// NAT traversal between two members that are both behind NAT, by a designated
// opener (the smaller node id). The opener sends its first WireGuard packets
// to the other's public endpoint with a TTL that outlives its own NAT but dies
// before the far NAT, so its own NAT learns the mapping while the far NAT holds
// no clashing entry; then it signals the other side (through the overlay),
// which dials back through that mapping. Plain simultaneous dialling fails
// through two Linux NATs; this works deterministically.
//
// State per peer, here as plain data: the core decides, the daemon applies the
// TTL rule and tells the core when the opening is done.
import type { NodeRecord, Endpoint } from './record.ts';

/** Give a punch this long to produce a live session before returning to the relay. */
export const PUNCH_TIMEOUT_MS = 20_000;
/** Retry delays after failed attempts (the last one repeats). */
export const PUNCH_BACKOFF_MS = [0, 30_000, 120_000, 600_000];
/** TTL of the opener's first packets, by attempt: 2 (one router between the NATs), then 3, 4. */
export const PUNCH_TTLS = [2, 3, 4];
/** How long the low-TTL rule stays before the other side is told to dial. */
export const PUNCH_OPEN_MS = 500;

export interface PunchState {
  /** 'open': this side dials the other's public endpoint now. */
  phase: 'idle' | 'opening' | 'open';
  sinceMs: number;
  attempts: number;
  lastAttemptMs: number;
}

export function publicEndpoint(r: NodeRecord): Endpoint | null {
  return r.endpoints.find((e) => e.kind === 'public') ?? null;
}

/**
 * Two members need a punch when both sit behind NAT (each has an observed
 * public endpoint and none configured) behind different public addresses.
 */
export function needsPunch(me: NodeRecord, them: NodeRecord): boolean {
  const a = publicEndpoint(me);
  const b = publicEndpoint(them);
  if (!a || !b || a.host === b.host) return false;
  const configured = (r: NodeRecord) => r.endpoints.some((e) => e.kind === 'configured');
  return !configured(me) && !configured(them);
}

export function isOpener(myId: string, theirId: string): boolean {
  return myId < theirId;
}

/** Whether the opener should start an attempt now. */
export function dueForAttempt(st: PunchState | undefined, nowMs: number): boolean {
  if (!st) return true;
  if (st.phase !== 'idle') return false;
  const wait = PUNCH_BACKOFF_MS[Math.min(st.attempts, PUNCH_BACKOFF_MS.length - 1)]!;
  return nowMs - st.lastAttemptMs >= wait;
}

export function ttlFor(attempts: number): number {
  return PUNCH_TTLS[attempts % PUNCH_TTLS.length]!;
}
