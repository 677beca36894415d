// Advertised subnets cannot hurt the host: what a member advertises is routed
// only when it is canonical, narrow enough, outside the overlay and the
// reserved ranges, nobody's earlier and none of this node's own networks.
//   issue reproductions (1): a member advertising 0.0.0.0/0 or the host's LAN
//   took its routes; a subnet with host bits set broke every node's apply.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeCore } from '../../src/core/node.ts';
import { decodeRecord, encodeRecord, type RecordBody } from '../../src/core/record.ts';
import { prefixRefusal, decidePrefixes, parsePrefix, overlaps, connectedNetworks, formatPrefix, masked, lanOf } from '../../src/core/prefixes.ts';
import { mappedRegion, MAX_MAPPED_PER_MEMBER } from '../../src/core/mapped.ts';
import { formatPrefix4, prefix4Contains } from '../../src/core/ip.ts';
import { ula48Text } from '../../src/core/network.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh, issueMember, type Member, type Mesh } from '../support/mesh.ts';

const T0 = 1_700_000_000_000;
const BODY: RecordBody = { seq: T0, endpoints: [{ kind: 'configured', host: '192.0.2.10', port: 51820 }], links: [], subnets: [], relay: true, exitCapacityMbit: 0, services: [] };

function world(seed = 5) {
  const rnd = seededBytes(seed);
  const mesh = foundMesh(rnd, { name: 'routes', nowMs: T0 });
  return { rnd, mesh };
}

function coreOf(mesh: Mesh, m: Member, subnets: string[] = []): NodeCore {
  return new NodeCore({ network: mesh.network, chain: m.chain, signKeys: m.identity.sign, relay: true, configuredEndpoints: [], services: [], subnets, lastSeq: 0, nowMs: T0 });
}

const recordOf = (m: Member, subnets: string[], seq = T0) => encodeRecord({ ...BODY, seq, subnets }, m.chain, m.identity.sign).bytes;

test('prefixRefusal: /0 to /7 and IPv6 /0 to /15 are too wide; host bits, reserved ranges, the pool and the ULA are refused', () => {
  const { mesh } = world();
  const net = mesh.network.params;
  const ula = ula48Text(net.ula48).replace('/48', '');
  const kind = (p: string) => prefixRefusal(p, net)?.kind ?? 'ok';
  for (const p of ['0.0.0.0/0', '0.0.0.0/1', '128.0.0.0/1', '10.0.0.0/7', '::/0', '2000::/3', '2000::/15']) assert.is(kind(p), 'too-short', p);
  assert.is(kind('10.1.2.3/8'), 'host-bits');
  assert.match(prefixRefusal('10.1.2.3/8', net)!.reason, '10.0.0.0/8', 'the reason names the network meant');
  assert.is(kind('192.168.1.1/24'), 'host-bits');
  assert.is(kind('2001:db8::1/32'), 'host-bits');
  for (const p of ['127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/8', '239.1.0.0/16', '240.0.0.0/8', '0.0.0.0/8', 'fe80::/64', 'ff02::/16', '::ffff:0:0/96', '::1/128']) assert.is(kind(p), 'reserved', p);
  for (const p of ['100.64.0.0/10', '100.64.3.0/24', '100.0.0.0/8', '100.127.255.255/32']) assert.is(kind(p), 'pool', p);
  for (const p of [`${ula}/48`, `${ula.replace(/::$/, ':7::')}/64`, `${ula.slice(0, 4)}::/16`]) assert.is(kind(p), 'ula', p);
  for (const p of ['192.168.1.0/24', '10.0.0.0/8', '198.18.0.0/15', '100.128.0.0/10', '2001:db8::/32', 'fd00:1234::/32']) assert.is(kind(p), 'ok', p);
  assert.is(kind('banana'), 'invalid');
  assert.is(kind('10.0.0.0/33'), 'invalid');
});

