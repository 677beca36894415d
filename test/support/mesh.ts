// In-memory membership for tests, using only src/core: seeded identities,
// founding a network, admitting members with the real join handshake (invite
// code → request → admit → reply), and issuing certificates directly when a
// test needs many members quickly. No runtime: also bundled for QuickJS.
import { signKeysFromSeed, x25519PrivateFromRandom, x25519Public, type SignKeys } from '../../src/core/crypto.ts';
import { foundNetwork, type FoundOptions } from '../../src/core/found.ts';
import { admit, newInvite, type AdmitResult, type StoredInvite } from '../../src/core/admit.ts';
import { decodeInvite, encodeInvite, inviteKeys } from '../../src/core/invite.ts';
import { buildJoinRequest, openJoinReply, type JoinReply } from '../../src/core/join.ts';
import { decodeNetwork, networkId, type SignedNetwork } from '../../src/core/network.ts';
import { issueCert, type Cert } from '../../src/core/cert.ts';
import { allocateSingle, initialAllocState, type AllocState } from '../../src/core/alloc.ts';
import { nodeIdOf } from '../../src/core/record.ts';
import { bytesEqual, toHex } from '../../src/core/bytes.ts';

export type Rand = (n: number) => Uint8Array;

export interface Identity { sign: SignKeys; wgPriv: Uint8Array; wgPub: Uint8Array }

export function makeIdentity(rnd: Rand): Identity {
  const sign = signKeysFromSeed(rnd(32));
  const wgPriv = x25519PrivateFromRandom(rnd(32));
  return { sign, wgPriv, wgPub: x25519Public(wgPriv) };
}

/** A member as its own node sees itself: keys, chain, and (if it may admit) allocator and invites. */
export interface Member {
  name: string;
  id: string;
  identity: Identity;
  chain: Cert[];
  alloc: AllocState;
  invites: StoredInvite[];
}

export interface Mesh {
  network: SignedNetwork;
  networkKeys: SignKeys;
  founder: Member;
  /** Every member so far, founder first. */
  members: Member[];
}

export function foundMesh(rnd: Rand, o: { name?: string; nodeName?: string; nowMs: number } & Partial<Pick<FoundOptions, 'policy' | 'ipv4Pool'>>): Mesh {
  const identity = makeIdentity(rnd);
  const f = foundNetwork({
    name: o.name ?? 'test', nodeName: o.nodeName ?? 'hub', nodeSignPub: identity.sign.publicKey, nodeWgPub: identity.wgPub,
    networkSeed: rnd(32), nowMs: o.nowMs, ...(o.policy ? { policy: o.policy } : {}), ...(o.ipv4Pool ? { ipv4Pool: o.ipv4Pool } : {}),
  });
  const founder: Member = { name: f.chain[0]!.name, id: nodeIdOf(identity.sign.publicKey), identity, chain: f.chain, alloc: f.alloc, invites: [] };
  return { network: f.network, networkKeys: f.networkKeys, founder, members: [founder] };
}

export interface JoinOutcome {
  /** The new member, or null when refused. */
  member: Member | null;
  result: AdmitResult;
  reply: JoinReply;
}

/**
 * Runs the whole join handshake in memory: `admitter` issues an invite, the
 * newcomer redeems the code, `admitter` persists the returned state. The new
 * member is appended to mesh.members.
 */
export function joinInMemory(rnd: Rand, mesh: Mesh, admitter: Member, o: {
  name: string; admin?: boolean; nowMs: number; records?: Uint8Array[]; certLifetimeMs?: number; identity?: Identity; quotaLeft?: number;
  revokedKeys?: (signHex: string, wgHex: string) => boolean;
}): JoinOutcome {
  const secret = rnd(16);
  admitter.invites = [...admitter.invites, newInvite(secret, { name: null, admin: o.admin ?? false, nowMs: o.nowMs, ttlMs: 3600_000 })];
  const code = encodeInvite({ networkId: networkId(mesh.network.params.networkPub), secret, endpoints: [{ host: '192.0.2.1', port: 51820 }] });
  const who = o.identity ?? makeIdentity(rnd);
  const c = decodeInvite(code);
  const k = inviteKeys(c.secret);
  const eph = rnd(32);
  const frame = buildJoinRequest({ networkId: c.networkId, inviteId: k.id, invitePub: k.publicKey, ephemeralSecret: eph, nonce: rnd(24) },
    { name: o.name, signPub: who.sign.publicKey, wgPub: who.wgPub }, who.sign);
  const result = admit({
    network: mesh.network, chain: admitter.chain, signKeys: admitter.identity.sign, alloc: admitter.alloc, invites: admitter.invites,
    takenNames: new Set(mesh.members.map((m) => m.name)), memberKeys: new Set(mesh.members.map((m) => toHex(m.identity.sign.publicKey))),
    memberWgKeys: new Set(mesh.members.map((m) => toHex(m.identity.wgPub))),
    records: o.records ?? [], nowMs: o.nowMs, nonce: rnd(24), certLifetimeMs: o.certLifetimeMs ?? 0,
    ...(o.quotaLeft !== undefined ? { quotaLeft: o.quotaLeft } : {}), ...(o.revokedKeys ? { revokedKeys: o.revokedKeys } : {}),
  }, frame);
  if (result.invites) admitter.invites = result.invites;
  if (result.alloc) admitter.alloc = result.alloc;
  const reply = openJoinReply(result.reply, k.publicKey, eph);
  if (!reply.ok) return { member: null, result, reply };
  if (!bytesEqual(decodeNetwork(reply.network).bytes, mesh.network.bytes)) throw new Error('joinInMemory: the reply carries other network parameters');
  const member: Member = { name: reply.chain[0]!.name, id: nodeIdOf(who.sign.publicKey), identity: who, chain: reply.chain, alloc: initialAllocState(1), invites: [] };
  mesh.members.push(member);
  return { member, result, reply };
}

/**
 * Issues a member certificate straight from the founder (no handshake), for
 * tests that need many members fast. Addresses come from the founder's allocator.
 */
export function issueMember(rnd: Rand, mesh: Mesh, name: string, nowMs: number): Member {
  const identity = makeIdentity(rnd);
  const f = mesh.founder;
  const { ipv4, state } = allocateSingle(f.chain[0]!.pool!, f.alloc);
  f.alloc = state;
  const cert = issueCert({
    networkId: networkId(mesh.network.params.networkPub), name, signPub: identity.sign.publicKey, wgPub: identity.wgPub, ipv4,
    admin: false, pool: null, issuedAtMs: nowMs, expiresAtMs: 0, issuerPub: f.identity.sign.publicKey,
  }, f.identity.sign);
  const member: Member = { name, id: nodeIdOf(identity.sign.publicKey), identity, chain: [cert, ...f.chain], alloc: initialAllocState(1), invites: [] };
  mesh.members.push(member);
  return member;
}
