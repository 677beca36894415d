/// <reference types="node" />
// A small run of the simulator (test/sim): 20 nodes behind mixed NATs
// (and public), members joining with the real handshake, departures,
// restarts, a partition healed, 1 % loss, clock skew and a forging member,
// with the invariants checked after every tick (no loop, the WireGuard
// source check on every hop, no forged record held, convergence), then the
// figures. A broken invariant names the seed and the tick:
//   KITH_SIM_SEED=<n> npx uvu -r tsx test/sim 'sim\.test\.ts$'
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runScenario } from './run.ts';
import { Nat } from './nat.ts';
import { mulberry32 } from '../support/rand.ts';

const SEED = Number(process.env.KITH_SIM_SEED ?? 20);

test('NAT model: mappings and filtering as RFC 4787 names them, hairpinning', () => {
  const r = mulberry32(1);
  const eim = new Nat('192.0.2.1', { mapping: 'EIM', filtering: 'APDF', hairpin: true }, r);
  const a = eim.outbound('10.0.0.2:51820', '198.51.100.1:51820', 0);
  assert.is(a, '192.0.2.1:51820', 'the internal port is kept when free');
  assert.is(eim.outbound('10.0.0.2:51820', '198.51.100.2:51820', 0), a, 'EIM: one mapping whatever the destination');
  assert.is(eim.inbound(51820, '198.51.100.1:51820', 1), '10.0.0.2:51820');
  assert.is(eim.inbound(51820, '198.51.100.1:4000', 1), null, 'APDF: another port of a known address is filtered');
  assert.is(eim.inbound(51820, '198.51.100.1:51820', 70_000), null, 'an unused mapping expires');
  const sym = new Nat('192.0.2.2', { mapping: 'APDM', filtering: 'APDF', hairpin: false }, r);
  const x = sym.outbound('10.0.0.3:51820', '198.51.100.1:51820', 0);
  const y = sym.outbound('10.0.0.3:51820', '198.51.100.2:51820', 0);
  assert.not.equal(x, y, 'APDM: a new mapping per destination');
  const eif = new Nat('192.0.2.3', { mapping: 'EIM', filtering: 'EIF', hairpin: false }, r);
  eif.outbound('10.0.0.4:51820', '198.51.100.1:51820', 0);
  assert.is(eif.inbound(51820, '203.0.113.9:1', 1), '10.0.0.4:51820', 'EIF: anyone may send to a mapped port');
  const adf = new Nat('192.0.2.4', { mapping: 'EIM', filtering: 'ADF', hairpin: false }, r);
  adf.outbound('10.0.0.5:51820', '198.51.100.1:51820', 0);
  assert.is(adf.inbound(51820, '198.51.100.1:9', 1), '10.0.0.5:51820', 'ADF: any port of a known address');
  assert.is(adf.inbound(51820, '198.51.100.7:51820', 1), null, 'ADF: an unknown address is filtered');
});

test(`20 nodes, mixed NATs, churn, partition, loss, skew and a forger: no invariant broken, every new member known to all (seed ${SEED})`, () => {
  const f = runScenario({ nodes: 20, seed: SEED, steadyS: 40, churnS: 60, convergeS: 90, wallLimitS: 120 });
  console.log(`  20 nodes: converged ${f.convergeS} s, new member ${JSON.stringify(f.newMemberS)} s, steady ${f.steadyBytesPerSec.toFixed(0)} B/s/node, churn ${f.churnBytesPerSec.toFixed(0)}, direct ${f.directPct.toFixed(0)} %, stretch ${f.stretch.toFixed(2)}, ${f.wallS.toFixed(0)} s wall`);
  assert.ok(f.convergeS !== null && f.convergeS <= 30, `every node held every record ${f.convergeS} s after the last join`);
  assert.ok(f.completed, `run completed: ${f.note}`);
  assert.ok(f.newMemberS !== null && f.newMemberS.worst <= 60, `new members known to all within 60 s: ${JSON.stringify(f.newMemberS)}`);
  assert.ok(f.reachablePct > 90, `${f.reachablePct} % of pairs reachable`);
});

test.run();
