/// <reference types="node" />
// The daemon's native signer for the own record (src/daemon/selfsign.ts) with
// Node.js's WebCrypto and a real core: records are signed natively and the
// core runs no tweetnacl; requests made while one is signing collapse to the
// latest; a rejected or wrong native signature falls back to tweetnacl for
// that record, logged once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { webcrypto } from 'node:crypto';
import { NodeCore, type Action } from '../../src/core/node.ts';
import { clearSignatureCache, signatureStats } from '../../src/core/crypto.ts';
import { encodeRecord } from '../../src/core/record.ts';
import { bytesEqual } from '../../src/core/bytes.ts';
import { NativeSelfSigner } from '../../src/daemon/selfsign.ts';
import { webCryptoEd25519, type SubtleEd25519 } from '../../src/platform/webcrypto.ts';
import type { NativeCrypto } from '../../src/platform/types.ts';
import type { Logger } from '../../src/daemon/log.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh } from '../support/mesh.ts';

const T0 = 1_700_000_000_000;
const webCrypto = webCryptoEd25519(webcrypto.subtle as unknown as SubtleEd25519)!;

function setup(seed: number, native: NativeCrypto, hooks: { onDispatch?: () => void } = {}) {
  clearSignatureCache();
  const mesh = foundMesh(seededBytes(seed), { name: `d${seed}`, nowMs: T0 });
  const keys = mesh.founder.identity.sign;
  const core = new NodeCore({
    network: mesh.network, chain: mesh.founder.chain, signKeys: keys, relay: true, configuredEndpoints: [], services: [], subnets: [], lastSeq: 0, nowMs: T0, asyncSign: true,
  });
  const dispatched: Action[] = [];
  const warnings: string[] = [];
  const log: Logger = { level: 'debug', debug() {}, info() {}, error() {}, warn: (m) => warnings.push(m), limited: (_k, _l, m) => warnings.push(m) };
  let now = T0;
  const signer = new NativeSelfSigner(native, keys, () => core, () => now, (a) => { dispatched.push(...a); hooks.onDispatch?.(); }, log);
  return { core, keys, mesh, signer, dispatched, warnings, tick: (ms: number) => (now += ms) };
}

const signReq = (a: Action[]) => a.flatMap((x) => (x.type === 'sign' ? [x.unsigned] : []));

test('the first record and a change are signed natively; the core runs no tweetnacl; the bytes are the synchronous core\'s', async () => {
  const { core, keys, mesh, signer, dispatched } = setup(1, webCrypto);
  const before = signatureStats.tweetnacl;
  await signer.request(core.signRequest!);
  assert.is(core.signRequest, null);
  assert.ok(dispatched.some((a) => a.type === 'persist'), 'persisted');
  const [u] = signReq(core.setServices([{ name: 'web', port: 80, proto: 'tcp', type: 'http' }], T0 + 1000));
  await signer.request(u!);
  assert.is(signer.counts.native, 2);
  assert.is(signer.counts.fallback, 0);
  assert.is(signatureStats.tweetnacl, before, 'no tweetnacl verify');
  const expect = encodeRecord({ ...core.selfRecord }, mesh.founder.chain, keys);
  assert.ok(bytesEqual(core.selfRecord.bytes, expect.bytes));
  assert.is(core.selfRecord.services.length, 1);
});

test('requests made while one is signing collapse to the latest', async () => {
  const { core, signer } = setup(2, webCrypto);
  await signer.request(core.signRequest!);
  const reqs: Uint8Array[] = [];
  for (let i = 0; i < 5; i++) reqs.push(...signReq(core.setServices([{ name: `s${i}`, port: 80 + i, proto: 'tcp', type: 'http' }], T0 + 1000 * (i + 1))));
  const runs = reqs.map((u) => signer.request(u));
  await Promise.all(runs);
  await signer.idle();
  assert.is(core.selfRecord.services[0]!.name, 's4', 'the latest body is published');
  assert.is(core.signRequest, null);
  assert.ok(signer.counts.native <= 3, `first, the one in flight, the latest: ${signer.counts.native}`);
});

test('a request made in any microtask after a run has installed its record is signed too', async () => {
  // The window: the run's loop has looked at next for the last time, the run has not yet marked itself ended.
  for (let depth = 0; depth < 6; depth++) {
    const hooks: { onDispatch?: () => void } = {};
    const { core, signer } = setup(10 + depth, webCrypto, hooks);
    await signer.request(core.signRequest!);
    let late: Uint8Array | undefined;
    const chain = (n: number): void => {
      if (n > 0) { void Promise.resolve().then(() => chain(n - 1)); return; }
      [late] = signReq(core.setServices([{ name: 'b', port: 81, proto: 'tcp', type: 'http' }], T0 + 2000));
      void signer.request(late!);
    };
    // The first record is installed and dispatched; the chain starts there, once.
    hooks.onDispatch = () => { hooks.onDispatch = undefined; void Promise.resolve().then(() => chain(depth)); };
    const [first] = signReq(core.setServices([{ name: 'a', port: 80, proto: 'tcp', type: 'http' }], T0 + 1000));
    await signer.request(first!);
    for (let i = 0; i < 200 && core.selfRecord.services[0]?.name !== 'b'; i++) await new Promise((r) => setTimeout(r, 2));
    assert.ok(late, `depth ${depth}: the second request was made`);
    assert.is(core.selfRecord.services[0]?.name, 'b', `depth ${depth}: the later record is published`);
    assert.is(core.signRequest, null, `depth ${depth}: nothing left pending`);
  }
});

test('native signing that rejects falls back to tweetnacl for each record, logged once', async () => {
  const failing: NativeCrypto = { verifyEd25519: webCrypto.verifyEd25519, signEd25519: () => Promise.reject(new Error('no Ed25519 here')) };
  const { core, signer, warnings } = setup(3, failing);
  await signer.request(core.signRequest!);
  const [u] = signReq(core.setServices([], T0 + 1000));
  await signer.request(u!);
  assert.is(signer.counts.fallback, 2);
  assert.is(core.signRequest, null);
  assert.is(core.selfRecord.seq, T0 + 1000);
  assert.is(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /no Ed25519 here/);
});

test('a wrong native signature is refused; that record is signed with tweetnacl', async () => {
  const wrong: NativeCrypto = { verifyEd25519: webCrypto.verifyEd25519, signEd25519: async (seed, m) => { const s = await webCrypto.signEd25519(seed, m); s[0]! ^= 1; return s; } };
  const { core, keys, signer, warnings } = setup(4, wrong);
  await signer.request(core.signRequest!);
  assert.is(signer.counts.fallback, 1);
  assert.is(signer.counts.native, 0);
  assert.match(warnings.join('\n'), /did not verify/);
  const n = core.selfRecord.bytes.length;
  const good = await webCrypto.signEd25519(keys.secretKey, core.selfRecord.bytes.subarray(0, n - 64));
  assert.ok(bytesEqual(core.selfRecord.bytes.subarray(n - 64), good), 'the published signature is the right one');
});

test('after stop nothing is installed or dispatched', async () => {
  const { core, signer, dispatched } = setup(5, webCrypto);
  const run = signer.request(core.signRequest!);
  signer.stop();
  await run;
  assert.equal(dispatched, []);
  assert.ok(core.signRequest, 'still pending (a later read signs it with tweetnacl)');
});

test.run();
