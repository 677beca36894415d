// The phases of one `make sim` row: bootstrap (members join over the first
// seconds) until every node holds every record, a settling phase (the links
// measured and published once: every record changes), a steady phase, a churn phase
// (joins with the real handshake, departures, restarts, a partition healed,
// a forger), and a quiet phase in which the convergence invariant must hold
// again. Measures what the table prints. Also the revocation run of the
// second table (revoke.ts).
import { Scenario, type Figures, type ScenarioOptions } from './scenario.ts';
import { revokePhase, type RevokeFigures } from './revoke.ts';
import type { SimNode } from './world.ts';
import type { PairStats } from './check.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Bootstrap: members join over the first seconds, 20 a tick at most, one of
 * them a forger (the churn phase sends its forgeries); then ticks until every
 * node holds every record. convergeS: virtual s from the last join until then
 * (null past 600 s or the wall-clock limit; lastS says how long it ran).
 */
export function bootstrap(s: Scenario, step: () => void, overWall: () => boolean): { forger: SimNode | null; convergeS: number | null; lastS: number } {
  const { w } = s;
  const forgerIndex = Math.min(3, s.o.nodes - 1);
  let forger: SimNode | null = null;
  while (w.nodes.length < s.o.nodes) {
    for (let i = 0; i < 20 && w.nodes.length < s.o.nodes; i++) {
      const n = s.addMember(w.nodes.length === forgerIndex);
      if (n.forger) forger = n;
    }
    step();
  }
  s.disturbed();
  const t0 = w.nowMs;
  const allHeld = () => w.live().every((n) => n.core.allRecords().length >= w.live().length);
  while (!allHeld()) {
    if (w.nowMs - t0 > 600_000 || overWall()) return { forger, convergeS: null, lastS: (w.nowMs - t0) / 1000 };
    step();
  }
  const lastS = (w.nowMs - t0) / 1000;
  return { forger, convergeS: lastS, lastS };
}

