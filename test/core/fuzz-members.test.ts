/// <reference types="node" />
// Fuzzing with members' keys: hostile content under valid signatures, which
// garbage and mutations of signed bytes never reach (they fail the signature).
// Records, control messages and join frames built field by field with huge
// counts, bad prefixes, duplicate endpoints, wrong lengths and names with odd
// bytes, then signed (or sealed) correctly. The core never throws and never
// fails (dropped.failed stays 0); every record is either taken or counted.
//   KITH_SEED=<n> KITH_FUZZ=<iterations> npx uvu -r tsx test/core 'fuzz-members\.test\.ts$'
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DecodeError, Writer } from '../../src/core/codec.ts';
import { encodeChain, issueCert, type Cert } from '../../src/core/cert.ts';
import { encodeRecord, type RecordBody } from '../../src/core/record.ts';
import { encodeControl } from '../../src/core/gossip.ts';
import { signDetached, boxSeal, x25519Public, type SignKeys } from '../../src/core/crypto.ts';
import { networkId } from '../../src/core/network.ts';
import { admit, newInvite, type AdmitContext } from '../../src/core/admit.ts';
import { inviteKeys } from '../../src/core/invite.ts';
import { openJoinReply } from '../../src/core/join.ts';
import { NodeCore } from '../../src/core/node.ts';
import { formatIPv4 } from '../../src/core/ip.ts';
import { concat, utf8Encode } from '../../src/core/bytes.ts';
import { mulberry32, seededBytes } from '../support/rand.ts';
import { foundMesh, issueMember, joinInMemory, makeIdentity } from '../support/mesh.ts';

const SEED = Number(process.env.KITH_SEED ?? 2468);
/** Signed inputs (a signature and a verification each). */
const FUZZ = Number(process.env.KITH_FUZZ ?? 150);
const T0 = 1_700_000_000_000;
const NOW = T0 + 60_000;

const rnd = seededBytes(SEED);
const rand = mulberry32(SEED);
const int = (n: number) => Math.floor(rand() * n);
const mesh = foundMesh(rnd, { name: 'fuzz', nowMs: T0 });
const admin = joinInMemory(rnd, mesh, mesh.founder, { name: 'admin', admin: true, nowMs: T0 + 1 }).member!;
const mallory = issueMember(rnd, mesh, 'mallory', T0 + 2);
const reproduce = `seed ${SEED}; reproduce: KITH_SEED=${SEED} npx uvu -r tsx test/core 'fuzz-members\\.test\\.ts$'`;

function target(): NodeCore {
  const f = mesh.founder;
  const core = new NodeCore({ network: mesh.network, chain: f.chain, signKeys: f.identity.sign, relay: true, configuredEndpoints: [], services: [], subnets: [], lastSeq: 0, nowMs: NOW });
  for (const m of [admin, mallory]) assert.ok(core.acceptRecord(encodeRecord({ ...EMPTY, seq: T0 + 10 }, m.chain, m.identity.sign).bytes, NOW));
  return core;
}

const EMPTY: RecordBody = { seq: T0 + 10, endpoints: [], links: [], subnets: [], relay: true, exitCapacityMbit: 0, services: [] };

/** A record whose body is written field by field by `body`, signed by `keys` over everything: a valid signature on any content. */
function signedRaw(chain: Cert[], keys: SignKeys, seq: number, body: (w: Writer) => void): Uint8Array {
  const w = new Writer().u8(1);
  encodeChain(w, chain);
  w.u64(seq);
  body(w);
  const unsigned = w.finish();
  return concat(unsigned, signDetached(unsigned, keys.secretKey));
}

const v4 = (w: Writer, a: number) => w.u8(4).u32(a);
/** The regular tail after endpoints: no links, subnets, flags, exit, services. */
const tail = (w: Writer) => w.u8(0).u8(0).u8(1).u16(0).u8(0);

const totalDrops = (c: NodeCore) => Object.values(c.dropped).reduce((a, b) => a + b, 0);

