/// <reference types="node" />
// Kith's firewall defaults in OpenWrt's real firewall4, with real packets:
// 90-kith-firewall runs on a copy of a stock config dir, the kith init script
// publishes its procd firewall data, fw4 renders the ruleset from both, nft
// loads it into a router namespace, and hosts on the lan, wan, kith0 and
// kith0e sides probe it. A neighbour reaches kithd's control port, its
// overlay DNS, the end-to-end WireGuard port and ICMP, and other neighbours
// through this node (relaying); not the router's LuCI, SSH or dnsmasq, and of
// the LAN only the subnets this node advertises.
//
// Needs root, ip, nft, python3 and the router userland beside the project
// (../shared/router: bin/fw4-netns-check and the tools it uses), or
// FW4_NETNS_CHECK=/path/to/bin/fw4-netns-check (the Makefile sets it; empty
// means missing). Without them the test is reported skipped, and fails under
// KITH_REQUIRE_ALL=1 (CI).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { needs } from '../support/needs.ts';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, tempDir, toolBin } from './support/package.ts';
import { runInitScript } from './support/procd.ts';
import { DEFAULT_CONTROL_PORT, e2ePort, type NetworkParams } from '../../src/core/network.ts';

const SUPPORT = fileURLToPath(new URL('./support/', import.meta.url));
const DEFAULTS = join(ROOT, 'rootfs/etc/uci-defaults/90-kith-firewall');
const INIT = join(ROOT, 'rootfs/etc/init.d/kith');
const KITH_CONFIG = readFileSync(join(ROOT, 'rootfs/etc/config/kith'), 'utf8');
const CHECK = process.env.FW4_NETNS_CHECK ?? join(ROOT, '../shared/router/bin/fw4-netns-check');
/** Long enough for a loaded 2-core machine; the runs take seconds when it is idle. */
const RUN_TIMEOUT_MS = 900_000;

function missing(): string[] {
  const out: string[] = [];
  if (!CHECK || !existsSync(CHECK)) out.push(`fw4-netns-check (${CHECK || 'FW4_NETNS_CHECK is empty'}; put the router userland in ../shared/router or set FW4_NETNS_CHECK)`);
  if (process.getuid?.() !== 0) out.push('root (network namespaces)');
  for (const tool of ['ip', 'nft', 'python3']) if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) out.push(tool);
  return out;
}

/**
 * The router tree to run: the one beside fw4-netns-check, or, where its
 * symbolic links arrived as plain files naming their target (bin/utpl ->
 * ucode, lib/libucode.so -> libucode.so.0: a copy that does not keep links),
 * a private copy with those links restored.
 */
function routerTree(): string {
  const root = dirname(dirname(CHECK));
  const flattened = (dir: string) => readdirSync(join(root, dir)).filter((name) => {
    const p = join(root, dir, name);
    if (lstatSync(p).isSymbolicLink() || statSync(p).size > 64) return false;
    const target = readFileSync(p, 'utf8').trim();
    return /^[\w.+-]+$/.test(target) && target !== name && existsSync(join(root, dir, target));
  });
  const links = [...flattened('bin').map((n) => `bin/${n}`), ...flattened('lib').map((n) => `lib/${n}`)];
  if (links.length === 0) return root;
  const copy = tempDir('kith-router-');
  for (const dir of ['bin', 'lib', 'share']) cpSync(join(root, dir), join(copy, dir), { recursive: true });
  for (const rel of links) {
    const target = readFileSync(join(root, rel), 'utf8').trim();
    rmSync(join(copy, rel));
    symlinkSync(target, join(copy, rel));
  }
  console.log(`  note: ${links.join(', ')} in ${root} are files naming their link target; running a copy with the links restored`);
  return copy;
}

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: RUN_TIMEOUT_MS, maxBuffer: 16 << 20, env });
  return { status: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** A config dir: OpenWrt's stock firewall and network, and this /etc/config/kith. */
function configDir(router: string, kith: string): string {
  const dir = join(tempDir('kith-fw-'), 'config');
  mkdirSync(dir);
  for (const f of ['firewall', 'network']) copyFileSync(join(router, 'share/fw4-reloc/config', f), join(dir, f));
  writeFileSync(join(dir, 'kith'), kith);
  return dir;
}

/** 90-kith-firewall as OpenWrt's boot runs it (sourced, then `uci commit`), with the router tree's real uci. */
function runDefaults(router: string, conf: string): void {
  const shim = tempDir('kith-uci-');
  const save = join(shim, '.uci');
  writeFileSync(join(shim, 'uci'), `#!/bin/sh\nexec '${join(router, 'bin/uci')}' -c '${conf}' -t '${save}' "$@"\n`, { mode: 0o755 });
  const r = sh('sh', ['-c', '( cd "$1" && . "$2" ) && uci commit', 'uci-defaults', shim, DEFAULTS], { ...process.env, PATH: `${shim}:${process.env.PATH}` });
  assert.is(r.status, 0, `90-kith-firewall: ${r.out}`);
}

/** The reply of `ubus call service get_data {"type":"firewall"}` while kith runs with this config. */
async function serviceData(kith: string): Promise<string> {
  const dir = tempDir('kith-procd-');
  const confDir = join(dir, 'config');
  mkdirSync(confDir);
  writeFileSync(join(confDir, 'kith'), kith);
  const r = runInitScript(INIT, 'start', { confDir, path: await toolBin(), dir });
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.errors, []);
  const svc = r.events.find((e) => e.kind === 'service');
  assert.ok(svc && svc.kind === 'service', 'start sent no service to procd');
  const data = Object.fromEntries(Object.entries(svc.msg.instances).map(([name, inst]) => [name, inst['data'] ?? {}]));
  const file = join(dir, 'service-data.json');
  writeFileSync(file, JSON.stringify({ kith: data }));
  return file;
}

