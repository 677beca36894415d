// The revocations a node holds (see revoke.ts for who may revoke whom), the
// order in which one from outside is checked, their bounds, and their
// anti-entropy. Sans I/O; every refusal is counted, none is thrown.
//
// Cheapest first: the sender's forgery budget, size and parse, the network,
// "already revoked" (a replay costs nothing), a cache of revocations that
// failed, the revoker a known member whose chain is not revoked, its right to
// revoke this node, the revoker's budget (REVOKER_RATE), room in the table;
// only then the signatures. Bounds: MAX_REVOCATIONS in all, REVOKER_QUOTA per
// revoker (the founder excepted), and a revocation is forgotten once the
// revoked certificate (and any renewal issued before it) has expired anyway.
//
// Anti-entropy, besides the push when one is accepted (node.ts):
//   every gossip round  REVSUM (count, hash of the revoked ids; carried in the SUMMARY) ───▶
//   on a different sum  ◀─── REVIDS (the ids held, ≤ MAX_DIGEST_ENTRIES a message)
//   ids it lacks        REVWANT ───▶   ◀─── REVOKE (≤ MAX_REVOCATIONS_PER_MESSAGE a message)
// Each side answers a neighbour's differing sum at most once per gossip round.
import { toHex, fromHex } from './bytes.ts';
import { bytesEqual } from './bytes.ts';
import { hashTo } from './crypto.ts';
import type { Cert } from './cert.ts';
import { networkId, type NetworkParams } from './network.ts';
import { RateLimiter } from './ratelimit.ts';
import { DEFAULT_CERT_LIFETIME_MS } from './renew.ts';
import { MAX_DIGEST_ENTRIES, MAX_REVOCATIONS_PER_MESSAGE, type ControlMessage } from './gossip.ts';
import { parseRevocation, revocationRefusal, verifyRevocation, MAX_REVOCATION_BYTES, type Revocation, type UncheckedRevocation } from './revoke.ts';
import type { DropCounters } from './verify.ts';

/** Revocations a node keeps at most (as many as records). */
export const MAX_REVOCATIONS = 1024;
/** Revocations kept per revoker, the founder's excepted: one rogue admin cannot fill the table. */
export const REVOKER_QUOTA = 128;
/** New revocations accepted per revoker: a burst, then one a minute. */
export const REVOKER_RATE = { ratePerSec: 1 / 60, burst: 16, maxEntries: 1024, slip: 0 };
/** Revocations that failed their signatures, remembered so a replay costs no second check. */
export const FAILED_REVOCATIONS = 256;
/** How often a neighbour's differing summary is answered. */
export const REVSUM_ANSWER_MS = 2000;

/** What the set needs of its node's record verifier (verify.ts): the drop counters and the senders' forgery budgets. */
export interface RevocationVerifier {
  readonly dropped: DropCounters;
  isForger(from: string, nowMs: number): boolean;
  chargeForgery(from: string, nowMs: number): void;
}

/** When a revocation may be forgotten: its certificate, and a renewal issued before it, have expired. */
export function keepUntil(r: Revocation): number {
  return r.target.expiresAtMs === 0 ? Infinity : r.target.expiresAtMs + DEFAULT_CERT_LIFETIME_MS;
}

export class Revocations {
  /** By the revoked signing key (hex). */
  private byKey = new Map<string, Revocation>();
  private wgKeys = new Set<string>();
  /** Revoked node id → signing key (hex). */
  private byId = new Map<string, string>();
  private perRevoker = new Map<string, number>();
  private readonly budget = new RateLimiter(REVOKER_RATE);
  private failed = new Set<string>();
  private sum: { count: number; hash: Uint8Array } | null = null;
  private answered = new Map<string, number>();
  private readonly netId: Uint8Array;
  private readonly dropped: DropCounters;

  /** `isMember`: whether a node id is a member now (its record is held, or it is this node). */
  constructor(private readonly net: NetworkParams, private readonly ctx: RevocationVerifier, private readonly isMember: (id: string) => boolean) {
    this.netId = networkId(net.networkPub);
    this.dropped = ctx.dropped;
  }

  get size(): number { return this.byKey.size; }
  all(): Revocation[] { return [...this.byKey.values()]; }
  byNodeId(id: string): Revocation | undefined { const k = this.byId.get(id); return k ? this.byKey.get(k) : undefined; }

  /** Whether a chain passes through a revoked certificate, or its leaf holds a revoked WireGuard key. */
  covers(chain: readonly Cert[]): boolean {
    if (this.byKey.size === 0) return false;
    return chain.some((c) => this.byKey.has(toHex(c.signPub))) || this.wgKeys.has(toHex(chain[0]!.wgPub));
  }

  /** Whether a joiner's keys (hex) were revoked. */
  keysRevoked(signHex: string, wgHex: string): boolean { return this.byKey.has(signHex) || this.wgKeys.has(wgHex); }

