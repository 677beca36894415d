/// <reference types="node" />
// Gossip and membership in a deterministic simulator of NodeCores (virtual
// clock, in-memory delivery): convergence within a bounded time, forged and
// stale records dropped and counted without changing anything, addresses that
// never collide across admitters, and chains that verify.
//   KITH_SEED=<n> npx uvu -r tsx test/core 'gossip\.test\.ts$'
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeControl } from '../../src/core/gossip.ts';
import { encodeRecord, MAX_RECORD_BYTES } from '../../src/core/record.ts';
import { issueCert, verifyChain, MAX_CHAIN, type Cert } from '../../src/core/cert.ts';
import { networkId } from '../../src/core/network.ts';
import { formatIPv4, prefix4Contains } from '../../src/core/ip.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import type { DropCounters } from '../../src/core/node.ts';
import { zeroDrops as zeroDropsAll } from '../../src/core/verify.ts';
import { seededBytes, mulberry32 } from '../support/rand.ts';
import { foundMesh, joinInMemory, makeIdentity, type Member, type Mesh } from '../support/mesh.ts';
import { MeshSim, SIM_TICK_MS, type SimNode } from '../support/sim.ts';

const SEED = Number(process.env.KITH_SEED ?? 4242);
const T0 = 1_700_000_000_000;
/** Convergence bound: a few gossip rounds per hop of the widest topology. */
const CONVERGE_LIMIT_MS = 60_000;

function seeded<T>(seed: number, body: () => T): T {
  try {
    return body();
  } catch (e) {
    (e as Error).message += `\n  (seed ${seed}; reproduce: KITH_SEED=${seed} npx uvu -r tsx test/core 'gossip\\.test\\.ts$')`;
    throw e;
  }
}

/** Founder (hub) plus members; every member has a session with the hub, some with each other. */
function hubMesh(seed: number, members: number): { sim: MeshSim; hub: SimNode; nodes: SimNode[] } {
  const rnd = seededBytes(seed);
  const r = mulberry32(seed);
  const mesh = foundMesh(rnd, { name: 'sim', nowMs: T0 });
  const sim = new MeshSim(mesh, rnd, T0);
  const hub = sim.addFounder();
  const nodes = [hub];
  // One delegated admin, who admits a member of its own.
  const admin = sim.join(hub, 'admin1', { admin: true });
  nodes.push(admin);
  sim.link(hub, admin);
  for (let i = 0; i < members; i++) {
    const via = i === 0 ? admin : hub;
    const n = sim.join(via, `m${i}`, { relay: r() < 0.7 });
    sim.link(via, n);
    if (via !== hub && r() < 0.5) sim.link(hub, n);
    nodes.push(n);
    sim.run(SIM_TICK_MS);
  }
  for (let i = 2; i < nodes.length; i++) if (r() < 0.3) sim.link(nodes[i]!, nodes[1 + Math.floor(r() * (nodes.length - 1))]!);
  for (const n of nodes.slice(2)) if (!sim.peersOf(n).includes(hub) && !sim.peersOf(n).includes(admin)) sim.link(hub, n);
  return { sim, hub, nodes };
}

test('a hub mesh converges to one set of records within the bound, and stays converged', () => {
  for (const seed of [SEED, SEED + 1, SEED + 2]) {
    seeded(seed, () => {
      const { sim, nodes } = hubMesh(seed, 7);
      const took = sim.runUntilConverged(CONVERGE_LIMIT_MS);
      assert.ok(took !== null, `not converged after ${CONVERGE_LIMIT_MS} ms: ${[...sim.views()].map(([k, v]) => `${k}=${v.split(',').length}`).join(' ')}`);
      // The first pings replace the default RTT, so records change once more; then quiet.
      sim.run(30_000);
      assert.ok(sim.converged(), 'diverged after the first RTT measurements');
      const settled = [...sim.views().values()][0];
      sim.run(60_000);
      assert.ok(sim.converged(), 'diverged with nothing happening');
      assert.is([...sim.views().values()][0], settled, 'records kept changing with nothing happening');
      assert.is(sim.undeliverable, 0);
      // Honest reordering (an older version arriving by a slower route) counts as stale, and a session the
      // simulator declares before the record behind it has arrived delivers from a non-member; nothing else may be dropped.
      for (const n of nodes) assert.equal({ ...n.core.dropped, stale: 0, nonMember: 0 }, zeroDrops(), `${n.member.name} dropped something in a clean run`);
    });
  }
});

