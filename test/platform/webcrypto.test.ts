/// <reference types="node" />
// The core's Ed25519 verdicts do not depend on the runtime. The daemon primes
// the core's signature cache from native WebCrypto (Node.js: OpenSSL; txiki.js:
// its own native code) only for plain inputs (canonical S, R and A, neither of
// small order), where implementations agree; everything else is left to the
// core's tweetnacl. Checked on valid, tampered, non-canonical and small-order
// vectors through both runtimes' adapters, and the X25519 public key of
// tweetnacl against WebCrypto's and `wg pubkey`. Without tjs or wg the parts
// that need them say they skipped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sign_detached_verify } from 'tweetnacl-ts/es/sign.js';
import { needs } from '../support/needs.ts';
import { seededBytes } from '../support/rand.ts';
import { ed25519Vectors, type Vector } from '../support/ed25519-vectors.ts';
import { clearSignatureCache, plainEd25519, primeSignature, verifyDetached, x25519PrivateFromRandom, x25519Public } from '../../src/core/crypto.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import { webCryptoEd25519, type SubtleEd25519 } from '../../src/platform/webcrypto.ts';
import { findTjs } from '../support/tjs.ts';

const SEED = 0xed25519;
const vectors = ed25519Vectors(seededBytes(SEED));
const nacl = vectors.map((v) => sign_detached_verify(v.message, v.signature, v.publicKey));
const core = vectors.map((v) => { clearSignatureCache(); return verifyDetached(v.message, v.signature, v.publicKey); });
const native = webCryptoEd25519(webcrypto.subtle as unknown as SubtleEd25519)!;

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
    const r = spawnSync(tjs!, ['run', bundle], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, TJS_HOME: join(dir, 'tjs-home'), KITH_VECTOR_SEED: String(SEED) } });
    const why = `exit ${r.status}\n--- stdout\n${r.stdout?.slice(-2000)}\n--- stderr\n${r.stderr}${r.error ? String(r.error) : ''}`;
    assert.ok(new RegExp(`^txiki-webcrypto: ${vectors.length} vectors$`, 'm').test(r.stdout ?? ''), `no summary for ${vectors.length} vectors. ${why}`);
    const verdicts: Verdict[] = vectors.map(() => 'none');
    for (const m of (r.stdout ?? '').matchAll(/^v (\d+) ([10E])$/gm)) verdicts[Number(m[1])] = m[2] === 'E' ? 'none' : m[2] === '1';
    assert.ok(verdicts.filter((x) => x === true).length >= 12, `the honest ones verify natively. ${why}`);
    const divergent = compare('txiki', verdicts);
    console.log(`  txiki: ${vectors.length} vectors, ${divergent.length} non-plain where txiki.js and tweetnacl differ (left to tweetnacl)`);
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
needs(!wgProbe.error && wgProbe.status === 0, '`wg` (wireguard-tools)', 'apt-get install wireguard-tools')('X25519: the same key as `wg pubkey`', () => {
  const rnd = seededBytes(SEED + 2);
  for (let i = 0; i < 8; i++) {
    const priv = x25519PrivateFromRandom(rnd(32));
    const r = spawnSync('wg', ['pubkey'], { input: toBase64(priv) + '\n', encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.trim(), toBase64(x25519Public(priv)));
  }
});

test.run();
