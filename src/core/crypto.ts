// The cryptographic primitives Kith uses, all from tweetnacl-ts: Ed25519
// signatures (identity), X25519 (WireGuard keys, join box), BLAKE2b (ids).
// Deterministic: randomness is always passed in by the caller.
import { sign_detached, sign_detached_verify, sign_keyPair_fromSeed } from 'tweetnacl-ts/es/sign.js';
import { box, box_open } from 'tweetnacl-ts/es/box.js';
import { scalarMult_base } from 'tweetnacl-ts/es/scalarmult.js';
import { blake2b } from 'tweetnacl-ts/es/blake2b.js';
import { utf8Encode, concat } from './bytes.ts';

export const SIGN_PUBLIC_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const KEY_BYTES = 32;
export const NONCE_BYTES = 24;

export interface SignKeys {
  publicKey: Uint8Array;
  /** 64 bytes: seed followed by the public key (tweetnacl's layout). */
  secretKey: Uint8Array;
}

/** An Ed25519 key pair from a 32-byte random seed. */
export function signKeysFromSeed(seed: Uint8Array): SignKeys {
  const kp = sign_keyPair_fromSeed(seed);
  return { publicKey: kp.publicKey, secretKey: kp.secretKey };
}

export function signDetached(msg: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return sign_detached(msg, secretKey);
}

export function verifyDetached(msg: Uint8Array, sig: Uint8Array, publicKey: Uint8Array): boolean {
  if (sig.length !== SIGNATURE_BYTES || publicKey.length !== SIGN_PUBLIC_BYTES) return false;
  return sign_detached_verify(msg, sig, publicKey);
}

/** Clamps 32 random bytes into an X25519 private key, exactly as `wg genkey` does. */
export function x25519PrivateFromRandom(random: Uint8Array): Uint8Array {
  if (random.length !== KEY_BYTES) throw new RangeError(`X25519 private key needs 32 bytes, got ${random.length}`);
  const k = random.slice();
  k[0]! &= 248;
  k[31] = (k[31]! & 127) | 64;
  return k;
}

/** The X25519 public key of a private key; equals `wg pubkey` for a WireGuard key. */
export function x25519Public(privateKey: Uint8Array): Uint8Array {
  if (privateKey.length !== KEY_BYTES) throw new RangeError(`X25519 private key needs 32 bytes, got ${privateKey.length}`);
  return scalarMult_base(privateKey);
}

export function boxSeal(msg: Uint8Array, nonce: Uint8Array, theirPublic: Uint8Array, mySecret: Uint8Array): Uint8Array {
  return box(msg, nonce, theirPublic, mySecret);
}

/** Opens a box, or returns null when it does not authenticate. */
export function boxOpen(sealed: Uint8Array, nonce: Uint8Array, theirPublic: Uint8Array, mySecret: Uint8Array): Uint8Array | null {
  if (nonce.length !== NONCE_BYTES || theirPublic.length !== KEY_BYTES) return null;
  return box_open(sealed, nonce, theirPublic, mySecret) ?? null;
}

/** BLAKE2b of a domain label and data, truncated to `bytes`. */
export function hashTo(label: string, data: Uint8Array, bytes: number): Uint8Array {
  return blake2b(concat(utf8Encode(label), new Uint8Array([0]), data), undefined, 64).slice(0, bytes);
}
