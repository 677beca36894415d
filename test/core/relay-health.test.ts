// Relay failover (src/core/relay-health.ts): a relay that dies is found by
// its missing answers (traffic through it unanswered, then its pings) within
// RELAY_DEAD_MS and a reading of WireGuard, its links leave the records of the
// members that relayed through it, and both ends of every relayed pair move
// to the same other relay: in the simulator, with the relay's WireGuard
// sessions still looking fresh (as they do for minutes after a far end dies).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RelayHealth, RELAY_DEAD_MS, RELAY_NONCE_BIT, RELAY_PING_INTERVAL_MS, MAX_RELAY_HOPS, RELAY_FORGET_MS, SUSPECT_AFTER_MS } from '../../src/core/relay-health.ts';
import { EXIT_NONCE_BIT } from '../../src/core/exits.ts';
import { MeshSim, SIM_TICK_MS, type SimNode } from '../support/sim.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh } from '../support/mesh.ts';

const T0 = 1_700_000_000_000;

/** `wg show`'s counters for one peer, by id (the test's ids are its public keys). */
const bytes = (id: string, txBytes: number, rxBytes: number) => [{ publicKey: id, txBytes, rxBytes }];
const self = (pub: string) => pub;

test('RelayHealth: a relay that answers is not pinged; one sent bytes that sent none back is, is dead RELAY_DEAD_MS later without an answer, and alive again at its next pong', () => {
  const h = new RelayHealth();
  let t = T0;
  assert.equal(h.tick(['r1'], t), { pings: [], changed: false }, 'a new relay owes nothing: no ping');
  h.observe(bytes('r1', 100, 100), self, t);
  // Traffic both ways: alive, never pinged.
  for (let i = 1; i <= 20; i++) {
    t += RELAY_PING_INTERVAL_MS;
    h.observe(bytes('r1', 100 + i * 50, 100 + i * 40), self, t);
    assert.equal(h.tick(['r1'], t), { pings: [], changed: false });
  }
  // Sent to it, nothing back: suspect, pinged; a pong clears it.
  t += RELAY_PING_INTERVAL_MS;
  h.observe(bytes('r1', 5000, 900), self, t);
  const first = h.tick(['r1'], t);
  assert.is(first.pings.length, 1, 'a suspect hop is pinged');
  assert.ok((first.pings[0]!.nonce & RELAY_NONCE_BIT) !== 0 && (first.pings[0]!.nonce & EXIT_NONCE_BIT) === 0);
  assert.ok(h.pong(first.pings[0]!.nonce, 'r1'));
  assert.is(h.tick(['r1'], t + RELAY_PING_INTERVAL_MS).pings.length, 0, 'answered: no more pings');
  // A keepalive's bytes unanswered: suspect only once SUSPECT_AFTER_MS has passed without an answer.
  h.observe(bytes('r1', 5032, 900), self, t);
  assert.is(h.tick(['r1'], t + RELAY_PING_INTERVAL_MS).pings.length, 0, 'a few bytes, just sent: not suspect yet');
  h.observe(bytes('r1', 5032, 964), self, t + 900);
  h.observe(bytes('r1', 5064, 964), self, t + 1000);
  h.observe(bytes('r1', 5064, 964), self, t + 1000 + SUSPECT_AFTER_MS - 1);
  assert.is(h.tick(['r1'], t + 2 * RELAY_PING_INTERVAL_MS).pings.length, 0, 'answered, then a keepalive not yet answered');
  h.observe(bytes('r1', 5064, 964), self, t + 1000 + SUSPECT_AFTER_MS);
  const late = h.tick(['r1'], t + 4 * RELAY_PING_INTERVAL_MS);
  assert.is(late.pings.length, 1, 'unanswered for SUSPECT_AFTER_MS: suspect');
  assert.ok(h.pong(late.pings[0]!.nonce, 'r1'));
  t += 5 * RELAY_PING_INTERVAL_MS;
  h.observe(bytes('r1', 5064, 1000), self, t);
  // Suspect again (a kilobyte unanswered), and silent: dead once RELAY_DEAD_MS has passed since, not before.
  t += RELAY_PING_INTERVAL_MS;
  h.observe(bytes('r1', 7000, 900), self, t);
  const suspectAt = t;
  let diedAt = 0, pinged = 0;
  for (let i = 0; i < 20 && !diedAt; i++) {
    const r = h.tick(['r1'], t);
    pinged += r.pings.length;
    if (r.changed) diedAt = t;
    t += RELAY_PING_INTERVAL_MS;
  }
  assert.ok(diedAt - suspectAt > RELAY_DEAD_MS && diedAt - suspectAt <= RELAY_DEAD_MS + RELAY_PING_INTERVAL_MS, `died ${diedAt - suspectAt} ms after it became suspect`);
  assert.ok(pinged >= 4, `pinged ${pinged} times meanwhile`);
  assert.ok(h.dead('r1'));
  assert.equal(h.deadHops, ['r1']);
  // No longer a relay of ours (paths moved away), it is still pinged, and its answer brings it back.
  const still = h.tick([], t);
  assert.is(still.pings.length, 1, 'a dead hop is pinged on');
  assert.ok(h.pong(still.pings[0]!.nonce, 'r1'));
  assert.not.ok(h.dead('r1'));
  assert.ok(h.tick([], t + RELAY_PING_INTERVAL_MS).changed, 'coming back is a change');
  // Alive, owing nothing and not a relay of ours: forgotten.
  assert.is(h.tick([], t + 2 * RELAY_PING_INTERVAL_MS).pings.length, 0);
  // A relay that stops being one while it owes an answer is watched until that is decided.
  const g = new RelayHealth();
  g.tick(['r2'], T0);
  g.observe(bytes('r2', 10, 10), self, T0);
  g.observe(bytes('r2', 2000, 10), self, T0 + 1000);
  assert.is(g.tick([], T0 + 1000).pings.length, 1, 'owes an answer: still pinged');
  assert.ok(g.tick([], T0 + 1000 + RELAY_DEAD_MS + 1).changed && g.dead('r2'), 'and found dead');
  // The far end found it dead first and paths moved: bytes we sent it went unanswered, so it is watched on and found dead here too.
  const f = new RelayHealth();
  f.tick(['r3'], T0);
  f.observe(bytes('r3', 10, 10), self, T0);
  f.observe(bytes('r3', 110, 10), self, T0 + 1000);
  assert.is(f.tick([], T0 + 1000).pings.length, 0, 'a few bytes unanswered: not suspect yet, but not forgotten');
  f.observe(bytes('r3', 110, 10), self, T0 + 2000);
  assert.is(f.tick([], T0 + 2000).pings.length, 1, 'then suspect: pinged');
  assert.ok(f.tick([], T0 + 2000 + RELAY_DEAD_MS + 1).changed && f.dead('r3'), 'and found dead');
  // Bytes from a dead hop bring it back too.
  g.observe(bytes('r2', 2100, 20), self, T0 + 5000);
  assert.not.ok(g.dead('r2'));
  assert.ok(g.tick([], T0 + 5000).changed, 'coming back is a change');
});

