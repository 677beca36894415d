/// <reference types="node" />
// Paths and netmap, checked as properties on random link graphs and as
// tables. The property that matters: WireGuard accepts a relayed packet at a
// hop only if its inner source is in the AllowedIPs of the peer it came from,
// so every node's independent path computation must agree hop by hop.
//   KITH_SEED=<n> KITH_GRAPHS=<count> npx uvu -r tsx test/core 'paths\.test\.ts$'
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { edgeTie, edgeWeight, mutualEdges, shortestPaths, EdgeCache, PathCache, type GraphNode, type Route } from '../../src/core/paths.ts';
import { computeNetmap, dialEndpoint, type Netmap } from '../../src/core/netmap.ts';
import { needsPunch } from '../../src/core/punch.ts';
import { encodeRecord, type Endpoint, type NodeRecord } from '../../src/core/record.ts';
import { formatIPv4 } from '../../src/core/ip.ts';
import { e2ePort, ipv6ForIPv4, transportForIPv4 } from '../../src/core/network.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import { mulberry32, seededBytes } from '../support/rand.ts';
import { foundMesh, issueMember, type Member, type Mesh } from '../support/mesh.ts';

const BASE_SEED = Number(process.env.KITH_SEED ?? 20240601);
const MODEL_GRAPHS = Number(process.env.KITH_GRAPHS ?? 300);
const NETMAP_GRAPHS = Math.max(1, Math.floor(MODEL_GRAPHS / 25));
const T0 = 1_700_000_000_000;

type Graph = Map<string, GraphNode>;

function reproduce(seed: number): string {
  return `seed ${seed}; reproduce: KITH_SEED=${seed} KITH_GRAPHS=1 npx uvu -r tsx test/core 'paths\\.test\\.ts$'`;
}

/** Runs `body` for one seed; any failure names the seed and the command that replays it. */
function withSeed(seed: number, body: () => void): void {
  try {
    body();
  } catch (e) {
    const err = e as Error;
    err.message = `${err.message}\n  (${reproduce(seed)})`;
    throw err;
  }
}

// ---- random graphs ----

/**
 * A connected link graph: a random spanning tree of mutual links plus random
 * extra ones, RTTs reported slightly differently by the two ends, a quarter of
 * the nodes unwilling to relay, and a few one-sided links (which make no edge).
 */
function randomGraph(seed: number, ids?: string[], uniformRttMs = 0): Graph {
  const r = mulberry32(seed);
  const hex = seededBytes(seed ^ 0x9e3779b9);
  const n = ids ? ids.length : 5 + Math.floor(r() * 36);
  const names = ids ?? Array.from({ length: n }, () => [...hex(8)].map((b) => b.toString(16).padStart(2, '0')).join(''));
  const g: Graph = new Map();
  for (const id of names) g.set(id, { id, links: new Map(), relay: r() >= 0.25 });
  const link = (a: string, b: string, mutual: boolean) => {
    const base = uniformRttMs || 1 + Math.floor(r() * 250);
    const jitter = () => (uniformRttMs ? 0 : Math.floor(r() * 12));
    g.get(a)!.links.set(b, base + jitter());
    if (mutual) g.get(b)!.links.set(a, base + jitter());
  };
  for (let i = 1; i < n; i++) link(names[i]!, names[Math.floor(r() * i)]!, true);
  const p = Math.min(0.5, 2.5 / n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = names[i]!;
      const b = names[j]!;
      if (g.get(a)!.links.has(b)) continue;
      if (r() < p) link(a, b, true);
      else if (r() < 0.02) link(a, b, false);
    }
  }
  return g;
}

/** Reference shortest costs from `s` (Bellman-Ford): only s and relay-willing nodes forward. */
function oracleCosts(s: string, g: Graph, adj: Map<string, Map<string, number>>): Map<string, number> {
  const dist = new Map<string, number>([[s, 0]]);
  for (let round = 0; round < g.size; round++) {
    let changed = false;
    for (const [u, du] of [...dist]) {
      if (u !== s && !g.get(u)!.relay) continue;
      for (const [v, w] of adj.get(u)!) {
        if (v === s) continue;
        const old = dist.get(v);
        if (old === undefined || du + w < old) { dist.set(v, du + w); changed = true; }
      }
    }
    if (!changed) break;
  }
  return dist;
}

/** All routes of every node, as each node computes them independently. */
function allRoutes(g: Graph): Map<string, Map<string, Route>> {
  const out = new Map<string, Map<string, Route>>();
  for (const id of g.keys()) out.set(id, shortestPaths(id, g));
  return out;
}

/** Node sequence S, …, D of a route, or null. */
function pathOf(routes: Map<string, Map<string, Route>>, s: string, d: string): string[] | null {
  const r = routes.get(s)!.get(d);
  return r ? [s, ...r.hops] : null;
}

/**
 * The AllowedIPs model of computeNetmap: at node X, destination D belongs to
 * the peer that is X's next hop towards D. Forwards a packet S→D hop by hop,
 * checking at every receiving hop that S is in the AllowedIPs of the peer it
 * came from. Returns a description of the first violation, or null.
 */
