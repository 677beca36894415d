// kithd in-process on the fake platform: concurrent joins and lost updates.
// Admission runs inside one StateStore.update, so joins racing on one code
// admit one node, joins on two codes get two addresses, and a command that
// changes the state never loses what another one wrote.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeNet } from '../support/fake-platform.ts';
import { startKithd, type RunningKithd } from '../support/daemon.ts';

const HUB = '198.18.0.1';

async function hubWithJoiners(n: number, fsyncDelayMs: number): Promise<{ net: FakeNet; hub: RunningKithd; joiners: RunningKithd[] }> {
  const net = new FakeNet();
  const hub = await startKithd(net.host('hub', [HUB]));
  await hub.call('init', { network: 'home', nodeName: 'hub', endpoint: `${HUB}:51820` });
  const joiners: RunningKithd[] = [];
  for (let i = 0; i < n; i++) joiners.push(await startKithd(net.host(`j${i}`, [`198.18.0.${10 + i}`])));
  // A slow fsync keeps each admission's write in flight while the other requests arrive.
  for (const h of net.hosts) h.fs.fsyncDelayMs = fsyncDelayMs;
  return { net, hub, joiners };
}

async function stopAll(...ds: RunningKithd[]): Promise<void> {
  for (const x of ds) await x.d.stop();
}

