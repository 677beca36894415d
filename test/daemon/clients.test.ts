// kithd in-process on the fake platform: plain WireGuard clients. Adding one
// persists it (never a private key), makes it a peer of the outer interface and
// puts its address in the record; bad input (no public endpoint, no client
// block, a full block, a member's key) is a one-line error that changes nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeNet } from '../support/fake-platform.ts';
import { startKithd } from '../support/daemon.ts';
import { ApiCallError } from '../../src/cli/client.ts';

const HUB = '198.18.0.1';

async function refused(p: Promise<unknown>): Promise<ApiCallError> {
  try { await p; } catch (e) { assert.instance(e, ApiCallError); return e as ApiCallError; }
  throw new Error('accepted');
}

test('a client: persisted without a private key, a peer of the outer interface, advertised; rm undoes all three', async () => {
  const host = new FakeNet().host('hub', [HUB]);
  const hub = await startKithd(host);
  await hub.call('init', { network: 'home', nodeName: 'hub', endpoint: `${HUB}:51820` });
  const r = await hub.call('client.add', { name: 'phone' }) as { address: string; privateKey?: string; publicKey: string; endpoint: string; dns: string; allowedIPs: string[] };
  assert.is(r.address, '100.66.0.16');
  assert.ok(r.privateKey, 'without a public key kithd makes the pair and answers the private key once');
  assert.is(r.endpoint, `${HUB}:51820`);
  assert.is(r.dns, '100.64.0.1');
  assert.equal(r.allowedIPs.length, 2);
  const disk = JSON.stringify(hub.onDisk());
  assert.ok(disk.includes(r.publicKey));
  assert.not.ok(disk.includes(r.privateKey!), 'the private key is not in state.json');
  assert.not.ok(host.log.includes(r.privateKey!), 'nor in the log');
  assert.equal(hub.d.mesh!.core.selfRecord.clients, ['100.66.0.16']);
  await hub.d.mesh!.settle();
  const wg = await hub.d.mesh!.applier.state(hub.d.mesh!.spec.ifname);
  assert.ok(wg.peers.some((p) => p.publicKey === r.publicKey && p.allowedIPs.includes('100.66.0.16/32')), 'a peer of the outer interface');
  const list = await hub.call('client.list') as { name: string; address: string; lastHandshakeSec: number | null }[];
  assert.equal(list.map((c) => [c.name, c.address, c.lastHandshakeSec]), [['phone', '100.66.0.16', null]]);
  await hub.call('client.rm', { name: 'phone' });
  await hub.d.mesh!.settle();
  assert.equal(hub.d.mesh!.core.selfRecord.clients ?? [], [], 'out of the record');
  assert.not.ok((await hub.d.mesh!.applier.state(hub.d.mesh!.spec.ifname)).peers.some((p) => p.publicKey === r.publicKey));
  assert.equal(hub.onDisk().clients, []);
  await hub.d.stop();
});

test('a client removed while the mesh is starting is gone from the record and the interface', async () => {
  const host = new FakeNet().host('hub', [HUB]);
  const first = await startKithd(host);
  await first.call('init', { network: 'home', nodeName: 'hub', endpoint: `${HUB}:51820` });
  const r = await first.call('client.add', { name: 'phone' }) as { publicKey: string };
  await first.d.stop();
  // A slow start: the removal arrives before the mesh is up, and its write lands after the mesh has published.
  host.proc.delayMs = 5;
  host.fs.fsyncDelayMs = 300;
  let meshUpWhenSent: boolean | null = null;
  const hub = await startKithd(host, {
    during: async (call, d) => { meshUpWhenSent = d.mesh !== null; await call('client.rm', { name: 'phone' }); },
  });
  assert.is(meshUpWhenSent, false, 'the removal was sent before the mesh was up');
  host.proc.delayMs = 0;
  host.fs.fsyncDelayMs = 0;
  await hub.d.mesh!.settle();
  assert.equal(hub.d.mesh!.core.selfRecord.clients ?? [], [], 'out of the record');
  assert.not.ok((await hub.d.mesh!.applier.state(hub.d.mesh!.spec.ifname)).peers.some((p) => p.publicKey === r.publicKey), 'not a peer');
  assert.equal(hub.onDisk().clients, []);
  await hub.d.stop();
});

test('bad input: one-line errors, nothing written', async () => {
  const host = new FakeNet().host('hub', [HUB]);
  const hub = await startKithd(host);
  await hub.call('init', { network: 'home', nodeName: 'hub' }); // no endpoint configured, none observed
  const before = JSON.stringify(hub.onDisk());
  const e1 = await refused(hub.call('client.add', { name: 'phone' }));
  assert.equal([e1.code, /no public endpoint/.test(e1.message), e1.message.includes('\n')], ['failed', true, false]);
  const e2 = await refused(hub.call('client.add', { name: '-x' }));
  assert.is(e2.code, 'usage');
  const e3 = await refused(hub.call('client.add', { name: 'phone', publicKey: 'not-a-key' }));
  assert.is(e3.code, 'usage');
  const e4 = await refused(hub.call('client.add', { name: 'phone', publicKey: hub.d.mesh!.spec.publicKey }));
  assert.is(e4.code, 'failed');
  const e5 = await refused(hub.call('client.rm', { name: 'nosuch' }));
  assert.is(e5.code, 'not-found');
  assert.is(JSON.stringify(hub.onDisk()), before, 'state.json unchanged');
  await hub.d.stop();
});

test('a /24 pool: no client block, said in one line; a full block: refused at 16', async () => {
  const host = new FakeNet().host('hub', [HUB]);
  const hub = await startKithd(host);
  await hub.call('init', { network: 'home', nodeName: 'hub', endpoint: `${HUB}:51820`, pool: '10.9.8.0/24' });
  const e = await refused(hub.call('client.add', { name: 'phone' }));
  assert.match(e.message, /no client block/);
  await hub.d.stop();

  const host2 = new FakeNet().host('hub', [HUB]);
  const hub2 = await startKithd(host2);
  await hub2.call('init', { network: 'home', nodeName: 'hub', endpoint: `${HUB}:51820` });
  for (let i = 0; i < 16; i++) await hub2.call('client.add', { name: `c${i}` });
  const full = await refused(hub2.call('client.add', { name: 'one-more' }));
  assert.match(full.message, /at most 16/);
  assert.is(hub2.d.mesh!.core.selfRecord.clients!.length, 16, 'the record carries all 16');
  await hub2.d.stop();
});

test.run();
