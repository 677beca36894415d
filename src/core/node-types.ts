// What NodeCore (node.ts) takes and gives: its options, the WireGuard
// observations it is fed, and the actions it asks its caller to carry out.
import type { SignKeys } from './crypto.ts';
import type { Cert } from './cert.ts';
import type { Endpoint, Service } from './record.ts';
import type { SignedNetwork } from './network.ts';

export const GOSSIP_INTERVAL_MS = 2000;
/** Control datagrams per member: a gossip round with a full mesh stays far below it. */
export const CONTROL_RATE_LIMIT = { ratePerSec: 100, burst: 300, maxEntries: 1024, slip: 0 };
/**
 * Per member, for questions whose answer can be many times their size (a
 * digest, BUCKETS, a BDIGEST: 16 records, a WANT: up to 64 records): a
 * neighbour asks a few times a round (its summary every 2 s, a BDIGEST per
 * BUCKETS we sent it, an older node's digest in parts, a want per digest
 * answered), not a hundred times a second.
 */
export const ANSWER_RATE_LIMIT = { ratePerSec: 4, burst: 12, maxEntries: 1024, slip: 0 };
export const PING_INTERVAL_MS = 5000;
export const OBSERVE_REPORT_INTERVAL_MS = 30000;
/** A public mapping no member has confirmed for this long gives way to a LAN member's local view. */
export const OBSERVED_STALE_MS = 4 * OBSERVE_REPORT_INTERVAL_MS;
/** A WireGuard session counts as a live link while its last handshake is this recent. */
export const LINK_ALIVE_MS = 180_000;
/**
 * A change of link RTTs alone is published at most this often: each re-sign
 * goes to every member, and with 50 links in a record some RTT crosses a
 * bucket every few seconds (half the re-signs of a 100-node mesh).
 */
export const RTT_RESIGN_MS = 300_000;

export type Action =
  | { type: 'send'; to: string; bytes: Uint8Array }
  /** Open our NAT toward a member behind NAT: install the TTL rule for initiations to host:port, then call punchOpened. */
  | { type: 'punch-open'; peer: string; host: string; port: number; ttl: number }
  /** The attempt toward this peer is over: apply the netmap, then remove its TTL rule. */
  | { type: 'punch-close'; peer: string }
  | { type: 'netmap' }
  | { type: 'persist' }
  /** Async signing: sign these bytes (the own record's) and hand the signature to installSignature. */
  | { type: 'sign'; unsigned: Uint8Array }
  /** The certificate chain was renewed: persist certChain with the membership. */
  | { type: 'chain' }
  /** The revocations held changed: persist revocationList() with the membership. */
  | { type: 'revocations' };

export interface WgObservation {
  /** Base64 public key. */
  publicKey: string;
  endpoint: string | null;
  lastHandshakeMs: number;
  rxBytes: number;
  txBytes: number;
}

export interface NodeCoreOptions {
  network: SignedNetwork;
  chain: Cert[];
  signKeys: SignKeys;
  relay: boolean;
  configuredEndpoints: Endpoint[];
  services: Service[];
  subnets: string[];
  /** Addresses of this node's plain WireGuard clients, advertised in its record (clients.ts). */
  clients?: string[];
  /** The last seq this node signed, so restarts never go backwards. */
  lastSeq: number;
  nowMs: number;
  /** Lifetime of the certificates this node renews for members it admitted. */
  certLifetimeMs?: number;
  /** The caller signs the own record (selfsign.ts): 'sign' actions; the first record is pending (signRequest) until signed or read. */
  asyncSign?: boolean;
}
