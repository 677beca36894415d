// Anti-entropy by summary (src/core/antientropy.ts): two nodes whose stores
// differ find and exchange exactly what differs through SUMMARY → BUCKETS →
// BDIGEST → WANT/RECORDS, bounded per answer; equal stores answer a summary
// with nothing, so a quiet mesh costs one 22-byte datagram per exchange.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeCore, type Action } from '../../src/core/node.ts';
import { decodeControl, encodeControl, type ControlMessage } from '../../src/core/gossip.ts';
import { bucketOf, entryHash, summaryOf, MAX_PUSH_PER_ANSWER, MAX_WANT_PER_ANSWER, MAX_WANT_ANSWERED } from '../../src/core/antientropy.ts';
import { ANSWER_RATE_LIMIT } from '../../src/core/node-types.ts';
import { formatIPv4 } from '../../src/core/ip.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh, issueMember, type Member } from '../support/mesh.ts';

const T0 = 1_700_000_000_000;

function setup(members: number) {
  const rnd = seededBytes(77);
  const mesh = foundMesh(rnd, { name: 'ae', nowMs: T0 });
  const make = (m: Member) => new NodeCore({ network: mesh.network, chain: m.chain, signKeys: m.identity.sign, relay: true, configuredEndpoints: [], services: [], subnets: [], lastSeq: 0, nowMs: T0 });
  const all = [mesh.founder, ...Array.from({ length: members }, (_, i) => issueMember(rnd, mesh, `m${i}`, T0))];
  const cores = all.map(make);
  return { all, cores, ip: (m: Member) => formatIPv4(m.chain[0]!.ipv4) };
}

const sends = (acts: Action[]) => acts.filter((a): a is Extract<Action, { type: 'send' }> => a.type === 'send');
const types = (acts: Action[]) => sends(acts).map((a) => decodeControl(a.bytes).type);
const summaryMsg = (c: NodeCore): Uint8Array => encodeControl({ type: 'summary', ...summaryOf(storeOf(c)), revCount: 0, revHash: revHash(c) });
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const storeOf = (c: NodeCore) => (c as any).store;
const revHash = (c: NodeCore) => (c.revocations.summary() as { hash: Uint8Array }).hash;

/** One exchange started by `a` (a's summary to b), run to its end; returns the datagrams and bytes it took. */
function exchange(a: NodeCore, aIp: string, b: NodeCore, bIp: string, now: number) {
  let queue: { to: 'a' | 'b'; bytes: Uint8Array }[] = [{ to: 'b', bytes: summaryMsg(a) }];
  let datagrams = 0, bytes = 0;
  for (let guard = 0; queue.length && guard < 1000; guard++) {
    const m = queue.shift()!;
    datagrams++;
    bytes += m.bytes.length;
    const acts = m.to === 'b' ? b.handleControl(m.bytes, aIp, now) : a.handleControl(m.bytes, bIp, now);
    // Replies go back; spreads of accepted records go to neighbours (none here).
    queue.push(...sends(acts).filter((s) => s.to === (m.to === 'b' ? aIp : bIp)).map((s) => ({ to: (m.to === 'b' ? 'a' : 'b') as 'a' | 'b', bytes: s.bytes })));
  }
  return { datagrams, bytes };
}

test('entry hashes and buckets: stable, spread over the 64 buckets', () => {
  assert.equal(entryHash('0011223344556677', T0), entryHash('0011223344556677', T0));
  assert.not.equal(entryHash('0011223344556677', T0), entryHash('0011223344556677', T0 + 1));
  assert.is(bucketOf('00ffffffffffffff'), 0);
  assert.is(bucketOf('ff00000000000000'), 63);
  const { all } = setup(200);
  const used = new Set(all.map((m) => bucketOf(m.id)));
  assert.ok(used.size > 50, `${used.size} buckets of 64 used by 201 ids`);
});

test('equal stores: a summary is answered with nothing', () => {
  const { all, cores, ip } = setup(10);
  for (const c of cores) for (const d of cores) c.acceptRecord(d.selfRecord.bytes, T0 + 1);
  const [a, b] = [cores[0]!, cores[1]!];
  assert.equal(sends(b.handleControl(summaryMsg(a), ip(all[0]!), T0 + 2)), []);
});

