// The server on a fake platform (memory UDP and streams, virtual clock):
// per-source rate limiting with slip, loopback exemption, counters, the TCP
// connection cap and idle timeout.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Platform, UdpAddr, UdpSocket, Stream, Timer } from '../../src/platform/types.ts';
import { startDnsServer, MAX_TCP_CONNECTIONS, TCP_IDLE_TIMEOUT_MS } from '../../src/dns/server.ts';
import { buildIndex } from '../../src/dns/zone.ts';
import { fixtureZone, query, decode } from './fixture.ts';

interface Fake {
  platform: Platform;
  deliver(data: Uint8Array, from: UdpAddr): void;
  sent: { data: Uint8Array; to: UdpAddr }[];
  connect(): { stream: Stream; closed: () => boolean; push(b: Uint8Array | null): void; written: Uint8Array[] };
  advance(ms: number): void;
}

function fakePlatform(): Fake {
  let now = 0;
  const timers: { at: number; fn: () => void; every?: number; dead: boolean }[] = [];
  const sent: { data: Uint8Array; to: UdpAddr }[] = [];
  let onMsg: ((d: Uint8Array, f: UdpAddr) => void) | null = null;
  let onConn: ((s: Stream) => void) | null = null;
  const timer = (at: number, fn: () => void, every?: number): Timer => {
    const t = { at, fn, every, dead: false };
    timers.push(t);
    return { cancel: () => { t.dead = true; } };
  };
  const platform = {
    runtime: 'node',
    udp: {
      async bind(address: string, port: number): Promise<UdpSocket> {
        return { local: { address, port: port || 5300 }, async send(data, to) { sent.push({ data, to }); }, onMessage(h) { onMsg = h; }, close() {} };
      },
    },
    tcp: { async listen(_a: string, port: number, cb: (s: Stream) => void) { onConn = cb; return { port, close() {} }; } },
    clock: { nowMs: () => now, monoMs: () => now, after: (ms: number, fn: () => void) => timer(now + ms, fn), every: (ms: number, fn: () => void) => timer(now + ms, fn, ms) },
    random: (n: number) => new Uint8Array(n).fill(7),
  } as unknown as Platform;
  return {
    platform, sent,
    deliver: (d, f) => onMsg!(d, f),
    connect() {
      const queue: (Uint8Array | null)[] = [];
      let waiter: ((c: Uint8Array | null) => void) | null = null;
      let closed = false;
      const written: Uint8Array[] = [];
      const stream: Stream = {
        remote: '10.1.1.1:4000',
        read: () => new Promise((r) => { if (queue.length) r(queue.shift()!); else if (closed) r(null); else waiter = r; }),
        async write(d) { written.push(d); },
        close() { closed = true; if (waiter) { const w = waiter; waiter = null; w(null); } },
      };
      onConn!(stream);
      return { stream, written, closed: () => closed, push(b) { if (waiter) { const w = waiter; waiter = null; w(b); } else queue.push(b); } };
    },
    advance(ms) {
      now += ms;
      for (const t of timers) {
        while (!t.dead && t.at <= now) { t.fn(); if (t.every) t.at += t.every; else t.dead = true; }
      }
    },
  };
}

const { index } = buildIndex(fixtureZone());
const tick = () => new Promise((r) => setTimeout(r, 0));

test('rate limit: a non-loopback source gets its burst, then every 2nd reply is a TC slip', async () => {
  const f = fakePlatform();
  const server = await startDnsServer(f.platform, { listen: ['127.0.0.1:0'], getIndex: () => index, log: () => {}, rateLimit: { ratePerSec: 1, burst: 3, maxEntries: 10, slip: 2 } });
  for (let i = 0; i < 7; i++) f.deliver(query('node1.example.internal', 'A', { id: i }), { address: '10.9.9.9', port: 1000 });
  for (let i = 0; i < 10; i++) f.deliver(query('node1.example.internal', 'A', { id: 100 + i }), { address: '127.0.0.1', port: 1000 });
  await tick();
  const fromRemote = f.sent.filter((s) => s.to.address === '10.9.9.9').map((s) => decode(s.data));
  assert.equal(fromRemote.map((d) => [d.id, d.flag_tc, d.answers!.length]), [[0, false, 1], [1, false, 1], [2, false, 1], [4, true, 0], [6, true, 0]]);
  assert.is(f.sent.filter((s) => s.to.address === '127.0.0.1').length, 10, 'loopback is never limited');
  assert.is(server.stats.rateLimited, 4);
  assert.is(server.stats.dropped, 2);
  f.advance(1000);
  f.deliver(query('node1.example.internal', 'A', { id: 50 }), { address: '10.9.9.9', port: 1000 });
  await tick();
  assert.is(decode(f.sent.at(-1)!.data).answers!.length, 1, 'a token back after a second');
  server.close();
});

test('malformed datagrams are counted; out-of-zone without upstreams gets SERVFAIL when forwarding', async () => {
  const f = fakePlatform();
  const server = await startDnsServer(f.platform, { listen: ['127.0.0.1:53'], getIndex: () => index, log: () => {}, forward: true });
  f.deliver(Uint8Array.of(1, 2), { address: '127.0.0.1', port: 1 });
  f.deliver(query('example.com', 'A', { id: 9 }), { address: '127.0.0.1', port: 1 });
  await tick(); await tick();
  assert.is(server.stats.malformed, 1);
  assert.is(decode(f.sent[0]!.data).rcode, 'SERVFAIL');
  assert.is(server.stats.forwardFailed, 1);
  server.close();
});

test('TCP: connections beyond the cap are closed, idle ones time out', async () => {
  const f = fakePlatform();
  const server = await startDnsServer(f.platform, { listen: ['127.0.0.1:53'], getIndex: () => index, log: () => {} });
  const conns = Array.from({ length: MAX_TCP_CONNECTIONS + 1 }, () => f.connect());
  await tick();
  assert.ok(conns.at(-1)!.closed(), 'one over the cap is closed at once');
  assert.is(server.stats.tcpRejected, 1);
  const q = query('node1.example.internal', 'A', { id: 3 });
  const framed = new Uint8Array(2 + q.length); framed[1] = q.length; framed.set(q, 2);
  conns[0]!.push(framed);
  await tick(); await tick();
  assert.is(decode(conns[0]!.written[0]!.subarray(2)).id, 3);
  f.advance(TCP_IDLE_TIMEOUT_MS - 1);
  assert.not.ok(conns[0]!.closed());
  f.advance(1);
  assert.ok(conns[0]!.closed() && conns[1]!.closed(), 'idle connections are closed');
  server.close();
});

test.run();
