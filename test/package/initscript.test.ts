/// <reference types="node" />
// /etc/init.d/kith as procd sees it: its actions run with dash under
// stand-ins for rc.common, procd.sh and functions.sh (test/package/support),
// reading /etc/config/kith through the `uci` stand-in. Checks the instance
// and triggers sent to procd, that "enabled 0" starts nothing, what a
// reload does when kithd runs and when it does not, and the firewall rules
// the instance publishes for fw4 (one per advertised subnet).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DASH, kithIpk, ROOT, run, tempDir, toolBin } from './support/package.ts';
import { RELOAD_DELAY_MS, RESPAWN_DEFAULTS, runInitScript, type ProcdEvent, type ServiceMessage } from './support/procd.ts';

const INIT = join(ROOT, 'rootfs/etc/init.d/kith');
const DEFAULT_CONFIG = readFileSync(join(ROOT, 'rootfs/etc/config/kith'), 'utf8');
/** The package's file with kith.main.enabled (its first "enabled") set to 0. */
const DISABLED_CONFIG = DEFAULT_CONFIG.replace("option enabled '1'", "option enabled '0'");

const TRIGGERS = [
  ['config.change', ['if', ['eq', 'package', 'kith'], ['run_script', '/etc/init.d/kith', 'reload']], RELOAD_DELAY_MS],
  ['interface.*', ['if', ['eq', 'interface', 'wan'], ['run_script', '/etc/init.d/kith', 'reload']], RELOAD_DELAY_MS],
];

const KITHD_INSTANCE = {
  command: ['/usr/sbin/kithd', '--config', '/etc/config/kith'],
  env: { TJS_HOME: '/tmp/kith-tjs', KITH_RUN_DIR: '/var/run/kith' },
  respawn: RESPAWN_DEFAULTS,
  reload_signal: 1,
  stdout: true,
  stderr: true,
  data: { firewall: [] as unknown[] },
};

/** What fw4 makes of a "config subnet": kith -> that prefix, any protocol, nothing else. */
const subnetRule = (prefix: string) => ({ type: 'rule', src: 'kith', dest: '*', dest_ip: prefix, proto: 'all', target: 'ACCEPT' });
const FIREWALL_CHANGED: ProcdEvent = { kind: 'config_changed', package: 'firewall' };

async function action(name: string, config: string, running = false, stderr = '') {
  const dir = tempDir('kith-init-');
  const confDir = join(dir, 'config');
  mkdirSync(confDir);
  writeFileSync(join(confDir, 'kith'), config);
  const r = runInitScript(INIT, name, { confDir, path: await toolBin(), running, dir });
  assert.is(r.status, 0, `${name}: exit ${r.status}\n${r.stderr}`);
  assert.is(r.stderr, stderr, `${name} wrote to stderr`);
  assert.equal(r.errors, [], `${name}: procd API misuse`);
  return r.events;
}

const service = (instances: Record<string, unknown>): ProcdEvent => ({
  kind: 'service', msg: { method: 'set', name: 'kith', script: INIT, instances, triggers: TRIGGERS } as ServiceMessage,
});

test('the script parses with dash and sets what rc.common and procd need', () => {
  assert.is(run(DASH, ['-n', INIT]).status, 0);
  const text = readFileSync(INIT, 'utf8');
  assert.ok(text.startsWith('#!/bin/sh /etc/rc.common\n'));
  for (const line of ['USE_PROCD=1', 'START=95', 'STOP=10']) assert.match(text, new RegExp(`^${line}$`, 'm'));
});

test('start: one kithd instance with the config file, respawn, syslog, runtime files in RAM, reload by SIGHUP', async () => {
  const events = await action('start', DEFAULT_CONFIG);
  assert.equal(events, [service({ kithd: KITHD_INSTANCE }), FIREWALL_CHANGED]);
  const env = KITHD_INSTANCE.env;
  assert.ok(env.TJS_HOME.startsWith('/tmp/'), 'the runtime never writes to flash');
  assert.ok(env.KITH_RUN_DIR.startsWith('/var/run/'));
});

test('start with enabled 0: no instance, but the triggers are registered so enabling later starts kithd', async () => {
  assert.ok(DISABLED_CONFIG.includes("option enabled '0'"));
  assert.equal(await action('start', DISABLED_CONFIG), [service({}), FIREWALL_CHANGED]);
});