test('a line topology (no hub in the middle) converges: records travel hop by hop', () => {
  seeded(SEED, () => {
    const rnd = seededBytes(SEED);
    const mesh = foundMesh(rnd, { name: 'line', nowMs: T0 });
    const sim = new MeshSim(mesh, rnd, T0);
    const nodes = [sim.addFounder()];
    for (let i = 0; i < 6; i++) {
      const n = sim.join(nodes[0]!, `l${i}`);
      sim.link(nodes[nodes.length - 1]!, n);
      nodes.push(n);
    }
    const took = sim.runUntilConverged(CONVERGE_LIMIT_MS);
    assert.ok(took !== null, `line of ${nodes.length} not converged in ${CONVERGE_LIMIT_MS} ms`);
    // The far end sees the founder relayed through every node in between.
    const far = nodes[nodes.length - 1]!.core.netmap();
    const founder = far.nodes.find((n) => n.name === 'hub')!;
    assert.is(founder.path, 'relayed');
    assert.is(founder.via, 'l4');
  });
});

function zeroDrops(): DropCounters {
  return zeroDropsAll();
}

function snapshot(n: SimNode): string {
  return n.core.allRecords().map((r) => `${r.id}:${r.seq}:${toBase64(r.bytes)}`).sort().join('\n');
}

/** Delivers one records message to `to` as if from `from`; asserts exactly `counter` went up by one and nothing changed. */
function injectRecord(sim: MeshSim, to: SimNode, from: SimNode, bytes: Uint8Array, counter: keyof DropCounters | null, what: string): void {
  const before = snapshot(to);
  const drops = { ...to.core.dropped };
  const netmap = JSON.stringify(to.core.netmap());
  const actions = to.core.handleControl(encodeControl({ type: 'records', records: [bytes] }), from.ipv4, sim.nowMs);
  assert.equal(actions, [], `${what}: no actions`);
  const want = { ...drops };
  if (counter) want[counter]++;
  assert.equal({ ...to.core.dropped }, want, `${what}: counted as ${counter}`);
  assert.is(snapshot(to), before, `${what}: records unchanged`);
  assert.is(JSON.stringify(to.core.netmap()), netmap, `${what}: netmap unchanged`);
}

