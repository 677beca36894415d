// The join listener under abuse, kithd in-process on the fake platform: idle
// connections from many addresses do not lock an honest newcomer out, one
// address cannot hold more than its share, silent clients are cut after the
// header deadline, and a refusal a scanner can read names nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeNet, type FakeHost } from '../support/fake-platform.ts';
import { startKithd, type RunningKithd } from '../support/daemon.ts';
import { readFrame } from '../../src/daemon/frames.ts';
import { JOIN_REFUSED, MAX_JOIN_CONNECTIONS, MAX_JOIN_CONNECTIONS_PER_ADDRESS, JOIN_HEADER_TIMEOUT_MS, JOIN_TIMEOUT_MS, addressKey } from '../../src/daemon/join-listener.ts';
import { buildJoinRequest, frameJoin, openJoinReply } from '../../src/core/join.ts';
import { decodeInvite, inviteKeys, type InviteCode } from '../../src/core/invite.ts';
import { signKeysFromSeed } from '../../src/core/crypto.ts';
import type { Stream } from '../../src/platform/types.ts';

const HUB = '198.18.0.1';
const PORT = 51820;

async function hub(): Promise<{ net: FakeNet; hub: RunningKithd }> {
  const net = new FakeNet();
  const h = await startKithd(net.host('hub', [HUB]));
  await h.call('init', { network: 'home', nodeName: 'hub', endpoint: `${HUB}:${PORT}` });
  return { net, hub: h };
}

/** Resolves true once the other side closed the stream (read gives end of stream), within the test's patience. */
async function closedByServer(s: Stream): Promise<boolean> {
  const r = await Promise.race([s.read(), new Promise<'open'>((res) => setTimeout(() => res('open'), 200))]);
  return r === null;
}

/** One request frame to the join port from `from`, and the reply frame (or null when closed without one). */
async function rawJoin(from: FakeHost, frame: Uint8Array): Promise<Uint8Array | null> {
  const s = await from.platform.tcp.connect(HUB, PORT, 1000);
  try {
    await s.write(frameJoin(frame));
    return await readFrame(from.platform, s, 5000).catch(() => null);
  } finally {
    s.close();
  }
}

test('the per-address key drops the port and groups IPv6 by /64', () => {
  assert.is(addressKey('198.18.0.7:40001'), '198.18.0.7');
  assert.is(addressKey('::ffff:198.18.0.7:40001'), '198.18.0.7');
  assert.is(addressKey('2001:db8:1:2:aaaa::1:40001'), addressKey('2001:db8:1:2:bbbb::9:1234'));
  assert.is.not(addressKey('2001:db8:1:2::1:40001'), addressKey('2001:db8:1:3::1:40001'));
});

test('idle connections from many addresses do not block an honest join; one address holds at most its share', async () => {
  const { net, hub: h } = await hub();
  const jl = h.d.mesh!.joinListener!;
  // One address tries to take every slot: only its share stays open.
  const greedy = net.host('greedy', ['198.18.0.50']);
  const mine: Stream[] = [];
  for (let i = 0; i < MAX_JOIN_CONNECTIONS; i++) mine.push(await greedy.platform.tcp.connect(HUB, PORT, 1000));
  const closed = await Promise.all(mine.map(closedByServer));
  assert.is(closed.filter((c) => !c).length, MAX_JOIN_CONNECTIONS_PER_ADDRESS, `open from one address: ${closed.filter((c) => !c).length}`);
  assert.is(jl.stats.perAddress + jl.stats.rateLimited, MAX_JOIN_CONNECTIONS - MAX_JOIN_CONNECTIONS_PER_ADDRESS);
  assert.ok(jl.stats.perAddress > 0);
  // Idle connections from many addresses fill every slot (some send a header, then stall).
  const idle: Stream[] = [];
  for (let i = 0; i < MAX_JOIN_CONNECTIONS; i++) {
    const s = await net.host(`idle${i}`, [`198.18.0.${60 + i}`]).platform.tcp.connect(HUB, PORT, 1000);
    if (i % 2) await s.write(new Uint8Array([0, 0, 1, 0]));
    idle.push(s);
  }
  await new Promise((r) => setTimeout(r, 50));
  assert.is(jl.open, MAX_JOIN_CONNECTIONS, 'every slot is held');
  // An honest newcomer still gets in.
  const { code } = await h.call('invite', {}) as { code: string };
  const joiner = await startKithd(net.host('newcomer', ['198.18.0.9']));
  await joiner.call('join', { code, nodeName: 'newcomer' });
  assert.is(joiner.d.mesh?.netmap().self.ipv4, '100.64.0.2');
  assert.ok(jl.stats.evicted >= 1, 'an unfinished request made room');
  assert.is(jl.stats.admitted, 1);
  // Silent connections are cut at the header deadline, those stalled after a header at the request deadline.
  await net.clock.advance(JOIN_HEADER_TIMEOUT_MS);
  for (const s of [...mine, ...idle.filter((_, i) => i % 2 === 0)]) assert.ok(await closedByServer(s), 'a silent connection is closed after the header deadline');
  const stalled = idle.filter((_, i) => i % 2 === 1);
  const stillOpen = (await Promise.all(stalled.map(closedByServer))).filter((c) => !c).length;
  assert.ok(stillOpen > 0);
  assert.is(jl.open, stillOpen, 'only connections that sent a header are left');
  await net.clock.advance(JOIN_TIMEOUT_MS);
  for (const s of stalled) assert.ok(await closedByServer(s), 'a stalled request is closed at the request deadline');
  assert.is(jl.open, 0);
  await joiner.d.stop();
  await h.d.stop();
});