test('lanOf: the first subnet holding an IPv4 host, none for IPv6 subnets, bad or outside hosts', () => {
  const subnets = ['fd00:1::/64', '198.18.0.0/24', '198.18.0.0/16'];
  assert.is(lanOf('198.18.0.9', subnets), '198.18.0.0/24');
  assert.is(lanOf('198.18.5.9', subnets), '198.18.0.0/16');
  assert.is(lanOf('198.19.0.1', subnets), undefined);
  assert.is(lanOf('fd00:1::5', subnets), undefined);
  assert.is(lanOf('198.18.0.300', subnets), undefined);
});

test('parsePrefix / overlaps / connectedNetworks: containment both ways, families apart, host bits cleared', () => {
  const p = (s: string) => parsePrefix(s)!;
  assert.ok(overlaps(p('10.0.0.0/8'), p('10.1.0.0/16')));
  assert.ok(overlaps(p('10.1.0.0/16'), p('10.0.0.0/8')));
  assert.not.ok(overlaps(p('10.0.0.0/16'), p('10.1.0.0/16')));
  assert.not.ok(overlaps(p('10.0.0.0/8'), p('a00::/8')), 'families never overlap');
  assert.ok(overlaps(p('2001:db8::/32'), p('2001:db8:0:1::/64')));
  assert.equal(connectedNetworks(['198.18.1.2/24', '198.18.1.3/24', '2001:db8::5/64', '192.0.2.7']).map(formatPrefix),
    ['198.18.1.0/24', '2001:db8::/64', '192.0.2.7/32']);
});

test('a member advertising 0.0.0.0/0, the host\'s own LAN, a subnet with host bits and the pool gets none of them routed; its good subnet is routed', () => {
  const { rnd, mesh } = world();
  const hub = coreOf(mesh, mesh.founder);
  hub.setConnected(['192.168.1.1/24', '192.0.2.1/24', '2001:db8:1::1/64']);
  const m = issueMember(rnd, mesh, 'mallory', T0);
  const wanted = ['0.0.0.0/0', '192.168.1.0/24', '10.1.2.3/8', '100.64.0.0/16', '::/0', '2001:db8:1::/48', '198.18.7.0/24', '2001:db8:7::/48'];
  assert.ok(hub.acceptRecord(recordOf(m, wanted), T0), 'the record itself is accepted: its member stays reachable');
  const nm = hub.netmap();
  assert.equal(nm.routes, [
    { prefix: '198.18.7.0/24', node: m.id, dev: 'kith' },
    { prefix: '2001:db8:7::/48', node: m.id, dev: 'kith' },
  ]);
  const refused = Object.fromEntries(nm.refused.map((r) => [r.prefix, r.kind]));
  assert.equal(refused, {
    '0.0.0.0/0': 'too-short', '192.168.1.0/24': 'connected', '10.1.2.3/8': 'host-bits', '100.64.0.0/16': 'pool',
    '::/0': 'too-short', '2001:db8:1::/48': 'connected',
  });
  for (const r of nm.refused) {
    assert.is(r.name, 'mallory');
    assert.ok(r.reason.length > 0 && !r.reason.includes('\n'), `one line: ${r.reason}`);
  }
  const peer = nm.peers.find((p) => p.allowedIPs.includes('198.18.7.0/24'))!;
  assert.ok(peer, 'the good subnet is in the member\'s AllowedIPs');
  for (const p of Object.keys(refused)) assert.not.ok(peer.allowedIPs.includes(p), `${p} is not in its AllowedIPs either`);
});

test('connected networks change: a refused prefix is routed once the host no longer has that network, and refused again when it comes back', () => {
  const { rnd, mesh } = world();
  const hub = coreOf(mesh, mesh.founder);
  const m = issueMember(rnd, mesh, 'm', T0);
  hub.acceptRecord(recordOf(m, ['198.18.9.0/24']), T0);
  assert.equal(hub.netmap().routes.map((r) => r.prefix), ['198.18.9.0/24']);
  assert.equal(hub.setConnected(['198.18.9.77/24']), [{ type: 'netmap' }]);
  assert.equal(hub.netmap().routes, []);
  assert.is(hub.netmap().refused[0]!.kind, 'connected');
  assert.equal(hub.setConnected(['198.18.9.77/24']), [], 'the same addresses change nothing');
  hub.setConnected([]);
  assert.equal(hub.netmap().routes.map((r) => r.prefix), ['198.18.9.0/24']);
});

