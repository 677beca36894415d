// The cryptographic primitives Kith uses, all from tweetnacl-ts: Ed25519
// signatures (identity), X25519 (WireGuard keys, join box), BLAKE2b (ids).
// Deterministic: randomness is always passed in by the caller.
//
// Ed25519 verification is the one hot primitive (tens of milliseconds each in
// JavaScript under QuickJS-ng, a few through a runtime's native WebCrypto).
// The core stays synchronous: every verdict goes through a bounded cache that
// the daemon may fill beforehand from native code (primeSignature), and
// collectSignatures lists, without verifying, what a piece of core code would
// check, so the daemon verifies exactly that. Without primed verdicts the core
// verifies with tweetnacl as before (the QuickJS-ng wasm build has no WebCrypto).
import { sign_detached, sign_detached_verify, sign_keyPair_fromSeed } from 'tweetnacl-ts/es/sign.js';
import { box, box_open } from 'tweetnacl-ts/es/box.js';
import { scalarMult_base } from 'tweetnacl-ts/es/scalarmult.js';
import { blake2b } from 'tweetnacl-ts/es/blake2b.js';
import { utf8Encode, concat, toHex } from './bytes.ts';

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

export interface SignatureCheck { message: Uint8Array; signature: Uint8Array; publicKey: Uint8Array }

/** Verdicts remembered, by key, signature and message; the oldest leave first. */
export const SIGNATURE_CACHE_SIZE = 4096;
const verdicts = new Map<string, boolean>();
let collector: SignatureCheck[] | null = null;
/** Signature checks that ran tweetnacl (for tests and benchmarks). */
export const signatureStats = { tweetnacl: 0, cached: 0, primed: 0 };

/**
 * The whole input as a string of 8-bit code units: no hash to compute (BLAKE2b
 * in JavaScript took 2.4 ms per record under txiki.js, more than the native
 * verify), and engines store such strings at one byte per unit. Messages are
 * records and certificates (at most 1400 bytes), so a full cache is a few MB
 * at worst and some hundred KB for a 100-member mesh.
 */
function verdictKey(msg: Uint8Array, sig: Uint8Array, publicKey: Uint8Array): string {
  let key = '';
  for (const part of [publicKey, sig, msg]) {
    for (let i = 0; i < part.length; i += 4096) key += String.fromCharCode(...part.subarray(i, i + 4096));
  }
  return key;
}

function remember(key: string, valid: boolean): void {
  verdicts.delete(key);
  if (verdicts.size >= SIGNATURE_CACHE_SIZE) verdicts.delete(verdicts.keys().next().value!);
  verdicts.set(key, valid);
}

export function verifyDetached(msg: Uint8Array, sig: Uint8Array, publicKey: Uint8Array): boolean {
  if (sig.length !== SIGNATURE_BYTES || publicKey.length !== SIGN_PUBLIC_BYTES) return false;
  // RFC 8032 requires S < L; tweetnacl alone accepts S + L, a second valid form of every signature.
  if (!scalarCanonical(sig.subarray(32))) return false;
  const key = verdictKey(msg, sig, publicKey);
  const hit = verdicts.get(key);
  if (hit !== undefined) {
    signatureStats.cached++;
    verdicts.delete(key);
    verdicts.set(key, hit);
    return hit;
  }
  if (collector) {
    // Listing only: assume valid so the caller goes on to name its next check.
    collector.push({ message: msg.slice(), signature: sig.slice(), publicKey: publicKey.slice() });
    return true;
  }
  signatureStats.tweetnacl++;
  const ok = sign_detached_verify(msg, sig, publicKey);
  remember(key, ok);
  return ok;
}

/**
 * Runs fn with every uncached signature check answered "valid" without
 * verifying, and returns the checks it asked for. fn must not keep anything
 * it learns (collecting() tells caches not to store what they decode).
 */
export function collectSignatures(fn: () => void): SignatureCheck[] {
  if (collector) throw new Error('collectSignatures does not nest');
  const out: SignatureCheck[] = [];
  collector = out;
  try { fn(); } catch { /* what fails here fails again, counted, when the core handles it */ } finally { collector = null; }
  return out;
}

export function collecting(): boolean { return collector !== null; }

/**
 * Stores a verdict from another Ed25519 implementation (the runtime's native
 * WebCrypto). Only for inputs where implementations are known to agree:
 * canonical S, canonical R and A encodings, neither of small order (see
 * plainEd25519). Elsewhere the core decides with tweetnacl, whatever the runtime.
 * Returns whether the verdict was stored.
 */
export function primeSignature(c: SignatureCheck, valid: boolean): boolean {
  if (!plainEd25519(c)) return false;
  signatureStats.primed++;
  remember(verdictKey(c.message, c.signature, c.publicKey), valid);
  return true;
}

export function signatureCacheSize(): number { return verdicts.size; }

/** Forgets every cached verdict (tests and benchmarks). */
export function clearSignatureCache(): void { verdicts.clear(); }

// L = 2^252 + 27742317777372353535851937790883648493, little-endian.
const L = fromHexLE('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');
// y of the points of order 1, 2, 4 and 8 (with the sign bit cleared).
const SMALL_ORDER_Y = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
];

function fromHexLE(h: string): Uint8Array {
  const b = new Uint8Array(h.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return b;
}

/** Whether the 32-byte little-endian s is below L. */
export function scalarCanonical(s: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    if (s[i]! < L[i]!) return true;
    if (s[i]! > L[i]!) return false;
  }
  return false;
}

/** Whether a point encoding has y < p and is not of small order. */
function pointPlain(enc: Uint8Array): boolean {
  const y = enc.slice();
  y[31]! &= 0x7f;
  // y >= p = 2^255 - 19: bytes 1..30 all 0xff, byte 31 0x7f, byte 0 >= 0xed.
  let high = y[31] === 0x7f;
  for (let i = 1; i < 31 && high; i++) high = y[i] === 0xff;
  if (high && y[0]! >= 0xed) return false;
  return !SMALL_ORDER_Y.includes(toHex(y));
}

/** Inputs on which Ed25519 implementations (tweetnacl, OpenSSL, libsodium, RFC 8032) give the same verdict. */
export function plainEd25519(c: SignatureCheck): boolean {
  return c.signature.length === SIGNATURE_BYTES && c.publicKey.length === SIGN_PUBLIC_BYTES
    && scalarCanonical(c.signature.subarray(32)) && pointPlain(c.publicKey) && pointPlain(c.signature.subarray(0, 32));
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
