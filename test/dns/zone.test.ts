// buildIndex: names, empty non-terminals, reverse zones, rejection of
// services a node did not publish, and of bad or duplicate nodes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildIndex, MAX_SERVICES_PER_NODE } from '../../src/dns/zone.ts';
import { reverseZones, parsePrefix, parseIPv6, reverseName, parseHostPort } from '../../src/dns/addr.ts';
import { T } from '../../src/dns/records.ts';
import { fixtureZone } from './fixture.ts';

test('a service listed under a node that did not publish it is rejected', () => {
  const { index, rejected } = buildIndex(fixtureZone());
  assert.equal(rejected, [{ kind: 'service', name: 'evil@node3', reason: 'published by "node1", not by "node3"' }]);
  assert.not.ok(index.names.has('_evil._tcp.evil.node3.example.internal'));
  assert.not.ok(index.names.has('evil.node3.example.internal'));
  assert.ok(index.names.has('huge.node3.example.internal'));
});

test('nodes, services, apexes and empty non-terminals are indexed', () => {
  const { index } = buildIndex(fixtureZone());
  const has = (n: string, t: number) => index.names.get(n)?.byType.has(t) ?? false;
  assert.ok(has('node1.example.internal', T.A) && has('node1.example.internal', T.AAAA));
  assert.ok(has('web.node1.example.internal', T.A));
  assert.ok(has('_http._tcp.web.node1.example.internal', T.SRV) && has('_http._tcp.web.node1.example.internal', T.TXT));
  assert.ok(has('example.internal', T.SOA) && has('example.internal', T.NS));
  assert.ok(has('1.0.64.100.in-addr.arpa', T.PTR));
  assert.ok(has('3.1.65.100.in-addr.arpa', T.PTR), 'PTR in a second /16 of the /10');
  assert.ok(has('65.100.in-addr.arpa', T.SOA));
  assert.ok(has(reverseName(parseIPv6('fd12:3456:789a::1')), T.PTR));
  const ent = index.names.get('_tcp.web.node1.example.internal');
  assert.ok(ent && ent.byType.size === 0, 'empty non-terminal exists with no records');
  assert.ok(index.names.get('0.64.100.in-addr.arpa')?.byType.size === 0);
  assert.equal(index.counts.nodes, 3);
  assert.equal(index.apexes.size, 1 + 64 + 1);
});

test('duplicate and invalid nodes are rejected, not fatal', () => {
  const z = fixtureZone();
  z.nodes.push({ ...z.nodes[0]!, services: [] }, { name: 'bad_name', ipv4: '100.64.0.9', ipv6: 'fd12:3456:789a::9', services: [] },
    { name: 'node9', ipv4: '100.64.0.999', ipv6: 'fd12:3456:789a::9', services: [] });
  const { index, rejected } = buildIndex(z);
  assert.equal(rejected.filter((r) => r.kind === 'node').map((r) => r.name), ['node1', 'bad_name', 'node9']);
  assert.equal(index.counts.nodes, 3);
});

test('services per node are capped', () => {
  const z = fixtureZone();
  z.nodes[0]!.services = Array.from({ length: MAX_SERVICES_PER_NODE + 3 }, (_, i) => ({ name: `s${i}`, port: 1000 + i, proto: 'tcp' as const, owner: 'node1' }));
  const { rejected } = buildIndex(z);
  assert.equal(rejected.filter((r) => r.reason.startsWith('more than')).length, 3);
});

test('a bad zone config throws, naming the field', () => {
  assert.throws(() => buildIndex({ ...fixtureZone(), ipv4Pool: 'fd00::/8' }), /ipv4Pool/);
  assert.throws(() => buildIndex({ ...fixtureZone(), zone: 'bad zone' }), /zone/);
});

test('reverse zones of prefixes', () => {
  assert.equal(reverseZones(parsePrefix('100.64.0.0/10')).length, 64);
  assert.equal(reverseZones(parsePrefix('100.64.0.0/10'))[0], '64.100.in-addr.arpa');
  assert.equal(reverseZones(parsePrefix('10.1.2.0/24')), ['2.1.10.in-addr.arpa']);
  assert.equal(reverseZones(parsePrefix('fd12:3456:789a::/48')), ['a.9.8.7.6.5.4.3.2.1.d.f.ip6.arpa']);
  assert.equal(reverseZones(parsePrefix('fd12:3456:7890::/47')).length, 2);
  assert.equal(parseHostPort('[::1]:5353', 53), { address: '::1', port: 5353 });
  assert.equal(parseHostPort('127.0.0.1', 53), { address: '127.0.0.1', port: 53 });
  assert.throws(() => parseHostPort('127.0.0.1:x', 53));
});

// (How fast this is, is measured by bench/dns, not asserted here: a wall-clock bound flakes on a busy machine.)
test('a 4000-node netmap is indexed whole', () => {
  const z = fixtureZone();
  z.nodes = Array.from({ length: 4000 }, (_, i) => ({ name: `n${i}`, ipv4: `100.64.${i >> 8}.${i & 255}`, ipv6: `fd12:3456:789a::${i.toString(16)}`,
    services: [{ name: 'web', port: 80, proto: 'tcp' as const, owner: `n${i}` }] }));
  const { index } = buildIndex(z);
  assert.equal(index.counts.nodes, 4000);
  assert.equal(index.counts.services, 4000);
});

test.run();
