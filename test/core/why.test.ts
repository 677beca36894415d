// Why a member is not direct (src/core/why.ts): one line from the evidence.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { whyNotDirect, type WhyInput } from '../../src/core/why.ts';
import { decodeRecord, encodeRecord, type Endpoint, type RecordBody } from '../../src/core/record.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh, issueMember } from '../support/mesh.ts';

const T0 = 1_700_000_000_000;
const rnd = seededBytes(9);
const mesh = foundMesh(rnd, { name: 'w', nowMs: T0 });
const a = issueMember(rnd, mesh, 'a', T0 + 1);
const b = issueMember(rnd, mesh, 'b', T0 + 2);
const rec = (m: typeof a, endpoints: Endpoint[]) => {
  const body: RecordBody = { seq: T0, endpoints, links: [], subnets: [], relay: true, exitCapacityMbit: 0, services: [] };
  return decodeRecord(encodeRecord(body, m.chain, m.identity.sign).bytes);
};
const pub = (host: string): Endpoint => ({ kind: 'public', host, port: 51820 });
const base = (o: Partial<WhyInput>): WhyInput => ({
  me: rec(a, [pub('198.51.100.1')]), them: rec(b, [pub('203.0.113.1')]), path: 'relayed', punch: undefined, handshakeAgoMs: null, nowMs: T0 + 10_000, ...o,
});

test('direct: no reason; each situation its own line', () => {
  assert.is(whyNotDirect(base({ path: 'direct' })), null);
  assert.match(whyNotDirect(base({ them: rec(b, []) }))!, /no endpoint known/);
  assert.match(whyNotDirect(base({ them: rec(b, [{ kind: 'configured', host: '192.0.2.9', port: 51820 }]) }))!, /UDP blocked/);
  assert.match(whyNotDirect(base({ them: rec(b, [{ kind: 'configured', host: '192.0.2.9', port: 51820 }]), handshakeAgoMs: 5000 }))!, /slower than the relay/);
  assert.match(whyNotDirect(base({ them: rec(b, [pub('198.51.100.1')]) }))!, /same public address/);
  assert.match(whyNotDirect(base({ me: rec(a, []) }))!, /public address of one side is not known/);
  const st = { phase: 'idle' as const, opener: true, endpoint: pub('203.0.113.1'), startedMs: T0, sinceMs: T0, failures: 2, lastAttemptMs: T0 + 5000, signalledMs: 0, ruleUp: false };
  assert.match(whyNotDirect(base({ punch: st }))!, /2 hole punches failed .*next try in \d+ s/);
  assert.match(whyNotDirect(base({ punch: { ...st, phase: 'open' } }))!, /hole punch in progress \(attempt 3\)/);
  const v6 = (m: typeof a, host: string, v4: string) => rec(m, [pub(v4), { kind: 'lan', host, port: 51820 }]);
  assert.match(whyNotDirect(base({ me: v6(a, '2001:db8:1::2', '198.51.100.1'), them: v6(b, '2001:db8:2::2', '203.0.113.1') }))!, /global IPv6 addresses, but no WireGuard handshake/);
  const none = whyNotDirect(base({}))!;
  assert.match(none, a.id < b.id ? /has not started yet/ : /waiting for it to start/);
  for (const line of [none]) assert.not.ok(line.includes('\n'));
});

test.run();
