// Verifying records from outside, cheapest check first: size and parse, then
// "known and not newer", then a cache of records that already failed, and only
// then the signatures (tens of milliseconds each under QuickJS on a router).
// Records older than RECORD_TTL_MS (by seq, their signing time) and chains
// with an expired certificate are refused too. Every refusal is counted, none
// is thrown. Honest members forward only records they verified, so a record
// from a member that fails (or is a known failure) is that member's forgery:
// each costs it a token of a small budget, and once the budget is spent its
// records are refused undecoded until it refills (a member sending fresh
// forgeries at its control rate made a router spend 60 % of a core on
// signature checks under txiki.js).
import { RateLimiter } from './ratelimit.ts';
import { DecodeError } from './codec.ts';
import { verifyChain, ChainError, type Cert } from './cert.ts';
import { decodeRecord, verifyRecordSignature, OversizeError, SignatureError, type NodeRecord } from './record.ts';
import { toHex } from './bytes.ts';
import { collectSignatures, type SignatureCheck } from './crypto.ts';
import type { NetworkParams } from './network.ts';
import { RECORD_TTL_MS } from './store.ts';

/** Records that failed verification, remembered by their signature so a replay costs no second check. */
export const FAILED_CACHE_SIZE = 256;
/** Forged records (bad signature or chain, or a replay of one) a member may send: a burst, then one per 10 s. */
export const FORGERY_BUDGET = { ratePerSec: 0.1, burst: 10, maxEntries: 1024, slip: 0 };

export interface DropCounters {
  malformed: number;
  badSignature: number;
  stale: number;
  unknownSigner: number;
  oversize: number;
  expired: number;
  invalidChain: number;
  tooMany: number;
  /** Input that made the core fail while handling it (a bug, contained). */
  failed: number;
  /** Control datagrams from an address that is no member's. */
  nonMember: number;
  /** Control datagrams over a member's rate limit. */
  rateLimited: number;
  /** Records whose certificate takes a WireGuard key another member was certified with first. */
  duplicateKey: number;
  /** Records that failed before, refused again without a signature check. */
  knownBad: number;
  /** Records not re-signed by their node for RECORD_TTL_MS (a member that left), refused or dropped. */
  departed: number;
  /** Records beyond an admitting member's quota (ISSUER_QUOTA), refused or evicted. */
  overQuota: number;
  /** Records refused unchecked from a member that spent its forgery budget. */
  forger: number;
  /** Records (and revocations) whose chain passes through a revoked certificate or holds a revoked key, refused or dropped. */
  revoked: number;
}

export function zeroDrops(): DropCounters {
  return { malformed: 0, badSignature: 0, stale: 0, unknownSigner: 0, oversize: 0, expired: 0, invalidChain: 0, tooMany: 0, failed: 0, nonMember: 0, rateLimited: 0, duplicateKey: 0, knownBad: 0, departed: 0, overQuota: 0, forger: 0, revoked: 0 };
}

export class RecordVerifier {
  readonly dropped: DropCounters = zeroDrops();
  private failedSigs = new Set<string>();
  private readonly forgeries = new RateLimiter(FORGERY_BUDGET);

  /** `revoked` says whether a chain passes through a revoked certificate (revocations.ts). */
  constructor(private readonly network: NetworkParams, private readonly revoked: (chain: readonly Cert[]) => boolean = () => false) {}

  /** Whether `from` spent its forgery budget (its input is refused undecoded). */
  isForger(from: string, nowMs: number): boolean { return this.forgeries.exhausted(from, nowMs); }
  /** `from` sent a forgery of another kind (a revocation): one token of its budget. */
  chargeForgery(from: string, nowMs: number): void { this.forgeries.check(from, nowMs); }

  /**
   * The record if it verifies and is newer than `known` (our copy of that
   * node's record), else null with the reason counted. `self` records are
   * returned whatever their seq (the caller learns from them). `from` is the
   * member that sent it (none for records from the join reply or disk).
   */
  verify(bytes: Uint8Array, known: (id: string) => NodeRecord | undefined, selfId: string, nowMs: number, from?: string): NodeRecord | null {
    let rec: NodeRecord;
    let sigKey = '';
    // A member that spent its forgery budget costs not even a decode.
    if (from !== undefined && this.forgeries.exhausted(from, nowMs)) { this.dropped.forger++; return null; }
    try {
      rec = decodeRecord(bytes, false);
      const have = known(rec.id);
      if (have && have.seq >= rec.seq && rec.id !== selfId) {
        if (have.seq > rec.seq) this.dropped.stale++;
        return null;
      }
      // seq is the signing time: a record its node stopped re-signing a week ago is a member that left.
      if (rec.id !== selfId && nowMs - rec.seq > RECORD_TTL_MS) { this.dropped.departed++; return null; }
      // A revoked node (or one admitted through it) coming back: refused before any signature.
      if (this.revoked(rec.chain)) { this.dropped.revoked++; return null; }
      sigKey = toHex(bytes.subarray(bytes.length - 16));
      if (this.failedSigs.has(sigKey)) {
        this.dropped.knownBad++;
        if (from !== undefined) this.forgeries.check(from, nowMs);
        return null;
      }
      verifyRecordSignature(rec);
    } catch (e) {
      if (e instanceof OversizeError) this.dropped.oversize++;
      else if (e instanceof SignatureError || (e instanceof DecodeError && /bad signature/.test(e.message))) { this.dropped.badSignature++; this.remember(sigKey, from, nowMs); }
      else this.dropped.malformed++;
      return null;
    }
    try {
      verifyChain(rec.chain, this.network, nowMs);
    } catch (e) {
      const kind = e instanceof ChainError ? e.kind : 'invalid';
      if (kind === 'unknown-signer') this.dropped.unknownSigner++;
      else if (kind === 'expired') this.dropped.expired++;
      else this.dropped.invalidChain++;
      if (kind !== 'expired') this.remember(sigKey, from, nowMs);
      return null;
    }
    return rec;
  }

  /**
   * The signature checks verify() would make for these bytes once its cheap
   * checks pass (forger, parse, known and newer, departed, known bad), listed
   * without verifying and without counting anything.
   */
  checksFor(bytes: Uint8Array, known: (id: string) => NodeRecord | undefined, selfId: string, nowMs: number, from?: string): SignatureCheck[] {
    if (from !== undefined && this.forgeries.exhausted(from, nowMs)) return [];
    let wanted = false;
    const checks = collectSignatures(() => {
      const rec = decodeRecord(bytes, false);
      const have = known(rec.id);
      if (have && have.seq >= rec.seq && rec.id !== selfId) return;
      if (rec.id !== selfId && nowMs - rec.seq > RECORD_TTL_MS) return;
      if (this.revoked(rec.chain)) return;
      if (this.failedSigs.has(toHex(bytes.subarray(bytes.length - 16)))) return;
      wanted = true;
      verifyRecordSignature(rec);
    });
    return wanted ? checks : [];
  }

  private remember(sigKey: string, from: string | undefined, nowMs: number): void {
    if (!sigKey) return;
    if (from !== undefined) this.forgeries.check(from, nowMs);
    if (this.failedSigs.size >= FAILED_CACHE_SIZE) this.failedSigs.delete(this.failedSigs.values().next().value as string);
    this.failedSigs.add(sigKey);
  }
}
