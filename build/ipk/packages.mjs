// What the Kith packages contain and say about themselves: the file list of
// kith (rootfs/ plus the dist bundles) and of luci-app-kith (luci-app/), and
// their control metadata, written exactly as OpenWrt's package-pack.mk and
// scripts/ipkg-build would. openwrt-feed/ builds the same packages with the
// SDK; test/package checks that the two agree.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The feed's name in feeds.conf; OpenWrt's Source field is feeds/<feed>/<category>/<package>. */
export const FEED = 'kith';
export const PKG_RELEASE = 1;
export const LICENSE = 'GPL-2.0-only';
/** Kconfig-free runtime choices: the package that provides the JavaScript runtime, or none. */
export const RUNTIMES = { tjs: 'tjs', node: 'node', none: null };
export const KITH_DEPENDS = ['libc', 'kmod-wireguard', 'wireguard-tools'];

/** Package/kith/description in openwrt-feed/net/kith/Makefile, line by line. */
export const KITH_DESCRIPTION = [
  'Kith joins neighbours\' routers into one private mesh network over',
  'WireGuard: one command founds a network, one-time invites let others',
  'join, and every node and service gets a name under <network>.internal.',
  'Needs a JavaScript runtime: txiki.js (tjs) or Node.js (node).',
];

/** Package/kith/postinst: on a running router, apply what the uci-defaults scripts just set. */
export const KITH_POSTINST_PKG = `#!/bin/sh
[ -n "\${IPKG_INSTROOT}" ] || {
	/etc/init.d/firewall reload >/dev/null 2>&1
	/etc/init.d/dnsmasq reload >/dev/null 2>&1
	exit 0
}
`;

export const KITH_CONFFILES = ['/etc/config/kith'];

/**
 * Every file of the kith package: [path on the router, source in the checkout, mode,
 * options]. Everything under rootfs/ must be listed here (kithFiles checks), so
 * nothing is shipped or left out by accident. The Node.js bundles lose their
 * inline source map (three quarters of their size) on the way to the router.
 */
export const KITH_FILES = [
  ['/etc/config/kith', 'rootfs/etc/config/kith', 0o644],
  ['/etc/init.d/kith', 'rootfs/etc/init.d/kith', 0o755],
  ['/etc/uci-defaults/90-kith-firewall', 'rootfs/etc/uci-defaults/90-kith-firewall', 0o755],
  ['/etc/uci-defaults/91-kith-dnsmasq', 'rootfs/etc/uci-defaults/91-kith-dnsmasq', 0o755],
  ['/lib/upgrade/keep.d/kith', 'rootfs/lib/upgrade/keep.d/kith', 0o644],
  ['/usr/bin/kith', 'rootfs/usr/bin/kith', 0o755],
  ['/usr/sbin/kithd', 'rootfs/usr/sbin/kithd', 0o755],
  ['/usr/share/kith/kith.js', 'dist/txiki/kith.js', 0o644],
  ['/usr/share/kith/kithd.js', 'dist/txiki/kithd.js', 0o644],
  ['/usr/share/kith/kithd-boot.js', 'dist/txiki/kithd-boot.js', 0o644],
  ['/usr/share/kith/kith.mjs', 'dist/node/kith.mjs', 0o644, { stripSourceMap: true }],
  ['/usr/share/kith/kithd.mjs', 'dist/node/kithd.mjs', 0o644, { stripSourceMap: true }],
];

export const LUCI_DESCRIPTION = ['Status, peers, invites and settings of the Kith mesh VPN in LuCI.'];

/** All files under dir (relative paths, sorted), or [] if dir does not exist. */
export function walkFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  const visit = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) visit(p);
      else out.push(relative(dir, p));
    }
  };
  visit(dir);
  return out;
}

/** A bundle without esbuild's trailing `//# sourceMappingURL=data:…` line. */
export function withoutInlineSourceMap(js) {
  return js.replace(/\n\/\/# sourceMappingURL=data:[^\n]*\n?$/, '\n');
}

/** package.json's version and the optional fields that become URL and Maintainer. */
export function projectInfo(root) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  if (!/^\d+\.\d+\.\d+$/.test(pkg.version)) {
    throw new Error(`package.json version "${pkg.version}" is not major.minor.patch (OpenWrt's apk refuses anything else)`);
  }
  const author = typeof pkg.author === 'string' ? pkg.author
    : pkg.author?.name ? `${pkg.author.name}${pkg.author.email ? ` <${pkg.author.email}>` : ''}` : null;
  return { version: pkg.version, url: pkg.homepage ?? null, maintainer: author };
}

