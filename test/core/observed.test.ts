// A node's public endpoint comes from what members across its NAT observe. A
// member on the same LAN sees the LAN address instead; its report must not
// wipe the public mapping (that left two members behind one NAT without each
// other's LAN endpoints, and traffic stalled until WireGuard's own timeout).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeControl } from '../../src/core/gossip.ts';
import { OBSERVED_STALE_MS } from '../../src/core/node.ts';
import { publicEndpoint } from '../../src/core/punch.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh } from '../support/mesh.ts';
import { MeshSim } from '../support/sim.ts';

const T0 = 1_700_000_000_000;

test('a LAN neighbour\'s report keeps the public endpoint while members across the NAT confirm it', () => {
  const rnd = seededBytes(12);
  const sim = new MeshSim(foundMesh(rnd, { name: 'obs', nowMs: T0 }), rnd, T0);
  const hub = sim.addFounder();
  const a = sim.join(hub, 'a');
  const b = sim.join(hub, 'b');
  sim.link(hub, a);
  sim.link(hub, b);
  sim.run(10_000); // a learns b's record
  assert.ok(a.core.nodeById(b.member.id), 'a knows b');
  let now = sim.nowMs + 1000;
  a.core.setLocalEndpoints([{ kind: 'lan', host: '198.18.1.2', port: 51820 }], now);
  const report = (from: string, host: string, port: number) => a.core.handleControl(encodeControl({ type: 'observed', host, port }), from, now);
  report(hub.ipv4, '198.51.100.1', 51820);
  assert.equal(publicEndpoint(a.core.selfRecord), { kind: 'public', host: '198.51.100.1', port: 51820 });
  now += 5_000;
  report(b.ipv4, '198.18.1.2', 51820); // b sits on a's LAN
  assert.equal(publicEndpoint(a.core.selfRecord), { kind: 'public', host: '198.51.100.1', port: 51820 }, 'kept');
  now += 20_000;
  report(hub.ipv4, '198.51.100.1', 51820);
  now += OBSERVED_STALE_MS - 1_000;
  report(b.ipv4, '198.18.1.2', 51820);
  assert.ok(publicEndpoint(a.core.selfRecord), 'still confirmed recently enough');
  now += 2_000;
  report(b.ipv4, '198.18.1.2', 51820);
  assert.is(publicEndpoint(a.core.selfRecord), null, 'unconfirmed for too long: the local view wins (no NAT any more)');
});

test.run();
