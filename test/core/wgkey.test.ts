/// <reference types="node" />
// WireGuard key agreement with the real tool: the public key Kith derives
// (x25519Public, base64 by core/bytes) equals `wg pubkey` of the same private
// key, for Kith-made keys, raw unclamped bytes and `wg genkey` output.
// Needs wireguard-tools (`wg`); skipped with a message when it is missing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { needs } from '../support/needs.ts';
import { spawnSync } from 'node:child_process';
import { x25519PrivateFromRandom, x25519Public } from '../../src/core/crypto.ts';
import { fromBase64, toBase64 } from '../../src/core/bytes.ts';
import { seededBytes } from '../support/rand.ts';

const SEED = 0x5eed_c0de;
const KEYS = 20;

function wg(args: string[], stdin?: string): string {
  const r = spawnSync('wg', args, { input: stdin, encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`wg ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

const probe = spawnSync('wg', ['--version'], { encoding: 'utf8' });
const haveWg = !probe.error && probe.status === 0;

if (!haveWg) {
  needs(false, '`wg` (wireguard-tools)', 'apt-get install wireguard-tools')('x25519Public equals `wg pubkey`', () => undefined);
} else {
  const rnd = seededBytes(SEED);

  test(`${KEYS} Kith private keys: x25519Public equals \`wg pubkey\` (seed ${SEED})`, () => {
    for (let i = 0; i < KEYS; i++) {
      const priv = x25519PrivateFromRandom(rnd(32));
      const ours = toBase64(x25519Public(priv));
      assert.is(ours, wg(['pubkey'], `${toBase64(priv)}\n`), `key ${i}: private ${toBase64(priv)}`);
    }
  });

  test('unclamped random bytes: both sides clamp alike', () => {
    for (let i = 0; i < 5; i++) {
      const raw = rnd(32);
      raw[0] |= 7; raw[31] |= 0x80; // the bits clamping clears
      assert.is(toBase64(x25519Public(raw)), wg(['pubkey'], `${toBase64(raw)}\n`), `raw ${toBase64(raw)}`);
    }
  });

  test('`wg genkey` keys: our public key equals `wg pubkey`, and they are already clamped', () => {
    for (let i = 0; i < 5; i++) {
      const privText = wg(['genkey']);
      const priv = fromBase64(privText);
      assert.is(priv.length, 32);
      assert.equal(x25519PrivateFromRandom(priv), priv, 'genkey output is a clamped key');
      assert.is(toBase64(x25519Public(priv)), wg(['pubkey'], `${privText}\n`));
    }
  });
}

test.run();
