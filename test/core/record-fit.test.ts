// A node's own record never outgrows MAX_RECORD_BYTES: a chain-3 member with
// many live peers and a full set of services and subnets re-signs a trimmed
// record (slowest links first) instead of throwing out of the core.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeCore } from '../../src/core/node.ts';
import { configFitError, decodeRecord, encodeRecord, fitRecord, recordSize, rttDriftOnly, LINK_STICKY_MS, MAX_LINKS, MAX_RECORD_BYTES, MAX_SERVICES, MAX_SUBNETS, type RecordBody } from '../../src/core/record.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh, issueMember, joinInMemory } from '../support/mesh.ts';

const T0 = 1_700_000_000_000;

function chain3Member() {
  const rnd = seededBytes(31);
  const mesh = foundMesh(rnd, { name: 'fit', nowMs: T0 });
  const admin = joinInMemory(rnd, mesh, mesh.founder, { name: 'admin', admin: true, nowMs: T0 }).member!;
  const me = joinInMemory(rnd, mesh, admin, { name: 'deep', nowMs: T0 }).member!;
  assert.is(me.chain.length, 3);
  return { rnd, mesh, me };
}

const services = Array.from({ length: MAX_SERVICES }, (_, i) => ({ name: `service-with-a-long-name-${i}`, port: 1000 + i, proto: 'tcp' as const, type: 'http' }));
const subnets = Array.from({ length: MAX_SUBNETS }, (_, i) => `10.${i}.0.0/16`);

function nodeWithPeers(n: number) {
  const { rnd, mesh, me } = chain3Member();
  const core = new NodeCore({ network: mesh.network, chain: me.chain, signKeys: me.identity.sign, relay: true, configuredEndpoints: [], services: [], subnets: [], lastSeq: 0, nowMs: T0 });
  const peers = Array.from({ length: n }, (_, i) => issueMember(rnd, mesh, `p${i}`, T0));
  const empty: RecordBody = { seq: T0, endpoints: [], links: [], subnets: [], relay: true, exitCapacityMbit: 0, services: [] };
  for (const p of peers) assert.ok(core.acceptRecord(encodeRecord(empty, p.chain, p.identity.sign).bytes, T0), `record of ${p.name}`);
  const now = T0 + 1000;
  core.observeWg(peers.map((p) => ({ publicKey: toBase64(p.identity.wgPub), endpoint: null, lastHandshakeMs: now, rxBytes: 0, txBytes: 0 })), now);
  return { core, me, now };
}

test('a full set of services and subnets with 60 live peers: the record still fits (links go first), nothing throws', () => {
  const { core, now } = nodeWithPeers(60);
  core.setServices(services, now + 1);
  core.setConfigured([], subnets, true, now + 2);
  assert.ok(core.selfRecord.bytes.length <= MAX_RECORD_BYTES, `${core.selfRecord.bytes.length} bytes`);
  assert.is(core.trimmed.links, 60, 'no room is left for links');
  assert.ok(decodeRecord(core.selfRecord.bytes).services.length > 0);
});

test('60 live peers on a chain-3 member, a few services and subnets: a record that fits, the slowest links dropped', () => {
  const { core, now } = nodeWithPeers(60);
  core.setServices(services.slice(0, 4), now + 1);
  core.setConfigured([], subnets.slice(0, 2), true, now + 2);
  const rec = core.selfRecord;
  assert.ok(rec.bytes.length <= MAX_RECORD_BYTES, `${rec.bytes.length} bytes`);
  assert.ok(core.trimmed.links > 0, 'links were trimmed');
  const back = decodeRecord(rec.bytes);
  assert.is(back.chain.length, 3);
  assert.ok(back.links.length > 0 && back.links.length < 60, `${back.links.length} links kept`);
});

test('fitRecord keeps the fastest links and reports what it left out', () => {
  const { mesh, me } = chain3Member();
  void mesh;
  const links = Array.from({ length: 64 }, (_, i) => ({ peer: (i + 16).toString(16).padStart(16, '0'), rttMs: (i * 37) % 200 }));
  const body: RecordBody = { seq: 1, endpoints: [], links, subnets, relay: true, exitCapacityMbit: 0, services };
  assert.ok(recordSize(body, me.chain) > MAX_RECORD_BYTES, 'the test body is too large');
  const { body: fit, trimmed } = fitRecord(body, me.chain);
  assert.ok(recordSize(fit, me.chain) <= MAX_RECORD_BYTES);
  assert.is(trimmed.links, 64 - fit.links.length);
  const kept = Math.max(...fit.links.map((l) => l.rttMs));
  const dropped = links.filter((l) => !fit.links.some((k) => k.peer === l.peer));
  assert.ok(dropped.every((l) => l.rttMs >= kept), 'only links slower than every kept one were dropped');
  assert.equal(fit.links.map((l) => l.peer), [...fit.links.map((l) => l.peer)].sort(), 'links stay sorted by peer');
});

