// Revocations: a signed statement that a member's certificate no longer
// counts. Who may revoke whom, the wire format, issuing one and checking one
// from outside (cheap checks in checkRevocation's caller, the signatures here).
//
// Rights (revocationRefusal): the founder and admins may revoke any member, a
// member may revoke a member it admitted (its certificate's issuer); nobody
// may revoke the founder, itself, or a certificate in its own chain (which
// would cut itself off). A revocation names the revoked node by its whole
// leaf certificate (signed by that node's issuer), so every member learns its
// signing key, WireGuard key, name and expiry from it without its record.
//
// Effect (revocations.ts, verify.ts): every chain that contains the revoked
// signing key stops verifying — the revoked node and everyone it admitted,
// directly or through further admins — and the revoked WireGuard key is
// refused in any certificate. Certificate issue times are self-declared, so
// "admitted before the revocation" cannot be told from a sock puppet minted
// afterwards with a backdated time: the members it admitted must be
// re-admitted by a valid admin (a new invite, a new certificate).
//
// Wire layout (version 1), signed by the revoker's leaf key:
//   u8 version | 12 networkId | u8 n × vbytes cert (the revoker's chain, leaf first)
//   | vbytes revoked leaf certificate | u64 atMs | 64 signature
import { Reader, Writer, DecodeError } from './codec.ts';
import { bytesEqual, toHex } from './bytes.ts';
import { signDetached, verifyDetached, type SignKeys } from './crypto.ts';
import { decodeCert, peekCert, verifyChain, ChainError, MAX_CHAIN, type Cert } from './cert.ts';
import { NETWORK_ID_BYTES, type NetworkParams } from './network.ts';
import { nodeIdOf, type NodeRecord } from './record.ts';
import { formatIPv4 } from './ip.ts';

export const REVOCATION_VERSION = 1;
/** A chain of MAX_CHAIN long-named certificates, the revoked certificate and the signature fit. */
export const MAX_REVOCATION_BYTES = 1500;

export interface Revocation {
  /** The revoker's chain, leaf first. */
  chain: Cert[];
  /** The revoked node's leaf certificate. */
  target: Cert;
  /** When the revoker signed it (its clock; informational). */
  atMs: number;
  /** Node ids (hex of the first 8 bytes of the signing keys). */
  revokerId: string;
  targetId: string;
  bytes: Uint8Array;
}

/** A revocation's parts as read without checking any signature (for the cheap checks). */
export type UncheckedRevocation = Revocation & { signedLen: number };

/** Reads a revocation without checking signatures. Throws DecodeError. */
export function parseRevocation(bytes: Uint8Array): UncheckedRevocation {
  if (bytes.length > MAX_REVOCATION_BYTES) throw new DecodeError(`revocation of ${bytes.length} bytes exceeds ${MAX_REVOCATION_BYTES}`);
  const r = new Reader(bytes, 'revocation');
  const v = r.u8('version');
  if (v !== REVOCATION_VERSION) throw new DecodeError(`revocation: unsupported version ${v}`);
  const netId = r.bytes(NETWORK_ID_BYTES, 'network id');
  const n = r.u8('chain length');
  if (n === 0 || n > MAX_CHAIN) throw new DecodeError(`revocation: chain of length ${n}`);
  const chain: Cert[] = [];
  for (let i = 0; i < n; i++) chain.push(peekCert(r.vbytes('certificate')));
  const target = peekCert(r.vbytes('revoked certificate'));
  const atMs = r.u64('time');
  const signedLen = r.offset;
  r.bytes(64, 'signature');
  r.end();
  if (!chain.every((c) => bytesEqual(c.networkId, netId)) || !bytesEqual(target.networkId, netId)) {
    throw new DecodeError('revocation: certificates of another network');
  }
  return { chain, target, atMs, revokerId: nodeIdOf(chain[0]!.signPub), targetId: nodeIdOf(target.signPub), bytes, signedLen };
}

/**
 * Why `chain` (the revoker's) may not revoke `target`, or null when it may.
 * The same rule for local commands and for revocations from outside.
 */
export function revocationRefusal(chain: readonly Cert[], target: Cert, net: NetworkParams): string | null {
  const leaf = chain[0]!;
  const founder = chain.length === 1 && bytesEqual(leaf.issuerPub, net.networkPub);
  if (bytesEqual(target.signPub, leaf.signPub)) return 'a node cannot revoke itself';
  if (bytesEqual(target.issuerPub, net.networkPub)) return `"${target.name}" is the founder, whose certificate the network key signed: it cannot be revoked`;
  if (chain.some((c) => bytesEqual(c.signPub, target.signPub))) return `"${target.name}" admitted this node (directly or through others): revoking it would cut this node off too`;
  if (founder || leaf.admin || bytesEqual(target.issuerPub, leaf.signPub)) return null;
  return `only the founder, an admin, or the member that admitted "${target.name}" may revoke it; "${leaf.name}" is none of them`;
}

