// Nothing lives for ever (issue 8, item 10): certificates expire and are
// renewed from their issuer, records of members that left are forgotten, and
// the own record is re-signed daily so the living never are.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeCore, type Action } from '../../src/core/node.ts';
import { encodeControl } from '../../src/core/gossip.ts';
import { encodeRecord, type RecordBody } from '../../src/core/record.ts';
import { issueCert, type Cert } from '../../src/core/cert.ts';
import { networkId } from '../../src/core/network.ts';
import { allocateSingle, initialAllocState } from '../../src/core/alloc.ts';
import { nodeIdOf } from '../../src/core/record.ts';
import { formatIPv4 } from '../../src/core/ip.ts';
import { RECORD_TTL_MS, RESIGN_INTERVAL_MS } from '../../src/core/store.ts';
import { DEFAULT_CERT_LIFETIME_MS, RENEW_RETRY_MS, renewalDue } from '../../src/core/renew.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh, joinInMemory, makeIdentity, type Member, type Mesh } from '../support/mesh.ts';
import { MeshSim } from '../support/sim.ts';

const T0 = 1_700_000_000_000;
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const EMPTY: RecordBody = { seq: T0, endpoints: [], links: [], subnets: [], relay: true, exitCapacityMbit: 0, services: [] };

function coreOf(mesh: Mesh, m: Member, nowMs: number, certLifetimeMs?: number): NodeCore {
  return new NodeCore({
    network: mesh.network, chain: m.chain, signKeys: m.identity.sign, relay: true, configuredEndpoints: [], services: [], subnets: [],
    lastSeq: 0, nowMs, ...(certLifetimeMs ? { certLifetimeMs } : {}),
  });
}

const recordOf = (m: Member, seq: number) => encodeRecord({ ...EMPTY, seq }, m.chain, m.identity.sign).bytes;

/** A member certified by `issuer` with the given validity, bypassing admission. */
function certified(rnd: (n: number) => Uint8Array, mesh: Mesh, issuer: Member, name: string, issuedAtMs: number, expiresAtMs: number): Member {
  const identity = makeIdentity(rnd);
  const { ipv4, state } = allocateSingle(issuer.chain[0]!.pool!, issuer.alloc);
  issuer.alloc = state;
  const cert = issueCert({
    networkId: networkId(mesh.network.params.networkPub), name, signPub: identity.sign.publicKey, wgPub: identity.wgPub, ipv4,
    admin: false, pool: null, issuedAtMs, expiresAtMs, issuerPub: issuer.identity.sign.publicKey,
  }, issuer.identity.sign);
  const m: Member = { name, id: nodeIdOf(identity.sign.publicKey), identity, chain: [cert, ...issuer.chain], alloc: initialAllocState(1), invites: [] };
  mesh.members.push(m);
  return m;
}

test('admission issues certificates that expire, never past the admitter\'s own', () => {
  const rnd = seededBytes(101);
  const mesh = foundMesh(rnd, { name: 'exp', nowMs: T0 });
  assert.is(mesh.founder.chain[0]!.expiresAtMs, 0, 'the founder\'s certificate does not expire');
  const admin = joinInMemory(rnd, mesh, mesh.founder, { name: 'admin', admin: true, nowMs: T0 + 1, certLifetimeMs: 30 * DAY }).member!;
  assert.is(admin.chain[0]!.expiresAtMs, T0 + 1 + 30 * DAY);
  const m = joinInMemory(rnd, mesh, admin, { name: 'm', nowMs: T0 + 2, certLifetimeMs: DEFAULT_CERT_LIFETIME_MS }).member!;
  assert.is(m.chain[0]!.expiresAtMs, admin.chain[0]!.expiresAtMs, 'capped at the issuer\'s expiry');
});