function forwardModel(routes: Map<string, Map<string, Route>>, adj: Map<string, Map<string, number>>, g: Graph, s: string, d: string): string | null {
  let cur = s;
  let from: string | null = null;
  const trail = [s];
  for (let hops = 0; hops <= g.size; hops++) {
    if (from !== null && routes.get(cur)!.get(s)?.nextHop !== from) {
      return `${cur} drops ${s}→${d} arriving from ${from}: its AllowedIPs put ${s} on ${routes.get(cur)!.get(s)?.nextHop ?? 'no peer'} (trail ${trail.join('→')})`;
    }
    if (cur === d) return null;
    if (cur !== s && !g.get(cur)!.relay) return `${cur} does not relay but got transit ${s}→${d} (trail ${trail.join('→')})`;
    const next = routes.get(cur)!.get(d)?.nextHop;
    if (next === undefined) return `${cur} has no route to ${d} (trail ${trail.join('→')})`;
    if (!adj.get(cur)!.has(next)) return `${cur} forwards to ${next} without a mutual link`;
    from = cur;
    cur = next;
    trail.push(cur);
  }
  return `${s}→${d} loops: ${trail.join('→')}`;
}

function checkGraph(g: Graph): void {
  const adj = mutualEdges(g);
  const routes = allRoutes(g);
  for (const s of g.keys()) {
    const oracle = oracleCosts(s, g, adj);
    for (const d of g.keys()) {
      if (s === d) continue;
      const fwd = routes.get(s)!.get(d);
      const back = routes.get(d)!.get(s);
      assert.is(!!fwd, oracle.has(d), `reachability of ${d} from ${s} (oracle ${oracle.has(d)})`);
      assert.is(!!fwd, !!back, `route ${s}→${d} exists iff ${d}→${s} does`);
      if (!fwd) continue;
      assert.is(fwd.cost, oracle.get(d), `cost ${s}→${d} is the shortest`);
      const p = pathOf(routes, s, d)!;
      let sum = 0;
      for (let i = 1; i < p.length; i++) {
        const w = adj.get(p[i - 1]!)!.get(p[i]!);
        assert.ok(w !== undefined, `hop ${p[i - 1]}→${p[i]} of ${p.join('→')} is not a mutual link`);
        sum += w!;
        if (i < p.length - 1) assert.ok(g.get(p[i]!)!.relay, `non-relay ${p[i]} transits ${p.join('→')}`);
      }
      assert.is(sum, fwd.cost, `cost of ${p.join('→')}`);
      assert.equal(p.slice().reverse(), pathOf(routes, d, s), `path ${s}→${d} reversed equals ${d}→${s}`);
      const violation = forwardModel(routes, adj, g, s, d);
      assert.is(violation, null, violation ?? '');
    }
  }
}

test(`random graphs (${MODEL_GRAPHS}): symmetric shortest paths, relay rule, inner-source check hop by hop`, () => {
  for (let i = 0; i < MODEL_GRAPHS; i++) {
    const seed = BASE_SEED + i;
    withSeed(seed, () => checkGraph(randomGraph(seed)));
  }
});

/** The linear-scan Dijkstra shortestPaths had before its heap: the same settling order, by (cost, tie, id). */
function linearScanPaths(source: string, nodes: Graph, adj: Map<string, Map<string, number>>): Map<string, string[]> {
  const dist = new Map<string, [number, number]>([[source, [0, 0]]]);
  const prev = new Map<string, string>();
  const done = new Set<string>();
  const less = (a: [number, number], b: [number, number]) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
  const same = (a: [number, number], b: [number, number]) => a[0] === b[0] && a[1] === b[1];
  for (let guard = 0; guard <= nodes.size; guard++) {
    let u: string | null = null;
    for (const [id, d] of dist) if (!done.has(id) && (u === null || less(d, dist.get(u)!) || (same(d, dist.get(u)!) && id < u))) u = id;
    if (u === null) break;
    done.add(u);
    if (u !== source && !nodes.get(u)?.relay) continue;
    const du = dist.get(u)!;
    for (const [v, w] of adj.get(u) ?? []) {
      if (done.has(v)) continue;
      const nd: [number, number] = [du[0] + w, du[1] + edgeTie(u, v)];
      const old = dist.get(v);
      if (old === undefined || less(nd, old) || (same(nd, old) && u < prev.get(v)!)) { dist.set(v, nd); prev.set(v, u); }
    }
  }
  const out = new Map<string, string[]>();
  for (const id of dist.keys()) {
    if (id === source) continue;
    const hops: string[] = [];
    for (let cur: string | undefined = id; cur !== undefined && cur !== source; cur = prev.get(cur)) hops.unshift(cur);
    out.set(id, hops);
  }
  return out;
}

test(`random graphs (${MODEL_GRAPHS}, plain and with equal RTTs): the heap finds exactly the paths of a linear scan`, () => {
  for (let i = 0; i < MODEL_GRAPHS; i++) {
    const seed = BASE_SEED + 7000 + i;
    withSeed(seed, () => {
      const g = randomGraph(seed, undefined, i % 2 ? 10 : 0);
      const adj = mutualEdges(g);
      for (const s of g.keys()) {
        const heap = new Map([...shortestPaths(s, g, adj)].map(([id, r]) => [id, r.hops]));
        assert.equal(heap, linearScanPaths(s, g, adj), `from ${s}`);
      }
    });
  }
});

