/// <reference types="node" />
// openwrt-feed/lang/txiki.js/Makefile, the tjs runtime package, read by make
// under the stand-in buildroot (test/package/support/buildroot): its fields,
// a pinned upstream commit, the trim it hands to CMake (the same as
// build/cross-txiki.sh's, so what the script measured is what the recipe
// builds), the one file it installs, and the kith package depending on the
// package it defines.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mustRun, ROOT, SUPPORT, tempDir } from './support/package.ts';

const RECIPE_DIR = join(ROOT, 'openwrt-feed/lang/txiki.js');

function feedMake(dir: string, targets: string[], vars: string[] = []): string {
  return mustRun('make', ['-s', '-C', dir, `TOPDIR=${join(SUPPORT, 'buildroot')}`, ...vars, ...targets]);
}

function keyValues(text: string): Record<string, string> {
  return Object.fromEntries(text.trim().split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

test('the txiki.js recipe: package tjs, pinned upstream commit, only the submodules it compiles', () => {
  const info = keyValues(feedMake(RECIPE_DIR, ['info']));
  assert.is(info['PKG_NAME'], 'txiki.js');
  assert.match(info['PKG_VERSION']!, /^\d+\.\d+\.\d+$/);
  assert.is(info['PKG_LICENSE'], 'MIT');
  assert.is(info['SECTION'], 'lang');
  assert.is(info['URL'], 'https://github.com/saghul/txiki.js');
  assert.is(info['PKGARCH'], '', 'a native program: no PKGARCH:=all');
  assert.equal(info['DEPENDS']!.split(/\s+/).sort(), ['+libatomic', '@!BIG_ENDIAN']);
  const mk = readFileSync(join(RECIPE_DIR, 'Makefile'), 'utf8');
  const v = (k: string) => new RegExp(`^${k}:=(.*)$`, 'm').exec(mk)?.[1];
  assert.is(v('PKG_SOURCE_PROTO'), 'git');
  assert.is(v('PKG_SOURCE_URL'), 'https://github.com/saghul/txiki.js.git');
  assert.match(v('PKG_SOURCE_VERSION') ?? '', /^[0-9a-f]{40}$/, 'a full commit id, not a branch or tag that can move');
  assert.equal(v('PKG_SOURCE_SUBMODULES')?.split(' ').sort(), ['deps/libuv', 'deps/libwebsockets', 'deps/mbedtls', 'deps/quickjs']);
  assert.ok(v('PKG_MIRROR_HASH'), 'PKG_MIRROR_HASH is set');
  assert.match(mk, /^define Package\/tjs\/description$/m);
  assert.match(mk, /^\$\(eval \$\(call BuildPackage,tjs\)\)$/m);
  assert.match(mk, /^include \$\(INCLUDE_DIR\)\/cmake\.mk$/m);
});

/** The -D options of build/cross-txiki.sh's cmake call, by name. */
function scriptOptions(): Map<string, string> {
  const script = readFileSync(join(ROOT, 'build/cross-txiki.sh'), 'utf8');
  const call = /^cmake -S[\s\S]*?>"\$out\/cmake\.log"/m.exec(script)?.[0];
  if (!call) throw new Error('build/cross-txiki.sh: no cmake call found');
  return new Map([...call.matchAll(/-D([A-Z_]+)=("[^"]*"|\S+)/g)].map((m) => [m[1]!, m[2]!.replace(/^"|"$/g, '')]));
}

test('the recipe builds the configuration build/cross-txiki.sh measured', () => {
  const lines = feedMake(RECIPE_DIR, ['cmake-options']).trim().split('\n');
  const recipe = new Map(lines.filter((l) => l.startsWith('-D')).map((l) => [l.slice(2, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const script = scriptOptions();
  const trim = ['CMAKE_BUILD_TYPE', 'BUILD_WITH_SQLITE', 'BUILD_WITH_WASM', 'BUILD_WITH_FFI', 'BUILD_WITH_MIMALLOC', 'BUILD_WITH_LTO', 'BUILD_WITH_GC_SECTIONS', 'DISABLE_WERROR'];
  for (const k of trim) assert.is(recipe.get(k), script.get(k), `${k}: recipe ${recipe.get(k)}, script ${script.get(k)}`);
  assert.is(recipe.get('CMAKE_BUILD_TYPE'), 'MinSizeRel');
  for (const off of ['BUILD_WITH_SQLITE', 'BUILD_WITH_WASM', 'BUILD_WITH_FFI', 'BUILD_WITH_MIMALLOC']) assert.is(recipe.get(off), 'OFF', off);
  // OpenWrt strips when it packs; the script strips itself.
  assert.is(recipe.get('BUILD_WITH_STRIP'), 'OFF');
  assert.is(script.get('BUILD_WITH_STRIP'), 'ON');
  assert.match(recipe.get('CMAKE_C_STANDARD_LIBRARIES') ?? '', /-latomic$/, 'libatomic at the end of the link line');
  const flags = keyValues(lines.filter((l) => l.startsWith('TARGET_')).join('\n'));
  assert.match(flags['TARGET_CFLAGS']!, /(^| )-Wno-unknown-pragmas( |$)/);
  assert.match(flags['TARGET_LDFLAGS']!, /(^| )-static-libstdc\+\+( |$)/);
  assert.match(script.get('CMAKE_C_FLAGS') ?? '', /-Wno-unknown-pragmas/);
  assert.match(script.get('CMAKE_EXE_LINKER_FLAGS') ?? '', /-static-libstdc\+\+/);
});

test('the recipe installs only /usr/bin/tjs, from the CMake build directory', () => {
  const build = tempDir('kith-txiki-build-');
  const bin = join(build, 'txiki.js-26.6.0', 'openwrt-build');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'tjs'), 'built tjs\n');
  const dest = tempDir('kith-txiki-root-');
  feedMake(RECIPE_DIR, ['install'], [`BUILD_DIR=${build}`, `DEST=${dest}`]);
  assert.is(mustRun('find', [dest, '-mindepth', '1', '-printf', '%m %P\\n']).trim().split('\n').sort().join('\n'), '755 usr\n755 usr/bin\n755 usr/bin/tjs');
  assert.is(readFileSync(join(dest, 'usr/bin/tjs'), 'utf8'), 'built tjs\n');
});

test('the kith package depends on the tjs package this feed defines', () => {
  const info = keyValues(feedMake(join(ROOT, 'openwrt-feed/net/kith'), ['info'], ['DEST=/nonexistent']));
  const runtime = info['DEPENDS']!.split(/\s+/).find((d) => d.startsWith('+KITH_RUNTIME_TJS:'));
  assert.is(runtime, '+KITH_RUNTIME_TJS:tjs');
  const mk = readFileSync(join(RECIPE_DIR, 'Makefile'), 'utf8');
  assert.match(mk, /^define Package\/tjs$/m);
});

test.run();
