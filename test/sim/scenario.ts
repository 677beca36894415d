// One simulated run: a population of sites (public, or behind NATs of every
// RFC 4787 kind), a founder, members joining over time, then a steady phase
// and a churn phase (real joins, departures, restarts, a partition and its
// healing, loss, a forger), with the invariants of check.ts after every tick.
// Returns the figures of one row of `make sim`; a broken invariant throws a
// Violation naming the seed and the tick.
import { encodeControl } from '../../src/core/gossip.ts';
import { buildJoinRecord, parseJoinRecord } from '../../src/core/join.ts';
import { encodeRecord } from '../../src/core/record.ts';
import { issueCert } from '../../src/core/cert.ts';
import { networkId } from '../../src/core/network.ts';
import { foundMesh, issueMember, joinInMemory, makeIdentity } from '../support/mesh.ts';
import { mulberry32, seededBytes } from '../support/rand.ts';
import type { NatKind } from './nat.ts';
import { World, type SimNode } from './world.ts';
import { checkConverged, checkPaths, checkRecords, Violation, type PairStats } from './check.ts';

export interface ScenarioOptions {
  nodes: number;
  seed: number;
  /** Virtual seconds of each phase (settle: from convergence, while links are measured and published; then steady). */
  settleS?: number;
  steadyS?: number;
  churnS?: number;
  /** A node up this long (and the mesh undisturbed as long) must hold every record. */
  convergeS?: number;
  /** Check the path invariants on every pair up to this many pairs a tick, else on a seeded sample of that size. */
  pairsPerTick?: number;
  loss?: number;
  /** Stop (and say so) past this much wall-clock time. */
  wallLimitS?: number;
  log?: (line: string) => void;
}

export interface Figures {
  nodes: number;
  seed: number;
  /** Virtual s from the last initial join until every node held every record, or null. */
  convergeS: number | null;
  /** Virtual s until a member joining during churn was held by every live node: median and worst. */
  newMemberS: { median: number; worst: number } | null;
  settleBytesPerSec: number;
  steadyBytesPerSec: number;
  churnBytesPerSec: number;
  directPct: number;
  reachablePct: number;
  stretch: number;
  transient: number;
  disagreePct: number;
  /** Signature checks per node per minute, steady and churn. */
  checksPerMinSteady: number;
  checksPerMinChurn: number;
  wallS: number;
  completed: boolean;
  note: string;
}

/** The NAT kinds of home routers, weighted roughly as measured in the wild (most are endpoint-independent mapping). */
const NAT_MIX: [number, NatKind][] = [
  [0.2, { mapping: 'EIM', filtering: 'EIF', hairpin: true }],
  [0.15, { mapping: 'EIM', filtering: 'ADF', hairpin: false }],
  [0.35, { mapping: 'EIM', filtering: 'APDF', hairpin: true }],
  [0.1, { mapping: 'ADM', filtering: 'APDF', hairpin: false }],
  [0.2, { mapping: 'APDM', filtering: 'APDF', hairpin: false }],
];

export class Scenario {
  readonly w: World;
  readonly r: () => number;
  private rnd: (n: number) => Uint8Array;
  private quietSinceMs: number;
  private tick = 0;
  private joined = 0;
  readonly o: Required<Omit<ScenarioOptions, 'log'>> & { log: (line: string) => void };

  constructor(opts: ScenarioOptions) {
    this.o = { settleS: 0, steadyS: 120, churnS: 180, convergeS: 90, pairsPerTick: 10_000, loss: 0.01, wallLimitS: 1200, log: () => {}, ...opts };
    this.r = mulberry32(opts.seed);
    this.rnd = seededBytes(opts.seed ^ 0x5eed);
    const t0 = 1_800_000_000_000;
    const mesh = foundMesh(this.rnd, { name: 'sim', nowMs: t0 });
    this.w = new World(mesh, t0, this.r);
    this.quietSinceMs = t0;
    this.w.addNode(mesh.founder, this.w.net.addSite(null, this.r));
  }

  private natKind(): NatKind {
    let x = this.r();
    for (const [p, k] of NAT_MIX) { if ((x -= p) < 0) return k; }
    return NAT_MIX[0]![1];
  }

