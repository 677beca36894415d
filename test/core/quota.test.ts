// Per-admitter quotas (issue 8, item 10): one admin cannot fill every node's
// record store. Reproduction: ~1000 certificates from one admin filled the
// 1024-record cap on every node, so honest members could no longer join.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeCore } from '../../src/core/node.ts';
import { encodeRecord, nodeIdOf, type NodeRecord, type RecordBody } from '../../src/core/record.ts';
import { issueCert, type Cert } from '../../src/core/cert.ts';
import { zeroDrops } from '../../src/core/verify.ts';
import { toHex } from '../../src/core/bytes.ts';
import { networkId } from '../../src/core/network.ts';
import { allocateBlock, allocateSingle, initialAllocState } from '../../src/core/alloc.ts';
import { ISSUER_QUOTA, RecordStore } from '../../src/core/store.ts';
import { seededBytes, mulberry32 } from '../support/rand.ts';
import { foundMesh, joinInMemory, type Member, type Mesh } from '../support/mesh.ts';
import { signKeysFromSeed } from '../../src/core/crypto.ts';

/** Keys for a member that never runs WireGuard here: the signing key is real, the WireGuard key random bytes. */
function makeSignIdentity(rnd: (n: number) => Uint8Array) {
  return { sign: signKeysFromSeed(rnd(32)), wgPriv: new Uint8Array(32) };
}

const T0 = 1_700_000_000_000;
const EMPTY: RecordBody = { seq: T0 + 10_000, endpoints: [], links: [], subnets: [], relay: true, exitCapacityMbit: 0, services: [] };

/** A member certified by `issuer` at `issuedAtMs`, admin (with a delegated block) if asked. */
function certify(rnd: (n: number) => Uint8Array, mesh: Mesh, issuer: Member, name: string, issuedAtMs: number, admin = false): Member {
  const identity = { ...makeSignIdentity(rnd), wgPub: rnd(32) };
  const pool = issuer.chain[0]!.pool!;
  const single = allocateSingle(pool, issuer.alloc);
  issuer.alloc = single.state;
  let block = null;
  if (admin) {
    const b = allocateBlock(pool, issuer.alloc)!;
    issuer.alloc = b.state;
    block = b.pool;
  }
  const cert = issueCert({
    networkId: networkId(mesh.network.params.networkPub), name, signPub: identity.sign.publicKey, wgPub: identity.wgPub, ipv4: single.ipv4,
    admin, pool: block, issuedAtMs, expiresAtMs: 0, issuerPub: issuer.identity.sign.publicKey,
  }, issuer.identity.sign);
  return { name, id: nodeIdOf(identity.sign.publicKey), identity, chain: [cert, ...issuer.chain], alloc: initialAllocState(1), invites: [] };
}

const recordOf = (m: Member) => encodeRecord(EMPTY, m.chain, m.identity.sign).bytes;

function hubCore(mesh: Mesh): NodeCore {
  const f = mesh.founder;
  return new NodeCore({ network: mesh.network, chain: f.chain, signKeys: f.identity.sign, relay: true, configuredEndpoints: [], services: [], subnets: [], lastSeq: 0, nowMs: T0 + 10_000 });
}

