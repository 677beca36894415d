// A large mesh holds back a node's link changes that end no link (new links,
// RTTs, trims) for a while after its last re-sign, so the mesh's record changes
// a second stay bounded; a small mesh, a new member's first links and a link
// that ended are published at once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeCore } from '../../src/core/node.ts';
import { encodeRecord, type RecordBody } from '../../src/core/record.ts';
import { linkResignGapMs, linksGrowOnly, mayWait, LINK_RESIGN_MAX_MS, PACE_FREE_LINKS, netmapGapMs, NETMAP_GAP_MAX_MS } from '../../src/core/pacing.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh, issueMember } from '../support/mesh.ts';

const T0 = 1_700_000_000_000;
const body = (links: [string, number][], extra: Partial<RecordBody> = {}): RecordBody => ({
  seq: T0, endpoints: [], links: links.map(([peer, rttMs]) => ({ peer, rttMs })), subnets: [], relay: true, exitCapacityMbit: 0, services: [], ...extra,
});

test('the gap grows with the mesh: none up to 20 members, 25 ms a member beyond, at most 30 s', () => {
  assert.is(linkResignGapMs(3), 0);
  assert.is(linkResignGapMs(20), 0);
  assert.is(linkResignGapMs(100), 2000);
  assert.is(linkResignGapMs(1000), 24_500);
  assert.is(linkResignGapMs(100_000), LINK_RESIGN_MAX_MS);
});

test('netmap applies: at once up to 20 members, then 1 ms a member apart, at most 1 s', () => {
  assert.is(netmapGapMs(3), 0);
  assert.is(netmapGapMs(20), 0);
  assert.is(netmapGapMs(100), 100);
  assert.is(netmapGapMs(1000), 1000);
  assert.is(netmapGapMs(100_000), NETMAP_GAP_MAX_MS);
});

test('what may wait: new links, RTTs and trims of live links; not a link that ended, nor other fields', () => {
  const old = body([['a', 20], ['b', 40]]);
  const live = new Set(['a', 'b', 'c']);
  assert.ok(linksGrowOnly(body([['a', 20], ['b', 40], ['c', 0]]), old, live), 'a new link');
  assert.ok(linksGrowOnly(body([['a', 60], ['c', 0]]), old, live), 'b trimmed (still live), c added');
  assert.not.ok(linksGrowOnly(body([['a', 20]]), old, new Set(['a'])), 'b ended');
  assert.not.ok(linksGrowOnly(body([['a', 20], ['b', 40], ['c', 0]], { relay: false }), old, live), 'the relay flag changed too');
  assert.not.ok(linksGrowOnly(body([['a', 20], ['b', 40]], { endpoints: [{ kind: 'public', host: '192.0.2.1', port: 51820 }] }), old, live), 'endpoints changed');

  // A record with PACE_FREE_LINKS links: its next new link may wait.
  const eight = [...'abcdefgh'].map((p, i): [string, number] => [p, 20 + 20 * i]);
  const full = body(eight);
  const all = new Set([...'abcdefghi']);
  const grown = body([...eight, ['i', 0]]);
  assert.is(PACE_FREE_LINKS, 8);
  assert.ok(mayWait(grown, full, T0 + 1999, all, 100), 'within the gap of a 100-member mesh');
  assert.not.ok(mayWait(grown, full, T0 + 2000, all, 100), 'the gap is over');
  assert.not.ok(mayWait(grown, full, T0 + 1, all, 20), 'a small mesh publishes at once');
  assert.not.ok(mayWait(body([['c', 0]]), body([]), T0 + 1, live, 1000), 'a record without links publishes its first at once');
  assert.not.ok(mayWait(body([...eight.slice(0, 7), ['i', 0]]), body(eight.slice(0, 7)), T0 + 1, all, 1000), 'and so up to its eighth');
  assert.not.ok(mayWait(body(eight.slice(0, 7)), full, T0 + 1, new Set([...'abcdefg']), 1000), 'a link that ended goes out at once');
  assert.ok(mayWait(body([['a', 20], ['b', 60]]), old, T0 + 60_000, live, 1000), 'RTT drift alone waits longer still (RTT_RESIGN_MS)');
});

test('a node in a 100-member mesh: its first eight links at once, a ninth after the gap, a link that ended at once', () => {
  const rnd = seededBytes(41);
  const mesh = foundMesh(rnd, { name: 'pace', nowMs: T0 });
  const f = mesh.founder;
  const core = new NodeCore({ network: mesh.network, chain: f.chain, signKeys: f.identity.sign, relay: true, configuredEndpoints: [], services: [], subnets: [], lastSeq: 0, nowMs: T0 });
  const peers = Array.from({ length: 99 }, (_, i) => issueMember(rnd, mesh, `p${i}`, T0));
  for (const p of peers) assert.ok(core.acceptRecord(encodeRecord(body([]), p.chain, p.identity.sign).bytes, T0), `record of ${p.name}`);
  assert.is(core.allRecords().length, 100);
  const wg = (at: number, ...ps: typeof peers) => ps.map((p) => ({ publicKey: toBase64(p.identity.wgPub), endpoint: null, lastHandshakeMs: at, rxBytes: 0, txBytes: 0 }));
  const links = () => core.selfRecord.links.map((l) => l.peer).sort();
  const id = (i: number) => core.allRecords().find((r) => r.chain[0]!.name === `p${i}`)!.id;

  let t = T0 + 5000;
  core.observeWg(wg(t, peers[0]!), t);
  assert.equal(links(), [id(0)], 'the first link is published at once');
  for (let k = 1; k < PACE_FREE_LINKS; k++) {
    t += 100;
    core.observeWg(wg(t, ...peers.slice(0, k + 1)), t);
    assert.is(core.selfRecord.links.length, k + 1, `and so is link ${k + 1}, 0.1 s later`);
  }
  const eighth = core.selfRecord.seq;

  t += 500;
  const nine = peers.slice(0, PACE_FREE_LINKS + 1);
  core.observeWg(wg(t, ...nine), t);
  core.tick(t);
  assert.is(core.selfRecord.seq, eighth, 'a ninth link 0.5 s later waits');
  t = eighth + linkResignGapMs(100);
  core.tick(t);
  assert.equal(links(), nine.map((_, i) => id(i)).sort(), 'and is published once the gap is over');
  const ninth = core.selfRecord.seq;

  t += 100;
  core.observeWg(wg(t, ...nine.slice(1)), t);
  assert.ok(core.selfRecord.seq > ninth, 'a link that ended is published at once');
  assert.equal(links(), nine.slice(1).map((_, i) => id(i + 1)).sort());
});

test.run();
