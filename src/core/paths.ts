// Path computation over the gossiped link graph. Every node runs the same
// computation on the same records, so relayed paths agree hop by hop: an edge
// exists only when both ends report it, weights are symmetric, and a wide
// symmetric per-edge tie-break makes equal-weight paths resolve alike from
// both ends (node ids decide only on an exact 40-bit collision).
// Then the path from A to B is the reverse of the path from B to A, and every
// hop forwards a packet to the peer whose AllowedIPs hold its inner source.
import { hashTo } from './crypto.ts';
import { utf8Encode } from './bytes.ts';

/** RTTs are bucketed so that small jitter does not move paths. */
export const RTT_BUCKET_MS = 20;

/**
 * The RTT a record publishes for a link: bucketed, and kept while a new
 * measurement stays within a bucket and a half of it. Jitter around a bucket
 * edge would otherwise re-sign and re-gossip the record (a signature check costs
 * tens of milliseconds on a router) and could move paths back and forth.
 */
export function publishedRtt(previous: number | undefined, measuredMs: number): number {
  if (previous !== undefined && Math.abs(measuredMs - (previous + RTT_BUCKET_MS / 2)) < RTT_BUCKET_MS * 1.5) return previous;
  return Math.floor(measuredMs / RTT_BUCKET_MS) * RTT_BUCKET_MS;
}

/**
 * A path's cost is (weight, tie), compared in that order. weight = buckets ×
 * BUCKET_UNIT + hops × HOP_UNIT: every hop costs as much as five RTT buckets
 * (100 ms), so traffic goes through a relay only when that saves more than
 * 100 ms per extra hop. Relaying spends a neighbour's uplink and CPU, and
 * RTTs measured by a daemon carry its scheduling jitter: without a real hop
 * cost a direct link measured a little high on a busy router lost to the relay
 * it was meant to replace. tie is a sum of 40-bit per-edge hashes: symmetric,
 * and equal for two different paths with negligible odds, so both ends of a
 * path pick the same one among equal weights.
 */
export const BUCKET_UNIT = 2 ** 30;
export const HOP_UNIT = 5 * BUCKET_UNIT;
const TIE_BITS = 40;

export interface GraphNode {
  id: string;
  /** Ids this node reports a live WireGuard session with, and the RTT to each. */
  links: Map<string, number>;
  /** Whether it forwards traffic for others. */
  relay: boolean;
}

/**
 * Tie-breaks computed so far. Dijkstra asks for one per relaxation, and a
 * BLAKE2b in JavaScript costs tens of microseconds: in the simulator
 * (test/sim) hashing edge ties took more time than all the rest of path
 * computation. A pure function of the two ids, so a cache changes no result.
 */
const ties = new Map<string, Map<string, number>>();
let cachedTies = 0;
export const MAX_CACHED_TIES = 65_536;

/** The symmetric tie-break of an edge: 40 bits of a hash of its two ends. */
export function edgeTie(a: string, b: string): number {
  const lo = a < b ? a : b, hi = a < b ? b : a;
  const hit = ties.get(lo)?.get(hi);
  if (hit !== undefined) return hit;
  const h = hashTo('kith edge', utf8Encode(`${lo}|${hi}`), TIE_BITS / 8);
  let v = 0;
  for (const byte of h) v = v * 256 + byte;
  if (cachedTies >= MAX_CACHED_TIES) { ties.clear(); cachedTies = 0; }
  let m = ties.get(lo);
  if (!m) ties.set(lo, (m = new Map()));
  m.set(hi, v);
  cachedTies++;
  return v;
}

/** Symmetric edge weight: the worse of the two reported RTTs, bucketed, plus one hop. */
export function edgeWeight(_a: string, _b: string, rttAB: number, rttBA: number): number {
  const bucket = 1 + Math.floor(Math.max(rttAB, rttBA) / RTT_BUCKET_MS);
  return bucket * BUCKET_UNIT + HOP_UNIT;
}

/** Edges that both ends report, with their weights. */
export function mutualEdges(nodes: ReadonlyMap<string, GraphNode>): Map<string, Map<string, number>> {
  const adj = new Map<string, Map<string, number>>();
  for (const n of nodes.values()) adj.set(n.id, new Map());
  for (const n of nodes.values()) {
    for (const [peer, rtt] of n.links) {
      const m = nodes.get(peer);
      const back = m?.links.get(n.id);
      if (m === undefined || back === undefined || peer === n.id) continue;
      adj.get(n.id)!.set(peer, edgeWeight(n.id, peer, rtt, back));
    }
  }
  return adj;
}

