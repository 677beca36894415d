// DNS conformance against the real server with the real dig, over UDP and
// TCP sockets on 127.0.0.1: a table of cases (record types, NXDOMAIN vs
// NODATA, 0x20 case, EDNS sizes, truncation, ANY, out of zone), raw
// malformed packets, and forwarding to an upstream. Needs dig (bind9-dnsutils);
// skipped with a message when it is missing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { needs } from '../support/needs.ts';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import { nodePlatform } from '../../src/platform/node.ts';
import { buildIndex } from '../../src/dns/zone.ts';
import { startDnsServer } from '../../src/dns/server.ts';
import type { DnsServer } from '../../src/dns/server.ts';
import { fixtureZone, query, decode, BIG_SRV, LARGE_SRV, HUGE_TXT } from './fixture.ts';

const DIG = ['/usr/bin/dig', '/bin/dig'].find((p) => existsSync(p));
const platform = nodePlatform();
const silent = () => {};

interface Dig { status: string; flags: string[]; answer: string[][]; authority: string[][]; additional: string[][]; opt: boolean; udp: number; raw: string }

function dig(port: number, args: string[]): Promise<Dig> {
  return new Promise((resolve, reject) => {
    execFile(DIG!, ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', '+norec', ...args], (err, stdout) => {
      if (err && !stdout) { reject(err); return; }
      const sec = (name: string) => {
        const m = new RegExp(`;; ${name} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`).exec(stdout);
        return m ? m[1]!.split('\n').filter((l) => l && !l.startsWith(';')).map((l) => l.split(/\s+/)) : [];
      };
      resolve({
        status: /status: ([A-Z]+)/.exec(stdout)?.[1] ?? 'NONE',
        flags: (/;; flags: ([a-z ]*);/.exec(stdout)?.[1] ?? '').split(' ').filter(Boolean),
        answer: sec('ANSWER'), authority: sec('AUTHORITY'), additional: sec('ADDITIONAL'),
        opt: /OPT PSEUDOSECTION/.test(stdout), udp: Number(/udp: (\d+)/.exec(stdout)?.[1] ?? 0), raw: stdout,
      });
    });
  });
}

interface Case {
  name: string;
  args: string[];
  /** Both transports unless given. */
  only?: 'udp' | 'tcp';
  status: string;
  aa?: boolean;
  tc?: boolean;
  /** Expected answer rdata (type and data columns), in order. */
  answer?: string[];
  answerCount?: number;
  /** Authority holds exactly this zone's SOA. */
  soa?: string;
  check?: (r: Dig) => void;
}

