// The netmap: the read-only picture of the mesh that every applier works from,
// computed from the verified records. Data flows one way: records in, netmap
// out, then WireGuard peers, routes and DNS zone derived from it.
//
// Two WireGuard interfaces. The outer one holds the direct neighbours: their
// overlay addresses and subnets, and the transport addresses of the members
// whose path runs through them (folded hop by hop, as routes). The
// end-to-end one holds every member reached through a relay, with its overlay
// addresses and subnets and, as endpoint, its transport address on the outer
// interface. So a relay forwards only the end-to-end session's UDP, which it
// cannot decrypt: a relayed member's traffic is encrypted by the two ends.
import { toBase64 } from './bytes.ts';
import { formatHostPort, formatIPv4, parseIPv4 } from './ip.ts';
import { e2ePort, ipv6ForIPv4, transportForIPv4, type NetworkParams } from './network.ts';
import { EdgeCache, PathCache, type GraphNode } from './paths.ts';
import type { Endpoint, NodeRecord, Service } from './record.ts';
import { decidePrefixes, type MappedSubnet, type RefusedPrefix } from './prefixes.ts';
import { ownClients } from './clients.ts';
import { lanHostAddress, type LanHostAddress } from './lan-hosts.ts';
import { globalV6 } from './punch.ts';

export const PERSISTENT_KEEPALIVE_SEC = 25;

/** A service, and where one on a LAN host is reached from this node (lan-hosts.ts). */
export type NetService = Service & { at?: LanHostAddress };

export interface NetNode {
  id: string;
  name: string;
  ipv4: string;
  ipv6: string;
  /** Where its end-to-end session is reached through the outer interface. */
  transport: string;
  wgPub: string;
  endpoints: Endpoint[];
  subnets: string[];
  services: NetService[];
  /** Addresses of the plain WireGuard clients it routes, those inside its own client block only (clients.ts). */
  clients: string[];
  /** Its subnets that clash with another member's, and the mapped blocks they are reached through (mapped.ts). */
  mapped: MappedSubnet[];
  relay: boolean;
  /** When its certificate was issued: the earlier of two nodes with one name keeps it. */
  issuedAtMs: number;
  /** How this node reaches it. */
  path: 'self' | 'direct' | 'relayed' | 'unreachable';
  /** Next hop's name when relayed. */
  via: string | null;
  /** Next hop's id when relayed (relay-health.ts watches it). */
  viaId?: string;
}

export interface WgPeer {
  /** Base64 public key, as `wg` prints it. */
  publicKey: string;
  /** "host:port" to dial, or null to let the peer dial us (WireGuard roams). */
  endpoint: string | null;
  allowedIPs: string[];
  keepaliveSec: number;
}

/**
 * Which of this node's interfaces carries a route: 'kith' is the outer
 * WireGuard interface (direct neighbours), 'e2e' the end-to-end one (members
 * reached through a relay); the daemon maps the name to the device.
 */
export type RouteDev = 'kith' | 'e2e';

/** A subnet another member advertises, routed into the overlay (Kith's own table). */
export interface SubnetRoute { prefix: string; node: string; dev: RouteDev }

export interface Netmap {
  self: NetNode;
  nodes: NetNode[];
  /** Peers of the outer interface: direct neighbours. */
  peers: WgPeer[];
  /** Peers of the end-to-end interface: members reached through a relay. */
  e2ePeers: WgPeer[];
  /** Overlay addresses (/32, /128) of members reached through a relay: routed to the end-to-end interface. */
  relayedHosts: string[];
  /** Subnets advertised by other members (accepted ones only), by prefix. */
  routes: SubnetRoute[];
  /** Advertised subnets this node does not route, with the reason (see prefixes.ts). */
  refused: RefusedPrefix[];
  /** The exit this node's LAN uses (core/exits.ts withExit), if any: its peer holds 0.0.0.0/0. */
  exit?: { node: string; name: string; ipv4: string } | null;
}

const indexes = new WeakMap<Netmap, Map<string, NetNode>>();
/**
 * The mutual edges and shortest paths of each records map computed from (a
 * node's store is one map for its whole life): paths.ts EdgeCache and PathCache.
 */
const graphCaches = new WeakMap<ReadonlyMap<string, NodeRecord>, { edges: EdgeCache; paths: PathCache }>();

