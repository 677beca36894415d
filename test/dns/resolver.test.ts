// resolve(): bytes in, bytes out, checked by decoding with dns-packet.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildIndex } from '../../src/dns/zone.ts';
import { resolve, truncatedReply, errorReply, questionEnd } from '../../src/dns/resolver.ts';
import type { ResolveOptions } from '../../src/dns/resolver.ts';
import { fixtureZone, query, decode, BIG_SRV, LARGE_SRV } from './fixture.ts';

const { index } = buildIndex(fixtureZone());
const UDP: ResolveOptions = { transport: 'udp', maxAnswers: 64 };
const TCP: ResolveOptions = { transport: 'tcp', maxAnswers: 64 };
const ask = (q: Uint8Array, o = UDP) => decode(resolve(q, index, o).response!);

test('A answer keeps the question case and id, sets AA, copies RD', () => {
  const r = ask(query('NoDe1.ExAmPle.INTERNAL', 'A', { id: 999 }));
  assert.is(r.id, 999);
  assert.ok(r.flag_aa && r.flag_qr && r.flag_rd && !r.flag_ra);
  assert.is(r.questions![0]!.name, 'NoDe1.ExAmPle.INTERNAL');
  assert.equal(r.answers!.map((a) => [a.name, a.type, (a as { data: unknown }).data]), [['NoDe1.ExAmPle.INTERNAL', 'A', '100.64.0.1']]);
});

test('NXDOMAIN and NODATA carry the SOA of the right zone', () => {
  const nx = ask(query('missing.example.internal', 'A'));
  assert.is(nx.rcode, 'NXDOMAIN');
  assert.equal(nx.authorities!.map((a) => [a.name, a.type]), [['example.internal', 'SOA']]);
  const nd = ask(query('node1.example.internal', 'MX'));
  assert.is(nd.rcode, 'NOERROR');
  assert.is(nd.answers!.length, 0);
  assert.equal(nd.authorities!.map((a) => a.type), ['SOA']);
  const ent = ask(query('_tcp.web.node1.example.internal', 'SRV'));
  assert.ok(ent.rcode === 'NOERROR' && ent.answers!.length === 0 && ent.authorities!.length === 1);
  const rev = ask(query('9.9.65.100.in-addr.arpa', 'PTR'));
  assert.is(rev.rcode, 'NXDOMAIN');
  assert.is(rev.authorities![0]!.name, '65.100.in-addr.arpa');
});

test('out of zone: REFUSED, or handed back for forwarding', () => {
  const r = ask(query('example.com', 'A'));
  assert.ok(r.rcode === 'REFUSED' && !r.flag_aa);
  assert.equal(resolve(query('example.com', 'A'), index, { ...UDP, forward: true }), { response: null, forward: true });
  assert.is(ask(query('internal', 'SOA')).rcode, 'REFUSED');
});

test('SRV has the target addresses in additional; ANY answers one RRset', () => {
  const r = ask(query('_http._tcp.web.node1.example.internal', 'SRV'));
  assert.equal((r.answers![0] as { data: unknown }).data, { priority: 0, weight: 0, port: 80, target: 'web.node1.example.internal' });
  assert.equal(r.additionals!.map((a) => a.type), ['A', 'AAAA']);
  const any = ask(query('node1.example.internal', 'ANY'));
  assert.equal(any.answers!.map((a) => a.type), ['A']);
});

test('truncation: 512 without EDNS, the EDNS size up to 1232, everything over TCP', () => {
  const plain = ask(query(BIG_SRV, 'SRV'));
  assert.ok(plain.flag_tc && plain.answers!.length === 0);
  const edns = ask(query(BIG_SRV, 'SRV', { edns: 4096 }));
  assert.ok(!edns.flag_tc && edns.answers!.length === 20, 'fits in 1232 (additional dropped if needed)');
  const small = ask(query(BIG_SRV, 'SRV', { edns: 100 }));
  assert.ok(small.flag_tc, 'EDNS sizes below 512 count as 512');
  const large = ask(query(LARGE_SRV, 'SRV', { edns: 4096 }));
  assert.ok(large.flag_tc, 'over 1232 is truncated whatever the client says');
  const tcp = ask(query(LARGE_SRV, 'SRV'), TCP);
  assert.ok(!tcp.flag_tc && tcp.answers!.length === 40 && tcp.additionals!.length === 2);
  const opt = edns.additionals!.find((a) => a.type === 'OPT') as { udpPayloadSize: number } | undefined;
  assert.is(opt?.udpPayloadSize, 1232);
});

test('maxAnswers caps the answer records', () => {
  const r = ask(query(LARGE_SRV, 'SRV'), { transport: 'tcp', maxAnswers: 5 });
  assert.is(r.answers!.length, 5);
  assert.is(r.additionals!.length, 0);
});

test('EDNS version 1 gets BADVERS; class CH and AXFR are refused', () => {
  const q = query('node1.example.internal', 'A', { edns: 1232 });
  q[q.length - 5] = 1; // OPT TTL byte 2: version
  const r = resolve(q, index, UDP).response!;
  assert.is(r[3]! & 15, 0);
  assert.is(r[r.length - 6], 1, 'extended rcode 16 >> 4');
  assert.is(ask(query('node1.example.internal', 'TXT', { cls: 'CH' })).rcode, 'REFUSED');
  assert.is(ask(query('example.internal', 'AXFR')).rcode, 'REFUSED');
});

test('malformed input: FORMERR or nothing, never a throw', () => {
  assert.equal(resolve(new Uint8Array(5), index, UDP), { response: null, malformed: true });
  const noQuestion = new Uint8Array(12);
  assert.is(decode(resolve(noQuestion, index, UDP).response!).rcode, 'FORMERR');
  const q = query('node1.example.internal', 'A');
  assert.is(decode(resolve(q.subarray(0, q.length - 2), index, UDP).response!).rcode, 'FORMERR');
  const response = q.slice(); response[2]! |= 0x80;
  assert.is(resolve(response, index, UDP).response, null, 'responses are dropped');
  const loop = Uint8Array.of(0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1);
  assert.is(decode(resolve(loop, index, UDP).response!).rcode, 'FORMERR');
  const notify = q.slice(); notify[2] = (4 << 3);
  assert.is(decode(resolve(notify, index, UDP).response!).rcode, 'NOTIMP');
});

test('helpers for the server: slip, SERVFAIL, question end', () => {
  const q = query('example.com', 'A');
  assert.ok(decode(truncatedReply(q)!).flag_tc);
  assert.is(decode(errorReply(q, 2)!).rcode, 'SERVFAIL');
  assert.is(questionEnd(q), q.length);
  assert.is(truncatedReply(new Uint8Array(3)), null);
});

test('responses are independent buffers (slab regions never reused)', () => {
  const a = resolve(query('node1.example.internal', 'A'), index, UDP).response!;
  const copy = a.slice();
  for (let i = 0; i < 5000; i++) resolve(query('node2.example.internal', 'AAAA'), index, UDP);
  assert.equal(a, copy);
});

test.run();
