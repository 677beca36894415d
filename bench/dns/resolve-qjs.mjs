// Runs bench/dns/resolve-loop.ts inside QuickJS-ng (the engine of txiki.js,
// here as WebAssembly, so expect it slower than a native tjs) and prints
// its in-process resolve() throughput.  Usage: node bench/dns/resolve-qjs.mjs [ITERATIONS]
import { build } from 'esbuild';
import { newQuickJSWASMModuleFromVariant } from 'quickjs-emscripten-core';
import variant from '@jitl/quickjs-ng-wasmfile-release-sync';

const iterations = Math.min(Number(process.argv[2] ?? 300000), 10_000_000);
const out = await build({
  entryPoints: ['bench/dns/resolve-loop.ts'], bundle: true, write: false, format: 'iife', globalName: 'kithBench',
  platform: 'neutral', mainFields: ['module', 'main'], target: 'es2023', logLevel: 'warning',
});
const qjs = await newQuickJSWASMModuleFromVariant(variant);
const vm = qjs.newContext();
vm.runtime.setMemoryLimit(256 * 1024 * 1024);
const code = `${out.outputFiles[0].text}\nJSON.stringify(kithBench.resolveLoop(${iterations}, () => Date.now()))`;
const r = vm.evalCode(code);
if (r.error) { console.error('resolve-qjs:', vm.dump(r.error)); r.error.dispose(); process.exit(1); }
const res = JSON.parse(vm.dump(r.value));
r.value.dispose();
vm.dispose();
console.log(`resolve-loop (quickjs-ng wasm): ${res.queriesPerSec} queries/s in-process, index build ${res.buildMs} ms`);