/** A member's entry in a netmap, by id: a map built once per netmap (the core asks for every pong and every link swept). */
export function netNode(nm: Netmap, id: string): NetNode | undefined {
  let m = indexes.get(nm);
  if (!m) indexes.set(nm, (m = new Map(nm.nodes.map((n) => [n.id, n]))));
  return m.get(id);
}

/** What dialling decisions read of a record's endpoints, worked out once per record (see `derived`). */
interface EndpointFacts {
  /** Its public endpoint's host, as members observe it. */
  publicHost: string | null;
  /** Its first IPv4 address on an interface (behind NAT: an address of its home's LAN). */
  lan4: Endpoint | undefined;
  /** Hosts of its endpoints that are not on a LAN. */
  outside: string[];
  configured: Endpoint | undefined;
  v6: Endpoint | null;
}

const facts = new WeakMap<NodeRecord, EndpointFacts>();

function factsOf(r: NodeRecord): EndpointFacts {
  let f = facts.get(r);
  if (!f) {
    f = {
      publicHost: r.endpoints.find((e) => e.kind === 'public')?.host ?? null,
      lan4: r.endpoints.find((e) => e.kind === 'lan' && parseIPv4(e.host) !== null),
      outside: r.endpoints.filter((e) => e.kind !== 'lan').map((e) => e.host),
      configured: r.endpoints.find((e) => e.kind === 'configured'),
      v6: globalV6(r),
    };
    facts.set(r, f);
  }
  return f;
}

/** Whether both advertise the same public address with a LAN endpoint each: two nodes behind one router (a port it maps counts). */
function behindOneRouter(me: EndpointFacts, them: EndpointFacts): boolean {
  return me.lan4 !== undefined && them.outside.some((h) => me.outside.includes(h));
}

/**
 * The endpoint to dial for `them`, or null when they must dial us (or punch).
 * Behind the same router its LAN endpoint comes first, even before a
 * configured one: a router need not loop its own public address back.
 * Then a configured endpoint; then, when both have global IPv6 addresses,
 * its own (both sides dial: no punch).
 */
export function dialEndpoint(meRecord: NodeRecord, themRecord: NodeRecord): Endpoint | null {
  const me = factsOf(meRecord), them = factsOf(themRecord);
  if (them.lan4 && behindOneRouter(me, them)) return them.lan4;
  if (them.configured) return them.configured;
  if (them.v6 && me.v6) return them.v6;
  if (me.publicHost !== null && me.publicHost === them.publicHost) return them.lan4 ?? null;
  return null;
}

/** Whether either end can dial the other, kept per pair of record objects (a netmap asks it of every member). */
const dialable = new WeakMap<NodeRecord, { me: NodeRecord; value: boolean }>();

function reachableDirectly(me: NodeRecord, them: NodeRecord): boolean {
  const hit = dialable.get(them);
  if (hit?.me === me) return hit.value;
  const value = dialEndpoint(me, them) !== null || dialEndpoint(them, me) !== null;
  dialable.set(them, { me, value });
  return value;
}

/**
 * What a netmap derives from one record alone, cached per record object
 * (records are immutable: a change is a new object). A netmap is computed on
 * every change of any record; at 1000 members rebuilding these for every
 * member every time was most of its cost.
 */
const derived = new WeakMap<NodeRecord, { links: Map<string, number>; node?: { key: string; value: Omit<NetNode, 'path' | 'via'> } }>();

function derivedOf(r: NodeRecord) {
  let d = derived.get(r);
  if (!d) { d = { links: new Map(r.links.map((l) => [l.peer, l.rttMs])) }; derived.set(r, d); }
  return d;
}

function toNetNode(r: NodeRecord, net: NetworkParams, mapped: MappedSubnet[], own: boolean, accepted: readonly string[]): Omit<NetNode, 'path' | 'via'> {
  const d = derivedOf(r);
  const key = `${own}|${accepted.join()}|${mapped.length ? JSON.stringify(mapped) : ''}|${net.ipv4Pool.base}/${net.ipv4Pool.len}`;
  if (d.node?.key !== key) d.node = { key, value: buildNetNode(r, net, mapped, own, accepted) };
  return d.node.value;
}

