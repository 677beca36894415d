// `make sim`: one row per mesh size, with the figures of run.ts, and the
// cost of a signature check measured here; then a second table, one row per
// size, of a revocation's propagation in a fresh converged mesh (revoke.ts).
// Exits 1 when an invariant broke (the line says the seed, the size and the
// tick, and how to re-run it).
//   KITH_SIM_SEED=<n> KITH_SIM_SIZES=10,100 npx tsx test/sim/main.ts
// KITH_SIM_BREAKDOWN=1: instead, where the steady phase's bytes go (breakdown.ts).
import { runScenario, runRevocation, type RevokeRow } from './run.ts';
import { Violation } from './check.ts';
import { timeVerify } from './crypto.ts';
import { makeIdentity } from '../support/mesh.ts';
import { seededBytes } from '../support/rand.ts';
import type { Figures } from './scenario.ts';
import { printBreakdown } from './breakdown.ts';

const seed = Number(process.env.KITH_SIM_SEED ?? 1);
const sizes = (process.env.KITH_SIM_SIZES ?? '10,100,1000').split(',').map(Number);
const wallLimitS = Number(process.env.KITH_SIM_WALL_S ?? 900);
if (process.env.KITH_SIM_BREAKDOWN === '1') {
  printBreakdown(sizes, seed);
  process.exit(0);
}

const id = makeIdentity(seededBytes(7));
const cost = timeVerify(id.sign.secretKey, id.sign.publicKey);
console.log(`Ed25519 verify in this process: tweetnacl ${cost.tweetnaclMs.toFixed(2)} ms, native (OpenSSL) ${cost.nativeMs.toFixed(3)} ms`);

const f1 = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const SETTLE_S = 60;
const cols = ['nodes', 'converge s', 'new member s (med/max)', `B/s/node settling (${SETTLE_S} s)`, 'B/s/node steady', 'B/s/node churn', 'direct %', 'reach %', 'stretch', 'sig ms/node/min native (tweetnacl)', 'wall s', 'note'];
const rows: string[][] = [];
let broken = false;
for (const n of sizes) {
  let f: Figures;
  try {
    f = runScenario({ nodes: n, seed, wallLimitS, settleS: SETTLE_S, pairsPerTick: n <= 100 ? 10_000 : 3000, convergeS: n <= 100 ? 90 : 240, log: (l) => console.log(l) });
  } catch (e) {
    if (!(e instanceof Violation)) throw e;
    broken = true;
    console.log(`INVARIANT BROKEN: ${e.message}`);
    console.log(`  reproduce: KITH_SIM_SEED=${seed} KITH_SIM_SIZES=${n} npx tsx test/sim/main.ts`);
    rows.push([String(n), 'invariant broken', '', '', '', '', '', '', '', '', '', `seed ${seed}`]);
    continue;
  }
  const sig = (perMin: number) => `${f1(perMin * cost.nativeMs, 2)} (${f1(perMin * cost.tweetnaclMs, 0)})`;
  rows.push([
    String(n), f.convergeS === null ? '-' : f1(f.convergeS, 0), f.newMemberS ? `${f1(f.newMemberS.median, 0)}/${f1(f.newMemberS.worst, 0)}` : '-',
    f1(f.settleBytesPerSec, 0), f1(f.steadyBytesPerSec, 0), f1(f.churnBytesPerSec, 0), f1(f.directPct), f1(f.reachablePct), f1(f.stretch, 2),
    `${sig(f.checksPerMinSteady)} / churn ${sig(f.checksPerMinChurn)}`, f1(f.wallS, 0), f.note || (f.completed ? 'ok' : ''),
  ]);
}

// The revocation: a fresh mesh per size, converged, then the founder revokes an ordinary member.
const revCols = ['nodes', 'revoke s (med/max)', 'held at T', 'comebacks refused/sent', 'wall s', 'note'];
const revRows: string[][] = [];
for (const n of sizes) {
  let r: RevokeRow;
  try {
    r = runRevocation({ nodes: n, seed, wallLimitS, steadyS: 0, afterS: 60, pairsPerTick: n <= 100 ? 1000 : 300, convergeS: n <= 100 ? 90 : 240, log: (l) => console.log(l) });
  } catch (e) {
    if (!(e instanceof Violation)) throw e;
    broken = true;
    console.log(`INVARIANT BROKEN: ${e.message}`);
    console.log(`  reproduce: KITH_SIM_SEED=${seed} KITH_SIM_SIZES=${n} npx tsx test/sim/main.ts`);
    revRows.push([String(n), 'invariant broken', '', '', '', `seed ${seed}`]);
    continue;
  }
  const f = r.figures;
  revRows.push([
    String(n), f ? `${f1(f.medianS, 2)}/${f1(f.maxS, 2)}` : '-', f ? `${f.heldAtT}/${f.nodes + 1}` : '-', f ? `${f.refused}/${f.comebacksSent}` : '-', f1(r.wallS, 0), r.note || 'ok',
  ]);
}

function table(head: string[], body: string[][]): void {
  const widths = head.map((c, i) => Math.max(c.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((x, i) => x.padEnd(widths[i]!)).join(' | ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of body) console.log(line(r));
}
table(cols, rows);
console.log(`seed ${seed}; B/s counts control payload plus 88 bytes of IP, UDP and WireGuard headers per datagram; stretch = path latency / direct latency; settling: the ${SETTLE_S} s from convergence (every link measured and published once), steady: the 120 s after; goal: steady ≤ 1024 B/s per node`);
console.log('');
table(revCols, revRows);
console.log(`seed ${seed}; revoke s: virtual time from the founder's revocation of a member until each other live node had dropped it (records, peers, paths); held at T: nodes holding its record then, of those that had to drop it; comebacks: its newer records forwarded to every member afterwards, refusals counted`);
process.exit(broken ? 1 : 0);
