// A deterministic in-memory mesh of NodeCore instances on a virtual clock:
// nodes join with the real handshake, WireGuard sessions are a set of links
// the test declares (observed by each node as live handshakes, as the daemon's
// tick does), and 'send' actions are delivered by overlay IPv4 after a fixed
// latency, in a total order. Same inputs, same run. Uses only src/core.
// A declared link is a session only while both ends hold each other's record:
// WireGuard drops a handshake from a key it has no peer for, and a node has
// peers only for the members it knows. (Links declared between a newcomer and
// members that did not know it yet were sessions no WireGuard could make: each
// side dropped the other's datagrams as a non-member's, and newcomers whose
// links all went to members outside their join reply stalled with those
// records, 67 of 100.) `join(…, { linkAdmitter: true })` declares the session
// with the admitter that a real join leaves behind.
import { NodeCore, type Action } from '../../src/core/node.ts';
import { decodeNetwork } from '../../src/core/network.ts';
import { buildJoinRecord, parseJoinRecord } from '../../src/core/join.ts';
import { formatIPv4 } from '../../src/core/ip.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import type { Endpoint } from '../../src/core/record.ts';
import { joinInMemory, type Mesh, type Member, type Rand } from './mesh.ts';

/** The daemon ticks its core once a second and reads `wg show` in the same tick. */
export const SIM_TICK_MS = 1000;
export const SIM_LATENCY_MS = 10;
/** A limit on everything: a run that queues more than this is a message storm. */
export const MAX_QUEUE = 100_000;

export interface SimNode {
  member: Member;
  core: NodeCore;
  ipv4: string;
  wgPub: string;
  /** The public endpoint other members observe for this node's WireGuard port. */
  publicEndpoint: string;
}

interface InFlight { atMs: number; order: number; from: string; to: string; bytes: Uint8Array }

export class MeshSim {
  nowMs: number;
  readonly nodes = new Map<string, SimNode>();
  /** Live WireGuard sessions, as "ipA|ipB" with ipA < ipB. */
  readonly links = new Set<string>();
  private queue: InFlight[] = [];
  private order = 0;
  delivered = 0;
  /** When tickAll last ran. */
  private lastTickMs: number;
  /** Sends to an overlay address no simulated node holds. */
  undeliverable = 0;
  /** Datagrams for which this returns true are lost in flight (counted in `lost`). */
  dropIf: ((from: string, to: string, bytes: Uint8Array) => boolean) | null = null;
  lost = 0;
  /** Every action each node emitted, for tests that inspect them. */
  readonly log: { atMs: number; from: string; action: Action }[] = [];

  constructor(readonly mesh: Mesh, readonly rnd: Rand, startMs: number) {
    this.nowMs = startMs;
    this.lastTickMs = startMs;
  }

  private makeNode(member: Member, relay: boolean, configured: Endpoint[] = []): SimNode {
    const ipv4 = formatIPv4(member.chain[0]!.ipv4);
    const core = new NodeCore({
      network: this.mesh.network, chain: member.chain, signKeys: member.identity.sign, relay, configuredEndpoints: configured,
      services: [], subnets: [], lastSeq: 0, nowMs: this.nowMs,
    });
    const n: SimNode = { member, core, ipv4, wgPub: toBase64(member.identity.wgPub), publicEndpoint: `198.51.100.${this.nodes.size + 1}:51820` };
    this.nodes.set(ipv4, n);
    return n;
  }

  /** Adds the founder's node. */
  addFounder(relay = true): SimNode {
    return this.makeNode(this.mesh.founder, relay, [{ kind: 'configured', host: '192.0.2.1', port: 51820 }]);
  }