test('forged, foreign, stale, oversize and malformed input is dropped, counted, and changes nothing', () => {
  seeded(SEED, () => {
    const { sim, hub, nodes } = hubMesh(SEED, 4);
    const victim = nodes[3]!;
    const target = nodes[4]!;
    const staleBytes = victim.core.selfRecord.bytes;
    assert.ok(sim.runUntilConverged(CONVERGE_LIMIT_MS) !== null);
    // Make the victim re-sign so the copy taken above is stale everywhere.
    victim.core.setServices([{ name: 'web', port: 80, proto: 'tcp', type: 'http' }], sim.nowMs);
    sim.run(10_000);
    assert.ok(sim.converged());
    const current = target.core.allRecords().find((r) => r.id === victim.member.id)!;
    assert.ok(current.seq > 0 && current.bytes !== staleBytes);

    // A copy at the current seq is a duplicate: ignored before any signature check, counted nowhere.
    const badSig = current.bytes.slice();
    badSig[badSig.length - 1]! ^= 1;
    injectRecord(sim, target, hub, badSig, null, 'current seq, flipped signature bit');

    // A body edited to a higher seq without re-signing: seq is the u64 right after the chain.
    const bumped = current.bytes.slice();
    const seqAt = 2 + current.chain.reduce((n, c) => n + 2 + c.bytes.length, 0);
    bumped[seqAt + 2]! += 1;
    injectRecord(sim, target, hub, bumped, 'badSignature', 'higher seq, old signature');
    const bumpedBadSig = bumped.slice();
    bumpedBadSig[bumpedBadSig.length - 1]! ^= 1;
    injectRecord(sim, target, hub, bumpedBadSig, 'badSignature', 'higher seq, flipped signature bit');

    injectRecord(sim, target, hub, staleBytes, 'stale', 'replayed older record');
    injectRecord(sim, target, hub, current.bytes, null, 'duplicate of the current record');

    const rnd = seededBytes(SEED + 99);
    const other = foundMesh(rnd, { name: 'sim', nowMs: T0 });
    const foreign = encodeRecord({ seq: T0 * 2, endpoints: [], links: [], subnets: [], relay: true, exitCapacityMbit: 0, services: [] }, other.founder.chain, other.founder.identity.sign);
    injectRecord(sim, target, hub, foreign.bytes, 'unknownSigner', 'record of another network with the same name');

    const oversize = new Uint8Array(MAX_RECORD_BYTES + 1);
    oversize.set(current.bytes);
    injectRecord(sim, target, hub, oversize, 'oversize', `${oversize.length}-byte record`);

    injectRecord(sim, target, hub, current.bytes.subarray(0, 100), 'malformed', 'truncated record');
    injectRecord(sim, target, hub, new Uint8Array([9, 1, 2, 3]), 'malformed', 'unknown record version');

    // A plain member (no pool) certifies a new identity: the chain does not verify.
    const plain = nodes[4]!.member;
    const fake = makeIdentity(rnd);
    const mesh = sim.mesh;
    const bogus = issueCert({
      networkId: networkId(mesh.network.params.networkPub), name: 'intruder', signPub: fake.sign.publicKey, wgPub: fake.wgPub,
      ipv4: plain.chain[0]!.ipv4 + 1000, admin: true, pool: null, issuedAtMs: sim.nowMs, expiresAtMs: 0, issuerPub: plain.identity.sign.publicKey,
    }, plain.identity.sign);
    const intruder = encodeRecord({ seq: sim.nowMs, endpoints: [], links: [], subnets: [], relay: true, exitCapacityMbit: 0, services: [] }, [bogus, ...plain.chain], fake.sign);
    injectRecord(sim, target, hub, intruder.bytes, 'invalidChain', 'member without admission rights certifies someone');

    // The founder certifies an expired member, and a member on an address already taken.
    const expired = issueMemberCert(mesh, mesh.founder, 'late', sim.nowMs - 2000, sim.nowMs - 1000, 0x64400000 + 900);
    injectRecord(sim, target, hub, expired, 'expired', 'expired certificate');
    const clash = issueMemberCert(mesh, mesh.founder, 'twin', sim.nowMs, 0, victim.member.chain[0]!.ipv4);
    injectRecord(sim, target, hub, clash, 'invalidChain', `second member on ${victim.ipv4}`);

    // Garbage control messages (one longer than the largest control message: oversize).
    const drops = target.core.dropped.malformed;
    const oversized = target.core.dropped.oversize;
    for (const junk of [new Uint8Array(0), new Uint8Array([1]), new Uint8Array([2, 1]), new Uint8Array([1, 99]), rnd(300), new Uint8Array(9000)]) {
      assert.equal(target.core.handleControl(junk, hub.ipv4, sim.nowMs), []);
    }
    assert.is(target.core.dropped.malformed, drops + 5);
    assert.is(target.core.dropped.oversize, oversized + 1);

    // Nothing forged spread: the mesh still agrees on the same records.
    sim.run(20_000);
    assert.ok(sim.converged());
    for (const n of nodes) assert.is(n.core.allRecords().length, nodes.length, `${n.member.name} holds only members`);
  });
});

function issueMemberCert(mesh: Mesh, issuer: Member, name: string, issuedAtMs: number, expiresAtMs: number, ipv4: number): Uint8Array {
  const who = makeIdentity(seededBytes(ipv4));
  const cert = issueCert({
    networkId: networkId(mesh.network.params.networkPub), name, signPub: who.sign.publicKey, wgPub: who.wgPub, ipv4,
    admin: false, pool: null, issuedAtMs, expiresAtMs, issuerPub: issuer.identity.sign.publicKey,
  }, issuer.identity.sign);
  // seq is the signing time (a record older than RECORD_TTL_MS would be refused as departed).
  return encodeRecord({ seq: issuedAtMs, endpoints: [], links: [], subnets: [], relay: true, exitCapacityMbit: 0, services: [] }, [cert, ...issuer.chain], who.sign).bytes;
}

// ---- admission and addresses ----

function chainNames(c: Cert[]): string {
  return c.map((x) => x.name).join(' ← ');
}

