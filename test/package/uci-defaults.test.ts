/// <reference types="node" />
// The package's /etc/uci-defaults scripts, run with dash the way OpenWrt runs
// them (sourced from their directory, deleted after success) against real
// config files through the `uci` stand-in (src/uci, with uncommitted changes
// kept apart until `uci commit`): what they add to firewall and dhcp, that a
// second run changes nothing, and that they follow /etc/config/kith.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseUci, type UciPackage, type UciSection } from '../../src/uci/index.ts';
import { DASH, ROOT, run, tempDir, toolBin } from './support/package.ts';
import { DEFAULT_CONTROL_PORT, e2ePort, type NetworkParams } from '../../src/core/network.ts';
import { e2eIfname } from '../../src/wg/apply.ts';

/** OpenWrt's default firewall config (firewall4), trimmed. */
const FIREWALL = `config defaults
	option syn_flood	1
	option input		REJECT
	option output		ACCEPT
	option forward		REJECT

config zone
	option name		lan
	list   network		'lan'
	option input		ACCEPT
	option output		ACCEPT
	option forward		ACCEPT

config zone
	option name		wan
	list   network		'wan'
	list   network		'wan6'
	option input		REJECT
	option output		ACCEPT
	option forward		REJECT
	option masq		1
	option mtu_fix		1

config forwarding
	option src		lan
	option dest		wan

config rule
	option name		Allow-DHCP-Renew
	option src		wan
	option proto		udp
	option dest_port	68
	option target		ACCEPT
	option family		ipv4
`;

/** OpenWrt's default dhcp config, trimmed. */
const DHCP = `config dnsmasq
	option domainneeded	1
	option localise_queries	1
	option rebind_protection 1
	option rebind_localhost 1
	option local	'/lan/'
	option domain	'lan'
	option authoritative	1
	option leasefile	'/tmp/dhcp.leases'
	option localservice	1

config dhcp lan
	option interface	lan
	option start 	100
	option limit	150
	option leasetime	12h
`;

interface Router { root: string; conf: string; log: string }

function router(files: Record<string, string>): Router {
  const root = tempDir('kith-router-');
  const conf = join(root, 'etc/config');
  mkdirSync(conf, { recursive: true });
  mkdirSync(join(root, 'etc/uci-defaults'));
  copyFileSync(join(ROOT, 'rootfs/etc/config/kith'), join(conf, 'kith'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(conf, name), text);
  return { root, conf, log: join(root, 'uci.log') };
}

/** Runs one uci-defaults script as default_postinst does; returns the uci calls it made. */
async function runDefaults(r: Router, script: string): Promise<string[][]> {
  const path = join(r.root, 'etc/uci-defaults', script);
  copyFileSync(join(ROOT, 'rootfs/etc/uci-defaults', script), path);
  writeFileSync(r.log, '');
  const res = run(DASH, ['-c', 'i="$1"; ( [ -f "$i" ] && cd "$(dirname "$i")" && . "$i" ) && rm -f "$i"', 'uci-defaults', path], {
    env: { PATH: await toolBin(), UCI_CONFDIR: r.conf, UCI_SAVEDIR: join(r.root, 'tmp/.uci'), UCI_LOG: r.log },
  });
  assert.is(res.status, 0, `${script}: ${res.stderr}`);
  assert.not.ok(existsSync(path), `${script} failed, so OpenWrt would keep it and run it again at the next boot`);
  assert.not.ok(existsSync(join(r.root, 'tmp/.uci', script.includes('firewall') ? 'firewall' : 'dhcp')), 'changes left uncommitted');
  return readFileSync(r.log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]);
}

const read = (r: Router, name: string): UciPackage => parseUci(readFileSync(join(r.conf, name)), name);
const named = (p: UciPackage, name: string): UciSection | undefined => p.sections.find((s) => s.name === name);
const opts = (s: UciSection | undefined) => (s ? { type: s.type, ...Object.fromEntries(s.options) } : null);
const edits = (calls: string[][]) => calls.filter((c) => ['set', 'add', 'add_list', 'del_list', 'delete', 'rename', 'batch'].includes(c.find((a) => !a.startsWith('-')) ?? ''));

