// Certificate lifetime and renewal. A member's certificate expires
// (DEFAULT_CERT_LIFETIME_MS, never later than its issuer's), and a chain
// verifies only while every certificate in it does; the founder's certificate
// (signed by the network key) does not expire. In the last third of its
// chain's life (at most the last third of DEFAULT_CERT_LIFETIME_MS) a member
// asks its issuer, over the overlay, for a fresh certificate that differs
// only in its expiry: same name, keys, address, role, pool and issuedAtMs.
// issuedAtMs stays the time the member was first admitted, so the rules that
// order members by it (the earlier keeps a name or a WireGuard key, quotas
// keep the earliest issued, no certificate predates its issuer's) give the
// same answer before and after any renewal, the issuer's included:
//
//   member                                     issuer (the member that admitted it)
//   RENEW (empty)                   ───▶       only for the sender's own certificate,
//                                              only when it is due, re-sent from a
//                                              cache (no new signature) when asked again
//                          ◀───   CERT chain   [fresh cert, ...issuer's current chain]
//   adopts it if it binds the same identity, verifies and lasts longer,
//   persists it (action 'chain') and re-signs its record with it.
//
// A member whose issuer has left cannot renew and needs a new invite when its
// certificate runs out.
import { bytesEqual } from './bytes.ts';
import type { SignKeys } from './crypto.ts';
import { decodeCert, issueCert, verifyChain, type Cert } from './cert.ts';
import type { NetworkParams } from './network.ts';
import { chainExpiry } from './store.ts';

const DAY_MS = 86_400_000;
export const DEFAULT_CERT_LIFETIME_MS = 365 * DAY_MS;
/** How long a member waits for its issuer's answer before asking again. */
export const RENEW_RETRY_MS = 15 * 60_000;
/** Renewals an issuer keeps to answer a repeated request without signing again. */
export const MAX_CACHED_RENEWALS = 256;

/** The expiry of a certificate issued now under `issuerChain`: the lifetime, but never past the issuer's chain. */
export function expiryFor(issuerChain: readonly Cert[], nowMs: number, lifetimeMs: number): number {
  const exp = Math.min(lifetimeMs > 0 ? nowMs + lifetimeMs : Infinity, chainExpiry(issuerChain));
  return Number.isFinite(exp) ? exp : 0;
}

/**
 * Whether a chain is due for renewal: in the last third of its life, counted
 * from the leaf's issue time but at most a third of DEFAULT_CERT_LIFETIME_MS
 * (a renewed certificate keeps its first issue time). A chain that never
 * expires never is.
 */
export function renewalDue(chain: readonly Cert[], nowMs: number): boolean {
  const exp = chainExpiry(chain);
  if (!Number.isFinite(exp)) return false;
  const life = Math.min(Math.max(0, exp - chain[0]!.issuedAtMs), DEFAULT_CERT_LIFETIME_MS);
  return nowMs >= exp - life / 3;
}

function sameIdentity(a: Cert, b: Cert): boolean {
  return a.name === b.name && a.issuedAtMs === b.issuedAtMs && bytesEqual(a.signPub, b.signPub) && bytesEqual(a.wgPub, b.wgPub) && a.ipv4 === b.ipv4
    && a.admin === b.admin && a.pool?.base === b.pool?.base && a.pool?.len === b.pool?.len
    && bytesEqual(a.issuerPub, b.issuerPub) && bytesEqual(a.networkId, b.networkId);
}

/**
 * Issuer: a fresh chain for a member it certified (`current`, the member's
 * chain as its record carries it), or null when it is not this issuer's to
 * renew, not due, or the result would not verify.
 */
export function renewFor(current: readonly Cert[], issuerChain: Cert[], issuerKeys: SignKeys, net: NetworkParams, nowMs: number, lifetimeMs: number): Cert[] | null {
  const leaf = current[0]!;
  if (!bytesEqual(leaf.issuerPub, issuerKeys.publicKey) || !renewalDue(current, nowMs)) return null;
  const { bytes: _old, ...fields } = leaf;
  const cert = issueCert({ ...fields, expiresAtMs: expiryFor(issuerChain, nowMs, lifetimeMs) }, issuerKeys);
  const chain = [cert, ...issuerChain];
  try {
    verifyChain(chain, net, nowMs);
  } catch {
    return null;
  }
  return chainExpiry(chain) > chainExpiry(current) ? chain : null;
}

/** Member: whether an offered chain may replace ours (same identity and issue time, verifies, lasts longer). */
export function acceptableRenewal(current: readonly Cert[], offered: Cert[], net: NetworkParams, nowMs: number): boolean {
  if (!offered.length || !sameIdentity(current[0]!, offered[0]!)) return false;
  try {
    verifyChain(offered, net, nowMs);
  } catch {
    return false;
  }
  return chainExpiry(offered) > chainExpiry(current);
}

/** One node's renewals, both roles: when to ask its issuer, and what it issued to the members it certified. */
export class Renewals {
  /** When we last asked our issuer (0 = not waiting for an answer). */
  private askedMs = 0;
  /** Chains issued, by member id, re-sent without a new signature when asked again. */
  private issued = new Map<string, Cert[]>();

  constructor(private readonly net: NetworkParams, private readonly keys: SignKeys, private readonly lifetimeMs = DEFAULT_CERT_LIFETIME_MS) {}

  /** Member: whether to send RENEW to our issuer now (due, and not asked within RENEW_RETRY_MS). */
  shouldAsk(chain: readonly Cert[], nowMs: number): boolean {
    if (chain.length < 2 || !renewalDue(chain, nowMs) || (this.askedMs && nowMs - this.askedMs < RENEW_RETRY_MS)) return false;
    this.askedMs = nowMs;
    return true;
  }

  /** Issuer: the chain to send a member that asked (`current` is its chain as its record carries it), or null. */
  answer(memberId: string, current: readonly Cert[], ownChain: Cert[], nowMs: number): Cert[] | null {
    if (!renewalDue(current, nowMs)) return null;
    const cached = this.issued.get(memberId);
    if (cached && acceptableRenewal(current, cached, this.net, nowMs)) return cached;
    const chain = renewFor(current, ownChain, this.keys, this.net, nowMs, this.lifetimeMs);
    if (!chain) return null;
    if (this.issued.size >= MAX_CACHED_RENEWALS) this.issued.delete(this.issued.keys().next().value as string);
    this.issued.set(memberId, chain);
    return chain;
  }

  /**
   * Member: a CERT from `fromId`. The new chain if we asked, it comes from our
   * issuer and is acceptable; 'malformed' or 'invalid' to count; null to ignore.
   */
  offered(current: readonly Cert[], certs: Uint8Array[], fromIsIssuer: boolean, nowMs: number): Cert[] | 'malformed' | 'invalid' | null {
    if (!this.askedMs || current.length < 2 || !fromIsIssuer) return null;
    let chain: Cert[];
    try {
      chain = certs.map(decodeCert);
    } catch {
      return 'malformed';
    }
    if (!acceptableRenewal(current, chain, this.net, nowMs)) return 'invalid';
    this.askedMs = 0;
    return chain;
  }
}