test('reload while kithd runs: the instance is re-sent (unchanged), then kithd gets SIGHUP', async () => {
  assert.equal(await action('reload', DEFAULT_CONFIG, true), [
    { kind: 'running', service: 'kith', instance: 'kithd' },
    service({ kithd: KITHD_INSTANCE }),
    FIREWALL_CHANGED,
    { kind: 'signal', service: 'kith', instance: 'kithd', signal: 1 },
  ]);
});

test('reload while kithd is not running starts it without a signal', async () => {
  assert.equal(await action('reload', DEFAULT_CONFIG, false), [
    { kind: 'running', service: 'kith', instance: 'kithd' },
    service({ kithd: KITHD_INSTANCE }),
    FIREWALL_CHANGED,
  ]);
});

test('reload after setting enabled 0: the instance is withdrawn (procd stops kithd) and no signal is sent', async () => {
  assert.equal(await action('reload', DISABLED_CONFIG, true), [
    { kind: 'running', service: 'kith', instance: 'kithd' },
    service({}),
    FIREWALL_CHANGED,
  ]);
});

test('firewall: one rule kith -> prefix per "config subnet", published with the instance, in order', async () => {
  const config = `${DEFAULT_CONFIG}\nconfig subnet\n\toption prefix '192.168.1.0/24'\n\nconfig subnet 'iot'\n\toption prefix 'fd00:1:2::/64'\n`;
  const events = await action('start', config);
  assert.equal(events, [
    service({ kithd: { ...KITHD_INSTANCE, data: { firewall: [subnetRule('192.168.1.0/24'), subnetRule('fd00:1:2::/64')] } } }),
    FIREWALL_CHANGED,
  ]);
});

test('firewall: a reload publishes the subnets of the file as it is now, and asks fw4 to reload', async () => {
  const config = `${DEFAULT_CONFIG}\nconfig subnet\n\toption prefix '10.20.0.0/16'\n`;
  assert.equal(await action('reload', config, true), [
    { kind: 'running', service: 'kith', instance: 'kithd' },
    service({ kithd: { ...KITHD_INSTANCE, data: { firewall: [subnetRule('10.20.0.0/16')] } } }),
    FIREWALL_CHANGED,
    { kind: 'signal', service: 'kith', instance: 'kithd', signal: 1 },
  ]);
});

test('firewall: a prefix shorter than /8, or not a prefix, is not published (it would open the whole LAN)', async () => {
  const bad = ['0.0.0.0/0', '10.0.0.0/7', '::/0', 'fd00::/7', 'lan', '192.168.1.0', '192.168.1.0/33', '1.2.3.4/x'];
  const config = `${DEFAULT_CONFIG}${bad.map((p) => `\nconfig subnet\n\toption prefix '${p}'\n`).join('')}\nconfig subnet\n\toption prefix '192.168.7.0/24'\n`;
  const stderr = bad.map((p) => `kith: subnet "${p}": not a prefix of /8 or longer; the firewall does not forward to it\n`).join('');
  const events = await action('start', config, false, stderr);
  assert.equal(events, [service({ kithd: { ...KITHD_INSTANCE, data: { firewall: [subnetRule('192.168.7.0/24')] } } }), FIREWALL_CHANGED]);
});

test('stop: procd drops the instance and its rules, and fw4 is asked to reload', async () => {
  const events = await action('stop', DEFAULT_CONFIG, true);
  assert.equal(events, [{ kind: 'kill', service: 'kith', instance: '' }, FIREWALL_CHANGED]);
});

test('the packaged init script is the one tested here', () => {
  assert.is(readFileSync(join(kithIpk().pkg.root, 'etc/init.d/kith'), 'utf8'), readFileSync(INIT, 'utf8'));
});

test('every shell script in the package parses with dash', () => {
  for (const rel of ['etc/init.d/kith', 'etc/uci-defaults/90-kith-firewall', 'etc/uci-defaults/91-kith-dnsmasq', 'usr/bin/kith', 'usr/sbin/kithd']) {
    const r = run(DASH, ['-n', join(kithIpk().pkg.root, rel)]);
    assert.is(r.status, 0, `${rel}: ${r.stderr}`);
  }
});

test.run();
