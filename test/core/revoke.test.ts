/// <reference types="node" />
// Revocation in the deterministic simulator: who may revoke whom, forged,
// unauthorised and replayed revocations changing nothing, a revoked node's
// comeback records dropped and counted, the members admitted through a
// revoked admin cut off, anti-entropy for a node that was away, the bounds,
// and the propagation time at 100 nodes.
//   KITH_SEED=<n> npx uvu -r tsx test/core 'revoke\.test\.ts$'
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeControl, decodeControl } from '../../src/core/gossip.ts';
import { NodeCore } from '../../src/core/node.ts';
import { encodeRecord } from '../../src/core/record.ts';
import { issueCert } from '../../src/core/cert.ts';
import { networkId } from '../../src/core/network.ts';
import { toHex } from '../../src/core/bytes.ts';
import { issueRevocation, parseRevocation, planRevocation, RevocationRefused, MAX_REVOCATION_BYTES } from '../../src/core/revoke.ts';
import { REVOKER_RATE } from '../../src/core/revocations.ts';
import { seededBytes, mulberry32 } from '../support/rand.ts';
import { joinInMemory, makeIdentity } from '../support/mesh.ts';
import { foundMesh } from '../support/mesh.ts';
import { MeshSim, SIM_TICK_MS, type SimNode } from '../support/sim.ts';

const SEED = Number(process.env.KITH_SEED ?? 9090);
const T0 = 1_700_000_000_000;
/** The brief's bound: every member drops a revoked node within 10 s. */
const PROPAGATION_LIMIT_MS = 10_000;

/** hub (founder) admits admin1 (admin) and m1, m2; admin1 admits a1 and a2. Star around the hub, admin1 ↔ its members. */
function street(seed = SEED) {
  const rnd = seededBytes(seed);
  const mesh = foundMesh(rnd, { name: 'street', nowMs: T0 });
  const sim = new MeshSim(mesh, rnd, T0);
  const hub = sim.addFounder();
  const admin1 = sim.join(hub, 'admin1', { admin: true });
  sim.link(hub, admin1);
  const m1 = sim.join(hub, 'm1');
  const m2 = sim.join(hub, 'm2');
  sim.link(hub, m1); sim.link(hub, m2); sim.link(m1, m2);
  const a1 = sim.join(admin1, 'a1');
  const a2 = sim.join(admin1, 'a2');
  sim.link(admin1, a1); sim.link(admin1, a2); sim.link(hub, a1);
  assert.ok(sim.runUntilConverged(60_000) !== null, 'converged before the test');
  return { rnd, mesh, sim, hub, admin1, m1, m2, a1, a2, all: [hub, admin1, m1, m2, a1, a2] };
}

const plan = (by: SimNode, who: string, nowMs: number) =>
  planRevocation(by.core.allRecords(), by.core.certChain, by.member.identity.sign, by.core.network.params, by.core.revocations, who, nowMs);

/** Revokes `who` from `by` as the daemon does (plan, then apply) and returns the plan. */
function revoke(sim: MeshSim, by: SimNode, who: string) {
  const p = plan(by, who, sim.nowMs);
  sim.dispatch(by, by.core.applyRevocation(p.bytes, sim.nowMs));
  return p;
}

const holds = (n: SimNode, id: string) => n.core.allRecords().some((r) => r.id === id);
const peerKeys = (n: SimNode) => n.core.netmap().peers.map((p) => p.publicKey).concat(n.core.netmap().e2ePeers.map((p) => p.publicKey));

/** Runs in 10 ms steps until `done`, returning the virtual ms it took (null past limitMs). */
function timeUntil(sim: MeshSim, done: () => boolean, limitMs: number): number | null {
  const start = sim.nowMs;
  while (sim.nowMs - start <= limitMs) {
    if (done()) return sim.nowMs - start;
    sim.step(10);
  }
  return null;
}

