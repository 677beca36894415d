// A member that lies about our endpoint (OBSERVED) must not move the public
// endpoint other members confirm, must not touch our configured endpoints,
// and must not make us re-sign our record at its pace; when every reporter
// sees a new mapping (our NAT changed it), we follow.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeControl } from '../../src/core/gossip.ts';
import { publicEndpoint } from '../../src/core/punch.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh } from '../support/mesh.ts';
import { MeshSim, type SimNode } from '../support/sim.ts';

const T0 = 1_700_000_000_000;
const TRUE_EP = { kind: 'public', host: '198.51.100.1', port: 51820 };

function setup(members = ['a', 'b', 'liar']) {
  const rnd = seededBytes(31);
  const sim = new MeshSim(foundMesh(rnd, { name: 'liar', nowMs: T0 }), rnd, T0);
  const hub = sim.addFounder();
  const [a, b, liar] = members.map((name) => sim.join(hub, name)) as [SimNode, SimNode, SimNode];
  for (const n of [a, b, liar]) if (n) sim.link(hub, n);
  sim.run(10_000); // everyone knows everyone's record
  for (const n of [hub, b, liar]) if (n) assert.ok(a.core.nodeById(n.member.id), `a knows ${n.member.name}`);
  let now = sim.nowMs + 1000;
  const report = (target: SimNode, from: SimNode, host: string, port: number) => {
    now += 100;
    return target.core.handleControl(encodeControl({ type: 'observed', host, port }), from.ipv4, now);
  };
  return { sim, hub, a, b, liar, report, now: () => now };
}

test('one lying member cannot replace a public endpoint that other members confirm', () => {
  const { hub, a, b, liar, report } = setup();
  report(a, hub, '198.51.100.1', 51820);
  report(a, b, '198.51.100.1', 51820);
  assert.equal(publicEndpoint(a.core.selfRecord), TRUE_EP);
  const seq = a.core.seq;
  // The liar points everyone at an address of its choosing, again and again, with a new one each time.
  for (let i = 0; i < 50; i++) report(a, liar, '203.0.113.66', 40000 + i);
  assert.equal(publicEndpoint(a.core.selfRecord), TRUE_EP, 'the confirmed endpoint stays');
  assert.is(a.core.seq, seq, 'no re-signing at the liar\'s pace');
  // Even with one honest reporter left (tie), the endpoint held stays.
  report(a, liar, '203.0.113.66', 40000);
  assert.equal(publicEndpoint(a.core.selfRecord), TRUE_EP);
});

test('lying members cannot displace configured endpoints, even when their lie wins the public vote', () => {
  const { hub, a, b, liar, report, now } = setup();
  const before = hub.core.selfRecord.endpoints.filter((e) => e.kind === 'configured');
  assert.equal(before, [{ kind: 'configured', host: '192.0.2.1', port: 51820 }]);
  report(hub, liar, '192.0.2.1', 1); // our configured host with another port: a local view, ignored
  for (const from of [liar, a, b]) report(hub, from, '203.0.113.66', 40000);
  const eps = hub.core.selfRecord.endpoints;
  assert.equal(eps.find((e) => e.kind === 'public'), { kind: 'public', host: '203.0.113.66', port: 40000 }, 'every reporter agrees: taken');
  assert.equal(eps.filter((e) => e.kind === 'configured'), before, 'configured endpoints kept');
  assert.is(eps[0]!.kind, 'configured', 'and listed first');
  // The other members keep dialling the configured endpoint.
  assert.ok(a.core.acceptRecord(hub.core.selfRecord.bytes, now()), 'a takes the hub\'s new record');
  assert.is(a.core.netmap().peers.find((p) => p.publicKey === hub.wgPub)!.endpoint, '192.0.2.1:51820');
});

test('when the reporters agree on a new mapping, it is taken; a lone reporter is believed', () => {
  const { hub, a, b, liar, report } = setup();
  report(a, hub, '198.51.100.1', 51820);
  report(a, b, '198.51.100.1', 51820);
  // Our NAT remapped us: the honest members now see a new port; the liar still sends its lie.
  report(a, liar, '203.0.113.66', 40000);
  report(a, hub, '198.51.100.1', 61000);
  assert.equal(publicEndpoint(a.core.selfRecord), TRUE_EP, 'one vote each: the endpoint held stays');
  report(a, b, '198.51.100.1', 61000);
  assert.equal(publicEndpoint(a.core.selfRecord), { ...TRUE_EP, port: 61000 }, 'two of three: moved');
  // A node with one member that sees it (a two-home mesh) takes that member's word at once.
  const { hub: h2, a: a2, report: r2 } = setup(['a']);
  r2(a2, h2, '198.51.100.9', 1234);
  assert.equal(publicEndpoint(a2.core.selfRecord), { kind: 'public', host: '198.51.100.9', port: 1234 });
});

test.run();
