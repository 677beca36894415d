/// <reference types="node" />
// The Debian package from build/deb.mjs: its control fields, file tree and
// modes (the state directory 0700, nothing world-writable, no native code),
// no path of the build machine inside, the conffile's defaults equal to
// OpenWrt's, and on this machine (root, dpkg): dpkg -i installs it (the
// wrappers run, kith config check finds /etc/kith/kith.conf, systemd-analyze
// accepts the unit, dnsmasq gets its drop-in), dpkg -r leaves only the
// conffile, dpkg -P leaves nothing. The package is purged again in any case.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBundles, EPOCH, mustRun, ROOT, run, tempDir, VERSION } from './support/package.ts';
import { needs } from '../support/needs.ts';
import { readKithSettings } from '../../src/uci/settings.ts';

const have = (cmd: string) => run('sh', ['-c', `command -v ${cmd}`]).status === 0;
const withDpkg = needs(have('dpkg-deb'), 'dpkg-deb', 'apt-get install dpkg');

let built: string | null = null;
function deb(): string {
  if (built) return built;
  ensureBundles();
  const out = tempDir('kith-deb-');
  built = mustRun(process.execPath, [join(ROOT, 'build/deb.mjs'), '--out', out], { cwd: ROOT, env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) } }).trim();
  return built;
}

const field = (info: string, name: string) => new RegExp(`^ ${name}: (.*)$`, 'm').exec(info)?.[1];

withDpkg('dpkg-deb --info: name, version from package.json, architecture all, dependencies, conffile', () => {
  const file = deb();
  assert.ok(file.endsWith(`/kith_${VERSION}_all.deb`), file);
  const info = mustRun('dpkg-deb', ['--info', file]);
  assert.is(field(info, 'Package'), 'kith');
  assert.is(field(info, 'Version'), VERSION);
  assert.is(field(info, 'Architecture'), 'all');
  assert.is(field(info, 'Depends'), 'nodejs (>= 18), wireguard-tools, nftables, iproute2, procps');
  assert.ok(Number(field(info, 'Installed-Size')) > 400, 'Installed-Size in KiB');
  assert.is(mustRun('dpkg-deb', ['-I', file, 'conffiles']), '/etc/kith/kith.conf\n');
  for (const s of ['postinst', 'prerm', 'postrm']) assert.match(mustRun('dpkg-deb', ['-I', file, s]), /^#!\/bin\/sh\n/);
});

/** [mode, owner, path] of every member, in the archive's order. */
function contents(file: string): [string, string, string][] {
  return mustRun('dpkg-deb', ['--contents', file]).trim().split('\n').map((l) => {
    const [mode, owner, , , , path] = l.split(/\s+/);
    return [mode!, owner!, path!];
  });
}

withDpkg('dpkg-deb --contents: the exact tree and modes, root-owned, state directory 0700, no native addon', () => {
  const members = contents(deb());
  const D = 'drwxr-xr-x', X = '-rwxr-xr-x', F = '-rw-r--r--';
  assert.equal(members.map(([m, , p]) => [m, p]), [
    [D, './'], [D, './etc/'], [D, './etc/kith/'], [F, './etc/kith/kith.conf'],
    [D, './usr/'], [D, './usr/bin/'], [X, './usr/bin/kith'],
    [D, './usr/lib/'], [D, './usr/lib/kith/'], [F, './usr/lib/kith/kith.mjs'], [F, './usr/lib/kith/kithd.mjs'],
    [D, './usr/lib/systemd/'], [D, './usr/lib/systemd/system/'], [F, './usr/lib/systemd/system/kith.service'],
    [D, './usr/sbin/'], [X, './usr/sbin/kithd'],
    [D, './usr/share/'], [D, './usr/share/doc/'], [D, './usr/share/doc/kith/'], [F, './usr/share/doc/kith/README.Debian'], [F, './usr/share/doc/kith/copyright'],
    [D, './var/'], [D, './var/lib/'], ['drwx------', './var/lib/kith/'],
  ]);
  for (const [mode, owner, path] of members) {
    assert.is(owner, 'root/root', path);
    assert.is(mode[8], '-', `${path} is not world-writable (${mode})`);
    assert.not.match(path, /\.node$/, 'no architecture-specific file in an _all package');
  }
});

withDpkg('no path of the build machine and no source map inside the package', () => {
  const dir = tempDir('kith-deb-x-');
  mustRun('dpkg-deb', ['-x', deb(), dir]);
  mustRun('dpkg-deb', ['-e', deb(), join(dir, 'DEBIAN')]);
  const needles = [ROOT.replace(/\/$/, ''), join(tmpdir(), 'deb-kith-'), join(tmpdir(), 'kith-deb-'), '/home/', '/root/'];
  const r = run('grep', ['-rlF', ...needles.flatMap((n) => ['-e', n]), dir]);
  assert.is(r.status, 1, `grep found build-machine paths in: ${r.stdout}`);
  const kithd = readFileSync(join(dir, 'usr/lib/kith/kithd.mjs'), 'utf8');
  assert.not.match(kithd, /sourceMappingURL=data:/);
  assert.match(kithd, /^#!\/usr\/bin\/env node\n/);
  assert.match(readFileSync(join(dir, 'usr/sbin/kithd'), 'utf8'), /\nexec \/usr\/bin\/node \/usr\/lib\/kith\/kithd\.mjs "\$@"\n/);
  assert.match(readFileSync(join(dir, 'usr/share/doc/kith/README.Debian'), 'utf8'), /\/etc\/kith\/kith\.conf/);
});

test('the conffile has the defaults of OpenWrt\'s /etc/config/kith', () => {
  const read = (f: string) => readKithSettings(readFileSync(join(ROOT, f)), { file: f, defaults: { dnsPort: 5353 }, network: null });
  const debian = read('deb/kith.conf');
  const openwrt = read('rootfs/etc/config/kith');
  assert.equal([debian.errors, debian.warnings], [[], []]);
  assert.equal(debian.settings, openwrt.settings);
});

test('the unit runs kithd with the conffile, the state directory and the socket kith looks for', () => {
  const unit = readFileSync(join(ROOT, 'deb/kith.service'), 'utf8');
  const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1];
  assert.is(exec, '/usr/sbin/kithd --config /etc/kith/kith.conf --state-dir /var/lib/kith --socket /run/kith/kithd.sock');
  assert.match(unit, /^StateDirectory=kith\nStateDirectoryMode=0700$/m);
  assert.match(unit, /^RuntimeDirectory=kith$/m);
  assert.match(unit, /^Environment=KITH_RUN_DIR=\/run\/kith$/m);
  assert.match(unit, /^CapabilityBoundingSet=CAP_NET_ADMIN$/m);
  assert.match(unit, /^RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK$/m);
  for (const s of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'Restart=on-failure']) assert.ok(unit.includes(`\n${s}\n`), s);
});

