// In-process throughput of resolve(): no sockets, the benchmark's query mix
// (A, AAAA, NXDOMAIN, PTR, SRV) over a 250-node zone. Runs on any runtime:
// under Node with `npx tsx bench/dns/resolve-loop.ts`, and bundled into
// QuickJS-ng by bench/dns/resolve-qjs.mjs.
import * as packet from 'dns-packet';
import { buildIndex } from '../../src/dns/zone.ts';
import type { ZoneNode } from '../../src/dns/zone.ts';
import { resolve } from '../../src/dns/resolver.ts';

export function resolveLoop(iterations: number, nowMs: () => number): { queriesPerSec: number; buildMs: number } {
  const nodes: ZoneNode[] = [];
  for (let i = 1; i <= 250; i++) {
    nodes.push({ name: `node${i}`, ipv4: `100.64.${i >> 8}.${i & 255}`, ipv6: `fd12:3456:789a::${i.toString(16)}`,
      services: i % 5 ? [] : [{ name: 'web', port: 8000 + i, proto: 'tcp', type: 'http', owner: `node${i}` }] });
  }
  const t0 = nowMs();
  const { index } = buildIndex({ zone: 'bench.internal', ula48: 'fd12:3456:789a::/48', ipv4Pool: '100.64.0.0/10', nodes, soaSerial: 1, self: 'node1' });
  const buildMs = nowMs() - t0;
  const mix: [string, string][] = [];
  for (let i = 1; i <= 100; i++) {
    mix.push([`node${i}.bench.internal`, 'A'], [`node${i + 1}.bench.internal`, 'AAAA'], [`nx${i}.bench.internal`, 'A'],
      [`${i}.0.64.100.in-addr.arpa`, 'PTR'], [`_http._tcp.web.node${5 * (1 + (i % 50))}.bench.internal`, 'SRV']);
  }
  const queries = mix.map(([name, type]) => new Uint8Array(packet.encode({ type: 'query', id: 1, questions: [{ name, type: type as packet.RecordType }] })));
  const opts = { transport: 'udp' as const, maxAnswers: 64 };
  let sink = 0;
  for (let i = 0; i < 20000; i++) sink += resolve(queries[i % queries.length]!, index, opts).response!.length; // warm-up
  const t1 = nowMs();
  for (let i = 0; i < iterations; i++) sink += resolve(queries[i % queries.length]!, index, opts).response!.length;
  const ms = nowMs() - t1;
  if (sink === 0) throw new Error('no responses');
  return { queriesPerSec: Math.round((iterations * 1000) / ms), buildMs: Math.round(buildMs) };
}

declare const process: { argv: string[] } | undefined;
if (typeof process !== 'undefined' && /resolve-loop\.ts$/.test(process.argv[1] ?? '')) {
  const r = resolveLoop(2_000_000, () => Date.now());
  console.log(`resolve-loop (node): ${r.queriesPerSec} queries/s in-process, index build ${r.buildMs} ms`);
}
