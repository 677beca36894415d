// Builds the Debian / Raspberry Pi OS package with dpkg-deb (no debhelper):
//   dist/kith_<version>_all.deb   kithd and kith for Node.js under /usr/lib/kith,
//   /usr/sbin/kithd and /usr/bin/kith, kith.service, the conffile /etc/kith/kith.conf.
// Architecture all: the optional batched-UDP addon (kith_udp.node, native
// code) stays out, and the Node.js adapter falls back to dgram without it.
// The maintainer scripts and the unit live in deb/; README.md's "Raspberry Pi
// OS / Debian" section becomes README.Debian.
//
// Usage: node build/deb.mjs [--out DIR]
// SOURCE_DATE_EPOCH fixes every mtime (default: the last commit's time).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceDateEpoch, stageTree, withTemp } from './ipk/archive.mjs';
import { KITH_DESCRIPTION, LICENSE, projectInfo, withoutInlineSourceMap } from './ipk/packages.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** What the bundles need: syntax for node18 (build/bundle.mjs), structuredClone (17), Object.hasOwn (16.9). */
export const NODE_MIN = '18';
export const DEB_DEPENDS = [`nodejs (>= ${NODE_MIN})`, 'wireguard-tools', 'nftables', 'iproute2', 'procps'];
/** wireguard-go only where the kernel has no WireGuard; dnsmasq or systemd-resolved answer the mesh's names for the host. */
export const DEB_SUGGESTS = ['wireguard-go', 'dnsmasq'];
export const DEB_CONFFILES = ['/etc/kith/kith.conf'];
export const STATE_DIR = '/var/lib/kith';

/** [path in the package, source in the checkout, mode, options]; directories not listed get 0755. */
export const DEB_FILES = [
  ['/etc/kith/kith.conf', 'deb/kith.conf', 0o644],
  ['/usr/bin/kith', 'deb/kith', 0o755],
  ['/usr/sbin/kithd', 'deb/kithd', 0o755],
  ['/usr/lib/kith/kith.mjs', 'dist/node/kith.mjs', 0o644, { stripSourceMap: true }],
  ['/usr/lib/kith/kithd.mjs', 'dist/node/kithd.mjs', 0o644, { stripSourceMap: true }],
  ['/usr/lib/systemd/system/kith.service', 'deb/kith.service', 0o644],
];
export const DEB_SCRIPTS = ['postinst', 'prerm', 'postrm'];

/** README.md's "Raspberry Pi OS / Debian" section, as /usr/share/doc/kith/README.Debian. */
export function readmeDebian(root) {
  const md = readFileSync(join(root, 'README.md'), 'utf8');
  const m = /^## Raspberry Pi OS \/ Debian\n([\s\S]*?)(?=^## |$(?![\s\S]))/m.exec(md);
  if (!m) throw new Error('README.md has no "## Raspberry Pi OS / Debian" section');
  return `Kith on Raspberry Pi OS / Debian\n\n${m[1].trim()}\n`;
}

const COPYRIGHT = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: kith

Files: *
License: ${LICENSE}
 On Debian systems, the full text of the GNU General Public License version 2
 can be found in /usr/share/common-licenses/GPL-2.
`;

export function controlText(m, installedKb) {
  const field = (k, v) => (v ? `${k}: ${v}\n` : '');
  return field('Package', 'kith') + field('Version', m.version) + field('Architecture', 'all')
    + field('Maintainer', m.maintainer ?? 'Kith developers <kith@localhost>') + field('Installed-Size', String(installedKb))
    + field('Depends', DEB_DEPENDS.join(', ')) + field('Suggests', DEB_SUGGESTS.join(', '))
    + field('Section', 'net') + field('Priority', 'optional') + field('Homepage', m.url)
    + `Description: neighbourhood mesh VPN over WireGuard\n${KITH_DESCRIPTION.slice(0, 3).map((l) => ` ${l.trim()}\n`).join('')}`
    + ' This package runs kithd on Node.js under systemd (kith.service).\n';
}

function dpkgDeb(args, epoch) {
  const r = spawnSync('dpkg-deb', args, { encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) } });
  if (r.error) throw new Error(`dpkg-deb: ${r.error.message} (it comes with dpkg: apt-get install dpkg)`);
  if (r.status !== 0) throw new Error(`dpkg-deb ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** The staged tree's size in KiB, as dpkg-gencontrol counts Installed-Size (files and directories, 1 KiB at least each). */
function installedKb(entries) {
  return entries.reduce((kb, e) => kb + Math.max(1, Math.ceil(e.size / 1024)), 0);
}

/** Writes <outDir>/kith_<version>_all.deb; returns its path. */
export function buildDeb(root, outDir, epoch) {
  const info = projectInfo(root);
  const files = DEB_FILES.map(([path, source, mode, o]) => {
    const file = join(root, source);
    try { statSync(file); } catch { throw new Error(`missing ${source}${source.startsWith('dist/') ? ' (run "make build" first)' : ''}`); }
    return o?.stripSourceMap ? { path, text: withoutInlineSourceMap(readFileSync(file, 'utf8')), mode } : { path, source: file, mode };
  });
  files.push({ path: '/usr/share/doc/kith/README.Debian', text: readmeDebian(root), mode: 0o644 });
  files.push({ path: '/usr/share/doc/kith/copyright', text: COPYRIGHT, mode: 0o644 });
  const out = join(outDir, `kith_${info.version}_all.deb`);
  withTemp('deb-kith-', (tmp) => {
    const tree = join(tmp, 'kith');
    stageTree(tree, files);
    // The state directory ships empty and private; kithd and StateDirectory= keep it 0700.
    for (const d of ['/var', '/var/lib']) { mkdirSync(join(tree, d), { recursive: true }); chmodSync(join(tree, d), 0o755); }
    mkdirSync(join(tree, STATE_DIR));
    chmodSync(join(tree, STATE_DIR), 0o700);
    const sizes = files.map((f) => ({ size: f.text !== undefined ? Buffer.byteLength(f.text) : statSync(f.source).size }));
    const dirs = new Set();
    for (const f of [...files.map((x) => x.path), `${STATE_DIR}/x`]) for (let d = dirname(f); d !== '/'; d = dirname(d)) dirs.add(d);
    const scripts = DEB_SCRIPTS.map((s) => ({ path: `/DEBIAN/${s}`, source: join(root, 'deb', s), mode: 0o755 }));
    stageTree(tree, [
      ...scripts,
      { path: '/DEBIAN/conffiles', text: DEB_CONFFILES.map((c) => `${c}\n`).join(''), mode: 0o644 },
      { path: '/DEBIAN/control', text: controlText(info, installedKb([...sizes, ...[...dirs].map(() => ({ size: 0 }))])), mode: 0o644 },
    ]);
    mkdirSync(outDir, { recursive: true });
    dpkgDeb(['--root-owner-group', '-Zxz', '--build', tree, out], epoch);
  });
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const argv = process.argv.slice(2);
    let outDir = join(ROOT, 'dist');
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === '--out' && argv[i + 1] !== undefined) outDir = resolve(argv[++i]);
      else throw new Error(`unknown argument "${argv[i]}" (usage: node build/deb.mjs [--out DIR])`);
    }
    console.log(buildDeb(ROOT, outDir, sourceDateEpoch(ROOT)));
  } catch (e) {
    console.error(`deb: ${e.message}`);
    process.exit(1);
  }
}