test('an expired certificate is refused and counted; a stored record leaves when its chain expires', () => {
  const rnd = seededBytes(102);
  const mesh = foundMesh(rnd, { name: 'exp', nowMs: T0 });
  const hub = coreOf(mesh, mesh.founder, T0);
  const m = certified(rnd, mesh, mesh.founder, 'short', T0, T0 + HOUR);
  assert.ok(hub.acceptRecord(recordOf(m, T0), T0), 'valid while the certificate is');
  assert.ok(hub.netmap().nodes.some((n) => n.id === m.id));
  // Past the expiry a newer record is refused, and the one held goes at the next tick.
  assert.not.ok(hub.acceptRecord(recordOf(m, T0 + HOUR + 2), T0 + HOUR + 2));
  assert.is(hub.dropped.expired, 1);
  const actions = hub.tick(T0 + HOUR + 3);
  assert.is(hub.nodeById(m.id), undefined, 'dropped from the store');
  assert.not.ok(hub.netmap().nodes.some((n) => n.id === m.id), 'and from the netmap');
  assert.ok(actions.some((a) => a.type === 'netmap'));
  assert.is(hub.dropped.expired, 2);
  // A chain is valid only while every certificate in it is: a member whose own
  // certificate lasts a year, under an admin whose certificate has expired.
  const admin = certified(rnd, mesh, mesh.founder, 'admin', T0, T0 + HOUR);
  admin.chain[0] = issueCert({ ...admin.chain[0]!, admin: true, pool: { base: 0x64500000, len: 14 } }, mesh.founder.identity.sign);
  const under = certified(rnd, mesh, admin, 'under', T0, T0 + 365 * DAY);
  assert.not.ok(hub.acceptRecord(recordOf(under, T0 + 2 * HOUR), T0 + 2 * HOUR));
  assert.is(hub.dropped.expired, 3);
});

test('a departed member\'s record is dropped after RECORD_TTL_MS and cannot come back; the living re-sign daily', () => {
  const rnd = seededBytes(103);
  const mesh = foundMesh(rnd, { name: 'exp', nowMs: T0 });
  const hub = coreOf(mesh, mesh.founder, T0);
  const gone = certified(rnd, mesh, mesh.founder, 'gone', T0, 0);
  const alive = certified(rnd, mesh, mesh.founder, 'alive', T0, 0);
  const aliveCore = coreOf(mesh, alive, T0);
  const old = recordOf(gone, T0);
  assert.ok(hub.acceptRecord(old, T0));
  assert.ok(hub.acceptRecord(aliveCore.selfRecord.bytes, T0));
  const hubSeq0 = hub.seq;
  // Eight days, one tick a day on both nodes; the living member's daily record reaches the hub.
  for (let day = 1; day <= 8; day++) {
    const now = T0 + day * DAY + 1000;
    aliveCore.tick(now);
    assert.ok(aliveCore.selfRecord.seq >= now, `day ${day}: re-signed without any change`);
    hub.acceptRecord(aliveCore.selfRecord.bytes, now);
    hub.tick(now);
    assert.ok(hub.seq >= now, `day ${day}: the hub re-signed too`);
    const expectGone = now - T0 > RECORD_TTL_MS;
    assert.is(hub.nodeById(gone.id) === undefined, expectGone, `day ${day}: departed record ${expectGone ? 'dropped' : 'kept'}`);
    assert.ok(hub.nodeById(alive.id), `day ${day}: the living member stays`);
  }
  assert.ok(hub.seq > hubSeq0);
  assert.is(hub.dropped.departed, 1);
  assert.not.ok(hub.netmap().nodes.some((n) => n.id === gone.id));
  // Gossip (or a record cache) offering the old record again: refused before any signature check.
  assert.not.ok(hub.acceptRecord(old, T0 + 9 * DAY));
  assert.is(hub.dropped.departed, 2);
  assert.is(hub.dropped.badSignature + hub.dropped.knownBad, 0);
  assert.ok(RESIGN_INTERVAL_MS * 2 < RECORD_TTL_MS, 'a node that misses a re-sign is not forgotten');
});

