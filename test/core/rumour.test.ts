// A record new to a node goes in full to a few neighbours and is announced
// (HAVE) to a few more; a node lacking it asks the first announcer (WANT),
// the next only after WANT_RETRY_MS, and the announcer's answer brings it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeCore, type Action } from '../../src/core/node.ts';
import { decodeControl, encodeControl, safeDecodeControl, MAX_RECORDS_PER_MESSAGE } from '../../src/core/gossip.ts';
import { Wants, WANT_RETRY_MS, MAX_PENDING_WANTS } from '../../src/core/rumour.ts';
import { formatIPv4 } from '../../src/core/ip.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh, issueMember, type Member } from '../support/mesh.ts';

const T0 = 1_700_000_000_000;
const id = (i: number) => i.toString(16).padStart(16, '0');
type Send = Extract<Action, { type: 'send' }>;
const sends = (a: Action[]) => a.filter((x): x is Send => x.type === 'send');

test('HAVE round-trips; more entries than a records message holds, or a short one, do not decode', () => {
  const m = { type: 'have' as const, entries: [{ id: id(1), seq: T0 }, { id: id(2), seq: T0 + 1 }] };
  const bytes = encodeControl(m);
  assert.is(bytes.length, 2 + 1 + 2 * 16);
  assert.equal(decodeControl(bytes), m);
  const five = encodeControl({ type: 'have', entries: Array.from({ length: MAX_RECORDS_PER_MESSAGE + 1 }, (_, i) => ({ id: id(i), seq: i })) });
  assert.throws(() => decodeControl(five), /have of 5 entries/);
  assert.is(safeDecodeControl(bytes.subarray(0, bytes.length - 1)), null);
});

test('wants: only what is newer than held, once per id until WANT_RETRY_MS, again for a newer seq', () => {
  const w = new Wants();
  const held = new Map([[id(1), 100]]);
  const h = (x: string) => held.get(x);
  assert.equal(w.ask([{ id: id(1), seq: 100 }, { id: id(2), seq: 5 }], h, T0), [id(2)], 'id 1 is held at that seq');
  assert.equal(w.ask([{ id: id(2), seq: 5 }], h, T0 + 10), [], 'asked already: the answer is on its way');
  assert.equal(w.ask([{ id: id(2), seq: 6 }], h, T0 + 20), [id(2)], 'a newer seq is asked for at once');
  assert.equal(w.ask([{ id: id(2), seq: 6 }], h, T0 + 20 + WANT_RETRY_MS), [id(2)], 'no record came: the next announcer is asked');
  held.set(id(2), 6);
  assert.equal(w.ask([{ id: id(2), seq: 6 }], h, T0 + 30 + 2 * WANT_RETRY_MS), [], 'it came');
  assert.equal(w.ask([{ id: id(3), seq: 1 }], h, T0 + 5000), [id(3)]);
  assert.equal(w.ask([{ id: id(3), seq: 1 }], h, T0 + 4000), [id(3)], 'a clock that went back does not hold an id for ever');
});

test('wants: a flood of HAVEs for ids that never come holds MAX_PENDING_WANTS ids at most, the oldest going first', () => {
  const w = new Wants();
  for (let i = 0; i < 3 * MAX_PENDING_WANTS; i++) w.ask([{ id: id(i), seq: 1 }], () => undefined, T0);
  assert.is(w.size, MAX_PENDING_WANTS);
  assert.equal(w.ask([{ id: id(0), seq: 1 }], () => undefined, T0 + 1), [id(0)], 'the oldest went');
  assert.equal(w.ask([{ id: id(3 * MAX_PENDING_WANTS - 1), seq: 1 }], () => undefined, T0 + 1), [], 'the newest is still held');
});