  /** A site for a new node: public (one in ten), a second node in an existing home (one in ten), else a new home. */
  private site() {
    const homes = this.w.net.sites.filter((s) => s.nat);
    const x = this.r();
    if (x < 0.1) return this.w.net.addSite(null, this.r);
    if (x < 0.2 && homes.length) return homes[Math.floor(this.r() * homes.length)]!;
    return this.w.net.addSite(this.natKind(), this.r);
  }

  private skew(): number { return Math.round((this.r() - 0.5) * 4000); }

  /** A member certified by the founder directly (no handshake: quick for a large population), started with the founder's join records. */
  addMember(forger = false): SimNode {
    const founder = this.w.nodes[0]!;
    const m = issueMember(this.rnd, this.w.mesh, `n${++this.joined}`, this.w.nowMs);
    const n = this.w.addNode(m, this.site(), { skewMs: this.skew(), forger, records: founder.core.joinRecords() });
    this.w.acceptRecords(founder, [parseJoinRecord(buildJoinRecord(n.core.selfRecord.bytes))]);
    return n;
  }

  /** A member admitted with the real join handshake by the founder. */
  joinMember(): SimNode {
    const founder = this.w.nodes[0]!;
    const out = joinInMemory(this.rnd, this.w.mesh, founder.member, { name: `n${++this.joined}`, nowMs: this.w.nowMs, records: founder.core.joinRecords() });
    if (!out.member || !out.reply.ok) throw new Error(`sim: join refused: ${out.result.refused}`);
    const n = this.w.addNode(out.member, this.site(), { skewMs: this.skew(), records: out.reply.records });
    this.w.acceptRecords(founder, [parseJoinRecord(buildJoinRecord(n.core.selfRecord.bytes))]);
    this.quietSinceMs = this.w.nowMs;
    return n;
  }

  /** All ordered pairs of live members (a revoked node is none), or a seeded sample of `max` of them. */
  private pairs(max: number): [SimNode, SimNode][] {
    const live = this.w.live().filter((n) => !this.w.revoked.has(n));
    const out: [SimNode, SimNode][] = [];
    if (live.length * (live.length - 1) <= max) {
      for (const s of live) for (const d of live) if (s !== d) out.push([s, d]);
      return out;
    }
    while (out.length < max) {
      const s = live[Math.floor(this.r() * live.length)]!;
      const d = live[Math.floor(this.r() * live.length)]!;
      if (s !== d) out.push([s, d]);
    }
    return out;
  }

  /** One tick and the invariants (and `check`'s, if given); a Violation names the seed and the tick. */
  step(check?: () => void): PairStats {
    this.tick++;
    this.w.step();
    try {
      checkRecords(this.w);
      checkConverged(this.w, this.o.convergeS * 1000, this.quietSinceMs);
      check?.();
      return checkPaths(this.w, this.pairs(this.o.pairsPerTick));
    } catch (e) {
      if (e instanceof Violation) throw this.violation(e.message);
      throw e;
    }
  }

  /** A broken invariant, naming the seed, the size and the tick. */
  violation(message: string): Violation { return new Violation(`seed ${this.o.seed}, ${this.w.live().length} nodes, tick ${this.tick}: ${message}`); }

  get ticks(): number { return this.tick; }
  disturbed(): void { this.quietSinceMs = this.w.nowMs; }

  /** Sends forgeries from a malicious member to its neighbours: a bad signature, a chain it may not issue, a replay. */
  forge(from: SimNode): void {
    const victims = this.w.live().filter((n) => n !== from);
    if (!victims.length) return;
    const v = victims[Math.floor(this.r() * victims.length)]!;
    const rec = v.core.selfRecord;
    const bad = rec.bytes.slice();
    bad[bad.length - 1]! ^= 1;
    const fake = makeIdentity(this.rnd);
    const cert = issueCert({
      networkId: networkId(this.w.mesh.network.params.networkPub), name: `fake${this.tick}`, signPub: fake.sign.publicKey, wgPub: fake.wgPub,
      ipv4: from.member.chain[0]!.ipv4 + 1, admin: false, pool: null, issuedAtMs: this.w.nowMs, expiresAtMs: 0, issuerPub: from.member.identity.sign.publicKey,
    }, from.member.identity.sign);
    const puppet = encodeRecord({ ...rec, seq: this.w.nowMs, links: [], endpoints: [] }, [cert, ...from.member.chain], fake.sign).bytes;
    const msg = encodeControl({ type: 'records', records: [bad, puppet] });
    for (const to of from.core.neighbours(this.w.local(from))) this.w.send(from, to, msg);
  }
}
