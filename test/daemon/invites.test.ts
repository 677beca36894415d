// Withdrawing an invite (kith invite rm, ubus invite_rm), kithd in-process on
// the fake platform: a withdrawn code admits nobody; a used one, an unknown or
// ambiguous id and a malformed one get a one-line error and change nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeNet } from '../support/fake-platform.ts';
import { startKithd } from '../support/daemon.ts';
import { ApiCallError } from '../../src/cli/client.ts';

const HUB = '198.18.0.1';
type Listed = { id: string; name: string | null; usedBy: string | null }[];

async function refused(p: Promise<unknown>): Promise<ApiCallError> {
  try { await p; } catch (e) { assert.instance(e, ApiCallError); return e as ApiCallError; }
  throw new Error('accepted');
}

test('a withdrawn invite admits nobody; a used one cannot be withdrawn; bad ids change nothing', async () => {
  const net = new FakeNet();
  const hub = await startKithd(net.host('hub', [HUB]));
  const joiner = await startKithd(net.host('j', ['198.18.0.10']));
  const late = await startKithd(net.host('k', ['198.18.0.11']));
  await hub.call('init', { network: 'home', nodeName: 'hub', endpoint: `${HUB}:51820` });
  const lost = await hub.call('invite', { name: 'lost' }) as { code: string };
  const used = await hub.call('invite', { name: 'used' }) as { code: string };
  await joiner.call('join', { code: used.code, nodeName: 'used' });
  let list = await hub.call('invites') as Listed;
  const lostId = list.find((i) => i.name === 'lost')!.id;
  const usedId = list.find((i) => i.name === 'used')!.id;
  assert.is(list.find((i) => i.name === 'used')!.usedBy, 'used');

  const before = JSON.stringify(hub.onDisk());
  const e1 = await refused(hub.call('invite.rm', { id: usedId }));
  assert.equal([e1.code, e1.message], ['failed', `invite ${usedId} was used by "used": revoke the member instead (kith revoke used)`]);
  const e2 = await refused(hub.call('invite.rm', { id: 'not-hex' }));
  assert.is(e2.code, 'usage');
  const e3 = await refused(hub.call('invite.rm', { id: lostId.startsWith('ffff') ? '0000' : 'ffff' }));
  assert.is(e3.code, 'not-found');
  assert.is(JSON.stringify(hub.onDisk()), before, 'state.json unchanged by the refusals');
  for (const e of [e1, e2, e3]) assert.not.ok(e.message.includes('\n'), 'one line');

  list = await hub.call('invite.rm', { id: lostId.slice(0, 6) }) as Listed;
  assert.equal(list.map((i) => i.name), ['used'], 'withdrawn by a prefix of its id');
  const e4 = await refused(late.call('join', { code: lost.code, nodeName: 'late' }));
  assert.match(e4.message, /refused|not valid|unknown/i);
  assert.is(late.d.mesh, null, 'not a member');
  for (const x of [late, joiner, hub]) await x.d.stop();
});

test.run();
