// Steady-state control traffic: what a quiet mesh must not keep sending.
//  - A record signed at a clock reading with a fraction of a millisecond
//    (a monotonic clock, the simulator's) carries the seq its bytes carry, so
//    a neighbour holding it is not sent it again on every gossip round (its
//    node kept the fractional seq in memory, saw itself newer than every
//    digest, and pushed its record to every neighbour every round).
//  - The pongs of one ping round re-sign the record once, at the tick, not
//    once per link measured (each re-sign is flooded through the mesh).
//  - A gossip round sends the digest to GOSSIP_FANOUT neighbours in turn, not
//    to every neighbour (neighbours × records × 16 bytes a round per node).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeCore, type Action } from '../../src/core/node.ts';
import { decodeControl, encodeControl } from '../../src/core/gossip.ts';
import { decodeRecord } from '../../src/core/record.ts';
import { GOSSIP_FANOUT } from '../../src/core/antientropy.ts';
import { formatIPv4 } from '../../src/core/ip.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh, issueMember, type Member } from '../support/mesh.ts';

const T0 = 1_700_000_000_000;

function setup(members: number, nowMs: number) {
  const rnd = seededBytes(31);
  const mesh = foundMesh(rnd, { name: 'traffic', nowMs: T0 });
  const make = (m: Member) => new NodeCore({ network: mesh.network, chain: m.chain, signKeys: m.identity.sign, relay: true, configuredEndpoints: [], services: [], subnets: [], lastSeq: 0, nowMs });
  const hub = make(mesh.founder);
  const others = Array.from({ length: members }, (_, i) => issueMember(rnd, mesh, `m${i}`, T0));
  const cores = others.map(make);
  for (const c of cores) { hub.acceptRecord(c.selfRecord.bytes, nowMs); c.acceptRecord(hub.selfRecord.bytes, nowMs); }
  const ip = (m: Member) => formatIPv4(m.chain[0]!.ipv4);
  return { hub, others, cores, ip, mesh };
}

const sentRecords = (actions: Action[]) => actions.filter((a) => a.type === 'send' && decodeControl(a.bytes).type === 'records').length;

test('a record signed at a fractional millisecond has an integral seq: a neighbour holding it is not sent it again', () => {
  const now = T0 + 1000.375;
  const { hub, others, cores, ip } = setup(1, now);
  const b = cores[0]!;
  // The hub's record changes at a fractional clock reading; b takes the bytes it is sent.
  const actions = hub.setServices([{ name: 'web', port: 80, proto: 'tcp', type: 'http' }], now + 0.25);
  assert.ok(actions.some((a) => a.type === 'persist'), 're-signed');
  assert.ok(Number.isInteger(hub.seq), `seq ${hub.seq}`);
  assert.is(hub.selfRecord.seq, decodeRecord(hub.selfRecord.bytes, false).seq);
  assert.ok(b.acceptRecord(hub.selfRecord.bytes, now + 1));
  // b's digest now says it holds the hub's latest record: nothing to push back.
  const digest = encodeControl({ type: 'digest', entries: b.allRecords().map((r) => ({ id: r.id, seq: r.seq })) });
  const answer = hub.handleControl(digest, ip(others[0]!), now + 2);
  assert.is(sentRecords(answer), 0, 'the hub pushed a record b already holds');
});

test('the pongs of a ping round re-sign the record once, at the next tick', () => {
  let now = T0 + 10_000;
  const { hub, others, cores, ip, mesh } = setup(4, now);
  // Each member has a session with the hub (both ends publish the link: a direct path).
  for (const c of cores) {
    c.observeWg([{ publicKey: toBase64(mesh.founder.identity.wgPub), endpoint: '192.0.2.1:51820', lastHandshakeMs: now - 1, rxBytes: 0, txBytes: 0 }], now);
    hub.acceptRecord(c.selfRecord.bytes, now);
  }
  const obs = () => others.map((m) => ({ publicKey: toBase64(m.identity.wgPub), endpoint: '198.51.100.7:51820', lastHandshakeMs: now - 1, rxBytes: 0, txBytes: 0 }));
  hub.observeWg(obs(), now);
  const seqs = new Set<number>([hub.seq]);
  let perPong = 0;
  // Two rounds of pings answered after 100 ms (RTT_MIN_SAMPLES): the links' RTTs go from unmeasured (0) to 100 ms.
  for (let round = 0; round < 3; round++) {
    now += 5000;
    const pings = hub.tick(now).filter((a): a is Extract<Action, { type: 'send' }> => a.type === 'send').map((a) => ({ to: a.to, m: decodeControl(a.bytes) }));
    hub.observeWg(obs(), now);
    seqs.add(hub.seq);
    for (const p of pings) {
      if (p.m.type !== 'ping') continue;
      const from = others.find((m) => ip(m) === p.to)!;
      const acts = hub.handleControl(encodeControl({ type: 'pong', nonce: p.m.nonce, sentMs: p.m.sentMs }), ip(from), now + 100);
      if (acts.some((a) => a.type === 'persist')) perPong++;
    }
    now += 1000;
    hub.tick(now);
    seqs.add(hub.seq);
  }
  assert.ok(hub.selfRecord.links.length === 4 && hub.selfRecord.links.every((l) => l.rttMs === 100), JSON.stringify(hub.selfRecord.links));
  assert.is(perPong, 0, 'a pong re-signed the record');
  // The first record with the links (observeWg), then one with all four RTTs.
  assert.ok(seqs.size <= 3, `${seqs.size - 1} re-signs`);
});

test('a gossip round sends the digest to GOSSIP_FANOUT neighbours, each of them in turn', () => {
  let now = T0 + 10_000;
  const { hub, others, ip } = setup(10, now);
  hub.observeWg(others.map((m) => ({ publicKey: toBase64(m.identity.wgPub), endpoint: '198.51.100.7:51820', lastHandshakeMs: now - 1, rxBytes: 0, txBytes: 0 })), now);
  const heard = new Set<string>();
  const rounds = Math.ceil(others.length / GOSSIP_FANOUT);
  for (let round = 0; round < rounds; round++) {
    now += 2000;
    const to = hub.tick(now).filter((a): a is Extract<Action, { type: 'send' }> => a.type === 'send' && decodeControl(a.bytes).type === 'digest').map((a) => a.to);
    assert.is(to.length, GOSSIP_FANOUT, `round ${round}: digests to ${to.length} neighbours`);
    for (const t of to) heard.add(t);
  }
  assert.is(heard.size, others.length, 'every neighbour got a digest within ceil(neighbours / fanout) rounds');
  assert.ok(others.every((m) => heard.has(ip(m))));
});

test.run();