test('fitRecord: a published link keeps its place in a full record until another is faster by LINK_STICKY_MS', () => {
  const { me } = chain3Member();
  const id = (i: number) => (i + 16).toString(16).padStart(16, '0');
  const links = Array.from({ length: 70 }, (_, i) => ({ peer: id(i), rttMs: 20 + i }));
  const body: RecordBody = { seq: 1, endpoints: [], links, subnets: [], relay: true, exitCapacityMbit: 0, services: [] };
  const first = fitRecord(body, me.chain).body;
  assert.is(first.links.length, MAX_LINKS);
  const published = new Set(first.links.map((l) => l.peer));
  assert.ok(published.has(id(63)) && !published.has(id(64)), 'the fastest 64 go first');
  // A new, unmeasured link (0 ms) and one slightly faster than the slowest published one.
  const next = [...links, { peer: id(100), rttMs: 0 }, { peer: id(101), rttMs: 83 - LINK_STICKY_MS + 1 }];
  const fit = fitRecord({ ...body, links: next }, me.chain, published).body;
  const kept = new Set(fit.links.map((l) => l.peer));
  assert.ok(kept.has(id(100)), 'a link faster by more than LINK_STICKY_MS than the slowest published one takes its place');
  assert.not.ok(kept.has(id(101)), 'one faster by less does not');
  assert.not.ok(kept.has(id(63)), 'the slowest published link made room');
  assert.equal([...kept].filter((p) => !published.has(p)), [id(100)], 'nothing else changed');
  // Without the published set, the new links would have displaced two.
  const fresh = new Set(fitRecord({ ...body, links: next }, me.chain).body.links.map((l) => l.peer));
  assert.ok(fresh.has(id(101)) && fresh.has(id(100)));
});

test('fitRecord: rttOf ranks the links (a left-out link competes with its last reading, not the fast value it publishes once forgotten)', () => {
  const { me } = chain3Member();
  const id = (i: number) => (i + 16).toString(16).padStart(16, '0');
  const links = Array.from({ length: 70 }, (_, i) => ({ peer: id(i), rttMs: 20 + i }));
  const body: RecordBody = { seq: 1, endpoints: [], links, subnets: [], relay: true, exitCapacityMbit: 0, services: [] };
  const published = new Set(fitRecord(body, me.chain).body.links.map((l) => l.peer));
  // id(69) was measured at 300 ms, left out, and its RTT forgotten: its input is 0 again.
  const next = links.map((l) => (l.peer === id(69) ? { ...l, rttMs: 0 } : l));
  const last = (l: { peer: string; rttMs: number }) => (l.peer === id(69) ? 300 : l.rttMs);
  const kept = new Set(fitRecord({ ...body, links: next }, me.chain, published, last).body.links.map((l) => l.peer));
  assert.equal(kept, published, 'nothing displaced by a link whose last reading was slow');
  const naive = new Set(fitRecord({ ...body, links: next }, me.chain, published).body.links.map((l) => l.peer));
  assert.ok(naive.has(id(69)), 'ranked by the published value it would have come back in');
});

test('rttDriftOnly: only RTTs of measured links changed; a first measurement, a new peer or another field is more', () => {
  const base: RecordBody = { seq: 1, endpoints: [], links: [{ peer: 'aa', rttMs: 0 }, { peer: 'bb', rttMs: 40 }], subnets: [], relay: true, exitCapacityMbit: 0, services: [] };
  const withLinks = (links: RecordBody['links']) => ({ ...base, links });
  assert.ok(rttDriftOnly(withLinks([{ peer: 'aa', rttMs: 0 }, { peer: 'bb', rttMs: 80 }]), base), 'a measured link drifted');
  assert.not.ok(rttDriftOnly(withLinks([{ peer: 'aa', rttMs: 20 }, { peer: 'bb', rttMs: 40 }]), base), 'the first measurement of a link');
  assert.not.ok(rttDriftOnly(withLinks([{ peer: 'aa', rttMs: 0 }, { peer: 'cc', rttMs: 40 }]), base), 'another peer');
  assert.not.ok(rttDriftOnly(withLinks([{ peer: 'aa', rttMs: 0 }]), base), 'a link fewer');
  assert.not.ok(rttDriftOnly({ ...withLinks([{ peer: 'aa', rttMs: 0 }, { peer: 'bb', rttMs: 80 }]), relay: false }, base), 'and another field');
  assert.ok(rttDriftOnly(base, base), 'the same body (sameBody decides that first)');
});

test('configFitError refuses services that leave no room for links, and accepts a usual set', () => {
  const { me } = chain3Member();
  assert.is(configFitError(services.slice(0, 4), subnets.slice(0, 2), me.chain), null);
  assert.match(configFitError(services, subnets, me.chain) ?? '', /bytes over/);
  assert.match(configFitError([...services, ...services], [], me.chain) ?? '', /at most 32/);
});

test.run();
