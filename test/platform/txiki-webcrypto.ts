// Under a real txiki.js (test/platform/webcrypto.test.ts bundles and drives
// it): the txiki.js adapter's native Ed25519 verdict on every vector of
// test/support/ed25519-vectors.ts, one line each: "v <index> <1|0|E>" (E: no
// verdict), then "txiki-webcrypto: N vectors", then the time per verify.
import { txikiPlatform } from '../../src/platform/txiki.ts';
import { ed25519Vectors } from '../support/ed25519-vectors.ts';
import { seededBytes } from '../support/rand.ts';
import { signCases, webCryptoX25519Public, x25519Cases } from '../support/native-sign-cases.ts';
import { toBase64, toHex } from '../../src/core/bytes.ts';

declare const crypto: { subtle: Parameters<typeof webCryptoX25519Public>[0] };

const p = txikiPlatform();
const seed = Number(p.env('KITH_VECTOR_SEED'));
const vectors = ed25519Vectors(seededBytes(seed));
const native = p.crypto ?? (p.stdout('txiki-webcrypto: no native crypto\n'), p.exit(2));
for (let i = 0; i < vectors.length; i++) {
  const v = vectors[i]!;
  const r = await native.verifyEd25519(v.publicKey, v.message, v.signature).then((ok) => (ok ? '1' : '0'), () => 'E');
  p.stdout(`v ${i} ${r}\n`);
}
p.stdout(`txiki-webcrypto: ${vectors.length} vectors\n`);
const cases = signCases(seed, Number(p.env('KITH_SIGN_CASES')));
for (let i = 0; i < cases.length; i++) {
  p.stdout(`s ${i} ${await native.signEd25519(cases[i]!.seed, cases[i]!.message).then(toHex, () => 'E')}\n`);
}
const xs = x25519Cases(seed, Number(p.env('KITH_X25519_CASES')));
for (let i = 0; i < xs.length; i++) p.stdout(`x ${i} ${await webCryptoX25519Public(crypto.subtle, xs[i]!).then(toBase64, () => 'E')}\n`);
p.stdout('txiki-webcrypto: done\n');
p.exit(0);
