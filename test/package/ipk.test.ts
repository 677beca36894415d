/// <reference types="node" />
// The kith .ipk from build/ipk.mjs, unpacked the way opkg unpacks it: the
// archive layout and ownership, the exact file tree and modes, no secrets,
// the control file, conffiles and maintainer scripts, reproducible bytes,
// the runtime choice, luci-app-kith from a sample app, and agreement with
// what openwrt-feed/'s Makefile installs under OpenWrt's make rules.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { mkdirSync, readFileSync, writeFileSync, chmodSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildIpks, DASH, EPOCH, kithIpk, mustRun, ROOT, run, SUPPORT, tempDir, unpackIpk, VERSION, type Member } from './support/package.ts';

const DIR = 'drwxr-xr-x';
const EXE = '-rwxr-xr-x';
const DATA = '-rw-r--r--';
/** The kith package's data tree: [mode, path], in tar's order. */
const TREE: [string, string][] = [
  [DIR, './'], [DIR, './etc/'], [DIR, './etc/config/'], [DATA, './etc/config/kith'],
  [DIR, './etc/init.d/'], [EXE, './etc/init.d/kith'],
  [DIR, './etc/uci-defaults/'], [EXE, './etc/uci-defaults/90-kith-firewall'], [EXE, './etc/uci-defaults/91-kith-dnsmasq'],
  [DIR, './lib/'], [DIR, './lib/upgrade/'], [DIR, './lib/upgrade/keep.d/'], [DATA, './lib/upgrade/keep.d/kith'],
  [DIR, './usr/'], [DIR, './usr/bin/'], [EXE, './usr/bin/kith'], [DIR, './usr/sbin/'], [EXE, './usr/sbin/kithd'],
  [DIR, './usr/share/'], [DIR, './usr/share/kith/'],
  [DATA, './usr/share/kith/kith.js'], [DATA, './usr/share/kith/kith.mjs'], [DATA, './usr/share/kith/kithd-boot.js'], [DATA, './usr/share/kith/kithd.js'], [DATA, './usr/share/kith/kithd.mjs'],
];
const MTIME = new Date(EPOCH * 1000).toISOString().replace('T', ' ').replace('.000Z', '');

const POSTINST = '#!/bin/sh\n[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0\n[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n. ${IPKG_INSTROOT}/lib/functions.sh\ndefault_postinst $0 $@\n';
const PRERM = '#!/bin/sh\n[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n. ${IPKG_INSTROOT}/lib/functions.sh\ndefault_prerm $0 $@\n';
const DESCRIPTION = `Description:  Kith joins neighbours' routers into one private mesh network over
 WireGuard: one command founds a network, one-time invites let others
 join, and every node and service gets a name under <network>.internal.
 Needs a JavaScript runtime: txiki.js (tjs) or Node.js (node).
`;

function control(depends: string, installedSize: number): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  return `Package: kith\nVersion: ${VERSION}-1\nDepends: ${depends}\nSource: feeds/kith/net/kith\nSourceName: kith\n`
    + `License: GPL-2.0-only\nSection: net\nSourceDateEpoch: ${EPOCH}\n`
    + (pkg.homepage ? `URL: ${pkg.homepage}\n` : '')
    + (pkg.author ? `Maintainer: ${typeof pkg.author === 'string' ? pkg.author : `${pkg.author.name}${pkg.author.email ? ` <${pkg.author.email}>` : ''}`}\n` : '')
    + `Architecture: all\nInstalled-Size: ${installedSize}\n${DESCRIPTION}`;
}

const modesOf = (ms: Member[]) => ms.map((m) => [m.mode, m.path] as [string, string]);
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

