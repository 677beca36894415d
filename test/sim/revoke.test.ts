/// <reference types="node" />
// The simulator's revocation (revoke.ts) at 10 nodes: in a converged mesh
// behind mixed NATs, with 1 % loss and clock skew, the founder revokes an
// ordinary member through the real core; every other node must drop it by
// the cores' own gossip, keep no record, peer, route or path of it after
// every tick, and refuse (and count) the comeback records it keeps signing
// while it stays up. A broken invariant names the seed and the tick:
//   KITH_SIM_SEED=<n> npx uvu -r tsx test/sim 'revoke\.test\.ts$'
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runRevocation } from './run.ts';
import { COMEBACK_EVERY_S } from './revoke.ts';

const SEED = Number(process.env.KITH_SIM_SEED ?? 20);
const AFTER_S = 30;

test(`10 nodes: the founder revokes a member; every other node drops it within 10 s by gossip and refuses its comebacks (seed ${SEED})`, () => {
  const row = runRevocation({ nodes: 10, seed: SEED, steadyS: 20, convergeS: 90, afterS: AFTER_S, wallLimitS: 120 });
  const f = row.figures;
  if (!f || row.note) return assert.unreachable(`no figures: ${row.note}`);
  console.log(`  10 nodes: revocation dropped everywhere in ${f.maxS.toFixed(2)} s (median ${f.medianS.toFixed(2)} s); ${f.comebacksSent} comebacks forwarded, ${f.refused} refusals counted`);
  assert.is(f.nodes, 8, 'every node but the revoked one and the revoker had to learn it');
  assert.is(f.heldAtT, 9, 'every other node held the revoked node\'s record at T: dropping it was real');
  assert.ok(f.maxS > 0 && f.maxS <= 10, `every node dropped it within 10 s: ${f.maxS} s`);
  assert.ok(f.comebacksSent >= 9 * (AFTER_S / COMEBACK_EVERY_S) - 1, `comeback records were forwarded to every node each round: ${f.comebacksSent}`);
  assert.ok(f.refused >= 9, `every node counted a comeback refused: ${f.refused}`);
});

test.run();