/** An adjacency as sorted [id, [[peer, weight]...]] pairs: equal whatever order the maps were filled in. */
const sortedAdj = (adj: Map<string, Map<string, number>>) =>
  [...adj].map(([id, m]) => [id, [...m].sort((x, y) => (x[0] < y[0] ? -1 : 1))] as const).filter(([, m]) => m.length).sort((x, y) => (x[0] < y[0] ? -1 : 1));

test(`random graphs (${MODEL_GRAPHS}), changed a node at a time: the edge cache always equals mutual edges computed afresh, and so do the paths`, () => {
  for (let i = 0; i < MODEL_GRAPHS; i++) {
    const seed = BASE_SEED + 9000 + i;
    withSeed(seed, () => {
      const r = mulberry32(seed ^ 0x51ed);
      const g = randomGraph(seed);
      const cache = new EdgeCache();
      const ids = () => [...g.keys()];
      for (let step = 0; step < 12; step++) {
        const adj = cache.update(g);
        const fresh = mutualEdges(g);
        assert.equal(sortedAdj(adj), sortedAdj(fresh), `step ${step}`);
        const s = ids()[Math.floor(r() * g.size)]!;
        assert.equal(new Map([...shortestPaths(s, g, adj)].map(([id, x]) => [id, x.hops])), new Map([...shortestPaths(s, g, fresh)].map(([id, x]) => [id, x.hops])), `step ${step}, from ${s}`);
        // A member's record changes (a new links map, as a new record brings): a link added, dropped or re-measured; or one leaves, or one joins.
        const all = ids();
        const x = all[Math.floor(r() * all.length)]!;
        const kind = r();
        if (kind < 0.1 && g.size > 3) { g.delete(x); continue; }
        if (kind < 0.2) {
          const id = `${seed.toString(16).padStart(8, '0')}${step.toString(16).padStart(8, '0')}`;
          g.set(id, { id, relay: true, links: new Map([[x, 30]]) });
          g.set(x, { ...g.get(x)!, links: new Map([...g.get(x)!.links, [id, 35]]) });
          continue;
        }
        const links = new Map(g.get(x)!.links);
        const y = all[Math.floor(r() * all.length)]!;
        if (links.has(y) && kind < 0.6) links.delete(y);
        else if (y !== x) links.set(y, 1 + Math.floor(r() * 250));
        g.set(x, { ...g.get(x)!, links });
      }
    });
  }
});

/** Routes as plain values, comparable with assert.equal. */
const plainRoutes = (m: Map<string, Route>) => new Map([...m].map(([id, x]) => [id, { nextHop: x.nextHop, hops: x.hops, cost: x.cost, tie: x.tie }]));

test(`random graphs (${MODEL_GRAPHS}, plain and with equal RTTs), changed a node at a time: paths kept between computations always equal paths computed afresh`, () => {
  const total = { kept: 0, computed: 0 };
  for (let i = 0; i < MODEL_GRAPHS; i++) {
    const seed = BASE_SEED + 11_000 + i;
    withSeed(seed, () => {
      const r = mulberry32(seed ^ 0x7a7e);
      const uniform = i % 2 ? 10 : 0;
      const g = randomGraph(seed, undefined, uniform);
      const edges = new EdgeCache();
      const paths = new PathCache();
      let s = [...g.keys()][0]!;
      for (let step = 0; step < 30; step++) {
        assert.equal(plainRoutes(paths.routes(s, g, edges)), plainRoutes(shortestPaths(s, g, mutualEdges(g))), `step ${step}, from ${s}`);
        const all = [...g.keys()];
        const x = all[Math.floor(r() * all.length)]!;
        const kind = r();
        if (kind < 0.05) { s = x; continue; } // another source: computed afresh
        if (kind < 0.1) { g.set(x, { ...g.get(x)!, relay: !g.get(x)!.relay }); continue; }
        if (kind < 0.13 && g.size > 3 && x !== s) { g.delete(x); continue; }
        const links = new Map(g.get(x)!.links);
        const y = all[Math.floor(r() * all.length)]!;
        if (kind < 0.2) g.set(x, { ...g.get(x)!, links }); // a new record, the same links
        else if (links.has(y) && kind < 0.4) links.delete(y);
        else if (y !== x) links.set(y, uniform || 1 + Math.floor(r() * 250)); // added, or re-measured (a bucket or more apart, or the same)
        g.set(x, { ...g.get(x)!, links });
      }
      total.kept += paths.stats.kept;
      total.computed += paths.stats.computed;
    });
  }
  // Both ways were taken, many times: the comparison covered the kept paths.
  assert.ok(total.kept > MODEL_GRAPHS && total.computed > MODEL_GRAPHS, `kept ${total.kept}, computed ${total.computed}`);
});

