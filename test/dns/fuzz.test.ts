// Fuzzing the query path: random packets and mutations of valid queries.
// resolve() must never throw, and whatever it answers must parse with
// dns-packet and match the query's ID. Reproduce a failure with
//   DNS_FUZZ_SEED=<seed> npx uvu -r tsx test/dns 'fuzz\.test\.ts$'
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildIndex } from '../../src/dns/zone.ts';
import { resolve } from '../../src/dns/resolver.ts';
import { mulberry32 } from '../support/rand.ts';
import { fixtureZone, query, decode, BIG_SRV } from './fixture.ts';

const SEED = Number(process.env.DNS_FUZZ_SEED ?? Date.now() % 2 ** 31);
const ITERATIONS = Number(process.env.DNS_FUZZ_ITERATIONS ?? 30000);
const { index } = buildIndex(fixtureZone());

const seeds = [
  query('node1.example.internal', 'A'), query('NODE2.example.internal', 'AAAA', { edns: 1232 }),
  query('_http._tcp.web.node1.example.internal', 'SRV'), query(BIG_SRV, 'SRV', { edns: 700 }),
  query('1.0.64.100.in-addr.arpa', 'PTR'), query('nx.example.internal', 'TXT'), query('example.com', 'ANY', { edns: 4096 }),
];

function mutate(rnd: () => number, base: Uint8Array): Uint8Array {
  let b = base.slice();
  const n = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < n; k++) {
    const pos = Math.floor(rnd() * Math.max(1, b.length));
    switch (Math.floor(rnd() * 6)) {
      case 0: b[pos] = Math.floor(rnd() * 256); break;
      case 1: b[pos]! ^= 1 << Math.floor(rnd() * 8); break;
      case 2: b = b.slice(0, pos); break;
      case 3: { const extra = Uint8Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256)); const c = new Uint8Array(b.length + extra.length); c.set(b); c.set(extra, b.length); b = c; break; }
      case 4: b[pos] = [0, 63, 64, 0xc0, 0xff, 1][Math.floor(rnd() * 6)]!; break;
      default: if (b.length > 11) { b[4 + Math.floor(rnd() * 8)] = Math.floor(rnd() * 3); } // section counts
    }
  }
  return b;
}

test(`resolve never throws and every response parses (seed ${SEED})`, () => {
  const rnd = mulberry32(SEED);
  let answered = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const q = rnd() < 0.3
      ? Uint8Array.from({ length: Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256))
      : mutate(rnd, seeds[Math.floor(rnd() * seeds.length)]!);
    const opts = { transport: rnd() < 0.5 ? 'udp' as const : 'tcp' as const, maxAnswers: 1 + Math.floor(rnd() * 64), forward: rnd() < 0.5 };
    let res;
    try {
      res = resolve(q, index, opts);
    } catch (e) {
      assert.unreachable(`resolve threw on iteration ${i} (seed ${SEED}): ${(e as Error).stack}\nquery ${Buffer.from(q).toString('hex')}`);
      return;
    }
    if (!res.response) continue;
    answered++;
    const r = res.response;
    try {
      const d = decode(r);
      assert.ok(d.flag_qr, 'QR set');
      assert.is(d.id, (q[0]! << 8) | q[1]!, 'ID copied');
    } catch (e) {
      assert.unreachable(`bad response on iteration ${i} (seed ${SEED}): ${(e as Error).message}\nquery ${Buffer.from(q).toString('hex')}\nresponse ${Buffer.from(r).toString('hex')}`);
    }
    if (opts.transport === 'udp') assert.ok(r.length <= 1232, `UDP response of ${r.length} bytes (seed ${SEED}, iteration ${i})`);
  }
  assert.ok(answered > ITERATIONS / 10, `only ${answered} answered`);
});

test.run();
