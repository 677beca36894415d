// The designated-opener punch as the core drives it (see src/core/punch.ts),
// in the simulator: a hub with a configured endpoint and two homes behind
// different NATs. The test plays the daemon (installs nothing, but answers
// punch-open with punchOpened + punchSignal) and the NATs (a session between
// the homes exists once the responder dials).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeControl, encodeControl } from '../../src/core/gossip.ts';
import { PUNCH_BACKOFF_MS, PUNCH_QUIET_MS, PUNCH_RESIGNAL_MS, PUNCH_TIMEOUT_MS, PUNCH_TTLS } from '../../src/core/punch.ts';
import type { Action } from '../../src/core/node.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh } from '../support/mesh.ts';
import { MeshSim, SIM_TICK_MS, type SimNode } from '../support/sim.ts';

const T0 = 1_700_000_000_000;

function homes(seed = 7) {
  const rnd = seededBytes(seed);
  const sim = new MeshSim(foundMesh(rnd, { name: 'punch', nowMs: T0 }), rnd, T0);
  const hub = sim.addFounder();
  const a = sim.join(hub, 'home1');
  const b = sim.join(hub, 'home2');
  sim.link(hub, a);
  sim.link(hub, b);
  const [opener, responder] = a.member.id < b.member.id ? [a, b] : [b, a];
  return { sim, hub, opener, responder };
}

type Logged = { atMs: number; from: string; action: Action };
const actionsOf = (sim: MeshSim, n: SimNode, type: Action['type'], since = 0): Logged[] =>
  sim.log.filter((l) => l.from === n.ipv4 && l.action.type === type && l.atMs >= since);
const punchesSent = (sim: MeshSim, n: SimNode, to: SimNode) =>
  sim.log.filter((l) => l.from === n.ipv4 && l.action.type === 'send' && l.action.to === to.ipv4 && decodeControl(l.action.bytes).type === 'punch');
const peerIn = (n: SimNode, other: SimNode) => n.core.netmap().peers.find((p) => p.publicKey === other.wgPub);

/** Plays the daemon for punch-open: TTL rule "installed", peer dialled, then PUNCH sent. */
function serveOpens(sim: MeshSim, n: SimNode, handled: Set<Logged>): void {
  for (const l of actionsOf(sim, n, 'punch-open')) {
    if (handled.has(l) || l.action.type !== 'punch-open') continue;
    handled.add(l);
    sim.dispatch(n, n.core.punchOpened(l.action.peer, sim.nowMs));
    sim.dispatch(n, n.core.punchSignal(l.action.peer, sim.nowMs));
  }
}

/** Runs tick by tick; `each` runs after every tick. */
function step(sim: MeshSim, ms: number, each: () => void): void {
  for (let t = 0; t < ms; t += SIM_TICK_MS) { sim.run(SIM_TICK_MS); each(); }
}

test('the opener opens with the first TTL, tells the responder where to dial, and drops its rule once the session is up', () => {
  const { sim, opener, responder } = homes();
  const handled = new Set<Logged>();
  let dialled = false;
  step(sim, 30_000, () => {
    serveOpens(sim, opener, handled);
    // The NATs: a session exists once the responder dials the opener.
    if (!dialled && peerIn(responder, opener)?.endpoint) { dialled = true; sim.link(opener, responder); }
  });
  const opens = actionsOf(sim, opener, 'punch-open');
  assert.is(opens.length, 1, 'one attempt');
  const o = opens[0]!.action as Extract<Action, { type: 'punch-open' }>;
  assert.is(o.ttl, PUNCH_TTLS[0]);
  assert.is(`${o.host}:${o.port}`, responder.publicEndpoint, 'the opener targets the responder\'s observed endpoint');
  assert.ok(dialled, 'the responder dialled');
  assert.is(peerIn(responder, opener)?.endpoint, opener.publicEndpoint, 'the responder dials the endpoint named in PUNCH');
  assert.is(actionsOf(sim, responder, 'punch-open').length, 0, 'only the opener opens');
  const closes = actionsOf(sim, opener, 'punch-close');
  assert.is(closes.length, 1, 'the TTL rule is removed once');
  assert.ok(closes[0]!.atMs >= opens[0]!.atMs, 'after the opening');
  assert.is(opener.core.netmap().nodes.find((x) => x.id === responder.member.id)?.path, 'direct');
  assert.is(responder.core.netmap().nodes.find((x) => x.id === opener.member.id)?.path, 'direct');
});