test(`random graphs with 10 ms on every link (${MODEL_GRAPHS}): the same properties (many equal costs)`, () => {
  const failed: string[] = [];
  for (let i = 0; i < MODEL_GRAPHS; i++) {
    const seed = BASE_SEED + 200_000 + i;
    try { checkGraph(randomGraph(seed, undefined, 10)); } catch (e) { failed.push(`seed ${seed}: ${(e as Error).message.split('\n')[0]}`); }
  }
  assert.ok(failed.length === 0, `${failed.length} of ${MODEL_GRAPHS} graphs fail; first: ${failed[0]}\n  (KITH_SEED=${BASE_SEED} KITH_GRAPHS=${MODEL_GRAPHS}; uniform graphs use seed KITH_SEED+200000+i)`);
});

// ---- the same property through real records and computeNetmap ----

let meshCache: { mesh: Mesh; pool: Member[] } | null = null;
function memberPool(): { mesh: Mesh; pool: Member[] } {
  if (meshCache) return meshCache;
  const rnd = seededBytes(7);
  const mesh = foundMesh(rnd, { nowMs: T0 });
  const pool = [mesh.founder];
  for (let i = 1; i < 40; i++) pool.push(issueMember(rnd, mesh, `n${i}`, T0));
  meshCache = { mesh, pool };
  return meshCache;
}

/** Signs a record for every graph node; some nodes advertise a LAN subnet. */
function recordsFor(g: Graph, members: Map<string, Member>, seed: number): Map<string, NodeRecord> {
  const r = mulberry32(seed ^ 0x51ed);
  const out = new Map<string, NodeRecord>();
  let k = 0;
  for (const n of g.values()) {
    const m = members.get(n.id)!;
    const links = [...n.links].sort(([a], [b]) => (a < b ? -1 : 1)).map(([peer, rttMs]) => ({ peer, rttMs }));
    const subnets = r() < 0.3 ? [`10.${k++}.0.0/24`] : [];
    out.set(n.id, encodeRecord({ seq: 1, endpoints: [], links, subnets, relay: n.relay, exitCapacityMbit: 0, services: [] }, m.chain, m.identity.sign));
  }
  return out;
}

function peerHolding(nm: Netmap, prefix: string): string[] {
  return nm.peers.filter((p) => p.allowedIPs.includes(prefix)).map((p) => p.publicKey);
}

/** Forwards S→D on the outer interfaces: next hop by AllowedIPs, source checked on arrival. */
function forwardNetmap(netmaps: Map<string, Netmap>, byPub: Map<string, string>, recs: Map<string, NodeRecord>, s: string, d: string, dst: string, srcs: string[]): string | null {
  let cur = s;
  let from: string | null = null;
  const trail = [s];
  for (let hops = 0; hops <= netmaps.size; hops++) {
    const nm = netmaps.get(cur)!;
    if (from !== null) {
      const peer = nm.peers.find((p) => byPub.get(p.publicKey) === from);
      if (!peer) return `${cur} has no WireGuard peer for ${from} (trail ${trail.join('→')})`;
      for (const src of srcs) if (!peer.allowedIPs.includes(src)) return `${cur} drops ${s}→${d}: source ${src} not in AllowedIPs of ${from} (trail ${trail.join('→')})`;
    }
    if (cur === d) return null;
    const holders = peerHolding(nm, dst);
    if (holders.length !== 1) return `${cur} has ${holders.length} peers for ${dst} (trail ${trail.join('→')})`;
    from = cur;
    cur = byPub.get(holders[0]!)!;
    trail.push(cur);
    if (!recs.has(cur)) return `unknown next hop ${cur}`;
  }
  return `${s}→${d} loops: ${trail.join('→')}`;
}

/**
 * Sends S→D as the kernel would: to a direct neighbour on the outer interface;
 * to a relayed member through the end-to-end session, whose UDP travels between
 * transport addresses on the outer interfaces, hop by hop. Returns the relays
 * the outer layer crossed, or an error.
 */
function deliver(netmaps: Map<string, Netmap>, byPub: Map<string, string>, recs: Map<string, NodeRecord>, s: string, d: string, dst: string, srcs: string[], transport: (id: string) => string, port: number): string | null {
  const nm = netmaps.get(s)!;
  const e2e = nm.e2ePeers.filter((p) => p.allowedIPs.includes(dst));
  const outer = peerHolding(nm, dst);
  if (e2e.length > 1 || outer.length > 1) return `${s} has ${outer.length} outer and ${e2e.length} end-to-end peers for ${dst}`;
  // Routing prefers the end-to-end interface (its host routes and subnet routes) where it holds the destination.
  if (!e2e.length) {
    if (!outer.length) return `${s} has no peer for ${dst}`;
    if (byPub.get(outer[0]!) !== d) return `${s} sends ${dst} in clear to ${byPub.get(outer[0]!)}, not to ${d}`;
    return forwardNetmap(netmaps, byPub, recs, s, d, dst, srcs);
  }
  if (byPub.get(e2e[0]!.publicKey) !== d) return `${s}'s end-to-end peer for ${dst} is not ${d}`;
  if (e2e[0]!.endpoint !== `[${transport(d)}]:${port}`) return `${s} dials ${d} end to end at ${e2e[0]!.endpoint}`;
  const v = forwardNetmap(netmaps, byPub, recs, s, d, `${transport(d)}/128`, [`${transport(s)}/128`]);
  if (v) return `outer layer: ${v}`;
  const back = netmaps.get(d)!.e2ePeers.find((p) => byPub.get(p.publicKey) === s);
  if (!back) return `${d} has no end-to-end peer for ${s}`;
  for (const src of srcs) if (!back.allowedIPs.includes(src)) return `${d} drops ${s}→${d} end to end: source ${src} not allowed`;
  return null;
}