test('the founder revokes a member: every member drops its record, peer and name within 10 s, and refuses its comeback (counted)', () => {
  const { sim, hub, m1, m2, all } = street();
  const p = revoke(sim, hub, 'm1');
  assert.is(p.name, 'm1');
  assert.equal(p.cutOff, [], 'm1 admitted nobody');
  const others = all.filter((n) => n !== m1);
  const took = timeUntil(sim, () => others.every((n) => !holds(n, m1.member.id)), PROPAGATION_LIMIT_MS);
  assert.ok(took !== null, 'every member dropped m1 within 10 s');
  for (const n of others) {
    assert.not.ok(peerKeys(n).includes(m1.wgPub), `${n.member.name} keeps no WireGuard peer for m1`);
    assert.not.ok(n.core.netmap().nodes.some((x) => x.name === 'm1'), `${n.member.name}: the name m1 is gone`);
    assert.ok(n.core.revocations.byNodeId(m1.member.id), `${n.member.name} holds the revocation`);
  }
  // m1 comes back: a newer record, signed with its key, forwarded by m2 (a member).
  const comeback = encodeRecord({ ...m1.core.selfRecord, seq: sim.nowMs + 5000 }, m1.member.chain, m1.member.identity.sign).bytes;
  const before = hub.core.dropped.revoked;
  const out = hub.core.handleControl(encodeControl({ type: 'records', records: [comeback] }), m2.ipv4, sim.nowMs);
  assert.equal(out, [], 'nothing accepted, nothing forwarded');
  assert.is(hub.core.dropped.revoked, before + 1, 'counted');
  assert.not.ok(holds(hub, m1.member.id));
  // m1's own control datagrams come from an address that is no member's any more.
  const nm = hub.core.dropped.nonMember;
  hub.core.handleControl(encodeControl({ type: 'ping', nonce: 1, sentMs: 0 }), m1.ipv4, sim.nowMs);
  assert.is(hub.core.dropped.nonMember, nm + 1);
  // The revocation reached m1 itself before it was dropped: it knows it is cut off.
  assert.ok(m1.core.revocations.covers(m1.core.certChain), 'm1 learned its own revocation');
});

test('revoking an admin cuts off the members it admitted: kith revoke names them first, then every member drops them', () => {
  const { sim, hub, admin1, a1, a2, m1, m2 } = street(SEED + 1);
  const p = plan(hub, 'admin1', sim.nowMs);
  assert.equal(p.cutOff, ['a1', 'a2'], 'the plan names who is cut off before anything changes');
  assert.ok(holds(m1, a1.member.id), 'planning changed nothing');
  revoke(sim, hub, 'admin1');
  for (const n of [hub, m1, m2]) {
    assert.ok(timeUntil(sim, () => ![admin1, a1, a2].some((x) => holds(n, x.member.id)), PROPAGATION_LIMIT_MS) !== null, `${n.member.name} dropped admin1, a1, a2`);
  }
  // A sock puppet admin1 mints now, backdated to before the revocation, is refused like the rest.
  const puppet = makeIdentity(sim.rnd);
  const adminCert = admin1.member.chain[0]!;
  const cert = issueCert({
    networkId: networkId(sim.mesh.network.params.networkPub), name: 'puppet', signPub: puppet.sign.publicKey, wgPub: puppet.wgPub, ipv4: adminCert.pool!.base + 40,
    admin: false, pool: null, issuedAtMs: adminCert.issuedAtMs, expiresAtMs: 0, issuerPub: adminCert.signPub,
  }, admin1.member.identity.sign);
  const rec = encodeRecord({ ...m1.core.selfRecord, seq: sim.nowMs, links: [], endpoints: [] }, [cert, ...admin1.member.chain], puppet.sign).bytes;
  const before = hub.core.dropped.revoked;
  hub.core.handleControl(encodeControl({ type: 'records', records: [rec] }), m2.ipv4, sim.nowMs);
  assert.is(hub.core.dropped.revoked, before + 1);
  assert.is(hub.core.allRecords().length, 3, 'hub, m1, m2');
  // a1 learned it is cut off (its chain passes through admin1) and may not admit.
  assert.ok(a1.core.revocations.covers(a1.core.certChain) || !holds(hub, a1.member.id));
});

