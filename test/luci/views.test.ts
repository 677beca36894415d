/// <reference types="node" />
// The LuCI views run against a fake luci.js (support.ts) and fixtures typed
// as kithd's real status/peers results: what the status page shows for a
// member, a node that is not a member yet and a stopped kithd; the ubus calls
// its buttons make and the reasons it shows; the config page's checks against
// the settings' own value readers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { statusOf, PeerView } from '../../src/daemon/views.ts';
import type { Service } from '../../src/core/record.ts';
import { CIDR, DNS_LABEL, DNS_SERVER } from '../../src/uci/values.ts';
import { readKithSettings } from '../../src/uci/settings.ts';
import { prefixRefusal } from '../../src/core/prefixes.ts';
import { click, loadView, textNodes, textOf, walk, type FakeNode, type FakeOption, type Harness, type Responder } from './support.ts';

type Status = ReturnType<typeof statusOf>;
type MemberStatus = Exclude<Status, { node: null }>;

const BASE = {
  runtime: 'node' as const, rssBytes: 20_000_000, uptimeSec: 42,
  config: { file: '/etc/config/kith', listenPort: 51820, ifname: 'kith0', stateDir: '/etc/kith', logLevel: 'info' as const },
  dns: {
    enabled: true, listen: ['127.0.0.1:5353', '100.64.0.1:5353'],
    stats: { udpQueries: 7, tcpQueries: 1, responses: 8, malformed: 0, dropped: 0, rateLimited: 0, forwarded: 2, forwardFailed: 1, tcpConnections: 1, tcpRejected: 0 },
  },
  services: [] as Service[],
};

const UNCONFIGURED: Status = { ...BASE, dns: { enabled: true, listen: [], stats: null }, state: 'unconfigured', node: null, network: null, peers: 0, dropped: null };

const MEMBER: MemberStatus = {
  ...BASE,
  state: 'running',
  error: null,
  node: {
    name: 'alice', id: 'a1b2c3d4', ipv4: '100.64.0.1', ipv6: 'fd12:3456:789a::1', wgPublicKey: 'AAAA', ifname: 'kith0', listenPort: 51820,
    backend: 'kernel', admin: true, endpoints: ['lan 192.168.1.1:51820'], recordSeq: 3, recordBytes: 412,
    trimmed: { links: 0, endpoints: 0, services: 0, subnets: 0 },
  },
  network: { name: 'street', zone: 'street.internal', ipv4Pool: '100.64.0.0/10', ula48: 'fd12:3456:789a::/48', policy: 'admins' },
  peers: 3,
  revocations: 0,
  revoked: false,
  exit: { offering: false, capacityMbit: 0, use: null, via: null, error: null },
  reachable: 2,
  dropped: { malformed: 1, badSignature: 0, stale: 4, unknownSigner: 0, oversize: 0, expired: 0, invalidChain: 0, tooMany: 0, failed: 0, nonMember: 0, rateLimited: 0, duplicateKey: 0, knownBad: 0, departed: 0, overQuota: 0, forger: 0, revoked: 0 },
  routes: { table: 7799, routes: 1, refused: [{ node: 'bob', prefix: '0.0.0.0/0', reason: 'shorter than /8: too wide to route into the mesh' }], refusedCount: 1, failed: [], ruleErrors: [], mapped: [], mappedError: null },
};

const PEERS: PeerView[] = [
  { name: 'bob', ipv4: '100.64.0.2', ipv6: 'fd12:3456:789a::2', path: 'direct', via: null, endpoint: '192.0.2.10:51820', rttMs: 12, lastHandshakeSec: 30, rxBytes: 2048, txBytes: 4096, subnets: [{ prefix: '198.18.2.0/24', mappedTo: null }] },
  { name: 'carol', ipv4: '100.64.0.3', ipv6: 'fd12:3456:789a::3', path: 'relayed', via: 'bob', endpoint: null, rttMs: null, lastHandshakeSec: 7200, rxBytes: 0, txBytes: 0, subnets: [] },
  { name: 'dave', ipv4: '100.64.0.4', ipv6: 'fd12:3456:789a::4', path: 'unreachable', via: null, endpoint: null, rttMs: null, lastHandshakeSec: null, rxBytes: 0, txBytes: 0, subnets: [] },
];

const SERVICES: Service[] = [
  { name: 'nas', port: 445, proto: 'tcp', type: 'smb' },
  { name: 'printer', port: 631, proto: 'tcp', type: '' },
];