  /**
   * A revocation from a member (`from`) or from the local command (`from`
   * undefined): the verified revocation when it is new and valid, else null
   * with the reason counted (a known one is not counted: gossip repeats).
   */
  offer(bytes: Uint8Array, nowMs: number, from?: string): Revocation | null {
    const ctx = this.ctx;
    if (from !== undefined && ctx.isForger(from, nowMs)) { this.dropped.forger++; return null; }
    let u: UncheckedRevocation;
    try {
      u = parseRevocation(bytes);
    } catch {
      this.dropped[bytes.length > MAX_REVOCATION_BYTES ? 'oversize' : 'malformed']++;
      return null;
    }
    if (!bytesEqual(u.chain[0]!.networkId, this.netId)) { this.dropped.unknownSigner++; return null; }
    if (this.byKey.has(toHex(u.target.signPub))) return null;
    const sigKey = toHex(bytes.subarray(bytes.length - 16));
    if (this.failed.has(sigKey)) { this.dropped.knownBad++; if (from !== undefined) ctx.chargeForgery(from, nowMs); return null; }
    if (!this.isMember(u.revokerId)) { this.dropped.unknownSigner++; return null; }
    if (this.covers(u.chain)) { this.dropped.revoked++; return null; }
    if (revocationRefusal(u.chain, u.target, this.net) !== null) { this.dropped.invalidChain++; return null; }
    if (this.budget.exhausted(u.revokerId, nowMs)) { this.dropped.rateLimited++; return null; }
    if (!this.room(u, nowMs)) { this.dropped.tooMany++; return null; }
    const v = verifyRevocation(u, this.net, nowMs);
    if (typeof v === 'string') {
      this.dropped[v]++;
      if (v !== 'expired') this.remember(sigKey, from, nowMs);
      return null;
    }
    this.budget.check(u.revokerId, nowMs);
    this.add(v);
    return v;
  }

  /**
   * A revocation this node persisted (state.json): its signatures are checked
   * again at the time it was signed, its rights too; membership and budgets
   * are not (the records arrive later, and it was accepted once).
   */
  restore(bytes: Uint8Array): Revocation | null {
    let u: UncheckedRevocation;
    try { u = parseRevocation(bytes); } catch { return null; }
    if (this.byKey.has(toHex(u.target.signPub)) || !bytesEqual(u.chain[0]!.networkId, this.netId)) return null;
    if (revocationRefusal(u.chain, u.target, this.net) !== null || this.byKey.size >= MAX_REVOCATIONS) return null;
    const v = verifyRevocation(u, this.net, u.atMs);
    if (typeof v === 'string') return null;
    this.add(v);
    return v;
  }

  /** Forgets revocations whose certificate has expired for good; returns how many. */
  sweep(nowMs: number): number {
    let n = 0;
    for (const r of [...this.byKey.values()]) if (nowMs > keepUntil(r)) { this.remove(r); n++; }
    if (this.answered.size > MAX_REVOCATIONS) this.answered.clear();
    this.budget.prune(nowMs);
    return n;
  }

  private room(u: UncheckedRevocation, nowMs: number): boolean {
    if (u.chain.length > 1 && (this.perRevoker.get(u.revokerId) ?? 0) >= REVOKER_QUOTA) return false;
    if (this.byKey.size >= MAX_REVOCATIONS) this.sweep(nowMs);
    return this.byKey.size < MAX_REVOCATIONS;
  }

  private add(r: Revocation): void {
    const key = toHex(r.target.signPub);
    this.byKey.set(key, r);
    this.byId.set(r.targetId, key);
    this.wgKeys.add(toHex(r.target.wgPub));
    this.perRevoker.set(r.revokerId, (this.perRevoker.get(r.revokerId) ?? 0) + 1);
    this.sum = null;
  }

  private remove(r: Revocation): void {
    this.byKey.delete(toHex(r.target.signPub));
    this.byId.delete(r.targetId);
    this.wgKeys.delete(toHex(r.target.wgPub));
    const n = (this.perRevoker.get(r.revokerId) ?? 1) - 1;
    if (n > 0) this.perRevoker.set(r.revokerId, n); else this.perRevoker.delete(r.revokerId);
    this.sum = null;
  }

  private remember(sigKey: string, from: string | undefined, nowMs: number): void {
    if (from !== undefined) this.ctx.chargeForgery(from, nowMs);
    if (this.failed.size >= FAILED_REVOCATIONS) this.failed.delete(this.failed.values().next().value as string);
    this.failed.add(sigKey);
  }

  // ---- anti-entropy ----

  /** This round's summary for the neighbours. */
  summary(): ControlMessage {
    if (!this.sum) {
      const ids = [...this.byId.keys()].sort();
      this.sum = { count: ids.length, hash: hashTo('kith revocations', fromHex(ids.join('')), 8) };
    }
    return { type: 'revsum', count: this.sum.count, hash: this.sum.hash };
  }

  /** A revocation message from member `fromId`: the replies, and the revocations newly accepted. */
  onControl(m: ControlMessage, fromId: string, nowMs: number): { replies: ControlMessage[]; accepted: Revocation[] } {
    const replies: ControlMessage[] = [];
    const accepted: Revocation[] = [];
    if (m.type === 'revoke') {
      for (const b of m.revocations) { const r = this.offer(b, nowMs, fromId); if (r) accepted.push(r); }
    } else if (m.type === 'revsum') {
      const mine = this.summary() as { count: number; hash: Uint8Array };
      const last = this.answered.get(fromId);
      if ((mine.count !== m.count || !bytesEqual(mine.hash, m.hash)) && this.byId.size && (last === undefined || nowMs - last >= REVSUM_ANSWER_MS)) {
        this.answered.set(fromId, nowMs);
        const ids = [...this.byId.keys()].sort();
        for (let i = 0; i < ids.length; i += MAX_DIGEST_ENTRIES) replies.push({ type: 'revids', ids: ids.slice(i, i + MAX_DIGEST_ENTRIES) });
      }
    } else if (m.type === 'revids') {
      const want = m.ids.filter((id) => !this.byId.has(id)).slice(0, 255);
      if (want.length) replies.push({ type: 'revwant', ids: want });
    } else if (m.type === 'revwant') {
      const have = [...new Set(m.ids)].map((id) => this.byNodeId(id)?.bytes).filter((b): b is Uint8Array => !!b);
      for (let i = 0; i < have.length; i += MAX_REVOCATIONS_PER_MESSAGE) replies.push({ type: 'revoke', revocations: have.slice(i, i + MAX_REVOCATIONS_PER_MESSAGE) });
    }
    return { replies, accepted };
  }
}