test('bad input from the command line: unknown node, itself, the founder, a member it did not admit (non-admin) — one line, nothing changes', () => {
  const { sim, hub, admin1, m1, a1 } = street(SEED + 2);
  const cases: [SimNode, string, RegExp][] = [
    [hub, 'nobody', /^no member "nobody"/],
    [hub, 'hub', /cannot revoke itself/],
    [admin1, 'hub', /founder/],
    [m1, 'm2', /only the founder, an admin, or the member that admitted "m2"/],
    [a1, 'admin1', /admitted this node/],
  ];
  for (const [by, who, re] of cases) {
    const before = by.core.revocations.size;
    try {
      plan(by, who, sim.nowMs);
      assert.unreachable(`${by.member.name} revoked ${who}`);
    } catch (e) {
      assert.instance(e, RevocationRefused);
      assert.match((e as Error).message, re);
      assert.not.match((e as Error).message, /\n/);
    }
    assert.is(by.core.revocations.size, before);
  }
  revoke(sim, hub, 'm2');
  sim.run(2000);
  assert.throws(() => plan(hub, 'm2', sim.nowMs), /"m2" is already revoked/);
  // A member that admitted a node may revoke it, even without being an admin: admin1 is an admin anyway; a1 is its own.
  assert.is(plan(admin1, 'a1', sim.nowMs).name, 'a1');
});

test('forged, unauthorised and replayed revocations change nothing; each is counted, a replay costs no signature check', () => {
  const { sim, hub, m1, m2, admin1 } = street(SEED + 3);
  const records = () => hub.core.allRecords().map((r) => `${r.id}:${r.seq}`).sort().join();
  const before = records();
  const send = (from: SimNode, bytes: Uint8Array) => hub.core.handleControl(encodeControl({ type: 'revoke', revocations: [bytes] }), from.ipv4, sim.nowMs);
  // m1 (no admin, did not admit m2) signs a revocation of m2 with its own key.
  const unauthorised = issueRevocation(m1.member.chain, m2.member.chain[0]!, m1.member.identity.sign, sim.nowMs).bytes;
  send(m1, unauthorised);
  assert.is(hub.core.dropped.invalidChain, 1);
  // m1 forges one in the hub's name: the hub's chain, m1's signature.
  const real = issueRevocation(hub.member.chain, m2.member.chain[0]!, hub.member.identity.sign, sim.nowMs).bytes;
  const forged = real.slice();
  forged[forged.length - 1] ^= 1;
  send(m1, forged);
  assert.is(hub.core.dropped.badSignature, 1);
  send(m1, forged);
  assert.is(hub.core.dropped.knownBad, 1, 'the replayed forgery is refused from the cache');
  // A revoker that is no member: a certificate of another network's founder.
  const other = foundMesh(seededBytes(5), { name: 'other', nowMs: T0 });
  send(m1, issueRevocation(other.founder.chain, other.founder.chain[0]!, other.founder.identity.sign, sim.nowMs).bytes);
  assert.is(hub.core.dropped.unknownSigner, 1);
  send(m1, new Uint8Array(MAX_REVOCATION_BYTES + 1));
  send(m1, Uint8Array.from([1, 2, 3]));
  assert.is(hub.core.dropped.oversize, 1);
  assert.is(hub.core.dropped.malformed, 1);
  assert.is(records(), before, 'nothing changed');
  assert.is(hub.core.revocations.size, 0);
  // The real one from admin1 (an admin) via m1: accepted once; its replay is not even counted.
  const byAdmin = issueRevocation(admin1.member.chain, m2.member.chain[0]!, admin1.member.identity.sign, sim.nowMs).bytes;
  const out = send(m1, byAdmin);
  assert.ok(out.some((a) => a.type === 'revocations'), 'persisted');
  assert.ok(out.some((a) => a.type === 'send' && a.to === admin1.ipv4), 'passed on to the neighbours');
  assert.not.ok(out.some((a) => a.type === 'send' && a.to === m1.ipv4), 'not back to the sender');
  assert.equal(send(m1, byAdmin), [], 'a replay is a no-op');
  assert.is(hub.core.revocations.size, 1);
  assert.equal(decodeControl(encodeControl({ type: 'revoke', revocations: [byAdmin] })), { type: 'revoke', revocations: [byAdmin] });
  assert.is(hub.core.dropped.failed, 0);
});