test('a lost PUNCH is sent again until the responder dials; the rule stays meanwhile', () => {
  const { sim, opener, responder } = homes(8);
  const handled = new Set<Logged>();
  let dropped = 0;
  sim.dropIf = (from, to, bytes) => {
    if (from !== opener.ipv4 || to !== responder.ipv4 || decodeControl(bytes).type !== 'punch' || dropped >= 3) return false;
    dropped++;
    return true;
  };
  let dialledAt = 0;
  step(sim, 30_000, () => {
    serveOpens(sim, opener, handled);
    if (!dialledAt && peerIn(responder, opener)?.endpoint) { dialledAt = sim.nowMs; sim.link(opener, responder); }
  });
  assert.is(dropped, 3);
  assert.ok(dialledAt > 0, 'the responder dialled after the losses');
  const sent = punchesSent(sim, opener, responder);
  assert.ok(sent.length >= 4, `PUNCH sent ${sent.length} times`);
  for (let i = 1; i < 4; i++) assert.ok(sent[i]!.atMs - sent[i - 1]!.atMs <= PUNCH_RESIGNAL_MS + SIM_TICK_MS, 'resent within a tick of the interval');
  const close = actionsOf(sim, opener, 'punch-close');
  assert.is(close.length, 1);
  assert.ok(close[0]!.atMs >= dialledAt, 'the rule stayed until the session was up');
});

test('a punch that produces no session times out, removes the peer before the rule, and backs off past the conntrack timeout', () => {
  const { sim, opener, responder } = homes(9);
  const handled = new Set<Logged>();
  step(sim, 120_000, () => serveOpens(sim, opener, handled)); // the NATs never let it through
  const opens = actionsOf(sim, opener, 'punch-open');
  assert.ok(opens.length >= 2, `${opens.length} attempts`);
  const closes = actionsOf(sim, opener, 'punch-close');
  assert.ok(closes.length >= 1);
  const firstClose = closes[0]!;
  assert.ok(firstClose.atMs - opens[0]!.atMs >= PUNCH_TIMEOUT_MS, 'no close before the timeout');
  // The netmap change comes first in the same batch, so the daemon removes the peer, then the rule.
  const batch = sim.log.filter((l) => l.from === opener.ipv4 && l.atMs === firstClose.atMs).map((l) => l.action.type);
  assert.ok(batch.indexOf('netmap') >= 0 && batch.indexOf('netmap') < batch.indexOf('punch-close'), `order: ${batch.join(',')}`);
  assert.ok(opens[1]!.atMs - firstClose.atMs >= PUNCH_BACKOFF_MS[1]!, 'backoff counted from the failure');
  assert.is((opens[1]!.action as Extract<Action, { type: 'punch-open' }>).ttl, PUNCH_TTLS[1]);
  assert.is(peerIn(opener, responder), undefined, 'no direct peer between attempts');
});

test('a responder stops dialling soon after the opener gives up, so the next attempt finds both NATs clean', () => {
  const { sim, opener, responder } = homes(9);
  const handled = new Set<Logged>();
  const dials: number[] = [];
  step(sim, 70_000, () => {
    serveOpens(sim, opener, handled); // the NATs never let it through
    if (peerIn(responder, opener)?.endpoint) dials.push(sim.nowMs);
  });
  const opens = actionsOf(sim, opener, 'punch-open');
  assert.ok(opens.length >= 2, `${opens.length} attempts`);
  const lastDial = Math.max(0, ...dials.filter((t) => t < opens[1]!.atMs));
  const lastPunch = punchesSent(sim, opener, responder).filter((l) => l.atMs < opens[1]!.atMs).pop()!;
  assert.ok(lastDial > 0, 'the responder dialled in the first attempt');
  assert.ok(lastDial - lastPunch.atMs <= PUNCH_QUIET_MS + 2 * SIM_TICK_MS, `dialled ${lastDial - lastPunch.atMs} ms past the last PUNCH`);
  // Its NAT forgets an unanswered entry 30 s after the last packet: that is over before the opener's next attempt.
  assert.ok(opens[1]!.atMs - lastDial >= 30_000, `${opens[1]!.atMs - lastDial} ms between the responder's last dial and the next attempt`);
});

