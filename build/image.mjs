// Builds what an OpenWrt image needs from Kith without the SDK:
//   dist/kith-rootfs.tar.gz  a rootfs overlay: the kith package's files (and
//                            luci-app-kith's, once luci-app/ has any), plus the
//                            /etc/rc.d links the package's postinst would make,
//                            e.g. for the Image Builder's FILES= directory
//   dist/kithd               with TJS=/path/to/tjs: kithd as one executable
//                            (`tjs compile`: that tjs binary plus the bytecode,
//                            so TJS must be a tjs built for the router's target)
// The uci-defaults scripts in the overlay run at the image's first boot.
//
// Usage: [TJS=/path/to/tjs] node build/image.mjs [--out DIR]
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceDateEpoch, stageTree, withTemp, writeTarGz } from './ipk/archive.mjs';
import { kithFiles, luciFiles } from './ipk/packages.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** START and STOP of rootfs/etc/init.d/kith: the links `/etc/init.d/kith enable` creates. */
export const RC_LINKS = [
  { path: '/etc/rc.d/S95kith', symlink: '../init.d/kith' },
  { path: '/etc/rc.d/K10kith', symlink: '../init.d/kith' },
];

/** Writes the overlay tarball; returns its path. */
export function buildOverlay(outDir, luciDir = join(ROOT, 'luci-app')) {
  const file = join(outDir, 'kith-rootfs.tar.gz');
  const epoch = sourceDateEpoch(ROOT);
  withTemp('kith-rootfs-', (tmp) => {
    stageTree(tmp, [...kithFiles(ROOT), ...luciFiles(luciDir), ...RC_LINKS]);
    mkdirSync(outDir, { recursive: true });
    writeTarGz(file, tmp, ['.'], epoch);
  });
  return file;
}

/** `tjs compile dist/txiki/kithd.js <out>/kithd`; returns the executable's path. */
export function compileKithd(tjs, outDir) {
  const out = join(outDir, 'kithd');
  withTemp('kith-tjs-home-', (home) => {
    const r = spawnSync(tjs, ['compile', join(ROOT, 'dist/txiki/kithd.js'), out], { encoding: 'utf8', env: { ...process.env, TJS_HOME: home } });
    if (r.error || r.status !== 0) throw new Error(`${tjs} compile failed: ${r.error?.message ?? `exit ${r.status}`} ${r.stderr ?? ''}`.trim());
  });
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const args = process.argv.slice(2);
    let out = join(ROOT, 'dist');
    if (args[0] === '--out' && args[1]) out = resolve(args[1]);
    else if (args.length) throw new Error('usage: [TJS=/path/to/tjs] node build/image.mjs [--out DIR]');
    console.log(buildOverlay(out));
    if (process.env.TJS) console.log(compileKithd(process.env.TJS, out));
    else console.log('dist/kithd skipped: set TJS=/path/to/tjs (a tjs for the router\'s target) to build it');
  } catch (e) {
    console.error(`image: ${e.message}`);
    process.exit(1);
  }
}