/** Messages a node sent of one control type. */
function sent(actions: Action[], type: string): Uint8Array[] {
  return actions.flatMap((a) => (a.type === 'send' && a.bytes[1] === { renew: 8, cert: 9 }[type] ? [a.bytes] : []));
}

test('renewal round trip between two nodes: asked in the last third, same identity and issue time, new expiry, re-signed record', () => {
  const rnd = seededBytes(104);
  const mesh = foundMesh(rnd, { name: 'renew', nowMs: T0 });
  const sim = new MeshSim(mesh, rnd, T0);
  const hub = sim.addFounder();
  const home = sim.join(hub, 'home', { certLifetimeMs: 3 * HOUR });
  sim.link(hub, home);
  sim.run(10_000);
  const first = home.core.certChain[0]!;
  assert.is(first.expiresAtMs, T0 + 3 * HOUR);
  assert.not.ok(renewalDue(home.core.certChain, T0 + HOUR));
  // Not due yet: the issuer does not answer a RENEW (no signature spent).
  assert.equal(hub.core.handleControl(encodeControl({ type: 'renew' }), home.ipv4, sim.nowMs), []);
  // Into the last third: the member asks, the founder answers, the member re-signs.
  sim.nowMs = T0 + 2 * HOUR + 60_000;
  sim.run(5000);
  const renewed = home.core.certChain[0]!;
  assert.ok(renewed.expiresAtMs > first.expiresAtMs, 'a later expiry');
  const askedAt = T0 + 2 * HOUR + 60_000;
  assert.ok(renewed.expiresAtMs > askedAt + DEFAULT_CERT_LIFETIME_MS && renewed.expiresAtMs < askedAt + 5000 + DEFAULT_CERT_LIFETIME_MS, 'the issuer\'s lifetime from now');
  assert.is(renewed.issuedAtMs, first.issuedAtMs, 'the first issue time is kept');
  assert.equal([renewed.name, renewed.ipv4, renewed.signPub, renewed.wgPub], [first.name, first.ipv4, first.signPub, first.wgPub]);
  assert.ok(sim.log.some((l) => l.from === home.ipv4 && l.action.type === 'chain'), 'the daemon is told to persist the chain');
  assert.is(hub.core.nodeById(home.member.id)!.chain[0]!.expiresAtMs, renewed.expiresAtMs, 'the hub holds the re-signed record');
  // Past the first certificate's expiry the member is still a member everywhere.
  sim.nowMs = T0 + 3 * HOUR + 60_000;
  sim.run(5000);
  assert.ok(hub.core.nodeById(home.member.id));
  assert.is(hub.core.dropped.expired, 0);
  assert.ok(sim.converged());
});

