// Founding, invites and the join handshake, end to end in memory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { foundNetwork } from '../../src/core/found.ts';
import { signKeysFromSeed, x25519PrivateFromRandom, x25519Public } from '../../src/core/crypto.ts';
import { admit, newInvite, type AdmitContext } from '../../src/core/admit.ts';
import { decodeInvite, encodeInvite, inviteKeys } from '../../src/core/invite.ts';
import { buildJoinRequest, openJoinReply } from '../../src/core/join.ts';
import { decodeNetwork, networkId } from '../../src/core/network.ts';
import { verifyChain } from '../../src/core/cert.ts';
import { formatIPv4 } from '../../src/core/ip.ts';
import { toHex } from '../../src/core/bytes.ts';
import { seededBytes } from '../support/rand.ts';

const rnd = seededBytes(42);
const T0 = 1_700_000_000_000;

function identity() {
  const sign = signKeysFromSeed(rnd(32));
  const wgPriv = x25519PrivateFromRandom(rnd(32));
  return { sign, wgPriv, wgPub: x25519Public(wgPriv) };
}

function founded() {
  const me = identity();
  const f = foundNetwork({ name: 'Demo', nodeName: 'hub', nodeSignPub: me.sign.publicKey, nodeWgPub: me.wgPub, networkSeed: rnd(32), nowMs: T0 });
  return { me, f };
}

function ctx(f: ReturnType<typeof founded>['f'], me: ReturnType<typeof identity>, invites: AdmitContext['invites'], nowMs = T0 + 1000): AdmitContext {
  return { network: f.network, chain: f.chain, signKeys: me.sign, alloc: f.alloc, invites, takenNames: new Set(['hub']), memberKeys: new Set(), records: [], nowMs, nonce: rnd(24), certLifetimeMs: 0 };
}

function request(code: string, who: ReturnType<typeof identity>, name: string) {
  const c = decodeInvite(code);
  const k = inviteKeys(c.secret);
  const eph = rnd(32);
  const frame = buildJoinRequest({ networkId: c.networkId, inviteId: k.id, invitePub: k.publicKey, ephemeralSecret: eph, nonce: rnd(24) },
    { name, signPub: who.sign.publicKey, wgPub: who.wgPub }, who.sign);
  return { frame, open: (reply: Uint8Array) => openJoinReply(reply, k.publicKey, eph) };
}

test('founding yields a verifiable founder certificate and zone', () => {
  const { f } = founded();
  const net = decodeNetwork(f.network.bytes).params;
  assert.is(net.name, 'demo');
  assert.is(net.zone, 'demo.internal');
  assert.is(net.ula48[0], 0xfd);
  const leaf = verifyChain(f.chain, net, T0);
  assert.is(formatIPv4(leaf.ipv4), '100.64.0.1');
  assert.ok(leaf.admin);
});

test('a newcomer joins with a code, gets a distinct address and a verifiable chain', () => {
  const { me, f } = founded();
  const secret = rnd(16);
  const inv = newInvite(secret, { name: null, admin: false, nowMs: T0, ttlMs: 3600_000 });
  const code = encodeInvite({ networkId: networkId(f.network.params.networkPub), secret, endpoints: [{ host: '192.0.2.1', port: 51820 }] });
  assert.match(code, /^kith1-[0-9a-z-]+$/);
  const joiner = identity();
  const rq = request(code, joiner, 'home1');
  const res = admit(ctx(f, me, [inv]), rq.frame);
  assert.is(res.refused, null);
  assert.equal(res.admitted, { name: 'home1', ipv4: '100.64.0.2', admin: false, signPub: toHex(joiner.sign.publicKey), wgPub: toHex(joiner.wgPub) });
  const reply = rq.open(res.reply);
  assert.ok(reply.ok);
  if (!reply.ok) return;
  const leaf = verifyChain(reply.chain, decodeNetwork(reply.network).params, T0 + 2000);
  assert.is(leaf.name, 'home1');
  assert.equal(leaf.wgPub, joiner.wgPub);
});

test('used, expired, and other-network invites are refused with a reason', () => {
  const { me, f } = founded();
  const secret = rnd(16);
  const inv = newInvite(secret, { name: null, admin: false, nowMs: T0, ttlMs: 3600_000 });
  const code = encodeInvite({ networkId: networkId(f.network.params.networkPub), secret, endpoints: [{ host: '192.0.2.1', port: 51820 }] });
  const first = admit(ctx(f, me, [inv]), request(code, identity(), 'a').frame);
  assert.ok(first.invites);
  const again = request(code, identity(), 'b');
  const second = admit({ ...ctx(f, me, first.invites!), alloc: first.alloc! }, again.frame);
  assert.is(second.admitted, null);
  assert.match(second.refused!, /already used/);
  const rep = again.open(second.reply);
  assert.equal(rep, { ok: false, reason: 'invite already used (by "a")' });

  const late = request(code, identity(), 'c');
  const expired = admit(ctx(f, me, [inv], T0 + 3600_001), late.frame);
  assert.match(expired.refused!, /expired/);

  const other = founded();
  const foreign = encodeInvite({ networkId: networkId(other.f.network.params.networkPub), secret, endpoints: [{ host: '192.0.2.1', port: 51820 }] });
  const wrong = admit(ctx(f, me, [inv]), request(foreign, identity(), 'd').frame);
  assert.match(wrong.refused!, /another network/);
});

test('truncated and altered codes are caught by the checksum', () => {
  const { f } = founded();
  const code = encodeInvite({ networkId: networkId(f.network.params.networkPub), secret: rnd(16), endpoints: [{ host: '192.0.2.1', port: 51820 }] });
  assert.throws(() => decodeInvite(code.slice(0, -3)), /invalid invite code/);
  const i = code.length - 8;
  const altered = code.slice(0, i) + (code[i] === 'a' ? 'b' : 'a') + code.slice(i + 1);
  assert.throws(() => decodeInvite(altered), /checksum/);
  assert.throws(() => decodeInvite('hello'), /must start with/);
});

test.run();
