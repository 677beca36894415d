// Membership certificates: who a node is (name, keys, overlay address), what
// it may do (admin, address pool to admit from), who admitted it, until when.
// Certificates form a chain to the network key and verify offline.
//
// Wire layout (version 1), signed by the issuer:
//   u8 version | 12 networkId | str8 name | 32 signPub | 32 wgPub | 4 ipv4
//   | u8 roles (bit0 admin) | 4 poolBase | u8 poolLen (0 = no pool)
//   | u64 issuedAtMs | u64 expiresAtMs (0 = never) | 32 issuerPub | 64 signature
import { Reader, Writer, DecodeError } from './codec.ts';
import { bytesEqual, toBase64 } from './bytes.ts';
import { collecting, signDetached, verifyDetached, type SignKeys } from './crypto.ts';
import { isDnsLabel, networkId, type NetworkParams, NETWORK_ID_BYTES } from './network.ts';
import { type Prefix4, prefix4Contains, prefix4Equal, maskIPv4, formatIPv4 } from './ip.ts';
import { MAPPED_REGION_BLOCK } from './mapped.ts';

export const CERT_VERSION = 1;
export const MAX_CHAIN = 4;
/** A pool is split into 16 blocks: block 0 holds single addresses, 1..15 are delegated to admins. */
export const POOL_SPLIT_BITS = 4;
export const MIN_POOL_LEN_FOR_DELEGATION = 28;

export interface Cert {
  networkId: Uint8Array;
  name: string;
  signPub: Uint8Array;
  wgPub: Uint8Array;
  ipv4: number;
  admin: boolean;
  pool: Prefix4 | null;
  issuedAtMs: number;
  expiresAtMs: number;
  issuerPub: Uint8Array;
  /** Exact signed bytes. */
  bytes: Uint8Array;
}

export type CertFields = Omit<Cert, 'bytes'>;

export function issueCert(f: CertFields, issuerKeys: SignKeys): Cert {
  if (!bytesEqual(f.issuerPub, issuerKeys.publicKey)) throw new Error('issueCert: issuerPub does not match the signing key');
  const body = new Writer().u8(CERT_VERSION).bytes(f.networkId).str8(f.name).bytes(f.signPub).bytes(f.wgPub)
    .u32(f.ipv4).u8(f.admin ? 1 : 0).u32(f.pool?.base ?? 0).u8(f.pool?.len ?? 0)
    .u64(f.issuedAtMs).u64(f.expiresAtMs).bytes(f.issuerPub).finish();
  return { ...f, bytes: new Writer().bytes(body).bytes(signDetached(body, issuerKeys.secretKey)).finish() };
}

/**
 * Certificates already verified, by their exact bytes. Every record carries its
 * chain, and a signature check costs tens of milliseconds under QuickJS-ng on
 * a router, so each distinct certificate is verified once.
 */
const verified = new Map<string, Cert>();
export const MAX_VERIFIED_CERTS = 4096;

/** Decodes a certificate and checks its own signature (not the chain). */
export function decodeCert(bytes: Uint8Array): Cert {
  const key = toBase64(bytes);
  const hit = verified.get(key);
  if (hit) return hit;
  const cert = decodeCertUncached(bytes);
  if (collecting()) return cert; // its signature was only listed, not checked
  if (verified.size >= MAX_VERIFIED_CERTS) verified.clear();
  verified.set(key, cert);
  return cert;
}

function decodeCertUncached(bytes: Uint8Array): Cert {
  const { cert, signedLen, sig } = parseCert(bytes);
  if (!verifyDetached(bytes.subarray(0, signedLen), sig, cert.issuerPub)) throw new DecodeError(`certificate of "${cert.name}": bad signature`);
  return cert;
}

/**
 * Decodes a certificate's fields WITHOUT checking its signature: only for the
 * cheap checks that come before the signatures (revocations), never to trust it.
 */
export function peekCert(bytes: Uint8Array): Cert { return parseCert(bytes).cert; }

function parseCert(bytes: Uint8Array): { cert: Cert; signedLen: number; sig: Uint8Array } {
  const r = new Reader(bytes, 'certificate');
  const v = r.u8('version');
  if (v !== CERT_VERSION) throw new DecodeError(`certificate: unsupported version ${v}`);
  const netId = r.bytes(NETWORK_ID_BYTES, 'network id');
  const name = r.str8('name');
  const signPub = r.bytes(32, 'sign key');
  const wgPub = r.bytes(32, 'wireguard key');
  const ipv4 = r.u32('ipv4');
  const admin = (r.u8('roles') & 1) === 1;
  const poolBase = r.u32('pool');
  const poolLen = r.u8('pool length');
  const issuedAtMs = r.u64('issued at');
  const expiresAtMs = r.u64('expires at');
  const issuerPub = r.bytes(32, 'issuer');
  const signedLen = r.offset;
  const sig = r.bytes(64, 'signature');
  r.end();
  if (!isDnsLabel(name)) throw new DecodeError(`certificate: invalid node name "${name}"`);
  if (poolLen > 32 || (poolLen > 0 && maskIPv4(poolBase, poolLen) !== poolBase)) throw new DecodeError('certificate: invalid pool');
  const cert = {
    networkId: netId, name, signPub, wgPub, ipv4, admin, pool: poolLen ? { base: poolBase, len: poolLen } : null,
    issuedAtMs, expiresAtMs, issuerPub, bytes,
  };
  return { cert, signedLen, sig };
}

