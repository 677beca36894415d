// `kith revoke` in the daemon: the API method (plan, persist, then apply and
// gossip) and the durable copy of the revocations in state.json
// (membership.revocations), restored before any record at start and
// rewritten whenever gossip brings a new one or an old one expires.
import { ApiError } from '../api/protocol.ts';
import { planRevocation, RevocationRefused, type RevocationPlan } from '../core/revoke.ts';
import { fromBase64, toBase64 } from '../core/bytes.ts';
import type { NodeCore } from '../core/node.ts';
import type { Membership } from './state.ts';
import type { StateStore } from './store.ts';
import type { Mesh } from './mesh.ts';
import type { Logger } from './log.ts';

/** What `revoke` answers. */
export interface RevokeResult {
  revoked: string;
  id: string;
  /** Members admitted through the revoked one: they are cut off too and need a new invite from a valid admin. */
  cutOff: string[];
  dryRun: boolean;
}

/**
 * The API method `revoke` {node, dryRun}: refuses bad input with a one-line
 * error and no change; otherwise the revocation is on disk before the mesh
 * acts on it, so a crash in between loses nothing.
 */
export async function revoke(mesh: Mesh, store: StateStore, log: Logger, params: Record<string, unknown>, nowMs: number): Promise<RevokeResult> {
  const node = params['node'];
  if (typeof node !== 'string' || !node.trim()) throw new ApiError('usage', 'missing "node": the name, node id or overlay address of the member to revoke');
  const core = mesh.core;
  let plan: RevocationPlan;
  try {
    plan = planRevocation(core.allRecords(), core.certChain, mesh.signKeys, core.network.params, core.revocations, node, nowMs);
  } catch (e) {
    if (e instanceof RevocationRefused) throw new ApiError(/^no member /.test(e.message) ? 'not-found' : 'failed', e.message);
    throw e;
  }
  const result = { revoked: plan.name, id: plan.id, cutOff: plan.cutOff, dryRun: params['dryRun'] === true };
  if (result.dryRun) return result;
  const b64 = toBase64(plan.bytes);
  await store.update((cur) => {
    const m = cur.membership;
    if (!m) throw new ApiError('failed', 'not a member of any network');
    return { ...cur, membership: { ...m, revocations: [...(m.revocations ?? []), b64] } };
  });
  mesh.dispatch(core.applyRevocation(plan.bytes, nowMs));
  log.info(`revoked ${plan.name} (${plan.id})${plan.cutOff.length ? `; cut off with it: ${plan.cutOff.join(', ')}` : ''}`);
  return result;
}

/** At start, before any record: the revocations this node persisted. */
export function restoreRevocations(core: NodeCore, m: Membership): void {
  for (const b of m.revocations ?? []) core.revocations.restore(fromBase64(b));
}

/** The core's revocations changed (action 'revocations'): persist them if they differ from the disk's. */
export function saveRevocations(store: StateStore, core: NodeCore, log: Logger): void {
  const list = core.revocations.all().map((r) => toBase64(r.bytes));
  void store.update((cur) => {
    const m = cur.membership;
    if (!m || JSON.stringify(m.revocations ?? []) === JSON.stringify(list)) return null;
    return { ...cur, membership: { ...m, revocations: list } };
  }).catch((e: Error) => log.limited('revocations', 'error', `cannot save revocations: ${e.message}`));
  if (core.revocations.covers(core.certChain)) {
    log.limited('cut-off', 'error', 'this node\'s certificate chain was revoked: every member refuses its record; to take part again it needs a new identity (a fresh state directory) and a new invite');
  }
}