type Results = Map<string, string>;

/** fw4-probe.sh: "probe FROM TO PROTO PORT RESULT" lines into FROM TO PROTO PORT -> RESULT. */
function probe(router: string, conf: string, data: string, label: string): { results: Results; nft: string; warnings: string } {
  const out = tempDir('kith-fw4-');
  const r = sh('sh', [join(SUPPORT, 'fw4-probe.sh'), router, conf, data, `kfw${process.pid % 100000}${label}`, out]);
  assert.is(r.status, 0, `fw4-probe.sh: ${r.out}`);
  const results: Results = new Map();
  for (const m of r.out.matchAll(/^probe (\S+) (\S+) (\S+) (\S+) (\S+)$/gm)) results.set(`${m[1]} ${m[2]} ${m[3]} ${m[4]}`, m[5]!);
  return { results, nft: readFileSync(join(out, 'fw4.nft'), 'utf8'), warnings: readFileSync(join(out, 'fw4.err'), 'utf8') };
}

/** What every probe of fw4-probe.sh must see, for a node with these ports and (optionally) 192.168.1.0/28 advertised. */
function expected(o: { listenPort: number; dnsPort: number; subnet: boolean }): Record<string, string> {
  const e2e = e2ePort({ controlPort: DEFAULT_CONTROL_PORT } as NetworkParams);
  const lan = o.subnet ? 'open' : 'refused';
  return {
    // the router itself, from a neighbour: LuCI, SSH, dnsmasq (overlay and LAN address) refused
    'kith 100.64.0.1 tcp 22': 'refused', 'kith 100.64.0.1 tcp 80': 'refused', 'kith 100.64.0.1 tcp 443': 'refused',
    'kith 192.168.1.1 tcp 22': 'refused', 'kith 192.168.1.1 tcp 80': 'refused', 'kith 192.168.1.1 tcp 443': 'refused',
    'kith 192.168.1.1 tcp 53': 'refused', 'kith 192.168.1.1 udp 53': 'refused', 'kith 100.64.0.1 udp 53': 'refused',
    // what kithd serves to members
    'kith 100.64.0.1 udp 51821': 'open', [`kith 100.64.0.1 udp ${o.dnsPort}`]: 'open', [`kith 100.64.0.1 tcp ${o.dnsPort}`]: 'open',
    [`kith 100.64.0.1 udp ${e2e}`]: 'open', 'kith 100.64.0.1 icmp -': 'open',
    // the LAN: only the advertised subnet (192.168.1.100 is outside 192.168.1.0/28), never the wan
    'kith 192.168.1.10 tcp 22': lan, 'kith 192.168.1.10 tcp 80': lan, 'kith 192.168.1.100 tcp 80': 'refused',
    'kith 198.51.100.2 tcp 80': 'refused',
    // kith -> kith (kith0 <-> kith0e): this node relays; the end-to-end device is in the zone
    'kith 100.64.1.2 tcp 80': 'open', 'kithe 100.64.0.2 tcp 80': 'open',
    'kithe 100.64.1.1 tcp 22': 'refused', [`kithe 100.64.1.1 udp ${e2e}`]: 'open',
    // the LAN reaches the router and the mesh
    'lan 192.168.1.1 tcp 22': 'open', 'lan 100.64.0.2 tcp 80': 'open',
    // wan: WireGuard and joining only
    [`wan 198.51.100.1 tcp ${o.listenPort}`]: 'open', [`wan 198.51.100.1 udp ${o.listenPort}`]: 'open',
    'wan 198.51.100.1 tcp 22': 'refused', 'wan 198.51.100.1 udp 51821': 'refused', [`wan 198.51.100.1 udp ${o.dnsPort}`]: 'refused',
    [`wan 198.51.100.1 udp ${e2e}`]: 'refused', 'wan 100.64.0.2 tcp 80': 'refused', 'wan 192.168.1.10 tcp 80': 'refused',
  };
}

function assertProbes(results: Results, want: Record<string, string>, what: string): void {
  const got = Object.fromEntries(Object.keys(want).map((k) => [k, results.get(k) ?? '(not probed)']));
  assert.equal(got, want, `${what}: probes that differ`);
}

