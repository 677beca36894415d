// Joins at any mesh size (issue 8, item 10). Reproduction: the join reply
// carried every record in one frame capped at MAX_JOIN_FRAME (256 KiB), so at
// ~400 members (fewer with full records) every join failed after the invite
// was spent. Now the reply carries what the newcomer needs to start, within
// JOIN_RECORDS_BUDGET, and gossip brings the rest.
//
// Signing 1000 members' records costs ~15 s of CPU here (three Ed25519
// operations each), so the frame is measured with MEMBERS full-size (1400-byte)
// records, more bytes than the frame cap holds, and the bound at 1000 members
// follows from withinBudget, checked below with 1000 entries: the reply's size
// does not depend on the number of members.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeCore } from '../../src/core/node.ts';
import { encodeRecord, fitRecord, MAX_RECORD_BYTES, type NodeRecord, type RecordBody } from '../../src/core/record.ts';
import { issueCert } from '../../src/core/cert.ts';
import { networkId } from '../../src/core/network.ts';
import { allocateSingle } from '../../src/core/alloc.ts';
import { joinRecords, withinBudget, JOIN_RECORDS_BUDGET } from '../../src/core/admit.ts';
import { frameJoin, MAX_JOIN_FRAME } from '../../src/core/join.ts';
import { signKeysFromSeed } from '../../src/core/crypto.ts';
import { nodeIdOf } from '../../src/core/record.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh, joinInMemory } from '../support/mesh.ts';
import { MeshSim } from '../support/sim.ts';

const T0 = 1_700_000_000_000;
const MEMBERS = 200;
/** Network parameters, the newcomer's chain (≤ 4 certificates) and framing: what a reply holds besides records. */
const REPLY_OVERHEAD_BYTES = 2048;

test(`a join reply at ${MEMBERS} members with full records stays within its budget; the newcomer starts from it`, () => {
  const rnd = seededBytes(301);
  const mesh = foundMesh(rnd, { name: 'big', nowMs: T0 });
  const f = mesh.founder;
  const pool = f.chain[0]!.pool!;
  const fullBody = (i: number, ids: string[]): RecordBody => ({
    seq: T0 + 1000, relay: true, exitCapacityMbit: 0, subnets: [],
    endpoints: [
      ...(i % 10 === 0 ? [{ kind: 'configured' as const, host: `203.0.113.${1 + (i % 250)}`, port: 51820 }] : []),
      ...Array.from({ length: 7 }, (_, k) => ({ kind: 'lan' as const, host: `fd00::${i.toString(16)}:${k}`, port: 51820 })),
    ],
    links: ids.slice(0, 64).map((peer, k) => ({ peer, rttMs: 10 + k })),
    services: Array.from({ length: 8 }, (_, k) => ({ name: `service-${k}-of-member-${i}`, port: 1000 + k, proto: 'tcp' as const, type: 'http' })),
  });
  const ids: string[] = [];
  const members = Array.from({ length: MEMBERS }, () => {
    const sign = signKeysFromSeed(rnd(32));
    const single = allocateSingle(pool, f.alloc);
    f.alloc = single.state;
    ids.push(nodeIdOf(sign.publicKey));
    return { sign, ipv4: single.ipv4 };
  });
  const records: NodeRecord[] = members.map((m, i) => {
    const cert = issueCert({
      networkId: networkId(mesh.network.params.networkPub), name: `m${i}`, signPub: m.sign.publicKey, wgPub: rnd(32), ipv4: m.ipv4,
      admin: false, pool: null, issuedAtMs: T0 + i, expiresAtMs: 0, issuerPub: f.identity.sign.publicKey,
    }, f.identity.sign);
    const chain = [cert, ...f.chain];
    return encodeRecord(fitRecord(fullBody(i, ids.filter((x) => x !== ids[i])), chain).body, chain, m.sign);
  });
  const hub = new NodeCore({
    network: mesh.network, chain: f.chain, signKeys: f.identity.sign, relay: true, configuredEndpoints: [{ kind: 'configured', host: '192.0.2.1', port: 51820 }],
    services: [], subnets: [], lastSeq: 0, nowMs: T0 + 1000,
  });
  const all = [hub.selfRecord, ...records];
  const everything = all.reduce((n, r) => n + r.bytes.length + 2, 0);
  assert.ok(records.every((r) => r.bytes.length > MAX_RECORD_BYTES - 100), 'full-size records');
  assert.ok(everything > MAX_JOIN_FRAME, `precondition: all records (${everything} bytes) exceed the ${MAX_JOIN_FRAME}-byte frame, as every reply did`);

  const chosen = joinRecords(all, f.id);
  const out = joinInMemory(rnd, mesh, f, { name: 'newcomer', nowMs: T0 + 2000, records: chosen });
  assert.ok(out.member, out.result.refused ?? '');
  const frame = frameJoin(out.result.reply);
  assert.ok(frame.length <= JOIN_RECORDS_BUDGET + REPLY_OVERHEAD_BYTES, `reply frame of ${frame.length} bytes`);
  assert.ok(frame.length < MAX_JOIN_FRAME / 4);
  if (!out.reply.ok) throw new Error('refused');
  // Our own record first, then those with configured endpoints (reachable without a punch).
  assert.equal(out.reply.records[0], hub.selfRecord.bytes);
  const configured = records.filter((r) => r.endpoints.some((e) => e.kind === 'configured')).map((r) => toBase64(r.bytes));
  const carried = out.reply.records.slice(1).map(toBase64);
  assert.ok(carried.length >= Math.min(configured.length, 10), `${carried.length} records carried`);
  const head = carried.slice(0, configured.length);
  assert.ok(head.every((b) => configured.includes(b)), 'the members reachable without a punch first');

  // The newcomer starts with it: every record verifies, the admitter is its peer at its configured endpoint.
  const me = out.member!;
  const joiner = new NodeCore({ network: mesh.network, chain: me.chain, signKeys: me.identity.sign, relay: true, configuredEndpoints: [], services: [], subnets: [], lastSeq: 0, nowMs: T0 + 2000 });
  for (const b of out.reply.records) assert.ok(joiner.acceptRecord(b, T0 + 2000));
  assert.is(joiner.allRecords().length, out.reply.records.length + 1);
  const peer = joiner.netmap().peers.find((p) => p.publicKey === toBase64(f.identity.wgPub));
  assert.ok(peer, 'the admitter is a WireGuard peer');
  assert.is(peer!.endpoint, '192.0.2.1:51820');
  assert.is(joiner.dropped.failed, 0);
});

