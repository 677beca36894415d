// The QuickJS-ng check: bundles the core's self-test (test/qjs/selftest.ts)
// the way the txiki.js bundle is built (esbuild, platform neutral, ES2023, the
// tweetnacl Web Crypto plugin) and runs it inside the QuickJS-ng engine from
// the npm package @jitl/quickjs-ng-wasmfile-release-sync, with console.log
// bridged out. The engine gets a counting crypto.getRandomValues: the core
// takes randomness as arguments, so any call fails the check.
// Usage: node build/qjs-check.mjs     (exit 0 on success, 1 on failure)
//        node build/qjs-check.mjs --emit FILE   writes the self-test as one
//        script for a real engine (`tjs run FILE`, e.g. a cross-built txiki.js
//        under qemu-user): it prints "selftest: N ok" and the randomness count.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { newQuickJSWASMModuleFromVariant, shouldInterruptAfterDeadline } from 'quickjs-emscripten-core';
import variant from '@jitl/quickjs-ng-wasmfile-release-sync';
import { targets } from './bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const VARIANT_PKG = '@jitl/quickjs-ng-wasmfile-release-sync';
const GLOBAL = '__kithSelfTest';
export const TIME_LIMIT_MS = 300_000;
export const MEMORY_LIMIT_BYTES = 256 * 1024 * 1024;

/** The txiki bundle's plugin, so this bundle resolves tweetnacl exactly as the shipped one does. */
function webCryptoPlugin() {
  const txiki = targets.find((t) => t.platform === 'neutral');
  const plugin = txiki?.plugins?.find((p) => p.name === 'tweetnacl-web-crypto');
  if (!plugin) throw new Error('qjs-check: build/bundle.mjs no longer has the neutral target with the tweetnacl-web-crypto plugin');
  return plugin;
}

/** The self-test as one script defining `__kithSelfTest.checks`. */
export async function bundleSelfTest() {
  const out = await build({
    stdin: {
      contents: "import { selfTest } from './test/qjs/selftest.ts';\nexport const checks = selfTest((line) => console.log(line));\n",
      resolveDir: root, sourcefile: 'qjs-selftest-entry.ts', loader: 'ts',
    },
    bundle: true, write: false, format: 'iife', globalName: GLOBAL, platform: 'neutral', mainFields: ['module', 'main'],
    target: 'es2023', minify: true, legalComments: 'none', charset: 'utf8', logLevel: 'warning', absWorkingDir: root,
    plugins: [webCryptoPlugin()],
  });
  return out.outputFiles[0].text;
}

/** The vendored QuickJS-ng version, from the variant package's README. */
export function quickjsVersion() {
  try {
    const readme = readFileSync(join(root, 'node_modules', VARIANT_PKG, 'README.md'), 'utf8');
    return /quickjs-ng[\s\S]*?Version \[v?([0-9][0-9.]*)\]/.exec(readme)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const RANDOM_SHIM = `globalThis.__kithRandomCalls = 0;
globalThis.crypto = { getRandomValues(a) {
  globalThis.__kithRandomCalls++;
  let x = 0x2545f491;
  for (let i = 0; i < a.length; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; a[i] = x & 255; }
  return a;
} };`;

/**
 * Evaluates `code` in a fresh QuickJS-ng context. Returns the printed lines,
 * the number of checks, and how often the engine's randomness was drawn;
 * `error` is set (with the engine's message and stack) when the script threw.
 */
export async function runInQuickJS(code) {
  const qjs = await newQuickJSWASMModuleFromVariant(variant);
  const runtime = qjs.newRuntime();
  runtime.setMemoryLimit(MEMORY_LIMIT_BYTES);
  runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + TIME_LIMIT_MS));
  const vm = runtime.newContext();
  const lines = [];
  try {
    const consoleObj = vm.newObject();
    const log = vm.newFunction('log', (...args) => { lines.push(args.map((h) => String(vm.dump(h))).join(' ')); });
    vm.setProp(consoleObj, 'log', log);
    vm.setProp(vm.global, 'console', consoleObj);
    log.dispose();
    consoleObj.dispose();
    vm.unwrapResult(vm.evalCode(RANDOM_SHIM, 'random-shim.js')).dispose();
    const started = performance.now();
    const result = vm.evalCode(`${code}\n;${GLOBAL}.checks`, 'selftest.js');
    const elapsedMs = performance.now() - started;
    if (result.error) {
      const e = vm.dump(result.error);
      result.error.dispose();
      const message = typeof e === 'object' && e ? `${e.name ?? 'Error'}: ${e.message}\n${e.stack ?? ''}` : String(e);
      return { lines, checks: 0, randomCalls: -1, elapsedMs, error: message };
    }
    const checks = vm.getNumber(result.value);
    result.value.dispose();
    const calls = vm.unwrapResult(vm.evalCode('globalThis.__kithRandomCalls'));
    const randomCalls = vm.getNumber(calls);
    calls.dispose();
    return { lines, checks, randomCalls, elapsedMs, error: null };
  } finally {
    vm.dispose();
    runtime.dispose();
  }
}

