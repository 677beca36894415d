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
  const [lo, hi] = a < b ? [a, b] : [b, a];
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
export function mutualEdges(nodes: Map<string, GraphNode>): Map<string, Map<string, number>> {
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
  private readonly adj = new Map<string, Map<string, number>>();

  /** The mutual edges of `nodes`, equal to mutualEdges(nodes); the map returned is this cache's own (read it, do not change it). */
  update(nodes: ReadonlyMap<string, GraphNode>): Map<string, Map<string, number>> {
    const changed: string[] = [];
    for (const [id, n] of nodes) if (this.seen.get(id) !== n.links) changed.push(id);
    for (const id of this.seen.keys()) if (!nodes.has(id)) changed.push(id);
    for (const id of changed) {
      for (const peer of this.adj.get(id)?.keys() ?? []) this.adj.get(peer)?.delete(id);
      this.adj.delete(id);
      this.seen.delete(id);
    }
    for (const id of changed) {
      const n = nodes.get(id);
      if (!n) continue;
      this.seen.set(id, n.links);
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
    return this.adj;
  }
}

export interface Route {
  /** First hop from the source, equal to the destination when direct. */
  nextHop: string;
  /** Full path excluding the source. */
  hops: string[];
  /** Sum of edge weights. */
  cost: number;
  /** Sum of edge tie-breaks. */
  tie: number;
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
 * Shortest paths from `source` (Dijkstra, with a heap: O(E log N), so a
 * 1000-member mesh costs thousands of steps, not a million). Only
 * relay-willing nodes forward; nodes are settled by (cost, tie, id) and ties
 * go to the smaller predecessor id, so every node breaks them alike.
 */
export function shortestPaths(source: string, nodes: Map<string, GraphNode>, adj = mutualEdges(nodes)): Map<string, Route> {
  const dist = new Map<string, [number, number]>([[source, [0, 0]]]);
  const prev = new Map<string, string>();
  const done = new Set<string>();
  const less = (a: [number, number], b: [number, number]) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
  const same = (a: [number, number], b: [number, number]) => a[0] === b[0] && a[1] === b[1];
  const heap = new EntryHeap();
  heap.push([0, 0, source]);
  while (heap.size) {
    const [c, t, u] = heap.pop();
    const du = dist.get(u)!;
    // An entry left behind by a later improvement, or a node already settled.
    if (done.has(u) || du[0] !== c || du[1] !== t) continue;
    done.add(u);
    if (u !== source && !nodes.get(u)?.relay) continue;
    for (const [v, w] of adj.get(u) ?? []) {
      if (done.has(v)) continue;
      const nd: [number, number] = [du[0] + w, du[1] + edgeTie(u, v)];
      const old = dist.get(v);
      if (old === undefined || less(nd, old)) {
        dist.set(v, nd);
        prev.set(v, u);
        heap.push([nd[0], nd[1], v]);
      } else if (same(nd, old) && u < prev.get(v)!) {
        prev.set(v, u);
      }
    }
  }
  const routes = new Map<string, Route>();
  for (const [id, [cost, tie]] of dist) {
    if (id === source) continue;
    const hops: string[] = [];
    for (let cur: string | undefined = id; cur !== undefined && cur !== source; cur = prev.get(cur)) hops.unshift(cur);
    routes.set(id, { nextHop: hops[0]!, hops, cost, tie });
  }
  return routes;
}
