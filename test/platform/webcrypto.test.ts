/// <reference types="node" />
// The core's Ed25519 verdicts do not depend on the runtime. The daemon primes
// the core's signature cache from native WebCrypto (Node.js: OpenSSL; txiki.js:
// its own native code) only for plain inputs (canonical S, R and A, neither of
// small order), where implementations agree; everything else is left to the
// core's tweetnacl. Checked on valid, tampered, non-canonical and small-order
// vectors through both runtimes' adapters. Signatures from both runtimes'
// WebCrypto are bit-identical to tweetnacl's on random keys and messages, and
// the X25519 public key of tweetnacl equals WebCrypto's (both runtimes) and
// `wg pubkey`'s. Without tjs or wg the parts that need them say they skipped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sign_detached, sign_detached_verify, sign_keyPair_fromSeed } from 'tweetnacl-ts/es/sign.js';
import { needs } from '../support/needs.ts';
import { seededBytes } from '../support/rand.ts';
import { ed25519Vectors, type Vector } from '../support/ed25519-vectors.ts';
import { clearSignatureCache, plainEd25519, primeSignature, verifyDetached, x25519PrivateFromRandom, x25519Public } from '../../src/core/crypto.ts';
import { toBase64, toHex } from '../../src/core/bytes.ts';
import { signCases, webCryptoX25519Public, x25519Cases } from '../support/native-sign-cases.ts';
import { webCryptoEd25519, type SubtleEd25519 } from '../../src/platform/webcrypto.ts';
import { findTjs } from '../support/tjs.ts';

const SEED = 0xed25519;
const vectors = ed25519Vectors(seededBytes(SEED));
const nacl = vectors.map((v) => sign_detached_verify(v.message, v.signature, v.publicKey));
const core = vectors.map((v) => { clearSignatureCache(); return verifyDetached(v.message, v.signature, v.publicKey); });
const native = webCryptoEd25519(webcrypto.subtle as unknown as SubtleEd25519)!;
const SIGN_CASES = 200;
const X25519_CASES = 32;
/** tweetnacl's signature for each case, as hex. */
const naclSigs = signCases(SEED, SIGN_CASES).map((c) => toHex(sign_detached(c.message, sign_keyPair_fromSeed(c.seed).secretKey)));
/** tweetnacl's X25519 public key for each case, raw and clamped (both must agree). */
const naclX = x25519Cases(SEED, X25519_CASES).map((k) => toBase64(x25519Public(k)));

type Verdict = boolean | 'none';

/** What the core answers once the daemon primed it with this runtime's verdict. */
function coreAfterPrime(v: Vector, verdict: Verdict): boolean {
  clearSignatureCache();
  if (verdict !== 'none') primeSignature(v, verdict);
  return verifyDetached(v.message, v.signature, v.publicKey);
}

function compare(runtime: string, verdicts: Verdict[]): string[] {
  const divergent: string[] = [];
  vectors.forEach((v, i) => {
    const why = `${runtime}, ${v.name}: nacl ${nacl[i]}, core ${core[i]}, native ${verdicts[i]}`;
    if (plainEd25519(v)) assert.is(verdicts[i], nacl[i], `plain input: ${why}`);
    else if (verdicts[i] !== nacl[i]) divergent.push(why);
    assert.is(coreAfterPrime(v, verdicts[i]!), core[i], `the core's answer moved with the runtime: ${why}`);
  });
  return divergent;
}

test('vectors: every honest signature is plain (the fast path covers it); the core refuses S + L unlike bare tweetnacl', () => {
  const valid = vectors.filter((v) => v.name.startsWith('valid '));
  assert.ok(valid.length >= 10);
  for (const v of valid) assert.ok(plainEd25519(v), v.name);
  vectors.forEach((v, i) => { if (v.name.startsWith('valid ')) assert.ok(core[i] && nacl[i], v.name); });
  const sl = vectors.map((v, i) => [v, i] as const).filter(([v]) => v.name.startsWith('S + L'));
  for (const [v, i] of sl) { assert.ok(nacl[i], `tweetnacl accepts ${v.name}`); assert.not.ok(core[i], `core refuses ${v.name}`); }
  assert.ok(vectors.some((v, i) => !plainEd25519(v) && nacl[i]), 'some non-plain vector verifies under tweetnacl (the vectors reach the divergent class)');
});