test(`random graphs (${NETMAP_GRAPHS}) through encodeRecord + computeNetmap: every packet arrives, every hop accepts its source`, () => {
  const { mesh, pool } = memberPool();
  const params = mesh.network.params;
  for (let i = 0; i < NETMAP_GRAPHS; i++) {
    const seed = BASE_SEED + 100_000 + i;
    withSeed(seed, () => {
      const r = mulberry32(seed);
      const n = 5 + Math.floor(r() * 36);
      const chosen = pool.slice().sort(() => r() - 0.5).slice(0, n);
      const members = new Map(chosen.map((m) => [m.id, m]));
      const g = randomGraph(seed, chosen.map((m) => m.id));
      const recs = recordsFor(g, members, seed);
      const netmaps = new Map([...recs.keys()].map((id) => [id, computeNetmap(id, recs, params)]));
      const byPub = new Map([...recs.values()].map((rec) => [toBase64(rec.chain[0]!.wgPub), rec.id]));
      const routes = allRoutes(g);
      for (const [x, nm] of netmaps) {
        for (const ps of [nm.peers, nm.e2ePeers]) {
          const all = ps.flatMap((p) => p.allowedIPs);
          assert.is(new Set(all).size, all.length, `${x}: an AllowedIP on two peers of one interface`);
        }
        const relayOwns = nm.peers.filter((p) => nm.e2ePeers.some((e) => e.publicKey !== p.publicKey && e.allowedIPs.some((a) => p.allowedIPs.includes(a))));
        assert.is(relayOwns.length, 0, `${x}: a relay's outer peer holds a relayed member's addresses`);
        for (const node of nm.nodes) {
          const route = routes.get(x)!.get(node.id);
          const want = node.id === x ? 'self' : !route ? 'unreachable' : route.nextHop === node.id ? 'direct' : 'relayed';
          assert.is(node.path, want, `${x}'s path to ${node.id}`);
        }
      }
      for (const s of recs.keys()) {
        const sc = recs.get(s)!.chain[0]!;
        const srcs = [`${formatIPv4(sc.ipv4)}/32`, `${ipv6ForIPv4(params.ula48, sc.ipv4)}/128`];
        for (const d of recs.keys()) {
          if (s === d || !routes.get(s)!.get(d)) continue;
          const dc = recs.get(d)!.chain[0]!;
          for (const dst of [`${formatIPv4(dc.ipv4)}/32`, `${ipv6ForIPv4(params.ula48, dc.ipv4)}/128`, ...recs.get(d)!.subnets]) {
            const v = deliver(netmaps, byPub, recs, s, d, dst, srcs, (id) => transportForIPv4(params.ula48, recs.get(id)!.chain[0]!.ipv4), e2ePort(params));
            assert.is(v, null, v ?? '');
          }
        }
      }
    });
  }
});

// ---- tables ----

function graph(edges: [string, string, number][], noRelay: string[] = [], oneSided: [string, string, number][] = []): Graph {
  const g: Graph = new Map();
  const node = (id: string) => {
    let n = g.get(id);
    if (!n) { n = { id, links: new Map(), relay: !noRelay.includes(id) }; g.set(id, n); }
    return n;
  };
  for (const [a, b, rtt] of edges) { node(a).links.set(b, rtt); node(b).links.set(a, rtt); }
  for (const [a, b, rtt] of oneSided) { node(a).links.set(b, rtt); node(b); }
  for (const id of noRelay) node(id);
  return g;
}

test('direct beats relayed when every link has the same RTT', () => {
  for (let i = 0; i < 50; i++) {
    const [a, b, c] = [`a${i}`, `b${i}`, `c${i}`];
    const g = graph([[a, b, 10], [a, c, 10], [c, b, 10]]);
    assert.equal(shortestPaths(a, g).get(b)!.hops, [b], `set ${i}`);
    assert.equal(shortestPaths(b, g).get(a)!.hops, [a], `set ${i}`);
  }
});

test('direct beats a relayed path whose RTTs add up to the same (20 ms direct vs 10 + 10 ms)', () => {
  // Bucketed, both cost 2; the per-edge hash tie-break is summed per hop, so a
  // two-hop path's tie sum (0..8190) undercuts a direct link's (0..4095) for
  // some node ids, and an equal-latency relay is preferred to a direct link.
  const relayed: string[] = [];
  for (let i = 0; i < 200; i++) {
    const [a, b, c] = [`a${i}`, `b${i}`, `c${i}`];
    const r = shortestPaths(a, graph([[a, b, 20], [a, c, 10], [c, b, 10]])).get(b)!;
    if (r.nextHop !== b) relayed.push(`${a}→${b} via ${r.nextHop} (direct ${edgeWeight(a, b, 20, 20)} vs relayed ${r.cost})`);
  }
  assert.ok(relayed.length === 0, `${relayed.length} of 200 id sets relay instead of going direct, e.g. ${relayed.slice(0, 3).join('; ')}`);
});

