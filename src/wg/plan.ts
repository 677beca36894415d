// The WireGuard reconciler's pure half: from the desired peers and the state
// `wg show dump` reports, the `wg set` arguments that close the gap. Applying
// the plan and planning again yields nothing to do.
import type { WgPeer } from '../core/netmap.ts';
import type { WgState } from './dump.ts';

/** A roamed endpoint is left alone while its session is this fresh. */
export const ENDPOINT_STICKY_SEC = 180;

export interface WgPlan {
  /** Arguments after `wg set <if>`, or empty when nothing changes. */
  args: string[];
  setPrivateKey: boolean;
  removed: string[];
  changed: string[];
}

function sameSet(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}

export function planWg(desired: { publicKey: string; listenPort: number; peers: WgPeer[] }, actual: WgState, nowSec: number): WgPlan {
  const args: string[] = [];
  const setPrivateKey = actual.publicKey !== desired.publicKey;
  if (setPrivateKey) args.push('private-key', '/dev/stdin');
  if (actual.listenPort !== desired.listenPort) args.push('listen-port', String(desired.listenPort));
  const want = new Map(desired.peers.map((p) => [p.publicKey, p]));
  const removed: string[] = [];
  const changed: string[] = [];
  for (const p of actual.peers) {
    if (!want.has(p.publicKey)) { args.push('peer', p.publicKey, 'remove'); removed.push(p.publicKey); }
  }
  const have = new Map(actual.peers.map((p) => [p.publicKey, p]));
  for (const d of desired.peers) {
    const a = have.get(d.publicKey);
    const clause: string[] = [];
    if (d.endpoint !== null && a?.endpoint !== d.endpoint) {
      const fresh = a && a.endpoint !== null && a.latestHandshakeSec > 0 && nowSec - a.latestHandshakeSec < ENDPOINT_STICKY_SEC;
      if (!fresh) clause.push('endpoint', d.endpoint);
    }
    if (!a || a.keepaliveSec !== d.keepaliveSec) clause.push('persistent-keepalive', String(d.keepaliveSec));
    if (!a || !sameSet(a.allowedIPs, d.allowedIPs)) clause.push('allowed-ips', d.allowedIPs.join(','));
    if (clause.length) { args.push('peer', d.publicKey, ...clause); changed.push(d.publicKey); }
  }
  return { args, setPrivateKey, removed, changed };
}
