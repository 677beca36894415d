/// <reference types="node" />
// Every wire format in src/core, round-tripped (encode → decode → re-encode
// gives the same bytes) and fuzzed with random bytes and mutations of valid
// encodings: decoders return or throw DecodeError (InviteCodeError for invite
// codes, which are local input), never anything else; the entry points that
// take remote bytes (NodeCore.handleControl, admit) never throw at all.
//   KITH_SEED=<n> KITH_FUZZ=<iterations> npx uvu -r tsx test/core 'codecs\.test\.ts$'
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DecodeError, Reader, Writer } from '../../src/core/codec.ts';
import { decodeCert, decodeChain, encodeChain, issueCert } from '../../src/core/cert.ts';
import { decodeRecord, encodeRecord, type RecordBody } from '../../src/core/record.ts';
import { decodeNetwork, networkId, signNetwork } from '../../src/core/network.ts';
import { decodeControl, encodeControl, type ControlMessage } from '../../src/core/gossip.ts';
import { decodeInvite, encodeInvite, inviteKeys, InviteCodeError } from '../../src/core/invite.ts';
import {
  buildJoinRecord, buildJoinRefusal, buildJoinReply, buildJoinRequest, frameJoin, openJoinReply, openJoinRequest,
  parseJoinRecord, parseJoinRequestOuter,
} from '../../src/core/join.ts';
import { boxSeal, x25519Public } from '../../src/core/crypto.ts';
import { admit, newInvite } from '../../src/core/admit.ts';
import { NodeCore } from '../../src/core/node.ts';
import { toBase32 } from '../../src/core/bytes.ts';
import { mulberry32, seededBytes } from '../support/rand.ts';
import { mutator } from '../support/fuzz.ts';
import { foundMesh, issueMember, makeIdentity } from '../support/mesh.ts';

const SEED = Number(process.env.KITH_SEED ?? 1337);
/** Iterations for cheap decoders; signed formats (a signature check each) get a tenth. */
const FUZZ = Number(process.env.KITH_FUZZ ?? 3000);
const T0 = 1_700_000_000_000;

const rnd = seededBytes(SEED);
const rand = mulberry32(SEED);
const int = (n: number) => Math.floor(rand() * n);
const mesh = foundMesh(rnd, { name: 'codec', nowMs: T0 });
const member = issueMember(rnd, mesh, 'alice', T0);

function reproduce(): string {
  return `seed ${SEED}; reproduce: KITH_SEED=${SEED} npx uvu -r tsx test/core 'codecs\\.test\\.ts$'`;
}

/** A mutation of valid bytes: bit flips, byte overwrites, truncation, extension, insertion, deletion. */
const mutate = mutator(rand, rnd);

/** Random bytes, or a mutation of one of the valid samples. */
function fuzzInput(valid: Uint8Array[]): Uint8Array {
  return rand() < 0.2 ? rnd(int(valid[0]!.length * 2 + 8)) : mutate(valid[int(valid.length)]!);
}

/** Runs `decode` on fuzzed inputs; anything thrown must be an instance of `allowed`. */
function fuzz(what: string, valid: Uint8Array[], iterations: number, decode: (b: Uint8Array) => unknown, allowed: new (...a: never[]) => Error = DecodeError): void {
  let threw = 0;
  for (let i = 0; i < iterations; i++) {
    const input = fuzzInput(valid);
    try {
      decode(input);
    } catch (e) {
      threw++;
      if (!(e instanceof allowed)) {
        assert.unreachable(`${what}: input ${Buffer.from(input).toString('hex').slice(0, 200)} threw ${(e as Error)?.name}: ${(e as Error)?.message} (${reproduce()})`);
      }
    }
  }
  assert.ok(threw > iterations / 4, `${what}: only ${threw} of ${iterations} fuzzed inputs were rejected — is the fuzzer reaching it?`);
}