/** Offers a record to the core directly and through a RECORDS message from mallory (each refusal counts twice): never throws, taken or counted. */
function offer(core: NodeCore, bytes: Uint8Array, what: string): boolean {
  const before = totalDrops(core);
  let taken: boolean;
  try {
    taken = core.acceptRecord(bytes, NOW);
    core.handleControl(encodeControl({ type: 'records', records: [bytes] }), formatIPv4(mallory.chain[0]!.ipv4), NOW);
    core.netmap();
  } catch (e) {
    throw new Error(`${what}: threw ${(e as Error).message} (${reproduce})`);
  }
  assert.ok(taken || totalDrops(core) > before, `${what}: neither taken nor counted`);
  assert.is(core.dropped.failed, 0, `${what}: the core failed on it (${reproduce})`);
  return taken;
}

test('records signed by a member with hostile content: refused and counted, or harmless', () => {
  const core = target();
  const m = mallory;
  let seq = T0 + 100;
  const raw = (body: (w: Writer) => void) => signedRaw(m.chain, m.identity.sign, seq++, body);
  const malformed = (what: string, bytes: Uint8Array) => {
    const n = core.dropped.malformed;
    assert.not.ok(offer(core, bytes, what), `${what}: refused`);
    assert.ok(core.dropped.malformed > n, `${what}: counted as malformed`);
  };
  malformed('255 endpoints claimed', raw((w) => { w.u8(255); v4(w.u8(1), 0xc0000201).u16(51820); tail(w); }));
  malformed('65 links', raw((w) => { w.u8(0).u8(65); for (let i = 0; i < 65; i++) w.bytes(rnd(8)).u16(1); w.u8(0).u8(1).u16(0).u8(0); }));
  malformed('endpoint of family 5', raw((w) => { w.u8(1).u8(1).u8(5).u32(1).u16(1); tail(w); }));
  malformed('endpoint port 0', raw((w) => { v4(w.u8(1).u8(1), 0xc0000201).u16(0); tail(w); }));
  malformed('IPv4 subnet /33', raw((w) => { w.u8(0).u8(0).u8(1); v4(w, 0x0a000000).u8(33); w.u8(1).u16(0).u8(0); }));
  malformed('IPv6 subnet /129', raw((w) => { w.u8(0).u8(0).u8(1).u8(6).bytes(rnd(16)).u8(129); w.u8(1).u16(0).u8(0); }));
  malformed('17 subnets', raw((w) => { w.u8(0).u8(0).u8(17); for (let i = 0; i < 17; i++) v4(w, i << 8).u8(24); w.u8(1).u16(0).u8(0); }));
  const o = core.dropped.oversize;
  assert.not.ok(offer(core, raw((w) => { w.u8(0).u8(0).u8(200); for (let i = 0; i < 200; i++) v4(w, i << 8).u8(24); w.u8(1).u16(0).u8(0); }), '200 subnets'));
  assert.is(core.dropped.oversize, o + 2, 'past MAX_RECORD_BYTES: refused by size before anything else');
  malformed('truncated: subnet count without subnets', raw((w) => { w.u8(0).u8(0).u8(3); }));
  malformed('trailing bytes before the signature', raw((w) => { w.u8(0); tail(w); w.bytes(rnd(5)); }));
  for (const name of ['a\u0000b', 'ÿ', '..', '', 'A', '-x', 'x'.repeat(64), '\ufffd', 'a b']) {
    malformed(`service name ${JSON.stringify(name)}`, raw((w) => { w.u8(0).u8(0).u8(0).u8(1).u16(0).u8(1).str8(name).u16(80).u8(6).str8(''); }));
  }
  malformed('service protocol 1', raw((w) => { w.u8(0).u8(0).u8(0).u8(1).u16(0).u8(1).str8('web').u16(80).u8(1).str8(''); }));
  malformed('service count 255 with one service', raw((w) => { w.u8(0).u8(0).u8(0).u8(1).u16(0).u8(255).str8('web').u16(80).u8(6).str8(''); }));
  // A certificate whose name has odd bytes, issued by a real admitter: the chain does not decode.
  for (const name of ['mal\u0000lory', 'MALLORY', 'émile', 'a.b', ' ']) {
    const id = makeIdentity(rnd);
    const cert = issueCert({
      networkId: networkId(mesh.network.params.networkPub), name, signPub: id.sign.publicKey, wgPub: id.wgPub, ipv4: admin.chain[0]!.pool!.base + 7,
      admin: false, pool: null, issuedAtMs: T0 + 5, expiresAtMs: 0, issuerPub: admin.identity.sign.publicKey,
    }, admin.identity.sign);
    malformed(`certificate name ${JSON.stringify(name)}`, signedRaw([cert, ...admin.chain], id.sign, seq++, (w) => { w.u8(0); tail(w); }));
  }
  // Harmless when well formed: duplicate endpoints, links to itself, to strangers and 64 times to one peer, an odd exit offer.
  assert.ok(offer(core, raw((w) => { w.u8(8); for (let i = 0; i < 8; i++) v4(w.u8(3), 0xc0000205).u16(51820); tail(w); }), 'duplicate endpoints'));
  assert.ok(offer(core, raw((w) => { w.u8(0).u8(64); for (let i = 0; i < 64; i++) w.bytes(i % 2 ? Uint8Array.from(Buffer.from(mallory.id, 'hex')) : Uint8Array.from(Buffer.from(mesh.founder.id, 'hex'))).u16(i); w.u8(0).u8(255).u16(65535).u8(0); }), 'self and repeated links'));
  // Prefixes a member may not take are for the route checks to refuse; here they must only not hurt.
  for (const s of [[0, 0], [0x0a010203, 8], [0x64400000, 10], [0xffffffff, 32]] as const) {
    offer(core, raw((w) => { w.u8(0).u8(0).u8(1); v4(w, s[0]).u8(s[1]); w.u8(1).u16(0).u8(0); }), `subnet ${formatIPv4(s[0])}/${s[1]}`);
  }
  // A record dated in the distant past is a departed member's: refused before the signature check
  // (for a member already known it is stale first).
  const d = core.dropped.departed;
  const ghost = issueMember(rnd, mesh, 'ghost', T0 + 3);
  assert.not.ok(offer(core, signedRaw(ghost.chain, ghost.identity.sign, 1, (w) => { w.u8(0); tail(w); }), 'seq 1'));
  assert.is(core.dropped.departed, d + 2);
  // Signed by mallory, carrying the admin's certificate: a bad signature, whatever the content.
  const b = core.dropped.badSignature;
  assert.not.ok(offer(core, signedRaw(admin.chain, m.identity.sign, seq++, (w) => { w.u8(0); tail(w); }), 'another member\'s chain'));
  assert.is(core.dropped.badSignature + core.dropped.knownBad, b + 2, 'checked once, then remembered');
  // The newest harmless record holds: nothing hostile replaced it.
  assert.ok(core.nodeById(mallory.id));
});

