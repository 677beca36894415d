// What the simulator checks, from each node's own netmap, as WireGuard would
// forward: a packet from s to d leaves through the outer peer whose AllowedIPs
// hold d's address (its overlay address when direct, its transport address
// when relayed), and every hop accepts it only if the sending peer's
// AllowedIPs hold the inner source (WireGuard's source check). Invariants:
//  - no loop: following the hops never revisits a node;
//  - source check: it holds on every hop;
// both required whenever the nodes on the path hold the same records (the
// same view): paths are computed from records, so with different views a
// path may be transiently wrong, and that is counted, not failed. Also:
//  - every record any node holds was signed by its member (forgeries never accepted);
//  - a node up for `convergeMs` holds the record of every member up as long.
import type { Netmap } from '../../src/core/netmap.ts';
import type { SimNode, World } from './world.ts';

interface Index { route: Map<string, string>; allowed: Map<string, Set<string>>; e2e: Set<string>; byIPv4: Map<string, Netmap['nodes'][number]>; view: number }
const indexes = new WeakMap<Netmap, Index>();

/** A 32-bit mix (murmur3's finaliser): offsetting changes in two records do not cancel out in the sum below. */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The records a node holds (id and seq of each), as a number: equal views, equal numbers (unequal ones collide with odds 2^-48). */
export function viewOf(n: SimNode): number {
  let a = 0;
  let b = 0;
  for (const r of n.core.allRecords()) {
    const id = parseInt(r.id.slice(0, 8), 16);
    const x = mix(id ^ mix(r.seq % 2 ** 32) ^ mix(Math.floor(r.seq / 2 ** 32) + 0x9e3779b9));
    a = (a + x) % 2 ** 32;
    b = (b + mix(x ^ 0x5bd1e995)) % 2 ** 16;
  }
  return a * 2 ** 16 + b;
}

/**
 * What WireGuard on the node does: the netmap last applied (world.ts applies
 * them as kithd does), with the records it was computed from; the core's
 * current one before the first apply.
 */
export function indexOf(n: SimNode): Index {
  const m = n.applied?.netmap ?? n.core.netmap();
  let ix = indexes.get(m);
  if (!ix) {
    const view = n.applied?.view ?? viewOf(n);
    ix = { route: new Map(), allowed: new Map(), e2e: new Set(m.e2ePeers.map((p) => p.publicKey)), byIPv4: new Map(m.nodes.map((x) => [x.ipv4, x])), view };
    for (const p of m.peers) {
      ix.allowed.set(p.publicKey, new Set(p.allowedIPs));
      for (const a of p.allowedIPs) ix.route.set(a, p.publicKey);
    }
    indexes.set(m, ix);
  }
  return ix;
}

export interface Walk {
  ok: boolean;
  reason: string;
  hops: SimNode[];
  latencyMs: number;
  /** The hop the packet was handed to last (WireGuard sent it there): the last of hops, or the one that was down or had no session. */
  sentTo?: SimNode;
}

/**
 * Follows a packet from s to d through the nodes' netmaps. live: also needs a
 * live WireGuard session on every hop and no partition between them (the
 * control plane's datagrams); otherwise only the netmaps are followed.
 */
export function walk(w: World, s: SimNode, d: SimNode, live: boolean): Walk {
  const out: Walk = { ok: false, reason: '', hops: [], latencyMs: 0 };
  const six = indexOf(s);
  const nn = six.byIPv4.get(d.ipv4);
  if (!nn || nn.path === 'unreachable' || nn.path === 'self') { out.reason = 'unreachable'; return out; }
  const direct = nn.path === 'direct';
  const dest = direct ? `${d.ipv4}/32` : `${nn.transport}/128`;
  const src = direct ? `${s.ipv4}/32` : `${six.byIPv4.get(s.ipv4)!.transport}/128`;
  const seen = new Set<SimNode>([s]);
  let x = s;
  for (let i = 0; i < 16; i++) {
    const key = indexOf(x).route.get(dest);
    const y = key ? w.byKey.get(key) : undefined;
    if (!y) { out.reason = `no route at ${x.name}`; return out; }
    out.sentTo = y;
    if (live && (!y.alive || x.site.group !== y.site.group || !x.wg.live(y.key, w.nowMs) || !y.wg.live(x.key, w.nowMs))) { out.reason = `no session ${x.name}-${y.name}`; return out; }
    if (!y.alive) { out.reason = `${y.name} is down`; return out; }
    if (!indexOf(y).allowed.get(x.key)?.has(src)) { out.reason = `source check at ${y.name} from ${x.name}`; out.hops.push(y); return out; }
    out.latencyMs += w.net.latencyMs(x.site, y.site);
    out.hops.push(y);
    if (seen.has(y)) { out.reason = 'loop'; return out; }
    seen.add(y);
    if (y === d) {
      if (!direct && !indexOf(d).e2e.has(s.key)) { out.reason = `${d.name} has no end-to-end peer for ${s.name}`; return out; }
      out.ok = true;
      return out;
    }
    x = y;
  }
  out.reason = 'loop';
  return out;
}