test('Node.js WebCrypto: same verdict as tweetnacl on every plain input; the core answers the same primed or not', async () => {
  const verdicts: Verdict[] = [];
  for (const v of vectors) verdicts.push(await native.verifyEd25519(v.publicKey, v.message, v.signature).catch(() => 'none' as const));
  assert.ok(verdicts.filter((x) => x === true).length >= 12, 'the honest ones verify natively');
  const divergent = compare('node', verdicts);
  console.log(`  node: ${vectors.length} vectors, ${divergent.length} non-plain where OpenSSL and tweetnacl differ (left to tweetnacl)`);
});

test(`Node.js WebCrypto signs bit-identically to tweetnacl (${SIGN_CASES} random keys and messages)`, async () => {
  const cases = signCases(SEED, SIGN_CASES);
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!;
    assert.is(toHex(await native.signEd25519(c.seed, c.message)), naclSigs[i], `case ${i}: ${c.message.length}-byte message`);
  }
  // tweetnacl's 64-byte secret key works too (its first half is the seed), and the imported key is reused.
  const kp = sign_keyPair_fromSeed(cases[1]!.seed);
  assert.is(toHex(await native.signEd25519(kp.secretKey, cases[1]!.message)), naclSigs[1]);
  await native.signEd25519(new Uint8Array(16), new Uint8Array(1)).then(() => assert.unreachable('a 16-byte seed signed'), (e: Error) => assert.match(e.message, /32 bytes/));
});

test('a runtime whose WebCrypto cannot sign Ed25519 rejects (the caller falls back to tweetnacl)', async () => {
  const subtle = webcrypto.subtle as unknown as SubtleEd25519;
  const noSign = webCryptoEd25519({ importKey: subtle.importKey.bind(subtle), verify: subtle.verify.bind(subtle) })!;
  await noSign.signEd25519(new Uint8Array(32), new Uint8Array(1)).then(() => assert.unreachable('signed'), (e: Error) => assert.match(e.message, /cannot sign/));
  const wrong = webCryptoEd25519({ ...bound(subtle), sign: async () => new Uint8Array(64).buffer })!;
  await wrong.signEd25519(new Uint8Array(32), new Uint8Array(1)).then(() => assert.unreachable('signed'), (e: Error) => assert.match(e.message, /no WebCrypto Ed25519 signing/));
});

function bound(subtle: SubtleEd25519): SubtleEd25519 {
  return { importKey: subtle.importKey.bind(subtle), verify: subtle.verify.bind(subtle), sign: subtle.sign!.bind(subtle) };
}

test(`X25519: Node.js WebCrypto's public key (PKCS#8 import) equals tweetnacl's (${X25519_CASES} keys, raw and clamped)`, async () => {
  const keys = x25519Cases(SEED, X25519_CASES);
  for (let i = 0; i < keys.length; i++) {
    assert.is(toBase64(await webCryptoX25519Public(webcrypto.subtle as never, keys[i]!)), naclX[i], `key ${i}`);
    const clamped = x25519PrivateFromRandom(keys[i]!);
    assert.is(toBase64(await webCryptoX25519Public(webcrypto.subtle as never, clamped)), naclX[i], `key ${i} clamped`);
  }
});

const tjs = findTjs();

/** As build/bundle.mjs: tweetnacl-ts's randomness from Web Crypto, not Node's crypto module. */
const naclDir = fileURLToPath(new URL('../../node_modules/tweetnacl-ts/es', import.meta.url));
const naclWebCrypto = {
  name: 'tweetnacl-web-crypto',
  setup(b: { onResolve(o: { filter: RegExp }, f: (a: { path: string; importer: string }) => { path: string } | undefined): void }) {
    b.onResolve({ filter: /\/server\/(random|convert)(\.js)?$/ }, (args) => {
      if (!args.importer.startsWith(naclDir)) return undefined;
      return { path: join(naclDir, 'client', `${args.path.replace(/.*\/server\//, '').replace(/\.js$/, '')}.js`) };
    });
  },
};

