/// <reference types="node" />
// Seeded randomness for the ubus fuzz tests: a small PRNG (mulberry32) and
// generators of JSON-like values and byte strings. A failing test prints its
// seed; KITH_SEED=<n> reruns exactly that case.
import type { BlobValue } from '../../../src/ubus/index.ts';

export class Rng {
  private s: number;
  constructor(readonly seed: number) { this.s = seed >>> 0; }
  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number { return Math.floor(this.next() * n); }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; }
  bytes(n: number): Uint8Array { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = this.int(256); return b; }
}

/** The seed for a test: KITH_SEED if set, else a fresh one (printed on failure by the caller). */
export function testSeed(): number {
  const env = process.env.KITH_SEED;
  return env ? Number(env) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
}

const ALPHABET = ['a', 'b', 'z', '_', '.', ' ', 'é', '✓', '日', '😀', '"', '\\', '\n', '\u007f', '\u0001'];

export function randomString(r: Rng, max = 12): string {
  let s = '';
  const n = r.int(max + 1);
  for (let i = 0; i < n; i++) s += r.pick(ALPHABET);
  return s;
}

/** A random value that survives a blobmsg round trip unchanged. */
export function randomValue(r: Rng, depth = 0): BlobValue {
  const kinds = depth >= 5 ? 7 : 9;
  switch (r.int(kinds)) {
    case 0: return null;
    case 1: return r.next() < 0.5;
    case 2: return r.int(2 ** 32) - 2 ** 31; // int32 range
    case 3: return r.pick([0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 40 + 3]);
    case 4: return r.pick([0.5, -2.25, Math.PI, 1e300, -1e-300, 5e-324, Infinity, -Infinity, 1e20, 2 ** 64, -(2 ** 64)]);
    case 5: return randomString(r);
    case 6: return r.pick([2n ** 63n - 1n, -(2n ** 63n), 9007199254740993n, -9007199254740993n]);
    case 7: { const n = r.int(5); const a: BlobValue[] = []; for (let i = 0; i < n; i++) a.push(randomValue(r, depth + 1)); return a; }
    default: {
      const n = r.int(5);
      const o: Record<string, BlobValue> = {};
      for (let i = 0; i < n; i++) Object.defineProperty(o, r.pick(['k', 'name', '__proto__', 'x.y', '', randomString(r, 6)]) + (r.int(3) || ''), { value: randomValue(r, depth + 1), enumerable: true, writable: true, configurable: true });
      return o;
    }
  }
}
