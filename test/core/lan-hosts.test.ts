// Services on LAN hosts (src/core/lan-hosts.ts): the record carries the host
// (older records encode as before), a member may name hosts only on the LANs
// it advertises and this node routes, and a host on a clashing LAN resolves to
// its mapped address everywhere but on its own node.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeRecord, encodeRecord, encodeUnsigned, type RecordBody, type Service } from '../../src/core/record.ts';
import { DecodeError } from '../../src/core/codec.ts';
import { signDetached } from '../../src/core/crypto.ts';
import { lanHostAddress } from '../../src/core/lan-hosts.ts';
import { computeNetmap } from '../../src/core/netmap.ts';
import { buildIndex } from '../../src/dns/zone.ts';
import { resolve } from '../../src/dns/resolver.ts';
import { zoneInput } from '../../src/daemon/dns.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh, issueMember, type Member } from '../support/mesh.ts';
import { query, decode } from '../dns/fixture.ts';

const T0 = 1_700_000_000_000;
const BODY: RecordBody = { seq: T0, endpoints: [{ kind: 'configured', host: '192.0.2.9', port: 51820 }], links: [], subnets: [], relay: true, exitCapacityMbit: 0, services: [] };
const svc = (name: string, host?: string): Service => ({ name, port: 80, proto: 'tcp', type: 'http', ...(host ? { host } : {}) });

function setup(seed = 3) {
  const rnd = seededBytes(seed);
  const mesh = foundMesh(rnd, { name: 'lh', nowMs: T0 });
  const a = issueMember(rnd, mesh, 'a', T0);
  const b = issueMember(rnd, mesh, 'b', T0 + 1);
  return { mesh, a, b };
}

test('hosts ride in the record after the clients; a record without hosts encodes exactly as before', () => {
  const { a } = setup();
  const plain = { ...BODY, services: [svc('web'), svc('nas')] };
  const noHost = encodeUnsigned(plain, a.chain);
  // The layout before hosts: nothing after the services but the signature.
  assert.is(encodeUnsigned({ ...plain, services: [svc('web'), { ...svc('nas'), host: undefined } as Service] }, a.chain).length, noHost.length);
  const withHost = { ...plain, services: [svc('web'), svc('nas', '192.168.1.20')] };
  const bytes = encodeRecord(withHost, a.chain, a.identity.sign).bytes;
  assert.is(bytes.length - 64 - noHost.length, 1 + 1 + 5, 'a zero client count, a host count, one (index, address)');
  assert.equal(decodeRecord(bytes).services, withHost.services);
  const both = { ...withHost, clients: ['100.66.0.33'] };
  const d = decodeRecord(encodeRecord(both, a.chain, a.identity.sign).bytes);
  assert.equal(d.clients, ['100.66.0.33']);
  assert.equal(d.services.map((s) => s.host ?? null), [null, '192.168.1.20']);
  const onlyClients = decodeRecord(encodeRecord({ ...plain, clients: ['100.66.0.33'] }, a.chain, a.identity.sign).bytes);
  assert.equal(onlyClients.services.map((s) => s.host ?? null), [null, null]);
});

test('malformed host sections are refused: zero counts, an index out of order or out of range', () => {
  const { a } = setup();
  const body = { ...BODY, services: [svc('web'), svc('nas')] };
  const head = encodeUnsigned(body, a.chain);
  const forge = (tail: number[]) => {
    const unsigned = new Uint8Array([...head, ...tail]);
    return new Uint8Array([...unsigned, ...signDetached(unsigned, a.identity.sign.secretKey)]);
  };
  const host = [192, 168, 1, 20];
  assert.ok(decodeRecord(forge([0, 1, 1, ...host])).services[1]!.host === '192.168.1.20', 'the well-formed tail decodes');
  for (const [tail, why] of [
    [[0], 'zero clients with nothing after them'],
    [[0, 0], 'zero hosts'],
    [[0, 1, 2, ...host], 'an index past the services'],
    [[0, 2, 1, ...host, 0, ...host], 'indexes out of order'],
    [[0, 2, 1, ...host, 1, ...host], 'one service twice'],
    [[0, 3, 0, ...host, 1, ...host, 1, ...host], 'more hosts than services'],
    [[0, 1, 1, 192, 168], 'a short address'],
  ] as Array<[number[], string]>) {
    assert.throws(() => decodeRecord(forge(tail)), (e: unknown) => e instanceof DecodeError, why);
  }
});