/** The sections the first version of 90-kith-firewall wrote (kith -> lan for everyone, input ACCEPT). */
const OLD_KITH = `
config zone 'kith'
	option name 'kith'
	list device 'kith0'
	option input 'ACCEPT'
	option output 'ACCEPT'
	option forward 'REJECT'

config forwarding 'kith_lan'
	option src 'kith'
	option dest 'lan'

config forwarding 'lan_kith'
	option src 'lan'
	option dest 'kith'

config rule 'kith_wan'
	option name 'Allow-Kith'
	option src 'wan'
	list proto 'udp'
	list proto 'tcp'
	option dest_port '51820'
	option target 'ACCEPT'
`;

/** Every section 90-kith-firewall writes on a router with the package's /etc/config/kith. */
const KITH_SECTIONS = {
  kith: { type: 'zone', name: 'kith', device: ['kith0', 'kith0e'], input: 'REJECT', output: 'ACCEPT', forward: 'ACCEPT' },
  lan_kith: { type: 'forwarding', src: 'lan', dest: 'kith' },
  kith_control: { type: 'rule', name: 'Allow-Kith-Control', src: 'kith', proto: ['udp'], dest_port: '51821', target: 'ACCEPT' },
  kith_dns: { type: 'rule', name: 'Allow-Kith-DNS', src: 'kith', proto: ['udp', 'tcp'], dest_port: '5353', target: 'ACCEPT' },
  kith_e2e: { type: 'rule', name: 'Allow-Kith-E2E', src: 'kith', proto: ['udp'], dest_port: '51822', target: 'ACCEPT' },
  kith_ping: { type: 'rule', name: 'Allow-Kith-Ping', src: 'kith', proto: 'icmp', icmp_type: 'echo-request', family: 'ipv4', target: 'ACCEPT' },
  kith_icmpv6: {
    type: 'rule', name: 'Allow-Kith-ICMPv6', src: 'kith', proto: 'icmp',
    icmp_type: ['echo-request', 'echo-reply', 'destination-unreachable', 'packet-too-big', 'time-exceeded', 'bad-header', 'unknown-header-type'],
    limit: '1000/sec', family: 'ipv6', target: 'ACCEPT',
  },
  kith_wan: { type: 'rule', name: 'Allow-Kith', src: 'wan', proto: ['udp', 'tcp'], dest_port: '51820', target: 'ACCEPT' },
  kith_defaults: { type: 'kith', version: '2' },
};

const kithSections = (fw: UciPackage) => Object.fromEntries(fw.sections.filter((s) => s.name && !s.name.startsWith('cfg')).map((s) => [s.name, opts(s)]));

test('90-kith-firewall: zone kith rejects input but for its rules, forwards kith -> kith, lan -> kith, Allow-Kith from wan; no kith -> lan', async () => {
  const r = router({ firewall: FIREWALL });
  await runDefaults(r, '90-kith-firewall');
  const fw = read(r, 'firewall');
  assert.equal(kithSections(fw), KITH_SECTIONS);
  assert.not.ok(fw.sections.some((s) => s.type === 'forwarding' && s.options.get('src') === 'kith' && s.options.get('dest') === 'lan'), 'no kith -> lan forwarding');
  // The router's own sections are untouched and still first.
  const before = parseUci(FIREWALL, 'firewall').sections;
  assert.equal(fw.sections.slice(0, before.length).map(opts), before.map(opts));
  assert.is(fw.sections.length, before.length + Object.keys(KITH_SECTIONS).length);
});

test('90-kith-firewall: a second run changes nothing', async () => {
  const r = router({ firewall: FIREWALL });
  await runDefaults(r, '90-kith-firewall');
  const first = readFileSync(join(r.conf, 'firewall'), 'utf8');
  const calls = await runDefaults(r, '90-kith-firewall');
  assert.equal(edits(calls), []);
  assert.is(readFileSync(join(r.conf, 'firewall'), 'utf8'), first);
});

test('90-kith-firewall migrates the first version\'s defaults: input REJECT, forward ACCEPT, kith -> lan removed, new rules added', async () => {
  const r = router({ firewall: FIREWALL + OLD_KITH });
  await runDefaults(r, '90-kith-firewall');
  const fw = read(r, 'firewall');
  assert.equal(kithSections(fw), KITH_SECTIONS);
  const first = readFileSync(join(r.conf, 'firewall'), 'utf8');
  assert.equal(edits(await runDefaults(r, '90-kith-firewall')), []);
  assert.is(readFileSync(join(r.conf, 'firewall'), 'utf8'), first);
});