function fullBody(seq: number): RecordBody {
  return {
    seq,
    endpoints: [
      { kind: 'configured', host: '192.0.2.1', port: 51820 }, { kind: 'public', host: '2001:db8::1', port: 51820 },
      { kind: 'lan', host: '192.168.1.2', port: 51820 },
    ],
    links: [{ peer: mesh.founder.id, rttMs: 40 }, { peer: '0011223344556677', rttMs: 65535 }],
    subnets: ['192.168.1.0/24', 'fd00:1:2::/48'],
    relay: true,
    exitCapacityMbit: 100,
    services: [{ name: 'web', port: 80, proto: 'tcp', type: 'http' }, { name: 'dns', port: 53, proto: 'udp', type: '' }],
  };
}

// ---- round trips ----

test('certificate: decode gives the issued fields; re-issuing gives the same bytes', () => {
  const cert = member.chain[0]!;
  const back = decodeCert(cert.bytes);
  const { bytes: _b, ...fields } = back;
  assert.equal(issueCert(fields, mesh.founder.identity.sign).bytes, cert.bytes);
  assert.is(back.name, 'alice');
  const w = new Writer();
  encodeChain(w, member.chain);
  const chain = decodeChain(new Reader(w.finish(), 'chain'));
  assert.equal(chain.map((c) => c.bytes), member.chain.map((c) => c.bytes));
});

test('record: every field survives; re-encoding gives the same bytes', () => {
  const rec = encodeRecord(fullBody(T0), member.chain, member.identity.sign);
  const back = decodeRecord(rec.bytes);
  assert.equal({ ...back, chain: null, bytes: null }, { ...rec, chain: null, bytes: null });
  assert.equal(encodeRecord(back, back.chain, member.identity.sign).bytes, rec.bytes);
});

test('network parameters: decode then re-sign gives the same bytes', () => {
  const back = decodeNetwork(mesh.network.bytes);
  assert.equal(back.params, mesh.network.params);
  assert.equal(signNetwork(back.params, mesh.networkKeys).bytes, mesh.network.bytes);
});

const controls: ControlMessage[] = [
  { type: 'digest', entries: [{ id: '0011223344556677', seq: T0 }, { id: 'ffffffffffffffff', seq: 2 ** 53 - 1 }] },
  { type: 'digest', entries: [] },
  { type: 'records', records: [new Uint8Array([1, 2, 3]), new Uint8Array(0)] },
  { type: 'want', ids: ['0011223344556677'] },
  { type: 'ping', nonce: 0xffffffff, sentMs: T0 },
  { type: 'pong', nonce: 1, sentMs: 0 },
  { type: 'observed', host: '203.0.113.7', port: 51820 },
  { type: 'observed', host: '2001:db8::7', port: 1 },
  { type: 'renew' },
  { type: 'cert', chain: member.chain.map((c) => c.bytes) },
  { type: 'summary', count: 1024, hash: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 0xff]), revCount: 0, revHash: new Uint8Array(8) },
  { type: 'buckets', hashes: Array.from({ length: 64 }, (_, i) => (i * 0x9e3779b9) >>> 0) },
  { type: 'bdigest', mask: new Uint8Array([0x80, 0, 0, 0, 0, 0, 0, 1]), entries: [{ id: 'fc11223344556677', seq: T0 }, { id: '0011223344556677', seq: 1 }] },
  { type: 'bdigest', mask: new Uint8Array(8), entries: [] },
  { type: 'have', entries: [{ id: 'fc11223344556677', seq: T0 }, { id: '0011223344556677', seq: 2 ** 53 - 1 }] },
  { type: 'have', entries: [] },
];

test('gossip control messages: each type survives encode → decode → encode', () => {
  for (const m of controls) {
    const b = encodeControl(m);
    const back = decodeControl(b);
    assert.equal(back, m);
    assert.equal(encodeControl(back), b);
  }
});

const inviteCodes = [
  { networkId: networkId(mesh.network.params.networkPub), secret: rnd(16), endpoints: [{ host: '192.0.2.1', port: 51820 }] },
  { networkId: rnd(12), secret: rnd(16), endpoints: [{ host: '2001:db8::1', port: 7 }, { host: '10.0.0.1', port: 65535 }, { host: '::1', port: 1 }, { host: '1.2.3.4', port: 2 }] },
];

test('invite codes: survive text encoding, in any case and with stray spaces', () => {
  for (const c of inviteCodes) {
    const text = encodeInvite(c);
    assert.equal(decodeInvite(text), c);
    assert.equal(decodeInvite(`  ${text.toUpperCase()}\n`), c);
    assert.is(encodeInvite(decodeInvite(text)), text);
  }
});