const gaps = missing();
if (gaps.length > 0) {
  needs(false, gaps.join(', '), 'put ../shared/router beside the project')('firewall4 in namespaces', () => undefined);
} else {
  const router = routerTree();

  test('fw4-netns-check: stock config + 90-kith-firewall is idempotent, loads, and keeps neighbours off the router and the LAN', () => {
    const out = tempDir('kith-fw4check-');
    const conf = configDir(router, KITH_CONFIG);
    // The tool gives its listeners 5 s to start; on a loaded machine python
    // can take longer, so that one startup failure is retried (at most twice).
    let r = { status: null as number | null, out: '' };
    for (let attempt = 1; attempt <= 3; attempt++) {
      r = sh('sh', [join(router, 'bin/fw4-netns-check'), '-c', conf, '-u', DEFAULTS, '-o', out, '-p', `kfc${process.pid % 100000}`]);
      if (r.status === 0 || !/listener in \S+ did not start/.test(r.out)) break;
      console.log(`  fw4-netns-check: a listener did not start in time (attempt ${attempt} of 3)`);
    }
    assert.is(r.status, 0, r.out);
    assert.match(r.out, /run again: changed nothing \(idempotent\)/);
    assert.not.match(r.out, /fw4 print warnings/, 'fw4 warned about the config');
    const got = new Map<string, string>();
    for (const line of readFileSync(join(out, 'results.txt'), 'utf8').split('\n').slice(1)) {
      const m = /^(\S+)\s+.*?(\d+\.\d+\.\d+\.\d+) (tcp|udp|icmp)\/(\S+)\s+(\S+)/.exec(line);
      if (m) got.set(`${m[1]} ${m[2]} ${m[3]} ${m[4]}`, m[5]!);
    }
    assertProbes(got, {
      'kith 100.64.0.1 tcp 22': 'refused', 'kith 100.64.0.1 tcp 80': 'refused', 'kith 100.64.0.1 udp 53': 'refused',
      'kith 100.64.0.1 icmp -': 'open', 'kith 192.168.1.1 tcp 22': 'refused',
      'kith 192.168.1.10 tcp 22': 'refused', 'kith 192.168.1.10 tcp 80': 'refused', 'kith 198.51.100.2 tcp 80': 'refused',
      'lan 192.168.1.1 tcp 22': 'open', 'lan 100.64.0.2 tcp 80': 'open',
      'wan 198.51.100.1 tcp 51820': 'open', 'wan 198.51.100.1 udp 51820': 'open',
      'wan 198.51.100.1 tcp 22': 'refused', 'wan 198.51.100.1 udp 53': 'refused', 'wan 192.168.1.10 tcp 80': 'refused',
    }, 'fw4-netns-check');
  });

  test('no config subnet: control port, overlay DNS, end-to-end port, ICMP and relaying only; nothing of the LAN', async () => {
    const conf = configDir(router, KITH_CONFIG);
    runDefaults(router, conf);
    const { results, nft, warnings } = probe(router, conf, await serviceData(KITH_CONFIG), 'a');
    assert.is(warnings, '', 'fw4 warnings');
    assert.ok(nft.includes('comment "!fw4: Allow-Kith-ICMPv6"'), 'the ICMPv6 rule is rendered');
    // The end-to-end UDP arrives over IPv6 (between transport addresses): the rule has no family.
    assert.match(nft, /\n\t\tudp dport 51822 counter accept comment "!fw4: Allow-Kith-E2E"\n/);
    assert.not.ok(nft.includes('ubus:kith'), 'no subnet rule without a config subnet');
    assertProbes(results, expected({ listenPort: 51820, dnsPort: 5353, subnet: false }), 'no subnet');
  });

  test('config subnet 192.168.1.0/28 and other ports: that subnet only, and the rules follow listen_port and the DNS port', async () => {
    const kith = `${KITH_CONFIG.replace("option listen_port '51820'", "option listen_port '4500'").replace("option port '5353'", "option port '5300'")}
config subnet
	option prefix '192.168.1.0/28'

config subnet
	option prefix 'fd00:1:2::/64'
`;
    assert.ok(kith.includes("option listen_port '4500'") && kith.includes("option port '5300'"));
    const conf = configDir(router, kith);
    runDefaults(router, conf);
    const { results, nft, warnings } = probe(router, conf, await serviceData(kith), 'b');
    assert.is(warnings, '', 'fw4 warnings');
    assert.match(nft, /ip daddr 192\.168\.1\.0\/28 counter accept comment "!fw4: ubus:kith\[kithd\] rule 0"/);
    assert.match(nft, /ip6 daddr fd00:1:2::\/64 counter accept comment "!fw4: ubus:kith\[kithd\] rule 1"/);
    assertProbes(results, expected({ listenPort: 4500, dnsPort: 5300, subnet: true }), 'subnet 192.168.1.0/28');
  });
}

test.run();