test('lanHostAddress: own LAN as is, a mapped LAN through its block, an unrouted or foreign LAN refused', () => {
  const lan = ['192.168.1.0/24', '10.20.0.0/16'];
  assert.equal(lanHostAddress('192.168.1.20', true, lan, [], [{ prefix: '192.168.1.0/24', mappedTo: '100.124.3.0/24' }]), { address: '192.168.1.20' }, 'its own node uses the LAN address');
  assert.equal(lanHostAddress('192.168.1.20', false, lan, ['100.124.3.0/24'], [{ prefix: '192.168.1.0/24', mappedTo: '100.124.3.0/24' }]), { address: '100.124.3.20' });
  assert.equal(lanHostAddress('10.20.7.9', false, lan, ['10.20.0.0/16'], []), { address: '10.20.7.9' });
  assert.match(JSON.stringify(lanHostAddress('10.20.7.9', false, lan, [], [])), /does not route/);
  assert.match(JSON.stringify(lanHostAddress('10.99.0.1', false, lan, ['10.20.0.0/16'], [])), /on no LAN its node advertises/);
  assert.match(JSON.stringify(lanHostAddress('10.99.0.1', true, lan, [], [])), /on no LAN/, 'its own node too');
  assert.match(JSON.stringify(lanHostAddress('fd00::1', false, lan, [], [])), /not an IPv4/);
});

test('two homes on 192.168.1.0/24: a service on b\'s LAN resolves to its mapped address on a, to its LAN address on b; a name into a\'s LAN is refused', () => {
  const { mesh, a, b } = setup();
  const f = mesh.founder;
  const rec = (m: Member, subnets: string[], services: Service[]) => encodeRecord({ ...BODY, subnets, services }, m.chain, m.identity.sign);
  const recs = [
    rec(f, [], []),
    rec(a, ['192.168.1.0/24', '10.30.0.0/24'], [svc('printer', '10.30.0.7')]),
    // b names a host of its clashing LAN, and one of a's own unique LAN.
    rec(b, ['192.168.1.0/24'], [svc('nas', '192.168.1.20'), svc('spy', '10.30.0.7'), svc('self')]),
  ];
  const byId = new Map(recs.map((r) => [r.id, decodeRecord(r.bytes)]));
  const ask = (selfId: string, name: string) => {
    const nm = computeNetmap(selfId, byId, mesh.network.params);
    const { index, rejected } = buildIndex(zoneInput(nm, mesh.network.params, 1));
    const res = decode(resolve(query(`${name}.${mesh.network.params.zone}`, 'A'), index, { transport: 'udp', maxAnswers: 16 }).response!);
    return { answers: (res.answers ?? []).map((x) => ('data' in x ? x.data : null)), rejected, nm };
  };
  const fromA = ask(recs[1]!.id, 'nas.b');
  const bOnA = fromA.nm.nodes.find((n) => n.name === 'b')!;
  const block = bOnA.mapped.find((m) => m.prefix === '192.168.1.0/24')!.mappedTo;
  assert.ok(block, 'b\'s clashing LAN has a block');
  assert.equal(fromA.answers, [block.replace(/\.0\/24$/, '.20')]);
  assert.equal(ask(recs[0]!.id, 'nas.b').answers, fromA.answers, 'the founder (no clash of its own) answers the same');
  assert.equal(ask(recs[2]!.id, 'nas.b').answers, ['192.168.1.20'], 'b answers its own host by its LAN address');
  assert.equal(fromA.rejected.filter((r) => r.name === 'spy@b').map((r) => r.reason), ['host 10.30.0.7 is on no LAN its node advertises']);
  assert.equal(ask(recs[1]!.id, 'spy.b').answers, []);
  assert.equal(ask(recs[0]!.id, 'printer.a').answers, ['10.30.0.7'], 'a unique LAN is reached natively');
  const self = ask(recs[0]!.id, 'self.b').answers;
  assert.equal(self, [bOnA.ipv4], 'a service without a host is on the node');
});

test.run();
