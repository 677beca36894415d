// Admission as one change of the durable state: the invite lookup, the
// address allocation, marking the invite used and remembering the new member
// all happen inside a single StateStore.update, so concurrent joins see each
// other's effects (one code admits one node; two codes get two addresses) and
// nothing is replied before it is on disk.
import type { SignKeys } from '../core/crypto.ts';
import { toHex } from '../core/bytes.ts';
import { admit, type AdmitResult } from '../core/admit.ts';
import type { NodeCore } from '../core/node.ts';
import type { AdmittedMember, DurableState } from './state.ts';
import type { StateStore } from './store.ts';

/** Newly admitted members are remembered this long, or until their record is known. */
export const ADMITTED_KEEP_MS = 7 * 86400_000;
/** At most this many are remembered (the oldest go first). */
export const MAX_ADMITTED = 128;

export interface AdmissionContext {
  store: StateStore;
  core: NodeCore;
  signKeys: SignKeys;
  nowMs(): number;
  random(n: number): Uint8Array;
  /** Certificate lifetime for new members (0: no expiry). */
  certLifetimeMs: number;
}

/**
 * Decides on one join request against the latest state and persists the
 * outcome before resolving. A refusal changes nothing on disk.
 */
export async function admitJoin(c: AdmissionContext, frame: Uint8Array): Promise<AdmitResult> {
  const out: { result: AdmitResult | null } = { result: null };
  await c.store.update((cur) => {
    out.result = null;
    const m = cur.membership;
    if (!m) throw new Error('not a member of any network');
    const now = c.nowMs();
    const recs = c.core.allRecords();
    const held = m.admitted ?? [];
    const names = new Set(recs.map((r) => r.chain[0]!.name));
    for (const i of m.invites) if (i.usedBy !== null) names.add(i.usedBy);
    const signKeys = new Set(recs.map((r) => toHex(r.chain[0]!.signPub)));
    const wgKeys = new Set(recs.map((r) => toHex(r.chain[0]!.wgPub)));
    for (const a of held) { names.add(a.name); signKeys.add(a.signPub); wgKeys.add(a.wgPub); }
    const res = admit({
      network: c.core.network, chain: c.core.certChain, signKeys: c.signKeys, alloc: m.alloc, invites: m.invites,
      takenNames: names, memberKeys: signKeys, memberWgKeys: wgKeys, records: c.core.joinRecords(), quotaLeft: c.core.quotaLeft(),
      revokedKeys: (sign, wg) => c.core.revocations.keysRevoked(sign, wg), cutOff: c.core.revocations.covers(c.core.certChain),
      nowMs: now, nonce: c.random(24), certLifetimeMs: c.certLifetimeMs,
    }, frame);
    out.result = res;
    if (!res.admitted || !res.invites || !res.alloc) return null;
    const known = new Set(recs.map((r) => toHex(r.chain[0]!.signPub)));
    const fresh: AdmittedMember = { name: res.admitted.name, signPub: res.admitted.signPub, wgPub: res.admitted.wgPub, atMs: now };
    const admitted = [...held.filter((a) => now - a.atMs < ADMITTED_KEEP_MS && !known.has(a.signPub)), fresh].slice(-MAX_ADMITTED);
    const next: DurableState = { ...cur, membership: { ...m, invites: res.invites, alloc: res.alloc, admitted } };
    return next;
  });
  if (!out.result) throw new Error('admission produced no result');
  return out.result;
}
