// Verifying records from outside, cheapest check first: size and parse, then
// "known and not newer", then a cache of records that already failed, and only
// then the signatures (tens of milliseconds each under QuickJS on a router).
// Records older than RECORD_TTL_MS (by seq, their signing time) and chains
// with an expired certificate are refused too. Every refusal is counted, none is thrown.
import { DecodeError } from './codec.ts';
import { verifyChain, ChainError } from './cert.ts';
import { decodeRecord, verifyRecordSignature, OversizeError, SignatureError, type NodeRecord } from './record.ts';
import { toHex } from './bytes.ts';
import type { NetworkParams } from './network.ts';
import { RECORD_TTL_MS } from './store.ts';

/** Records that failed verification, remembered by their signature so a replay costs no second check. */
export const FAILED_CACHE_SIZE = 256;

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
}

export function zeroDrops(): DropCounters {
  return { malformed: 0, badSignature: 0, stale: 0, unknownSigner: 0, oversize: 0, expired: 0, invalidChain: 0, tooMany: 0, failed: 0, nonMember: 0, rateLimited: 0, duplicateKey: 0, knownBad: 0, departed: 0, overQuota: 0 };
}

export class RecordVerifier {
  readonly dropped: DropCounters = zeroDrops();
  private failedSigs = new Set<string>();

  constructor(private readonly network: NetworkParams) {}

  /**
   * The record if it verifies and is newer than `known` (our copy of that
   * node's record), else null with the reason counted. `self` records are
   * returned whatever their seq (the caller learns from them).
   */
  verify(bytes: Uint8Array, known: (id: string) => NodeRecord | undefined, selfId: string, nowMs: number): NodeRecord | null {
    let rec: NodeRecord;
    let sigKey = '';
    try {
      rec = decodeRecord(bytes, false);
      const have = known(rec.id);
      if (have && have.seq >= rec.seq && rec.id !== selfId) {
        if (have.seq > rec.seq) this.dropped.stale++;
        return null;
      }
      // seq is the signing time: a record its node stopped re-signing a week ago is a member that left.
      if (rec.id !== selfId && nowMs - rec.seq > RECORD_TTL_MS) { this.dropped.departed++; return null; }
      sigKey = toHex(bytes.subarray(bytes.length - 16));
      if (this.failedSigs.has(sigKey)) { this.dropped.knownBad++; return null; }
      verifyRecordSignature(rec);
    } catch (e) {
      if (e instanceof OversizeError) this.dropped.oversize++;
      else if (e instanceof SignatureError || (e instanceof DecodeError && /bad signature/.test(e.message))) { this.dropped.badSignature++; this.remember(sigKey); }
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
      if (kind !== 'expired') this.remember(sigKey);
      return null;
    }
    return rec;
  }

  private remember(sigKey: string): void {
    if (!sigKey) return;
    if (this.failedSigs.size >= FAILED_CACHE_SIZE) this.failedSigs.delete(this.failedSigs.values().next().value as string);
    this.failedSigs.add(sigKey);
  }
}
