// Admission: the admitting member's side of the join handshake as a pure
// function of its state. An invite is single use: it is marked used in the
// returned state, which the caller persists before sending the reply, so a
// leaked code admits at most one node even across restarts. The reply carries
// what the newcomer needs to start (its chain, the network, and the best of the
// admitter's records within JOIN_RECORDS_BUDGET); gossip brings the rest, so a
// join works whatever the size of the mesh.
import { bytesEqual, toHex, fromBase64, toBase64 } from './bytes.ts';
import { DecodeError } from './codec.ts';
import type { SignKeys } from './crypto.ts';
import { issueCert, MAX_CHAIN, type Cert } from './cert.ts';
import { allocateBlock, allocateSingle, PoolExhaustedError, type AllocState } from './alloc.ts';
import { buildJoinRefusal, buildJoinReply, openJoinRequest, parseJoinRequestOuter } from './join.ts';
import { inviteKeys } from './invite.ts';
import { isDnsLabel, networkId, type SignedNetwork } from './network.ts';
import { formatIPv4 } from './ip.ts';
import type { NodeRecord } from './record.ts';
import { chainExpiry } from './store.ts';
import { expiryFor } from './renew.ts';

/** Bytes of records a join reply carries at most: well under MAX_JOIN_FRAME at any mesh size. */
export const JOIN_RECORDS_BUDGET = 32 * 1024;

/** An invite as the admitter stores it (the secret never leaves this node except in the code). */
export interface StoredInvite {
  /** Hex invite id. */
  id: string;
  /** Base64 invite secret (from the code), kept to open the request. */
  secret: string;
  name: string | null;
  admin: boolean;
  createdAtMs: number;
  expiresAtMs: number;
  usedBy: string | null;
  usedAtMs: number | null;
}

export interface AdmitContext {
  network: SignedNetwork;
  chain: Cert[];
  signKeys: SignKeys;
  alloc: AllocState;
  invites: StoredInvite[];
  /** Names already taken in the mesh (lower case). */
  takenNames: Set<string>;
  /** Signing keys (hex) already members. */
  memberKeys: Set<string>;
  /** WireGuard keys (hex) already members': a second member with one of them would knock the first offline. */
  memberWgKeys?: Set<string>;
  /** Records to hand the newcomer, best first (see joinRecords); those past JOIN_RECORDS_BUDGET are left out. */
  records: Uint8Array[];
  /** Whether a joiner's keys (hex signing, hex WireGuard) were revoked (revocations.ts): it needs a new identity. */
  revokedKeys?: (signHex: string, wgHex: string) => boolean;
  /** This admitter's own chain was revoked: it may not admit. */
  cutOff?: boolean;
  /** Members this admitter may still add to its quota (ISSUER_QUOTA); absent = unlimited. */
  quotaLeft?: number;
  nowMs: number;
  /** 24 random bytes for the reply nonce. */
  nonce: Uint8Array;
  certLifetimeMs: number;
}

export interface AdmitResult {
  reply: Uint8Array;
  /** New invites and allocator state to persist before replying; null when unchanged. */
  invites: StoredInvite[] | null;
  alloc: AllocState | null;
  /** The new member (keys in hex), so the caller can hold its name and keys until its record is gossiped. */
  admitted: { name: string; ipv4: string; admin: boolean; signPub: string; wgPub: string } | null;
  /** Why the request was refused (for the log), or null. */
  refused: string | null;
}

function refuse(reason: string, sealed?: { ephemeralPub: Uint8Array; inviteSecret: Uint8Array; nonce: Uint8Array }): AdmitResult {
  const reply = sealed ? buildJoinReply({ ok: false, reason }, sealed.ephemeralPub, sealed.inviteSecret, sealed.nonce) : buildJoinRefusal(reason);
  return { reply, invites: null, alloc: null, admitted: null, refused: reason };
}

