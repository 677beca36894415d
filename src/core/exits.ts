// Exit nodes (uplink donation), the sans-I/O part: which donor a user sends
// its LAN's internet traffic through, and whether that donor is alive.
//
//  - A donor advertises `exitCapacityMbit` > 0 in its record.
//  - Choice (`auto`): capacity-weighted rendezvous hashing of (user id, donor
//    id): score = capacity / -ln(u), u uniform in (0,1) from BLAKE2b, highest
//    wins. A donor of capacity w gets w / Σw of the users, and when a donor
//    goes only its users move (every other pair keeps its score).
//  - Stickiness: a user keeps its donor while it is healthy and still offers,
//    even when a new donor would now score higher.
//  - Health: control pings straight to each candidate donor's overlay address
//    every EXIT_PING_INTERVAL_MS (nonces with the top bit set, apart from the
//    RTT pings'); a donor without a pong for EXIT_DEAD_MS is unhealthy.
//    Handshake age is not used: WireGuard keeps an idle session "fresh" for
//    minutes after the far end died.
//  - Only donors this node reaches directly are candidates: a relayed donor
//    is listed with the reason and skipped (its exit traffic would ride two
//    members' uplinks and the relay's CPU).
import { hashTo } from './crypto.ts';
import { utf8Encode } from './bytes.ts';
import type { Netmap, NetNode } from './netmap.ts';
import type { NodeRecord } from './record.ts';

export const EXIT_PING_INTERVAL_MS = 250;
/** A donor with no pong for this long is unhealthy (users move away within this plus one apply). */
export const EXIT_DEAD_MS = 1500;
/** At most this many donors are pinged and considered (highest scores first). */
export const MAX_EXIT_CANDIDATES = 16;
/** Outstanding exit pings kept (oldest dropped). */
const MAX_EXIT_PINGS = 256;
/** Exit ping nonces have this bit set; RTT pings' nonces (rtt.ts) count up from 1 and never reach it. */
export const EXIT_NONCE_BIT = 0x80000000;

/** `null`: no exit; `auto`: chosen by rendezvous hashing; else a node's name or id. */
export type ExitUse = 'auto' | { node: string } | null;

/** What a node knows about one exit offer (for `kith exits`). */
export interface ExitOfferView {
  id: string;
  name: string;
  capacityMbit: number;
  path: NetNode['path'];
  healthy: boolean;
  chosen: boolean;
  /** Why this node would not use it, or null. */
  skipped: string | null;
  lastPongMsAgo: number | null;
}

/** The rendezvous score of a donor for a user: capacity / -ln(u), u from a hash of both ids. */
export function rendezvousScore(userId: string, donorId: string, capacityMbit: number): number {
  const h = hashTo('kith-exit', utf8Encode(`${userId}|${donorId}`), 7);
  let x = 0;
  for (let i = 0; i < 7; i++) x = x * 256 + h[i]!;
  const u = (Math.floor(x / 16) + 0.5) / 2 ** 52; // 52 bits, strictly inside (0,1)
  return capacityMbit / -Math.log(u);
}

/** The best donor for `userId` among `donors` (id → capacity), or null. Ties break by id. */
export function rendezvousPick(userId: string, donors: ReadonlyMap<string, number>): string | null {
  let best: string | null = null;
  let bestScore = -1;
  for (const [id, cap] of [...donors].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (cap <= 0) continue;
    const s = rendezvousScore(userId, id, cap);
    if (s > bestScore) { best = id; bestScore = s; }
  }
  return best;
}

/** Health and choice of this node's exit. */
export class Exits {
  use: ExitUse = null;
  /** The donor our LAN's internet traffic goes through, or null. */
  chosen: string | null = null;
  private pings = new Map<number, { id: string; sentMs: number }>();
  private lastPong = new Map<string, number>();
  private nonce = 0;
  private lastPingMs = -Infinity;

  constructor(private readonly selfId: string) {}

  healthy(id: string, nowMs: number): boolean {
    const t = this.lastPong.get(id);
    return t !== undefined && nowMs - t <= EXIT_DEAD_MS;
  }

  /** A pong: true when it answered one of our exit pings (then the RTT tracker must not see it). */
  pong(nonce: number, fromId: string, nowMs: number): boolean {
    if ((nonce & EXIT_NONCE_BIT) === 0) return false;
    const sent = this.pings.get(nonce);
    this.pings.delete(nonce);
    if (sent && sent.id === fromId) this.lastPong.set(fromId, nowMs);
    return true;
  }