test('90-kith-firewall: old sections the user changed are kept as the user left them', async () => {
  const mine = OLD_KITH
    .replace("option forward 'REJECT'", "option forward 'DROP'")
    .replace("config forwarding 'kith_lan'\n\toption src 'kith'\n\toption dest 'lan'", "config forwarding 'kith_lan'\n\toption src 'kith'\n\toption dest 'lan'\n\toption family 'ipv6'");
  const r = router({ firewall: FIREWALL + mine });
  await runDefaults(r, '90-kith-firewall');
  const fw = read(r, 'firewall');
  // Policies are the user's; only Kith's own end-to-end device joins the zone.
  assert.equal(opts(named(fw, 'kith')), { type: 'zone', name: 'kith', device: ['kith0', 'kith0e'], input: 'ACCEPT', output: 'ACCEPT', forward: 'DROP' });
  assert.equal(opts(named(fw, 'kith_lan')), { type: 'forwarding', src: 'kith', dest: 'lan', family: 'ipv6' });
  assert.equal(opts(named(fw, 'kith_control')), KITH_SECTIONS.kith_control);
  assert.equal(opts(named(fw, 'kith_defaults')), KITH_SECTIONS.kith_defaults);
});

test('90-kith-firewall: once it ran, what the user deletes or changes stays so (an upgrade runs it again)', async () => {
  const r = router({ firewall: FIREWALL });
  await runDefaults(r, '90-kith-firewall');
  const edited = readFileSync(join(r.conf, 'firewall'), 'utf8')
    .replace(/config rule 'kith_dns'\n(\t[^\n]*\n)*\n?/, '')
    .replace("option input 'REJECT'\n\toption output 'ACCEPT'\n\toption forward 'ACCEPT'", "option input 'ACCEPT'\n\toption output 'ACCEPT'\n\toption forward 'REJECT'");
  assert.not.ok(edited.includes('kith_dns'));
  writeFileSync(join(r.conf, 'firewall'), edited);
  assert.equal(edits(await runDefaults(r, '90-kith-firewall')), []);
  assert.is(readFileSync(join(r.conf, 'firewall'), 'utf8'), edited);
});

test('90-kith-firewall: a section the user already has is left as it is', async () => {
  const r = router({ firewall: `${FIREWALL}\nconfig rule 'kith_wan'\n\toption name 'My-Kith'\n\toption src 'wan'\n\toption proto 'udp'\n\toption dest_port '4000'\n\toption target 'ACCEPT'\n` });
  await runDefaults(r, '90-kith-firewall');
  const fw = read(r, 'firewall');
  assert.equal(opts(named(fw, 'kith_wan')), { type: 'rule', name: 'My-Kith', src: 'wan', proto: 'udp', dest_port: '4000', target: 'ACCEPT' });
  assert.ok(named(fw, 'kith'));
});

test('90-kith-firewall follows ifname, listen_port and the DNS port from /etc/config/kith (not the network\'s ports)', async () => {
  const r = router({ firewall: FIREWALL });
  const kith = readFileSync(join(r.conf, 'kith'), 'utf8').replace("option ifname 'kith0'", "option ifname 'mesh0'")
    .replace("option listen_port '51820'", "option listen_port '4242'").replace("option port '5353'", "option port '5300'");
  writeFileSync(join(r.conf, 'kith'), kith);
  await runDefaults(r, '90-kith-firewall');
  const fw = read(r, 'firewall');
  assert.equal(named(fw, 'kith')!.options.get('device'), ['mesh0', 'mesh0e']);
  assert.is(named(fw, 'kith_wan')!.options.get('dest_port'), '4242');
  assert.is(named(fw, 'kith_e2e')!.options.get('dest_port'), '51822');
  assert.is(named(fw, 'kith_dns')!.options.get('dest_port'), '5300');
  assert.is(named(fw, 'kith_control')!.options.get('dest_port'), '51821');
});