test('two members advertising overlapping prefixes: the first keeps its native route, both get a mapped block; the same on every node, in any arrival order', () => {
  const { rnd, mesh } = world();
  const early = issueMember(rnd, mesh, 'early', T0 + 1000);
  const late = issueMember(rnd, mesh, 'late', T0 + 2000);
  const third = issueMember(rnd, mesh, 'third', T0 + 3000);
  const recs = [recordOf(early, ['198.18.5.128/25', '198.18.6.0/24']), recordOf(late, ['198.18.5.0/24', '198.18.8.0/24'])];
  const region = mappedRegion(mesh.network.params.ipv4Pool);
  const views: string[] = [];
  for (const [who, order] of [[mesh.founder, [0, 1]], [mesh.founder, [1, 0]], [third, [1, 0]], [third, [0, 1]]] as const) {
    const core = coreOf(mesh, who);
    if (who === third) core.acceptRecord(recordOf(mesh.founder, []), T0);
    for (const i of order) assert.ok(core.acceptRecord(recs[i]!, T0));
    const nm = core.netmap();
    const mapped = (id: string) => nm.nodes.find((n) => n.id === id)!.mapped;
    views.push(JSON.stringify([nm.routes.map((r) => `${r.prefix}>${r.node}`), mapped(early.id), mapped(late.id), nm.refused]));
    const [me] = mapped(early.id);
    const [ml] = mapped(late.id);
    assert.equal([me!.prefix, ml!.prefix], ['198.18.5.128/25', '198.18.5.0/24'], 'both sides of the clash, and only they, are mapped');
    assert.is(mapped(early.id).length + mapped(late.id).length, 2);
    for (const m of [me!, ml!]) {
      const b = parsePrefix(m.mappedTo)!;
      assert.is(b.len, parsePrefix(m.prefix)!.len, `${m.mappedTo}: 1:1, the same size`);
      assert.ok(prefix4Contains(region, ((b.addr[0]! << 24) | (b.addr[1]! << 16) | (b.addr[2]! << 8) | b.addr[3]!) >>> 0), `${m.mappedTo} in ${formatPrefix4(region)}`);
    }
    assert.not.ok(overlaps(parsePrefix(me!.mappedTo)!, parsePrefix(ml!.mappedTo)!), 'the blocks are disjoint');
    const routes = nm.routes.map((r) => [r.prefix, r.node]).sort();
    assert.equal(routes, [['198.18.5.128/25', early.id], ['198.18.6.0/24', early.id], ['198.18.8.0/24', late.id], [me!.mappedTo, early.id], [ml!.mappedTo, late.id]].sort(),
      'the first keeps its range natively; the later one is reached through its block only');
    assert.equal(nm.refused, [], 'nothing refused: the clash is mapped');
  }
  assert.is(new Set(views).size, 1, 'every node, every arrival order: the same decision');
});

test('same issue time: the smaller node id keeps the range natively; both are mapped', () => {
  const { mesh } = world();
  const members = [
    { id: 'bb00000000000000', name: 'b', issuedAtMs: T0, subnets: ['198.18.3.0/24'] },
    { id: 'aa00000000000000', name: 'a', issuedAtMs: T0, subnets: ['198.18.3.0/25'] },
  ];
  const seen = new Set<string>();
  for (const list of [members, [...members].reverse()]) {
    const v = decidePrefixes(list, 'cc00000000000000', mesh.network.params, []);
    const ma = v.mapped.get('aa00000000000000')![0]!.mappedTo;
    const mb = v.mapped.get('bb00000000000000')![0]!.mappedTo;
    assert.equal(v.accepted.get('aa00000000000000'), ['198.18.3.0/25', ma]);
    assert.equal(v.accepted.get('bb00000000000000'), [mb]);
    assert.equal(v.refused, []);
    seen.add(`${ma} ${mb}`);
  }
  assert.is(seen.size, 1, 'the same blocks in either order');
});