const SOA_ZONE = 'example.internal.';
const CASES: Case[] = [
  { name: 'A of a node', args: ['node1.example.internal', 'A'], status: 'NOERROR', aa: true, answer: ['A 100.64.0.1'] },
  { name: 'AAAA of a node', args: ['node1.example.internal', 'AAAA'], status: 'NOERROR', aa: true, answer: ['AAAA fd12:3456:789a::1'] },
  { name: '0x20 case is preserved', args: ['NoDe1.Example.Internal', 'A'], status: 'NOERROR', aa: true, answer: ['A 100.64.0.1'],
    check: (r) => assert.is(r.answer[0]![0], 'NoDe1.Example.Internal.') },
  { name: 'upper case AAAA', args: ['NODE2.EXAMPLE.INTERNAL', 'AAAA'], status: 'NOERROR', answer: ['AAAA fd12:3456:789a::2'],
    check: (r) => assert.is(r.answer[0]![0], 'NODE2.EXAMPLE.INTERNAL.') },
  { name: 'A of a node in another /16 of the pool', args: ['node3.example.internal', 'A'], status: 'NOERROR', answer: ['A 100.65.1.3'] },
  { name: 'A of a service host', args: ['web.node1.example.internal', 'A'], status: 'NOERROR', aa: true, answer: ['A 100.64.0.1'] },
  { name: 'AAAA of a service host', args: ['web.node1.example.internal', 'AAAA'], status: 'NOERROR', answer: ['AAAA fd12:3456:789a::1'] },
  { name: 'SRV of a service, target addresses in additional', args: ['_http._tcp.web.node1.example.internal', 'SRV'], status: 'NOERROR', aa: true,
    answer: ['SRV 0 0 80 web.node1.example.internal.'], check: (r) => assert.equal(r.additional.map((a) => a[3]), ['A', 'AAAA']) },
  { name: 'TXT of a service', args: ['_http._tcp.web.node1.example.internal', 'TXT'], status: 'NOERROR', answer: ['TXT "path=/"'] },
  { name: 'PTR of an overlay IPv4', args: ['-x', '100.64.0.1'], status: 'NOERROR', aa: true, answer: ['PTR node1.example.internal.'] },
  { name: 'PTR of an overlay IPv4 in a second reverse zone', args: ['-x', '100.65.1.3'], status: 'NOERROR', answer: ['PTR node3.example.internal.'] },
  { name: 'PTR of a ULA address', args: ['-x', 'fd12:3456:789a::2'], status: 'NOERROR', aa: true, answer: ['PTR node2.example.internal.'] },
  { name: 'SOA at the apex', args: ['example.internal', 'SOA'], status: 'NOERROR', aa: true,
    answer: ['SOA node1.example.internal. hostmaster.example.internal. 7 3600 600 86400 30'] },
  { name: 'NS at the apex with glue', args: ['example.internal', 'NS'], status: 'NOERROR', aa: true, answer: ['NS node1.example.internal.'],
    check: (r) => assert.ok(r.additional.some((a) => a[3] === 'A' && a[4] === '100.64.0.1')) },
  { name: 'SOA of a reverse zone', args: ['64.100.in-addr.arpa', 'SOA'], status: 'NOERROR', aa: true, answerCount: 1 },
  { name: 'NS of the ip6.arpa zone', args: ['a.9.8.7.6.5.4.3.2.1.d.f.ip6.arpa', 'NS'], status: 'NOERROR', answer: ['NS node1.example.internal.'] },
  { name: 'NXDOMAIN for a missing node, SOA in authority', args: ['nobody.example.internal', 'A'], status: 'NXDOMAIN', aa: true, answerCount: 0, soa: SOA_ZONE },
  { name: 'NXDOMAIN below a missing name', args: ['a.b.nobody.example.internal', 'AAAA'], status: 'NXDOMAIN', soa: SOA_ZONE },
  { name: 'NXDOMAIN for a name below a node', args: ['x.node1.example.internal', 'A'], status: 'NXDOMAIN', soa: SOA_ZONE },
  { name: 'NXDOMAIN for a rejected service (not its owner)', args: ['_evil._tcp.evil.node3.example.internal', 'SRV'], status: 'NXDOMAIN', soa: SOA_ZONE },
  { name: 'NXDOMAIN in a reverse zone', args: ['-x', '100.64.9.9'], status: 'NXDOMAIN', aa: true, soa: '64.100.in-addr.arpa.' },
  { name: 'NXDOMAIN in the ip6.arpa zone', args: ['-x', 'fd12:3456:789a::99'], status: 'NXDOMAIN', soa: 'a.9.8.7.6.5.4.3.2.1.d.f.ip6.arpa.' },
  { name: 'NODATA: TXT of a node', args: ['node1.example.internal', 'TXT'], status: 'NOERROR', aa: true, answerCount: 0, soa: SOA_ZONE },
  { name: 'NODATA: MX of a node', args: ['node2.example.internal', 'MX'], status: 'NOERROR', answerCount: 0, soa: SOA_ZONE },
  { name: 'NODATA: HTTPS (type 65) of a node', args: ['node2.example.internal', 'TYPE65'], status: 'NOERROR', answerCount: 0, soa: SOA_ZONE },
  { name: 'NODATA: empty non-terminal', args: ['_tcp.web.node1.example.internal', 'A'], status: 'NOERROR', answerCount: 0, soa: SOA_ZONE },
  { name: 'NODATA: empty non-terminal in a reverse zone', args: ['0.64.100.in-addr.arpa', 'PTR'], status: 'NOERROR', answerCount: 0, soa: '64.100.in-addr.arpa.' },
  { name: 'NODATA: A at the apex', args: ['example.internal', 'A'], status: 'NOERROR', answerCount: 0, soa: SOA_ZONE },
  { name: 'ANY gets one RRset (RFC 8482)', args: ['node1.example.internal', 'ANY'], status: 'NOERROR', aa: true, answer: ['A 100.64.0.1'] },
  { name: 'ANY at the apex gets one RRset', args: ['example.internal', 'ANY'], status: 'NOERROR', answerCount: 1 },
  { name: 'ANY of an empty non-terminal is NODATA', args: ['_tcp.web.node1.example.internal', 'ANY'], status: 'NOERROR', answerCount: 0, soa: SOA_ZONE },
  { name: 'out of zone is REFUSED without AA', args: ['example.com', 'A'], status: 'REFUSED', aa: false, answerCount: 0 },
  { name: 'reverse outside the pool is REFUSED', args: ['-x', '192.168.1.1'], status: 'REFUSED', aa: false },
  { name: 'the parent of the zone is REFUSED', args: ['internal', 'SOA'], status: 'REFUSED' },
  { name: 'class CH is REFUSED', args: ['-c', 'CH', 'version.bind', 'TXT'], status: 'REFUSED' },
  { name: 'no EDNS: no OPT in the answer', args: ['+noedns', 'node1.example.internal', 'A'], status: 'NOERROR', answer: ['A 100.64.0.1'], check: (r) => assert.not.ok(r.opt) },
  { name: 'EDNS: OPT answered with our size', args: ['+bufsize=4096', 'node1.example.internal', 'A'], status: 'NOERROR', check: (r) => { assert.ok(r.opt); assert.is(r.udp, 1232); } },
  { name: 'EDNS version 1: BADVERS', args: ['+edns=1', '+noednsneg', 'node1.example.internal', 'A'], status: 'BADVERS', answerCount: 0 },
  { name: 'over 512 without EDNS: TC over UDP', args: ['+noedns', '+ignore', BIG_SRV, 'SRV'], only: 'udp', status: 'NOERROR', tc: true, answerCount: 0 },
  { name: 'over 512 with +bufsize=512: TC over UDP', args: ['+bufsize=512', '+ignore', BIG_SRV, 'SRV'], only: 'udp', status: 'NOERROR', tc: true, answerCount: 0 },
  { name: 'over 512 with +bufsize=1232: full over UDP', args: ['+bufsize=1232', BIG_SRV, 'SRV'], only: 'udp', status: 'NOERROR', tc: false, answerCount: 20 },
  { name: 'over 512 without EDNS: full over TCP', args: ['+noedns', BIG_SRV, 'SRV'], only: 'tcp', status: 'NOERROR', tc: false, answerCount: 20 },
  { name: 'over 1232: TC over UDP even with a big EDNS size', args: ['+bufsize=4096', '+ignore', LARGE_SRV, 'SRV'], only: 'udp', status: 'NOERROR', tc: true, answerCount: 0 },
  { name: 'over 1232: full over TCP', args: [LARGE_SRV, 'SRV'], only: 'tcp', status: 'NOERROR', tc: false, answerCount: 40 },
  { name: 'dig retries a truncated answer over TCP', args: ['+noedns', LARGE_SRV, 'SRV'], only: 'udp', status: 'NOERROR', answerCount: 40,
    check: (r) => assert.match(r.raw, /Truncated, retrying in TCP mode/) },
  { name: 'large TXT without EDNS: TC over UDP', args: ['+noedns', '+ignore', HUGE_TXT, 'TXT'], only: 'udp', status: 'NOERROR', tc: true, answerCount: 0 },
  { name: 'large TXT: full over TCP', args: [HUGE_TXT, 'TXT'], only: 'tcp', status: 'NOERROR', answerCount: 1, check: (r) => assert.ok(r.answer[0]!.length >= 12) },
];