test('stores that differ converge through summary, buckets and bdigest, both ways, bounded per answer', () => {
  const { all, cores, ip } = setup(60);
  const [a, b] = [cores[0]!, cores[1]!];
  // a holds everyone but m4; b holds a, itself, m1..m4; and b has a newer record of m2 than a has.
  for (const c of cores) if (c !== cores[5]) a.acceptRecord(c.selfRecord.bytes, T0 + 1);
  for (const c of [cores[0]!, cores[2]!, cores[3]!, cores[4]!, cores[5]!]) b.acceptRecord(c.selfRecord.bytes, T0 + 1);
  assert.equal(sends(cores[3]!.setServices([{ name: 'web', port: 80, proto: 'tcp', type: 'http' }], T0 + 100)), [], 'no neighbours: nothing sent');
  b.acceptRecord(cores[3]!.selfRecord.bytes, T0 + 101);
  const first = b.handleControl(summaryMsg(a), ip(all[0]!), T0 + 200);
  assert.equal(types(first), ['buckets']);
  const rounds: { datagrams: number; bytes: number }[] = [];
  for (let r = 0; r < 10; r++) {
    if (summaryOf(storeOf(a)).hash.every((x: number, i: number) => x === summaryOf(storeOf(b)).hash[i])) break;
    rounds.push(exchange(r % 2 ? b : a, ip(all[r % 2 ? 1 : 0]!), r % 2 ? a : b, ip(all[r % 2 ? 0 : 1]!), T0 + 300 + r));
  }
  assert.is(b.allRecords().length, 61, `b holds ${b.allRecords().length} of 61`);
  assert.is(a.allRecords().length, 61, `a holds ${a.allRecords().length} of 61`);
  assert.is(a.nodeById(all[3]!.id)!.seq, cores[3]!.seq, 'a took the newer record b had');
  // 56 records to move, at most MAX_WANT_PER_ANSWER asked and MAX_PUSH_PER_ANSWER pushed an exchange: a few exchanges.
  assert.ok(rounds.length <= Math.ceil(56 / MAX_WANT_PER_ANSWER) + 1, `${rounds.length} exchanges`);
  assert.ok(MAX_PUSH_PER_ANSWER <= 16);
  // Converged: the next summary is answered with nothing.
  assert.equal(sends(b.handleControl(summaryMsg(a), ip(all[0]!), T0 + 500)), []);
});

test('one record differs: the bdigest covers its bucket only', () => {
  const { all, cores, ip } = setup(60);
  const [a, b] = [cores[0]!, cores[1]!];
  for (const c of cores) { a.acceptRecord(c.selfRecord.bytes, T0 + 1); b.acceptRecord(c.selfRecord.bytes, T0 + 1); }
  cores[7]!.setServices([{ name: 'web', port: 80, proto: 'tcp', type: 'http' }], T0 + 100);
  a.acceptRecord(cores[7]!.selfRecord.bytes, T0 + 101);
  const buckets = sends(b.handleControl(summaryMsg(a), ip(all[0]!), T0 + 200));
  assert.is(buckets.length, 1);
  const bd = sends(a.handleControl(buckets[0]!.bytes, ip(all[1]!), T0 + 201));
  assert.is(bd.length, 1);
  const m = decodeControl(bd[0]!.bytes) as Extract<ControlMessage, { type: 'bdigest' }>;
  assert.is(m.type, 'bdigest');
  const k = bucketOf(all[7]!.id);
  assert.is(m.mask.reduce((n, x) => n + [...x.toString(2)].filter((c) => c === '1').length, 0), 1, 'one bucket');
  assert.ok(m.mask[k >> 3]! & (1 << (k & 7)));
  assert.equal(m.entries.map((e) => e.id).sort(), all.filter((x) => bucketOf(x.id) === k).map((x) => x.id).sort());
  const answer = sends(b.handleControl(bd[0]!.bytes, ip(all[0]!), T0 + 202));
  assert.equal(answer.map((x) => decodeControl(x.bytes)), [{ type: 'want', ids: [all[7]!.id] }]);
});