test('what cannot be mapped is refused with the reason: too wide, IPv6, over the per-member bound', () => {
  const { mesh } = world();
  const first = { id: 'aa00000000000000', name: 'a', issuedAtMs: T0, subnets: ['198.18.0.0/16', '2001:db8::/48', '198.19.1.0/24', '198.19.2.0/24', '198.19.3.0/24', '198.19.4.0/24', '198.19.5.0/24'] };
  const later = { id: 'bb00000000000000', name: 'b', issuedAtMs: T0 + 1, subnets: ['198.18.0.0/16', '2001:db8::/48', '198.19.1.0/24', '198.19.2.0/24', '198.19.3.0/24', '198.19.4.0/24', '198.19.5.0/24'] };
  const v = decidePrefixes([first, later], 'cc00000000000000', mesh.network.params, []);
  const why = (prefix: string) => v.refused.find((r) => r.name === 'b' && r.prefix === prefix)?.reason ?? 'not refused';
  assert.match(why('198.18.0.0/16'), /not mapped: wider than \/20/);
  assert.match(why('2001:db8::/48'), /not mapped: only IPv4 prefixes are mapped/);
  assert.match(why('198.19.5.0/24'), new RegExp(`not mapped: this member already has ${MAX_MAPPED_PER_MEMBER} mapped prefixes`));
  assert.is(v.mapped.get('bb00000000000000')!.length, MAX_MAPPED_PER_MEMBER);
  assert.is(v.refused.length, 3);
  const region = parsePrefix(formatPrefix4(mappedRegion(mesh.network.params.ipv4Pool)))!;
  assert.equal(v.accepted.get('aa00000000000000')!.filter((t) => !overlaps(parsePrefix(t)!, region)), first.subnets, 'the first keeps all its ranges natively');
});

test('a hostile newcomer advertising many clashing prefixes takes no route away and cannot fill the region; an honest clash after it is still mapped', () => {
  const { mesh } = world();
  const honest = Array.from({ length: 64 }, (_, i) => ({ id: `aa${i.toString(16).padStart(14, '0')}`, name: `h${i}`, issuedAtMs: T0 + i, subnets: [`10.${i >> 4}.${(i & 15) * 4}.0/24`] }));
  // 16 /20s (the record's limit), each over the /24s of four honest members.
  const hostile = { id: 'ee00000000000000', name: 'mallory', issuedAtMs: T0 + 100, subnets: Array.from({ length: 16 }, (_, i) => `10.${i >> 2}.${(i & 3) * 16}.0/20`) };
  const later = { id: 'ff00000000000000', name: 'late', issuedAtMs: T0 + 200, subnets: ['192.168.1.0/24'] };
  const first = { id: '0000000000000001', name: 'first', issuedAtMs: T0 - 1, subnets: ['192.168.1.0/24'] };
  const v = decidePrefixes([first, ...honest, hostile, later], 'cc00000000000000', mesh.network.params, []);
  for (const h of honest) assert.ok(v.accepted.get(h.id)!.includes(h.subnets[0]!), `${h.name} keeps its native route`);
  assert.is(v.mapped.get(hostile.id)!.length, MAX_MAPPED_PER_MEMBER, 'the newcomer gets at most its bound of blocks');
  assert.is(v.refused.filter((r) => r.name === 'mallory').length, 16 - MAX_MAPPED_PER_MEMBER, 'the rest refused with the reason');
  // Its first four mappable prefixes give the ranges they overlap a block (four each); the other twelve give none.
  const blocks = [...v.mapped.values()].flat().length;
  assert.is(blocks, 2 + MAX_MAPPED_PER_MEMBER + MAX_MAPPED_PER_MEMBER * MAX_MAPPED_PER_MEMBER, `blocks given: ${blocks}`);
  assert.ok(v.mapped.get(later.id)?.[0]?.mappedTo, 'the honest clash that comes after is still mapped');
  assert.ok(v.mapped.get(first.id)?.[0]?.mappedTo);
});

