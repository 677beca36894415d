// Whether the relays this node's relayed paths go through are alive, the
// sans-I/O part. WireGuard cannot tell: it keeps an idle session "fresh" for
// minutes after the far end died, and a link leaves our record only when its
// last handshake is LINK_ALIVE_MS (3 min) old. So a hop becomes suspect when
// WireGuard sent it bytes and got none back (`wg show`, read every second or
// faster): a kilobyte of traffic through it, or for a second our keepalive or
// a control datagram, went unanswered. A suspect hop is pinged every RELAY_PING_INTERVAL_MS (control
// pings, nonces with RELAY_NONCE_BIT set, apart from the RTT and exit pings)
// until it answers, by a pong or any bytes; one that has not answered for
// RELAY_DEAD_MS since it became suspect is dead. A dead hop's link leaves our
// record at once, so every member, the far end of each pair included,
// computes paths around it and both ends agree on the new relay. A dead hop
// is pinged on (it no longer carries a path, but must be seen coming back)
// until it answers, or for RELAY_FORGET_MS. A hop that answers is not pinged:
// pinging every relay hop twice a second whatever it carried cost a node more
// than the rest of its steady control traffic (test/sim, DESIGN.md "Scale").

/** How often a suspect (or dead) relay hop is pinged. */
export const RELAY_PING_INTERVAL_MS = 500;
/** A suspect relay hop that has not answered for this long is dead (four pings in a row lost). */
export const RELAY_DEAD_MS = 2000;
/** A dead hop that has not answered for this long is pinged no more (its link stays out until a handshake is new again). */
export const RELAY_FORGET_MS = 10 * 60_000;
/**
 * A hop that has sent nothing back since we sent it this many bytes (traffic:
 * a dead relay under a ping every 100 ms is suspect within a second) or since
 * SUSPECT_AFTER_MS (our keepalive, a control datagram: most are answered,
 * or met by the hop's own, within that) is suspect.
 */
export const SUSPECT_BYTES = 1024;
export const SUSPECT_AFTER_MS = 1000;
/** Hops pinged at most: the relays of this node's paths, live and dead. */
export const MAX_RELAY_HOPS = 16;
/** Outstanding relay pings kept (oldest dropped). */
const MAX_RELAY_PINGS = 256;
/** Relay ping nonces have this bit set (and not the exit bit); RTT pings' nonces stay below it. */
export const RELAY_NONCE_BIT = 0x40000000;

interface Hop {
  /** Since when bytes we sent it have gone unanswered, and how many, or null. */
  unansweredSinceMs: number | null;
  unansweredBytes: number;
  /** Since when it has been suspect (pinged until it answers; only while bytes are unanswered), or null. */
  suspectSinceMs: number | null;
  /** When it was found dead, or null while alive. */
  deadSinceMs: number | null;
}

/** What `wg show` says WireGuard exchanged with one peer (by public key), as far as relay health reads it. */
export interface PeerBytes { publicKey: string; txBytes: number; rxBytes: number }

export class RelayHealth {
  private hops = new Map<string, Hop>();
  private pings = new Map<number, { id: string; sentMs: number }>();
  private bytes = new Map<string, { tx: number; rx: number }>();
  private nonce = 0;
  private lastPingMs = -Infinity;
  private revived = false;

  /** Whether our link to member `id` is known dead (it stays out of our record). */
  dead(id: string): boolean { return this.hops.get(id)?.deadSinceMs != null; }

  /** The hops known dead now. */
  get deadHops(): string[] { return [...this.hops].filter(([, h]) => h.deadSinceMs !== null).map(([id]) => id); }

  /** An answer from a hop: alive (again), owing nothing. */
  private answered(h: Hop): void {
    if (h.deadSinceMs !== null) this.revived = true;
    h.unansweredSinceMs = null;
    h.unansweredBytes = 0;
    h.suspectSinceMs = null;
    h.deadSinceMs = null;
  }

  /** A pong: true when it answered one of our relay pings (then no other tracker may see it). */
  pong(nonce: number, fromId: string): boolean {
    if ((nonce & (RELAY_NONCE_BIT | 0x80000000)) !== RELAY_NONCE_BIT) return false;
    const sent = this.pings.get(nonce);
    this.pings.delete(nonce);
    const hop = this.hops.get(fromId);
    if (sent && sent.id === fromId && hop) this.answered(hop);
    return true;
  }

  /**
   * WireGuard's byte counters per peer (each `wg show`): a watched hop that
   * sent us bytes since the last reading answered; one that has sent none
   * back since we sent it SUSPECT_BYTES, or any bytes SUSPECT_AFTER_MS ago,
   * becomes suspect. Counters are kept for the watched hops only.
   */
  observe(peers: readonly PeerBytes[], idOf: (publicKey: string) => string | undefined, nowMs: number): void {
    for (const p of peers) {
      const id = idOf(p.publicKey);
      const h = id === undefined ? undefined : this.hops.get(id);
      if (!h) continue;
      const was = this.bytes.get(id!);
      this.bytes.set(id!, { tx: p.txBytes, rx: p.rxBytes });
      if (!was) continue;
      if (p.rxBytes > was.rx) { this.answered(h); continue; }
      if (p.txBytes > was.tx) { h.unansweredSinceMs ??= nowMs; h.unansweredBytes += p.txBytes - was.tx; }
      const owes = h.unansweredSinceMs !== null && (h.unansweredBytes >= SUSPECT_BYTES || nowMs - h.unansweredSinceMs >= SUSPECT_AFTER_MS);
      if (owes && h.suspectSinceMs === null) h.suspectSinceMs = nowMs;
    }
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
      if (!this.hops.has(id) && this.hops.size < MAX_RELAY_HOPS) this.hops.set(id, { unansweredSinceMs: null, unansweredBytes: 0, suspectSinceMs: null, deadSinceMs: null });
    }
    const wanted = new Set(relays);
    for (const [id, h] of this.hops) {
      if (h.deadSinceMs === null && h.suspectSinceMs !== null && nowMs - h.suspectSinceMs > RELAY_DEAD_MS) { h.deadSinceMs = nowMs; changed = true; }
      // No longer a relay of ours: watched until it owes us nothing, bytes or pongs (paths may have
      // moved because the far end found it dead first). Dead: watched until it answers, for a while.
      if (h.deadSinceMs === null ? !wanted.has(id) && h.unansweredSinceMs === null : nowMs - h.deadSinceMs > RELAY_FORGET_MS) {
        this.hops.delete(id);
        this.bytes.delete(id);
        if (h.deadSinceMs !== null) changed = true;
      }
    }
    const pings: { id: string; nonce: number }[] = [];
    if (nowMs - this.lastPingMs >= RELAY_PING_INTERVAL_MS) {
      this.lastPingMs = nowMs;
      for (const [id, h] of this.hops) {
        if (h.suspectSinceMs === null && h.deadSinceMs === null) continue;
        const nonce = (RELAY_NONCE_BIT | (this.nonce++ & 0x3fffffff)) >>> 0;
        this.pings.set(nonce, { id, sentMs: nowMs });
        pings.push({ id, nonce });
      }
      for (const [n, s] of this.pings) if (this.pings.size > MAX_RELAY_PINGS || nowMs - s.sentMs > RELAY_DEAD_MS) this.pings.delete(n);
    }
    return { pings, changed };
  }
}
