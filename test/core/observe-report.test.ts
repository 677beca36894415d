// Observed-endpoint reports (src/core/observe-report.ts): a change goes out
// at once; a refresh round goes to every peer whose record does not publish
// what we see and to OBSERVE_REFRESH_PER_ROUND of the others in turn, so a
// node with hundreds of sessions does not send one datagram per session every
// OBSERVE_REPORT_INTERVAL_MS.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObserveReports, OBSERVE_REFRESH_PER_ROUND } from '../../src/core/observe-report.ts';
import { OBSERVE_REPORT_INTERVAL_MS } from '../../src/core/node-types.ts';
import type { WgObservation } from '../../src/core/node-types.ts';

const T0 = 1_700_000_000_000;
const peers = (n: number, port = (i: number) => 40000 + i): WgObservation[] =>
  Array.from({ length: n }, (_, i) => ({ publicKey: `k${i}`, endpoint: `198.51.100.${1 + (i % 200)}:${port(i)}`, lastHandshakeMs: T0, rxBytes: 0, txBytes: 0 }));
const idOf = (k: string) => `id${k.slice(1)}`;

test('a new or changed endpoint is reported at once; between rounds nothing else', () => {
  const r = new ObserveReports();
  const ps = peers(40);
  assert.is(r.due(ps, idOf, () => true, T0 + OBSERVE_REPORT_INTERVAL_MS + 1).length, 40, 'first sight: all');
  assert.equal(r.due(ps, idOf, () => true, T0 + OBSERVE_REPORT_INTERVAL_MS + 1000), []);
  const moved = peers(40, (i) => (i === 7 ? 50000 : 40000 + i));
  assert.equal(r.due(moved, idOf, () => true, T0 + OBSERVE_REPORT_INTERVAL_MS + 2000), [{ id: 'id7', host: '198.51.100.8', port: 50000 }]);
  // IPv6, bracketed as wg prints it.
  const v6: WgObservation[] = [{ publicKey: 'k1', endpoint: '[2001:db8::1]:51820', lastHandshakeMs: T0, rxBytes: 0, txBytes: 0 }];
  assert.equal(r.due(v6, idOf, () => true, T0 + OBSERVE_REPORT_INTERVAL_MS + 3000), [{ id: 'id1', host: '2001:db8::1', port: 51820 }]);
});

test('refresh rounds: every peer that does not publish what we see, and the others in turn', () => {
  const r = new ObserveReports();
  const ps = peers(40);
  let now = T0 + OBSERVE_REPORT_INTERVAL_MS + 1;
  r.due(ps, idOf, () => true, now);
  const confirmed = new Set<string>();
  // id3 does not publish the endpoint we see (say it lost it): it is told every round.
  const publishes = (id: string) => id !== 'id3';
  for (let round = 0; round < Math.ceil(39 / OBSERVE_REFRESH_PER_ROUND); round++) {
    now += OBSERVE_REPORT_INTERVAL_MS + 1;
    const out = r.due(ps, idOf, publishes, now).map((x) => x.id);
    assert.ok(out.includes('id3'), `round ${round}: id3 told`);
    const others = out.filter((id) => id !== 'id3');
    assert.is(others.length, OBSERVE_REFRESH_PER_ROUND, `round ${round}: ${others.length} confirmations`);
    for (const id of others) confirmed.add(id);
  }
  assert.is(confirmed.size, 39, 'every other peer confirmed within ceil(39 / per round) rounds');
});

test('few peers: every one every round, as before', () => {
  const r = new ObserveReports();
  const ps = peers(OBSERVE_REFRESH_PER_ROUND);
  let now = T0 + OBSERVE_REPORT_INTERVAL_MS + 1;
  r.due(ps, idOf, () => true, now);
  now += OBSERVE_REPORT_INTERVAL_MS + 1;
  assert.is(r.due(ps, idOf, () => true, now).length, OBSERVE_REFRESH_PER_ROUND);
});

test.run();
