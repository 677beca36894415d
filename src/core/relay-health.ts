// Whether the relays this node's relayed paths go through are alive, the
// sans-I/O part. WireGuard cannot tell: it keeps an idle session "fresh" for
// minutes after the far end died, and a link leaves our record only when its
// last handshake is LINK_ALIVE_MS (3 min) old. So while a member is the first
// hop of a relayed path, we ping it every RELAY_PING_INTERVAL_MS (control
// pings, nonces with RELAY_NONCE_BIT set, apart from the RTT and exit pings);
// one with no pong for RELAY_DEAD_MS is dead. A dead hop's link leaves our
// record at once, so every member, the far end of each pair included,
// computes paths around it and both ends agree on the new relay. A dead hop
// is pinged on (it no longer carries a path, but must be seen coming back)
// until it answers, or for RELAY_FORGET_MS; a hop that stops being a relay of
// ours while its pongs are late (the far end found it dead first and paths
// moved) is watched until it answers or is found dead here too.

/** How often a relay hop is pinged. */
export const RELAY_PING_INTERVAL_MS = 500;
/** A relay hop with no pong for this long is dead (four pings in a row lost). */
export const RELAY_DEAD_MS = 2000;
/** A dead hop that has not answered for this long is pinged no more (its link stays out until a handshake is new again). */
export const RELAY_FORGET_MS = 10 * 60_000;
/** Hops pinged at most: the relays of this node's paths, live and dead. */
export const MAX_RELAY_HOPS = 16;
/** Outstanding relay pings kept (oldest dropped). */
const MAX_RELAY_PINGS = 256;
/** Relay ping nonces have this bit set (and not the exit bit); RTT pings' nonces stay below it. */
export const RELAY_NONCE_BIT = 0x40000000;

interface Hop {
  /** When it last answered (or when we started pinging it: it is given RELAY_DEAD_MS to answer). */
  lastPongMs: number;
  /** When it was found dead, or null while alive. */
  deadSinceMs: number | null;
}

export class RelayHealth {
  private hops = new Map<string, Hop>();
  private pings = new Map<number, { id: string; sentMs: number }>();
  private nonce = 0;
  private lastPingMs = -Infinity;
  private revived = false;

  /** Whether our link to member `id` is known dead (it stays out of our record). */
  dead(id: string): boolean { return this.hops.get(id)?.deadSinceMs != null; }

  /** The hops known dead now. */
  get deadHops(): string[] { return [...this.hops].filter(([, h]) => h.deadSinceMs !== null).map(([id]) => id); }

  /** A pong: true when it answered one of our relay pings (then no other tracker may see it). */
  pong(nonce: number, fromId: string, nowMs: number): boolean {
    if ((nonce & (RELAY_NONCE_BIT | 0x80000000)) !== RELAY_NONCE_BIT) return false;
    const sent = this.pings.get(nonce);
    this.pings.delete(nonce);
    const hop = this.hops.get(fromId);
    if (sent && sent.id === fromId && hop) {
      if (hop.deadSinceMs !== null) this.revived = true;
      hop.lastPongMs = nowMs;
      hop.deadSinceMs = null;
    }
    return true;
  }

  /**
   * `relays`: the first hops of this node's relayed paths now. Returns the
   * pings to send (member ids and nonces) and whether a hop died or came
   * back (then our record must be re-signed and paths recomputed).
   */
  tick(relays: readonly string[], nowMs: number): { pings: { id: string; nonce: number }[]; changed: boolean } {
    let changed = this.revived;
    this.revived = false;
    for (const id of relays) {
      if (!this.hops.has(id) && this.hops.size < MAX_RELAY_HOPS) this.hops.set(id, { lastPongMs: nowMs, deadSinceMs: null });
    }
    const wanted = new Set(relays);
    for (const [id, h] of this.hops) {
      if (h.deadSinceMs === null && nowMs - h.lastPongMs > RELAY_DEAD_MS) { h.deadSinceMs = nowMs; changed = true; }
      // No longer a relay of ours: watched until it has answered lately (paths may have moved
      // because the far end found it dead first). Dead: watched until it answers, for a while.
      if (h.deadSinceMs === null ? !wanted.has(id) && nowMs - h.lastPongMs <= 2 * RELAY_PING_INTERVAL_MS : nowMs - h.deadSinceMs > RELAY_FORGET_MS) {
        this.hops.delete(id);
        if (h.deadSinceMs !== null) changed = true;
      }
    }
    const pings: { id: string; nonce: number }[] = [];
    if (nowMs - this.lastPingMs >= RELAY_PING_INTERVAL_MS) {
      this.lastPingMs = nowMs;
      for (const id of this.hops.keys()) {
        const nonce = (RELAY_NONCE_BIT | (this.nonce++ & 0x3fffffff)) >>> 0;
        this.pings.set(nonce, { id, sentMs: nowMs });
        pings.push({ id, nonce });
      }
      for (const [n, s] of this.pings) if (this.pings.size > MAX_RELAY_PINGS || nowMs - s.sentMs > RELAY_DEAD_MS) this.pings.delete(n);
    }
    return { pings, changed };
  }
}