function joinSamples() {
  const who = makeIdentity(rnd);
  const secret = rnd(16);
  const k = inviteKeys(secret);
  const eph = rnd(32);
  const netId = networkId(mesh.network.params.networkPub);
  const request = buildJoinRequest({ networkId: netId, inviteId: k.id, invitePub: k.publicKey, ephemeralSecret: eph, nonce: rnd(24) },
    { name: 'bob', signPub: who.sign.publicKey, wgPub: who.wgPub }, who.sign);
  const record = encodeRecord(fullBody(1), member.chain, member.identity.sign).bytes;
  const ephPub = x25519Public(eph);
  const okReply = buildJoinReply({ ok: true, network: mesh.network.bytes, chain: member.chain, records: [record] }, ephPub, k.secretKey, rnd(24));
  const noReply = buildJoinReply({ ok: false, reason: 'no' }, ephPub, k.secretKey, rnd(24));
  return { who, secret, k, eph, ephPub, netId, request, record, okReply, noReply, refusal: buildJoinRefusal('go away'), recordFrame: buildJoinRecord(record) };
}
const J = joinSamples();

test('join frames: request, replies, refusal and record frame round-trip', () => {
  const outer = parseJoinRequestOuter(J.request);
  assert.equal(outer.networkId, J.netId);
  assert.equal(outer.inviteId, J.k.id);
  assert.equal(openJoinRequest(outer, J.k.secretKey), { name: 'bob', signPub: J.who.sign.publicKey, wgPub: J.who.wgPub });
  const ok = openJoinReply(J.okReply, J.k.publicKey, J.eph);
  assert.ok(ok.ok);
  if (ok.ok) {
    assert.equal(ok.network, mesh.network.bytes);
    assert.equal(ok.chain.map((c) => c.bytes), member.chain.map((c) => c.bytes));
    assert.equal(ok.records, [J.record]);
  }
  assert.equal(openJoinReply(J.noReply, J.k.publicKey, J.eph), { ok: false, reason: 'no' });
  assert.equal(openJoinReply(J.refusal, J.k.publicKey, J.eph), { ok: false, reason: 'go away' });
  assert.equal(parseJoinRecord(J.recordFrame), J.record);
  const framed = frameJoin(J.request);
  assert.is(new Reader(framed).u32(), J.request.length);
});

// ---- fuzz ----

const SIGNED = Math.max(20, Math.floor(FUZZ / 10));

test(`fuzz: certificate and chain decoders (${SIGNED})`, () => {
  fuzz('decodeCert', member.chain.map((c) => c.bytes), SIGNED, decodeCert);
  const w = new Writer();
  encodeChain(w, member.chain);
  fuzz('decodeChain', [w.finish()], SIGNED, (b) => decodeChain(new Reader(b)));
});

test(`fuzz: record decoder, with and without the signature check (${SIGNED} each)`, () => {
  const valid = [encodeRecord(fullBody(T0), member.chain, member.identity.sign).bytes, mesh.founder.chain[0]!.bytes.length ? encodeRecord({ ...fullBody(2), endpoints: [], services: [] }, mesh.founder.chain, mesh.founder.identity.sign).bytes : new Uint8Array()];
  fuzz('decodeRecord', valid, SIGNED, (b) => decodeRecord(b));
  fuzz('decodeRecord (unchecked)', valid, SIGNED, (b) => decodeRecord(b, false));
});

test(`fuzz: network parameters (${SIGNED})`, () => {
  fuzz('decodeNetwork', [mesh.network.bytes], SIGNED, decodeNetwork);
});

test(`fuzz: gossip control messages (${FUZZ})`, () => {
  fuzz('decodeControl', controls.map(encodeControl), FUZZ, decodeControl);
});