test('RelayHealth: other pings\' pongs, pongs from the wrong member and unknown nonces change nothing; hops are bounded and dead ones forgotten', () => {
  const h = new RelayHealth();
  h.tick(['r1'], T0);
  h.observe(bytes('r1', 10, 10), self, T0);
  h.observe(bytes('r1', 2000, 10), self, T0 + 1);
  const r = h.tick(['r1'], T0 + RELAY_PING_INTERVAL_MS);
  assert.is(r.pings.length, 1);
  assert.not.ok(h.pong(5, 'r1'), 'an RTT nonce is not ours');
  assert.not.ok(h.pong((EXIT_NONCE_BIT | 5) >>> 0, 'r1'), 'an exit nonce is not ours');
  assert.ok(h.pong(r.pings[0]!.nonce, 'mallory'), 'consumed, but from the wrong member');
  assert.ok(h.pong((RELAY_NONCE_BIT | 12345) >>> 0, 'r1'), 'consumed: never sent');
  assert.ok(h.tick(['r1'], T0 + RELAY_DEAD_MS + 2).changed && h.dead('r1'), 'neither counted as an answer');
  const many = Array.from({ length: 40 }, (_, i) => `r${i}`);
  h.tick(many, T0 + RELAY_DEAD_MS + 3);
  for (const id of many) { h.observe(bytes(id, 1, 1), self, T0 + RELAY_DEAD_MS + 3); h.observe(bytes(id, 2000, 1), self, T0 + RELAY_DEAD_MS + 4); }
  assert.is(h.tick(many, T0 + RELAY_DEAD_MS + RELAY_PING_INTERVAL_MS + 4).pings.length, MAX_RELAY_HOPS, 'hops are bounded');
  const later = T0 + RELAY_DEAD_MS + RELAY_FORGET_MS + 10_000;
  h.tick([], later);
  assert.not.ok(h.dead('r1'), 'a dead hop is forgotten after RELAY_FORGET_MS');
});