let server: DnsServer | null = null;
let upstream: DnsServer | null = null;
let port = 0;

test.before(async () => {
  if (!DIG) return;
  const { index } = buildIndex(fixtureZone());
  const other = buildIndex({ ...fixtureZone(), zone: 'other.test', nodes: [{ name: 'www', ipv4: '100.64.7.7', ipv6: 'fd12:3456:789a::77', services: [] }] }).index;
  upstream = await startDnsServer(platform, { listen: ['127.0.0.1:0'], getIndex: () => other, log: silent });
  server = await startDnsServer(platform, { listen: ['127.0.0.1:0'], getIndex: () => index, log: silent, forward: false });
  port = Number(server.listen[0]!.split(':')[1]);
});
test.after(() => { server?.close(); upstream?.close(); });

needs(Boolean(DIG), 'dig', 'apt-get install bind9-dnsutils')('table of dig cases over UDP and TCP', async () => {
  assert.ok(CASES.length >= 30, `${CASES.length} cases`);
  const failures: string[] = [];
  for (const c of CASES) {
    for (const transport of c.only ? [c.only] : ['udp', 'tcp'] as const) {
      const r = await dig(port, [...(transport === 'tcp' ? ['+tcp'] : []), ...c.args]);
      try {
        assert.is(r.status, c.status, 'status');
        if (c.aa !== undefined) assert.is(r.flags.includes('aa'), c.aa, 'aa flag');
        if (c.tc !== undefined) assert.is(r.flags.includes('tc'), c.tc, 'tc flag');
        if (c.answer) assert.equal(r.answer.map((a) => a.slice(3).join(' ')), c.answer, 'answer');
        if (c.answerCount !== undefined) assert.is(r.answer.length, c.answerCount, 'answer count');
        if (c.soa) assert.equal(r.authority.map((a) => [a[0], a[3]]), [[c.soa, 'SOA']], 'authority SOA');
        c.check?.(r);
      } catch (e) {
        failures.push(`${c.name} [${transport}]: ${(e as Error).message}\n${r.raw}`);
      }
    }
  }
  assert.is(failures.length, 0, failures.join('\n---\n'));
});

