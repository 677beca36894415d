/// <reference types="node" />
// Simulator twins of namespace scenarios: the same topology in test/sim's
// world (the real NodeCore, the NAT models of nat.ts), checked for what the
// namespace test checks about the control plane, and then the same at scale:
// the topology's homes repeated until the mesh has 40 members.
//   symmetric.sh  two homes behind symmetric NATs: relayed through the hub
//                 (the only public node), a punch tried and failed, every
//                 packet accepted hop by hop;
//   mesh.sh       two homes behind cone NATs: direct after the punch;
//   lan-dns.sh    two members in one home (one NAT): direct on the LAN;
//   relay-failover.sh  two homes behind symmetric NATs relayed by one of two
//                 public relays, which goes dark: both move to the other.
//   KITH_SEED=<n> npx uvu -r tsx test/sim 'twins\.test\.ts$'
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildJoinRecord, parseJoinRecord } from '../../src/core/join.ts';
import { foundMesh, issueMember } from '../support/mesh.ts';
import { mulberry32, seededBytes } from '../support/rand.ts';
import type { NatKind } from './nat.ts';
import type { Site } from './net.ts';
import { World, type SimNode } from './world.ts';
import { checkPaths, checkRecords, walk } from './check.ts';

const SEED = Number(process.env.KITH_SEED ?? 4711);
const T0 = 1_800_000_000_000;
const SYMMETRIC: NatKind = { mapping: 'APDM', filtering: 'APDF', hairpin: false };
const CONE: NatKind = { mapping: 'EIM', filtering: 'APDF', hairpin: true };

/** A world with a public hub (the founder); homes join with the hub's join records, as kith join leaves them. */
function hubWorld(seed: number) {
  const rnd = seededBytes(seed);
  const r = mulberry32(seed);
  const mesh = foundMesh(rnd, { name: 'twin', nowMs: T0 });
  const w = new World(mesh, T0, r);
  const hub = w.addNode(mesh.founder, w.net.addSite(null, r));
  let k = 0;
  const join = (site: Site): SimNode => {
    const m = issueMember(rnd, mesh, `home${++k}`, w.nowMs);
    const n = w.addNode(m, site, { records: hub.core.joinRecords() });
    w.acceptRecords(hub, [parseJoinRecord(buildJoinRecord(n.core.selfRecord.bytes))]);
    return n;
  };
  const home = (kind: NatKind) => join(w.net.addSite(kind, r));
  return { w, r, hub, home, join };
}

/** Steps the world, checking the invariants after every tick (records, loops, source checks). */
function run(w: World, seconds: number, pairs: number, r: () => number): void {
  for (let i = 0; i < seconds; i++) {
    w.step();
    checkRecords(w);
    const live = w.live();
    const sample: [SimNode, SimNode][] = [];
    while (sample.length < pairs) {
      const s = live[Math.floor(r() * live.length)]!, d = live[Math.floor(r() * live.length)]!;
      if (s !== d) sample.push([s, d]);
    }
    checkPaths(w, sample);
  }
}

const pathOf = (a: SimNode, b: SimNode) => a.core.netmap().nodes.find((n) => n.id === b.member.id)!;
const allHeld = (w: World) => w.live().every((n) => n.core.allRecords().length === w.live().length);

test('symmetric.sh twin: homes behind symmetric NATs are relayed through the hub (a punch is tried, and fails); at 40 members too', () => {
  const { w, r, hub, home } = hubWorld(SEED);
  const [a, b] = [home(SYMMETRIC), home(SYMMETRIC)];
  let punched = false;
  w.onActions = (_n, acts) => { if (acts.some((x) => x.type === 'punch-open')) punched = true; };
  run(w, 60, 6, r);
  assert.ok(allHeld(w), 'every node holds every record');
  for (const [x, y] of [[a, b], [b, a]] as const) {
    const p = pathOf(x!, y!);
    assert.is(p.path, 'relayed', `${x!.name} → ${y!.name}: ${p.path}`);
    assert.is(p.viaId, hub.member.id);
    const wk = walk(w, x!, y!, true);
    assert.ok(wk.ok, `${x!.name} → ${y!.name}: ${wk.reason}`);
    assert.equal(wk.hops.map((h) => h.name), [hub.name, y!.name]);
  }
  assert.ok(punched, 'a punch was attempted');
  // The same homes, 38 more of them: still every packet accepted, no loop, every record everywhere.
  for (let i = 0; i < 38; i++) home(SYMMETRIC);
  run(w, 90, 200, r);
  assert.ok(allHeld(w), 'every node holds every record at 40');
  const relayed = w.live().filter((n) => n !== hub).every((n) => w.live().every((m) => m === n || m === hub || pathOf(n, m).path !== 'direct'));
  assert.ok(relayed, 'no two symmetric homes went direct');
});

