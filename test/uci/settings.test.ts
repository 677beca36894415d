// The /etc/config/kith contract: defaults, every option type's errors, all
// problems at once with their lines, and warnings for what is not understood.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatProblem, parseUci, readKithSettings, validateKithSettings, type Problem } from '../../src/uci/index.ts';

const FILE = '/etc/config/kith';

function check(text: string, dnsPort?: number) {
  return validateKithSettings(parseUci(text, FILE), { file: FILE, ...(dnsPort ? { defaults: { dnsPort } } : {}) });
}
const where = (ps: Problem[]) => ps.map((p) => [p.line, p.section, p.option ?? null]);

test('an empty file gives the documented defaults', () => {
  const r = check('');
  assert.equal(r.errors, []);
  assert.equal(r.warnings, []);
  assert.equal(r.settings, {
    enabled: true, ifname: 'kith0', listenPort: 51820, stateDir: '/etc/kith', logLevel: 'info', endpoints: [], nodeName: null,
    ubusSocket: '/var/run/ubus/ubus.sock', portmap: true,
    dns: { enabled: true, port: 5353, listen: ['127.0.0.1'], listenOverlay: true, forward: false, upstreams: [] },
    subnets: [], services: [], exit: { offer: false, capacityMbit: null, use: null },
  });
});

test('the DNS port default is a parameter', () => {
  assert.is(check('', 53).settings.dns.port, 53);
  assert.is(check("config dns 'dns'\n\toption port 5300\n", 53).settings.dns.port, 5300);
});

test('a full valid file', () => {
  const r = check(`config kith 'main'
	option enabled '0'
	option ifname 'mesh0'
	option listen_port '4242'
	option state_dir '/srv/kith'
	option log_level 'debug'
	list endpoint '203.0.113.7:4242'
	list endpoint '[2001:db8::1]:4242'
	list endpoint 'vpn.example.net:4242'
	option node_name 'Garden-Shed'
	option ubus_socket '/tmp/ubus.sock'

config dns 'dns'
	option enabled 'off'
	option port '5300'
	list listen '192.168.1.1'
	list listen 'overlay'
	option forward 'yes'
	list upstream '9.9.9.9'
	list upstream '2620:fe::fe#5353'

config subnet
	option prefix '192.168.1.0/24'

config subnet
	option prefix 'FD00:0:0:1:0:0:0:0/64'

config service
	option name 'nas'
	option port '445'

config service
	option name 'cam'
	option port '554'
	option proto 'udp'
	option type 'rtsp'
	option host '192.168.1.30'

config exit 'exit'
	option offer '1'
	option capacity_mbit '200'
`);
  assert.equal(r.errors, []);
  assert.equal(r.warnings, []);
  const s = r.settings;
  assert.equal([s.enabled, s.ifname, s.listenPort, s.stateDir, s.logLevel, s.nodeName, s.ubusSocket], [false, 'mesh0', 4242, '/srv/kith', 'debug', 'garden-shed', '/tmp/ubus.sock']);
  assert.equal(s.endpoints, [{ host: '203.0.113.7', port: 4242 }, { host: '2001:db8::1', port: 4242 }, { host: 'vpn.example.net', port: 4242 }]);
  assert.equal(s.dns, { enabled: false, port: 5300, listen: ['192.168.1.1'], listenOverlay: true, forward: true, upstreams: [{ address: '9.9.9.9', port: 53 }, { address: '2620:fe::fe', port: 5353 }] });
  assert.equal(s.subnets, [{ prefix: '192.168.1.0/24', family: 4 }, { prefix: 'fd00:0:0:1::/64', family: 6 }]);
  assert.equal(s.services, [{ name: 'nas', port: 445, proto: 'tcp', type: null, host: null }, { name: 'cam', port: 554, proto: 'udp', type: 'rtsp', host: '192.168.1.30' }]);
  assert.equal(s.exit, { offer: true, capacityMbit: 200, use: null });
});