  /**
   * Admits a newcomer through `admitter` with the real handshake; the newcomer
   * starts from the records in the reply, the admitter learns the newcomer's
   * first record from the join stream, as in the daemon.
   */
  join(admitter: SimNode, name: string, o: { admin?: boolean; relay?: boolean; joinBudgetBytes?: number; certLifetimeMs?: number; linkAdmitter?: boolean } = {}): SimNode {
    // What the daemon hands a newcomer: the best records within the join budget; gossip brings the rest.
    const records = admitter.core.joinRecords(o.joinBudgetBytes);
    const out = joinInMemory(this.rnd, this.mesh, admitter.member, { name, admin: o.admin ?? false, nowMs: this.nowMs, records, certLifetimeMs: o.certLifetimeMs ?? 0 });
    if (!out.member || !out.reply.ok) throw new Error(`sim: ${name} refused by ${admitter.member.name}: ${out.result.refused}`);
    const net = decodeNetwork(out.reply.network);
    if (net.params.name !== this.mesh.network.params.name) throw new Error('sim: joined another network');
    const node = this.makeNode(out.member, o.relay ?? true);
    for (const b of out.reply.records) node.core.acceptRecord(b, this.nowMs);
    const first = parseJoinRecord(buildJoinRecord(node.core.selfRecord.bytes));
    if (admitter.core.acceptRecord(first, this.nowMs)) this.dispatch(admitter, [{ type: 'netmap' }]);
    if (o.linkAdmitter) this.link(admitter, node);
    return node;
  }

  /** Declares a live WireGuard session between two nodes (both sides see handshakes). */
  link(a: SimNode, b: SimNode): void {
    this.links.add(a.ipv4 < b.ipv4 ? `${a.ipv4}|${b.ipv4}` : `${b.ipv4}|${a.ipv4}`);
  }

  unlink(a: SimNode, b: SimNode): void {
    this.links.delete(a.ipv4 < b.ipv4 ? `${a.ipv4}|${b.ipv4}` : `${b.ipv4}|${a.ipv4}`);
  }

  /**
   * Data (not control datagrams) from one node to another as their netmaps
   * route it, hop by hop (a relayed member through its relay), counted in
   * WireGuard's byte counters of each hop's sender and receiver; a hop
   * dropIf refuses ends it there (the sender's bytes still count).
   */
  traffic(from: SimNode, to: SimNode, bytes: number): void {
    let x = from;
    for (let i = 0; i < 8 && x !== to; i++) {
      const entry = x.core.netmap().nodes.find((m) => m.id === to.member.id);
      const hopId = entry?.path === 'relayed' ? entry.viaId : entry?.path === 'direct' ? to.member.id : undefined;
      const y = hopId === undefined ? undefined : [...this.nodes.values()].find((m) => m.member.id === hopId);
      if (!y || !this.sessionsOf(x).includes(y)) return;
      this.countBytes(x, y, 'tx', bytes);
      if (this.dropIf?.(x.ipv4, y.ipv4, new Uint8Array(0))) return;
      this.countBytes(y, x, 'rx', bytes);
      x = y;
    }
  }

  /** WireGuard's byte counters, per "node ip|peer ip" (traffic()). */
  private wgBytes = new Map<string, { tx: number; rx: number }>();
  private countBytes(n: SimNode, peer: SimNode, dir: 'tx' | 'rx', bytes: number): void {
    const k = `${n.ipv4}|${peer.ipv4}`;
    const b = this.wgBytes.get(k) ?? { tx: 0, rx: 0 };
    b[dir] += bytes;
    this.wgBytes.set(k, b);
  }

  /** The nodes n has a declared link with. */
  peersOf(n: SimNode): SimNode[] {
    const out: SimNode[] = [];
    for (const l of this.links) {
      const [x, y] = l.split('|') as [string, string];
      if (x === n.ipv4) out.push(this.nodes.get(y)!);
      else if (y === n.ipv4) out.push(this.nodes.get(x)!);
    }
    return out;
  }

  /** The declared links of n that are WireGuard sessions now: both ends hold each other's record (each has a peer for the other). */
  sessionsOf(n: SimNode): SimNode[] {
    return this.peersOf(n).filter((p) => n.core.nodeById(p.member.id) && p.core.nodeById(n.member.id));
  }