export function admit(ctx: AdmitContext, frame: Uint8Array): AdmitResult {
  let outer;
  try {
    outer = parseJoinRequestOuter(frame);
  } catch (e) {
    return refuse(`malformed join request: ${(e as Error).message}`);
  }
  if (!bytesEqual(outer.networkId, networkId(ctx.network.params.networkPub))) {
    return refuse(`invite is for another network (this is "${ctx.network.params.name}")`);
  }
  const idHex = toHex(outer.inviteId);
  const inv = ctx.invites.find((i) => i.id === idHex);
  if (!inv) return refuse('unknown invite (revoked, or not issued by this member)');
  const keys = inviteKeys(fromBase64(inv.secret));
  const sealed = { ephemeralPub: outer.ephemeralPub, inviteSecret: keys.secretKey, nonce: ctx.nonce };
  let req;
  try {
    req = openJoinRequest(outer, keys.secretKey);
  } catch (e) {
    return refuse(e instanceof DecodeError ? e.message : 'join request does not open');
  }
  if (inv.usedBy !== null) return refuse(`invite already used (by "${inv.usedBy}")`, sealed);
  if (ctx.nowMs > inv.expiresAtMs) return refuse("invite expired", sealed);
  if (ctx.revokedKeys?.(toHex(req.signPub), toHex(req.wgPub))) return refuse('this node\'s keys were revoked: it can join again only with a new identity (a fresh state directory)', sealed);
  if (ctx.cutOff) return refuse('this member\'s certificate chain was revoked: it may not admit', sealed);
  if (ctx.memberKeys.has(toHex(req.signPub))) return refuse('this node is already a member', sealed);
  if (ctx.memberWgKeys?.has(toHex(req.wgPub))) return refuse('this WireGuard key belongs to another member', sealed);
  const name = (inv.name ?? req.name).toLowerCase();
  if (!isDnsLabel(name)) return refuse(`invalid node name "${name}" (letters, digits and hyphens, at most 63)`, sealed);
  if (ctx.takenNames.has(name)) return refuse(`node name "${name}" is taken; join with --node-name`, sealed);
  const issuer = ctx.chain[0]!;
  if (!issuer.pool) return refuse('this member may not admit (no address pool)', sealed);
  if (ctx.nowMs > chainExpiry(ctx.chain)) return refuse('this member\'s certificate has expired; it renews from its issuer', sealed);
  if (ctx.quotaLeft !== undefined && ctx.quotaLeft <= 0) return refuse('this member has admitted as many live members as it may', sealed);
  if (ctx.chain.length >= MAX_CHAIN) return refuse(`this member is ${ctx.chain.length} admissions from the founder and may not admit further`, sealed);
  let alloc = ctx.alloc;
  let ipv4: number;
  let pool = null;
  try {
    const single = allocateSingle(issuer.pool, alloc);
    ipv4 = single.ipv4;
    alloc = single.state;
    // An admin at the last level of the chain could not admit anyone, so it gets no pool.
    if (inv.admin && ctx.chain.length + 1 < MAX_CHAIN) {
      const block = allocateBlock(issuer.pool, alloc, ctx.network.params.ipv4Pool);
      if (block) { pool = block.pool; alloc = block.state; }
    }
  } catch (e) {
    if (e instanceof PoolExhaustedError) return refuse(`address pool exhausted: ${e.message}`, sealed);
    throw e;
  }
  const cert = issueCert({
    networkId: networkId(ctx.network.params.networkPub), name, signPub: req.signPub, wgPub: req.wgPub, ipv4,
    admin: inv.admin, pool, issuedAtMs: ctx.nowMs, expiresAtMs: expiryFor(ctx.chain, ctx.nowMs, ctx.certLifetimeMs),
    issuerPub: ctx.signKeys.publicKey,
  }, ctx.signKeys);
  const invites = ctx.invites.map((i) => (i.id === inv.id ? { ...i, usedBy: name, usedAtMs: ctx.nowMs } : i));
  const reply = buildJoinReply({ ok: true, network: ctx.network.bytes, chain: [cert, ...ctx.chain], records: withinBudget(ctx.records, JOIN_RECORDS_BUDGET) },
    outer.ephemeralPub, keys.secretKey, ctx.nonce);
  return { reply, invites, alloc, admitted: { name, ipv4: formatIPv4(ipv4), admin: inv.admin, signPub: toHex(req.signPub), wgPub: toHex(req.wgPub) }, refused: null };
}

/** The records, in order, that fit in `budgetBytes` together (one that does not fit is skipped). */
export function withinBudget(records: Uint8Array[], budgetBytes: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let used = 0;
  for (const r of records) {
    if (used + r.length + 2 > budgetBytes) continue;
    used += r.length + 2;
    out.push(r);
  }
  return out;
}

/**
 * The records a newcomer starts from, best first, within `budgetBytes`: the
 * admitter's own (its first peer), then members it can dial without a punch
 * (configured, then public endpoints), the best connected first.
 */
export function joinRecords(records: Iterable<NodeRecord>, selfId: string, budgetBytes = JOIN_RECORDS_BUDGET): Uint8Array[] {
  const reach = (r: NodeRecord) => (r.id === selfId ? 3 : r.endpoints.some((e) => e.kind === 'configured') ? 2 : r.endpoints.some((e) => e.kind === 'public') ? 1 : 0);
  const ranked = [...records].sort((a, b) => reach(b) - reach(a) || b.links.length - a.links.length || (a.id < b.id ? -1 : 1));
  return withinBudget(ranked.map((r) => r.bytes), budgetBytes);
}

/** Creates a stored invite from a fresh secret. */
export function newInvite(secret: Uint8Array, o: { name: string | null; admin: boolean; nowMs: number; ttlMs: number }): StoredInvite {
  return {
    id: toHex(inviteKeys(secret).id), secret: toBase64(secret), name: o.name, admin: o.admin,
    createdAtMs: o.nowMs, expiresAtMs: o.nowMs + o.ttlMs, usedBy: null, usedAtMs: null,
  };
}

/** Drops invites that expired or were used more than a week ago. */
export function pruneInvites(invites: StoredInvite[], nowMs: number): StoredInvite[] {
  const WEEK = 7 * 86400_000;
  return invites.filter((i) => nowMs - Math.max(i.expiresAtMs, i.usedAtMs ?? 0) < WEEK);
}