// [the two lines before the bad option, option, bad value, expected fragment]; the bad option is on line 3.
const MAIN = "config kith 'main'\n# note\n";
const DNS = "config dns 'dns'\n# note\n";
const SUBNET = 'config subnet\n# note\n';
const SERVICE = "config service\n\toption name 'web'\n";
const EXIT = "config exit 'exit'\n# note\n";
const BAD: [string, string, string, string][] = [
  [MAIN, 'enabled', '2', '(expected 0 or 1)'],
  [MAIN, 'ifname', 'averyverylongname', '(expected an interface name of 1-15 characters'],
  [MAIN, 'ifname', 'br/lan', 'interface name'],
  [MAIN, 'listen_port', 'x', '(expected a port 1-65535)'],
  [MAIN, 'listen_port', '0', '(expected a port 1-65535)'],
  [MAIN, 'listen_port', '65536', '(expected a port 1-65535)'],
  [MAIN, 'state_dir', 'relative/dir', '(expected an absolute path)'],
  [MAIN, 'log_level', 'loud', '(expected one of debug, info, warn, error)'],
  [MAIN, 'endpoint', '203.0.113.7', '(expected host:port'],
  [MAIN, 'endpoint', '2001:db8::1:51820', 'write IPv6 addresses in brackets'],
  [MAIN, 'endpoint', '1.2.3.256:1', '(expected host:port'],
  [MAIN, 'node_name', '-bad', '(expected a DNS label'],
  [MAIN, 'ubus_socket', 'ubus.sock', '(expected an absolute path)'],
  [DNS, 'enabled', 'maybe', '(expected 0 or 1)'],
  [DNS, 'port', '53x', '(expected a port 1-65535)'],
  [DNS, 'listen', '127.0.0.01', '(expected an IP address, or "overlay"'],
  [DNS, 'forward', 'sometimes', '(expected 0 or 1)'],
  [DNS, 'upstream', '9.9.9.9#0', '(expected an IP address with an optional #port'],
  [SUBNET, 'prefix', '192.168.1.1/24', 'host bits are set; did you mean 192.168.1.0/24?'],
  [SUBNET, 'prefix', '10.0.0.0/33', '(expected a network in CIDR form'],
  [SUBNET, 'prefix', 'fd00::/129', '(expected a network in CIDR form'],
  [SERVICE, 'port', 'http', '(expected a port 1-65535)'],
  [SERVICE, 'proto', 'sctp', '(expected one of tcp, udp)'],
  [SERVICE, 'type', '_http._tcp', '(expected a DNS label'],
  [SERVICE, 'host', '192.168.1.256', '(expected an IPv4 address)'],
  [SERVICE, 'host', 'fd00::5', '(expected an IPv4 address)'],
  [EXIT, 'offer', 'y', '(expected 0 or 1)'],
  [EXIT, 'capacity_mbit', '1.5', '(expected a whole number 1-100000 (Mbit/s))'],
];

for (const [header, option, value, fragment] of BAD) {
  const section = /^config (\S+)/.exec(header)![1]!;
  test(`error: ${section} ${option} = ${JSON.stringify(value)}`, () => {
    const rest = section === 'service' && option !== 'port' ? "\toption port '80'\n" : '';
    const r = check(`${header}\toption ${option} '${value}'\n${rest}`);
    assert.is(r.errors.length, 1, JSON.stringify(r.errors));
    const e = r.errors[0]!;
    assert.is(e.option, option);
    assert.is(e.line, 3);
    assert.is(e.file, FILE);
    assert.ok(e.detail.startsWith(`value is ${JSON.stringify(value)} `) && e.detail.includes(fragment), e.detail);
    assert.is(e.message, `Cannot parse option "${option}" in section "${e.section}": ${e.detail}`);
  });
}

test('a service host must be on a subnet this node advertises, whatever the order of the sections', () => {
  const svc = (host: string) => `config service\n\toption name 'nas'\n\toption port '445'\n\toption host '${host}'\n\n`;
  const subnet = "config subnet\n\toption prefix '192.168.1.0/24'\n\n";
  assert.equal(check(svc('192.168.1.20') + subnet).errors, []);
  assert.equal(check(subnet + svc('192.168.1.20')).errors, []);
  const off = check(subnet + svc('192.168.2.20'));
  assert.equal(where(off.errors), [[7, 'kith.@service[0]', 'host']]);
  assert.is(off.errors[0]!.detail, '192.168.2.20 is on none of the subnets this node advertises (config subnet)');
});

test('every problem at once, with file, line, section and option', () => {
  const r = check(`config kith 'main'
	option listen_port 'x'
	option log_level 'loud'
	option enabeld '1'
	list ifname 'a'
	list ifname 'b'

config subnet
	option prefix '10.1.0.0/16'
config subnet
	option prefix '10.1.0.0/16'
config subnet
	option comment 'no prefix'

config service
	option name 'web'
	option port '80'
config service
	option name 'Web'
	option port '8080'

config peer 'p'
config dns 'other'
config exit 'exit'
	option offer '1'
	option use '1'
`);
  assert.equal(where(r.errors), [
    [2, 'kith.main', 'listen_port'], [3, 'kith.main', 'log_level'], [5, 'kith.main', 'ifname'],
    [12, 'kith.@subnet[2]', null], [19, 'kith.@service[1]', 'name'], [26, 'kith.exit', 'use'],
  ]);
  assert.equal(where(r.warnings), [
    [4, 'kith.main', 'enabeld'], [11, 'kith.@subnet[1]', 'prefix'], [13, 'kith.@subnet[2]', 'comment'], [22, 'kith.p', null], [23, 'kith.other', null],
  ]);
  assert.is(formatProblem(r.errors[0]!), '/etc/config/kith:2: section "kith.main" option "listen_port": value is "x" (expected a port 1-65535)');
  assert.is(r.errors[0]!.message, 'Cannot parse option "listen_port" in section "kith.main": value is "x" (expected a port 1-65535)');
  assert.match(r.errors[2]!.detail, /takes one value but is a list of 2 items/);
  assert.match(r.warnings[0]!.detail, /unknown option, ignored \(did you mean "enabled"\?\)/);
  assert.match(r.warnings[3]!.detail, /unknown section type "peer", ignored/);
  assert.match(r.warnings[4]!.detail, /read from config dns 'dns'/);
  assert.equal(r.settings.listenPort, 51820, 'invalid values fall back to defaults');
  assert.equal(r.settings.subnets, [{ prefix: '10.1.0.0/16', family: 4 }]);
  assert.equal(r.settings.services.map((s) => s.name), ['web']);
});