test('90-kith-firewall opens the control and end-to-end ports every network uses (DEFAULT_CONTROL_PORT, e2ePort)', () => {
  const script = readFileSync(join(ROOT, 'rootfs/etc/uci-defaults/90-kith-firewall'), 'utf8');
  assert.is(/^CONTROL_PORT=(\d+)$/m.exec(script)?.[1], String(DEFAULT_CONTROL_PORT));
  assert.is(/^E2E_PORT=(\d+)$/m.exec(script)?.[1], String(e2ePort({ controlPort: DEFAULT_CONTROL_PORT } as NetworkParams)));
});

test('90-kith-firewall names the end-to-end device as kithd does (e2eIfname), also for a 15-character ifname', async () => {
  const r = router({ firewall: FIREWALL });
  writeFileSync(join(r.conf, 'kith'), readFileSync(join(r.conf, 'kith'), 'utf8').replace("option ifname 'kith0'", "option ifname 'neighbourhood15'"));
  await runDefaults(r, '90-kith-firewall');
  assert.equal(named(read(r, 'firewall'), 'kith')!.options.get('device'), ['neighbourhood15', e2eIfname('neighbourhood15')]);
  assert.is(e2eIfname('neighbourhood15'), 'neighbourhood1e');
});

test('91-kith-dnsmasq: forwards the internal domain to 127.0.0.1#5353 and allows its private answers', async () => {
  const r = router({ dhcp: DHCP });
  await runDefaults(r, '91-kith-dnsmasq');
  const dhcp = read(r, 'dhcp');
  const dnsmasq = dhcp.sections.find((s) => s.type === 'dnsmasq')!;
  assert.equal(dnsmasq.options.get('server'), ['/internal/127.0.0.1#5353']);
  assert.equal(dnsmasq.options.get('rebind_domain'), ['internal']);
  assert.is(dnsmasq.options.get('local'), '/lan/');
  const before = parseUci(DHCP, 'dhcp').sections;
  assert.equal(dhcp.sections.slice(1).map(opts), before.slice(1).map(opts));
});

test('91-kith-dnsmasq: a second run, or entries already there, add nothing', async () => {
  const r = router({ dhcp: DHCP });
  await runDefaults(r, '91-kith-dnsmasq');
  const first = readFileSync(join(r.conf, 'dhcp'), 'utf8');
  assert.equal(edits(await runDefaults(r, '91-kith-dnsmasq')), []);
  assert.is(readFileSync(join(r.conf, 'dhcp'), 'utf8'), first);

  const mine = router({ dhcp: DHCP.replace("option domain	'lan'", "option domain	'lan'\n\tlist server '8.8.8.8'\n\tlist server '/internal/127.0.0.1#5353'\n\tlist rebind_domain 'internal'") });
  assert.equal(edits(await runDefaults(mine, '91-kith-dnsmasq')), []);
  const d = read(mine, 'dhcp').sections[0]!;
  assert.equal(d.options.get('server'), ['8.8.8.8', '/internal/127.0.0.1#5353']);
  assert.equal(d.options.get('rebind_domain'), ['internal']);
});

test('91-kith-dnsmasq follows kith.dns: its port, and nothing when Kith DNS is off', async () => {
  const r = router({ dhcp: DHCP });
  writeFileSync(join(r.conf, 'kith'), readFileSync(join(r.conf, 'kith'), 'utf8').replace("option port '5353'", "option port '5300'"));
  await runDefaults(r, '91-kith-dnsmasq');
  assert.equal(read(r, 'dhcp').sections[0]!.options.get('server'), ['/internal/127.0.0.1#5300']);

  const off = router({ dhcp: DHCP });
  const kith = readFileSync(join(off.conf, 'kith'), 'utf8').replace("config dns 'dns'\n\toption enabled '1'", "config dns 'dns'\n\toption enabled '0'");
  assert.ok(kith.includes("option enabled '0'"));
  writeFileSync(join(off.conf, 'kith'), kith);
  assert.equal(edits(await runDefaults(off, '91-kith-dnsmasq')), []);
  assert.is(readFileSync(join(off.conf, 'dhcp'), 'utf8'), DHCP);
});

test('91-kith-dnsmasq leaves a router without dnsmasq alone', async () => {
  const r = router({ dhcp: "config dhcp 'lan'\n\toption interface 'lan'\n" });
  assert.equal(edits(await runDefaults(r, '91-kith-dnsmasq')), []);
});

test.run();