test('a direct link measured somewhat high still beats the relay: a hop costs five buckets (100 ms)', () => {
  for (let i = 0; i < 50; i++) {
    const [a, b, c] = [`a${i}`, `b${i}`, `c${i}`];
    // 95 ms direct (5 buckets) against 5 + 5 ms relayed (2 buckets, one more hop).
    const g = graph([[a, b, 95], [a, c, 5], [c, b, 5]]);
    assert.equal(shortestPaths(a, g).get(b)!.hops, [b], `set ${i}`);
    assert.equal(shortestPaths(b, g).get(a)!.hops, [a], `set ${i}`);
  }
});

test('a much faster relayed path beats a slow direct link', () => {
  const g = graph([['a', 'b', 200], ['a', 'c', 5], ['c', 'b', 5]]);
  assert.equal(shortestPaths('a', g).get('b')!.hops, ['c', 'b']);
  assert.equal(shortestPaths('b', g).get('a')!.hops, ['c', 'a']);
});

test('non-relay nodes never transit', () => {
  // a - c - b with c unwilling: no route; add a slow relay d and traffic goes there.
  const g = graph([['a', 'c', 5], ['c', 'b', 5]], ['c']);
  assert.is(shortestPaths('a', g).get('b'), undefined);
  assert.equal(shortestPaths('a', g).get('c')!.hops, ['c'], 'a non-relay node is still reachable itself');
  const g2 = graph([['a', 'c', 5], ['c', 'b', 5], ['a', 'd', 100], ['d', 'b', 100]], ['c']);
  assert.equal(shortestPaths('a', g2).get('b')!.hops, ['d', 'b']);
  assert.equal(shortestPaths('b', g2).get('a')!.hops, ['d', 'a']);
  // A non-relay source and destination still use relays in between.
  const g3 = graph([['a', 'r', 5], ['r', 'b', 5]], ['a', 'b']);
  assert.equal(shortestPaths('a', g3).get('b')!.hops, ['r', 'b']);
});

test('unreachable destinations: other components, one-sided links, no links at all', () => {
  const g = graph([['a', 'b', 5], ['c', 'd', 5]], [], [['b', 'c', 5]]);
  g.set('e', { id: 'e', links: new Map(), relay: true });
  const r = shortestPaths('a', g);
  assert.equal([...r.keys()].sort(), ['b']);
  assert.equal([...shortestPaths('e', g).keys()], []);
  assert.equal(mutualEdges(g).get('b')!.has('c'), false, 'a link only one end reports is no edge');
});

test('unreachable members get no AllowedIPs in the netmap; a relayed one is an end-to-end peer, only its transport address sits on the relay', () => {
  const { mesh, pool } = memberPool();
  const [a, hub, b, lone] = pool.slice(0, 4) as [Member, Member, Member, Member];
  const members = new Map([a, hub, b, lone].map((m) => [m.id, m]));
  const g = graph([[a.id, hub.id, 10], [hub.id, b.id, 10]]);
  g.set(lone.id, { id: lone.id, links: new Map(), relay: true });
  const recs = recordsFor(g, members, 1);
  const nm = computeNetmap(a.id, recs, mesh.network.params);
  const byId = new Map(nm.nodes.map((n) => [n.id, n]));
  assert.is(byId.get(lone.id)!.path, 'unreachable');
  assert.is(byId.get(b.id)!.path, 'relayed');
  assert.is(byId.get(b.id)!.via, hub.name);
  const params = mesh.network.params;
  const bv4 = `${formatIPv4(b.chain[0]!.ipv4)}/32`;
  assert.is(nm.peers.length, 1, 'only the hub is a direct peer');
  assert.not.ok(nm.peers[0]!.allowedIPs.includes(bv4), 'the relay never carries b\'s overlay traffic in clear');
  assert.ok(nm.peers[0]!.allowedIPs.includes(`${transportForIPv4(params.ula48, b.chain[0]!.ipv4)}/128`));
  assert.equal(nm.e2ePeers.map((p) => [p.publicKey, p.endpoint]), [[toBase64(b.chain[0]!.wgPub), `[${transportForIPv4(params.ula48, b.chain[0]!.ipv4)}]:${params.controlPort + 1}`]]);
  assert.ok(nm.e2ePeers[0]!.allowedIPs.includes(bv4));
  assert.ok(nm.relayedHosts.includes(bv4));
  const everywhere = [...nm.peers, ...nm.e2ePeers].flatMap((p) => p.allowedIPs);
  assert.not.ok(everywhere.includes(`${formatIPv4(lone.chain[0]!.ipv4)}/32`));
});