/** Per cached node entry: its AllowedIPs strings and its end-to-end peer, built once. */
const peerParts = new WeakMap<object, { own: string[]; transport: string; e2e?: { key: string; peer: WgPeer } }>();

function partsOf(n: Omit<NetNode, 'path' | 'via'>, net: NetworkParams) {
  let p = peerParts.get(n);
  if (!p) {
    // Its clients travel with it: the same peer, interface and host routes.
    const own = [`${n.ipv4}/32`, `${n.ipv6}/128`, ...n.clients.flatMap((a) => [`${a}/32`, `${ipv6ForIPv4(net.ula48, parseIPv4(a)!)}/128`])];
    p = { own, transport: `${n.transport}/128` };
    peerParts.set(n, p);
  }
  return p;
}

/**
 * A relayed member's peer on the end-to-end interface. With a keepalive, each
 * end dials as soon as it adds the other: an initiation that reached the far
 * end before it knew us is not left to WireGuard's 5 s retry (seen: the first
 * pings over a new relayed path lost).
 */
function e2ePeerOf(n: Omit<NetNode, 'path' | 'via'>, net: NetworkParams, subnets: readonly string[]): WgPeer {
  const p = partsOf(n, net);
  const key = `${subnets.join()}|${e2ePort(net)}`;
  if (p.e2e?.key !== key) {
    p.e2e = { key, peer: { publicKey: n.wgPub, endpoint: formatHostPort(n.transport, e2ePort(net)), allowedIPs: [...p.own, ...subnets].sort(), keepaliveSec: PERSISTENT_KEEPALIVE_SEC } };
  }
  return p.e2e.peer;
}

function buildNetNode(r: NodeRecord, net: NetworkParams, mapped: MappedSubnet[], own: boolean, accepted: readonly string[]): Omit<NetNode, 'path' | 'via'> {
  const c = r.chain[0]!;
  const ula48 = net.ula48;
  const services = r.services.map((s) => (s.host === undefined ? s : { ...s, at: lanHostAddress(s.host, own, r.subnets, accepted, mapped) }));
  return {
    id: r.id, name: c.name, ipv4: formatIPv4(c.ipv4), ipv6: ipv6ForIPv4(ula48, c.ipv4), transport: transportForIPv4(ula48, c.ipv4), wgPub: toBase64(c.wgPub),
    endpoints: r.endpoints, subnets: r.subnets, services, clients: ownClients(r.clients, c.ipv4, net.ipv4Pool), relay: r.relay, issuedAtMs: c.issuedAtMs, mapped,
  };
}

/** The ids of a records map in order, kept while its members stay the same (a netmap lists them in that order). */
const orders = new WeakMap<ReadonlyMap<string, NodeRecord>, string[]>();

function sortedIds(records: ReadonlyMap<string, NodeRecord>): string[] {
  const ids = orders.get(records);
  if (ids && ids.length === records.size && ids.every((id) => records.has(id))) return ids;
  const fresh = [...records.keys()].sort();
  orders.set(records, fresh);
  return fresh;
}

/** A member's entry with its path, kept per cached entry while the path stays (most do from one netmap to the next). */
const placings = new WeakMap<object, NetNode>();

function placed(n: Omit<NetNode, 'path' | 'via'>, path: NetNode['path'], hop: NodeRecord | undefined): NetNode {
  const via = hop ? hop.chain[0]!.name : null;
  const was = placings.get(n);
  if (was && was.path === path && was.viaId === hop?.id && was.via === via) return was;
  const v: NetNode = { ...n, path, via, ...(hop ? { viaId: hop.id } : {}) };
  placings.set(n, v);
  return v;
}

/**
 * Computes the netmap for `selfId` from the verified records (self included);
 * `punched` maps members behind NAT this node dials (a punch) to the endpoint to dial.
 * Direct candidates (one side dialable, a link both publish, or a live
 * session of ours: `live`, which a full record may have had to leave out)
 * become WireGuard peers; every other member's addresses go to the first hop
 * of its shortest path. (Dropping a live peer because the other end's record
 * had no room for the link ended the session, which freed room for another
 * link, which ended another.)
 */