/** Two relays (r1 founds), homes a and b linked to both and not to each other. */
function twoRelays(): { sim: MeshSim; r1: SimNode; r2: SimNode; a: SimNode; b: SimNode } {
  const rnd = seededBytes(41);
  const sim = new MeshSim(foundMesh(rnd, { name: 'relays', nowMs: T0 }), rnd, T0);
  const r1 = sim.addFounder();
  const r2 = sim.join(r1, 'r2', { linkAdmitter: true });
  const a = sim.join(r1, 'a', { relay: false, linkAdmitter: true });
  const b = sim.join(r1, 'b', { relay: false, linkAdmitter: true });
  for (const h of [a, b]) sim.link(h, r2);
  return { sim, r1, r2, a, b };
}

const viaOf = (from: SimNode, to: SimNode) => from.core.netmap().nodes.find((n) => n.id === to.member.id)?.viaId;

/** Advances in the daemon's health-tick steps (EXIT_TICK_MS, 250 ms), ticking health on every node. */
const HEALTH_TICK_MS = 250;
function stepHealth(sim: MeshSim, ms: number, flows: [SimNode, SimNode][] = []): void {
  for (let t = 0; t < ms; t += HEALTH_TICK_MS) {
    for (const [x, y] of flows) sim.traffic(x, y, 84); // a ping through the relayed path, as the namespace test runs
    sim.step(HEALTH_TICK_MS);
    for (const n of sim.nodes.values()) sim.dispatch(n, n.core.healthTick(sim.nowMs));
  }
}

test('a relay dies: both ends of the relayed pair move to the other relay, within RELAY_DEAD_MS and a few ticks', () => {
  const { sim, r1, r2, a, b } = twoRelays();
  assert.ok(sim.runUntilConverged(60_000) !== null, 'converged');
  stepHealth(sim, 10 * SIM_TICK_MS);
  const relay = viaOf(a, b);
  assert.ok(relay === r1.member.id || relay === r2.member.id, `a reaches b through a relay (${relay})`);
  assert.is(viaOf(b, a), relay, 'both ends agree');
  const [dead, other] = relay === r1.member.id ? [r1, r2] : [r2, r1];
  // The relay stops: nothing it sends or is sent arrives. Its WireGuard sessions still look fresh.
  sim.dropIf = (from, to) => from === dead.ipv4 || to === dead.ipv4;
  const diedMs = sim.nowMs;
  let movedMs: number | null = null;
  for (let i = 0; i < 60 && movedMs === null; i++) {
    stepHealth(sim, HEALTH_TICK_MS, [[a, b], [b, a]]);
    if (viaOf(a, b) === other.member.id && viaOf(b, a) === other.member.id) movedMs = sim.nowMs - diedMs;
  }
  assert.ok(movedMs !== null, `a→b via ${viaOf(a, b)}, b→a via ${viaOf(b, a)} 15 s after the relay died`);
  assert.ok(movedMs! <= RELAY_DEAD_MS + RELAY_PING_INTERVAL_MS + 2 * SIM_TICK_MS, `moved after ${movedMs} ms`);
  for (const h of [a, b]) assert.not.ok(h.core.selfRecord.links.some((l) => l.peer === dead.member.id), `${h.member.name}'s record leaves the dead relay out`);
  // It comes back: its links return to the records (paths may move back; both ends still agree).
  sim.dropIf = null;
  stepHealth(sim, 5 * SIM_TICK_MS, [[a, b], [b, a]]);
  for (const h of [a, b]) assert.ok(h.core.selfRecord.links.some((l) => l.peer === dead.member.id), `${h.member.name}'s record has the relay again`);
  assert.is(viaOf(a, b), viaOf(b, a), 'both ends agree after it came back');
});

test.run();