test('refusals a scanner can read carry no network name or reason; the log has it, keyed by address and rate limited', async () => {
  const { net, hub: h } = await hub();
  const { code } = await h.call('invite', {}) as { code: string };
  const inv = decodeInvite(code);
  const keys = inviteKeys(inv.secret);
  const scanner = net.host('scanner', ['198.18.0.77']);
  const rnd = scanner.platform.random;
  const sign = signKeysFromSeed(rnd(32));
  const request = (networkId: Uint8Array, inviteId: Uint8Array) => buildJoinRequest(
    { networkId, inviteId, invitePub: keys.publicKey, ephemeralSecret: rnd(32), nonce: rnd(24) },
    { name: 'probe', signPub: sign.publicKey, wgPub: rnd(32) }, sign);
  const frames = [
    request(rnd(12), keys.id), // another network
    request(inv.networkId, rnd(16)), // unknown invite
    new Uint8Array([1, 1, 2, 3]), // malformed
  ];
  for (const f of frames) {
    const reply = await rawJoin(scanner, f);
    assert.ok(reply, 'a refusal is sent');
    const text = new TextDecoder().decode(reply!);
    assert.not.match(text, /home/);
    const opened = openJoinReply(reply!, keys.publicKey, rnd(32));
    assert.equal(opened, { ok: false, reason: JOIN_REFUSED });
  }
  const lines = h.host.log.split('\n').filter((l) => l.includes('refused join from'));
  assert.is(lines.length, 1, `one line per address per window:\n${lines.join('\n')}`);
  assert.match(lines[0]!, /refused join from 198\.18\.0\.77: invite is for another network/);
  assert.not.match(h.host.log, /198\.18\.0\.77:\d/);
  // A code holder still reads why (sealed to the code): a used invite says so.
  const joiner = await startKithd(net.host('a', ['198.18.0.9']));
  await joiner.call('join', { code, nodeName: 'a' });
  const late = await startKithd(net.host('b', ['198.18.0.10']));
  try {
    await late.call('join', { code, nodeName: 'b' });
    assert.unreachable('a used invite admitted a second node');
  } catch (e) {
    assert.match(String(e), /already used/);
  }
  for (const x of [joiner, late, h]) await x.d.stop();
});

test('a member admitted but not yet gossiped keeps its keys, across a restart of the admitter', async () => {
  const { net, hub: h } = await hub();
  const codes: InviteCode[] = [];
  for (let i = 0; i < 3; i++) codes.push(decodeInvite((await h.call('invite', {}) as { code: string }).code));
  const client = net.host('client', ['198.18.0.30']);
  const rnd = client.platform.random;
  const first = signKeysFromSeed(rnd(32));
  const other = signKeysFromSeed(rnd(32));
  const wgA = rnd(32);
  const join = async (inv: InviteCode, sign: typeof first, wgPub: Uint8Array, name: string) => {
    const keys = inviteKeys(inv.secret);
    const eph = rnd(32);
    const frame = buildJoinRequest({ networkId: inv.networkId, inviteId: keys.id, invitePub: keys.publicKey, ephemeralSecret: eph, nonce: rnd(24) },
      { name, signPub: sign.publicKey, wgPub }, sign);
    const reply = await rawJoin(client, frame);
    assert.ok(reply, 'a reply');
    return openJoinReply(reply!, keys.publicKey, eph);
  };
  // Admitted, but its first record never arrives (it hangs up after the reply).
  const ok = await join(codes[0]!, first, wgA, 'first');
  assert.is(ok.ok, true);
  assert.is(h.d.mesh!.core.allRecords().length, 1, 'only the hub\'s own record is known');
  // Restart the admitter: what it must remember is on disk.
  await h.d.stop();
  const again = await startKithd(h.host);
  const stolen = await join(codes[1]!, other, wgA, 'second');
  assert.equal(stolen, { ok: false, reason: 'this WireGuard key belongs to another member' });
  const twice = await join(codes[2]!, first, rnd(32), 'third');
  assert.equal(twice, { ok: false, reason: 'this node is already a member' });
  const disk = again.onDisk().membership!;
  assert.equal(disk.invites.map((i) => i.usedBy), ['first', null, null], 'refusals leave their invites unused');
  await again.d.stop();
});

test.run();