test('subnets: /0 to /7 (IPv6 /0 to /15), reserved ranges and, once the network is known, its pool and ULA are refused with one line naming the option', () => {
  const net = { ipv4Pool: { base: 0x64400000, len: 10 }, ula48: new Uint8Array([0xfd, 1, 2, 3, 4, 5]) };
  const cases: [string, string, boolean][] = [
    ['0.0.0.0/0', 'shorter than /8', false], ['10.0.0.0/7', 'shorter than /8', false], ['::/0', 'shorter than /16', false],
    ['2000::/3', 'shorter than /16', false], ['127.0.0.0/8', '127.0.0.0/8 (loopback)', false], ['fe80::/64', 'link-local', false],
    ['100.64.1.0/24', "the network's IPv4 pool 100.64.0.0/10", true], ['fd01:203:405:9::/64', "the network's ULA fd01:203:405::/48", true],
  ];
  for (const [prefix, fragment, needsNet] of cases) {
    const text = `config subnet\n\toption prefix '${prefix}'\n`;
    const r = validateKithSettings(parseUci(text, FILE), { file: FILE, network: net });
    assert.is(r.errors.length, 1, prefix);
    const e = r.errors[0]!;
    assert.is(e.option, 'prefix');
    assert.ok(e.detail.startsWith(`${prefix} cannot be advertised: `) && e.detail.includes(fragment) && !e.detail.includes('\n'), e.detail);
    assert.is(formatProblem(e), `${FILE}:2: section "kith.@subnet[0]" option "prefix": ${e.detail}`);
    assert.equal(r.settings.subnets, [], 'nothing of it is kept');
    assert.is(check(text).errors.length, needsNet ? 0 : 1, `${prefix} without a network`);
  }
  const ok = validateKithSettings(parseUci("config subnet\n\toption prefix '198.18.1.0/24'\n", FILE), { file: FILE, network: net });
  assert.equal(ok.errors, []);
  const nested = check("config subnet\n\toption prefix '10.0.0.0/8'\nconfig subnet\n\toption prefix '10.1.0.0/16'\n");
  assert.equal(nested.settings.subnets.map((x) => x.prefix), ['10.0.0.0/8']);
  assert.equal(nested.warnings.map((w) => w.detail), ['10.1.0.0/16 overlaps 10.0.0.0/8 of section "kith.@subnet[0]" (members route only the first); ignored']);
});

test('a single option where a list is expected counts as one item; list items report their own lines', () => {
  const r = check("config kith 'main'\n\toption endpoint 'a.example:1'\nconfig dns 'dns'\n\tlist upstream '1.1.1.1'\n\tlist upstream 'nope'\n");
  assert.equal(r.settings.endpoints, [{ host: 'a.example', port: 1 }]);
  assert.equal(where(r.errors), [[5, 'kith.dns', 'upstream']]);
  assert.match(r.errors[0]!.detail, /^item 2 is "nope"/);
});

test('limits: too many list items is an error', () => {
  const items = Array.from({ length: 17 }, (_, i) => `\tlist endpoint 'h${i}.example:1'\n`).join('');
  const r = check(`config kith 'main'\n${items}`);
  assert.match(r.errors[0]!.detail, /has 17 items, at most 16 are allowed/);
  assert.is(r.settings.endpoints.length, 16);
});

test('capacity without offering an exit is a warning', () => {
  const r = check("config exit 'exit'\n\toption capacity_mbit '50'\n");
  assert.equal(where(r.warnings), [[2, 'kith.exit', 'capacity_mbit']]);
  assert.is(r.settings.exit.capacityMbit, 50);
});

test('readKithSettings reports syntax errors and value errors together and keeps the good sections', () => {
  const r = readKithSettings("config kith 'main'\n\toption listen_port 'x'\n\toption bad-name 1\n\nconfig service\n\toption name 'ssh'\n\toption port '22'\n\toption note 'unterminated\n");
  assert.equal(r.errors.map((p) => [p.line, p.option ?? null]), [[2, 'listen_port'], [3, null], [8, null]]);
  assert.is(formatProblem(r.errors[1]!), '/etc/config/kith:3: invalid option name "bad-name": only letters, digits and _ are allowed');
  assert.match(r.errors[2]!.message, /^Syntax error: unterminated ' quote/);
  assert.equal(r.settings.services, [{ name: 'ssh', port: 22, proto: 'tcp', type: null, host: null }]);
});

test.run();