test('PUNCH from a non-member or from the responder side changes nothing', () => {
  const { sim, hub, opener, responder } = homes(10);
  const handled = new Set<Logged>();
  step(sim, 5_000, () => serveOpens(sim, opener, handled));
  const punch = punchesSent(sim, opener, responder)[0];
  assert.ok(punch, 'a PUNCH was sent');
  const bytes = (punch!.action as Extract<Action, { type: 'send' }>).bytes;
  assert.equal(hub.core.handleControl(bytes, '100.127.1.1', sim.nowMs), [], 'unknown source');
  assert.equal(opener.core.handleControl(bytes, responder.ipv4, sim.nowMs), [], 'the opener does not answer PUNCH');
});

test('a member reached through the relay is not pinged and its pong measures nothing; the echoed send time is not trusted', () => {
  const { sim, hub, opener, responder } = homes(11);
  sim.run(5_000);
  // The opener has a session with the responder (it sees a handshake), the responder does not report
  // one yet: no mutual edge, so the path is still relayed, though the responder is a neighbour.
  let now = sim.nowMs + 1;
  const obs = [hub, responder].map((p) => ({ publicKey: p.wgPub, endpoint: p.publicEndpoint, lastHandshakeMs: now, rxBytes: 0, txBytes: 0 }));
  opener.core.observeWg(obs, now);
  assert.is(opener.core.netmap().nodes.find((x) => x.id === responder.member.id)?.path, 'relayed');
  now += 10_000;
  const pingTo = (to: SimNode, acts: Action[]) => acts.map((x) => (x.type === 'send' && x.to === to.ipv4 ? decodeControl(x.bytes) : null)).find((m) => m?.type === 'ping') as { nonce: number; sentMs: number } | undefined;
  const acts = opener.core.tick(now);
  assert.is(pingTo(responder, acts), undefined, 'the opener pings the responder while relayed (that measures the relay)');
  assert.ok(pingTo(hub, acts), 'the opener pings the hub, a direct link');
  for (let nonce = 1; nonce < 8; nonce++) opener.core.handleControl(encodeControl({ type: 'pong', nonce, sentMs: now }), responder.ipv4, now + 120);
  assert.is(opener.core.rttTo(responder.member.id), undefined, 'a pong from a member we did not ping measures nothing');
  // Over a direct path (the hub), a forged echoed time changes nothing: the RTT comes from our own send time.
  now += 10_000;
  // One slow direct pong moves nothing: an RTT is published once two samples agree (their minimum).
  const before = opener.core.rttTo(hub.member.id);
  const slow = pingTo(hub, opener.core.tick(now - 5_000));
  assert.ok(slow, 'a ping to the hub');
  opener.core.handleControl(encodeControl({ type: 'pong', nonce: slow!.nonce, sentMs: slow!.sentMs }), hub.ipv4, now - 5_000 + 900);
  const after = opener.core.rttTo(hub.member.id);
  assert.ok(after === undefined ? before === undefined : after <= 30, `one 900 ms sample published ${after} ms`);
  const p2 = pingTo(hub, opener.core.tick(now));
  assert.ok(p2, 'the opener pings the hub');
  opener.core.handleControl(encodeControl({ type: 'pong', nonce: p2!.nonce, sentMs: p2!.sentMs - 5_000 }), hub.ipv4, now + 30);
  const rtt = opener.core.rttTo(hub.member.id);
  assert.ok(rtt !== undefined && rtt <= 30, `rtt ${rtt} ms`);
});

test.run();