needs(tjs !== null, 'txiki.js', 'set TJS=/path/to/tjs or put ../shared/router beside the project')('txiki.js WebCrypto: same verdict as tweetnacl on every plain input; the core answers the same primed or not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kith-txiki-webcrypto-'));
  try {
    const bundle = join(dir, 'txiki-webcrypto.js');
    await build({
      entryPoints: [fileURLToPath(new URL('./txiki-webcrypto.ts', import.meta.url))], bundle: true, format: 'esm', platform: 'neutral',
      mainFields: ['module', 'main'], target: 'es2022', external: ['tjs:*'], outfile: bundle, logLevel: 'silent', plugins: [naclWebCrypto],
    });
    const env = { ...process.env, TJS_HOME: join(dir, 'tjs-home'), KITH_VECTOR_SEED: String(SEED), KITH_SIGN_CASES: String(SIGN_CASES), KITH_X25519_CASES: String(X25519_CASES) };
    const r = spawnSync(tjs!, ['run', bundle], { encoding: 'utf8', timeout: 300_000, env });
    const why = `exit ${r.status}\n--- stdout\n${r.stdout?.slice(-2000)}\n--- stderr\n${r.stderr}${r.error ? String(r.error) : ''}`;
    assert.ok(new RegExp(`^txiki-webcrypto: ${vectors.length} vectors$`, 'm').test(r.stdout ?? ''), `no summary for ${vectors.length} vectors. ${why}`);
    const verdicts: Verdict[] = vectors.map(() => 'none');
    for (const m of (r.stdout ?? '').matchAll(/^v (\d+) ([10E])$/gm)) verdicts[Number(m[1])] = m[2] === 'E' ? 'none' : m[2] === '1';
    assert.ok(verdicts.filter((x) => x === true).length >= 12, `the honest ones verify natively. ${why}`);
    const divergent = compare('txiki', verdicts);
    console.log(`  txiki: ${vectors.length} vectors, ${divergent.length} non-plain where txiki.js and tweetnacl differ (left to tweetnacl)`);
    assert.ok(/^txiki-webcrypto: done$/m.test(r.stdout ?? ''), `no end line. ${why}`);
    const sigs = [...(r.stdout ?? '').matchAll(/^s (\d+) (\S+)$/gm)];
    assert.is(sigs.length, SIGN_CASES, `${SIGN_CASES} signatures. ${why}`);
    for (const m of sigs) assert.is(m[2], naclSigs[Number(m[1])], `txiki.js signature ${m[1]} bit-identical to tweetnacl's`);
    const xs = [...(r.stdout ?? '').matchAll(/^x (\d+) (\S+)$/gm)];
    assert.is(xs.length, X25519_CASES, `${X25519_CASES} X25519 keys. ${why}`);
    for (const m of xs) assert.is(m[2], naclX[Number(m[1])], `txiki.js X25519 public key ${m[1]} equals tweetnacl's`);
    console.log(`  txiki: ${sigs.length} signatures and ${xs.length} X25519 public keys identical to tweetnacl's`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('X25519: tweetnacl\'s public key equals WebCrypto\'s (OpenSSL) for clamped and raw private keys', () => {
  const rnd = seededBytes(SEED + 1);
  // PKCS#8 prefix of a raw X25519 private key (RFC 8410).
  const prefix = Buffer.from('302e020100300506032b656e04220420', 'hex');
  for (let i = 0; i < 16; i++) {
    const raw = rnd(32);
    for (const priv of [raw, x25519PrivateFromRandom(raw)]) {
      const key = createPrivateKey({ key: Buffer.concat([prefix, priv]), format: 'der', type: 'pkcs8' });
      const jwk = createPublicKey(key).export({ format: 'jwk' }) as { x: string };
      assert.is(Buffer.from(jwk.x, 'base64url').toString('base64'), toBase64(x25519Public(priv)));
    }
  }
});

const wgProbe = spawnSync('wg', ['--version'], { encoding: 'utf8' });
needs(!wgProbe.error && wgProbe.status === 0, '`wg` (wireguard-tools)', 'apt-get install wireguard-tools')('X25519: the same key as `wg pubkey`', async () => {
  const rnd = seededBytes(SEED + 2);
  for (let i = 0; i < 8; i++) {
    const priv = x25519PrivateFromRandom(rnd(32));
    const r = spawnSync('wg', ['pubkey'], { input: toBase64(priv) + '\n', encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.trim(), toBase64(x25519Public(priv)));
  }
  // And WebCrypto's (Node.js), on the keys the txiki.js run compares too.
  const keys = x25519Cases(SEED, 8); // the first 8 of the cases txiki.js compares with tweetnacl
  for (let i = 0; i < keys.length; i++) {
    const priv = x25519PrivateFromRandom(keys[i]!);
    const r = spawnSync('wg', ['pubkey'], { input: toBase64(priv) + '\n', encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.trim(), toBase64(await webCryptoX25519Public(webcrypto.subtle as never, priv)), `key ${i}: wg and WebCrypto`);
    assert.is(r.stdout.trim(), naclX[i], `key ${i}: wg and tweetnacl`);
  }
});

test.run();