test('a bdigest whose mask and entries disagree: entries outside the mask are ignored, nothing outside it is pushed', () => {
  const { all, cores, ip } = setup(30);
  const [a, b] = [cores[0]!, cores[1]!];
  for (const c of cores) a.acceptRecord(c.selfRecord.bytes, T0 + 1);
  b.acceptRecord(a.selfRecord.bytes, T0 + 1);
  const k = bucketOf(all[5]!.id);
  const mask = new Uint8Array(8);
  mask[k >> 3] = 1 << (k & 7);
  // b claims to hold every record a holds, at a huge seq, but only bucket k is in the mask.
  const entries = all.map((m) => ({ id: m.id, seq: 2 ** 52 }));
  const acts = sends(a.handleControl(encodeControl({ type: 'bdigest', mask, entries }), ip(all[1]!), T0 + 2));
  const want = acts.map((x) => decodeControl(x.bytes)).find((m) => m.type === 'want') as { ids: string[] } | undefined;
  assert.ok(want && want.ids.every((id) => bucketOf(id) === k), 'wants only ids of bucket k');
  assert.ok(acts.every((x) => decodeControl(x.bytes).type !== 'records'), 'nothing pushed: b claims newer');
});

test('a member that asks too often: BUCKETS, BDIGEST and WANT answered a few times a second, a WANT with at most MAX_WANT_ANSWERED records', () => {
  const { all, cores, ip } = setup(100);
  const [a, b] = [cores[0]!, cores[1]!];
  for (const c of cores) a.acceptRecord(c.selfRecord.bytes, T0 + 1);
  b.acceptRecord(a.selfRecord.bytes, T0 + 1);
  // b's bucket hashes (nearly empty store): every bucket of a's differs, so each answer is a's whole digest.
  const buckets = sends(b.handleControl(summaryMsg(a), ip(all[0]!), T0 + 2))[0]!.bytes;
  const limited0 = a.dropped.rateLimited;
  let answered = 0, bytes = 0;
  for (let i = 0; i < 100; i++) {
    const out = sends(a.handleControl(buckets, ip(all[1]!), T0 + 3));
    if (out.length) answered++;
    bytes += out.reduce((n, x) => n + x.bytes.length, 0);
  }
  assert.is(answered, ANSWER_RATE_LIMIT.burst, `${answered} of 100 BUCKETS answered at once`);
  assert.is(a.dropped.rateLimited - limited0, 100 - ANSWER_RATE_LIMIT.burst, 'the rest counted');
  assert.ok(bytes < 100 * 258, `${bytes} bytes sent for 100 BUCKETS of 258 bytes`);
  // A second later, a few more.
  assert.ok(sends(a.handleControl(buckets, ip(all[1]!), T0 + 1003)).length > 0, 'answered again after a second');
  // A flood of BDIGESTs claiming every bucket empty (each answer up to 16 pushed records): the same budget.
  const empty = encodeControl({ type: 'bdigest', mask: new Uint8Array(8).fill(0xff), entries: [] });
  let pushed = 0;
  for (let i = 0; i < 100; i++) if (sends(a.handleControl(empty, ip(all[1]!), T0 + 5003)).length) pushed++;
  assert.is(pushed, ANSWER_RATE_LIMIT.burst, `${pushed} of 100 BDIGESTs answered at once`);
  // A WANT of 255 ids that a holds: 64 records at most.
  const want = encodeControl({ type: 'want', ids: all.slice(0, 100).map((m) => m.id).concat(all.slice(0, 100).map((m) => m.id)).slice(0, 255) });
  const c = cores[2]!;
  for (const x of cores) c.acceptRecord(x.selfRecord.bytes, T0 + 1);
  const recs = sends(c.handleControl(want, ip(all[1]!), T0 + 5)).map((x) => decodeControl(x.bytes) as { records: Uint8Array[] });
  assert.is(recs.reduce((n, m) => n + m.records.length, 0), MAX_WANT_ANSWERED);
});

test.run();
