// The route applier against a scripted `ip`: Kith's own table behind the
// host's specific routes, rules added once, routes applied one by one.
//   issue reproduction (1): one failing `ip route replace` aborted the whole
//   apply, so every other route (and DNS) stayed stale.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Platform, ProcessResult } from '../../src/platform/types.ts';
import { RouteApplier, ROUTE_TABLE, RULE_PRIORITY, hostAddresses, parseRouteLine } from '../../src/wg/routes.ts';
import { MeshRoutes } from '../../src/daemon/routes.ts';
import type { Logger } from '../../src/daemon/log.ts';
import type { Netmap } from '../../src/core/netmap.ts';

/** A scripted `ip`: rules and routes per family and table; `failing` prefixes make `route replace` fail. */
class FakeIp {
  rules: Record<string, string[]> = { '-4': ['0:\tfrom all lookup local', '32766:\tfrom all lookup main', '32767:\tfrom all lookup default'], '-6': ['0:\tfrom all lookup local', '32766:\tfrom all lookup main'] };
  routes: { family: string; table: string; prefix: string; dev: string; proto: string }[] = [];
  failing = new Set<string>();
  refuseSuppress = false;
  calls: string[][] = [];

  readonly platform = { proc: { run: async (argv: string[]) => this.run(argv) } } as unknown as Platform;

  private run(argv: string[]): ProcessResult {
    this.calls.push(argv);
    const ok = (stdout = ''): ProcessResult => ({ code: 0, stdout, stderr: '' });
    const fail = (stderr: string): ProcessResult => ({ code: 2, stdout: '', stderr });
    const [cmd, fam, obj, verb, ...rest] = argv;
    if (cmd !== 'ip' || (fam !== '-4' && fam !== '-6')) return fail(`unexpected ${argv.join(' ')}`);
    const arg = (k: string) => rest[rest.indexOf(k) + 1]!;
    if (obj === 'rule' && verb === 'show') return ok(this.rules[fam]!.join('\n') + '\n');
    if (obj === 'rule' && verb === 'add') {
      if (rest.includes('suppress_prefixlength') && this.refuseSuppress) return fail('Error: argument "suppress_prefixlength" is wrong: Failed to parse rule type');
      const what = rest.includes('suppress_prefixlength') ? 'lookup main suppress_prefixlength 0' : `lookup ${arg('lookup')}`;
      this.rules[fam]!.push(`${arg('priority')}:\tfrom all ${what}`);
      return ok();
    }
    if (obj === 'route' && verb === 'show') {
      const lines = this.routes.filter((r) => r.family === fam && r.table === arg('table') && r.proto === arg('proto'))
        .map((r) => `${r.prefix.replace(/\/(32|128)$/, '')} dev ${r.dev} proto ${r.proto} scope link`);
      return ok(lines.join('\n') + (lines.length ? '\n' : ''));
    }
    const prefix = verb === 'replace' || verb === 'del' ? rest[0]! : '';
    if (obj === 'route' && verb === 'replace') {
      if (this.failing.has(prefix)) return fail(`Error: Invalid prefix for given prefix length.`);
      this.routes = this.routes.filter((r) => !(r.family === fam && r.table === arg('table') && r.prefix === prefix));
      this.routes.push({ family: fam, table: arg('table'), prefix, dev: arg('dev'), proto: arg('proto') });
      return ok();
    }
    if (obj === 'route' && verb === 'del') {
      const before = this.routes.length;
      this.routes = this.routes.filter((r) => !(r.family === fam && r.table === arg('table') && r.prefix === prefix && r.dev === arg('dev')));
      return before === this.routes.length ? fail('RTNETLINK answers: No such process') : ok();
    }
    return fail(`unexpected ${argv.join(' ')}`);
  }

  changes(): string[] { return this.calls.filter((c) => c[3] !== 'show').map((c) => c.join(' ')); }
}

const T = String(ROUTE_TABLE);