/** A mutation of the body only: the chain stays valid, the member signs whatever comes out. */
function mutateBody(b: Uint8Array, from: number): Uint8Array {
  const out = [...b];
  for (let e = 0, n = 1 + int(3); e < n; e++) {
    const at = from + int(out.length - from + 1);
    switch (int(5)) {
      case 0: if (at < out.length) out[at]! ^= 1 << int(8); break;
      case 1: if (at < out.length) out[at] = [0, 255, 1, 4, 6, 64, 0x80][int(7)]!; break;
      case 2: out.splice(at, 0, ...rnd(1 + int(12))); break;
      case 3: out.splice(at, 1 + int(6)); break;
      default: out.length = Math.max(from, at);
    }
  }
  return Uint8Array.from(out);
}

test(`fuzz: member-signed mutations of full records (${FUZZ}): never a throw, taken or counted`, () => {
  const core = target();
  const body: RecordBody = {
    seq: 0, relay: true, exitCapacityMbit: 10,
    endpoints: [{ kind: 'configured', host: '192.0.2.9', port: 51820 }, { kind: 'public', host: '2001:db8::9', port: 51820 }, { kind: 'lan', host: '198.18.0.9', port: 51820 }],
    links: [{ peer: mesh.founder.id, rttMs: 20 }, { peer: admin.id, rttMs: 30 }],
    subnets: ['198.18.9.0/24', 'fd00:9::/64'],
    services: [{ name: 'web', port: 80, proto: 'tcp', type: 'http' }, { name: 'ntp', port: 123, proto: 'udp', type: '' }],
  };
  const w = new Writer().u8(1);
  encodeChain(w, mallory.chain);
  const chainEnd = w.length;
  let taken = 0;
  for (let i = 0; i < FUZZ; i++) {
    const seq = NOW - 1000 + i;
    const valid = encodeRecord({ ...body, seq }, mallory.chain, mallory.identity.sign).bytes;
    const unsigned = mutateBody(valid.subarray(0, valid.length - 64), chainEnd + 8);
    const bytes = concat(unsigned, signDetached(unsigned, mallory.identity.sign.secretKey));
    if (offer(core, bytes, `mutation ${i}`)) taken++;
  }
  assert.ok(taken < FUZZ, `${taken} of ${FUZZ} taken: the mutations must reach the checks`);
});

