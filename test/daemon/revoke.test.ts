// kithd in-process on the fake platform: `revoke` over the local API. Bad
// input is one line and changes nothing on disk; a revocation is on disk
// before the mesh acts, reaches a member by gossip, and survives a restart,
// where the revoked node's cached record is refused and counted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeNet } from '../support/fake-platform.ts';
import { startKithd, type RunningKithd } from '../support/daemon.ts';
import { fromBase64, toBase64 } from '../../src/core/bytes.ts';
import { parseRevocation } from '../../src/core/revoke.ts';
import { RECORDS_FILE } from '../../src/daemon/state.ts';

const HUB = '198.18.0.1';

interface Status { revocations: number; dropped: Record<string, number>; peers: number }

async function street(): Promise<{ net: FakeNet; hub: RunningKithd; alpha: RunningKithd; beta: RunningKithd }> {
  const net = new FakeNet();
  const hub = await startKithd(net.host('hub', [HUB]));
  await hub.call('init', { network: 'home', nodeName: 'hub', endpoint: `${HUB}:51820` });
  const alpha = await startKithd(net.host('alpha', ['198.18.0.10']));
  const beta = await startKithd(net.host('beta', ['198.18.0.11']));
  for (const [j, name] of [[alpha, 'alpha'], [beta, 'beta']] as const) {
    const { code } = await hub.call('invite', { name }) as { code: string };
    await j.call('join', { code });
  }
  return { net, hub, alpha, beta };
}

/** Live sessions between two daemons, as WireGuard handshakes would report them. */
function session(net: FakeNet, a: RunningKithd, b: RunningKithd): void {
  const sec = Math.floor(net.clock.nowMs() / 1000);
  a.host.proc.handshake('kith0', b.d.mesh!.spec.publicKey, sec);
  b.host.proc.handshake('kith0', a.d.mesh!.spec.publicKey, sec);
}

const names = (k: RunningKithd) => k.d.mesh!.core.allRecords().map((r) => r.chain[0]!.name).sort();

test('bad input: missing, unknown, itself, the founder, a member it did not admit — one line each, state.json unchanged', async () => {
  const { net, hub, alpha, beta } = await street();
  session(net, hub, alpha);
  await net.clock.advance(5000);
  const cases: [RunningKithd, Record<string, unknown>, RegExp][] = [
    [hub, {}, /missing "node"/],
    [hub, { node: 'nobody' }, /no member "nobody"/],
    [hub, { node: 'hub' }, /cannot revoke itself/],
    [alpha, { node: 'hub' }, /founder/],
    [alpha, { node: 'beta' }, /only the founder, an admin, or the member that admitted "beta"/],
  ];
  for (const [k, params, re] of cases) {
    const before = JSON.stringify(k.onDisk());
    try {
      await k.call('revoke', params);
      assert.unreachable(`revoke ${JSON.stringify(params)} succeeded`);
    } catch (e) {
      assert.match(String((e as Error).message), re);
      assert.not.match(String((e as Error).message), /\n/);
    }
    assert.is(JSON.stringify(k.onDisk()), before, 'nothing written');
    assert.is(k.d.mesh!.core.revocations.size, 0);
  }
  for (const k of [hub, alpha, beta]) await k.d.stop();
});

test('revoke: a dry run names the node and changes nothing; the real one is on disk, drops the node, reaches a member and survives restarts', async () => {
  const { net, hub, alpha, beta } = await street();
  session(net, hub, alpha);
  await net.clock.advance(5000);
  assert.ok(names(alpha).includes('beta'), 'alpha knows beta by gossip');
  const dry = await hub.call('revoke', { node: 'beta', dryRun: true }) as { revoked: string; cutOff: string[]; dryRun: boolean };
  assert.equal(dry, { revoked: 'beta', id: beta.d.mesh!.core.selfId, cutOff: [], dryRun: true });
  assert.is(hub.onDisk().membership!.revocations, undefined, 'a dry run writes nothing');
  const betaRecord = hub.d.mesh!.core.nodeById(beta.d.mesh!.core.selfId)!.bytes;

  const r = await hub.call('revoke', { node: 'beta' }) as { revoked: string; dryRun: boolean };
  assert.is(r.dryRun, false);
  const saved = hub.onDisk().membership!.revocations ?? [];
  assert.is(saved.length, 1, 'on disk');
  assert.is(parseRevocation(fromBase64(saved[0]!)).targetId, beta.d.mesh!.core.selfId);
  assert.equal(names(hub), ['alpha', 'hub']);
  const st = await hub.call('status') as Status;
  assert.is(st.revocations, 1);
  assert.ok(st.dropped['revoked']! >= 1, 'the dropped record is counted');
  assert.match(hub.host.log, /revoked beta/);

  // alpha hears it by gossip, drops beta and persists the revocation too.
  session(net, hub, alpha);
  await net.clock.advance(3000);
  assert.equal(names(alpha), ['alpha', 'hub']);
  assert.is((alpha.onDisk().membership!.revocations ?? []).length, 1, 'alpha persisted it');
  assert.not.ok(alpha.d.mesh!.netmap().peers.some((p) => p.publicKey === beta.d.mesh!.spec.publicKey), 'alpha has no WireGuard peer for beta');

  // Restart both with beta's old record in their record caches: refused and counted, the revocation still held.
  for (const k of [hub, alpha]) {
    await k.d.stop();
    const file = `${k.d.runDir}/${RECORDS_FILE}`;
    const cached = JSON.parse(k.host.fs.text(file) ?? '[]') as string[];
    k.host.fs.writeText(file, JSON.stringify([...cached, toBase64(betaRecord)]));
    const again = await startKithd(k.host);
    const s = await again.call('status') as Status;
    assert.is(s.revocations, 1, `${k.host.name} restored the revocation`);
    assert.ok(s.dropped['revoked']! >= 1, `${k.host.name} counted the cached record`);
    assert.not.ok(names(again).includes('beta'), `${k.host.name} refused beta's record`);
    await again.d.stop();
  }
  await beta.d.stop();
});

test.run();