test('the revoker\'s budget and the table are bounded: a burst, then one a minute', () => {
  const { sim, hub, admin1, m1 } = street(SEED + 4);
  const a = admin1.member;
  const n = REVOKER_RATE.burst + 4;
  const revs = Array.from({ length: n }, (_, i) => {
    const who = makeIdentity(sim.rnd);
    const cert = issueCert({
      networkId: networkId(sim.mesh.network.params.networkPub), name: `p${i}`, signPub: who.sign.publicKey, wgPub: who.wgPub, ipv4: a.chain[0]!.pool!.base + 100 + i,
      admin: false, pool: null, issuedAtMs: sim.nowMs, expiresAtMs: 0, issuerPub: a.identity.sign.publicKey,
    }, a.identity.sign);
    return issueRevocation(a.chain, cert, a.identity.sign, sim.nowMs).bytes;
  });
  for (let i = 0; i < n; i += 4) hub.core.handleControl(encodeControl({ type: 'revoke', revocations: revs.slice(i, i + 4) }), m1.ipv4, sim.nowMs);
  assert.is(hub.core.revocations.size, REVOKER_RATE.burst);
  assert.is(hub.core.dropped.rateLimited, n - REVOKER_RATE.burst);
  hub.core.handleControl(encodeControl({ type: 'revoke', revocations: [revs[n - 1]!] }), m1.ipv4, sim.nowMs + 61_000);
  assert.is(hub.core.revocations.size, REVOKER_RATE.burst + 1, 'one more a minute later');
});

test('a member that was away learns the revocation by anti-entropy when it comes back', () => {
  const { sim, hub, m1, m2, all } = street(SEED + 5);
  // m2 goes away (no sessions), the hub revokes m1, m2 comes back.
  sim.unlink(hub, m2); sim.unlink(m1, m2);
  sim.dropIf = (from, to) => from === m2.ipv4 || to === m2.ipv4;
  revoke(sim, hub, 'm1');
  sim.run(5000);
  assert.ok(holds(m2, m1.member.id), 'm2 did not hear it while away');
  sim.dropIf = null;
  sim.link(hub, m2);
  const took = timeUntil(sim, () => !holds(m2, m1.member.id), 30_000);
  assert.ok(took !== null, 'm2 learned it');
  assert.ok(took! <= 2 * SIM_TICK_MS * 2 + 100, `within two gossip rounds (${took} ms)`);
  for (const n of all.filter((x) => x !== m1)) assert.ok(n.core.revocations.byNodeId(m1.member.id));
});

test('a revoked node cannot join again with its old keys; a new identity with a new invite can', () => {
  const { sim, mesh, hub, m1 } = street(SEED + 6);
  revoke(sim, hub, 'm1');
  const revokedKeys = (s: string, w: string) => hub.core.revocations.keysRevoked(s, w);
  mesh.members = mesh.members.filter((m) => m.id !== m1.member.id);
  const again = joinInMemory(sim.rnd, mesh, hub.member, { name: 'm1b', nowMs: sim.nowMs, identity: m1.member.identity, revokedKeys });
  assert.is(again.member, null);
  assert.match(again.result.refused ?? '', /keys were revoked/);
  // Only the WireGuard key reused: refused too.
  const sameWg = { ...makeIdentity(sim.rnd), wgPriv: m1.member.identity.wgPriv, wgPub: m1.member.identity.wgPub };
  assert.match(joinInMemory(sim.rnd, mesh, hub.member, { name: 'm1c', nowMs: sim.nowMs, identity: sameWg, revokedKeys }).result.refused ?? '', /keys were revoked/);
  const fresh = joinInMemory(sim.rnd, mesh, hub.member, { name: 'm1d', nowMs: sim.nowMs, revokedKeys });
  assert.ok(fresh.member, fresh.result.refused ?? '');
  assert.is.not(toHex(fresh.member!.identity.sign.publicKey), toHex(m1.member.identity.sign.publicKey));
});