const INVITES = [{ id: '0badcafe', name: 'erin', admin: false, expiresAtMs: 1_900_000_000_000, usedBy: null }];

/** A kithd answering from fixtures; `over` replaces single methods. */
function daemon(status: Status | number, over: Record<string, Responder> = {}): Responder {
  return (method, args) => {
    if (over[method]) return over[method]!(method, args);
    if (typeof status === 'number') return status;
    switch (method) {
      case 'status': return status;
      case 'peers': return status.node ? { peers: PEERS } : { error: 'not a member' };
      case 'invites': return { invites: INVITES };
      case 'services': return { services: SERVICES };
      default: return { error: `unexpected ${method}` };
    }
  };
}

async function openStatus(status: Status | number, over: Record<string, Responder> = {}, uciServices: { name: string }[] = []) {
  const h = loadView('status', { respond: daemon(status, over), uciServices });
  const data = await h.view['load']();
  const page = h.view['render'](data) as FakeNode;
  return { h, page };
}

function byAttr(root: FakeNode, pred: (n: FakeNode) => boolean): FakeNode[] {
  const out: FakeNode[] = [];
  walk(root, (n) => { if (pred(n)) out.push(n); });
  return out;
}

/** The table with this id, as rows of cell texts (header first). */
function tableRows(page: FakeNode, id: string): string[][] {
  const [t] = byAttr(page, (n) => n.tag === 'table' && n.attrs['id'] === id);
  assert.ok(t, `no table ${id}`);
  return t!.children.map((tr) => (typeof tr === 'object' ? tr.children.map((td) => textOf(td).trim()) : []));
}

function inputs(root: FakeNode): FakeNode[] {
  return byAttr(root, (n) => n.tag === 'input' || n.tag === 'textarea' || n.tag === 'select');
}

/** Text in the page must come from _() or be data from kithd. */
function assertTranslated(h: Harness, page: FakeNode, data: unknown) {
  const values = new Set<string>();
  const collect = (v: unknown): void => {
    if (typeof v === 'string') values.add(v);
    else if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === 'object') Object.values(v).forEach(collect);
  };
  collect(data);
  for (const s of textNodes(page)) {
    // Sizes come from '%1024mB'.format(n), like upstream's views: units, not words.
    if (!/[A-Za-z]/.test(s) || /^[\d.]+ [KMGTPE]?i?B$/.test(s) || h.translated.has(s) || values.has(s)) continue;
    const parts = s.split(', ');
    assert.ok(parts.every((p) => values.has(p)), `untranslated text in the page: "${s}"`);
  }
}

test('a member: this node, peers with their path, DNS, dropped counters; polled every 5 s', async () => {
  const { h, page } = await openStatus(MEMBER);
  assert.equal(h.polls.map((p) => p.interval), [5]);
  const text = textOf(page, true);
  for (const s of ['alice', '100.64.0.1, fd12:3456:789a::1', 'street', 'street.internal', 'Running', 'Administrator', '2 of 3',
    '127.0.0.1:5353, 100.64.0.1:5353', 'Malformed records', 'Stale records', 'Networks not routed', '0.0.0.0/0', 'shorter than /8: too wide to route into the mesh']) {
    assert.ok(text.includes(s), `missing "${s}"`);
  }
  const rows = tableRows(page, 'kith-peers');
  assert.equal(rows[0], ['Name', 'IPv4', 'Path', 'Endpoint', 'RTT', 'Latest Handshake', 'Received', 'Transmitted']);
  assert.equal(rows[1], ['bob', '100.64.0.2', 'direct', '192.0.2.10:51820', '12 ms', '30s ago', '2048 B', '4096 B']);
  assert.equal(rows[2]!.slice(0, 6), ['carol', '100.64.0.3', 'relayed via bob', '-', '-', '2h ago']);
  assert.equal(rows[3]!.slice(2, 6), ['unreachable', '-', '-', 'Never']);
  // Not a member box; the invite box (admin), invites and services are shown.
  assert.is(h.view['onboardNode'].style.display, 'none');
  assert.is(h.view['inviteNode'].style.display, '');
  assert.equal(tableRows(page, 'kith-invites')[1], ['0badcafe', 'erin', 'no', new Date(1_900_000_000_000).toLocaleString(), '-']);
  assertTranslated(h, page, [MEMBER, PEERS, SERVICES, INVITES, new Date(INVITES[0]!.expiresAtMs).toLocaleString()]);
});

