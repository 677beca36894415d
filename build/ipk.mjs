// Builds the OpenWrt packages without the SDK, byte for byte in the format of
// OpenWrt's scripts/ipkg-build (what opkg on 24.10 installs):
//   dist/kith_<version>-<release>_all.ipk           kithd, kith, init script, UCI defaults
//   dist/luci-app-kith_<version>-<release>_all.ipk  the LuCI app (skipped while luci-app/ is empty)
// An .ipk is a gzip'd GNU tar of ./debian-binary ("2.0"), ./data.tar.gz (the
// files, owner 0:0) and ./control.tar.gz (control, conffiles, postinst, prerm).
// For apk-based releases (25.x) build with the SDK from openwrt-feed/.
//
// Usage: node build/ipk.mjs [--out DIR] [--runtime tjs|node|none] [--luci-app DIR]
//   --runtime   the runtime package kith depends on (default tjs)
// SOURCE_DATE_EPOCH fixes every mtime (default: the last commit's time).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceDateEpoch, stageTree, withTemp, writeTarGz } from './ipk/archive.mjs';
import { controlText, kithPackage, luciPackage, POSTINST, PRERM } from './ipk/packages.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Writes <outDir>/<name>_<version>_all.ipk for a package from packages.mjs; returns its path. */
export function buildIpk(pkg, outDir) {
  const { meta } = pkg;
  const file = join(outDir, `${meta.name}_${meta.version}_all.ipk`);
  withTemp(`ipk-${meta.name}-`, (tmp) => {
    const data = join(tmp, 'data');
    const control = join(tmp, 'control');
    const outer = join(tmp, 'outer');
    stageTree(data, pkg.files);
    mkdirSync(outer);
    const installedSize = writeTarGz(join(outer, 'data.tar.gz'), data, ['.'], meta.epoch);
    const scripts = [
      { path: '/control', text: controlText(meta, installedSize), mode: 0o644 },
      { path: '/postinst', text: POSTINST, mode: 0o755 },
      { path: '/prerm', text: PRERM, mode: 0o755 },
    ];
    if (pkg.conffiles.length) scripts.push({ path: '/conffiles', text: [...pkg.conffiles].sort().map((c) => `${c}\n`).join(''), mode: 0o644 });
    if (pkg.postinstPkg) scripts.push({ path: '/postinst-pkg', text: pkg.postinstPkg, mode: 0o755 });
    stageTree(control, scripts);
    writeTarGz(join(outer, 'control.tar.gz'), control, ['.'], meta.epoch);
    writeFileSync(join(outer, 'debian-binary'), '2.0\n');
    mkdirSync(outDir, { recursive: true });
    writeTarGz(file, outer, ['./debian-binary', './data.tar.gz', './control.tar.gz'], meta.epoch);
  });
  return file;
}

function parseArgs(argv) {
  const o = { out: join(ROOT, 'dist'), runtime: 'tjs', luciApp: join(ROOT, 'luci-app') };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[++i];
    if (v === undefined) throw new Error(`${k} needs a value`);
    if (k === '--out') o.out = resolve(v);
    else if (k === '--runtime') o.runtime = v;
    else if (k === '--luci-app') o.luciApp = resolve(v);
    else throw new Error(`unknown argument "${k}" (usage: node build/ipk.mjs [--out DIR] [--runtime tjs|node|none] [--luci-app DIR])`);
  }
  return o;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const o = parseArgs(process.argv.slice(2));
    const epoch = sourceDateEpoch(ROOT);
    console.log(buildIpk(kithPackage(ROOT, { runtime: o.runtime, epoch }), o.out));
    const luci = luciPackage(ROOT, o.luciApp, { epoch });
    if (luci) console.log(buildIpk(luci, o.out));
    else console.log(`luci-app-kith skipped: ${o.luciApp} has no htdocs/ or root/ files yet`);
  } catch (e) {
    console.error(`ipk: ${e.message}`);
    process.exit(1);
  }
}
