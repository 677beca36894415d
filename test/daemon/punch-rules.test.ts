// The punch opener's TTL rule on the host (src/daemon/punch-rules.ts), on the
// fake platform: the table holds exactly our initiations' TTL rule toward the
// peer's endpoint, a repeat with the same rule runs nothing, close removes it
// in both families and a later attempt installs it again; leftovers of this
// listen port (a kithd stopped mid-punch) go, another port's stay.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeNet } from '../support/fake-platform.ts';
import { PunchRules } from '../../src/daemon/punch-rules.ts';

test('open, repeat, close, open again; leftovers of this port only', async () => {
  const host = new FakeNet().host('home', ['198.18.1.2']);
  host.fs.writeText('/run/kith/.keep', '');
  const applied: string[] = [];
  host.proc.override = (argv) => {
    if (argv[0] === 'nft' && argv[1] === '-f') applied.push(host.fs.text(argv[2]!) ?? '');
    if (argv[0] === 'nft' && argv[1] === 'list') return { code: 0, stdout: 'table ip kithp_51820_aabbccdd\ntable ip kithp_51999_aabbccdd\ntable ip6 kithp_51820_11223344\n', stderr: '' };
    return null;
  };
  const nftCalls = () => host.proc.calls.filter((c) => c[0] === 'nft').map((c) => c.slice(1, 5).join(' '));
  const rules = new PunchRules(host.platform, '/run/kith', 51820);
  const peer = 'aabbccddeeff0011';
  await rules.open({ peer, host: '203.0.113.1', port: 51820, ttl: 2 });
  assert.is(applied.length, 1);
  assert.match(applied[0]!, /table ip kithp_51820_aabbccdd/);
  assert.match(applied[0]!, /ip daddr 203\.0\.113\.1 udp sport 51820 udp dport 51820 @th,64,8 1 ip ttl set 2/);
  assert.is(host.fs.text('/run/kith/kithp_51820_aabbccdd.nft'), null, 'the rule file does not stay');
  const before = nftCalls().length;
  await rules.open({ peer, host: '203.0.113.1', port: 51820, ttl: 2 });
  assert.is(nftCalls().length, before, 'the same rule again: nothing run');
  await rules.close(peer);
  assert.equal(nftCalls().slice(before), ['delete table ip kithp_51820_aabbccdd', 'delete table ip6 kithp_51820_aabbccdd']);
  await rules.open({ peer, host: '203.0.113.1', port: 51820, ttl: 3 });
  assert.is(applied.length, 2, 'after close, the next attempt installs it again');
  assert.match(applied[1]!, /ip ttl set 3/);
  const swap = nftCalls().length;
  await rules.open({ peer, host: '203.0.113.1', port: 51820, ttl: 4 });
  assert.equal(nftCalls().slice(swap).map((c) => c.split(' ')[0]), ['-f'], 'a changed rule is one nft -f, no delete before it');
  assert.ok(applied[2]!.startsWith('table ip kithp_51820_aabbccdd\ndelete table ip kithp_51820_aabbccdd\ntable ip kithp_51820_aabbccdd {'),
    `the file replaces the table in one transaction: ${applied[2]!.slice(0, 120)}`);
  const mark = nftCalls().length;
  await rules.clearLeftovers();
  assert.equal(nftCalls().slice(mark), ['list tables', 'delete table ip kithp_51820_aabbccdd', 'delete table ip6 kithp_51820_11223344'], 'another listen port\'s table stays');
});

test.run();