// ---- installing on this machine (a disposable CI box) ----

const installedBefore = run('dpkg-query', ['-W', '-f=${Status}', 'kith']).stdout.includes('installed');
const canInstall = have('dpkg') && process.getuid?.() === 0 && !installedBefore;
const withInstall = needs(canInstall, 'root, dpkg and no kith package installed already',
  installedBefore ? 'kith is installed on this machine: dpkg -P kith' : 'run as root on Debian');
const withAnalyze = canInstall
  ? needs(have('systemd-analyze'), 'systemd-analyze', 'apt-get install systemd (make deps)')
  : needs(false, 'the installed package for systemd-analyze verify', 'see the dpkg -i test');

const dpkg = (...args: string[]) => run('dpkg', args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
const purge = () => { if (run('dpkg-query', ['-W', '-f=${Status}', 'kith']).stdout.trim()) dpkg('-P', 'kith'); };
const DROPIN = '/etc/dnsmasq.d/kith';
const dnsmasqDir = existsSync('/etc/dnsmasq.d');

withInstall('dpkg -i installs it: wrappers, config check against /etc/kith/kith.conf, state 0700, dnsmasq drop-in', () => {
  try {
    const r = dpkg('-i', deb());
    assert.is(r.status, 0, r.stdout + r.stderr);
    assert.is(statSync('/var/lib/kith').mode & 0o777, 0o700);
    const help = run('/usr/bin/kith', ['--help']);
    assert.is(help.status, 0, help.stderr);
    assert.match(help.stdout, /config check \[--file F\]/);
    const dhelp = run('/usr/sbin/kithd', ['--help']);
    assert.is(dhelp.status, 0, dhelp.stderr);
    assert.match(dhelp.stdout, /KITH_RUN_DIR/);
    if (!existsSync('/etc/config/kith')) {
      const check = run('/usr/bin/kith', ['config', 'check', '--json']);
      assert.is(check.status, 0, check.stderr);
      const j = JSON.parse(check.stdout);
      assert.is(j.file, '/etc/kith/kith.conf');
      assert.is(j.ok, true);
      assert.is(j.settings.dns.port, 5353);
    }
    if (dnsmasqDir) {
      assert.is(readFileSync(DROPIN, 'utf8').match(/^server=.*$/m)?.[0], 'server=/internal/127.0.0.1#5353');
      assert.is(statSync(DROPIN).mode & 0o777, 0o644);
    }
  } catch (e) {
    purge();
    throw e;
  }
});

withAnalyze('systemd-analyze verify accepts the installed unit', () => {
  try {
    const r = run('systemd-analyze', ['verify', '/usr/lib/systemd/system/kith.service']);
    assert.is(r.status, 0, r.stdout + r.stderr);
    assert.is(r.stderr.trim(), '', 'no warnings');
  } catch (e) {
    purge();
    throw e;
  }
});

withInstall('dpkg -r leaves only the conffile (and the state directory), dpkg -P leaves nothing', () => {
  try {
    mustRun('sh', ['-c', 'echo "{}" >/var/lib/kith/state.json && chmod 600 /var/lib/kith/state.json']);
    const r = dpkg('-r', 'kith');
    assert.is(r.status, 0, r.stdout + r.stderr);
    for (const f of ['/usr/bin/kith', '/usr/sbin/kithd', '/usr/lib/kith', '/usr/lib/systemd/system/kith.service', '/usr/share/doc/kith', DROPIN, '/run/kith']) {
      assert.not.ok(existsSync(f), `${f} is gone after dpkg -r`);
    }
    assert.ok(existsSync('/etc/kith/kith.conf'), 'the conffile stays until purge');
    assert.ok(existsSync('/var/lib/kith/state.json'), 'the node\'s state stays until purge');
    assert.is(run('dpkg-query', ['-W', '-f=${Status}', 'kith']).stdout, 'deinstall ok config-files');
    const p = dpkg('-P', 'kith');
    assert.is(p.status, 0, p.stdout + p.stderr);
    for (const f of ['/etc/kith', '/var/lib/kith']) assert.not.ok(existsSync(f), `${f} is gone after dpkg -P`);
    assert.is(run('dpkg-query', ['-W', 'kith']).status, 1, 'dpkg knows nothing of kith');
  } finally {
    purge();
  }
});

test.run();