test('end to end: a HAVE is answered with a WANT to its sender only, the WANT with the record, and a second announcer is not asked', () => {
  const rnd = seededBytes(51);
  const mesh = foundMesh(rnd, { name: 'rumour', nowMs: T0 });
  const make = (m: Member) => new NodeCore({ network: mesh.network, chain: m.chain, signKeys: m.identity.sign, relay: true, configuredEndpoints: [], services: [], subnets: [], lastSeq: 0, nowMs: T0 });
  const [a, b, c] = [0, 1, 2].map((i) => issueMember(rnd, mesh, `m${i}`, T0));
  const [ca, cb, cc] = [a!, b!, c!].map(make);
  const ip = (m: Member) => formatIPv4(m.chain[0]!.ipv4);
  for (const [x, y] of [[ca, cb], [cb, ca], [ca, cc], [cc, ca], [cb, cc], [cc, cb]] as const) x!.acceptRecord(y!.selfRecord.bytes, T0);
  // c's newer record: a and b hold it, b does not yet.
  const first = cc!.selfRecord.seq;
  cc!.setServices([{ name: 'web', port: 80, proto: 'tcp', type: 'http' }], T0 + 1000);
  assert.ok(cc!.selfRecord.seq > first, 're-signed');
  assert.ok(ca!.acceptRecord(cc!.selfRecord.bytes, T0 + 1001));
  const have = encodeControl({ type: 'have', entries: [{ id: cc!.selfId, seq: cc!.selfRecord.seq }] });
  const asked = sends(cb!.handleControl(have, ip(a!), T0 + 1002));
  assert.is(asked.length, 1);
  assert.is(asked[0]!.to, ip(a!), 'asked of the announcer');
  assert.equal(decodeControl(asked[0]!.bytes), { type: 'want', ids: [cc!.selfId] });
  assert.equal(sends(cb!.handleControl(have, ip(c!), T0 + 1003)), [], 'a second announcer meanwhile: not asked');
  const answer = sends(ca!.handleControl(asked[0]!.bytes, ip(b!), T0 + 1004));
  assert.is(answer.length, 1);
  assert.is(answer[0]!.to, ip(b!));
  const before = cb!.allRecords().find((r) => r.id === cc!.selfId)!.seq;
  cb!.handleControl(answer[0]!.bytes, ip(a!), T0 + 1005);
  const after = cb!.allRecords().find((r) => r.id === cc!.selfId)!.seq;
  assert.ok(after > before, 'b now holds c\'s newer record');
  assert.is(after, cc!.selfRecord.seq);
  assert.equal(sends(cb!.handleControl(have, ip(c!), T0 + 1006 + WANT_RETRY_MS)), [], 'held now: no want, however late');
});

test('a records message goes on with only the records new here, and a HAVE names only those', () => {
  const rnd = seededBytes(52);
  const mesh = foundMesh(rnd, { name: 'rumour', nowMs: T0 });
  const make = (m: Member) => new NodeCore({ network: mesh.network, chain: m.chain, signKeys: m.identity.sign, relay: true, configuredEndpoints: [], services: [], subnets: [], lastSeq: 0, nowMs: T0 });
  const ms = Array.from({ length: 8 }, (_, i) => issueMember(rnd, mesh, `m${i}`, T0));
  const cores = ms.map(make);
  const hub = make(mesh.founder);
  const t = T0 + 10_000;
  // The hub has a live session with every member, so all are its neighbours.
  hub.observeWg(ms.map((m) => ({ publicKey: toBase64(m.identity.wgPub), endpoint: '198.51.100.7:51820', lastHandshakeMs: t - 1, rxBytes: 0, txBytes: 0 })), t);
  const [old, fresh] = [cores[1]!, cores[2]!];
  for (const c of cores) if (c !== fresh) hub.acceptRecord(c.selfRecord.bytes, t);
  const on = sends(hub.handleControl(encodeControl({ type: 'records', records: [old.selfRecord.bytes, fresh.selfRecord.bytes] }), formatIPv4(ms[0]!.chain[0]!.ipv4), t + 1));
  assert.ok(on.length > 0, 'passed on');
  for (const a of on) {
    const m = decodeControl(a.bytes);
    if (m.type === 'records') assert.equal(m.records, [fresh.selfRecord.bytes], 'only the record new to the hub');
    else assert.equal(m, { type: 'have', entries: [{ id: fresh.selfId, seq: fresh.selfRecord.seq }] });
  }
  assert.equal(sends(hub.handleControl(encodeControl({ type: 'records', records: [old.selfRecord.bytes, fresh.selfRecord.bytes] }), formatIPv4(ms[3]!.chain[0]!.ipv4), t + 2)), [], 'nothing new: nothing goes on');
});

test.run();
