// The revocation phase of the simulator. In a converged mesh the founder
// revokes one ordinary member at virtual time T the way `kith revoke` does
// (planRevocation, then applyRevocation on its core); the revocation then
// travels only by the cores' own push and anti-entropy over the simulated
// network. Measured: for every other live node, the virtual time from T until
// its core accepted the revocation (the 'revocations' action, which comes with
// the revoked node's records dropped and a new netmap), median and max.
// Checked after every tick, on each node that accepted it: the revoked node is
// in none of its records, netmap nodes, outer or end-to-end peers, relay hops
// or subnet routes, nor in its WireGuard, and no walk reaches it; once every
// node has it, every later tick too. The revoked node stays up and its core
// keeps running (its datagrams find no session); every COMEBACK_EVERY_S it
// signs a comeback record (a higher seq, its old key) which a colluding
// neighbour of each member forwards: holding it breaks an invariant, and every
// member must count it refused (dropped.revoked rises).
import { encodeControl } from '../../src/core/gossip.ts';
import { encodeRecord } from '../../src/core/record.ts';
import { planRevocation } from '../../src/core/revoke.ts';
import { walk, noteSigned, Violation } from './check.ts';
import type { Scenario } from './scenario.ts';
import type { SimNode } from './world.ts';

export const COMEBACK_EVERY_S = 10;

export interface RevokeFigures {
  /** Virtual s from T until each other live node (the revoker aside) had accepted the revocation: median and max. */
  medianS: number;
  maxS: number;
  /** Nodes that had to drop the revoked one, and how many of them held its record at T. */
  nodes: number;
  heldAtT: number;
  /** Comeback records forwarded, and refusals the members counted (dropped.revoked) after propagation. */
  comebacksSent: number;
  refused: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Why node n still has a trace of v (record, netmap, WireGuard, a path), or null. */
export function traceOf(s: Scenario, n: SimNode, v: SimNode): string | null {
  if (n.core.nodeById(v.member.id)) return 'holds its record';
  const m = n.core.netmap();
  if (m.nodes.some((x) => x.id === v.member.id)) return 'has it in its netmap';
  const via = m.nodes.find((x) => x.via === v.name);
  if (via) return `reaches ${via.name} through it`;
  if ([...m.peers, ...m.e2ePeers].some((p) => p.publicKey === v.key)) return 'has a WireGuard peer for it in its netmap';
  if (m.peers.some((p) => p.allowedIPs.includes(`${v.ipv4}/32`))) return 'routes its address to a peer';
  if (m.routes.some((r) => r.node === v.member.id)) return 'routes a subnet of it';
  if (n.wg.peers.has(v.key)) return 'its WireGuard keeps a peer for it';
  if (walk(s.w, n, v, false).ok) return 'a path reaches it';
  return null;
}

/**
 * Revokes a seeded ordinary member from the founder, runs until every other
 * live node dropped it (a Violation past limitS), then afterS more seconds of
 * comeback attempts (fewer past the wall-clock limit, and then no count is
 * required); every tick with the scenario's invariants and these.
 */
export function revokePhase(s: Scenario, o: { limitS?: number; afterS?: number; overWall?: () => boolean; log?: (line: string) => void } = {}): RevokeFigures {
  const { w } = s;
  const limitMs = (o.limitS ?? 30) * 1000;
  const afterS = o.afterS ?? 60;
  const revoker = w.nodes[0]!;
  const candidates = w.live().filter((n) => n !== revoker && !n.forger && !w.revoked.has(n) && !n.member.chain[0]!.admin);
  if (!candidates.length) throw s.violation('no ordinary member to revoke');
  const v = candidates[Math.floor(s.r() * candidates.length)]!;
  const others = w.live().filter((n) => n !== v);
  const heldAtT = others.filter((n) => n.core.nodeById(v.member.id)).length;
  const last = v.core.selfRecord;
  const dropAt = new Map<SimNode, number>();
  w.onActions = (n, actions) => {
    if (n !== v && !dropAt.has(n) && actions.some((a) => a.type === 'revocations') && n.core.revocations.byNodeId(v.member.id)) dropAt.set(n, w.nowMs);
  };
  const t = w.nowMs;
  const check = () => {
    for (const n of dropAt.keys()) {
      if (!n.alive) continue;
      const why = traceOf(s, n, v);
      if (why) throw new Violation(`${n.name} dropped the revoked ${v.name} ${(dropAt.get(n)! - t) / 1000} s after T, but now ${why}`);
      if (!n.core.revocations.byNodeId(v.member.id)) throw new Violation(`${n.name} no longer holds the revocation of ${v.name}`);
    }
  };
  try {
    const p = planRevocation(revoker.core.allRecords(), revoker.core.certChain, revoker.member.identity.sign, revoker.core.network.params, revoker.core.revocations, v.name, w.local(revoker));
    w.revoked.add(v);
    w.dispatch(revoker, revoker.core.applyRevocation(p.bytes, w.local(revoker)));
    while (others.some((n) => n.alive && !dropAt.has(n))) {
      if (w.nowMs - t > limitMs) {
        const late = others.filter((n) => n.alive && !dropAt.has(n));
        throw s.violation(`${late.length} of ${others.length} nodes still lack the revocation of ${v.name} ${limitMs / 1000} s after T (${late.slice(0, 3).map((n) => n.name).join(', ')}…)`);
      }
      s.step(check);
    }
    const times = others.filter((n) => n !== revoker).map((n) => (dropAt.get(n)! - t) / 1000);
    o.log?.(`  ${s.o.nodes} nodes (${others.length + 1} live): ${revoker.name} revoked ${v.name}; every other one dropped it within ${Math.max(...times).toFixed(2)} s (median ${median(times).toFixed(2)} s)`);

    // Comebacks: the revoked node's newer record, forwarded to each member by one of its neighbours.
    const base = new Map(others.map((n) => [n, n.core.dropped.revoked]));
    let sent = 0;
    let ranS = 0;
    for (; ranS < afterS && !o.overWall?.(); ranS++) {
      if (ranS % COMEBACK_EVERY_S === 0) {
        const seq = Math.max(last.seq + 1, w.local(v));
        const comeback = encodeRecord({ ...last, seq }, v.member.chain, v.member.identity.sign).bytes;
        noteSigned(comeback); // its member signed it: holding it is this phase's violation, not a forgery
        const msg = encodeControl({ type: 'records', records: [comeback] });
        for (const n of others) {
          if (!n.alive) continue;
          const near = n.core.neighbours(w.local(n)).map((ip) => w.byIPv4.get(ip)).filter((x): x is SimNode => !!x && x.alive && x !== v);
          const from = near.length ? near[Math.floor(s.r() * near.length)]! : revoker === n ? null : revoker;
          if (from) { w.send(from, n.ipv4, msg); sent++; }
        }
      }
      s.step(check);
    }
    const silent = ranS < afterS ? [] : others.filter((n) => n.alive && n.core.dropped.revoked === base.get(n));
    if (silent.length) throw s.violation(`${silent.length} nodes counted no comeback record of ${v.name} refused (${silent.slice(0, 3).map((n) => n.name).join(', ')}…)`);
    const refused = others.reduce((a, n) => a + n.core.dropped.revoked - base.get(n)!, 0);
    o.log?.(`  ${s.o.nodes} nodes: ${sent} comeback records of ${v.name} forwarded over ${ranS} s, ${refused} refusals counted, none held`);
    return { medianS: median(times), maxS: Math.max(...times), nodes: times.length, heldAtT, comebacksSent: sent, refused };
  } finally {
    w.onActions = null;
  }
}
