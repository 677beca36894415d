// The simulator's world: real NodeCore instances (src/core, unchanged) on a
// virtual clock, each at a site of net.ts (public, or behind a NAT), with a
// WireGuard model whose peers follow the node's netmap. Control datagrams go
// where the data plane takes them (check.ts walks WireGuard's AllowedIPs hop
// by hop), after the sites' latency, lost at a seeded rate. Everything random
// comes from one seed, so a run repeats exactly. The daemon's part is played
// here: ticks once a second, `wg show` fed to observeWg, 'sign' signed
// natively, signatures verified natively ahead of the core, punch rules.
import { NodeCore, type Action } from '../../src/core/node.ts';
import { signatureStats } from '../../src/core/crypto.ts';
import { netmapGapMs } from '../../src/core/pacing.ts';
import { formatIPv4 } from '../../src/core/ip.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import { safeDecodeControl } from '../../src/core/gossip.ts';
import type { Endpoint } from '../../src/core/record.ts';
import type { Member, Mesh } from '../support/mesh.ts';
import type { Netmap } from '../../src/core/netmap.ts';
import { Internet, WgModel, WG_PORT, REKEY_TIMEOUT_MS, REKEY_AFTER_MS, KEEPALIVE_MS, type Site } from './net.ts';
import { nativeSign, prime } from './crypto.ts';
import { walk, noteSigned, viewOf, type Walk } from './check.ts';

export const TICK_MS = 1000;
/**
 * How long kithd takes to apply a changed netmap, about (two `wg set`, host
 * routes, Kith's routing table: processes spawned one after the other):
 * changes that arrive meanwhile coalesce into the next apply. In a larger
 * mesh kithd's own gap between applies (core/pacing.ts netmapGapMs) is longer.
 * KITH_SIM_APPLY_MS sets it (the 30-node row was the same at 50 and 250 ms).
 */
export const APPLY_MS = Number(process.env.KITH_SIM_APPLY_MS ?? 50);
/**
 * How often the world runs each core's health tick. kithd runs it every
 * 100 ms (daemon/exits.ts EXIT_TICK_MS); relay hops are pinged every 500 ms
 * of it (core/relay-health.ts), so here a hop is found dead up to 0.4 s later.
 */
export const HEALTH_MS = 500;
/** Per datagram on the wire besides the control payload: inner IPv4 + UDP, WireGuard data header, outer IPv4 + UDP. */
export const WIRE_OVERHEAD_BYTES = 20 + 8 + 32 + 20 + 8;
/** A limit on everything: more datagrams in flight than this is a message storm. */
export const MAX_IN_FLIGHT = 2_000_000;

export interface SimNode {
  name: string;
  member: Member;
  core: NodeCore;
  site: Site;
  /** Its WireGuard port's address on its LAN (or its public address). */
  internal: string;
  ipv4: string;
  key: string;
  wg: WgModel;
  alive: boolean;
  /** This node's clock minus the world's. */
  skewMs: number;
  /** When it last (re)started, and when it first started, world time. */
  startedMs: number;
  joinedMs: number;
  /** A malicious member: the scenario sends forgeries from it. */
  forger: boolean;
  /** Signature checks its core made, and members' certificates it met for the first time (one check each on a real node). */
  sigChecks: number;
  seenIds: Set<string>;
  bytesSent: number;
  datagramsSent: number;
  punchRules: Map<string, string>;
  pendingSignals: string[];
  /** The netmap its WireGuard model has (applyDirty), and the records' view it was computed from (check.ts). */
  applied: { netmap: Netmap; view: number } | null;
}

interface InFlight { atMs: number; order: number; from: string; to: string; bytes: Uint8Array }