export function computeNetmap(selfId: string, records: Map<string, NodeRecord>, net: NetworkParams, punched: ReadonlyMap<string, Endpoint> = new Map(), connected: readonly string[] = [],
  live: ReadonlySet<string> = new Set()): Netmap {
  const me = records.get(selfId);
  if (!me) throw new Error(`computeNetmap: no record for self ${selfId}`);
  const prefixes = decidePrefixes([...records.values()].map((r) => {
    const c = r.chain[0]!;
    return { id: r.id, name: c.name, issuedAtMs: c.issuedAtMs, subnets: r.subnets, ipv4: c.ipv4 };
  }), selfId, net, connected);
  const node = (r: NodeRecord) => toNetNode(r, net, prefixes.mapped.get(r.id) ?? [], r.id === selfId, prefixes.accepted.get(r.id) ?? []);
  const graph = new Map<string, GraphNode>();
  for (const r of records.values()) {
    graph.set(r.id, { id: r.id, relay: r.relay, links: derivedOf(r).links });
  }
  let cache = graphCaches.get(records);
  if (!cache) graphCaches.set(records, (cache = { edges: new EdgeCache(), paths: new PathCache() }));
  const routes = cache.paths.routes(selfId, graph, cache.edges);
  const adj = cache.edges.adjacency;

  const peerOf = new Map<string, WgPeer>();
  const addPeer = (r: NodeRecord) => {
    let p = peerOf.get(r.id);
    if (!p) {
      const ep = dialEndpoint(me, r) ?? punched.get(r.id) ?? null;
      p = { publicKey: toBase64(r.chain[0]!.wgPub), endpoint: ep ? formatHostPort(ep.host, ep.port) : null, allowedIPs: [], keepaliveSec: PERSISTENT_KEEPALIVE_SEC };
      peerOf.set(r.id, p);
    }
    return p;
  };
  const mine = adj.get(selfId);
  for (const r of records.values()) {
    if (r.id !== selfId && (mine?.has(r.id) || punched.has(r.id) || live.has(r.id) || reachableDirectly(me, r))) addPeer(r);
  }

  const nodes: NetNode[] = [];
  const subnetRoutes: SubnetRoute[] = [];
  const e2ePeers: WgPeer[] = [];
  const relayedHosts: string[] = [];
  const selfNode: NetNode = { ...node(me), path: 'self', via: null };
  for (const id of sortedIds(records)) {
    const r = records.get(id)!;
    if (id === selfId) { nodes.push(selfNode); continue; }
    const n = node(r);
    const route = routes.get(r.id);
    let hop: NodeRecord | undefined;
    let path: NetNode['path'] = 'unreachable';
    if (route && records.has(route.nextHop)) {
      hop = records.get(route.nextHop)!;
      path = route.nextHop === r.id ? 'direct' : 'relayed';
    } else if (peerOf.has(r.id)) {
      hop = r; // a direct attempt, before any link is reported
      path = 'direct';
    }
    if (hop) {
      const subnets = prefixes.accepted.get(r.id) ?? [];
      const { own, transport } = partsOf(n, net);
      addPeer(hop).allowedIPs.push(transport);
      if (path === 'direct') addPeer(hop).allowedIPs.push(...own, ...subnets);
      else {
        e2ePeers.push(e2ePeerOf(n, net, subnets));
        relayedHosts.push(...own);
        // A direct session being tried (punch) or just made: what it brings in
        // from r itself is accepted on the outer interface too, so the moment
        // the other end switches to it before we do loses nothing. (Routes still
        // send through the end-to-end interface; no other outer peer holds these.)
        peerOf.get(r.id)?.allowedIPs.push(...own, ...subnets);
      }
      const dev = path === 'direct' ? 'kith' as const : 'e2e' as const;
      subnetRoutes.push(...subnets.map((prefix) => ({ prefix, node: r.id, dev })));
    }
    nodes.push(placed(n, path, path === 'relayed' ? hop : undefined));
  }
  const byKey = (a: WgPeer, b: WgPeer) => (a.publicKey < b.publicKey ? -1 : 1);
  const peers = [...peerOf.values()].sort(byKey);
  for (const p of peers) p.allowedIPs.sort();
  subnetRoutes.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
  return {
    self: selfNode, nodes, peers, e2ePeers: e2ePeers.sort(byKey), relayedHosts: relayedHosts.sort(),
    routes: subnetRoutes, refused: prefixes.refused,
  };
}