test('addresses never collide across many admissions by the founder and delegated admins; every chain verifies', () => {
  seeded(SEED, () => {
    const rnd = seededBytes(SEED);
    const r = mulberry32(SEED);
    const mesh = foundMesh(rnd, { name: 'alloc', nowMs: T0 });
    const now = T0 + 1000;
    const admins: Member[] = [mesh.founder];
    let k = 0;
    for (let round = 0; round < 80; round++) {
      const admitter = admins[Math.floor(r() * admins.length)]!;
      // Admin invites while the chain leaves room for the admin's own members.
      const admin = r() < 0.15 && admitter.chain.length < MAX_CHAIN - 1;
      const out = joinInMemory(rnd, mesh, admitter, { name: `n${k++}`, admin, nowMs: now });
      assert.ok(out.member, `refused: ${out.result.refused}`);
      if (admin && out.member!.chain[0]!.pool) admins.push(out.member!);
    }
    assert.ok(admins.length >= 4, `only ${admins.length} admins`);
    assert.ok(admins.some((a) => a.chain.length === 3), 'an admin admitted by a delegated admin');
    const seen = new Map<number, string>();
    for (const m of mesh.members) {
      const leaf = verifyChain(m.chain, mesh.network.params, now);
      assert.is(leaf.name, m.name);
      const ip = leaf.ipv4;
      assert.not.ok(seen.has(ip), `${formatIPv4(ip)} given to both ${seen.get(ip)} and ${m.name} (${chainNames(m.chain)})`);
      seen.set(ip, m.name);
      assert.ok(prefix4Contains(mesh.network.params.ipv4Pool, ip));
      const last = ip & 255;
      assert.ok(last !== 0 && last !== 255, `${formatIPv4(ip)} looks like a network or broadcast address`);
    }
    // Delegated pools are disjoint from each other.
    const pools = admins.map((a) => ({ name: a.name, pool: a.chain[0]!.pool! }));
    for (const a of pools) {
      for (const b of pools) {
        if (a === b) continue;
        const nested = prefix4Contains(a.pool, b.pool.base) || prefix4Contains(b.pool, a.pool.base);
        const parent = a.pool.len < b.pool.len ? a : b;
        if (nested) assert.ok(mesh.members.find((m) => m.name === (parent === a ? b.name : a.name))!.chain.some((c) => c.name === parent.name), `${a.name} and ${b.name} pools overlap without delegation`);
      }
    }
  });
});

test(`an admin at the deepest level (chain of ${MAX_CHAIN}) cannot produce a member whose chain fails to verify`, () => {
  seeded(SEED, () => {
    const rnd = seededBytes(SEED + 7);
    const mesh = foundMesh(rnd, { name: 'deep', nowMs: T0 });
    let admitter = mesh.founder;
    for (let depth = 2; depth <= MAX_CHAIN; depth++) {
      const out = joinInMemory(rnd, mesh, admitter, { name: `admin${depth}`, admin: true, nowMs: T0 + 1 });
      assert.ok(out.member, out.result.refused ?? '');
      admitter = out.member!;
      assert.is(admitter.chain.length, depth);
    }
    // admitter's chain is MAX_CHAIN long; a member it admits would need MAX_CHAIN + 1.
    let outcome: string;
    try {
      const out = joinInMemory(rnd, mesh, admitter, { name: 'leaf', nowMs: T0 + 2 });
      outcome = out.member ? `admitted with chain ${chainNames(out.member.chain)}` : `refused: ${out.result.refused}`;
      if (out.member) verifyChain(out.member.chain, mesh.network.params, T0 + 3);
    } catch (e) {
      const spent = admitter.invites.some((i) => i.usedBy === 'leaf');
      outcome = `newcomer failed${spent ? ' after the invite was spent' : ''}: ${(e as Error).name}: ${(e as Error).message}`;
    }
    assert.match(outcome, /^refused|^admitted/, `${admitter.name} (chain ${chainNames(admitter.chain)}, pool ${admitter.chain[0]!.pool ? 'yes' : 'no'}): ${outcome}`);
  });
});

test('names are bound at admission: a taken name is refused, and the invite stays unused', () => {
  const rnd = seededBytes(SEED + 3);
  const mesh = foundMesh(rnd, { name: 'names', nowMs: T0 });
  assert.ok(joinInMemory(rnd, mesh, mesh.founder, { name: 'alice', nowMs: T0 + 1 }).member);
  const again = joinInMemory(rnd, mesh, mesh.founder, { name: 'Alice', nowMs: T0 + 2 });
  assert.is(again.member, null);
  assert.match(again.result.refused!, /taken/);
  assert.is(mesh.founder.invites.filter((i) => i.usedBy !== null).length, 1);
});

test.run();