test('four simultaneous joins with one code: exactly one is admitted', async () => {
  const { hub, joiners } = await hubWithJoiners(4, 15);
  const { code } = await hub.call('invite', {}) as { code: string };
  const results = await Promise.allSettled(joiners.map((j, i) => j.call('join', { code, nodeName: `node${i}` })));
  const ok = results.filter((r) => r.status === 'fulfilled');
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  assert.is(ok.length, 1, `admitted: ${ok.length}; ${refused.map((r) => String(r.reason)).join(' | ')}`);
  assert.is(refused.length, 3);
  for (const r of refused) assert.match(String(r.reason), /already used/);
  const disk = hub.onDisk();
  const inv = disk.membership!.invites;
  assert.is(inv.length, 1);
  assert.ok(inv[0]!.usedBy, 'the invite is marked used on disk');
  assert.is(disk.membership!.alloc.nextSingle, 3, 'one address allocated (100.64.0.2), not four');
  assert.is(hub.host.log.match(/admitted "/g)?.length, 1);
  const members = joiners.filter((j) => j.d.mesh);
  assert.is(members.length, 1);
  assert.is(members[0]!.d.mesh!.netmap().self.ipv4, '100.64.0.2');
  await stopAll(hub, ...joiners);
});

test('two simultaneous joins with different codes: two distinct addresses, both invites used', async () => {
  const { hub, joiners } = await hubWithJoiners(2, 15);
  const a = await hub.call('invite', {}) as { code: string };
  const b = await hub.call('invite', {}) as { code: string };
  const results = await Promise.allSettled([joiners[0]!.call('join', { code: a.code, nodeName: 'alpha' }), joiners[1]!.call('join', { code: b.code, nodeName: 'beta' })]);
  for (const r of results) assert.is(r.status, 'fulfilled', r.status === 'rejected' ? String(r.reason) : '');
  const ips = joiners.map((j) => j.d.mesh!.netmap().self.ipv4).sort();
  assert.equal(ips, ['100.64.0.2', '100.64.0.3']);
  const disk = hub.onDisk().membership!;
  assert.equal(disk.invites.map((i) => i.usedBy).sort(), ['alpha', 'beta']);
  assert.is(disk.alloc.nextSingle, 4);
  assert.ok((disk.admitted ?? []).some((x) => x.name === 'beta' || x.name === 'alpha'), 'admitted members are held until their records arrive');
  await stopAll(hub, ...joiners);
});

test('two simultaneous joins asking for one name: the second is refused, not given a duplicate', async () => {
  const { hub, joiners } = await hubWithJoiners(2, 15);
  const a = await hub.call('invite', {}) as { code: string };
  const b = await hub.call('invite', {}) as { code: string };
  const results = await Promise.allSettled([joiners[0]!.call('join', { code: a.code, nodeName: 'same' }), joiners[1]!.call('join', { code: b.code, nodeName: 'same' })]);
  assert.is(results.filter((r) => r.status === 'fulfilled').length, 1);
  const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  assert.match(String(refused?.reason), /name "same" is taken/);
  assert.is(hub.onDisk().membership!.invites.filter((i) => i.usedBy !== null).length, 1, 'the refused invite stays unused');
  await stopAll(hub, ...joiners);
});

test('service add then invite: state.json keeps the service and the invite', async () => {
  const net = new FakeNet();
  const hub = await startKithd(net.host('hub', [HUB]));
  await hub.call('init', { network: 'home', nodeName: 'hub', endpoint: `${HUB}:51820` });
  await hub.call('service.add', { name: 'web', port: 80 });
  await hub.call('invite', {});
  const disk = hub.onDisk();
  assert.equal(disk.services?.map((s) => s.name), ['web']);
  assert.is(disk.membership!.invites.length, 1);
  // And the other way round, with both in flight at once.
  await Promise.all([hub.call('invite', {}), hub.call('service.add', { name: 'ssh', port: 22 }), hub.call('invite', {})]);
  const after = hub.onDisk();
  assert.equal(after.services?.map((s) => s.name).sort(), ['ssh', 'web']);
  assert.is(after.membership!.invites.length, 3);
  assert.equal(hub.d.state, after, 'memory and disk agree');
  await hub.d.stop();
});

test('a failed state write fails the command and changes nothing, on disk or in memory', async () => {
  const net = new FakeNet();
  const hub = await startKithd(net.host('hub', [HUB]));
  await hub.call('init', { network: 'home', nodeName: 'hub', endpoint: `${HUB}:51820` });
  const before = hub.onDisk();
  hub.host.fs.failWrite = (p) => (p.endsWith('/state.json') ? new Error('ENOSPC: no space left on device') : null);
  try {
    await hub.call('service.add', { name: 'web', port: 80 });
    assert.unreachable('service.add succeeded although the write failed');
  } catch (e) {
    assert.match(String(e), /ENOSPC/);
  }
  assert.equal(hub.onDisk(), before);
  assert.equal(hub.d.state, before);
  assert.equal(await hub.call('service.list'), []);
  hub.host.fs.failWrite = null;
  await hub.call('service.add', { name: 'web', port: 80 });
  assert.equal(hub.onDisk().services?.map((s) => s.name), ['web']);
  await hub.d.stop();
});

test('an admission whose write fails sends no reply and spends nothing: the same code works afterwards', async () => {
  const { hub, joiners } = await hubWithJoiners(1, 0);
  const { code } = await hub.call('invite', {}) as { code: string };
  hub.host.fs.failWrite = (p) => (p.endsWith('/state.json') ? new Error('EIO: i/o error') : null);
  try {
    await joiners[0]!.call('join', { code, nodeName: 'alpha' });
    assert.unreachable('admitted although the admission was not saved');
  } catch (e) {
    assert.match(String(e), /join failed/);
  }
  assert.is(joiners[0]!.d.mesh, null);
  const disk = hub.onDisk().membership!;
  assert.is(disk.invites[0]!.usedBy, null);
  assert.is(disk.alloc.nextSingle, 2);
  assert.equal(hub.d.state, hub.onDisk());
  hub.host.fs.failWrite = null;
  await joiners[0]!.call('join', { code, nodeName: 'alpha' });
  assert.is(joiners[0]!.d.mesh!.netmap().self.ipv4, '100.64.0.2');
  assert.is(hub.onDisk().membership!.invites[0]!.usedBy, 'alpha');
  await stopAll(hub, ...joiners);
});

test.run();