/** Bundles, runs, and judges. Returns { ok, line, ... } with a one-line verdict. */
export async function qjsCheck() {
  const code = await bundleSelfTest();
  const kb = (Buffer.byteLength(code) / 1024).toFixed(1);
  const gzKb = (gzipSync(code, { level: 9 }).length / 1024).toFixed(1);
  const version = quickjsVersion();
  const run = await runInQuickJS(code);
  const printed = run.lines.find((l) => /^selftest: \d+ ok$/.test(l));
  let failure = null;
  if (run.error) failure = `the self-test threw inside QuickJS-ng ${version}: ${run.error}`;
  else if (!printed || printed !== `selftest: ${run.checks} ok`) failure = `the self-test did not print "selftest: ${run.checks} ok" (printed: ${JSON.stringify(run.lines)})`;
  else if (run.randomCalls !== 0) failure = `the core drew randomness from the engine ${run.randomCalls} times (it must take randomness as arguments)`;
  const line = failure
    ? `qjs-check: FAILED: ${failure}`
    : `qjs-check: core self-test passed in QuickJS-ng ${version} (${run.checks} checks, bundle ${kb} KB)`;
  return { ok: !failure, line, version, checks: run.checks, bundleKB: Number(kb), gzipKB: Number(gzKb), elapsedMs: run.elapsedMs, lines: run.lines };
}

/** The self-test as a script for a real engine: counts randomness draws, prints the verdict line. */
export async function emitSelfTest(file) {
  const counter = 'globalThis.__kithRandomCalls = 0; { const c = globalThis.crypto; Object.defineProperty(globalThis, "crypto", { value: { subtle: c.subtle, getRandomValues: (a) => { globalThis.__kithRandomCalls++; return c.getRandomValues(a); } } }); }';
  const verdict = `;console.log('selftest-random: ' + globalThis.__kithRandomCalls + ' draws, ' + ${GLOBAL}.checks + ' checks');`;
  writeFileSync(file, `${counter}\n${await bundleSelfTest()}\n${verdict}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const emit = process.argv.indexOf('--emit');
  if (emit > 0) {
    if (!process.argv[emit + 1]) { console.error('qjs-check: --emit needs a file name'); process.exit(2); }
    await emitSelfTest(process.argv[emit + 1]);
    process.exit(0);
  }
  try {
    const r = await qjsCheck();
    for (const l of r.lines) if (!r.ok) console.error(`  | ${l}`);
    (r.ok ? console.log : console.error)(r.line);
    if (r.ok && process.argv.includes('--verbose')) console.log(`  ${r.elapsedMs.toFixed(0)} ms in the engine, bundle ${r.gzipKB} KB gzipped`);
    process.exit(r.ok ? 0 : 1);
  } catch (e) {
    console.error(`qjs-check: FAILED: ${e?.stack ?? e}`);
    process.exit(1);
  }
}