test('a relayed member being punched: its own addresses are accepted on the outer peer too (no loss when the far end switches first), sent end to end', () => {
  const { mesh, pool } = memberPool();
  const [a, hub, b] = pool.slice(0, 3) as [Member, Member, Member];
  const members = new Map([a, hub, b].map((m) => [m.id, m]));
  const recs = recordsFor(graph([[a.id, hub.id, 10], [hub.id, b.id, 10]]), members, 1);
  const nm = computeNetmap(a.id, recs, mesh.network.params, new Map([[b.id, { kind: 'public' as const, host: '203.0.113.1', port: 51820 }]]));
  const bv4 = `${formatIPv4(b.chain[0]!.ipv4)}/32`;
  const bPub = toBase64(b.chain[0]!.wgPub);
  assert.is(nm.nodes.find((n) => n.id === b.id)!.path, 'relayed');
  assert.ok(nm.peers.find((p) => p.publicKey === bPub)!.allowedIPs.includes(bv4), 'the punched outer peer accepts b\'s address');
  assert.ok(nm.e2ePeers.find((p) => p.publicKey === bPub)!.allowedIPs.includes(bv4), 'the end-to-end peer too');
  assert.ok(nm.relayedHosts.includes(bv4), 'and the host route sends through the end-to-end interface');
  assert.not.ok(nm.peers.find((p) => p.publicKey === toBase64(hub.chain[0]!.wgPub))!.allowedIPs.includes(bv4), 'never the relay');
});

test('a live session the other end\'s full record left out: still a WireGuard peer, routed through the relay until both publish it', () => {
  const { mesh, pool } = memberPool();
  const [a, hub, b] = pool.slice(0, 3) as [Member, Member, Member];
  const members = new Map([a, hub, b].map((m) => [m.id, m]));
  // a publishes its link to b; b's record had no room for it (one-sided: no edge).
  const g = graph([[a.id, hub.id, 10], [hub.id, b.id, 10]]);
  g.get(a.id)!.links.set(b.id, 5);
  const recs = recordsFor(g, members, 1);
  const bPub = toBase64(b.chain[0]!.wgPub);
  const bv4 = `${formatIPv4(b.chain[0]!.ipv4)}/32`;
  const without = computeNetmap(a.id, recs, mesh.network.params);
  assert.not.ok(without.peers.some((p) => p.publicKey === bPub), 'without the live set the session would be dropped');
  const nm = computeNetmap(a.id, recs, mesh.network.params, new Map(), [], new Set([b.id]));
  assert.is(nm.nodes.find((n) => n.id === b.id)!.path, 'relayed', 'paths still need the link in both records');
  const peer = nm.peers.find((p) => p.publicKey === bPub);
  assert.ok(peer, 'b stays a WireGuard peer: the session lives on');
  assert.ok(peer!.allowedIPs.includes(bv4), 'and what b sends over it directly is accepted');
  assert.ok(nm.e2ePeers.some((p) => p.publicKey === bPub), 'traffic to b goes end to end through the relay');
  assert.not.ok(nm.peers.find((p) => p.publicKey === toBase64(hub.chain[0]!.wgPub))!.allowedIPs.includes(bv4), 'never in clear on the relay');
});

test('ties: results do not depend on the order records arrive in', () => {
  for (let i = 0; i < 20; i++) {
    const seed = BASE_SEED + 500 + i;
    withSeed(seed, () => {
      const g = randomGraph(seed);
      const r = mulberry32(seed);
      const shuffled: Graph = new Map([...g].sort(() => r() - 0.5).map(([id, n]) => [id, { ...n, links: new Map([...n.links].sort(() => r() - 0.5)) }]));
      for (const s of g.keys()) assert.equal([...plainRoutes(shortestPaths(s, shuffled))].sort(), [...plainRoutes(shortestPaths(s, g))].sort(), `routes of ${s}`);
    });
  }
});

/** Searches node ids for two equal-cost paths of `len` hops between s and d; equal RTT on every link. */
function findEqualCostPaths(s: string, d: string, len: 2 | 3, accept: (p: string[], q: string[]) => boolean): [string[], string[]] | null {
  const seen = new Map<number, string[][]>();
  for (let i = 0; i < 4000; i++) {
    const mids = len === 2 ? [`m${i}`] : [`m${i}`, `x${(i * 7919) % 10007}`];
    const p = [s, ...mids, d];
    let cost = 0;
    for (let k = 1; k < p.length; k++) cost += edgeWeight(p[k - 1]!, p[k]!, 10, 10);
    for (const q of seen.get(cost) ?? []) if (accept(p, q)) return [p, q];
    seen.set(cost, [...(seen.get(cost) ?? []), p]);
  }
  return null;
}

test('ties: two equal-cost two-hop paths resolve the same way from both ends', () => {
  const found = findEqualCostPaths('s', 'd', 2, () => true);
  assert.ok(found, 'no equal-cost pair found');
  const [p, q] = found!;
  const g = graph([[p[0]!, p[1]!, 10], [p[1]!, p[2]!, 10], [q[0]!, q[1]!, 10], [q[1]!, q[2]!, 10]]);
  const fwd = shortestPaths('s', g).get('d')!;
  const back = shortestPaths('d', g).get('s')!;
  assert.is(fwd.cost, back.cost);
  assert.equal(['s', ...fwd.hops].reverse(), ['d', ...back.hops]);
});

