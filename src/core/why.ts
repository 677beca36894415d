// Why a member is not reached directly: one line for `kith peers` and LuCI's
// map, from what this node knows (both records' endpoints, the punch state
// toward it, whether WireGuard ever completed a handshake with it). A best
// reading of the evidence, said as such; no probe of its own.
import { PUNCH_BACKOFF_MS, configured, globalV6, isOpener, publicEndpoint, needsPunch, type PunchState } from './punch.ts';
import type { NodeRecord } from './record.ts';

export interface WhyInput {
  me: NodeRecord;
  them: NodeRecord;
  path: 'direct' | 'relayed' | 'unreachable';
  punch: Readonly<PunchState> | undefined;
  /** Milliseconds since the last WireGuard handshake with it on the outer interface (null: none). */
  handshakeAgoMs: number | null;
  nowMs: number;
}

export function whyNotDirect(w: WhyInput): string | null {
  if (w.path === 'direct') return null;
  const { me, them } = w;
  if (!them.endpoints.length) return 'no endpoint known for it (its record has none)';
  if (globalV6(me) && globalV6(them) && !configured(me) && !configured(them)) {
    return w.handshakeAgoMs === null
      ? 'both have global IPv6 addresses, but no WireGuard handshake came through over IPv6 (a firewall on the way drops it?)'
      : 'a direct session over IPv6 exists, but measured slower than the relay (it is re-measured)';
  }
  if (configured(them) || configured(me)) {
    return w.handshakeAgoMs === null
      ? 'one side has a configured endpoint, but no WireGuard handshake came through (UDP blocked on the way?)'
      : 'a direct session exists, but measured slower than the relay (or it was measured on a busy moment; it is re-measured)';
  }
  const mine = publicEndpoint(me);
  const theirs = publicEndpoint(them);
  if (!mine || !theirs) return 'both behind NAT, and the public address of one side is not known yet';
  if (mine.host === theirs.host) return 'behind the same public address, and no LAN address of it answered';
  if (!needsPunch(me, them)) return 'both behind NAT';
  const st = w.punch;
  if (!st) return isOpener(me.id, them.id) ? 'both behind NAT: a hole punch has not started yet' : 'both behind NAT: waiting for it to start a hole punch';
  if (st.phase !== 'idle') return `both behind NAT: hole punch in progress (attempt ${st.failures + 1})`;
  const wait = PUNCH_BACKOFF_MS[Math.min(st.failures, PUNCH_BACKOFF_MS.length - 1)]!;
  const next = Math.max(0, Math.round((st.lastAttemptMs + wait - w.nowMs) / 1000));
  return `both behind NAT: ${st.failures} hole punch${st.failures === 1 ? '' : 'es'} failed (a symmetric NAT on one side, or both?); next try in ${next} s`;
}