test('control messages from a member with hostile content: no throw, no failure, bounded answers', () => {
  const core = target();
  const from = formatIPv4(mallory.chain[0]!.ipv4);
  const send = (bytes: Uint8Array, what: string) => {
    let out;
    try {
      out = core.handleControl(bytes, from, NOW);
    } catch (e) {
      throw new Error(`${what}: threw ${(e as Error).message}`);
    }
    assert.is(core.dropped.failed, 0, what);
    return out;
  };
  const m0 = core.dropped.malformed;
  send(new Writer().u8(1).u8(1).u16(65535).bytes(rnd(16)).finish(), 'digest claiming 65535 entries');
  send(new Writer().u8(1).u8(2).u8(200).finish(), 'records claiming 200');
  send(new Writer().u8(1).u8(9).u8(9).finish(), 'cert chain of 9');
  send(new Writer().u8(1).u8(9).u8(0).finish(), 'cert chain of 0');
  send(new Writer().u8(1).u8(8).u8(0).finish(), 'renew with a body');
  send(new Writer().u8(1).u8(6).u8(6).bytes(rnd(15)).finish(), 'observed, short IPv6');
  assert.is(core.dropped.malformed, m0 + 6);
  // Digest of 80 unknown ids at the largest seq: one WANT back, within the limits.
  const digest = send(encodeControl({ type: 'digest', entries: Array.from({ length: 80 }, () => ({ id: Buffer.from(rnd(8)).toString('hex'), seq: 2 ** 53 - 1 })) }), 'digest of strangers');
  assert.is(digest.length, 1);
  // WANT naming one record 255 times: answered once, not 255 times.
  const want = send(encodeControl({ type: 'want', ids: Array.from({ length: 255 }, () => mesh.founder.id) }), 'want, one id repeated');
  assert.is(want.length, 1);
  assert.ok(want.every((a) => a.type === 'send' && a.bytes.length <= 8192));
  // A CERT nobody asked for, and a RENEW for a certificate that never expires: ignored.
  assert.equal(send(encodeControl({ type: 'cert', chain: [rnd(200)] }), 'unsolicited cert'), []);
  assert.equal(send(encodeControl({ type: 'renew' }), 'renew of a lifelong certificate'), []);
  assert.equal(send(encodeControl({ type: 'pong', nonce: 7, sentMs: 2 ** 53 - 1 }), 'pong never pinged'), []);
  send(encodeControl({ type: 'punch', attempt: 255, host: '::', port: 65535 }), 'punch to ::');
  send(encodeControl({ type: 'observed', host: '255.255.255.255', port: 1 }), 'observed broadcast');
  // Mutations of valid messages that carry member-signed hostile records.
  const hostile = signedRaw(mallory.chain, mallory.identity.sign, NOW, (w) => { w.u8(8); for (let i = 0; i < 8; i++) v4(w.u8(2), 0xffffffff).u16(65535); tail(w); });
  const valid = [
    encodeControl({ type: 'records', records: [hostile, hostile, hostile, hostile] }),
    encodeControl({ type: 'digest', entries: [{ id: mesh.founder.id, seq: 1 }, { id: mallory.id, seq: NOW + 1 }] }),
    encodeControl({ type: 'cert', chain: mallory.chain.map((c) => c.bytes) }),
    encodeControl({ type: 'want', ids: [mesh.founder.id, admin.id] }),
    encodeControl({ type: 'summary', count: 3, hash: rnd(8), revCount: 1, revHash: rnd(8) }),
    encodeControl({ type: 'buckets', hashes: Array.from({ length: 64 }, () => int(2 ** 32)) }),
    encodeControl({ type: 'bdigest', mask: new Uint8Array(8).fill(0xff), entries: [{ id: mesh.founder.id, seq: 1 }, { id: mallory.id, seq: NOW + 1 }] }),
  ];
  for (let i = 0; i < FUZZ; i++) {
    const b = valid[int(valid.length)]!;
    const bytes = mutateBody(b, 2);
    send(bytes, `control mutation ${i}`);
  }
  core.netmap();
});

