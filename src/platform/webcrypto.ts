// Ed25519 through a runtime's WebCrypto (crypto.subtle: OpenSSL under Node.js,
// native code under txiki.js), tens of times faster than tweetnacl in
// JavaScript. The runtime adapters pass their `subtle` in; this file touches
// no global. Imported keys are kept, bounded, since members' keys recur (and
// the node's own signing key is imported once).
import type { NativeCrypto } from './types.ts';

/** The part of WebCrypto's SubtleCrypto used here. */
export interface SubtleEd25519 {
  importKey(format: 'raw' | 'pkcs8', key: Uint8Array, algorithm: { name: 'Ed25519' }, extractable: boolean, usages: string[]): Promise<unknown>;
  verify(algorithm: { name: 'Ed25519' }, key: unknown, signature: Uint8Array, data: Uint8Array): Promise<boolean>;
  sign?(algorithm: { name: 'Ed25519' }, key: unknown, data: Uint8Array): Promise<ArrayBuffer>;
}

const MAX_KEYS = 2048;
/** Signing keys kept imported: the node's own, and a spare (a key replaced at runtime). */
const MAX_SIGNING_KEYS = 2;
/** RFC 8410: the PKCS#8 DER of an Ed25519 private key is this prefix and the 32-byte seed. */
export const ED25519_PKCS8_PREFIX = '302e020100300506032b657004220420';

/**
 * The native capability, or undefined when the runtime has no subtle. The first
 * call checks a known-good vector (RFC 8032 test 1); when that fails (no
 * Ed25519 in this build) every call rejects, and a rejection is no verdict:
 * the caller leaves the check to the core.
 */
export function webCryptoEd25519(subtle: SubtleEd25519 | undefined): NativeCrypto | undefined {
  if (!subtle || typeof subtle.importKey !== 'function' || typeof subtle.verify !== 'function') return undefined;
  const keyOf = keyCache(MAX_KEYS, (pub) => subtle.importKey('raw', pub.slice(), { name: 'Ed25519' }, false, ['verify']));
  const raw = async (pub: Uint8Array, msg: Uint8Array, sig: Uint8Array) => subtle.verify({ name: 'Ed25519' }, await keyOf(pub), sig.slice(), msg.slice());
  let works: Promise<boolean> | null = null;
  const signer = subtle.sign ? webCryptoSigner(subtle, subtle.sign.bind(subtle)) : null;
  return {
    async verifyEd25519(publicKey, message, signature) {
      works ??= raw(hex(TEST1_PUB), new Uint8Array(0), hex(TEST1_SIG)).catch(() => false);
      if (!(await works)) throw new Error('this runtime has no WebCrypto Ed25519');
      return raw(publicKey, message, signature);
    },
    async signEd25519(seed, message) {
      if (!signer) throw new Error('this runtime\'s WebCrypto cannot sign');
      return signer(seed, message);
    },
  };
}

/**
 * Ed25519 signing from a 32-byte seed (the first half of tweetnacl's secret
 * key): the key is imported as PKCS#8 once and kept (non-extractable). The
 * first call signs RFC 8032's first vector and compares; when that fails every
 * call rejects (the caller signs with tweetnacl).
 */
function webCryptoSigner(subtle: SubtleEd25519, sign: NonNullable<SubtleEd25519['sign']>) {
  const imported = keyCache(MAX_SIGNING_KEYS, (seed) => {
    const der = new Uint8Array(48);
    der.set(hex(ED25519_PKCS8_PREFIX));
    der.set(seed, 16);
    return subtle.importKey('pkcs8', der, { name: 'Ed25519' }, false, ['sign']).finally(() => der.fill(0));
  });
  const keyOf = (seed: Uint8Array) => (seed.length === 32 ? imported(seed) : Promise.reject(new RangeError(`Ed25519 seed needs 32 bytes, got ${seed.length}`)));
  const raw = async (seed: Uint8Array, msg: Uint8Array) => new Uint8Array(await sign({ name: 'Ed25519' }, await keyOf(seed), msg.slice()));
  let works: Promise<boolean> | null = null;
  return async (seed: Uint8Array, message: Uint8Array): Promise<Uint8Array> => {
    works ??= raw(hex(TEST1_SEED), new Uint8Array(0)).then((s) => hexOf(s) === TEST1_SIG, () => false);
    if (!(await works)) throw new Error('this runtime has no WebCrypto Ed25519 signing');
    const sig = await raw(seed.subarray(0, 32), message);
    if (sig.length !== 64) throw new Error(`WebCrypto gave a ${sig.length}-byte Ed25519 signature`);
    return sig;
  };
}

/** Imported keys by their bytes, at most max (the oldest leaves first); a failed import is forgotten. */
function keyCache(max: number, load: (key: Uint8Array) => Promise<unknown>): (key: Uint8Array) => Promise<unknown> {
  const keys = new Map<string, Promise<unknown>>();
  return (key) => {
    const k = hexOf(key);
    let p = keys.get(k);
    if (!p) {
      if (keys.size >= max) keys.delete(keys.keys().next().value!);
      p = load(key);
      p.catch(() => keys.delete(k));
      keys.set(k, p);
    }
    return p;
  };
}

const TEST1_SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const TEST1_PUB = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const TEST1_SIG = 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';
const hexOf = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const hex = (s: string) => new Uint8Array(s.match(/../g)!.map((x) => parseInt(x, 16)));
