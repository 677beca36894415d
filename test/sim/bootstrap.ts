// What a mass join costs: members join 20 a second (as in `make sim`'s
// bootstrap) until every node holds every record. Per size and seed: seconds
// from the last join to that point, what a node sent meanwhile (all control
// bytes on the wire, and of them records), and its re-signs.
//   KITH_SIM_SIZES=100 KITH_SIM_SEEDS=1,2,3 npx tsx test/sim/bootstrap.ts
import { safeDecodeControl } from '../../src/core/gossip.ts';
import { Scenario } from './scenario.ts';
import { WIRE_OVERHEAD_BYTES, type SimNode } from './world.ts';

const sizes = (process.env.KITH_SIM_SIZES ?? '100').split(',').map(Number);
const seeds = (process.env.KITH_SIM_SEEDS ?? '1').split(',').map(Number);
/** Virtual seconds from the last join before a row gives up. */
const LIMIT_S = 600;

function row(n: number, seed: number): string {
  const wall0 = performance.now();
  const s = new Scenario({ nodes: n, seed, pairsPerTick: 500, convergeS: 240 });
  const { w } = s;
  let bytes = 0, recordBytes = 0, resigns = 0;
  const seqs = new Map<SimNode, number>();
  w.onSend = (_n, b) => {
    bytes += b.length + WIRE_OVERHEAD_BYTES;
    if (safeDecodeControl(b)?.type === 'records') recordBytes += b.length + WIRE_OVERHEAD_BYTES;
  };
  w.onActions = (x) => {
    const q = x.core.selfRecord.seq;
    if (seqs.has(x) && seqs.get(x) !== q) resigns++;
    seqs.set(x, q);
  };
  const held = () => w.live().every((x) => x.core.allRecords().length >= w.live().length);
  let tick = 0, lastJoin = -1;
  for (; tick < LIMIT_S + n; tick++) {
    for (let i = 0; i < 20 && w.nodes.length < n; i++) s.addMember();
    if (w.nodes.length >= n && lastJoin < 0) lastJoin = tick;
    s.step();
    if (lastJoin >= 0 && held()) break;
    if (lastJoin >= 0 && tick - lastJoin >= LIMIT_S) return `${n} | ${seed} | not in ${LIMIT_S} s | | | | ${((performance.now() - wall0) / 1000).toFixed(0)}`;
  }
  const per = (v: number) => (v / w.live().length / 1000).toFixed(0);
  return `${n} | ${seed} | ${tick + 1 - lastJoin} | ${per(bytes)} | ${per(recordBytes)} | ${(resigns / w.live().length).toFixed(1)} | ${((performance.now() - wall0) / 1000).toFixed(0)}`;
}

console.log('nodes | seed | s from the last join until all hold all | KB sent per node | of which records | re-signs per node | wall s');
for (const n of sizes) for (const seed of seeds) console.log(row(n, seed));