test('join frames with hostile content, sealed correctly: admit refuses without spending the invite; the joiner throws only DecodeError', () => {
  const secret = rnd(16);
  const k = inviteKeys(secret);
  const invite = newInvite(secret, { name: null, admin: false, nowMs: T0, ttlMs: 3600_000 });
  const ctx: AdmitContext = {
    network: mesh.network, chain: mesh.founder.chain, signKeys: mesh.founder.identity.sign, alloc: mesh.founder.alloc, invites: [invite],
    takenNames: new Set(['hub']), memberKeys: new Set(), records: [], nowMs: T0 + 5, nonce: rnd(24), certLifetimeMs: 0,
  };
  /** A request sealed to the invite; `inner` gets the ephemeral key, so a name can be signed over it correctly. */
  const request = (inner: (ephPub: Uint8Array) => Uint8Array) => {
    const eph = rnd(32);
    const nonce = rnd(24);
    const ephPub = x25519Public(eph);
    return new Writer().u8(1).u8(1).bytes(networkId(mesh.network.params.networkPub)).bytes(k.id).bytes(ephPub).bytes(nonce)
      .vbytes(boxSeal(inner(ephPub), nonce, k.publicKey, eph)).finish();
  };
  const who = makeIdentity(rnd);
  const signedInner = (name: string, extra: Uint8Array = new Uint8Array(0)) => (ephPub: Uint8Array) => {
    const sig = signDetached(concat(utf8Encode('kith join'), ephPub, k.id, utf8Encode(name), who.wgPub), who.sign.secretKey);
    return new Writer().str8(name).bytes(who.sign.publicKey).bytes(who.wgPub).bytes(sig).bytes(extra).finish();
  };
  const cases: [string, (ephPub: Uint8Array) => Uint8Array][] = [
    ['name with a NUL', signedInner('a\u0000b')],
    ['255-byte name', signedInner('x'.repeat(255))],
    ['empty name', signedInner('')],
    ['trailing bytes', signedInner('ok', rnd(9))],
    ['truncated keys', () => new Writer().str8('ok').bytes(rnd(40)).finish()],
    ['nothing', () => new Uint8Array(0)],
  ];
  for (const [what, inner] of cases) {
    const res = admit(ctx, request(inner));
    assert.ok(res.refused, `${what}: refused`);
    assert.is(res.invites, null, `${what}: the invite is not spent`);
    assert.is(res.admitted, null);
    if (what.includes('name')) assert.match(res.refused!, /invalid node name/, `${what}: the signature held, the name did not`);
  }
  assert.ok(admit(ctx, request(signedInner('fine'))).admitted, 'the same request with a good name is admitted');
  // Replies from a holder of the code (who could be anyone who saw it): hostile counts and lengths.
  const eph = rnd(32);
  const ephPub = x25519Public(eph);
  const reply = (inner: Uint8Array) => {
    const nonce = rnd(24);
    return new Writer().u8(1).u8(2).bytes(nonce).bytes(boxSeal(inner, nonce, ephPub, k.secretKey)).finish();
  };
  const chainW = (n: number) => { const w = new Writer().u8(1).vbytes(mesh.network.bytes).u8(n); for (let i = 0; i < Math.min(n, 5); i++) w.vbytes(mallory.chain[0]!.bytes); return w; };
  const hostile: [string, Uint8Array][] = [
    ['65535 records claimed', chainW(1).u16(65535).finish()],
    ['1001 records', (() => { const w = chainW(1).u16(1001); for (let i = 0; i < 1001; i++) w.vbytes(new Uint8Array(1)); return w.finish(); })()],
    ['chain of 5', chainW(5).u16(0).finish()],
    ['chain of 0', chainW(0).u16(0).finish()],
    ['record length past the end', chainW(1).u16(1).u16(60000).finish()],
    ['certificate with trailing bytes', new Writer().u8(1).vbytes(mesh.network.bytes).u8(1).vbytes(concat(mallory.chain[0]!.bytes, rnd(3))).u16(0).finish()],
    ['reason of 255 odd bytes', new Writer().u8(0).u8(255).bytes(rnd(255)).finish()],
  ];
  for (const [what, inner] of hostile) {
    try {
      const r = openJoinReply(reply(inner), k.publicKey, eph);
      assert.ok(what.startsWith('reason'), `${what}: accepted`);
      assert.not.ok(r.ok);
    } catch (e) {
      assert.instance(e, DecodeError, `${what}: ${(e as Error).message}`);
    }
  }
});

test.run();
