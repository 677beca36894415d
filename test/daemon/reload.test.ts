// kithd in-process on the fake platform: a reload that cannot start the new
// interface keeps the running mesh, and what a member or a failing command
// causes is logged, never thrown out of kithd.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeNet } from '../support/fake-platform.ts';
import { startKithd } from '../support/daemon.ts';

const HUB = '198.18.0.1';
const config = (ifname: string) => `config kith 'main'\n\toption ifname '${ifname}'\n\toption listen_port '51820'\n`;

test('a reload whose new interface cannot be created keeps the running mesh on the old one', async () => {
  const net = new FakeNet();
  const host = net.host('hub', [HUB]);
  const hub = await startKithd(host, { configText: config('kith0') });
  await hub.call('init', { network: 'home', nodeName: 'hub', endpoint: `${HUB}:51820` });
  assert.ok(hub.d.mesh, 'a member runs a mesh');
  host.proc.kernelWireguard = false; // and no wireguard-go either: the new interface cannot be had
  host.proc.override = (argv) => (argv[0] === 'wireguard-go' ? { code: 1, stdout: '', stderr: 'wireguard-go: not found' } : null);
  host.fs.writeText('/etc/config/kith', config('kith9'));
  await hub.d.reload();
  assert.ok(hub.d.mesh, 'a mesh is still running');
  assert.is(hub.d.mesh!.spec.ifname, 'kith0', 'on the interface it had');
  assert.is(hub.d.settings.ifname, 'kith0', 'and the running configuration is the old one');
  assert.match(host.log, /reload: cannot start on kith9 port 51820: .*keeping the running configuration/);
  const st = await hub.call('status', {}) as { node: { ifname: string } };
  assert.is(st.node.ifname, 'kith0', 'status still answers, for the old interface');
  await hub.d.stop();
});

test('a reload to a new interface that works moves the mesh and removes the old interfaces', async () => {
  const net = new FakeNet();
  const host = net.host('hub', [HUB]);
  const hub = await startKithd(host, { configText: config('kith0') });
  await hub.call('init', { network: 'home', nodeName: 'hub', endpoint: `${HUB}:51820` });
  assert.ok(host.proc.ifaces.has('kith0') && host.proc.ifaces.has('kith0e'), 'outer and end-to-end interfaces exist');
  host.fs.writeText('/etc/config/kith', config('kith9'));
  await hub.d.reload();
  assert.is(hub.d.mesh!.spec.ifname, 'kith9');
  assert.ok(host.proc.ifaces.has('kith9') && host.proc.ifaces.has('kith9e'));
  assert.not.ok(host.proc.ifaces.has('kith0') || host.proc.ifaces.has('kith0e'), 'the old interfaces are gone');
  await hub.d.stop();
});

test.run();