test('each poll refreshes the node and peer tables without rebuilding the forms', async () => {
  const peers = [...PEERS];
  const { h, page } = await openStatus(MEMBER, { peers: () => ({ peers }) });
  const form = h.view['inviteName'];
  form.value = 'typed';
  peers.push({ ...PEERS[0]!, name: 'frank', ipv4: '100.64.0.9' });
  await h.polls[0]!.fn();
  assert.is(tableRows(page, 'kith-peers').length, 5);
  assert.is(h.view['inviteName'], form);
  assert.is(form.value, 'typed');
  assert.ok(inputs(page).includes(form));
});

test('not a member: Join and Create boxes instead of peers, no invite box', async () => {
  const { h, page } = await openStatus(UNCONFIGURED);
  assert.is(h.view['onboardNode'].style.display, '');
  assert.is(h.view['inviteNode'].style.display, 'none');
  const visible = textOf(page, true);
  assert.ok(visible.includes('Not a member of any network'));
  assert.not.ok(visible.includes('Latest Handshake'));
  assert.ok(visible.includes('Join a network') && visible.includes('Create a network'));
  assert.equal(h.calls.map((c) => c.method).sort(), ['services', 'status'], 'no peers/invites calls for a non-member');
  assertTranslated(h, page, [UNCONFIGURED, SERVICES]);
});

test('Join sends the pasted code and optional node name; a refusal shows its reason', async () => {
  const { h, page } = await openStatus(UNCONFIGURED, { join: () => ({ error: 'join failed: the invite has expired' }) });
  await click(page, 'Join');
  assert.not.ok(h.calls.some((c) => c.method === 'join'), 'no call without a code');
  assert.match(textOf(h.view['joinMsg']), 'Paste the invite code');

  h.view['joinCode'].value = '  kith1-abcd-efgh \n';
  await click(page, 'Join');
  assert.equal(h.calls.filter((c) => c.method === 'join').map((c) => c.args), [{ code: 'kith1-abcd-efgh' }]);
  assert.match(textOf(h.view['joinMsg']), 'Joining failed: join failed: the invite has expired');

  h.view['joinName'].value = 'bob';
  await click(page, 'Join');
  assert.equal(h.calls.filter((c) => c.method === 'join').at(-1)!.args, { code: 'kith1-abcd-efgh', nodeName: 'bob' });
});

test('Join: success is announced and the page turns into a member page', async () => {
  let joined = false;
  const { h, page } = await openStatus(UNCONFIGURED, {
    status: () => (joined ? MEMBER : UNCONFIGURED),
    join: () => { joined = true; return MEMBER; },
    peers: () => ({ peers: PEERS }),
  });
  h.view['joinCode'].value = 'kith1-abcd';
  await click(page, 'Join');
  assert.equal(h.notifications, ['Joined network "street" as "alice".']);
  assert.is(h.view['onboardNode'].style.display, 'none');
  assert.is(tableRows(page, 'kith-peers').length, 4);
});

test('Join: an INVALID_ARGUMENT from ubus (reject:true) is shown, not swallowed', async () => {
  const { h, page } = await openStatus(UNCONFIGURED, { join: () => 2 });
  h.view['joinCode'].value = 'x';
  await click(page, 'Join');
  assert.match(textOf(h.view['joinMsg']), /Joining failed: RPC call to kith\/join failed with ubus code 2/);
});

test('Create sends the network name and the optional endpoint', async () => {
  const { h, page } = await openStatus(UNCONFIGURED, { init: () => ({ error: 'invalid --endpoint "x"' }) });
  await click(page, 'Create');
  assert.not.ok(h.calls.some((c) => c.method === 'init'));
  h.view['initNetwork'].value = 'street';
  await click(page, 'Create');
  h.view['initEndpoint'].value = '203.0.113.7:51820';
  await click(page, 'Create');
  assert.equal(h.calls.filter((c) => c.method === 'init').map((c) => c.args), [
    { network: 'street' }, { network: 'street', endpoint: '203.0.113.7:51820' },
  ]);
  assert.match(textOf(h.view['initMsg']), 'Creating the network failed: invalid --endpoint "x"');
});