test('renewal: only the issuer answers, only for the sender\'s own certificate; repeats cost no signature; offers not asked for are ignored', () => {
  const rnd = seededBytes(105);
  const mesh = foundMesh(rnd, { name: 'renew', nowMs: T0 });
  const hub = coreOf(mesh, mesh.founder, T0);
  const a = certified(rnd, mesh, mesh.founder, 'a', T0, T0 + 3 * HOUR);
  const b = certified(rnd, mesh, mesh.founder, 'b', T0, T0 + 3 * HOUR);
  const aCore = coreOf(mesh, a, T0);
  const bCore = coreOf(mesh, b, T0);
  for (const c of [hub, aCore, bCore]) for (const r of [hub, aCore, bCore]) if (c !== r) c.acceptRecord(r.selfRecord.bytes, T0);
  const due = T0 + 2 * HOUR + 1000;
  const renew = encodeControl({ type: 'renew' });
  // b is not a's issuer: no answer.
  assert.equal(bCore.handleControl(renew, formatIPv4(a.chain[0]!.ipv4), due), []);
  // The founder answers a, with a's identity, and answers the same bytes again.
  const one = sent(hub.handleControl(renew, formatIPv4(a.chain[0]!.ipv4), due), 'cert');
  const two = sent(hub.handleControl(renew, formatIPv4(a.chain[0]!.ipv4), due + 1000), 'cert');
  assert.is(one.length, 1);
  assert.equal(two[0], one[0], 'the cached renewal, not a second signature');
  // a did not ask yet: the offer is ignored. Once it asked, b cannot answer for the issuer.
  assert.equal(aCore.handleControl(one[0]!, formatIPv4(mesh.founder.chain[0]!.ipv4), due), []);
  assert.is(aCore.certChain[0]!.expiresAtMs, T0 + 3 * HOUR);
  const asked = aCore.tick(due);
  assert.is(sent(asked, 'renew').length, 1, 'a asks once');
  assert.is(sent(aCore.tick(due + 1000), 'renew').length, 0, 'and waits before asking again');
  assert.is(sent(aCore.tick(due + RENEW_RETRY_MS + 1000), 'renew').length, 1, 'then asks again');
  assert.equal(aCore.handleControl(one[0]!, formatIPv4(b.chain[0]!.ipv4), due + 2000), [], 'an offer from a non-issuer is ignored');
  // b's renewal offered to a (another identity) by the issuer: refused and counted.
  const forB = sent(hub.handleControl(renew, formatIPv4(b.chain[0]!.ipv4), due), 'cert');
  const before = aCore.dropped.invalidChain;
  aCore.handleControl(forB[0]!, formatIPv4(mesh.founder.chain[0]!.ipv4), due + 3000);
  assert.is(aCore.dropped.invalidChain, before + 1);
  // Its own: adopted, persisted, and the record re-signed.
  const out = aCore.handleControl(one[0]!, formatIPv4(mesh.founder.chain[0]!.ipv4), due + 4000);
  assert.ok(out.some((x) => x.type === 'chain'));
  assert.ok(aCore.certChain[0]!.expiresAtMs > T0 + 3 * HOUR);
  assert.equal(aCore.selfRecord.chain[0]!.bytes, aCore.certChain[0]!.bytes);
  assert.is(hub.dropped.failed + aCore.dropped.failed + bCore.dropped.failed, 0);
});

test('a renewed certificate keeps its place: the earlier-issued keeps a WireGuard key after it renews', () => {
  const rnd = seededBytes(106);
  const mesh = foundMesh(rnd, { name: 'renew', nowMs: T0 });
  const hub = coreOf(mesh, mesh.founder, T0);
  const victim = certified(rnd, mesh, mesh.founder, 'victim', T0 + 10, T0 + 3 * HOUR);
  const vCore = coreOf(mesh, victim, T0 + 10);
  hub.acceptRecord(vCore.selfRecord.bytes, T0 + 10);
  vCore.acceptRecord(hub.selfRecord.bytes, T0 + 10);
  const due = T0 + 2 * HOUR + 1000;
  vCore.tick(due);
  const cert = sent(hub.handleControl(encodeControl({ type: 'renew' }), formatIPv4(victim.chain[0]!.ipv4), due), 'cert');
  vCore.handleControl(cert[0]!, formatIPv4(mesh.founder.chain[0]!.ipv4), due + 1);
  assert.ok(hub.acceptRecord(vCore.selfRecord.bytes, due + 2));
  // An impostor certified later with the victim's key does not win it after the renewal.
  const impostor = certified(rnd, mesh, mesh.founder, 'impostor', T0 + 20, 0);
  const chain: Cert[] = [issueCert({ ...impostor.chain[0]!, wgPub: victim.identity.wgPub }, mesh.founder.identity.sign), ...mesh.founder.chain];
  assert.not.ok(hub.acceptRecord(encodeRecord({ ...EMPTY, seq: due }, chain, impostor.identity.sign).bytes, due + 3));
  assert.is(hub.nodeById(victim.id)?.chain[0]!.expiresAtMs, vCore.certChain[0]!.expiresAtMs);
  assert.is(hub.dropped.duplicateKey, 1);
});

test.run();