export interface PairStats { pairs: number; direct: number; reachable: number; stretchSum: number; transient: number; disagree: number }

export class Violation extends Error { override name = 'Violation'; }

/** Checks the path invariants over `pairs` (all ordered pairs of live nodes, or a sample); throws a Violation. */
export function checkPaths(w: World, pairs: [SimNode, SimNode][]): PairStats {
  const st: PairStats = { pairs: 0, direct: 0, reachable: 0, stretchSum: 0, transient: 0, disagree: 0 };
  for (const [s, d] of pairs) {
    st.pairs++;
    const r = walk(w, s, d, false);
    if (r.ok) {
      st.reachable++;
      if (r.hops.length === 1) st.direct++;
      st.stretchSum += r.latencyMs / w.net.latencyMs(s.site, d.site);
      const back = walk(w, d, s, false);
      if (back.ok && back.hops.slice(0, -1).reverse().map((n) => n.name).join() !== r.hops.slice(0, -1).map((n) => n.name).join()) st.disagree++;
      continue;
    }
    if (r.reason !== 'loop' && !r.reason.startsWith('source check')) continue;
    const view = indexOf(s).view;
    if ([d, ...r.hops].every((n) => indexOf(n).view === view)) {
      throw new Violation(`${r.reason} on the path ${s.name} → ${d.name} (${[s, ...r.hops].map((n) => n.name).join(' → ')}), every node on it holding the same records`);
    }
    st.transient++;
  }
  return st;
}

/** Signatures (last 16 bytes, hex) of every record honest signing produced; a held record outside it was forged. */
export const legit = new Set<string>();
const checked = new WeakSet<object>();
const sigKey = (b: Uint8Array) => Buffer.from(b.subarray(b.length - 16)).toString('hex');
export function noteSigned(recordBytes: Uint8Array): void { legit.add(sigKey(recordBytes)); }

export function checkRecords(w: World): void {
  for (const n of w.nodes) {
    if (!n.alive) continue;
    for (const r of n.core.allRecords()) {
      if (checked.has(r)) continue;
      if (!legit.has(sigKey(r.bytes))) throw new Violation(`${n.name} accepted a record of ${r.chain[0]!.name} (seq ${r.seq}) that no member signed`);
      checked.add(r);
    }
  }
}

/** Every live node up (and undisturbed) for convergeMs holds a record of every live member up as long. */
export function checkConverged(w: World, convergeMs: number, quietSinceMs: number): number {
  if (w.nowMs - quietSinceMs < convergeMs) return 0;
  const old = w.nodes.filter((n) => n.alive && !w.revoked.has(n) && w.nowMs - n.joinedMs >= convergeMs);
  let checkedNodes = 0;
  for (const n of old) {
    if (w.nowMs - n.startedMs < convergeMs) continue;
    checkedNodes++;
    const ids = new Set(n.core.allRecords().map((r) => r.id));
    const missing = old.filter((m) => !ids.has(m.member.id));
    if (missing.length) throw new Violation(`${n.name} lacks the records of ${missing.length} members up for ${convergeMs / 1000} s (${missing.slice(0, 3).map((m) => m.name).join(', ')}…): holds ${ids.size}`);
  }
  return checkedNodes;
}
