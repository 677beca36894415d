/// <reference types="node" />
// rootfs/ itself and the image overlay: /etc/config/kith validates with no
// errors or warnings (its commented examples too), every file says what it
// owns, and build/image.mjs's overlay is the package's tree plus the
// /etc/rc.d links that enabling the init script makes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { needs } from '../support/needs.ts';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { formatProblem, readKithSettings } from '../../src/uci/index.ts';
import { EPOCH, ensureBundles, kithIpk, listTar, mustRun, ROOT, run, tempDir, unpackIpk } from './support/package.ts';

function walkFiles(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walkFiles(p).map((f) => relative(dir, join(p, f))) : [name];
  });
}

const CONFIG = readFileSync(join(ROOT, 'rootfs/etc/config/kith'), 'utf8');

test('/etc/config/kith: no errors, no warnings, the documented defaults', () => {
  const r = readKithSettings(CONFIG, { file: '/etc/config/kith' });
  assert.equal(r.errors.map(formatProblem), []);
  assert.equal(r.warnings.map(formatProblem), []);
  assert.equal(r.settings, {
    enabled: true, ifname: 'kith0', listenPort: 51820, stateDir: '/etc/kith', logLevel: 'info', endpoints: [], nodeName: null,
    ubusSocket: '/var/run/ubus/ubus.sock', portmap: true,
    dns: { enabled: true, port: 5353, listen: ['127.0.0.1'], listenOverlay: true, forward: false, upstreams: [] },
    subnets: [], services: [], exit: { offer: false, capacityMbit: null, use: null },
  });
});

test('/etc/config/kith: every commented-out example is valid once uncommented', () => {
  const EXAMPLE = /^(\s*)#(?=option |list |config |\t)/;
  const examples = CONFIG.split('\n').map((l) => l.replace(EXAMPLE, '$1')).join('\n');
  const uncommented = CONFIG.split('\n').filter((l) => EXAMPLE.test(l)).length;
  assert.ok(uncommented >= 10, `only ${uncommented} examples found`);
  const r = readKithSettings(examples, { file: '/etc/config/kith' });
  assert.equal(r.errors.map(formatProblem), []);
  assert.equal(r.warnings.map(formatProblem), []);
  assert.is(r.settings.subnets.length, 1);
  assert.is(r.settings.services.length, 1);
  assert.is(r.settings.endpoints.length, 2);
});

test('every file in rootfs/ opens with a comment naming the path it owns', () => {
  for (const rel of walkFiles(join(ROOT, 'rootfs'))) {
    const lines = readFileSync(join(ROOT, 'rootfs', rel), 'utf8').split('\n');
    const first = lines[0]!.startsWith('#!') ? lines[1]! : lines[0]!;
    assert.ok(first.startsWith(`# /${rel}: `), `rootfs/${rel} starts with "${first}"`);
  }
});

test('build/image.mjs: the package tree plus the rc.d links, owned by 0/0, reproducible', () => {
  ensureBundles();
  const build = () => {
    const out = tempDir('kith-image-');
    mustRun(process.execPath, [join(ROOT, 'build/image.mjs'), '--out', out], { cwd: ROOT, env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH), TJS: '' } });
    return join(out, 'kith-rootfs.tar.gz');
  };
  const file = build();
  const overlay = listTar(file);
  // The overlay holds everything both packages install (luci-app-kith once luci-app/ has files).
  const { file: kithFile, pkg: kithPkg } = kithIpk();
  const luciFile = join(dirname(kithFile), basename(kithFile).replace(/^kith_/, 'luci-app-kith_'));
  const byPath = new Map(kithPkg.data.map((m) => [m.path, m]));
  if (existsSync(luciFile)) for (const m of unpackIpk(luciFile).data) if (!byPath.has(m.path)) byPath.set(m.path, m);
  const pkg = [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const init = readFileSync(join(ROOT, 'rootfs/etc/init.d/kith'), 'utf8');
  const start = /^START=(\d+)$/m.exec(init)![1];
  const stopAt = /^STOP=(\d+)$/m.exec(init)![1];
  const links = overlay.filter((m) => m.path.startsWith('./etc/rc.d/'));
  assert.equal(links.map((m) => [m.mode[0], m.path, m.link]), [
    ['d', './etc/rc.d/', undefined], ['l', `./etc/rc.d/K${stopAt}kith`, '../init.d/kith'], ['l', `./etc/rc.d/S${start}kith`, '../init.d/kith'],
  ]);
  const rest = overlay.filter((m) => !m.path.startsWith('./etc/rc.d/'));
  const sorted = [...rest].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  assert.equal(sorted.map((m) => [m.mode, m.path, m.size]), pkg.map((m) => [m.mode, m.path, m.size]));
  for (const m of overlay) assert.is(m.owner, '0/0', m.path);
  assert.is(readFileSync(build()).compare(readFileSync(file)), 0, 'same bytes on a second build');
});

needs(Boolean(process.env.TJS), 'txiki.js', 'set TJS=/path/to/tjs')('build/image.mjs with TJS: kithd compiled into one executable', () => {
  const out = tempDir('kith-image-tjs-');
  mustRun(process.execPath, [join(ROOT, 'build/image.mjs'), '--out', out], { cwd: ROOT, env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) } });
  const r = run(join(out, 'kithd'), ['--help']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /usage: kithd \[--config FILE\]/);
});

test.run();
