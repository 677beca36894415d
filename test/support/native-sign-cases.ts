// Random Ed25519 seeds and messages, and X25519 private keys, for comparing
// the runtimes' WebCrypto with tweetnacl (test/platform/webcrypto.test.ts, and
// under txiki.js test/platform/txiki-webcrypto.ts): the same seed gives both
// sides the same cases. Also X25519's public key through WebCrypto alone:
// the private key imported as PKCS#8, the public half exported as a JWK.
import { fromBase64 } from '../../src/core/bytes.ts';
import { seededBytes } from './rand.ts';

export interface SignCase { seed: Uint8Array; message: Uint8Array }

/** n seeds and messages of 0 to 1400 bytes (a record's range), the first message empty. */
export function signCases(seed: number, n: number): SignCase[] {
  const rnd = seededBytes(seed);
  return Array.from({ length: n }, (_, i) => {
    const seedBytes = rnd(32), len = rnd(2);
    return { seed: seedBytes, message: rnd(i === 0 ? 0 : (len[0]! * 256 + len[1]!) % 1401) };
  });
}

/** n raw 32-byte X25519 private keys (unclamped: both sides clamp). */
export function x25519Cases(seed: number, n: number): Uint8Array[] {
  const rnd = seededBytes(seed);
  return Array.from({ length: n }, () => rnd(32));
}

/** RFC 8410: the PKCS#8 DER of an X25519 private key is this prefix and the 32 raw bytes. */
const X25519_PKCS8_PREFIX = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20];

interface SubtleX25519 {
  importKey(format: 'pkcs8', key: Uint8Array, algorithm: { name: 'X25519' }, extractable: boolean, usages: string[]): Promise<unknown>;
  exportKey(format: 'jwk', key: unknown): Promise<{ x?: string }>;
}

export async function webCryptoX25519Public(subtle: SubtleX25519, privateKey: Uint8Array): Promise<Uint8Array> {
  const der = new Uint8Array([...X25519_PKCS8_PREFIX, ...privateKey]);
  const jwk = await subtle.exportKey('jwk', await subtle.importKey('pkcs8', der, { name: 'X25519' }, true, ['deriveBits']));
  if (!jwk.x) throw new Error('WebCrypto exported no public key');
  const b64 = jwk.x.replace(/-/g, '+').replace(/_/g, '/');
  return fromBase64(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
}
