// The core's signature cache and its listing of checks: the daemon verifies
// what signatureChecks lists (natively), primes the verdicts, and the core
// then runs no signature check of its own. The listing comes after the cheap
// checks (members only, known and newer, known bad), verifies nothing, and
// leaves nothing behind that would pass for verified. Without primed verdicts
// the core verifies with tweetnacl as before.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sign_detached_verify } from 'tweetnacl-ts/es/sign.js';
import { NodeCore } from '../../src/core/node.ts';
import { encodeControl } from '../../src/core/gossip.ts';
import { encodeRecord, type RecordBody } from '../../src/core/record.ts';
import { issueCert } from '../../src/core/cert.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import { formatIPv4 } from '../../src/core/ip.ts';
import { networkId } from '../../src/core/network.ts';
import {
  clearSignatureCache, primeSignature, signatureCacheSize, signatureStats, signDetached, signKeysFromSeed, verifyDetached,
  SIGNATURE_CACHE_SIZE, type SignatureCheck,
} from '../../src/core/crypto.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh, issueMember, type Member, type Mesh } from '../support/mesh.ts';

const T0 = 1_700_000_000_000;
const EMPTY: RecordBody = { seq: T0, endpoints: [], links: [], subnets: [], relay: true, exitCapacityMbit: 0, services: [] };
const recordOf = (m: Member, seq: number) => encodeRecord({ ...EMPTY, seq }, m.chain, m.identity.sign).bytes;
const known = (core: NodeCore, m: Member) => core.nodeByWgPub(toBase64(m.chain[0]!.wgPub));
const ip = (m: Member) => formatIPv4(m.chain[0]!.ipv4);
const records = (...r: Uint8Array[]) => encodeControl({ type: 'records', records: r });
/** What the daemon does with a native verifier (here tweetnacl itself, outside the core). */
const prime = (checks: SignatureCheck[], verdict?: boolean) => {
  for (const c of checks) assert.ok(primeSignature(c, verdict ?? sign_detached_verify(c.message, c.signature, c.publicKey)));
};

function setup(seed: number): { mesh: Mesh; core: NodeCore; relay: Member } {
  const rnd = seededBytes(seed);
  const mesh = foundMesh(rnd, { name: `sig${seed}`, nowMs: T0 });
  const f = mesh.founder;
  const core = new NodeCore({ network: mesh.network, chain: f.chain, signKeys: f.identity.sign, relay: true, configuredEndpoints: [], services: [], subnets: [], lastSeq: 0, nowMs: T0 });
  const relay = issueMember(rnd, mesh, 'relay', T0);
  assert.ok(core.acceptRecord(recordOf(relay, T0), T0));
  return { mesh, core, relay };
}

test('primed from outside, a records datagram is accepted with no signature check in the core; the listing then is empty', () => {
  clearSignatureCache();
  const { mesh, core, relay } = setup(1);
  const rnd = seededBytes(2);
  const others = [1, 2, 3].map((i) => issueMember(rnd, mesh, `m${i}`, T0));
  const dgram = records(...others.map((m) => recordOf(m, T0 + 5)));
  const now = T0 + 1000;
  const checks = core.signatureChecks({ control: dgram, fromIPv4: ip(relay) }, now);
  assert.is(checks.length, 6, 'each record: its own signature and its leaf certificate (the founder\'s is known)');
  prime(checks);
  const before = signatureStats.tweetnacl;
  const actions = core.handleControl(dgram, ip(relay), now);
  assert.ok(actions.some((a) => a.type === 'netmap'), 'accepted');
  assert.is(signatureStats.tweetnacl, before, 'no tweetnacl check ran');
  for (const m of others) assert.ok(known(core, m), m.name);
  assert.equal(core.signatureChecks({ control: dgram, fromIPv4: ip(relay) }, now), [], 'known now: nothing to check');
});