test(`fuzz: join frames, outside and inside the box (${FUZZ})`, () => {
  fuzz('parseJoinRequestOuter', [J.request], FUZZ, parseJoinRequestOuter);
  fuzz('parseJoinRecord', [J.recordFrame], FUZZ, parseJoinRecord);
  fuzz('openJoinReply', [J.okReply, J.noReply, J.refusal], SIGNED, (b) => openJoinReply(b, J.k.publicKey, J.eph));
  const outer = parseJoinRequestOuter(J.request);
  fuzz('openJoinRequest (outer fields)', [J.request], SIGNED, (b) => openJoinRequest({ ...outer, sealed: b }, J.k.secretKey));
  // Contents that authenticate but are malformed: sealed by a holder of the code.
  const innerRequest = new Writer().str8('bob').bytes(J.who.sign.publicKey).bytes(J.who.wgPub).bytes(rnd(64)).finish();
  fuzz('openJoinRequest (sealed contents)', [innerRequest], SIGNED, (inner) => {
    const nonce = rnd(24);
    return openJoinRequest({ ...outer, nonce, sealed: boxSeal(inner, nonce, J.k.publicKey, J.eph) }, J.k.secretKey);
  });
  const innerReply = new Writer().u8(1).vbytes(mesh.network.bytes);
  encodeChain(innerReply, member.chain);
  innerReply.u16(1).vbytes(J.record);
  fuzz('openJoinReply (sealed contents)', [innerReply.finish(), new Writer().u8(0).str8('why').finish()], SIGNED, (inner) => {
    const nonce = rnd(24);
    const frame = new Writer().u8(1).u8(2).bytes(nonce).bytes(boxSeal(inner, nonce, J.ephPub, J.k.secretKey)).finish();
    return openJoinReply(frame, J.k.publicKey, J.eph);
  });
});

test(`fuzz: invite codes throw only InviteCodeError (${FUZZ})`, () => {
  const texts = inviteCodes.map(encodeInvite);
  const alphabet = '0123456789abcdefghjkmnpqrstvwxyz-ilo u*';
  fuzz('decodeInvite', texts.map((t) => new TextEncoder().encode(t)), FUZZ, (b) => {
    // Half the time mutate the text, half the time re-encode mutated binary (valid CRC) so the body decoder is reached.
    if (rand() < 0.5) return decodeInvite(new TextDecoder().decode(b));
    const body = mutate(Uint8Array.from(b.subarray(0, 40)));
    let crc = 0xffff;
    for (const x of body) { crc ^= x << 8; for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff; }
    const bytes = new Writer().bytes(body).u16(crc).finish();
    return decodeInvite(`kith1-${toBase32(bytes).toLowerCase()}`);
  }, InviteCodeError);
  for (let i = 0; i < 200; i++) {
    const s = Array.from({ length: int(60) }, () => alphabet[int(alphabet.length)]).join('');
    try { decodeInvite(rand() < 0.5 ? `kith1-${s}` : s); } catch (e) { assert.instance(e, InviteCodeError, `"${s}": ${(e as Error).message}`); }
  }
});

test('remote bytes never throw across the core boundary: NodeCore.handleControl and admit', () => {
  const core = new NodeCore({
    network: mesh.network, chain: member.chain, signKeys: member.identity.sign, relay: true, configuredEndpoints: [], services: [],
    subnets: [], lastSeq: 0, nowMs: T0,
  });
  core.acceptRecord(encodeRecord({ ...fullBody(5), endpoints: [], services: [] }, mesh.founder.chain, mesh.founder.identity.sign).bytes, T0);
  const valid = [...controls.map(encodeControl), encodeControl({ type: 'records', records: [J.record] })];
  for (let i = 0; i < SIGNED * 2; i++) core.handleControl(fuzzInput(valid), '100.64.0.1', T0 + i);
  const invite = newInvite(J.secret, { name: null, admin: false, nowMs: T0, ttlMs: 3600_000 });
  const ctx = {
    network: mesh.network, chain: mesh.founder.chain, signKeys: mesh.founder.identity.sign, alloc: mesh.founder.alloc, invites: [invite],
    takenNames: new Set<string>(), memberKeys: new Set<string>(), records: [], nowMs: T0 + 1, nonce: rnd(24), certLifetimeMs: 0,
  };
  let refused = 0;
  for (let i = 0; i < SIGNED; i++) {
    const res = admit(ctx, fuzzInput([J.request]));
    if (res.refused) refused++;
    assert.ok(res.reply.length > 0);
  }
  assert.ok(refused > SIGNED / 2, `${refused} refusals`);
});

test.run();