test('Invite: name, expiry and admin go to kith invite; the code lands in a read-only field', async () => {
  const { h, page } = await openStatus(MEMBER, {
    invite: () => ({ code: 'kith1-zzzz-yyyy', expiresAtMs: 1_900_000_000_000, endpoints: ['192.168.1.1:51820'] }),
  });
  const expiry = byAttr(h.view['inviteNode'], (n) => n.tag === 'select')[0]!;
  assert.equal(byAttr(expiry, (n) => n.tag === 'option').map((o) => o.attrs['value']), ['1h', '24h', '7d']);
  assert.is(expiry.value, '24h');
  await click(page, 'Invite a neighbour');
  h.view['inviteName'].value = 'erin';
  h.view['inviteExpires'].value = '7d';
  h.view['inviteAdminBox'].checked = true;
  await click(page, 'Invite a neighbour');
  assert.equal(h.calls.filter((c) => c.method === 'invite').map((c) => c.args), [
    { expires: '24h', admin: false }, { name: 'erin', expires: '7d', admin: true },
  ]);
  assert.is(h.view['inviteCode'].value, 'kith1-zzzz-yyyy');
  assert.is(h.view['inviteCode'].attrs['readonly'], 'readonly');
  assert.is(h.view['inviteResult'].style.display, '');
  assert.ok(textOf(h.view['inviteMsg']).includes('192.168.1.1:51820'));
});

test('Invite: a member that is no admin (policy any) may invite but not make admins', async () => {
  const plain: MemberStatus = { ...MEMBER, node: { ...MEMBER.node, admin: false }, network: { ...MEMBER.network, policy: 'any' } };
  const { h, page } = await openStatus(plain, { invite: () => ({ error: 'only admins may invite administrators' }) });
  assert.is(h.view['inviteNode'].style.display, '');
  assert.is(h.view['inviteAdmin'].style.display, 'none');
  h.view['inviteAdminBox'].checked = true;
  await click(page, 'Invite a neighbour');
  assert.equal(h.calls.find((c) => c.method === 'invite')!.args, { expires: '24h', admin: false });
  assert.match(textOf(h.view['inviteMsg']), 'Creating the invite failed: only admins may invite administrators');
  assert.is(h.view['inviteResult'].style.display, 'none');

  const { h: h2 } = await openStatus({ ...plain, network: { ...MEMBER.network, policy: 'admins' } });
  assert.is(h2.view['inviteNode'].style.display, 'none');
  assert.not.ok(h2.calls.some((c) => c.method === 'invites'));
});

test('Services: added with kith service_add, removed with service_rm; those from /etc/config/kith stay', async () => {
  const { h, page } = await openStatus(MEMBER, { service_add: () => ({ services: SERVICES }), service_rm: () => ({ error: 'no service "printer"' }) }, [{ name: 'NAS' }]);
  const rows = tableRows(page, 'kith-services');
  assert.equal(rows[1], ['nas', '445', 'tcp', 'smb', 'in Settings']);
  assert.equal(rows[2], ['printer', '631', 'tcp', '-', 'Remove']);
  await click(page, 'Remove');
  assert.equal(h.calls.find((c) => c.method === 'service_rm')!.args, { name: 'printer' });
  assert.match(textOf(h.view['svcMsg']), 'Removing the service failed: no service "printer"');

  await click(page, 'Add service');
  assert.not.ok(h.calls.some((c) => c.method === 'service_add'));
  h.view['svcName'].value = 'web';
  h.view['svcPort'].value = '8080';
  h.view['svcProto'].value = 'udp';
  await click(page, 'Add service');
  assert.equal(h.calls.find((c) => c.method === 'service_add')!.args, { name: 'web', port: 8080, proto: 'udp' });
  assert.match(textOf(h.view['svcMsg']), 'Service "web" published.');
});

test('Reload settings calls kith reload', async () => {
  const { h, page } = await openStatus(MEMBER, { reload: () => MEMBER });
  await click(page, 'Reload settings');
  assert.ok(h.calls.some((c) => c.method === 'reload'));
  assert.match(textOf(h.view['reloadMsg']), 're-read');
});

test('kithd not running (no ubus object): a hint instead of the page, no forms', async () => {
  const { h, page } = await openStatus(4);
  const visible = textOf(page, true);
  assert.match(visible, 'kithd is not running');
  assert.not.ok(visible.includes('Join a network'));
  assert.not.ok(visible.includes('Invite a neighbour'));
  assert.equal(h.calls.map((c) => c.method), ['status']);
});

test('the status page is read-only: no Save, Save & Apply or Reset', () => {
  const h = loadView('status');
  for (const k of ['handleSaveApply', 'handleSave', 'handleReset']) assert.is(h.view[k], null, k);
});

// ---------------------------------------------------------------- config.js

