// Ed25519 through a runtime's WebCrypto (crypto.subtle: OpenSSL under Node.js,
// native code under txiki.js), tens of times faster than tweetnacl in
// JavaScript. The runtime adapters pass their `subtle` in; this file touches
// no global. Imported keys are kept, bounded, since members' keys recur.
import type { NativeCrypto } from './types.ts';

/** The part of WebCrypto's SubtleCrypto used here. */
export interface SubtleEd25519 {
  importKey(format: 'raw', key: Uint8Array, algorithm: { name: 'Ed25519' }, extractable: boolean, usages: string[]): Promise<unknown>;
  verify(algorithm: { name: 'Ed25519' }, key: unknown, signature: Uint8Array, data: Uint8Array): Promise<boolean>;
}

const MAX_KEYS = 2048;

/**
 * The native capability, or undefined when the runtime has no subtle. The first
 * call checks a known-good vector (RFC 8032 test 1); when that fails (no
 * Ed25519 in this build) every call rejects, and a rejection is no verdict:
 * the caller leaves the check to the core.
 */
export function webCryptoEd25519(subtle: SubtleEd25519 | undefined): NativeCrypto | undefined {
  if (!subtle || typeof subtle.importKey !== 'function' || typeof subtle.verify !== 'function') return undefined;
  const keys = new Map<string, Promise<unknown>>();
  const keyOf = (pub: Uint8Array): Promise<unknown> => {
    const k = Array.from(pub, (x) => x.toString(16).padStart(2, '0')).join('');
    let p = keys.get(k);
    if (!p) {
      if (keys.size >= MAX_KEYS) keys.delete(keys.keys().next().value!);
      p = subtle.importKey('raw', pub.slice(), { name: 'Ed25519' }, false, ['verify']);
      p.catch(() => keys.delete(k));
      keys.set(k, p);
    }
    return p;
  };
  const raw = async (pub: Uint8Array, msg: Uint8Array, sig: Uint8Array) => subtle.verify({ name: 'Ed25519' }, await keyOf(pub), sig.slice(), msg.slice());
  let works: Promise<boolean> | null = null;
  return {
    async verifyEd25519(publicKey, message, signature) {
      works ??= raw(hex(TEST1_PUB), new Uint8Array(0), hex(TEST1_SIG)).catch(() => false);
      if (!(await works)) throw new Error('this runtime has no WebCrypto Ed25519');
      return raw(publicKey, message, signature);
    },
  };
}

const TEST1_PUB = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const TEST1_SIG = 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';
const hex = (s: string) => new Uint8Array(s.match(/../g)!.map((x) => parseInt(x, 16)));
