// Steady-state control traffic: what a quiet mesh must not keep sending.
//  - A record signed at a clock reading with a fraction of a millisecond
//    (a monotonic clock, the simulator's) carries the seq its bytes carry, so
//    a neighbour holding it is not sent it again on every gossip round (its
//    node kept the fractional seq in memory, saw itself newer than every
//    digest, and pushed its record to every neighbour every round).
//  - The pongs of one ping round re-sign the record once, at the tick, not
//    once per link measured (each re-sign is flooded through the mesh).
//  - A gossip round sends its summary to GOSSIP_FANOUT neighbours in turn, not
//    to every neighbour, and a summary is 22 bytes whatever the mesh's size
//    (a full digest was records × 16 bytes, to every neighbour, every round).
//  - A new record goes in full to RUMOUR_FANOUT neighbours (our own to
//    OWN_FANOUT) and is announced (HAVE) to HAVE_FANOUT more, not sent to every
//    neighbour; a ping round pings PINGS_PER_ROUND links.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeCore, type Action } from '../../src/core/node.ts';
import { decodeControl, encodeControl } from '../../src/core/gossip.ts';
import { decodeRecord } from '../../src/core/record.ts';
import { GOSSIP_FANOUT } from '../../src/core/antientropy.ts';
import { RUMOUR_FANOUT, HAVE_FANOUT, OWN_FANOUT } from '../../src/core/rumour.ts';
import { PINGS_PER_ROUND } from '../../src/core/rtt.ts';
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

const setupHubKey = (hub: NodeCore) => hub.selfRecord.chain[0]!.wgPub;
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

test('a gossip round sends its summary to GOSSIP_FANOUT neighbours, each of them in turn', () => {
  let now = T0 + 10_000;
  const { hub, others, ip } = setup(10, now);
  hub.observeWg(others.map((m) => ({ publicKey: toBase64(m.identity.wgPub), endpoint: '198.51.100.7:51820', lastHandshakeMs: now - 1, rxBytes: 0, txBytes: 0 })), now);
  const heard = new Set<string>();
  const rounds = Math.ceil(others.length / GOSSIP_FANOUT);
  for (let round = 0; round < rounds; round++) {
    now += 2000;
    const sent = hub.tick(now).filter((a): a is Extract<Action, { type: 'send' }> => a.type === 'send');
    assert.is(sent.filter((a) => decodeControl(a.bytes).type === 'digest').length, 0, 'no full digest');
    const to = sent.filter((a) => decodeControl(a.bytes).type === 'summary');
    assert.is(to.length, GOSSIP_FANOUT, `round ${round}: summaries to ${to.length} neighbours`);
    assert.ok(to.every((a) => a.bytes.length === 22), `a summary of ${to[0]?.bytes.length} bytes`);
    for (const t of to) heard.add(t.to);
  }
  assert.is(heard.size, others.length, 'every neighbour got a summary within ceil(neighbours / fanout) rounds');
  assert.ok(others.every((m) => heard.has(ip(m))));
});

test('a new record goes to RUMOUR_FANOUT neighbours and is announced to HAVE_FANOUT more, our own to OWN_FANOUT; a ping round pings PINGS_PER_ROUND links, each in turn', () => {
  let now = T0 + 10_000;
  const { hub, others, cores, ip } = setup(20, now);
  const obs = () => others.map((m) => ({ publicKey: toBase64(m.identity.wgPub), endpoint: '198.51.100.7:51820', lastHandshakeMs: now - 1, rxBytes: 0, txBytes: 0 }));
  // Every member reports its link to the hub, so every path is direct.
  for (const c of cores) { c.observeWg([{ publicKey: toBase64(setupHubKey(hub)), endpoint: '192.0.2.1:51820', lastHandshakeMs: now - 1, rxBytes: 0, txBytes: 0 }], now); hub.acceptRecord(c.selfRecord.bytes, now); }
  const own = hub.observeWg(obs(), now).filter((a) => a.type === 'send' && decodeControl(a.bytes).type === 'records');
  assert.is(own.length, OWN_FANOUT, 'our new record');
  // A member's newer record, from one neighbour: passed on in full to RUMOUR_FANOUT others and announced to HAVE_FANOUT more, never back.
  const from = ip(others[0]!);
  const newer = cores[1]!.setServices([{ name: 'web', port: 80, proto: 'tcp', type: 'http' }], now + 5).find((a) => a.type === 'send')!;
  const on = hub.handleControl((newer as Extract<Action, { type: 'send' }>).bytes, from, now + 10).filter((a): a is Extract<Action, { type: 'send' }> => a.type === 'send');
  const full = on.filter((a) => decodeControl(a.bytes).type === 'records');
  const haves = on.map((a) => decodeControl(a.bytes)).filter((m) => m.type === 'have');
  assert.is(full.length, RUMOUR_FANOUT, `passed on in full to ${full.length}`);
  assert.is(haves.length, HAVE_FANOUT, `announced to ${haves.length}`);
  assert.is(on.length, RUMOUR_FANOUT + HAVE_FANOUT);
  assert.equal(haves[0], { type: 'have', entries: [{ id: cores[1]!.selfId, seq: cores[1]!.selfRecord.seq }] });
  assert.is(new Set(on.map((a) => a.to)).size, on.length, 'each neighbour once');
  assert.ok(on.every((a) => a.to !== from), 'not back to its sender');
  const round = (answer: boolean) => {
    now += 5000;
    hub.observeWg(obs(), now);
    const pings = hub.tick(now).filter((a): a is Extract<Action, { type: 'send' }> => a.type === 'send' && decodeControl(a.bytes).type === 'ping');
    if (answer) for (const p of pings) { const m = decodeControl(p.bytes) as { nonce: number; sentMs: number }; hub.handleControl(encodeControl({ type: 'pong', nonce: m.nonce, sentMs: m.sentMs }), p.to, now + 20); }
    return pings;
  };
  // Unmeasured links are all pinged until measured (RTT_MIN_SAMPLES pongs each), then PINGS_PER_ROUND a round.
  assert.is(round(true).length, others.length, 'the first round measures every new link');
  assert.is(round(true).length, others.length);
  assert.ok(others.every((m) => hub.rttTo(m.id) === 20), 'measured');
  const pinged = new Set<string>();
  for (let r = 0; r < Math.ceil(others.length / PINGS_PER_ROUND); r++) {
    const pings = round(false);
    assert.is(pings.length, PINGS_PER_ROUND, `round ${r}: ${pings.length} pings`);
    for (const p of pings) pinged.add(p.to);
  }
  assert.is(pinged.size, others.length, 'every link pinged within ceil(links / PINGS_PER_ROUND) rounds');
});

test.run();