function udpExchange(packet: Uint8Array, waitMs = 300): Promise<Uint8Array | null> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => { s.close(); resolve(null); }, waitMs);
    s.on('message', (m) => { clearTimeout(t); s.close(); resolve(new Uint8Array(m)); });
    s.send(packet, port, '127.0.0.1');
  });
}

test('malformed packets get FORMERR or nothing, and the server keeps answering', async () => {
  if (!DIG) return;
  const before = server!.stats.malformed;
  assert.is(await udpExchange(Uint8Array.of(1, 2, 3)), null, 'short garbage: no reply');
  const q = query('node1.example.internal', 'A', { id: 77 });
  const asResponse = q.slice(); asResponse[2]! |= 0x80;
  assert.is(await udpExchange(asResponse), null, 'a response is never answered');
  for (const bad of [q.subarray(0, 20), Uint8Array.of(0, 9, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0), Uint8Array.of(0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1),
    Uint8Array.of(0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 70, 97, 0, 0, 1, 0, 1)]) {
    const r = await udpExchange(bad);
    assert.ok(r, 'a reply');
    assert.is(decode(r!).rcode, 'FORMERR');
  }
  assert.ok(server!.stats.malformed >= before + 5);
  const ok = await dig(port, ['node1.example.internal', 'A']);
  assert.is(ok.answer[0]![4], '100.64.0.1');
});

test('TCP: several queries on one connection, garbage frames get FORMERR', async () => {
  if (!DIG) return;
  const frame = (b: Uint8Array) => { const f = new Uint8Array(2 + b.length); f[0] = b.length >> 8; f[1] = b.length & 255; f.set(b, 2); return f; };
  const replies = await new Promise<Uint8Array[]>((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const out: Uint8Array[] = [];
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) { out.push(new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0)))); buf = buf.subarray(2 + buf.readUInt16BE(0)); }
      if (out.length === 3) { sock.end(); resolve(out); }
    });
    sock.on('error', reject);
    // Two queries and a garbage frame, in one write and split oddly.
    const all = Buffer.concat([frame(query('node1.example.internal', 'A', { id: 1 })), frame(Uint8Array.of(0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), frame(query('node2.example.internal', 'AAAA', { id: 2 }))]);
    sock.write(all.subarray(0, 7)); setTimeout(() => sock.write(all.subarray(7)), 20);
  });
  assert.equal(replies.map((r) => [decode(r).id, decode(r).rcode]), [[1, 'NOERROR'], [5, 'FORMERR'], [2, 'NOERROR']]);
});

test('forwarding: out-of-zone names go upstream, the answer is relayed; a dead upstream gives SERVFAIL', async () => {
  if (!DIG) return;
  const { index } = buildIndex(fixtureZone());
  const upPort = Number(upstream!.listen[0]!.split(':')[1]);
  const fwd = await startDnsServer(platform, { listen: ['127.0.0.1:0'], getIndex: () => index, log: silent, forward: true, upstreams: [`127.0.0.1:${upPort}`] });
  const fwdPort = Number(fwd.listen[0]!.split(':')[1]);
  try {
    const r = await dig(fwdPort, ['www.other.test', 'A']);
    assert.is(r.status, 'NOERROR');
    assert.equal(r.answer.map((a) => a[4]), ['100.64.7.7']);
    const local = await dig(fwdPort, ['node1.example.internal', 'A']);
    assert.ok(local.flags.includes('aa'), 'our zone is still answered locally');
    assert.is(fwd.stats.forwarded, 1);
  } finally { fwd.close(); }
  const dead = await startDnsServer(platform, { listen: ['127.0.0.1:0'], getIndex: () => index, log: silent, forward: true, upstreams: ['127.0.0.1:9'] });
  try {
    const r = await dig(Number(dead.listen[0]!.split(':')[1]), ['+time=5', 'www.other.test', 'A']);
    assert.is(r.status, 'SERVFAIL');
  } finally { dead.close(); }
});

test.run();