function shuffled<T>(xs: T[], seed: number): T[] {
  const r = mulberry32(seed);
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A record whose certificates are not signed: for the store's rules alone, which come after verification. */
function unsignedRecord(rnd: (n: number) => Uint8Array, chainAbove: Cert[], name: string, ipv4: number, issuedAtMs: number, admin = false): NodeRecord {
  const signPub = rnd(32);
  const leaf: Cert = {
    networkId: chainAbove[0]!.networkId, name, signPub, wgPub: rnd(32), ipv4, admin, pool: admin ? { base: ipv4 & ~0xffff, len: 18 } : null,
    issuedAtMs, expiresAtMs: 0, issuerPub: chainAbove[0]!.signPub, bytes: new Uint8Array(0),
  };
  return { ...EMPTY, chain: [leaf, ...chainAbove], id: nodeIdOf(signPub), bytes: new Uint8Array(0) };
}

test(`store: an admin's subtree holds at most ISSUER_QUOTA (${ISSUER_QUOTA}) records: the earliest issued keep their place in any order of arrival, each one over counted once, others unaffected`, () => {
  const rnd = seededBytes(200);
  const mesh = foundMesh(rnd, { name: 'quota', nowMs: T0 });
  const f = mesh.founder.chain;
  let ip = 0x64400100;
  const spammer = unsignedRecord(rnd, f, 'spammer', ip++, T0 + 1, true);
  const honest = unsignedRecord(rnd, f, 'honest', ip++, T0 + 2, true);
  const sub = unsignedRecord(rnd, spammer.chain, 'sub', ip++, T0 + 3, true);
  const subMember = unsignedRecord(rnd, sub.chain, 'sub-m', ip++, T0 + 4);
  const spam = Array.from({ length: ISSUER_QUOTA + 20 }, (_, i) => unsignedRecord(rnd, spammer.chain, `s${i}`, ip++, T0 + 100 + i));
  const others = [honest, unsignedRecord(rnd, honest.chain, 'h1', ip++, T0 + 5), ...Array.from({ length: 300 }, (_, i) => unsignedRecord(rnd, f, `f${i}`, ip++, T0 + 6))];
  const subtree = [sub, subMember, ...spam];
  const keep = [spammer, ...subtree.slice(0, ISSUER_QUOTA), ...others].map((r) => r.id).sort().join();
  for (const seed of [1, 2, 3]) {
    const dropped = zeroDrops();
    const store = new RecordStore('self', dropped);
    for (const r of shuffled([spammer, ...subtree, ...others], seed)) store.offer(r);
    assert.is([...store.values()].map((r) => r.id).sort().join(), keep, `arrival order ${seed}: the earliest issued, and every other admitter's`);
    assert.is(dropped.overQuota, subtree.length - ISSUER_QUOTA, `arrival order ${seed}`);
    assert.is(store.chargedTo(toHex(spammer.chain[0]!.signPub)), ISSUER_QUOTA);
    assert.is(store.chargedTo(toHex(sub.chain[0]!.signPub)), 1, 'the delegated admin\'s member counts against it too');
  }
});

test('NodeCore: records past an admin\'s quota are refused and counted, with real signatures', () => {
  const rnd = seededBytes(201);
  const mesh = foundMesh(rnd, { name: 'quota', nowMs: T0 });
  const f = mesh.founder;
  const spammer = certify(rnd, mesh, f, 'spammer', T0 + 1, true);
  const honest = certify(rnd, mesh, f, 'honest', T0 + 2, true);
  const others = [honest, certify(rnd, mesh, honest, 'h1', T0 + 5), certify(rnd, mesh, f, 'f1', T0 + 7)];
  const spam = Array.from({ length: ISSUER_QUOTA + 2 }, (_, i) => certify(rnd, mesh, spammer, `s${i}`, T0 + 100 + i));
  const hub = hubCore(mesh);
  for (const m of [spammer, ...others]) assert.ok(hub.acceptRecord(recordOf(m), T0 + 10_000), m.name);
  // Latest issued first: the last two are evicted when the earlier ones arrive.
  for (const m of [...spam].reverse()) hub.acceptRecord(recordOf(m), T0 + 10_000);
  assert.is(hub.dropped.overQuota, 2);
  assert.equal(spam.filter((m) => !hub.nodeById(m.id)).map((m) => m.name), [`s${ISSUER_QUOTA}`, `s${ISSUER_QUOTA + 1}`]);
  for (const m of others) assert.ok(hub.nodeById(m.id), `${m.name} is unaffected`);
  assert.is(hub.allRecords().length, 1 + 1 + others.length + ISSUER_QUOTA);
  assert.is(hub.dropped.failed + hub.dropped.tooMany, 0);
});

test('an admitter whose quota is full refuses the join before spending the invite', () => {
  const rnd = seededBytes(202);
  const mesh = foundMesh(rnd, { name: 'quota', nowMs: T0 });
  const admin = joinInMemory(rnd, mesh, mesh.founder, { name: 'admin', admin: true, nowMs: T0 + 1 }).member!;
  const out = joinInMemory(rnd, mesh, admin, { name: 'late', nowMs: T0 + 2, quotaLeft: 0 });
  assert.is(out.member, null);
  assert.match(out.result.refused ?? '', /as many live members as it may/);
  assert.is(out.result.invites, null, 'the invite is not marked used');
  const core = new NodeCore({ network: mesh.network, chain: admin.chain, signKeys: admin.identity.sign, relay: true, configuredEndpoints: [], services: [], subnets: [], lastSeq: 0, nowMs: T0 + 3 });
  assert.is(core.quotaLeft(), ISSUER_QUOTA, 'an admin with no members yet');
  const m = joinInMemory(rnd, mesh, admin, { name: 'm', nowMs: T0 + 4 }).member!;
  assert.ok(core.acceptRecord(encodeRecord({ ...EMPTY, seq: T0 + 5 }, m.chain, m.identity.sign).bytes, T0 + 5));
  assert.is(core.quotaLeft(), ISSUER_QUOTA - 1);
  const founderCore = hubCore(mesh);
  assert.is(founderCore.quotaLeft(), Infinity, 'the founder\'s own admissions are bounded only by the record cap');
});

test.run();