/** Signs a revocation of `target` by the holder of `keys` (whose chain is `chain`). */
export function issueRevocation(chain: Cert[], target: Cert, keys: SignKeys, nowMs: number): Revocation {
  if (!bytesEqual(chain[0]!.signPub, keys.publicKey)) throw new Error('issueRevocation: the chain is not the signer\'s');
  const w = new Writer().u8(REVOCATION_VERSION).bytes(chain[0]!.networkId).u8(chain.length);
  for (const c of chain) w.vbytes(c.bytes);
  w.vbytes(target.bytes).u64(nowMs);
  const body = w.finish();
  const bytes = new Writer().bytes(body).bytes(signDetached(body, keys.secretKey)).finish();
  return { chain, target, atMs: nowMs, revokerId: nodeIdOf(chain[0]!.signPub), targetId: nodeIdOf(target.signPub), bytes };
}

/** What checking a revocation's signatures found, for the drop counters. */
export type RevocationFault = 'badSignature' | 'invalidChain' | 'unknownSigner' | 'expired';

/**
 * The signatures of a revocation that passed the cheap checks: every
 * certificate, the revoker's chain against the network at `atMs`, the revoked
 * certificate's own signature and the revocation's. The verified revocation,
 * or the fault to count.
 */
export function verifyRevocation(u: UncheckedRevocation, net: NetworkParams, atMs: number): Revocation | RevocationFault {
  let chain: Cert[];
  let target: Cert;
  try {
    chain = u.chain.map((c) => decodeCert(c.bytes));
    target = decodeCert(u.target.bytes);
  } catch {
    return 'badSignature';
  }
  const n = u.bytes.length;
  if (!verifyDetached(u.bytes.subarray(0, u.signedLen), u.bytes.subarray(n - 64), chain[0]!.signPub)) return 'badSignature';
  try {
    verifyChain(chain, net, atMs);
  } catch (e) {
    const kind = e instanceof ChainError ? e.kind : 'invalid';
    return kind === 'unknown-signer' ? 'unknownSigner' : kind === 'expired' ? 'expired' : 'invalidChain';
  }
  return { chain, target, atMs: u.atMs, revokerId: u.revokerId, targetId: u.targetId, bytes: u.bytes };
}

/** Hex signing keys of a chain, leaf first. */
export function chainKeys(chain: readonly Cert[]): string[] { return chain.map((c) => toHex(c.signPub)); }

/** A local `kith revoke` refused: one line, nothing changed. */
export class RevocationRefused extends Error {
  override name = 'RevocationRefused';
}

/** What revoking a member does, before it is done: the signed revocation and who it cuts off. */
export interface RevocationPlan {
  bytes: Uint8Array;
  name: string;
  id: string;
  /** Members admitted through the revoked one (directly or through further admins): their chains stop verifying too. */
  cutOff: string[];
}

/** What planRevocation needs of the revocations already held. */
export interface HeldRevocations { covers(chain: readonly Cert[]): boolean; all(): Revocation[] }

/**
 * The local command: revoke the member named `who` (name, node id or overlay
 * IPv4) with this node's chain and key. Throws RevocationRefused for an
 * unknown or already revoked node, ourselves, or a node we may not revoke.
 */
export function planRevocation(records: Iterable<NodeRecord>, chain: Cert[], keys: SignKeys, net: NetworkParams, held: HeldRevocations, who: string, nowMs: number): RevocationPlan {
  const key = who.trim().toLowerCase();
  const all = [...records];
  const rec = all.find((r) => r.chain[0]!.name === key || r.id === key || formatIPv4(r.chain[0]!.ipv4) === key);
  if (!rec) {
    const done = held.all().find((r) => r.target.name === key || r.targetId === key || formatIPv4(r.target.ipv4) === key);
    throw new RevocationRefused(done ? `"${done.target.name}" is already revoked` : `no member "${who}" (kith peers lists them)`);
  }
  if (held.covers(chain)) throw new RevocationRefused('this node\'s own certificate chain was revoked: it may not revoke anyone');
  const target = rec.chain[0]!;
  const why = revocationRefusal(chain, target, net);
  if (why) throw new RevocationRefused(why);
  const cutOff = all.filter((r) => r.id !== rec.id && r.chain.some((c) => bytesEqual(c.signPub, target.signPub))).map((r) => r.chain[0]!.name).sort();
  return { bytes: issueRevocation(chain, target, keys, nowMs).bytes, name: target.name, id: rec.id, cutOff };
}