/** A binary heap of datagrams by (due time, send order): a total order, so runs repeat. */
class Queue {
  private h: InFlight[] = [];
  get size(): number { return this.h.length; }
  private less(a: InFlight, b: InFlight): boolean { return a.atMs < b.atMs || (a.atMs === b.atMs && a.order < b.order); }
  push(m: InFlight): void {
    const h = this.h;
    h.push(m);
    for (let i = h.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  peek(): InFlight | undefined { return this.h[0]; }
  pop(): InFlight | undefined {
    const h = this.h;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

export class World {
  readonly net = new Internet();
  readonly nodes: SimNode[] = [];
  readonly byIPv4 = new Map<string, SimNode>();
  readonly byKey = new Map<string, SimNode>();
  private byInternal = new Map<string, SimNode>();
  private queue = new Queue();
  private dirty = new Set<SimNode>();
  private nextApplyMs = 0;
  private nextHealthMs = NaN;
  /** The apply grid this tick: APPLY_MS, or kithd's gap in a larger mesh. */
  private applyMs = APPLY_MS;
  private order = 0;
  /** Datagram loss rate, 0..1. */
  loss = 0;
  counts = { delivered: 0, lost: 0, unroutable: 0, handshakes: 0 };
  /** Members the scenario revoked: no longer members, so out of the convergence and path checks (revoke.ts checks them). */
  readonly revoked = new Set<SimNode>();
  /** Sees every batch of actions a node's core returns, before the daemon's part acts on it (revoke.ts times 'revocations'). */
  onActions: ((n: SimNode, actions: Action[]) => void) | null = null;
  /** Sees every control datagram a node sends, with what made it send it (breakdown.ts counts them). */
  onSend: ((n: SimNode, bytes: Uint8Array, cause: string) => void) | null = null;
  /** What the core is answering now: 'tick', 'wg' (observeWg), 'rx:<type>' (a datagram), 'other'. */
  private cause = 'other';

  constructor(readonly mesh: Mesh, public nowMs: number, readonly rand: () => number) {}

  local(n: SimNode): number { return this.nowMs + n.skewMs; }

  /** Starts a node for a member at a site (configured endpoint when public, LAN endpoint behind NAT). */
  addNode(member: Member, site: Site, o: { skewMs?: number; lastSeq?: number; records?: Uint8Array[]; forger?: boolean } = {}): SimNode {
    const lanHost = site.nat ? `${site.lanPrefix}${2 + this.nodes.filter((n) => n.site === site).length}` : site.publicHost;
    const ipv4 = formatIPv4(member.chain[0]!.ipv4);
    const n: SimNode = {
      name: member.name, member, core: null as unknown as NodeCore, site, internal: `${lanHost}:${WG_PORT}`, ipv4, key: toBase64(member.identity.wgPub),
      wg: new WgModel(), alive: true, skewMs: o.skewMs ?? 0, startedMs: this.nowMs, joinedMs: this.nowMs, forger: o.forger ?? false,
      sigChecks: 0, seenIds: new Set(), bytesSent: 0, datagramsSent: 0, punchRules: new Map(), pendingSignals: [], applied: null,
    };
    this.boot(n, o.lastSeq ?? 0, o.records ?? []);
    this.nodes.push(n);
    this.byIPv4.set(ipv4, n);
    this.byKey.set(n.key, n);
    this.byInternal.set(n.internal, n);
    return n;
  }

  /** A new NodeCore for the node, from its persisted seq and record cache (a start or a restart), async signing as kithd does. */
  private boot(n: SimNode, lastSeq: number, records: Uint8Array[]): void {
    const configured: Endpoint[] = n.site.nat ? [] : [{ kind: 'configured', host: n.site.publicHost, port: WG_PORT }];
    n.core = new NodeCore({
      network: this.mesh.network, chain: n.member.chain, signKeys: n.member.identity.sign, relay: true, configuredEndpoints: configured,
      services: [], subnets: [], lastSeq, nowMs: this.local(n), asyncSign: true,
    });
    this.dispatch(n, n.site.nat ? n.core.setLocalEndpoints([{ kind: 'lan', host: n.internal.split(':')[0]!, port: WG_PORT }], this.local(n)) : []);
    const pending = n.core.signRequest;
    if (pending) this.dispatch(n, [{ type: 'sign', unsigned: pending }]);
    this.acceptRecords(n, records);
  }

  /** Records from a join reply or the record cache: verified natively ahead of the core, as Mesh.start does. */
  acceptRecords(n: SimNode, records: Uint8Array[]): void {
    prime(n.core.signatureChecks({ records }, this.local(n)));
    let changed = false;
    for (const b of records) changed = this.counted(n, () => n.core.acceptRecord(b, this.local(n))) || changed;
    if (changed) this.dispatch(n, [{ type: 'netmap' }]);
  }

  /** Runs a core call, charging the signature checks it makes to the node. */
  private counted<T>(n: SimNode, fn: () => T): T {
    const before = signatureStats.cached + signatureStats.tweetnacl;
    const r = fn();
    n.sigChecks += signatureStats.cached + signatureStats.tweetnacl - before;
    return r;
  }

  /** A daemon restart: the core is rebuilt from what it persisted (its seq and record cache); WireGuard keeps its sessions. */
  restart(n: SimNode): void {
    const records = n.core.allRecords().map((r) => r.bytes);
    const seq = n.core.seq;
    this.boot(n, seq, records);
    n.startedMs = this.nowMs;
    n.punchRules.clear();
    n.wg.ttlRules.clear();
  }

  /** A node leaves for good (or powers off): nothing reaches it, its sessions age out elsewhere. */
  stop(n: SimNode): void { n.alive = false; }

  dispatch(n: SimNode, actions: Action[]): void {
    this.onActions?.(n, actions);
    let netmap = false;
    for (const a of actions) {
      switch (a.type) {
        case 'send': this.send(n, a.to, a.bytes); break;
        case 'netmap': netmap = true; break;
        case 'sign': {
          const sig = nativeSign(n.member.identity.sign.secretKey, n.member.identity.sign.publicKey, a.unsigned);
          noteSigned(sig);
          const r = n.core.installSignature(a.unsigned, sig, this.local(n));
          this.dispatch(n, r.actions);
          break;
        }
        case 'punch-open': {
          const ep = `${a.host}:${a.port}`;
          n.punchRules.set(a.peer, ep);
          n.wg.ttlRules.add(ep);
          this.dispatch(n, n.core.punchOpened(a.peer, this.local(n)));
          // The daemon signals once wg show reports bytes sent toward the peer: after the next WireGuard step.
          n.pendingSignals.push(a.peer);
          break;
        }
        case 'punch-close': {
          const ep = n.punchRules.get(a.peer);
          n.punchRules.delete(a.peer);
          if (ep && ![...n.punchRules.values()].includes(ep)) n.wg.ttlRules.delete(ep);
          break;
        }
        default: break; // persist, chain, revocations: the record cache is read at restart
      }
    }
    if (netmap) {
      noteSigned(n.core.selfRecord.bytes);
      this.dirty.add(n);
    }
  }

  /**
   * Applies the netmaps that changed to the WireGuard models, as kithd does:
   * it marks the netmap dirty and applies it once its previous apply is done,
   * so the changes of a burst of datagrams coalesce (here: every APPLY_MS of virtual time).
   */
  applyDirty(): void {
    for (const n of this.dirty) {
      const m = n.core.netmap();
      n.wg.apply(m.peers, m.e2ePeers);
      n.applied = { netmap: m, view: viewOf(n) };
    }
    this.dirty.clear();
  }

  /** A control datagram from n to an overlay address: over the data plane as it stands, after the path's latency. */
  send(n: SimNode, to: string, bytes: Uint8Array): void {
    if (!n.alive) return;
    n.bytesSent += bytes.length + WIRE_OVERHEAD_BYTES;
    n.datagramsSent++;
    this.onSend?.(n, bytes, this.cause);
    const dst = this.byIPv4.get(to);
    const w = dst ? walk(this, n, dst, true) : null;
    if (w) this.countBytes(n, w, bytes.length);
    if (!dst || !w || !w.ok) { this.counts.unroutable++; return; }
    if (this.loss > 0 && this.rand() < this.loss) { this.counts.lost++; return; }
    if (this.queue.size >= MAX_IN_FLIGHT) throw new Error(`sim: more than ${MAX_IN_FLIGHT} datagrams in flight (message storm)`);
    this.queue.push({ atMs: this.nowMs + w.latencyMs, order: this.order++, from: n.ipv4, to, bytes });
  }

  /**
   * Data (not control) from n to d as the netmaps route it: counted in
   * WireGuard's byte counters hop by hop, delivered to no core.
   */
  traffic(n: SimNode, d: SimNode, bytes: number): void {
    if (n.alive) this.countBytes(n, walk(this, n, d, true), bytes);
  }

  /** WireGuard's byte counters along a walk: each hop's sender and receiver; the hop it failed at counts its sender only. */
  private countBytes(n: SimNode, w: Walk, bytes: number): void {
    let x = n;
    for (const y of w.hops) {
      const tx = x.wg.peers.get(y.key), rx = y.wg.peers.get(x.key);
      if (tx) tx.txBytes += bytes;
      if (rx) rx.rxBytes += bytes;
      x = y;
    }
    const last = w.sentTo && !w.hops.includes(w.sentTo) ? x.wg.peers.get(w.sentTo.key) : undefined;
    if (last) last.txBytes += bytes;
  }

  private deliverUntil(untilMs: number): void {
    if (Number.isNaN(this.nextHealthMs)) this.nextHealthMs = this.nowMs + HEALTH_MS;
    for (let m = this.queue.peek(); ; m = this.queue.peek()) {
      // kithd's health tick (relay hops, exit donors) between datagrams, on its grid.
      if (this.nextHealthMs <= untilMs && (!m || m.atMs >= this.nextHealthMs)) {
        this.nowMs = Math.max(this.nowMs, this.nextHealthMs);
        this.healthAll();
        this.nextHealthMs += HEALTH_MS;
        continue;
      }
      if (!m || m.atMs > untilMs) break;
      if (m.atMs >= this.nextApplyMs) { this.applyDirty(); this.nextApplyMs = m.atMs - (m.atMs % this.applyMs) + this.applyMs; }
      this.queue.pop();
      this.nowMs = Math.max(this.nowMs, m.atMs);
      const to = this.byIPv4.get(m.to);
      if (!to || !to.alive) { this.counts.unroutable++; continue; }
      this.counts.delivered++;
      const local = this.local(to);
      // The daemon's signature queue: the checks the core lists, verified natively, then the datagram.
      prime(to.core.signatureChecks({ control: m.bytes, fromIPv4: m.from }, local));
      if (this.onSend) this.cause = `rx:${safeDecodeControl(m.bytes)?.type ?? '?'}`;
      const actions = this.counted(to, () => to.core.handleControl(m.bytes, m.from, local));
      if (actions.some((a) => a.type === 'netmap')) this.noteIds(to);
      this.dispatch(to, actions);
      this.cause = 'other';
    }
  }

  /** The core's health tick on every live node: pings to relay hops and exit donors, a dead hop's link out of its record. */
  private healthAll(): void {
    this.cause = 'health';
    for (const n of this.nodes) if (n.alive) this.dispatch(n, n.core.healthTick(this.local(n)));
    this.cause = 'other';
  }

  /** Members' certificates met for the first time cost a node one check each (the simulator's certificate cache is shared). */
  private noteIds(n: SimNode): void {
    for (const r of n.core.allRecords()) if (!n.seenIds.has(r.id)) { n.seenIds.add(r.id); n.sigChecks++; }
  }

  /** WireGuard's timers for one node: initiations while a session is wanted, rekeys, keepalives (they keep NAT mappings alive). */
  private wgStep(n: SimNode): void {
    for (const [key, p] of n.wg.peers) {
      const target = p.endpoint;
      if (!target) continue;
      const age = this.nowMs - p.lastHandshakeMs;
      if ((p.lastHandshakeMs === 0 || age >= REKEY_AFTER_MS) && this.nowMs - p.lastInitMs >= REKEY_TIMEOUT_MS) {
        p.lastInitMs = this.nowMs;
        p.txBytes += 148;
        this.handshake(n, key, target);
      } else if (p.lastHandshakeMs > 0 && this.nowMs - p.lastKeepaliveMs >= KEEPALIVE_MS) {
        p.lastKeepaliveMs = this.nowMs;
        p.txBytes += 32;
        const d = this.net.deliver(n.site, n.internal, target, this.nowMs, n.wg.ttlRules.has(target));
        const m = d && this.byInternal.get(d.internal);
        const back = m?.alive ? m.wg.peers.get(n.key) : undefined;
        if (back && m!.wg.live(n.key, this.nowMs)) { back.endpoint = d!.srcSeen; back.rxBytes += 32; }
      }
    }
  }

  private handshake(n: SimNode, key: string, target: string): void {
    if (this.loss > 0 && this.rand() < this.loss) return;
    const d = this.net.deliver(n.site, n.internal, target, this.nowMs, n.wg.ttlRules.has(target));
    if (!d) return;
    const m = this.byInternal.get(d.internal);
    if (!m || !m.alive || m.key !== key) return;
    const back = m.wg.peers.get(n.key);
    if (!back) return; // WireGuard drops an initiation from a key it has no peer for
    if (this.loss > 0 && this.rand() < this.loss) return;
    const r = this.net.deliver(m.site, m.internal, d.srcSeen, this.nowMs);
    if (!r || this.byInternal.get(r.internal) !== n) return;
    back.endpoint = d.srcSeen;
    back.lastHandshakeMs = this.nowMs;
    back.rxBytes += 148;
    const p = n.wg.peers.get(key)!;
    p.lastHandshakeMs = this.nowMs;
    p.rxBytes += 92;
    this.counts.handshakes++;
  }

  /** One daemon tick on every live node: core.tick, WireGuard, then `wg show` into observeWg. */
  private tickAll(): void {
    this.cause = 'tick';
    for (const n of this.nodes) if (n.alive) this.dispatch(n, n.core.tick(this.local(n)));
    this.cause = 'other';
    this.applyDirty();
    for (const n of this.nodes) if (n.alive) this.wgStep(n);
    for (const n of this.nodes) {
      if (!n.alive) continue;
      const local = this.local(n);
      for (const peer of n.pendingSignals.splice(0)) this.dispatch(n, n.core.punchSignal(peer, local));
      const obs = [...n.wg.peers].map(([publicKey, p]) => ({
        publicKey, endpoint: p.lastHandshakeMs > 0 ? p.endpoint : p.configured,
        lastHandshakeMs: p.lastHandshakeMs === 0 ? 0 : p.lastHandshakeMs + n.skewMs, rxBytes: p.rxBytes, txBytes: p.txBytes,
      }));
      this.cause = 'wg';
      this.dispatch(n, n.core.observeWg(obs, local));
      this.cause = 'other';
    }
    this.applyDirty();
  }

  /** Advances the world by one tick: datagrams due meanwhile, then the tick. */
  step(): void {
    this.applyMs = Math.max(APPLY_MS, netmapGapMs(this.nodes.length - this.revoked.size));
    const next = this.nowMs + TICK_MS;
    this.deliverUntil(next);
    this.nowMs = next;
    this.applyDirty();
    this.tickAll();
  }

  get inFlight(): number { return this.queue.size; }
  live(): SimNode[] { return this.nodes.filter((n) => n.alive); }
}