test('cheap checks come first: nothing listed for non-members, stale records, known-bad records or other messages', () => {
  clearSignatureCache();
  const { mesh, core, relay } = setup(3);
  const rnd = seededBytes(4);
  const m = issueMember(rnd, mesh, 'late', T0);
  const now = T0 + 1000;
  const dgram = records(recordOf(m, T0 + 5));
  assert.equal(core.signatureChecks({ control: dgram, fromIPv4: '100.64.9.9' }, now), [], 'not a member');
  assert.equal(core.signatureChecks({ control: encodeControl({ type: 'ping', nonce: 1, sentMs: 0 }), fromIPv4: ip(relay) }, now), [], 'no records');
  assert.equal(core.signatureChecks({ control: new Uint8Array([0xff, 1, 2]), fromIPv4: ip(relay) }, now), [], 'junk');
  assert.equal(core.signatureChecks({ control: records(recordOf(relay, T0)), fromIPv4: ip(relay) }, now), [], 'not newer than ours');
  assert.equal(core.signatureChecks({ records: [recordOf(m, T0 - 8 * 86_400_000)] }, now), [], 'departed (too old)');
  const forged = recordOf(m, T0 + 6).slice();
  forged[forged.length - 1]! ^= 1;
  assert.is(core.signatureChecks({ control: records(forged), fromIPv4: ip(relay) }, now).length, 2, 'a fresh forgery is listed');
  assert.equal(core.handleControl(records(forged), ip(relay), now), [], 'and refused');
  assert.is(core.dropped.badSignature, 1);
  assert.equal(core.signatureChecks({ control: records(forged), fromIPv4: ip(relay) }, now), [], 'a known-bad one is not listed again');
});

test('a primed "invalid" refuses the record without tweetnacl; listing leaves nothing that passes for verified', () => {
  clearSignatureCache();
  const { mesh, core, relay } = setup(5);
  const rnd = seededBytes(6);
  const now = T0 + 1000;
  // A certificate signed by a key that is not the founder's but names the founder as issuer.
  const impostor = signKeysFromSeed(rnd(32));
  const victim = issueMember(rnd, mesh, 'victim', T0);
  const bad = issueCert({
    networkId: networkId(mesh.network.params.networkPub), name: 'bad', signPub: impostor.publicKey, wgPub: rnd(32), ipv4: victim.chain[0]!.ipv4 + 1,
    admin: false, pool: null, issuedAtMs: T0, expiresAtMs: 0, issuerPub: impostor.publicKey,
  }, impostor);
  const badCert = { ...bad, issuerPub: mesh.founder.identity.sign.publicKey };
  const body = new Uint8Array(bad.bytes.subarray(0, bad.bytes.length - 96));
  const forgedCertBytes = new Uint8Array([...body, ...mesh.founder.identity.sign.publicKey, ...signDetached(new Uint8Array([...body, ...mesh.founder.identity.sign.publicKey]), impostor.secretKey)]);
  const forger: Member = { ...victim, name: 'bad', identity: { ...victim.identity, sign: impostor }, chain: [{ ...badCert, bytes: forgedCertBytes }, ...mesh.founder.chain] };
  const dgram = records(recordOf(forger, T0 + 1));
  const listed = core.signatureChecks({ control: dgram, fromIPv4: ip(relay) }, now);
  assert.is(listed.length, 2, 'certificate and record listed');
  // Not primed: the core checks itself, and the listing's "assume valid" left no trace.
  const before = signatureStats.tweetnacl;
  assert.equal(core.handleControl(dgram, ip(relay), now), []);
  assert.ok(signatureStats.tweetnacl > before, 'the core verified with tweetnacl');
  assert.not.ok(known(core, forger), 'forged certificate refused');
  // Primed invalid: refused, no tweetnacl.
  const honest = issueMember(rnd, mesh, 'honest', T0);
  const dg2 = records(recordOf(honest, T0 + 2));
  prime(core.signatureChecks({ control: dg2, fromIPv4: ip(relay) }, now), false);
  const mid = signatureStats.tweetnacl;
  assert.equal(core.handleControl(dg2, ip(relay), now), []);
  assert.is(signatureStats.tweetnacl, mid, 'decided by the primed verdict');
  assert.not.ok(known(core, honest));
});

test('without primed verdicts the core verifies alone; the cache is bounded and refuses non-plain verdicts', () => {
  clearSignatureCache();
  const rnd = seededBytes(7);
  const k = signKeysFromSeed(rnd(32));
  const msg = rnd(100);
  const sig = signDetached(msg, k.secretKey);
  const before = signatureStats.tweetnacl;
  assert.ok(verifyDetached(msg, sig, k.publicKey));
  assert.ok(verifyDetached(msg, sig, k.publicKey));
  assert.is(signatureStats.tweetnacl, before + 1, 'second answer from the cache');
  const identity = new Uint8Array(32); identity[0] = 1;
  assert.not.ok(primeSignature({ message: msg, signature: new Uint8Array([...identity, ...new Uint8Array(32)]), publicKey: identity }, true), 'small-order key: not primed');
  for (let i = 0; i < SIGNATURE_CACHE_SIZE + 100; i++) primeSignature({ message: new Uint8Array([i & 255, i >> 8]), signature: sig, publicKey: k.publicKey }, false);
  assert.is(signatureCacheSize(), SIGNATURE_CACHE_SIZE);
});

test.run();