/** kith's files as {path, source, mode}; throws if rootfs/ holds a file the list does not ship. */
export function kithFiles(root) {
  const listed = new Set(KITH_FILES.map(([, src]) => src));
  const stray = walkFiles(join(root, 'rootfs')).map((f) => `rootfs/${f}`).filter((f) => !listed.has(f));
  if (stray.length) throw new Error(`rootfs/ has files no package ships: ${stray.join(', ')} (add them to KITH_FILES in build/ipk/packages.mjs)`);
  const missing = KITH_FILES.filter(([, src]) => !existsSync(join(root, src))).map(([, src]) => src);
  if (missing.length) {
    const hint = missing.some((m) => m.startsWith('dist/')) ? ' (run "make build" first)' : '';
    throw new Error(`missing ${missing.join(', ')}${hint}`);
  }
  return KITH_FILES.map(([path, source, mode, o]) => (o?.stripSourceMap
    ? { path, text: withoutInlineSourceMap(readFileSync(join(root, source), 'utf8')), mode }
    : { path, source: join(root, source), mode }));
}

/**
 * luci-app-kith's files the way luci.mk installs them: htdocs/ under /www,
 * root/ under /, modes kept (executable or not). Empty when there is no app yet.
 */
export function luciFiles(luciDir) {
  const out = [];
  for (const [sub, prefix] of [['htdocs', '/www'], ['root', '']]) {
    for (const rel of walkFiles(join(luciDir, sub))) {
      const source = join(luciDir, sub, rel);
      out.push({ path: `${prefix}/${rel}`, source, mode: statSync(source).mode & 0o111 ? 0o755 : 0o644 });
    }
  }
  return out;
}

/** luci.mk's postinst: run the app's uci-defaults, drop LuCI's caches, make rpcd load new ACLs. */
export function luciPostinstPkg(files) {
  const defaults = files.map((f) => f.path).filter((p) => p.startsWith('/etc/uci-defaults/')).map((p) => p.slice('/etc/uci-defaults/'.length));
  const runs = defaults.map((s) => `\n\t(. /etc/uci-defaults/${s}) && rm -f /etc/uci-defaults/${s}`).join('');
  return `[ -n "\${IPKG_INSTROOT}" ] || {${runs}\n\trm -f /tmp/luci-indexcache.*\n\trm -rf /tmp/luci-modulecache/\n\tkillall -HUP rpcd 2>/dev/null\n\texit 0\n}\n`;
}

/** The generated maintainer scripts (package-pack.mk): they hand over to /lib/functions.sh. */
export const POSTINST = '#!/bin/sh\n[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0\n[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n. ${IPKG_INSTROOT}/lib/functions.sh\ndefault_postinst $0 $@\n';
export const PRERM = '#!/bin/sh\n[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n. ${IPKG_INSTROOT}/lib/functions.sh\ndefault_prerm $0 $@\n';

/**
 * The control file, field order as in package-pack.mk's Package/<name>/CONTROL;
 * Installed-Size is the size of the uncompressed data tar, as ipkg-build sets it.
 */
export function controlText(m, installedSize) {
  const field = (k, v) => (v === null || v === undefined || v === '' ? '' : `${k}: ${v}\n`);
  return field('Package', m.name) + field('Version', m.version) + field('Depends', m.depends.join(', '))
    + field('Source', m.source) + field('SourceName', m.name) + field('License', m.license) + field('Section', m.section)
    + field('SourceDateEpoch', m.epoch) + field('URL', m.url) + field('Maintainer', m.maintainer)
    + field('Architecture', 'all') + field('Installed-Size', installedSize)
    + `Description: ${m.description.map((l) => ` ${l.trim()}\n`).join('')}`;
}

/** Everything needed to build the kith package: metadata, files, control scripts. */
export function kithPackage(root, { runtime = 'tjs', epoch }) {
  if (!(runtime in RUNTIMES)) throw new Error(`unknown runtime "${runtime}": ${Object.keys(RUNTIMES).join(', ')}`);
  const info = projectInfo(root);
  const rt = RUNTIMES[runtime];
  return {
    meta: {
      name: 'kith', version: `${info.version}-${PKG_RELEASE}`, depends: rt ? [...KITH_DEPENDS, rt] : [...KITH_DEPENDS],
      source: `feeds/${FEED}/net/kith`, license: LICENSE, section: 'net', epoch, url: info.url, maintainer: info.maintainer,
      description: KITH_DESCRIPTION,
    },
    files: kithFiles(root),
    conffiles: KITH_CONFFILES,
    postinstPkg: KITH_POSTINST_PKG,
  };
}

/** luci-app-kith built from luciDir, or null when the app has no files yet. */
export function luciPackage(root, luciDir, { epoch }) {
  const files = luciFiles(luciDir);
  if (!files.length) return null;
  const info = projectInfo(root);
  return {
    meta: {
      name: 'luci-app-kith', version: `${info.version}-${PKG_RELEASE}`, depends: ['libc', 'kith'],
      source: `feeds/${FEED}/luci/luci-app-kith`, license: LICENSE, section: 'luci', epoch, url: info.url, maintainer: info.maintainer,
      description: LUCI_DESCRIPTION,
    },
    files,
    conffiles: [],
    postinstPkg: luciPostinstPkg(files),
  };
}
