// Ed25519 inputs on which implementations are known to differ, next to plain
// valid and invalid ones: signatures with S + L (tweetnacl accepts them, RFC
// 8032 and OpenSSL do not), public keys and R of small order, non-canonical
// point encodings. Built from seeded keys with the core's own signer; no
// runtime, so the txiki.js side can bundle it too.
import { signDetached, signKeysFromSeed } from '../../src/core/crypto.ts';

export interface Vector { name: string; publicKey: Uint8Array; message: Uint8Array; signature: Uint8Array }

const hex = (s: string) => new Uint8Array(s.match(/../g)!.map((x) => parseInt(x, 16)));
const L = hex('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');

/** s + L, little-endian (fits: s < L < 2^253). */
function plusL(s: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  let carry = 0;
  for (let i = 0; i < 32; i++) { const v = s[i]! + L[i]! + carry; out[i] = v & 0xff; carry = v >> 8; }
  return out;
}

const flip = (b: Uint8Array, i: number) => { const c = b.slice(); c[i]! ^= 1; return c; };
const cat = (a: Uint8Array, b: Uint8Array) => { const c = new Uint8Array(a.length + b.length); c.set(a); c.set(b, a.length); return c; };

/** Points of small order and non-canonical encodings, used as A and as R. */
export const ODD_POINTS: Record<string, string> = {
  identity: '0100000000000000000000000000000000000000000000000000000000000000',
  'identity, sign bit': '0100000000000000000000000000000000000000000000000000000000000080',
  'order 2': 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'order 4': '0000000000000000000000000000000000000000000000000000000000000000',
  'order 8': '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'order 8, other': 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'identity, y = p + 1': 'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'y = p': 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
};

export function ed25519Vectors(rnd: (n: number) => Uint8Array, plain = 12): Vector[] {
  const out: Vector[] = [];
  for (let i = 0; i < plain; i++) {
    const k = signKeysFromSeed(rnd(32));
    const message = rnd(1 + (i * 97) % 1400);
    const signature = signDetached(message, k.secretKey);
    const other = signKeysFromSeed(rnd(32));
    out.push({ name: `valid ${i}`, publicKey: k.publicKey, message, signature });
    out.push({ name: `tampered message ${i}`, publicKey: k.publicKey, message: flip(message, i % message.length), signature });
    out.push({ name: `other key ${i}`, publicKey: other.publicKey, message, signature });
    out.push({ name: `flipped R ${i}`, publicKey: k.publicKey, message, signature: flip(signature, i % 32) });
    out.push({ name: `flipped S ${i}`, publicKey: k.publicKey, message, signature: flip(signature, 32 + (i % 31)) });
    out.push({ name: `S + L ${i}`, publicKey: k.publicKey, message, signature: cat(signature.subarray(0, 32), plusL(signature.subarray(32))) });
    out.push({ name: `random signature ${i}`, publicKey: k.publicKey, message, signature: rnd(64) });
  }
  const zero = new Uint8Array(32);
  for (const [an, a] of Object.entries(ODD_POINTS)) {
    for (const [rn, r] of Object.entries(ODD_POINTS)) {
      for (let m = 0; m < 2; m++) {
        // S = 0: [S]B - [k]A = -[k]A, which equals R for A of small order often enough.
        out.push({ name: `A ${an}, R ${rn}, S 0, message ${m}`, publicKey: hex(a), message: rnd(8), signature: cat(hex(r), zero) });
      }
    }
  }
  // An honest signature checked against a small-order key, and a small-order R with an honest key.
  const k = signKeysFromSeed(rnd(32));
  const message = rnd(64);
  const sig = signDetached(message, k.secretKey);
  for (const [n, p] of Object.entries(ODD_POINTS)) {
    out.push({ name: `honest signature, A ${n}`, publicKey: hex(p), message, signature: sig });
    out.push({ name: `honest key, R ${n}`, publicKey: k.publicKey, message, signature: cat(hex(p), sig.subarray(32)) });
  }
  return out;
}