  dispatch(from: SimNode, actions: Action[]): void {
    for (const action of actions) {
      this.log.push({ atMs: this.nowMs, from: from.ipv4, action });
      if (action.type !== 'send') continue;
      if (this.queue.length >= MAX_QUEUE) throw new Error(`sim: more than ${MAX_QUEUE} datagrams in flight (message storm)`);
      this.queue.push({ atMs: this.nowMs + SIM_LATENCY_MS, order: this.order++, from: from.ipv4, to: action.to, bytes: action.bytes });
    }
  }

  /** Delivers everything due by `untilMs`, including replies that fall due meanwhile. */
  private deliverUntil(untilMs: number): void {
    for (;;) {
      let best = -1;
      for (let i = 0; i < this.queue.length; i++) {
        const m = this.queue[i]!;
        if (m.atMs > untilMs) continue;
        const b = best < 0 ? null : this.queue[best]!;
        if (!b || m.atMs < b.atMs || (m.atMs === b.atMs && m.order < b.order)) best = i;
      }
      if (best < 0) return;
      const m = this.queue.splice(best, 1)[0]!;
      this.nowMs = Math.max(this.nowMs, m.atMs);
      if (this.dropIf?.(m.from, m.to, m.bytes)) { this.lost++; continue; }
      const to = this.nodes.get(m.to);
      if (!to) { this.undeliverable++; continue; }
      this.delivered++;
      this.dispatch(to, to.core.handleControl(m.bytes, m.from, this.nowMs));
    }
  }

  /** One daemon tick on every node: core.tick, then the WireGuard observations. */
  tickAll(): void {
    this.lastTickMs = this.nowMs;
    for (const n of this.nodes.values()) {
      this.dispatch(n, n.core.tick(this.nowMs));
      const obs = this.sessionsOf(n).map((p) => {
        const b = this.wgBytes.get(`${n.ipv4}|${p.ipv4}`);
        return { publicKey: p.wgPub, endpoint: p.publicEndpoint, lastHandshakeMs: this.nowMs - 1, rxBytes: b?.rx ?? 0, txBytes: b?.tx ?? 0 };
      });
      this.dispatch(n, n.core.observeWg(obs, this.nowMs));
    }
  }

  /** Advances virtual time by `ms`, ticking every SIM_TICK_MS. */
  run(ms: number): void {
    const end = this.nowMs + ms;
    while (this.nowMs < end) {
      const next = Math.min(end, this.nowMs + SIM_TICK_MS);
      this.deliverUntil(next);
      this.nowMs = next;
      this.tickAll();
    }
    this.deliverUntil(this.nowMs);
  }

  /**
   * Advances virtual time by `ms` in one step: delivers what falls due, and
   * ticks every node only when a tick boundary (a multiple of SIM_TICK_MS
   * since the last tick) is crossed, so a test can watch in fine steps at
   * the daemon's tick rate.
   */
  step(ms: number): void {
    const end = this.nowMs + ms;
    while (this.nowMs < end) {
      const next = Math.min(end, this.lastTickMs + SIM_TICK_MS);
      this.deliverUntil(next);
      this.nowMs = next;
      if (next - this.lastTickMs >= SIM_TICK_MS) this.tickAll();
    }
  }

  get inFlight(): number { return this.queue.length; }

  /** Each node's view: id → seq, as a canonical string. */
  views(): Map<string, string> {
    const out = new Map<string, string>();
    for (const n of this.nodes.values()) {
      out.set(n.member.name, n.core.allRecords().map((r) => `${r.id}:${r.seq}`).sort().join(','));
    }
    return out;
  }

  /** True when every node holds a record of every node, at the same seq everywhere. */
  converged(): boolean {
    const views = [...this.views().values()];
    return views.every((v) => v === views[0]) && views[0]!.split(',').length === this.nodes.size;
  }

  /** Runs tick by tick until converged; returns the virtual ms it took, or null past `limitMs`. */
  runUntilConverged(limitMs: number): number | null {
    const start = this.nowMs;
    while (this.nowMs - start <= limitMs) {
      if (this.converged()) return this.nowMs - start;
      this.run(SIM_TICK_MS);
    }
    return null;
  }
}
