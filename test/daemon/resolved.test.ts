// systemd-resolved (src/daemon/resolved.ts), kithd in-process on the fake
// platform: where resolved runs, the outer interface gets the zone as a
// routing-only domain toward kithd's DNS server and no default route; where
// it does not (OpenWrt), nothing is run; a refusal is logged, what applied is
// reverted, and nothing throws; stop reverts the link.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeNet } from '../support/fake-platform.ts';
import { startKithd } from '../support/daemon.ts';
import { RESOLVED_SOCKET, ResolvedLink } from '../../src/daemon/resolved.ts';
import { makeLogger } from '../../src/daemon/log.ts';

const HUB = '198.18.0.1';
const OK = { code: 0, stdout: '', stderr: '' };
const resolvectl = (calls: string[][]) => calls.filter((c) => c[0] === 'resolvectl').map((c) => c.slice(1).join(' '));

test('kithd points the zone at its DNS server on the outer interface, and reverts it on stop', async () => {
  const host = new FakeNet().host('hub', [HUB]);
  host.fs.writeText(RESOLVED_SOCKET, '');
  host.proc.override = (argv) => (argv[0] === 'resolvectl' ? OK : null);
  const hub = await startKithd(host);
  assert.equal(resolvectl(host.proc.calls), [], 'not a member yet: no zone');
  await hub.call('init', { network: 'home', nodeName: 'hub', endpoint: `${HUB}:51820` });
  const ifname = hub.d.mesh!.spec.ifname;
  assert.equal(resolvectl(host.proc.calls), [`dns ${ifname} 100.64.0.1:5353`, `domain ${ifname} ~home.internal`, `default-route ${ifname} false`]);
  const before = host.proc.calls.length;
  await hub.d.stop();
  assert.equal(resolvectl(host.proc.calls.slice(before)), [`revert ${ifname}`]);
});

test('without systemd-resolved nothing is run', async () => {
  const host = new FakeNet().host('hub', [HUB]);
  const hub = await startKithd(host);
  await hub.call('init', { network: 'home', nodeName: 'hub', endpoint: `${HUB}:51820` });
  await hub.d.stop();
  assert.equal(resolvectl(host.proc.calls), []);
});

test('a refusal is logged once, what applied is reverted, and nothing throws; a renamed interface drops the old link', async () => {
  const host = new FakeNet().host('hub', [HUB]);
  host.fs.writeText(RESOLVED_SOCKET, '');
  const lines: string[] = [];
  const log = makeLogger({ ...host.platform, stdout: (line: string) => { lines.push(line); } }, 'info');
  let refuse = true;
  host.proc.override = (argv) => (argv[0] === 'resolvectl' && argv[1] === 'domain' && refuse ? { code: 1, stdout: '', stderr: 'Failed to set domain configuration: Access denied\n' } : argv[0] === 'resolvectl' ? OK : null);
  const link = new ResolvedLink(host.platform, log);
  assert.is(await link.link('kith0', '100.64.0.1', 5353, 'home.internal'), false);
  assert.is(await link.link('kith0', '100.64.0.1', 5353, 'home.internal'), false);
  assert.equal(resolvectl(host.proc.calls), ['dns kith0 100.64.0.1:5353', 'domain kith0 ~home.internal', 'revert kith0', 'dns kith0 100.64.0.1:5353', 'domain kith0 ~home.internal', 'revert kith0']);
  assert.is(lines.filter((l) => l.includes('does not send home.internal to kithd (resolvectl domain: Failed to set domain configuration: Access denied)')).length, 1, lines.join('\n'));
  refuse = false;
  const mark = host.proc.calls.length;
  assert.is(await link.link('kith0', '100.64.0.1', 5353, 'home.internal'), true);
  assert.is(await link.link('mesh0', '100.64.0.1', 5353, 'home.internal'), true);
  assert.equal(resolvectl(host.proc.calls.slice(mark)).filter((c) => !c.startsWith('d')), ['revert kith0']);
});

test.run();