/** Block i of a pool (i = 0 single addresses, 1..15 delegable). */
export function poolBlock(pool: Prefix4, i: number): Prefix4 {
  const len = pool.len + POOL_SPLIT_BITS;
  return { base: (pool.base + i * 2 ** (32 - len)) >>> 0, len };
}

export class ChainError extends Error {
  override name = 'ChainError';
  constructor(message: string, readonly kind: 'unknown-signer' | 'invalid' | 'expired') { super(message); }
}

/**
 * Verifies a chain [leaf, issuer, ..., top] where top is issued by the network
 * key: signatures, network id, admin rights, pool containment, expiry.
 * Returns the leaf. Throws ChainError.
 */
export function verifyChain(chain: Cert[], net: NetworkParams, nowMs: number): Cert {
  if (chain.length === 0 || chain.length > MAX_CHAIN) throw new ChainError(`certificate chain of length ${chain.length}`, 'invalid');
  const netId = networkId(net.networkPub);
  for (let i = 0; i < chain.length; i++) {
    const c = chain[i]!;
    if (!bytesEqual(c.networkId, netId)) throw new ChainError(`certificate of "${c.name}" is for another network`, 'unknown-signer');
    if (c.expiresAtMs !== 0 && c.expiresAtMs < nowMs) throw new ChainError(`certificate of "${c.name}" expired`, 'expired');
    const issuer = chain[i + 1];
    if (!issuer) {
      if (!bytesEqual(c.issuerPub, net.networkPub)) throw new ChainError(`certificate of "${c.name}" has an unknown signer`, 'unknown-signer');
      if (c.issuedAtMs < net.createdAtMs) throw new ChainError(`certificate of "${c.name}" predates its network`, 'invalid');
      if (!c.pool || !prefix4Equal(c.pool, net.ipv4Pool)) {
        // The network key only certifies the founder, who holds the whole pool.
        if (!prefix4Contains(net.ipv4Pool, c.ipv4)) throw new ChainError(`address of "${c.name}" outside the network pool`, 'invalid');
      }
      continue;
    }
    if (!bytesEqual(c.issuerPub, issuer.signPub)) throw new ChainError(`certificate of "${c.name}" not issued by "${issuer.name}"`, 'invalid');
    // A backdated certificate would win a name (the earlier one keeps it): none may predate its issuer's.
    if (c.issuedAtMs < issuer.issuedAtMs) throw new ChainError(`certificate of "${c.name}" predates its issuer's`, 'invalid');
    if (!issuer.pool || (!issuer.admin && net.policy !== 'any')) throw new ChainError(`"${issuer.name}" may not admit members`, 'invalid');
    if (!prefix4Contains(poolBlock(issuer.pool, 0), c.ipv4)) throw new ChainError(`address ${formatIPv4(c.ipv4)} of "${c.name}" outside its issuer's pool`, 'invalid');
    if (c.pool) {
      const parent = issuer.pool;
      const idx = Math.floor((c.pool.base - parent.base) / 2 ** (32 - parent.len - POOL_SPLIT_BITS));
      if (c.pool.len !== parent.len + POOL_SPLIT_BITS || idx < 1 || idx > 15 || poolBlock(parent, idx).base !== c.pool.base) {
        throw new ChainError(`pool of "${c.name}" is not a delegated block of "${issuer.name}"`, 'invalid');
      }
      if (idx === MAPPED_REGION_BLOCK && prefix4Equal(parent, net.ipv4Pool)) {
        throw new ChainError(`pool of "${c.name}" is the network's mapped region`, 'invalid');
      }
    }
  }
  return chain[0]!;
}

export function encodeChain(w: Writer, chain: Cert[]): void {
  w.u8(chain.length);
  for (const c of chain) w.vbytes(c.bytes);
}

export function decodeChain(r: Reader): Cert[] {
  const n = r.u8('chain length');
  if (n === 0 || n > MAX_CHAIN) throw new DecodeError(`certificate chain of length ${n}`);
  const out: Cert[] = [];
  for (let i = 0; i < n; i++) out.push(decodeCert(r.vbytes('certificate')));
  return out;
}