test('an .ipk is a gzip\'d tar of debian-binary, data.tar.gz and control.tar.gz, all owned by 0/0', () => {
  const { file, pkg } = kithIpk();
  assert.equal(pkg.outer.map((m) => m.path), ['./debian-binary', './data.tar.gz', './control.tar.gz']);
  assert.is(pkg.debianBinary, '2.0\n');
  assert.equal(readFileSync(file).subarray(0, 2), Buffer.from([0x1f, 0x8b]), 'gzip magic, not an ar archive');
  for (const m of [...pkg.outer, ...pkg.control, ...pkg.data]) {
    assert.is(m.owner, '0/0', `${m.path} owner`);
    assert.is(m.mtime, MTIME, `${m.path} mtime is SOURCE_DATE_EPOCH`);
  }
  assert.is(gunzipSync(readFileSync(file)).subarray(257, 265).toString('latin1'), 'ustar  \0', 'GNU tar format (not POSIX ustar)');
});

test('the data tree: exactly these paths and modes', () => {
  assert.equal(modesOf(kithIpk().pkg.data), TREE);
});

test('installed files are the checkout\'s rootfs/ and bundles (Node.js bundles without their inline source map)', () => {
  const { root } = kithIpk().pkg;
  for (const [, path] of TREE.filter(([m]) => m !== DIR)) {
    const rel = path.slice(2);
    const got = readFileSync(join(root, rel));
    if (rel.startsWith('usr/share/kith/')) {
      const name = rel.slice('usr/share/kith/'.length);
      const src = readFileSync(join(ROOT, name.endsWith('.mjs') ? 'dist/node' : 'dist/txiki', name), 'utf8');
      const want = name.endsWith('.mjs') ? src.replace(/\n\/\/# sourceMappingURL=data:[^\n]*\n?$/, '\n') : src;
      assert.ok(got.toString('utf8') === want, `${rel} differs from its bundle`);
      assert.not.match(got.toString('utf8'), /sourceMappingURL=data:/, `${rel} still has an inline source map`);
    } else {
      assert.ok(got.equals(readFileSync(join(ROOT, 'rootfs', rel))), `${rel} differs from rootfs/${rel}`);
    }
  }
});

test('no secrets: nothing under /etc/kith, no state or key files', () => {
  const { pkg } = kithIpk();
  for (const m of pkg.data) {
    assert.not.ok(m.path.startsWith('./etc/kith/') || m.path === './etc/kith', `${m.path} is in the state directory`);
    assert.not.match(m.path, /state\.json|\.key$|private/i, `${m.path} looks like a secret`);
  }
  assert.is(readFileSync(join(pkg.root, 'lib/upgrade/keep.d/kith'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).join(), '/etc/kith/',
    'sysupgrade keeps the state directory');
});

test('control.tar.gz: control, conffiles, postinst, postinst-pkg, prerm with their modes', () => {
  const { pkg } = kithIpk();
  assert.equal(modesOf(pkg.control), [[DIR, './'], [DATA, './conffiles'], [DATA, './control'], [EXE, './postinst'], [EXE, './postinst-pkg'], [EXE, './prerm']]);
  assert.is(pkg.scripts['control'], control('libc, kmod-wireguard, wireguard-tools, tjs', pkg.dataTarBytes));
  assert.is(pkg.scripts['conffiles'], '/etc/config/kith\n');
  assert.is(pkg.scripts['postinst'], POSTINST);
  assert.is(pkg.scripts['prerm'], PRERM);
  assert.match(pkg.scripts['postinst-pkg']!, /^#!\/bin\/sh\n\[ -n "\$\{IPKG_INSTROOT\}" \] \|\| \{\n/);
  assert.match(pkg.scripts['postinst-pkg']!, /\/etc\/init\.d\/firewall reload/);
  assert.match(pkg.scripts['postinst-pkg']!, /\/etc\/init\.d\/dnsmasq reload/);
});

test('the maintainer scripts are valid sh, and postinst-pkg does nothing while building an image', () => {
  const { pkg } = kithIpk();
  const dir = tempDir();
  for (const name of ['postinst', 'prerm', 'postinst-pkg']) {
    writeFileSync(join(dir, name), pkg.scripts[name]!);
    assert.is(run(DASH, ['-n', join(dir, name)]).status, 0, `${name} parses`);
  }
  const r = run(DASH, [join(dir, 'postinst-pkg')], { env: { PATH: '/nonexistent', IPKG_INSTROOT: dir } });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout + r.stderr, '');
});

test('the same sources give the same bytes', () => {
  const a = buildIpks();
  const b = buildIpks();
  const name = `kith_${VERSION}-1_all.ipk`;
  assert.is(sha(readFileSync(join(a.dir, name))), sha(readFileSync(join(b.dir, name))));
});

test('--runtime picks the runtime package kith depends on', () => {
  const depends = (runtime: string) => {
    const { dir } = buildIpks(['--runtime', runtime]);
    return /^Depends: (.*)$/m.exec(unpackIpk(join(dir, `kith_${VERSION}-1_all.ipk`)).scripts['control']!)![1];
  };
  assert.is(depends('node'), 'libc, kmod-wireguard, wireguard-tools, node');
  assert.is(depends('none'), 'libc, kmod-wireguard, wireguard-tools');
  const bad = run(process.execPath, [join(ROOT, 'build/ipk.mjs'), '--out', tempDir(), '--runtime', 'deno'], { cwd: ROOT });
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /unknown runtime "deno"/);
});

test('luci-app-kith is skipped with a message while luci-app/ has no files', () => {
  const { dir, stdout } = buildIpks(['--luci-app', tempDir()]);
  assert.match(stdout, /luci-app-kith skipped: .* has no htdocs\/ or root\/ files yet/);
  assert.equal(readdirSync(dir), [`kith_${VERSION}-1_all.ipk`]);
});

test('luci-app-kith: htdocs/ under /www, root/ under /, its uci-defaults run by postinst-pkg', () => {
  const app = tempDir('kith-luci-');
  const files: [string, string, number][] = [
    ['htdocs/luci-static/resources/view/kith/status.js', "'use strict';\n'require view';\n", 0o644],
    ['root/usr/share/luci/menu.d/luci-app-kith.json', '{}\n', 0o644],
    ['root/usr/share/rpcd/acl.d/luci-app-kith.json', '{}\n', 0o644],
    ['root/etc/uci-defaults/40_luci-kith', '#!/bin/sh\nexit 0\n', 0o755],
  ];
  for (const [p, text, mode] of files) {
    mkdirSync(join(app, p, '..'), { recursive: true });
    writeFileSync(join(app, p), text);
    chmodSync(join(app, p), mode);
  }
  const { dir } = buildIpks(['--luci-app', app]);
  const luci = unpackIpk(join(dir, `luci-app-kith_${VERSION}-1_all.ipk`));
  assert.equal(modesOf(luci.data).filter(([m]) => m !== DIR), [
    [EXE, './etc/uci-defaults/40_luci-kith'],
    [DATA, './usr/share/luci/menu.d/luci-app-kith.json'],
    [DATA, './usr/share/rpcd/acl.d/luci-app-kith.json'],
    [DATA, './www/luci-static/resources/view/kith/status.js'],
  ]);
  const c = luci.scripts['control']!;
  assert.match(c, /^Package: luci-app-kith\nVersion: \d+\.\d+\.\d+-1\nDepends: libc, kith\nSource: feeds\/kith\/luci\/luci-app-kith\n/);
  assert.match(c, /\nSection: luci\n/);
  assert.match(c, /\nArchitecture: all\n/);
  assert.not.ok('conffiles' in luci.scripts);
  assert.is(luci.scripts['postinst'], POSTINST);
  assert.match(luci.scripts['postinst-pkg']!, /\t\(\. \/etc\/uci-defaults\/40_luci-kith\) && rm -f \/etc\/uci-defaults\/40_luci-kith\n/);
  assert.match(luci.scripts['postinst-pkg']!, /killall -HUP rpcd/);
});

/** Runs openwrt-feed/net/kith/Makefile under the stand-in buildroot in test/package/support/buildroot. */
function feedMake(targets: string[], dest: string): string {
  return mustRun('make', ['-s', '-C', join(ROOT, 'openwrt-feed/net/kith'), `TOPDIR=${join(SUPPORT, 'buildroot')}`,
    `BUILD_DIR=${tempDir('kith-build-')}`, `DEST=${dest}`, ...targets]);
}

function tree(dir: string): [string, string, string][] {
  const out: [string, string, string][] = [];
  const visit = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      out.push([(st.mode & 0o7777).toString(8), relative(dir, p), st.isDirectory() ? '' : sha(readFileSync(p))]);
      if (st.isDirectory()) visit(p);
    }
  };
  visit(dir);
  return out;
}

