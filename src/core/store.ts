// The record store: the latest verified record of every member, indexed by
// overlay address and WireGuard key, and the rules for what a verified record
// may take in it. Sans I/O; every refusal is counted, none is thrown.
//  - newer seq replaces older; one overlay address, one WireGuard key per member
//    (the certificate issued first keeps the key, ties to the smaller id);
//  - quotas: every record is charged to each admitting member in its chain
//    below the founder (the founder's own admissions are bounded only by
//    MAX_RECORDS). No such admitter's subtree holds more than ISSUER_QUOTA
//    records; past it the earliest-issued certificates keep their place, so
//    every node keeps the same ones whatever the order of arrival;
//  - expiry: a record leaves when its certificate chain expires, or when its
//    node has not re-signed it for RECORD_TTL_MS. A record's seq is its
//    signing time in ms on its node's clock (NodeCore signs with
//    seq = max(previous + 1, now) and re-signs at least every
//    RESIGN_INTERVAL_MS), so a member that left the mesh is forgotten
//    everywhere a week after its last record, and gossip cannot bring it back.
import { toBase64, toHex } from './bytes.ts';
import type { Cert } from './cert.ts';
import { formatIPv4 } from './ip.ts';
import type { NodeRecord } from './record.ts';
import type { DropCounters } from './verify.ts';

const DAY_MS = 86_400_000;
export const MAX_RECORDS = 1024;
/** Live records one admitting member's subtree (below the founder) may hold in every node's store. */
export const ISSUER_QUOTA = 256;
/** A record its node has not re-signed for this long belongs to a member that left. */
export const RECORD_TTL_MS = 7 * DAY_MS;
/** Nodes re-sign their record at least this often, so the living never reach RECORD_TTL_MS. */
export const RESIGN_INTERVAL_MS = DAY_MS;

/** When the chain stops verifying: the earliest expiry in it (Infinity when none expires). */
export function chainExpiry(chain: readonly Cert[]): number {
  let exp = Infinity;
  for (const c of chain) if (c.expiresAtMs !== 0 && c.expiresAtMs < exp) exp = c.expiresAtMs;
  return exp;
}

/** The admitting members a record is charged to: its chain between the leaf and the founder. */
export function quotaIssuers(rec: NodeRecord): string[] {
  return rec.chain.slice(1, -1).map((c) => toHex(c.signPub));
}

/** Earlier-issued first, ties by id: who keeps its place in a full quota. */
function issuedBefore(a: NodeRecord, b: NodeRecord): boolean {
  const x = a.chain[0]!.issuedAtMs;
  const y = b.chain[0]!.issuedAtMs;
  return x < y || (x === y && a.id < b.id);
}

export class RecordStore {
  private records = new Map<string, NodeRecord>();
  private byIPv4 = new Map<string, string>();
  private byWgPub = new Map<string, string>();
  /** Ids of the live records charged to each admitting member (hex signing key). */
  private charged = new Map<string, Set<string>>();
  /** No record expires before this (recomputed by sweep). */
  private nextExpiryMs = Infinity;

  constructor(private readonly selfId: string, private readonly dropped: DropCounters, readonly maxRecords = MAX_RECORDS, readonly issuerQuota = ISSUER_QUOTA) {}

  get size(): number { return this.records.size; }
  get(id: string): NodeRecord | undefined { return this.records.get(id); }
  values(): IterableIterator<NodeRecord> { return this.records.values(); }
  /** The map itself, read-only (the netmap reads it). */
  get all(): ReadonlyMap<string, NodeRecord> { return this.records; }
  idByIPv4(ip: string): string | undefined { return this.byIPv4.get(ip); }
  idByWgPub(pub: string): string | undefined { return this.byWgPub.get(pub); }
  /** Live records charged to this admitting member (hex signing key). */
  chargedTo(issuerHex: string): number { return this.charged.get(issuerHex)?.size ?? 0; }
  /** Records an admitting member may still add to its subtree. */
  quotaLeft(issuerHex: string): number { return Math.max(0, this.issuerQuota - this.chargedTo(issuerHex)); }

  remove(id: string): void {
    const old = this.records.get(id);
    if (!old) return;
    this.byIPv4.delete(formatIPv4(old.chain[0]!.ipv4));
    this.byWgPub.delete(toBase64(old.chain[0]!.wgPub));
    for (const k of quotaIssuers(old)) {
      const s = this.charged.get(k);
      s?.delete(id);
      if (s?.size === 0) this.charged.delete(k);
    }
    this.records.delete(id);
  }

