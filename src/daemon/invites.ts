// Pending invites on the method table (methods.ts): the list `kith invites`
// and LuCI's Invite page show, and withdrawing one that is not used yet, so a
// code sent to the wrong person, or lost, admits nobody.
import { ApiError } from '../api/protocol.ts';
import type { Kithd } from './lifecycle.ts';

export interface InviteView { id: string; name: string | null; admin: boolean; expiresAtMs: number; usedBy: string | null }

export function inviteList(d: Kithd): InviteView[] {
  return (d.state?.membership?.invites ?? []).map((i) => ({ id: i.id.slice(0, 8), name: i.name, admin: i.admin, expiresAtMs: i.expiresAtMs, usedBy: i.usedBy }));
}

/** `kith invite rm <id>`: the id (or a prefix of it, at least 4 hex digits) as `kith invites` shows it. */
export async function removeInvite(d: Kithd, params: Record<string, unknown>): Promise<InviteView[]> {
  const id = typeof params['id'] === 'string' ? params['id'].toLowerCase() : '';
  if (!/^[0-9a-f]{4,64}$/.test(id)) throw new ApiError('usage', `invalid invite id "${id}": the ID that kith invites shows`);
  await d.store!.update((cur) => {
    const m = cur.membership;
    if (!m) throw new ApiError('failed', 'not a member of any network');
    const hits = m.invites.filter((i) => i.id.startsWith(id));
    if (!hits.length) throw new ApiError('not-found', `no invite ${id}`);
    if (hits.length > 1) throw new ApiError('usage', `invite id "${id}" matches ${hits.length} invites: give more of it`);
    const inv = hits[0]!;
    if (inv.usedBy !== null) throw new ApiError('failed', `invite ${id} was used by "${inv.usedBy}": revoke the member instead (kith revoke ${inv.usedBy})`);
    return { ...cur, membership: { ...m, invites: m.invites.filter((i) => i !== inv) } };
  });
  d.log.info(`invite ${id.slice(0, 8)} withdrawn`);
  return inviteList(d);
}
