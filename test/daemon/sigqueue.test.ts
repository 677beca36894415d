// The daemon's side of native signature checks (src/daemon/sigqueue.ts): each
// control datagram's listed checks go through the native verifier before the
// core handles it. Every signature is verified at most once (natively, never
// again in the core), datagrams are handled in arrival order, and the queue
// behind a pending check is bounded.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sign_detached_verify } from 'tweetnacl-ts/es/sign.js';
import { NodeCore, type Action } from '../../src/core/node.ts';
import { encodeControl } from '../../src/core/gossip.ts';
import { encodeRecord, type RecordBody } from '../../src/core/record.ts';
import { formatIPv4 } from '../../src/core/ip.ts';
import { toBase64, toHex } from '../../src/core/bytes.ts';
import { clearSignatureCache, signatureStats } from '../../src/core/crypto.ts';
import { SignatureQueue, type Queued } from '../../src/daemon/sigqueue.ts';
import type { NativeCrypto } from '../../src/platform/types.ts';
import { seededBytes } from '../support/rand.ts';
import { settle } from '../support/fake-platform.ts';
import { foundMesh, issueMember, type Member } from '../support/mesh.ts';

const T0 = 1_700_000_000_000;
const EMPTY: RecordBody = { seq: T0, endpoints: [], links: [], subnets: [], relay: true, exitCapacityMbit: 0, services: [] };

/** A native verifier that answers (with tweetnacl) only when released, counting each signature it sees. */
function fakeNative() {
  const seen = new Map<string, number>();
  const waiting: Array<() => void> = [];
  const native: NativeCrypto = {
    verifyEd25519(publicKey, message, signature) {
      const k = toHex(publicKey) + toHex(signature) + toBase64(message);
      seen.set(k, (seen.get(k) ?? 0) + 1);
      return new Promise((resolve) => waiting.push(() => resolve(sign_detached_verify(message, signature, publicKey))));
    },
    signEd25519() { return Promise.reject(new Error('not used here')); },
  };
  const release = async () => { for (let i = 0; i < 1000 && waiting.length; i++) { waiting.splice(0).forEach((f) => f()); await settle(); } };
  return { native, seen, release, get pending() { return waiting.length; } };
}

function setup(seed: number, n: number) {
  clearSignatureCache();
  const rnd = seededBytes(seed);
  const mesh = foundMesh(rnd, { name: `q${seed}`, nowMs: T0 });
  const f = mesh.founder;
  const core = new NodeCore({ network: mesh.network, chain: f.chain, signKeys: f.identity.sign, relay: true, configuredEndpoints: [], services: [], subnets: [], lastSeq: 0, nowMs: T0 });
  const senders = [issueMember(rnd, mesh, 'a', T0), issueMember(rnd, mesh, 'b', T0)];
  for (const s of senders) assert.ok(core.acceptRecord(encodeRecord({ ...EMPTY }, s.chain, s.identity.sign).bytes, T0));
  const members = Array.from({ length: n }, (_, i) => issueMember(rnd, mesh, `m${i}`, T0));
  const handled: Queued[] = [];
  const actions: Action[][] = [];
  const now = T0 + 1000;
  const fake = fakeNative();
  const q = new SignatureQueue(fake.native, (x) => core.signatureChecks({ control: x.data, fromIPv4: x.from }, now),
    (x) => { handled.push(x); actions.push(core.handleControl(x.data, x.from, now)); });
  return { core, senders, members, handled, actions, fake, q };
}

const rec = (m: Member, seq: number) => encodeRecord({ ...EMPTY, seq }, m.chain, m.identity.sign).bytes;
const from = (m: Member) => formatIPv4(m.chain[0]!.ipv4);

test('100 members\' records, each sent twice by two members: every signature verified once, natively; the core checks none', async () => {
  const { core, senders, members, handled, fake, q } = setup(11, 100);
  const before = signatureStats.tweetnacl;
  const batches: Uint8Array[][] = [];
  for (let i = 0; i < members.length; i += 4) batches.push(members.slice(i, i + 4).map((m) => rec(m, T0 + 10)));
  for (const b of batches) for (const s of senders) q.push({ data: encodeControl({ type: 'records', records: b }), from: from(s) });
  // Some honest repeats from the same sender, and a ping, in between.
  q.push({ data: encodeControl({ type: 'ping', nonce: 7, sentMs: 0 }), from: from(senders[0]!) });
  await fake.release();
  assert.is(handled.length, batches.length * 2 + 1, 'every datagram handled');
  for (const m of members) assert.ok(core.nodeById(m.id), `${m.name} known`);
  assert.is(signatureStats.tweetnacl, before, 'the core ran no tweetnacl check');
  assert.is(fake.seen.size, members.length * 2, 'a record and a leaf certificate per member');
  for (const [k, n] of fake.seen) assert.is(n, 1, `verified ${n} times: ${k.slice(0, 16)}`);
  assert.is(q.dropped, 0);
});

test('arrival order holds while checks are pending: an older record after a newer one stays stale', async () => {
  const { core, senders, members, handled, fake, q } = setup(12, 1);
  const m = members[0]!;
  const order = [rec(m, T0 + 30), rec(m, T0 + 20)];
  for (const r of order) q.push({ data: encodeControl({ type: 'records', records: [r] }), from: from(senders[0]!) });
  const ping = encodeControl({ type: 'ping', nonce: 9, sentMs: 0 });
  q.push({ data: ping, from: from(senders[1]!) });
  assert.is(handled.length, 0, 'nothing overtakes the datagram whose checks are pending');
  await fake.release();
  assert.equal(handled.map((h) => h.data), [encodeControl({ type: 'records', records: [order[0]!] }), encodeControl({ type: 'records', records: [order[1]!] }), ping]);
  assert.is(core.nodeById(m.id)!.seq, T0 + 30);
  assert.is(core.dropped.stale, 1);
});

test('the queue behind a pending check is bounded; what overflows is dropped and counted', async () => {
  const { senders, members, handled, fake, q } = setup(13, 1);
  const data = encodeControl({ type: 'records', records: [rec(members[0]!, T0 + 5)] });
  for (let i = 0; i < 100; i++) q.push({ data, from: from(senders[0]!) });
  assert.ok(q.length <= 64);
  assert.is(q.dropped, 100 - 1 - q.length, 'the first is being checked, the rest queued up to the bound');
  await fake.release();
  assert.is(handled.length, 100 - q.dropped);
  assert.is(fake.seen.size, 2);
});

test('with no native crypto the queue hands each datagram straight to the core', () => {
  const { core, senders, members, handled } = setup(14, 1);
  const q = new SignatureQueue(undefined, () => { throw new Error('not asked'); }, (x) => { handled.push(x); core.handleControl(x.data, x.from, T0 + 1000); });
  q.push({ data: encodeControl({ type: 'records', records: [rec(members[0]!, T0 + 5)] }), from: from(senders[0]!) });
  assert.is(handled.length, 1);
  assert.ok(core.nodeById(members[0]!.id));
});

test.run();