export function runScenario(opts: ScenarioOptions): Figures {
  const wall0 = performance.now();
  const s = new Scenario(opts);
  const { w, o } = s;
  const log = o.log;
  const overWall = () => (performance.now() - wall0) / 1000 > o.wallLimitS;
  const fig: Figures = {
    nodes: opts.nodes, seed: opts.seed, convergeS: null, newMemberS: null, settleBytesPerSec: NaN, steadyBytesPerSec: NaN, churnBytesPerSec: NaN, directPct: NaN, reachablePct: NaN,
    stretch: NaN, transient: 0, disagreePct: NaN, checksPerMinSteady: NaN, checksPerMinChurn: NaN, wallS: 0, completed: false, note: '',
  };
  const done = (note: string) => { fig.note = note; fig.wallS = (performance.now() - wall0) / 1000; return fig; };
  let stats: PairStats | null = null;
  const step = () => { stats = s.step(); fig.transient += stats.transient; };

  const boot = bootstrap(s, step, overWall);
  const forger = boot.forger;
  if (boot.convergeS === null) return done(`did not converge in ${Math.round(boot.lastS)} s virtual`);
  fig.convergeS = boot.convergeS;
  log(`  ${opts.nodes} nodes: every node holds every record ${fig.convergeS} s after the last join (${((performance.now() - wall0) / 1000).toFixed(0)} s wall)`);

  // Steady: nothing happens but the protocol.
  const measure = (seconds: number, each: (k: number) => void) => {
    const live = w.live();
    const b0 = live.reduce((a, n) => a + n.bytesSent, 0);
    const c0 = live.reduce((a, n) => a + n.sigChecks, 0);
    let secs = 0;
    for (let k = 0; k < seconds && !overWall(); k++) { each(k); step(); secs++; }
    const now = w.live();
    // Cut by the wall-clock limit before a tick ran: no figure (NaN prints as '-'), never a zero.
    if (secs === 0) return { bytes: NaN, checks: NaN };
    return {
      bytes: (now.reduce((a, n) => a + n.bytesSent, 0) - b0) / now.length / secs,
      checks: (now.reduce((a, n) => a + n.sigChecks, 0) - c0) / now.length / (secs / 60),
    };
  };
  fig.settleBytesPerSec = o.settleS > 0 ? measure(o.settleS, () => {}).bytes : NaN;
  if (overWall()) return done('wall-clock limit while settling');
  const steady = measure(o.steadyS, () => {});
  fig.steadyBytesPerSec = steady.bytes;
  fig.checksPerMinSteady = steady.checks;
  const st = stats as PairStats | null;
  if (st && st.pairs) {
    fig.directPct = (100 * st.direct) / st.pairs;
    fig.reachablePct = (100 * st.reachable) / st.pairs;
    fig.stretch = st.reachable ? st.stretchSum / st.reachable : NaN;
    fig.disagreePct = st.reachable ? (100 * st.disagree) / st.reachable : NaN;
  }
  if (overWall()) return done('wall-clock limit in the steady phase');
  log(`  ${opts.nodes} nodes: settling ${fig.settleBytesPerSec.toFixed(0)}, steady ${steady.bytes.toFixed(0)} B/s per node (${((performance.now() - wall0) / 1000).toFixed(0)} s wall)`);

  // Churn: a join every 15 s, a departure every 40 s, a restart every 20 s, a partition of a tenth of the sites for 30 s, a forger throughout.
  const joins: { n: SimNode; atMs: number; heldMs: number | null }[] = [];
  const partitionAt = Math.floor(o.churnS / 3);
  const partitioned = w.net.sites.filter((x, i) => i > 0 && x.nat && s.r() < 0.1);
  const churn = measure(o.churnS, (k) => {
    if (k % 15 === 0) joins.push({ n: s.joinMember(), atMs: w.nowMs, heldMs: null });
    const others = w.live().filter((n) => n !== w.nodes[0] && !n.forger && !joins.some((j) => j.n === n));
    if (k % 40 === 39 && others.length > 2) { w.stop(others[Math.floor(s.r() * others.length)]!); s.disturbed(); }
    if (k % 20 === 10 && others.length) { w.restart(others[Math.floor(s.r() * others.length)]!); s.disturbed(); }
    if (k === partitionAt) { for (const x of partitioned) x.group = 1; s.disturbed(); }
    if (k === partitionAt + 30) { for (const x of partitioned) x.group = 0; s.disturbed(); }
    if (forger?.alive) s.forge(forger);
    for (const j of joins) if (j.heldMs === null && w.live().every((n) => n.core.nodeById(j.n.member.id))) j.heldMs = w.nowMs - j.atMs;
  });
  fig.churnBytesPerSec = churn.bytes;
  fig.checksPerMinChurn = churn.checks;
  if (overWall()) return done('wall-clock limit in the churn phase');

  // Quiet: the convergence invariant must hold again (checked by every step once the mesh has been quiet for convergeS).
  for (let k = 0; k < o.convergeS + 30 && !overWall(); k++) {
    step();
    for (const j of joins) if (j.heldMs === null && w.live().every((n) => n.core.nodeById(j.n.member.id))) j.heldMs = w.nowMs - j.atMs;
  }
  const held = joins.filter((j) => j.heldMs !== null).map((j) => j.heldMs! / 1000);
  if (held.length) fig.newMemberS = { median: median(held), worst: Math.max(...held) };
  fig.completed = held.length === joins.length && !overWall();
  return done(held.length === joins.length ? '' : `${joins.length - held.length} of ${joins.length} new members never known to all`);
}

export interface RevokeRow { figures: RevokeFigures | null; convergeS: number | null; wallS: number; note: string }

/**
 * The revocation run of `make sim`'s second table (and revoke.test.ts):
 * bootstrap, steadyS seconds of quiet, then revokePhase; a Violation as in
 * runScenario. No figures when the wall-clock limit came first (the note says where).
 */
export function runRevocation(opts: ScenarioOptions & { afterS?: number }): RevokeRow {
  const wall0 = performance.now();
  const s = new Scenario(opts);
  const overWall = () => (performance.now() - wall0) / 1000 > s.o.wallLimitS;
  const row = (figures: RevokeFigures | null, convergeS: number | null, note: string): RevokeRow => ({ figures, convergeS, wallS: (performance.now() - wall0) / 1000, note });
  const boot = bootstrap(s, () => s.step(), overWall);
  if (boot.convergeS === null) return row(null, null, overWall() ? 'wall-clock limit in the bootstrap' : `did not converge in ${Math.round(boot.lastS)} s virtual`);
  for (let k = 0; k < s.o.steadyS && !overWall(); k++) s.step();
  if (overWall()) return row(null, boot.convergeS, 'wall-clock limit before the revocation');
  const f = revokePhase(s, { ...(opts.afterS !== undefined ? { afterS: opts.afterS } : {}), overWall, log: s.o.log });
  return row(f, boot.convergeS, overWall() ? 'wall-clock limit in the comeback rounds' : '');
}
