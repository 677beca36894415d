// Path computation over the gossiped link graph. Every node runs the same
// computation on the same records, so relayed paths agree hop by hop: an edge
// exists only when both ends report it, weights are symmetric and carry a
// deterministic per-edge tie-break, and equal distances resolve by node id.
// Then the path from A to B is the reverse of the path from B to A, and every
// hop forwards a packet to the peer whose AllowedIPs hold its inner source.
import { hashTo } from './crypto.ts';
import { utf8Encode } from './bytes.ts';

/** RTTs are bucketed so that small jitter does not move paths. */
export const RTT_BUCKET_MS = 20;
const TIE_RANGE = 4096;

export interface GraphNode {
  id: string;
  /** Ids this node reports a live WireGuard session with, and the RTT to each. */
  links: Map<string, number>;
  /** Whether it forwards traffic for others. */
  relay: boolean;
}

export interface Edge { a: string; b: string; weight: number }

function tie(a: string, b: string): number {
  const [x, y] = a < b ? [a, b] : [b, a];
  const h = hashTo('kith edge', utf8Encode(`${x}|${y}`), 2);
  return ((h[0]! << 8) | h[1]!) % TIE_RANGE;
}

/** Symmetric edge weight: the worse of the two reported RTTs, bucketed, plus a tie-break. */
export function edgeWeight(a: string, b: string, rttAB: number, rttBA: number): number {
  const bucket = 1 + Math.floor(Math.max(rttAB, rttBA) / RTT_BUCKET_MS);
  return bucket * TIE_RANGE + tie(a, b);
}

/** Edges that both ends report. */
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

export interface Route {
  /** First hop from the source, equal to the destination when direct. */
  nextHop: string;
  /** Full path excluding the source. */
  hops: string[];
  cost: number;
}

/**
 * Shortest paths from `source` (Dijkstra). Only relay-willing nodes forward;
 * ties go to the smaller predecessor id, so every node breaks them alike.
 */
export function shortestPaths(source: string, nodes: Map<string, GraphNode>, adj = mutualEdges(nodes)): Map<string, Route> {
  const dist = new Map<string, number>([[source, 0]]);
  const prev = new Map<string, string>();
  const done = new Set<string>();
  for (let guard = 0; guard <= nodes.size; guard++) {
    let u: string | null = null;
    for (const [id, d] of dist) {
      if (done.has(id)) continue;
      if (u === null || d < dist.get(u)! || (d === dist.get(u)! && id < u)) u = id;
    }
    if (u === null) break;
    done.add(u);
    if (u !== source && !nodes.get(u)?.relay) continue;
    for (const [v, w] of adj.get(u) ?? []) {
      if (done.has(v)) continue;
      const nd = dist.get(u)! + w;
      const old = dist.get(v);
      if (old === undefined || nd < old || (nd === old && u < prev.get(v)!)) {
        dist.set(v, nd);
        prev.set(v, u);
      }
    }
  }
  const routes = new Map<string, Route>();
  for (const [id, cost] of dist) {
    if (id === source) continue;
    const hops: string[] = [];
    for (let cur: string | undefined = id; cur !== undefined && cur !== source; cur = prev.get(cur)) hops.unshift(cur);
    routes.set(id, { nextHop: hops[0]!, hops, cost });
  }
  return routes;
}