test('the feed Makefile installs exactly the files, modes and contents of the .ipk', () => {
  const dest = tempDir('kith-feed-root-');
  feedMake(['prepare', 'install'], dest);
  assert.equal(tree(dest), tree(kithIpk().pkg.root));
});

test('the feed Makefile\'s metadata matches the .ipk\'s control files', () => {
  const { pkg } = kithIpk();
  const info = Object.fromEntries(feedMake(['info'], '/nonexistent').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const c = pkg.scripts['control']!;
  const field = (k: string) => new RegExp(`^${k}: (.*)$`, 'm').exec(c)?.[1] ?? '';
  assert.is(`${info['PKG_VERSION']}-${info['PKG_RELEASE']}`, field('Version'));
  assert.is(info['PKG_LICENSE'], field('License'));
  assert.is(info['SECTION'], field('Section'));
  assert.is(info['PKGARCH'], field('Architecture'));
  assert.is(info['PKG_MAINTAINER'], field('Maintainer'));
  assert.is(info['URL'], field('URL'));
  // DEPENDS with the txiki.js runtime chosen, as package-pack.mk resolves it: libc first, "+" dropped, conditions applied.
  const deps = info['DEPENDS']!.split(/\s+/).map((d) => d.replace(/^\+/, ''))
    .flatMap((d) => (d.includes(':') ? (d.split(':')[0] === 'KITH_RUNTIME_TJS' ? [d.split(':')[1]!] : []) : [d]));
  assert.is(['libc', ...deps].join(', '), field('Depends'));
  assert.is(feedMake(['description'], '/nonexistent'), DESCRIPTION);
  assert.ok(c.endsWith(DESCRIPTION));
  assert.is(feedMake(['conffiles'], '/nonexistent'), pkg.scripts['conffiles']);
  assert.is(feedMake(['postinst'], '/nonexistent'), pkg.scripts['postinst-pkg']);
});

test('the luci-app-kith feed Makefile: same version and license, luci.mk, links into luci-app/', () => {
  const mk = readFileSync(join(ROOT, 'openwrt-feed/luci/luci-app-kith/Makefile'), 'utf8');
  const v = (k: string) => new RegExp(`^${k}:=(.*)$`, 'm').exec(mk)?.[1];
  assert.is(v('PKG_VERSION'), VERSION);
  assert.is(v('PKG_RELEASE'), '1');
  assert.is(v('PKG_LICENSE'), 'GPL-2.0-only');
  assert.is(v('LUCI_DEPENDS'), '+kith');
  assert.is(v('LUCI_PKGARCH'), 'all');
  assert.is(v('LUCI_DESCRIPTION'), 'Status, peers, invites and settings of the Kith mesh VPN in LuCI.');
  assert.match(mk, /^include \$\(TOPDIR\)\/feeds\/luci\/luci\.mk$/m);
  for (const sub of ['htdocs', 'root']) {
    assert.is(mustRun('readlink', [join(ROOT, 'openwrt-feed/luci/luci-app-kith', sub)]).trim(), `../../../luci-app/${sub}`);
  }
});

test.run();
