// Native Ed25519 for the simulator (Node.js's OpenSSL, synchronous), used the
// way kithd uses WebCrypto: the own record is signed natively and its
// signature verified into the core's verdict cache; before a control datagram
// is handled, the checks the core lists are verified natively and primed
// (src/daemon/sigqueue.ts). Also times one check each way, for the CPU figure.
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { primeSignature, verifyDetached, signDetached, clearSignatureCache, type SignatureCheck } from '../../src/core/crypto.ts';
import { toHex } from '../../src/core/bytes.ts';

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const pubKeys = new Map<string, KeyObject>();
const MAX_KEYS = 8192;

function publicKeyObject(pub: Uint8Array): KeyObject {
  const k = toHex(pub);
  let o = pubKeys.get(k);
  if (!o) {
    if (pubKeys.size >= MAX_KEYS) pubKeys.clear();
    o = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pub]), format: 'der', type: 'spki' });
    pubKeys.set(k, o);
  }
  return o;
}

export const nativeStats = { verified: 0, signed: 0 };

export function nativeVerify(c: SignatureCheck): boolean {
  nativeStats.verified++;
  return nodeVerify(null, c.message, publicKeyObject(c.publicKey), c.signature);
}

/** Verifies the listed checks natively and primes the core's cache with the verdicts. */
export function prime(checks: SignatureCheck[]): void {
  for (const c of checks) primeSignature(c, nativeVerify(c));
}

const privKeys = new WeakMap<Uint8Array, KeyObject>();

/** Signs with the seed half of a tweetnacl secret key (64 bytes), natively; the verdict goes into the core's cache. */
export function nativeSign(secretKey: Uint8Array, publicKey: Uint8Array, message: Uint8Array): Uint8Array {
  let k = privKeys.get(secretKey);
  if (!k) {
    k = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secretKey.subarray(0, 32)]), format: 'der', type: 'pkcs8' });
    privKeys.set(secretKey, k);
  }
  nativeStats.signed++;
  const sig = new Uint8Array(nodeSign(null, message, k));
  primeSignature({ message, signature: sig, publicKey }, true);
  return sig;
}

/** Milliseconds per Ed25519 verification of a record-sized message: tweetnacl and native, measured here. */
export function timeVerify(secretKey: Uint8Array, publicKey: Uint8Array, rounds = 20): { tweetnaclMs: number; nativeMs: number } {
  const msgs = Array.from({ length: rounds }, (_, i) => new Uint8Array(600).fill(i + 1));
  const sigs = msgs.map((m) => signDetached(m, secretKey));
  clearSignatureCache();
  let t = performance.now();
  for (let i = 0; i < rounds; i++) if (!verifyDetached(msgs[i]!, sigs[i]!, publicKey)) throw new Error('timeVerify: tweetnacl refused a good signature');
  const tweetnaclMs = (performance.now() - t) / rounds;
  t = performance.now();
  for (let i = 0; i < rounds; i++) if (!nativeVerify({ message: msgs[i]!, signature: sigs[i]!, publicKey })) throw new Error('timeVerify: native refused a good signature');
  const nativeMs = (performance.now() - t) / rounds;
  return { tweetnaclMs, nativeMs };
}