/**
 * Mutual edges kept from one computation to the next over one records map (a
 * node's store): only the members whose links changed are redone (their links
 * map is cached per record object, so a changed record is a new map). Every
 * changed record makes every member compute a netmap, and rebuilding every
 * edge each time was a third of that at a few hundred members.
 */
export class EdgeCache {
  private seen = new Map<string, ReadonlyMap<string, number>>();
  private relay = new Map<string, boolean>();
  private readonly adj = new Map<string, Map<string, number>>();
  /**
   * What the last update changed: the edges whose weight changed (was/now
   * undefined when absent), or null when members came or went or a relay
   * flag changed (PathCache then computes afresh).
   */
  delta: EdgeChange[] | null = null;
  /** The mutual edges as of the last update (read them, do not change them). */
  get adjacency(): ReadonlyMap<string, ReadonlyMap<string, number>> { return this.adj; }

  /** The mutual edges of `nodes`, equal to mutualEdges(nodes); the map returned is this cache's own (read it, do not change it). */
  update(nodes: ReadonlyMap<string, GraphNode>): Map<string, Map<string, number>> {
    const changed: string[] = [];
    let members = false;
    for (const [id, n] of nodes) {
      if (this.seen.get(id) === n.links && this.relay.get(id) === n.relay) continue;
      changed.push(id);
      if (!this.seen.has(id) || this.relay.get(id) !== n.relay) members = true;
    }
    for (const id of this.seen.keys()) if (!nodes.has(id)) { changed.push(id); members = true; }
    const was = new Map<string, ReadonlyMap<string, number>>();
    for (const id of changed) {
      const old = this.adj.get(id);
      if (old) was.set(id, old);
      for (const peer of old?.keys() ?? []) this.adj.get(peer)?.delete(id);
      this.adj.delete(id);
      this.seen.delete(id);
      this.relay.delete(id);
    }
    for (const id of changed) {
      const n = nodes.get(id);
      if (!n) continue;
      this.seen.set(id, n.links);
      this.relay.set(id, n.relay);
      let mine = this.adj.get(id);
      if (!mine) this.adj.set(id, (mine = new Map()));
      for (const [peer, rtt] of n.links) {
        const back = nodes.get(peer)?.links.get(id);
        if (back === undefined || peer === id) continue;
        const w = edgeWeight(id, peer, rtt, back);
        mine.set(peer, w);
        let theirs = this.adj.get(peer);
        if (!theirs) this.adj.set(peer, (theirs = new Map()));
        theirs.set(id, w);
      }
    }
    if (members) { this.delta = null; return this.adj; }
    const delta: EdgeChange[] = [];
    for (const [a, old] of was) {
      const now = this.adj.get(a);
      for (const [b, w] of old) if (now?.get(b) !== w) delta.push({ a, b, was: w, now: now?.get(b) });
      for (const [b, w] of now ?? []) if (!old.has(b)) delta.push({ a, b, was: undefined, now: w });
    }
    for (const a of changed) if (!was.has(a)) for (const [b, w] of this.adj.get(a) ?? []) delta.push({ a, b, was: undefined, now: w });
    this.delta = delta;
    return this.adj;
  }
}

/** An edge whose weight changed in an EdgeCache update (undefined: no edge). */
export interface EdgeChange { a: string; b: string; was: number | undefined; now: number | undefined }

export interface Route {
  /** First hop from the source, equal to the destination when direct. */
  readonly nextHop: string;
  /** Full path excluding the source (built when read: a netmap needs only the first hop). */
  readonly hops: string[];
  /** Sum of edge weights. */
  readonly cost: number;
  /** Sum of edge tie-breaks. */
  readonly tie: number;
}

/** What Dijkstra settled: each reached node's (cost, tie) and predecessor, and the routes. */
interface Tree {
  source: string;
  cost: Map<string, number>;
  tie: Map<string, number>;
  prev: Map<string, string>;
  routes: Map<string, Route>;
}

class TreeRoute implements Route {
  constructor(readonly nextHop: string, readonly cost: number, readonly tie: number, private readonly id: string, private readonly t: Tree) {}
  get hops(): string[] {
    const hops: string[] = [];
    for (let cur: string | undefined = this.id; cur !== undefined && cur !== this.t.source; cur = this.t.prev.get(cur)) hops.push(cur);
    return hops.reverse();
  }
}

type Entry = [cost: number, tie: number, id: string];
const before = (a: Entry, b: Entry) => a[0] < b[0] || (a[0] === b[0] && (a[1] < b[1] || (a[1] === b[1] && a[2] < b[2])));