function configOptions() {
  const h = loadView('config');
  h.view['render']();
  const all = h.sections.flatMap((s) => s.options.map((o) => ({ section: s, ...o })));
  const get = (sectionArg: string, name: string) => {
    const o = all.find((x) => x.section.args[0] === sectionArg && x.name === name);
    assert.ok(o, `no option ${sectionArg}.${name}`);
    return o!;
  };
  return { h, all, get };
}

test('config.js: sections, datatypes and list options as the brief asks', () => {
  const { h, get } = configOptions();
  const anon = h.sections.filter((s) => s.kind === 'TypedSection');
  assert.is(anon.length, 2);
  for (const s of anon) assert.equal([s.anonymous, s.addremove], [true, true]);
  const dt = (s: string, n: string) => get(s, n).datatype;
  assert.is(dt('main', 'listen_port'), 'port');
  assert.is(dt('main', 'ifname'), 'netdevname');
  assert.is(dt('dns', 'port'), 'port');
  assert.is(dt('subnet', 'prefix'), 'cidr');
  assert.is(dt('service', 'port'), 'port');
  assert.is(get('main', 'endpoint').kind, 'DynamicList');
  assert.is(get('dns', 'listen').kind, 'DynamicList');
  assert.is(get('dns', 'upstream').kind, 'DynamicList');
  assert.equal(get('dns', 'upstream').deps, [['forward', '1']]);
  assert.equal(get('main', 'log_level').values.map((v) => v[0]), ['debug', 'info', 'warn', 'error']);
  assert.equal(get('service', 'proto').values.map((v) => v[0]), ['tcp', 'udp']);
  assert.is(get('main', 'enabled').kind, 'Flag');
  assert.is(get('dns', 'forward').kind, 'Flag');
  assert.ok(h.translated.has(h.map!.title) && h.translated.has(h.map!.description));
});

test('config.js: its own checks agree with kithd\'s value readers', () => {
  const { get } = configOptions();
  const check = (o: FakeOption, v: string) => o.validate!('cfg01', v) === true;
  const label = get('main', 'node_name');
  for (const v of ['router', 'Router-2', 'a', 'x'.repeat(63), '-a', 'a-', 'a.b', 'a_b', 'x'.repeat(64), 'ü']) {
    assert.is(check(label, v), DNS_LABEL.parse(v).ok, `node_name ${v}`);
  }
  const up = get('dns', 'upstream');
  for (const v of ['9.9.9.9', '9.9.9.9#53', '2620:fe::fe#5353', '9.9.9.9#0', '9.9.9.9#70000', 'dns.quad9.net', '1.2.3', '9.9.9.9#53#1']) {
    assert.is(check(up, v), DNS_SERVER.parse(v).ok, `upstream ${v}`);
  }
  const prefix = get('subnet', 'prefix');
  // The view checks form and width; reserved ranges and the pool are left to kithd's config check.
  for (const v of ['192.168.1.0/24', '192.168.1.1/24', '10.0.0.0/8', '10.1.0.0/8', 'fd00:1::/64', 'fd00:1::1/64', '0.0.0.0/0', '10.0.0.0/7', '::/0', '2000::/15', '2000::/16', '192.168.1.7/32']) {
    const r = CIDR.parse(v);
    assert.is(check(prefix, v), r.ok && prefixRefusal(r.value.prefix, null)?.kind !== 'too-short', `prefix ${v}`);
  }
  assert.is(check(get('service', 'type'), ''), true, 'type is optional');
});

test('config.js: the placeholders are values kithd accepts, under the option names it knows', () => {
  const { h } = configOptions();
  const lines: string[] = [];
  for (const s of h.sections) {
    lines.push(s.kind === 'NamedSection' ? `config ${s.args[1]} '${s.args[0]}'` : `config ${s.args[0]}`);
    for (const o of s.options) {
      const v = o.placeholder ?? o.default ?? o.values[0]?.[0];
      if (v === undefined) continue;
      lines.push(`\t${o.kind === 'DynamicList' ? 'list' : 'option'} ${o.name} '${v}'`);
    }
  }
  const r = readKithSettings(lines.join('\n') + '\n');
  assert.equal(r.errors.map((e) => e.message), []);
  assert.equal(r.warnings.map((e) => e.message), []);
  assert.is(r.settings.services[0]?.name, 'nas');
  assert.is(r.settings.subnets[0]?.prefix, '192.168.1.0/24');
});

test.run();