test('the budget holds at 1000 members and more: withinBudget keeps the order and never passes the budget', () => {
  const sizes = Array.from({ length: 1000 }, (_, i) => 300 + ((i * 7919) % 1100));
  const recs = sizes.map((n, i) => new Uint8Array(n).fill(i & 255));
  const kept = withinBudget(recs, JOIN_RECORDS_BUDGET);
  const used = kept.reduce((n, r) => n + r.length + 2, 0);
  assert.ok(used <= JOIN_RECORDS_BUDGET && used > JOIN_RECORDS_BUDGET - MAX_RECORD_BYTES - 2, `${used} bytes of ${JOIN_RECORDS_BUDGET}`);
  assert.equal(kept, recs.filter((r) => kept.includes(r)), 'in the order given');
  assert.ok(JOIN_RECORDS_BUDGET + REPLY_OVERHEAD_BYTES < MAX_JOIN_FRAME / 4);
});

test('a newcomer that starts with only the admitter\'s record learns the whole mesh by gossip', () => {
  const rnd = seededBytes(302);
  const mesh = foundMesh(rnd, { name: 'tiny', nowMs: T0 });
  const sim = new MeshSim(mesh, rnd, T0);
  const hub = sim.addFounder();
  const nodes = [hub];
  for (let i = 0; i < 8; i++) {
    // A budget that holds one record: the admitter's own, which comes first.
    const n = sim.join(hub, `m${i}`, { joinBudgetBytes: hub.core.selfRecord.bytes.length + 2 });
    assert.is(n.core.allRecords().length, 2, `m${i} started from the admitter's record alone`);
    sim.link(hub, n);
    nodes.push(n);
  }
  const took = sim.runUntilConverged(60_000);
  assert.ok(took !== null, 'converged');
  for (const n of nodes) assert.is(n.core.allRecords().length, nodes.length);
});

test.run();