/** A binary min-heap of Dijkstra's entries, by (cost, tie, id). */
class EntryHeap {
  private h: Entry[] = [];
  get size(): number { return this.h.length; }
  push(e: Entry): void {
    const h = this.h;
    let i = h.push(e) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): Entry {
    const h = this.h;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

/**
 * Dijkstra from `source` (with a heap: O(E log N)). Only relay-willing nodes
 * forward; nodes are settled by (cost, tie, id) and ties go to the smaller
 * predecessor id, so every node breaks them alike. Weights are positive, so
 * every predecessor is settled before the node: its first hop is known then.
 */
function dijkstra(source: string, nodes: ReadonlyMap<string, GraphNode>, adj: ReadonlyMap<string, ReadonlyMap<string, number>>): Tree {
  const cost = new Map<string, number>([[source, 0]]);
  const tie = new Map<string, number>([[source, 0]]);
  const prev = new Map<string, string>();
  const done = new Set<string>();
  const routes = new Map<string, Route>();
  const t: Tree = { source, cost, tie, prev, routes };
  const heap = new EntryHeap();
  heap.push([0, 0, source]);
  while (heap.size) {
    const [c, tt, u] = heap.pop();
    // An entry left behind by a later improvement, or a node already settled.
    if (done.has(u) || cost.get(u) !== c || tie.get(u) !== tt) continue;
    done.add(u);
    if (u !== source) {
      const p = prev.get(u)!;
      routes.set(u, new TreeRoute(p === source ? u : routes.get(p)!.nextHop, c, tt, u, t));
      if (!nodes.get(u)?.relay) continue;
    }
    for (const [v, w] of adj.get(u) ?? []) {
      if (done.has(v)) continue;
      const nc = c + w, nt = tt + edgeTie(u, v);
      const oc = cost.get(v);
      if (oc === undefined || nc < oc || (nc === oc && nt < tie.get(v)!)) {
        cost.set(v, nc);
        tie.set(v, nt);
        prev.set(v, u);
        heap.push([nc, nt, v]);
      } else if (nc === oc && nt === tie.get(v) && u < prev.get(v)!) {
        prev.set(v, u);
      }
    }
  }
  return t;
}

/** Shortest paths from `source` to every node it reaches (see dijkstra). */
export function shortestPaths(source: string, nodes: ReadonlyMap<string, GraphNode>, adj: ReadonlyMap<string, ReadonlyMap<string, number>> = mutualEdges(nodes)): Map<string, Route> {
  return dijkstra(source, nodes, adj).routes;
}

/**
 * Whether the edges that changed since `t` was computed can change its
 * result. The result is the one solution of: cost(v) = the least
 * cost(u) + w(u, v) (then tie) over the forwarding neighbours u of v, and
 * prev(v) = the smallest such u. A changed edge can move it only if it was a
 * tree edge, or if it now offers a node a cost as good as its own (with a
 * smaller predecessor at an equal one). A removed or dearer edge off the
 * tree changes nothing, and neither does a cheaper one that still loses.
 */
function moves(t: Tree, nodes: ReadonlyMap<string, GraphNode>, changes: readonly EdgeChange[]): boolean {
  const offers = (u: string, v: string, w: number) => {
    const cu = t.cost.get(u);
    if (cu === undefined || v === t.source || (u !== t.source && !nodes.get(u)?.relay)) return false;
    const cv = t.cost.get(v);
    if (cv === undefined) return true;
    const nc = cu + w, nt = t.tie.get(u)! + edgeTie(u, v), tv = t.tie.get(v)!;
    return nc < cv || (nc === cv && (nt < tv || (nt === tv && u < t.prev.get(v)!)));
  };
  for (const { a, b, was, now } of changes) {
    if (was !== undefined && (t.prev.get(b) === a || t.prev.get(a) === b)) return true;
    if (now !== undefined && (was === undefined || now < was) && (offers(a, b, now) || offers(b, a, now))) return true;
  }
  return false;
}

/**
 * Shortest paths kept from one computation to the next over one records map,
 * for one source: Dijkstra runs again only when the edges that changed
 * (EdgeCache.update) can move a path, or when members or relay flags
 * changed. In a large mesh most changed records touch no edge of a node's
 * tree: a link far away, an RTT that stays in its bucket.
 */
export class PathCache {
  private last: Tree | null = null;
  /** Computations that reused the previous result, and those that ran Dijkstra. */
  readonly stats = { kept: 0, computed: 0 };

  routes(source: string, nodes: ReadonlyMap<string, GraphNode>, edges: EdgeCache): Map<string, Route> {
    const adj = edges.update(nodes);
    const d = edges.delta;
    if (this.last && this.last.source === source && d !== null && !moves(this.last, nodes, d)) {
      this.stats.kept++;
      return this.last.routes;
    }
    this.stats.computed++;
    this.last = dijkstra(source, nodes, adj);
    return this.last.routes;
  }
}