test('mesh.sh twin: homes behind cone NATs go direct after the punch; at 40 members most pairs do', () => {
  const { w, r, home } = hubWorld(SEED + 1);
  const [a, b] = [home(CONE), home(CONE)];
  run(w, 60, 6, r);
  assert.ok(allHeld(w));
  assert.is(pathOf(a, b).path, 'direct');
  assert.is(pathOf(b, a).path, 'direct');
  const wk = walk(w, a, b, true);
  assert.ok(wk.ok && wk.hops.length === 1, `${wk.reason} ${wk.hops.map((h) => h.name)}`);
  for (let i = 0; i < 37; i++) home(CONE);
  run(w, 120, 200, r);
  assert.ok(allHeld(w), 'every node holds every record at 40');
  const homes = w.live().slice(1);
  let direct = 0, pairs = 0;
  for (const x of homes) for (const y of homes) if (x !== y) { pairs++; if (pathOf(x, y).path === 'direct') direct++; }
  assert.ok(direct / pairs > 0.9, `${direct} of ${pairs} home pairs direct`);
});

test('lan-dns.sh twin: two members in one home are direct on the LAN, not through the NAT', () => {
  const { w, r, home, join } = hubWorld(SEED + 2);
  const a = home(SYMMETRIC);
  const b = join(a.site);
  run(w, 60, 6, r);
  assert.ok(allHeld(w));
  assert.is(pathOf(a, b).path, 'direct');
  const peer = a.core.netmap().peers.find((p) => p.publicKey === b.key)!;
  assert.is(peer.endpoint, b.internal, `a dials b at ${peer.endpoint}`);
  assert.ok(walk(w, a, b, true).ok);
});

test('relay-failover.sh twin: the relay carrying two symmetric homes goes dark; both move to the other relay; at 40 members every pair it carried does', () => {
  const { w, r, hub, home, join } = hubWorld(SEED + 3);
  const hub2 = join(w.net.addSite(null, r));
  const [a, b] = [home(SYMMETRIC), home(SYMMETRIC)];
  run(w, 60, 6, r);
  assert.ok(allHeld(w));
  const via = pathOf(a, b).viaId;
  assert.ok(via === hub.member.id || via === hub2.member.id, `a → b: ${pathOf(a, b).path} via ${pathOf(a, b).via}`);
  assert.is(pathOf(b, a).viaId, via, 'both ends name the same relay');
  /**
   * Seconds, ticking with the invariants, until every pair walks live through
   * `other` (null past limitS); each pair sends a ping's bytes each second
   * meanwhile, as the namespace test's ping (every 0.1 s) runs through the relay.
   */
  const failover = (pairs: [SimNode, SimNode][], other: SimNode, limitS: number): number | null => {
    for (let t = 1; t <= limitS; t++) {
      for (const [x, y] of pairs) w.traffic(x, y, 10 * (84 + 32)); // ten pings a second, with WireGuard's overhead
      run(w, 1, 6, r);
      if (pairs.every(([x, y]) => pathOf(x, y).viaId === other.member.id && walk(w, x, y, true).ok)) return t;
    }
    return null;
  };
  let [dead, other] = via === hub.member.id ? [hub, hub2] : [hub2, hub];
  w.stop(dead);
  const t1 = failover([[a, b], [b, a]], other, 30);
  assert.ok(t1 !== null && t1 <= 5, `the pair moved to ${other.name} after ${t1} s (the goal: within 5 s)`);

  // Back up, 36 more homes: a relay carrying many pairs goes dark.
  w.restart(dead);
  dead.alive = true;
  for (let i = 0; i < 36; i++) home(SYMMETRIC);
  run(w, 120, 200, r);
  assert.ok(allHeld(w), 'every node holds every record at 40');
  const homes = w.live().filter((n) => n !== hub && n !== hub2);
  const through = (x: SimNode) => homes.flatMap((p) => homes.filter((q) => q !== p && pathOf(p, q).viaId === x.member.id).map((q): [SimNode, SimNode] => [p, q]));
  [dead, other] = through(hub).length >= through(hub2).length ? [hub, hub2] : [hub2, hub];
  const carried = through(dead);
  assert.ok(carried.length >= homes.length, `${dead.name} carries ${carried.length} pairs`);
  w.stop(dead);
  const t40 = failover(carried, other, 30);
  assert.ok(t40 !== null && t40 <= 5, `${carried.length} pairs moved to ${other.name} after ${t40} s (the goal: within 5 s)`);
});

test.run();