  /** Offers in the records, with why each is skipped (if it is). */
  offers(records: Iterable<NodeRecord>, nm: Netmap, nowMs: number): ExitOfferView[] {
    const out: ExitOfferView[] = [];
    const nodes = new Map(nm.nodes.map((n) => [n.id, n]));
    for (const r of records) {
      const n = nodes.get(r.id);
      if (!n || r.exitCapacityMbit <= 0 || r.id === this.selfId) continue;
      const t = this.lastPong.get(r.id);
      const skipped = n.path === 'relayed' ? `relayed via ${n.via}: not directly reachable, so not used as an exit`
        : n.path !== 'direct' ? 'unreachable' : null;
      out.push({
        id: r.id, name: n.name, capacityMbit: r.exitCapacityMbit, path: n.path, healthy: this.healthy(r.id, nowMs),
        chosen: this.chosen === r.id, skipped, lastPongMsAgo: t === undefined ? null : nowMs - t,
      });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Candidates to ping: direct donors, those that matter most first (the chosen and the named one, then by score). */
  private candidates(offers: ExitOfferView[]): ExitOfferView[] {
    const named = typeof this.use === 'object' && this.use ? this.use.node : null;
    const rank = (o: ExitOfferView) => (o.id === this.chosen || o.name === named || o.id === named ? Infinity : rendezvousScore(this.selfId, o.id, o.capacityMbit));
    return offers.filter((o) => o.skipped === null).sort((a, b) => rank(b) - rank(a)).slice(0, MAX_EXIT_CANDIDATES);
  }

  /**
   * Every EXIT_PING_INTERVAL_MS: the pings to send (overlay IPv4 and nonce),
   * and whether the choice changed (then the netmap must be recomputed).
   */
  tick(offers: ExitOfferView[], ipv4Of: (id: string) => string | undefined, nowMs: number): { pings: { to: string; nonce: number }[]; changed: boolean } {
    const pings: { to: string; nonce: number }[] = [];
    const cands = this.use === null ? [] : this.candidates(offers);
    if (nowMs - this.lastPingMs >= EXIT_PING_INTERVAL_MS) {
      this.lastPingMs = nowMs;
      for (const o of cands) {
        const to = ipv4Of(o.id);
        if (!to) continue;
        const nonce = (EXIT_NONCE_BIT | (this.nonce++ & 0x7fffffff)) >>> 0;
        this.pings.set(nonce, { id: o.id, sentMs: nowMs });
        pings.push({ to, nonce });
      }
      for (const [n, s] of this.pings) if (this.pings.size > MAX_EXIT_PINGS || nowMs - s.sentMs > EXIT_DEAD_MS) this.pings.delete(n);
    }
    const known = new Set(offers.map((o) => o.id));
    for (const id of this.lastPong.keys()) if (!known.has(id)) this.lastPong.delete(id);
    const next = this.choose(cands, nowMs);
    const changed = next !== this.chosen;
    this.chosen = next;
    return { pings, changed };
  }

  private choose(cands: ExitOfferView[], nowMs: number): string | null {
    const live = cands.filter((o) => this.healthy(o.id, nowMs));
    if (this.use === null) return null;
    if (this.use !== 'auto') {
      const want = this.use.node;
      return live.find((o) => o.id === want || o.name === want)?.id ?? null;
    }
    if (this.chosen !== null && live.some((o) => o.id === this.chosen)) return this.chosen; // sticky while healthy
    return rendezvousPick(this.selfId, new Map(live.map((o) => [o.id, o.capacityMbit])));
  }
}

/** The netmap with the exit: 0.0.0.0/0 in the chosen donor's AllowedIPs (it must be a direct peer). */
export function withExit(nm: Netmap, chosen: string | null): Netmap {
  const donor = chosen === null ? undefined : nm.nodes.find((n) => n.id === chosen && n.path === 'direct');
  if (!donor) return { ...nm, exit: null };
  const peers = nm.peers.map((p) => (p.publicKey === donor.wgPub ? { ...p, allowedIPs: ['0.0.0.0/0', ...p.allowedIPs] } : p));
  return { ...nm, peers, exit: { node: donor.id, name: donor.name, ipv4: donor.ipv4 } };
}
