// The zone kithd serves is built from the netmap: every member by name, its
// services, and the first-admitted node keeping a name admitted twice.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MeshDns, zoneInput } from '../../src/daemon/dns.ts';
import type { Platform } from '../../src/platform/types.ts';
import type { Logger } from '../../src/daemon/log.ts';
import { buildIndex } from '../../src/dns/zone.ts';
import { resolve } from '../../src/dns/resolver.ts';
import * as packet from 'dns-packet';
import { Buffer } from 'buffer';
import type { Netmap, NetNode } from '../../src/core/netmap.ts';
import { DEFAULT_IPV4_POOL, type NetworkParams } from '../../src/core/network.ts';

const net: NetworkParams = {
  networkPub: new Uint8Array(32), name: 'demo', zone: 'demo.internal', ipv4Pool: DEFAULT_IPV4_POOL,
  ula48: Uint8Array.of(0xfd, 1, 2, 3, 4, 5), controlPort: 51821, policy: 'admins', createdAtMs: 0,
};

function node(id: string, name: string, ip: number, issuedAtMs: number, services: NetNode['services'] = []): NetNode {
  return {
    id, name, ipv4: `100.64.0.${ip}`, ipv6: `fd01:203:405::6440:${ip}`, transport: `fd01:203:405:ffff::6440:${ip}`, wgPub: id, endpoints: [], subnets: [], services, clients: [], mapped: [],
    relay: true, issuedAtMs, path: 'direct', via: null,
  };
}

test('nodes and their services become zone entries; a duplicate name goes to the earlier admission', () => {
  const self = node('aa', 'hub', 1, 1);
  const nm: Netmap = {
    self, peers: [], e2ePeers: [], relayedHosts: [], routes: [], refused: [],
    nodes: [self, node('bb', 'home', 3, 300), node('cc', 'home', 2, 200, [{ name: 'web', port: 80, proto: 'tcp', type: 'http' }])],
  };
  const input = zoneInput(nm, net, 7);
  assert.is(input.zone, 'demo.internal');
  assert.is(input.self, 'hub');
  assert.equal(input.nodes.map((n) => [n.name, n.ipv4]), [['hub', '100.64.0.1'], ['home', '100.64.0.2'], ['home', '100.64.0.3']]);
  assert.equal(input.nodes[1]!.services, [{ name: 'web', port: 80, proto: 'tcp', type: 'http', owner: 'home' }]);
  const { index, rejected } = buildIndex(input);
  assert.equal(rejected.map((r) => [r.kind, r.name]), [['node', 'home']]);
  const query = packet.encode({ type: 'query', id: 1, flags: packet.RECURSION_DESIRED, questions: [{ type: 'A', name: 'home.demo.internal' }] });
  const answer = packet.decode(Buffer.from(resolve(new Uint8Array(query), index, { transport: 'udp', maxAnswers: 8 }).response!));
  assert.equal(answer.answers!.map((a) => ('data' in a ? a.data : null)), ['100.64.0.2'], 'the node admitted first answers for the name');
});

test('a name a member may not give (a host off its routed LANs) is left out, and status lists it with the reason', () => {
  const self = node('aa', 'hub', 1, 1);
  const foreign = { name: 'nas', port: 445, proto: 'tcp' as const, type: '', host: '198.18.9.9', at: { refused: 'host 198.18.9.9 is on no LAN its node advertises' } };
  const nm: Netmap = { self, peers: [], e2ePeers: [], relayedHosts: [], routes: [], refused: [], nodes: [self, node('bb', 'home', 2, 2, [foreign])] };
  const logged: string[] = [];
  const log = { limited: (_k: string, _l: string, m: string) => logged.push(m) } as unknown as Logger;
  const dns = new MeshDns({ clock: { nowMs: () => 0 } } as unknown as Platform, log, net, nm);
  assert.equal(dns.leftOut, [{ name: 'nas@home', reason: 'host 198.18.9.9 is on no LAN its node advertises' }]);
  assert.ok(logged.some((m) => m.includes('nas@home')), 'and logged');
  dns.update({ ...nm, nodes: [self] });
  assert.equal(dns.leftOut, [], 'a later netmap without it clears the list');
});

test.run();