test('ties: two equal-cost three-hop paths resolve the same way from both ends (inner-source check)', () => {
  // s-a-x-d and s-b-y-d with equal cost, x < y but b < a. From s the tie at d
  // goes to the smaller predecessor x (path s a x d); from d the tie at s goes
  // to b (path d y b s). d then receives s's packets from x while its
  // AllowedIPs put s on y: WireGuard drops them.
  const found = findEqualCostPaths('s', 'd', 3, (p, q) => {
    const [, a, x] = p;
    const [, b, y] = q;
    return (x! < y! && b! < a!) || (y! < x! && a! < b!);
  });
  assert.ok(found, 'no equal-cost pair found');
  const [p, q] = found!;
  const g = graph([...[p, q].flatMap((path) => path.slice(1).map((v, k): [string, string, number] => [path[k]!, v, 10]))]);
  const routes = allRoutes(g);
  const adj = mutualEdges(g);
  const fwd = routes.get('s')!.get('d')!;
  const back = routes.get('d')!.get('s')!;
  assert.is(fwd.cost, back.cost);
  const violation = forwardModel(routes, adj, g, 's', 'd') ?? forwardModel(routes, adj, g, 'd', 's');
  assert.equal(['s', ...fwd.hops].reverse(), ['d', ...back.hops], `paths ${p.join('-')} and ${q.join('-')} tie at cost ${fwd.cost}: ${violation}`);
});

test('dialling: behind one router the LAN endpoint comes first, even before a configured (or router-mapped) one', () => {
  const rec = (...endpoints: Endpoint[]) => ({ endpoints }) as unknown as NodeRecord;
  const ep = (kind: Endpoint['kind'], host: string, port = 51820): Endpoint => ({ kind, host, port });
  // Two homes whose router maps a port each (advertised as configured): no hairpin needed.
  const a = rec(ep('configured', '198.51.100.1', 40001), ep('lan', '198.18.1.2'));
  const b = rec(ep('configured', '198.51.100.1', 40002), ep('lan', '198.18.1.3'));
  assert.equal(dialEndpoint(a, b), ep('lan', '198.18.1.3'));
  assert.equal(dialEndpoint(b, a), ep('lan', '198.18.1.2'));
  // One observed behind the router the other has a mapping on.
  assert.equal(dialEndpoint(rec(ep('public', '198.51.100.1', 3333), ep('lan', '198.18.1.4')), a), ep('lan', '198.18.1.2'));
  // Behind different routers the configured endpoint is dialled; without one nothing (a punch).
  const far = rec(ep('public', '203.0.113.1', 4444), ep('lan', '198.18.2.2'));
  assert.equal(dialEndpoint(far, a), ep('configured', '198.51.100.1', 40001));
  assert.is(dialEndpoint(a, far), null);
  // A public node (its LAN endpoint is its public address) is dialled at its configured endpoint.
  const hub = rec(ep('configured', '192.0.2.1'), ep('lan', '192.0.2.1'));
  assert.equal(dialEndpoint(a, hub), ep('configured', '192.0.2.1'));
});

test('dialling: two members with global IPv6 addresses dial each other there, with no punch; an IPv6 LAN address is no IPv4 LAN address', () => {
  const rec = (...endpoints: Endpoint[]) => ({ endpoints }) as unknown as NodeRecord;
  const ep = (kind: Endpoint['kind'], host: string, port = 51820): Endpoint => ({ kind, host, port });
  const a = rec(ep('public', '198.51.100.1', 3333), ep('lan', '198.18.1.2'), ep('lan', '2001:db8:1::2'));
  const b = rec(ep('public', '203.0.113.1', 4444), ep('lan', '198.18.2.2'), ep('lan', '2001:db8:2::2'));
  assert.equal(dialEndpoint(a, b), ep('lan', '2001:db8:2::2'));
  assert.equal(dialEndpoint(b, a), ep('lan', '2001:db8:1::2'));
  assert.not.ok(needsPunch(a, b) || needsPunch(b, a), 'no punch between them');
  // One side without IPv6 (or with only a ULA, which is not global): the IPv4 punch as before.
  const v4only = rec(ep('public', '203.0.113.1', 4444), ep('lan', '198.18.2.2'), ep('lan', 'fd00:2::2'));
  assert.is(dialEndpoint(a, v4only), null);
  assert.is(dialEndpoint(v4only, a), null);
  assert.ok(needsPunch(a, v4only));
  // A configured endpoint still comes first; behind one router the IPv4 LAN address, never the IPv6 one in its place.
  const hub = rec(ep('configured', '192.0.2.1'), ep('lan', '2001:db8:9::1'));
  assert.equal(dialEndpoint(a, hub), ep('configured', '192.0.2.1'));
  const sameRouter = rec(ep('public', '198.51.100.1', 5555), ep('lan', '2001:db8:1::3'), ep('lan', '198.18.1.3'));
  assert.equal(dialEndpoint(a, sameRouter), ep('lan', '198.18.1.3'));
});

test.run();
