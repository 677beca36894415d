// Members are not trusted: what one sends about itself cannot take what the
// host already has, and junk costs no signature checks.
//   issue reproductions: control from non-members answered (5), failed
//   verifications not cached (5), another member's WireGuard key (8),
//   backdated certificates (8), no per-source limit (5).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeCore } from '../../src/core/node.ts';
import { encodeControl } from '../../src/core/gossip.ts';
import { encodeRecord, type RecordBody } from '../../src/core/record.ts';
import { issueCert, verifyChain, ChainError } from '../../src/core/cert.ts';
import { networkId } from '../../src/core/network.ts';
import { allocateSingle, initialAllocState } from '../../src/core/alloc.ts';
import { nodeIdOf } from '../../src/core/record.ts';
import { formatIPv4 } from '../../src/core/ip.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh, issueMember, joinInMemory, makeIdentity, type Member, type Mesh } from '../support/mesh.ts';

const T0 = 1_700_000_000_000;
const EMPTY: RecordBody = { seq: T0, endpoints: [], links: [], subnets: [], relay: true, exitCapacityMbit: 0, services: [] };

function hub() {
  const rnd = seededBytes(77);
  const mesh = foundMesh(rnd, { name: 'trust', nowMs: T0 });
  const f = mesh.founder;
  const core = new NodeCore({ network: mesh.network, chain: f.chain, signKeys: f.identity.sign, relay: true, configuredEndpoints: [], services: [], subnets: [], lastSeq: 0, nowMs: T0 });
  return { rnd, mesh, core };
}

const recordOf = (m: Member, seq = T0) => encodeRecord({ ...EMPTY, seq }, m.chain, m.identity.sign).bytes;
const ping = (nonce: number) => encodeControl({ type: 'ping', nonce, sentMs: T0 });

test('a control datagram from an address that is no member\'s gets no answer and is counted', () => {
  const { core } = hub();
  assert.equal(core.handleControl(ping(1), '198.18.1.77', T0 + 1), [], 'a LAN host gets no PONG');
  assert.equal(core.handleControl(ping(2), '100.64.9.9', T0 + 1), [], 'nor an unknown overlay address');
  assert.is(core.dropped.nonMember, 2);
});

test('a member over its control rate is cut off and counted; within it, it is answered', () => {
  const { rnd, mesh, core } = hub();
  const m = issueMember(rnd, mesh, 'm', T0);
  assert.ok(core.acceptRecord(recordOf(m), T0));
  const ip = formatIPv4(m.chain[0]!.ipv4);
  let answered = 0;
  for (let i = 0; i < 1000; i++) answered += core.handleControl(ping(i), ip, T0 + 1).length;
  assert.ok(answered > 0 && answered <= 300, `${answered} answered in one burst`);
  assert.is(core.dropped.rateLimited, 1000 - answered);
  assert.is(core.handleControl(ping(5000), ip, T0 + 2001).length, 1, 'answered again after the bucket refills');
});

test('a record that failed verification is refused again without a second signature check', () => {
  const { rnd, mesh, core } = hub();
  const m = issueMember(rnd, mesh, 'm', T0);
  const bad = recordOf(m).slice();
  bad[bad.length - 1]! ^= 1; // the signature
  assert.not.ok(core.acceptRecord(bad, T0));
  assert.is(core.dropped.badSignature, 1);
  for (let i = 0; i < 50; i++) assert.not.ok(core.acceptRecord(bad, T0));
  assert.is(core.dropped.badSignature, 1, 'verified once');
  assert.is(core.dropped.knownBad, 50);
  assert.ok(core.acceptRecord(recordOf(m), T0), 'the genuine record still goes through');
});

/** A member certified by the founder at `issuedAtMs` with the given WireGuard key. */
function memberWithWgKey(rnd: (n: number) => Uint8Array, mesh: Mesh, name: string, wgPub: Uint8Array, issuedAtMs: number): Member {
  const identity = { ...makeIdentity(rnd), wgPub };
  const f = mesh.founder;
  const { ipv4, state } = allocateSingle(f.chain[0]!.pool!, f.alloc);
  f.alloc = state;
  const cert = issueCert({
    networkId: networkId(mesh.network.params.networkPub), name, signPub: identity.sign.publicKey, wgPub, ipv4,
    admin: false, pool: null, issuedAtMs, expiresAtMs: 0, issuerPub: f.identity.sign.publicKey,
  }, f.identity.sign);
  return { name, id: nodeIdOf(identity.sign.publicKey), identity, chain: [cert, ...f.chain], alloc: initialAllocState(1), invites: [] };
}

test('another member\'s WireGuard key: the certificate issued first keeps it, in either order of arrival', () => {
  for (const order of ['victim first', 'impostor first']) {
    const { rnd, mesh, core } = hub();
    const victim = issueMember(rnd, mesh, 'victim', T0 + 10);
    const impostor = memberWithWgKey(rnd, mesh, 'impostor', victim.identity.wgPub, T0 + 20);
    const [first, second] = order === 'victim first' ? [victim, impostor] : [impostor, victim];
    assert.ok(core.acceptRecord(recordOf(first), T0 + 30));
    core.acceptRecord(recordOf(second), T0 + 30);
    assert.ok(core.nodeByWgPub(toBase64(victim.identity.wgPub))?.id === victim.id, `${order}: the key maps to the victim`);
    assert.is(core.nodeById(impostor.id), undefined, `${order}: the impostor is not a member here`);
    assert.is(core.dropped.duplicateKey, 1, order);
    assert.is(core.netmap().peers.filter((p) => p.publicKey === toBase64(victim.identity.wgPub)).length <= 1, true);
  }
});

test('admission refuses a WireGuard key another member has', () => {
  const rnd = seededBytes(78);
  const mesh = foundMesh(rnd, { name: 'trust', nowMs: T0 });
  const a = joinInMemory(rnd, mesh, mesh.founder, { name: 'a', nowMs: T0 + 1 }).member!;
  const thief = { ...makeIdentity(rnd), wgPub: a.identity.wgPub };
  const out = joinInMemory(rnd, mesh, mesh.founder, { name: 'b', nowMs: T0 + 2, identity: thief });
  assert.is(out.member, null);
  assert.match(out.result.refused ?? '', /WireGuard key belongs to another member/);
});

test('a certificate may not predate its issuer\'s (a backdated one would win a name)', () => {
  const rnd = seededBytes(79);
  const mesh = foundMesh(rnd, { name: 'trust', nowMs: T0 });
  const admin = joinInMemory(rnd, mesh, mesh.founder, { name: 'admin', admin: true, nowMs: T0 + 5000 }).member!;
  const id = makeIdentity(rnd);
  const backdated = issueCert({
    networkId: networkId(mesh.network.params.networkPub), name: 'early', signPub: id.sign.publicKey, wgPub: id.wgPub,
    ipv4: admin.chain[0]!.pool!.base + 1, admin: false, pool: null, issuedAtMs: T0 + 1, expiresAtMs: 0, issuerPub: admin.identity.sign.publicKey,
  }, admin.identity.sign);
  assert.throws(() => verifyChain([backdated, ...admin.chain], mesh.network.params, T0 + 10_000), (e: unknown) => e instanceof ChainError && /predates/.test((e as Error).message));
});

test.run();