test('a network whose mapped region holds a member (block 15 delegated before mapping existed) maps nothing, and says why', () => {
  const { mesh } = world();
  const region = mappedRegion(mesh.network.params.ipv4Pool);
  const v = decidePrefixes([
    { id: 'aa00000000000000', name: 'a', issuedAtMs: T0, subnets: ['198.18.1.0/24'] },
    { id: 'bb00000000000000', name: 'b', issuedAtMs: T0 + 1, subnets: ['198.18.1.0/24'], ipv4: region.base + 5 },
  ], 'cc00000000000000', mesh.network.params, []);
  assert.equal(v.accepted.get('aa00000000000000'), ['198.18.1.0/24']);
  assert.match(v.refused[0]!.reason, /holds members' addresses/);
});

test('this node\'s own LAN clashes with a member\'s subnet: routed through its mapped block when it has one, else refused', () => {
  const { mesh } = world();
  const a = { id: 'aa00000000000000', name: 'a', issuedAtMs: T0, subnets: ['198.18.1.0/24', '198.18.7.0/24'] };
  const b = { id: 'bb00000000000000', name: 'b', issuedAtMs: T0 + 1, subnets: ['198.18.1.0/24'] };
  const v = decidePrefixes([a, b], 'cc00000000000000', mesh.network.params, ['198.18.1.1/24', '198.18.7.1/24']);
  assert.equal(v.accepted.get('aa00000000000000'), [v.mapped.get('aa00000000000000')![0]!.mappedTo], 'not natively: it is this node\'s LAN too');
  assert.equal(v.refused.map((r) => [r.prefix, r.kind]), [['198.18.7.0/24', 'connected']], 'no block: refused');
});

test('a member\'s own later prefix inside its earlier one is refused too (the same next hop: it adds nothing)', () => {
  const { mesh } = world();
  const v = decidePrefixes([{ id: 'aa00000000000000', name: 'a', issuedAtMs: T0, subnets: ['10.0.0.0/8', '10.1.0.0/16', '11.0.0.0/8'] }], 'cc00000000000000', mesh.network.params, []);
  assert.equal(v.accepted.get('aa00000000000000'), ['10.0.0.0/8', '11.0.0.0/8']);
  assert.equal(v.refused.map((r) => [r.prefix, r.kind, r.reason]), [['10.1.0.0/16', 'taken', 'overlaps 10.0.0.0/8, advertised first by the same member']]);
});

test('decidePrefixes agrees with a naive pairwise check on random nested and disjoint prefixes (seeded)', () => {
  const { mesh } = world();
  let refusedSeen = 0;
  let mappedSeen = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const rnd = seededBytes(seed);
    const members = Array.from({ length: 1 + (rnd(1)[0]! % 12) }, (_, i) => ({
      id: `${i.toString(16).padStart(2, '0')}${'0'.repeat(14)}`, name: `m${i}`, issuedAtMs: T0 + (rnd(1)[0]! % 4),
      subnets: Array.from({ length: rnd(1)[0]! % 5 }, () => {
        const [a, b, l] = rnd(3);
        const v6 = (a! & 1) === 1;
        const len = v6 ? 16 + (l! % 20) : 8 + (l! % 17);
        // A small address space (a few bits vary), so prefixes nest and collide often.
        const p = parsePrefix(v6 ? `2001:db8:${(b! & 7).toString(16)}${(a! >> 4).toString(16)}::/128` : `10.${b! & 7}.${a! & 0xf0}.0/32`)!;
        return formatPrefix(masked({ ...p, len }));
      }),
    }));
    const fast = decidePrefixes(members, 'ffffffffffffffff', mesh.network.params, []);
    // The reference: the definition, pair by pair.
    const order = [...members].sort((x, y) => x.issuedAtMs - y.issuedAtMs || (x.id < y.id ? -1 : 1));
    const kept: string[] = [];
    const want = new Map<string, string[]>();
    for (const m of order) {
      want.set(m.id, []);
      for (const t of m.subnets) {
        if (kept.some((k) => overlaps(parsePrefix(k)!, parsePrefix(t)!))) continue;
        kept.push(t);
        want.get(m.id)!.push(t);
      }
    }
    const region = mappedRegion(mesh.network.params.ipv4Pool);
    const inRegion = (t: string) => { const p = parsePrefix(t)!; return p.family === 4 && overlaps(p, parsePrefix(formatPrefix4(region))!); };
    const native = new Map([...fast.accepted].map(([id, l]) => [id, l.filter((t) => !inRegion(t))]));
    assert.equal(native, want, `seed ${seed}: reproduce with this seed in this test`);
    const blocks = [...fast.mapped.values()].flat();
    for (const [id, l] of fast.accepted) assert.equal(l.filter(inRegion), (fast.mapped.get(id) ?? []).map((m) => m.mappedTo), `seed ${seed}: a member's routed blocks are its mapped ones`);
    blocks.forEach((x, i) => blocks.slice(i + 1).forEach((y) => assert.not.ok(overlaps(parsePrefix(x.mappedTo)!, parsePrefix(y.mappedTo)!), `seed ${seed}: ${x.mappedTo} / ${y.mappedTo}`)));
    mappedSeen += blocks.length;
    refusedSeen += fast.refused.length;
  }
  assert.ok(refusedSeen > 20, `the random cases do collide (${refusedSeen} refusals)`);
  assert.ok(mappedSeen > 5, `and some clashes are mapped (${mappedSeen} blocks)`);
});