test('rules: main without its default route first, then Kith\'s table, both families; a second apply adds none', async () => {
  const ip = new FakeIp();
  const a = new RouteApplier(ip.platform);
  await a.apply(['kith0'], []);
  for (const fam of ['-4', '-6']) {
    assert.ok(ip.rules[fam]!.includes(`${RULE_PRIORITY}:\tfrom all lookup main suppress_prefixlength 0`), fam);
    assert.ok(ip.rules[fam]!.includes(`${RULE_PRIORITY + 1}:\tfrom all lookup ${T}`), fam);
  }
  const adds = ip.changes();
  assert.ok(adds.indexOf(`ip -4 rule add priority ${RULE_PRIORITY} lookup main suppress_prefixlength 0`) < adds.indexOf(`ip -4 rule add priority ${RULE_PRIORITY + 1} lookup ${T}`), 'the suppress rule goes in first');
  ip.calls = [];
  await a.apply(['kith0'], []);
  assert.equal(ip.changes(), [], 'nothing to do the second time');
  assert.equal(ip.calls.map((c) => c.join(' ')), [`ip -4 route show table ${T} proto 77`, `ip -6 route show table ${T} proto 77`], 'once the rules are in place, an apply only lists Kith\'s table');
  assert.ok(RULE_PRIORITY + 1 < 32766, 'both rules come before the main table\'s own rule');
});

test('one route that fails is reported; the others are applied, and a second apply retries only it', async () => {
  const ip = new FakeIp();
  ip.failing.add('198.18.2.0/24');
  const a = new RouteApplier(ip.platform);
  const want = [{ prefix: '198.18.1.0/24', dev: 'kith0' }, { prefix: '198.18.2.0/24', dev: 'kith0' }, { prefix: '198.18.3.7/32', dev: 'kith0' }, { prefix: '2001:db8:5::/48', dev: 'kith0' }];
  const r1 = await a.apply(['kith0'], want);
  assert.is(r1.failed.length, 1);
  assert.is(r1.failed[0]!.prefix, '198.18.2.0/24');
  assert.match(r1.failed[0]!.error, /route replace 198\.18\.2\.0\/24 .*Invalid prefix/);
  assert.equal(ip.routes.map((r) => [r.family, r.table, r.prefix]).sort(), [['-4', T, '198.18.1.0/24'], ['-4', T, '198.18.3.7/32'], ['-6', T, '2001:db8:5::/48']]);
  ip.calls = [];
  const r2 = await a.apply(['kith0'], want);
  assert.equal(ip.changes(), [`ip -4 route replace 198.18.2.0/24 dev kith0 table ${T} proto 77`], 'only the failed route is tried again (a /32 listed without its length counts as present)');
  assert.is(r2.failed.length, 1);
  ip.failing.clear();
  assert.is((await a.apply(['kith0'], want)).failed.length, 0);
  assert.is(ip.routes.length, 4);
});

test('routes no longer wanted go; routes of other devices in the table and the host\'s own routes are left alone', async () => {
  const ip = new FakeIp();
  ip.routes.push({ family: '-4', table: T, prefix: '198.18.9.0/24', dev: 'other0', proto: '77' });
  ip.routes.push({ family: '-4', table: 'main', prefix: '192.168.1.0/24', dev: 'br-lan', proto: 'kernel' });
  const a = new RouteApplier(ip.platform);
  await a.apply(['kith0'], [{ prefix: '198.18.1.0/24', dev: 'kith0' }, { prefix: '198.18.4.0/24', dev: 'kith0' }]);
  await a.apply(['kith0'], [{ prefix: '198.18.4.0/24', dev: 'kith0' }]);
  assert.equal(ip.routes.map((r) => `${r.table} ${r.prefix} ${r.dev}`).sort(), [`${T} 198.18.4.0/24 kith0`, `${T} 198.18.9.0/24 other0`, 'main 192.168.1.0/24 br-lan']);
});

test('routes an older kithd put in the main table (proto 77) are removed; the route moves to Kith\'s table', async () => {
  const ip = new FakeIp();
  ip.routes.push({ family: '-4', table: 'main', prefix: '0.0.0.0/0', dev: 'kith0', proto: '77' });
  ip.routes.push({ family: '-4', table: 'main', prefix: '198.18.2.0/24', dev: 'kith0', proto: '77' });
  ip.routes.push({ family: '-4', table: 'main', prefix: '10.9.0.0/16', dev: 'vpn1', proto: '77' });
  const a = new RouteApplier(ip.platform);
  await a.apply(['kith0'], [{ prefix: '198.18.2.0/24', dev: 'kith0' }]);
  assert.equal(ip.routes.map((r) => `${r.table} ${r.prefix} ${r.dev}`).sort(), [`${T} 198.18.2.0/24 kith0`, 'main 10.9.0.0/16 vpn1']);
});