  /** Removes every record (but our own) for which `pred` holds; returns how many. */
  removeWhere(pred: (r: NodeRecord) => boolean): number {
    const gone = [...this.records.values()].filter((r) => r.id !== this.selfId && pred(r));
    for (const r of gone) this.remove(r.id);
    return gone.length;
  }

  /** Stores a record unconditionally (our own). */
  put(rec: NodeRecord): void {
    this.remove(rec.id);
    this.records.set(rec.id, rec);
    this.byIPv4.set(formatIPv4(rec.chain[0]!.ipv4), rec.id);
    this.byWgPub.set(toBase64(rec.chain[0]!.wgPub), rec.id);
    for (const k of quotaIssuers(rec)) {
      let s = this.charged.get(k);
      if (!s) this.charged.set(k, (s = new Set()));
      s.add(rec.id);
    }
    if (rec.id !== this.selfId) this.nextExpiryMs = Math.min(this.nextExpiryMs, expiryOf(rec));
  }

  /**
   * Takes a verified record from another member if the rules allow it; returns
   * true when stored. Every check comes before any change, so a refused record
   * leaves the store as it was.
   */
  offer(rec: NodeRecord): boolean {
    const old = this.records.get(rec.id);
    if (old && old.seq >= rec.seq) { if (old.seq > rec.seq) this.dropped.stale++; return false; }
    if (!old && this.records.size >= this.maxRecords) { this.dropped.tooMany++; return false; }
    const clash = this.byIPv4.get(formatIPv4(rec.chain[0]!.ipv4));
    if (clash && clash !== rec.id) { this.dropped.invalidChain++; return false; }
    // One WireGuard key, one member: the certificate issued first keeps it (ties: smaller id).
    const twin = this.records.get(this.byWgPub.get(toBase64(rec.chain[0]!.wgPub)) ?? '');
    const twinLoses = !!twin && twin.id !== rec.id;
    if (twinLoses && (twin.id === this.selfId || issuedBefore(twin, rec))) { this.dropped.duplicateKey++; return false; }
    const evict = this.quotaEvictions(rec);
    if (!evict) { this.dropped.overQuota++; return false; }
    if (twinLoses) { this.remove(twin.id); this.dropped.duplicateKey++; }
    for (const id of evict) { this.remove(id); this.dropped.overQuota++; }
    this.put(rec);
    return true;
  }

  /**
   * The records that must leave for `rec` to fit its admitters' quotas, or
   * null when `rec` is the one that does not fit (it was issued after every
   * record in a full quota, or only our own record could give way).
   */
  private quotaEvictions(rec: NodeRecord): string[] | null {
    const out = new Set<string>();
    for (const k of quotaIssuers(rec)) {
      const ids = this.charged.get(k);
      if (!ids) continue;
      let n = 0;
      let latest: NodeRecord | null = null;
      for (const id of ids) {
        if (id === rec.id || out.has(id)) continue;
        n++;
        const r = this.records.get(id)!;
        if (!latest || issuedBefore(latest, r)) latest = r;
      }
      if (n < this.issuerQuota || !latest) continue;
      if (latest.id === this.selfId || issuedBefore(latest, rec)) return null;
      out.add(latest.id);
    }
    return [...out];
  }

  /** Drops records whose chain expired or whose node stopped re-signing; returns their ids. */
  sweep(nowMs: number): string[] {
    if (nowMs <= this.nextExpiryMs) return [];
    const gone: string[] = [];
    let next = Infinity;
    for (const r of this.records.values()) {
      if (r.id === this.selfId) continue;
      const exp = expiryOf(r);
      if (nowMs > exp) {
        gone.push(r.id);
        if (nowMs > chainExpiry(r.chain)) this.dropped.expired++;
        else this.dropped.departed++;
      } else if (exp < next) next = exp;
    }
    for (const id of gone) this.remove(id);
    this.nextExpiryMs = next;
    return gone;
  }
}

/** The last moment a record is kept: its chain's expiry or its signing time plus the TTL. */
function expiryOf(r: NodeRecord): number {
  return Math.min(chainExpiry(r.chain), r.seq + RECORD_TTL_MS);
}
