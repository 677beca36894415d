/// <reference types="node" />
// The daemon's port mapper on the fake platform: the gateway from `ip route`,
// a NAT-PMP gateway in memory, the endpoint handed to the mesh, renewal on the
// virtual clock, replies from elsewhere ignored, the delete on stop, and a
// gateway that answers nothing logged once however long it stays silent.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeNet, settle } from '../support/fake-platform.ts';
import { makeLogger } from '../../src/daemon/log.ts';
import { PortMapper } from '../../src/daemon/portmap.ts';
import { PORTMAP_SERVER_PORT } from '../../src/core/portmap.ts';
import type { Endpoint } from '../../src/core/record.ts';

const GW = '198.18.1.1';
const ME = '198.18.1.2';

function setup(answer: boolean) {
  const net = new FakeNet();
  const home = net.host('home', [ME]);
  const gw = net.host('gw', [GW]);
  home.proc.override = (argv) => {
    const cmd = argv.join(' ');
    if (cmd === 'ip -4 route show default') return { code: 0, stdout: `default via ${GW} dev lan proto static\n`, stderr: '' };
    if (cmd === `ip -4 route get ${GW}`) return { code: 0, stdout: `${GW} dev lan src ${ME} uid 0 \n    cache \n`, stderr: '' };
    return null;
  };
  const requests: string[] = [];
  return { net, home, gw, requests, async serve() {
    const s = await gw.platform.udp.bind(GW, PORTMAP_SERVER_PORT);
    s.onMessage((data, from) => {
      requests.push(Buffer.from(data).toString('hex'));
      if (!answer) return;
      // Epoch 16 s; the address 198.51.100.1; the map: our internal port to 54321 for 16 s.
      const reply = data[1] === 0 ? '00800000' + '00000010' + 'c6336401' : '00810000' + '00000010' + Buffer.from(data.slice(4, 6)).toString('hex') + 'd431' + '00000010';
      void s.send(Uint8Array.from(Buffer.from(reply, 'hex')), from);
    });
    return s;
  } };
}

test('a mapping from a NAT-PMP gateway: advertised, renewed, deleted on stop', async () => {
  const t = setup(true);
  await t.serve();
  const seen: (Endpoint | null)[] = [];
  const pm = new PortMapper(t.home.platform, makeLogger(t.home.platform), 51820, (e) => seen.push(e));
  await pm.start();
  await settle();
  assert.equal(seen, [{ kind: 'configured', host: '198.51.100.1', port: 54321 }]);
  const v = pm.view();
  assert.equal([v.state, v.protocol, v.external, v.gateway, v.expiresInSec], ['mapped', 'nat-pmp', '198.51.100.1:54321', GW, 16]);
  assert.equal(t.requests, ['0000', '00010000ca6cca6c00001c20']);
  await t.net.clock.advance(8_000);
  assert.equal(t.requests.slice(2), ['0000', '00010000ca6cd43100001c20'], 'renewed at half the granted 16 s, for the port held');
  assert.is(seen.length, 1, 'the same mapping again: the mesh is not told twice');
  // A datagram from the gateway's address but another port is no reply.
  const other = await t.gw.platform.udp.bind(GW, 5352);
  await other.send(Uint8Array.from(Buffer.from('00810000' + '00000020' + 'ca6c0001' + '000000ff', 'hex')), { address: ME, port: [...t.home.udp.keys()][0]! });
  await settle();
  assert.is(pm.view().external, '198.51.100.1:54321');
  await pm.stop();
  await settle();
  assert.is(t.requests.at(-1), '00010000ca6c000000000000', 'the delete: lifetime 0');
  assert.match(t.home.log, /portmap: mapping deleted on 198\.18\.1\.1/);
  await t.net.clock.advance(3600_000);
  assert.is(t.requests.at(-1), '00010000ca6c000000000000', 'nothing after stop');
});

test('a silent gateway: unavailable, logged once over hours, asked again between rounds', async () => {
  const t = setup(false);
  await t.serve();
  const seen: (Endpoint | null)[] = [];
  const pm = new PortMapper(t.home.platform, makeLogger(t.home.platform), 51820, (e) => seen.push(e));
  await pm.start();
  await t.net.clock.advance(10_000);
  assert.is(pm.view().state, 'unavailable');
  assert.match(pm.view().reason!, /neither NAT-PMP nor PCP/);
  await t.net.clock.advance(3 * 3600_000);
  const lines = t.home.log.split('\n').filter((l) => l.includes('portmap:'));
  assert.is(lines.length, 1, lines.join('\n'));
  // 12 datagrams a round (4 NAT-PMP tries of 2, 4 PCP): after 1 min, then every 10 min.
  assert.ok(t.requests.length > 16 && t.requests.length < 400, `${t.requests.length} requests in 3 h`);
  assert.equal(seen, [], 'no endpoint ever');
  await pm.stop();
});

test.run();