test('without the suppress rule (an `ip` that cannot add it) Kith\'s table is not consulted at all, and that is reported', async () => {
  const ip = new FakeIp();
  ip.refuseSuppress = true;
  const a = new RouteApplier(ip.platform);
  const r = await a.apply(['kith0'], [{ prefix: '198.18.1.0/24', dev: 'kith0' }]);
  assert.not.ok(ip.rules['-4']!.some((l) => l.includes(`lookup ${T}`)), 'no lookup rule that could shadow the host\'s routes');
  assert.is(r.ruleErrors.length, 1, 'reported for the family that has routes');
  assert.match(r.ruleErrors[0]!, /suppress_prefixlength/);
  ip.refuseSuppress = false;
  await a.apply(['kith0'], [{ prefix: '198.18.1.0/24', dev: 'kith0' }]);
  assert.ok(ip.rules['-4']!.some((l) => l.includes(`lookup ${T}`)), 'tried again at the next apply, and then in place');
});

test('parseRouteLine and hostAddresses read what `ip` prints', () => {
  assert.equal(parseRouteLine('198.18.2.0/24 dev kith0 proto 77 scope link ', '-4'), { prefix: '198.18.2.0/24', dev: 'kith0' });
  assert.equal(parseRouteLine('198.18.2.7 dev kith0 proto 77 scope link', '-4'), { prefix: '198.18.2.7/32', dev: 'kith0' });
  assert.equal(parseRouteLine('default dev kith0 proto 77', '-4'), { prefix: '0.0.0.0/0', dev: 'kith0' });
  assert.equal(parseRouteLine('2001:db8:5::/48 dev kith0 proto 77 metric 1024 pref medium', '-6'), { prefix: '2001:db8:5::/48', dev: 'kith0' });
  assert.is(parseRouteLine('', '-4'), null);
  const out = [
    '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
    '2: eth0    inet 198.18.1.2/24 brd 198.18.1.255 scope global eth0\\       valid_lft forever preferred_lft forever',
    '2: eth0    inet6 2001:db8:1::2/64 scope global \\       valid_lft forever preferred_lft forever',
    '3: wan@if7    inet 192.0.2.5/24 brd 192.0.2.255 scope global wan',
    '4: ppp0    inet 203.0.113.9 peer 203.0.113.1/32 scope global ppp0',
    '5: kith0    inet 100.64.0.1/10 scope global kith0',
    '5: kith0    inet6 fd01:203:405::6440:1/48 scope global',
  ].join('\n');
  assert.equal(hostAddresses(out, ['kith0']), ['127.0.0.1/8', '198.18.1.2/24', '2001:db8:1::2/64', '192.0.2.5/24', '203.0.113.9', '203.0.113.1/32']);
});

test('MeshRoutes: a failing route never throws, is logged once per window and shown in the status view with the refusals', async () => {
  const ip = new FakeIp();
  ip.failing.add('198.18.2.0/24');
  const lines: string[] = [];
  const log: Logger = {
    level: 'debug', debug: () => {}, info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m),
    limited: (_k, _l, m) => lines.push(m),
  };
  const mr = new MeshRoutes(ip.platform, log, { kith: 'kith0', e2e: 'kith0e' }, { runDir: '/var/run/kith', listenPort: 51820 });
  const nm = {
    self: { mapped: [] },
    routes: [{ prefix: '198.18.1.0/24', node: 'aa', dev: 'kith' }, { prefix: '198.18.2.0/24', node: 'bb', dev: 'kith' }],
    refused: [{ node: 'cc', name: 'mallory', prefix: '0.0.0.0/0', kind: 'too-short', reason: 'shorter than /8: too wide to route into the mesh' }],
  } as unknown as Netmap;
  await mr.apply(nm);
  await mr.apply(nm);
  const v = mr.view(nm);
  assert.is(v.routes, 2);
  assert.equal(v.refused, [{ node: 'mallory', prefix: '0.0.0.0/0', reason: 'shorter than /8: too wide to route into the mesh' }]);
  assert.is(v.refusedCount, 1);
  assert.equal(v.failed.map((f) => f.prefix), ['198.18.2.0/24']);
  assert.ok(ip.routes.some((r) => r.prefix === '198.18.1.0/24'), 'the other route is in');
  assert.is(lines.filter((l) => l.startsWith('not routing mallory 0.0.0.0/0')).length, 1, `a lasting refusal is logged once: ${lines.join(' | ')}`);
  assert.is(v.mappedError, null, 'nothing mapped: no netmap table, no error');
});

test.run();