test('a full mesh of prefixes (1024 members × 16) is decided; one wide prefix advertised last overlaps them all and is refused', () => {
  const { mesh } = world();
  const members = Array.from({ length: 1024 }, (_, i) => ({
    id: i.toString(16).padStart(16, '0'), name: `m${i}`, issuedAtMs: T0 + i,
    subnets: Array.from({ length: 16 }, (_, j) => `10.${i >> 2}.${((i & 3) << 6) | (j << 2)}.0/22`),
  }));
  members.push({ id: 'ffffffffffffffff', name: 'wide', issuedAtMs: T0 + 5000, subnets: ['10.0.0.0/8'] });
  const v = decidePrefixes(members, 'eeeeeeeeeeeeeeee', mesh.network.params, []);
  const kept = [...v.accepted.values()].reduce((n, l) => n + l.length, 0);
  assert.is(kept, 1024 * 16, 'disjoint prefixes of different members are all kept');
  assert.is(v.refused.length, 1);
  assert.equal(v.accepted.get('ffffffffffffffff'), []);
  assert.is(v.refused.at(-1)!.name, 'wide');
});

test('the node\'s own subnet is not refused as its own connected network; inside an earlier member\'s range it gets a mapped block', () => {
  const { rnd, mesh } = world();
  const early = issueMember(rnd, mesh, 'early', T0 + 1);
  const late = issueMember(rnd, mesh, 'late', T0 + 2);
  const core = coreOf(mesh, late, ['198.18.1.0/24']);
  core.setConnected(['198.18.1.2/24']);
  assert.equal(core.netmap().refused, [], 'its own LAN, advertised, is fine');
  core.acceptRecord(recordOf(early, ['198.18.0.0/16']), T0);
  const refused = core.netmap().refused.map((r) => [r.name, r.prefix, r.kind]);
  assert.equal(refused, [['early', '198.18.0.0/16', 'connected']], 'too wide to map, and this node\'s LAN: refused');
  assert.equal(core.netmap().self.mapped.map((m) => m.prefix), ['198.18.1.0/24'], 'its own LAN, inside the earlier range, is mapped');
  assert.equal(core.netmap().routes, [], 'the earlier member\'s range overlaps this node\'s LAN: not routed here either');
});

test('decoded subnets are in canonical text; a non-canonical one stays as signed and is refused, not rewritten', () => {
  const { rnd, mesh } = world();
  const m = issueMember(rnd, mesh, 'm', T0);
  const rec = decodeRecord(recordOf(m, ['2001:0DB8:0000::/32', '10.1.2.3/8', '198.18.4.0/24']));
  assert.equal(rec.subnets, ['2001:db8::/32', '10.1.2.3/8', '198.18.4.0/24']);
  const hub = coreOf(mesh, mesh.founder);
  hub.acceptRecord(rec.bytes, T0);
  assert.equal(hub.netmap().routes.map((r) => r.prefix), ['198.18.4.0/24', '2001:db8::/32']);
  assert.equal(hub.netmap().refused.map((r) => r.prefix), ['10.1.2.3/8']);
});

test.run();
