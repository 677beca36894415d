// The index's record encoder agrees byte for byte with dns-packet, the
// reference codec, for every record type it produces.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as packet from 'dns-packet';
import { encodeRecord, pointer, type Rec } from '../../src/dns/records.ts';

const cases: [string, Rec][] = [
  ['node1.mesh.internal', { rec: { type: 'A', data: '100.64.0.2' }, ttl: 60 }],
  ['node1.mesh.internal', { rec: { type: 'AAAA', data: 'fd12:3456:789a::6440:2' }, ttl: 60 }],
  ['2.0.64.100.in-addr.arpa', { rec: { type: 'PTR', data: 'node1.mesh.internal' }, ttl: 60 }],
  ['mesh.internal', { rec: { type: 'NS', data: 'hub.mesh.internal' }, ttl: 3600 }],
  ['_http._tcp.web.node1.mesh.internal', { rec: { type: 'TXT', data: ['path=/', 'v=1'] }, ttl: 60 }],
  ['_http._tcp.web.node1.mesh.internal', { rec: { type: 'TXT', data: [''] }, ttl: 60 }],
  ['_http._tcp.web.node1.mesh.internal', { rec: { type: 'SRV', data: { priority: 0, weight: 0, port: 8080, target: 'web.node1.mesh.internal' } }, ttl: 60 }],
  ['mesh.internal', { rec: { type: 'SOA', data: { mname: 'hub.mesh.internal', rname: 'hostmaster.mesh.internal', serial: 4294967295, refresh: 3600, retry: 600, expire: 86400, minimum: 30 } }, ttl: 30 }],
];

for (const [owner, r] of cases) {
  test(`${r.rec.type} ${owner} matches dns-packet`, () => {
    // dns-packet turns TXT strings into Buffers in place, so it gets a copy.
    const data = JSON.parse(JSON.stringify(r.rec.data)) as unknown;
    const ref = packet.encode({ type: 'response', answers: [{ name: owner, type: r.rec.type, class: 'IN', ttl: r.ttl, data } as packet.Answer] });
    const expected = new Uint8Array(ref.subarray(12));
    assert.equal(encodeRecord(owner, r), expected);
    const ptr = encodeRecord(owner, r, pointer(12));
    assert.equal(ptr.subarray(2), expected.subarray(owner.length + 2));
  });
}

test('an invalid address or label is refused', () => {
  assert.throws(() => encodeRecord('x.internal', { rec: { type: 'A', data: 'nope' }, ttl: 1 }), /A record/);
  assert.throws(() => encodeRecord(`${'a'.repeat(64)}.internal`, { rec: { type: 'A', data: '1.2.3.4' }, ttl: 1 }), /label/);
});

test.run();