test('a revocation survives a restart: a new core restores it and refuses the records it covers', () => {
  const { sim, hub, m1 } = street(SEED + 7);
  const p = revoke(sim, hub, 'm1');
  const saved = hub.core.revocations.all().map((r) => r.bytes);
  assert.equal(saved, [p.bytes]);
  const u = parseRevocation(p.bytes);
  assert.is(u.targetId, m1.member.id);
  const again = new NodeCore({ network: sim.mesh.network, chain: hub.member.chain, signKeys: hub.member.identity.sign, relay: true, configuredEndpoints: [], services: [], subnets: [], lastSeq: 0, nowMs: sim.nowMs });
  for (const b of saved) again.revocations.restore(b);
  assert.not.ok(again.acceptRecord(m1.core.selfRecord.bytes, sim.nowMs));
  assert.is(again.dropped.revoked, 1);
});

test(`propagation at 100 nodes: every member drops the revoked one within ${PROPAGATION_LIMIT_MS / 1000} s`, () => {
  const rnd = seededBytes(SEED + 100);
  const r = mulberry32(SEED + 100);
  const mesh = foundMesh(rnd, { name: 'city', nowMs: T0 });
  const sim = new MeshSim(mesh, rnd, T0);
  const hub = sim.addFounder();
  const nodes = [hub];
  for (let i = 1; i < 100; i++) {
    // n1 is an admin; every member has a session with the hub and with one other member.
    const n = sim.join(hub, `n${i}`, { admin: i === 1 });
    sim.link(hub, n);
    if (i > 1) sim.link(nodes[1 + Math.floor(r() * (nodes.length - 1))]!, n);
    nodes.push(n);
  }
  for (let i = 0; i < 300 && !nodes.every((n) => n.core.allRecords().length === nodes.length); i++) sim.run(SIM_TICK_MS);
  assert.ok(nodes.every((n) => n.core.allRecords().length === nodes.length), 'every node holds all 100 records');
  // The admin n1 revokes: its revocation travels n1 → its neighbours → everyone else.
  const admin = nodes[1]!;
  const victim = nodes[2 + Math.floor(r() * 97)]!;
  const p = plan(admin, victim.member.name, sim.nowMs);
  sim.dispatch(admin, admin.core.applyRevocation(p.bytes, sim.nowMs));
  const others = nodes.filter((n) => n !== victim);
  const took = timeUntil(sim, () => others.every((n) => !holds(n, victim.member.id)), PROPAGATION_LIMIT_MS);
  assert.ok(took !== null, `not propagated within ${PROPAGATION_LIMIT_MS} ms`);
  console.log(`  revocation propagation, 100 nodes (push, 10 ms per hop in the simulator): ${took} ms of virtual time (seed ${SEED + 100})`);
  // With every push lost, anti-entropy alone: a second revocation.
  const victim2 = others.find((n) => n !== hub && n !== admin)!;
  const t2 = sim.nowMs;
  sim.dropIf = (_f, _t, bytes) => bytes[1] === 10 && sim.nowMs - t2 < 50;
  const p2 = plan(admin, victim2.member.name, sim.nowMs);
  sim.dispatch(admin, admin.core.applyRevocation(p2.bytes, sim.nowMs));
  const rest = others.filter((n) => n !== victim2);
  const took2 = timeUntil(sim, () => rest.every((n) => !holds(n, victim2.member.id)), 60_000);
  sim.dropIf = null;
  assert.ok(took2 !== null, 'anti-entropy alone propagated it');
  console.log(`  revocation propagation, 100 nodes, first pushes lost (anti-entropy): ${took2} ms of virtual time`);
  for (const n of rest) assert.is(n.core.dropped.failed, 0);
});

test.run();
