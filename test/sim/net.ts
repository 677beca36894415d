// The simulator's internet and WireGuard, just enough of both: sites (a public
// host, or a home LAN behind a NAT of nat.ts), one-way latency from the sites'
// positions, partitions, and per node a WireGuard interface whose peers follow
// the node's netmap. A handshake succeeds when the initiation reaches a node
// that has the initiator as a peer and the response comes back through both
// NATs; the responder then roams to the source it saw. Addresses are strings
// from TEST-NETs (public) and 10.0.0.0/8 (home LANs); nothing leaves memory.
import { Nat, hostOf, portOf, type NatKind } from './nat.ts';

export const WG_PORT = 51820;
/** WireGuard: an initiation every 5 s while no session, a new handshake every 120 s, a session dead after 180 s, keepalives every 25 s. */
export const REKEY_TIMEOUT_MS = 5_000;
export const REKEY_AFTER_MS = 120_000;
export const SESSION_DEAD_MS = 180_000;
export const KEEPALIVE_MS = 25_000;

export interface Site {
  index: number;
  /** The public host: the node's own address, or its NAT's. */
  publicHost: string;
  nat: Nat | null;
  /** 10.x.y. for a home LAN. */
  lanPrefix: string;
  x: number;
  y: number;
  /** Nodes in different groups cannot reach each other (a partition); 0 is the main one. */
  group: number;
}

export interface Delivery { site: Site; internal: string; srcSeen: string }

/** Public addresses for the simulated internet: the three TEST-NETs, then 198.19.0.0/16 (in memory only). */
export function publicAddress(i: number): string {
  const nets = ['192.0.2', '198.51.100', '203.0.113'];
  if (i < 3 * 253) return `${nets[Math.floor(i / 253)]}.${(i % 253) + 1}`;
  const j = i - 3 * 253;
  return `198.19.${Math.floor(j / 253)}.${(j % 253) + 1}`;
}

export class Internet {
  readonly sites: Site[] = [];
  private byHost = new Map<string, Site>();

  addSite(nat: NatKind | null, rand: () => number): Site {
    const index = this.sites.length;
    const publicHost = publicAddress(index);
    const s: Site = {
      index, publicHost, nat: nat ? new Nat(publicHost, nat, rand) : null, lanPrefix: `10.${index >> 8}.${index & 255}.`,
      x: rand() * 100, y: rand() * 100, group: 0,
    };
    this.sites.push(s);
    this.byHost.set(publicHost, s);
    return s;
  }

  /** One-way latency in ms: 0.3 on a LAN, else 2 ms plus distance (a 100 × 100 map, up to ~70 ms). */
  latencyMs(a: Site, b: Site): number {
    if (a === b) return 0.3;
    return 2 + Math.hypot(a.x - b.x, a.y - b.y) / 2;
  }

  /**
   * A UDP datagram from `from` (a node's internal endpoint at `site`) to `to`.
   * ttlLimited: it leaves its own NAT and dies before the far one (Kith's punch rule).
   * Returns where it arrives and the source the receiver sees, or null when it does not.
   */
  deliver(site: Site, from: string, to: string, nowMs: number, ttlLimited = false): Delivery | null {
    const host = hostOf(to);
    if (site.nat && host.startsWith(site.lanPrefix)) return { site, internal: to, srcSeen: from };
    let src = from;
    if (site.nat) {
      const ext = site.nat.outbound(from, to, nowMs);
      if (!ext) return null;
      src = ext;
      if (host === site.publicHost) {
        // Hairpinning: back in through our own NAT, with the NAT's address as source.
        if (!site.nat.kind.hairpin) return null;
        const internal = site.nat.inbound(portOf(to), src, nowMs);
        return internal ? { site, internal, srcSeen: src } : null;
      }
    }
    if (ttlLimited) return null;
    const far = this.byHost.get(host);
    if (!far || far.group !== site.group) return null;
    if (!far.nat) return { site: far, internal: to, srcSeen: src };
    const internal = far.nat.inbound(portOf(to), src, nowMs);
    return internal ? { site: far, internal, srcSeen: src } : null;
  }
}

export interface WgPeerState {
  allowed: Set<string>;
  /** The endpoint from the netmap (null: wait to be dialled). */
  configured: string | null;
  /** Where packets go now: the configured endpoint, or the source of the peer's last handshake (roaming). */
  endpoint: string | null;
  lastHandshakeMs: number;
  lastInitMs: number;
  lastKeepaliveMs: number;
  txBytes: number;
  rxBytes: number;
}

/** A node's WireGuard: outer peers by base64 key, end-to-end peers, and the punch TTL rules (endpoints whose initiations die early). */
export class WgModel {
  peers = new Map<string, WgPeerState>();
  e2e = new Set<string>();
  ttlRules = new Set<string>();

  /** Reconciles the outer peers with a netmap's (wg set): new peers start without a session, removed ones lose theirs. */
  apply(peers: { publicKey: string; endpoint: string | null; allowedIPs: string[] }[], e2e: { publicKey: string }[]): void {
    const next = new Map<string, WgPeerState>();
    for (const p of peers) {
      const old = this.peers.get(p.publicKey);
      const st: WgPeerState = old ?? { allowed: new Set(), configured: null, endpoint: null, lastHandshakeMs: 0, lastInitMs: 0, lastKeepaliveMs: 0, txBytes: 0, rxBytes: 0 };
      st.allowed = new Set(p.allowedIPs);
      if (p.endpoint !== st.configured) {
        st.configured = p.endpoint;
        if (p.endpoint) st.endpoint = p.endpoint;
      }
      next.set(p.publicKey, st);
    }
    this.peers = next;
    this.e2e = new Set(e2e.map((p) => p.publicKey));
  }

  /** Whether the session with this peer is live by WireGuard's clock. */
  live(key: string, nowMs: number): boolean {
    const p = this.peers.get(key);
    return !!p && p.lastHandshakeMs > 0 && nowMs - p.lastHandshakeMs < SESSION_DEAD_MS;
  }
}
