// Bundles kithd and the kith CLI with esbuild, for txiki.js (QuickJS-ng) and
// for Node.js. Usage: node build/bundle.mjs [--metafile]
//   dist/txiki/kithd.js  dist/txiki/kith.js   (ESM, minified, QuickJS-ng language level)
//   dist/txiki/kithd-boot.js                  (starts kithd.js from bytecode, see its source)
//   dist/node/kithd.mjs  dist/node/kith.mjs
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nacl = join(root, 'node_modules/tweetnacl-ts/es');

/** tweetnacl-ts picks Node's crypto module for randomness; txiki.js has Web Crypto instead. */
export const webCrypto = {
  name: 'tweetnacl-web-crypto',
  setup(b) {
    b.onResolve({ filter: /\/server\/(random|convert)(\.js)?$/ }, (args) => {
      if (!args.importer.startsWith(nacl)) return undefined;
      const file = args.path.replace(/.*\/server\//, '').replace(/\.js$/, '');
      return { path: join(nacl, 'client', `${file}.js`) };
    });
  },
};

const common = { bundle: true, format: 'esm', legalComments: 'none', logLevel: 'warning', absWorkingDir: root, charset: 'utf8' };

export const targets = [
  // QuickJS-ng implements ES2023; 'buffer' is the npm package for dns-packet.
  { ...common, entryPoints: { kithd: 'src/entry/kithd-txiki.ts', kith: 'src/entry/kith-txiki.ts' }, outdir: 'dist/txiki', outExtension: { '.js': '.js' },
    platform: 'neutral', mainFields: ['module', 'main'], target: 'es2023', minify: true, external: ['tjs:*'], plugins: [webCrypto] },
  { ...common, entryPoints: { 'kithd-boot': 'src/entry/kithd-txiki-boot.ts' }, outdir: 'dist/txiki', outExtension: { '.js': '.js' },
    platform: 'neutral', target: 'es2023', minify: true, external: ['./kithd.js'] },
  { ...common, entryPoints: { kithd: 'src/entry/kithd-node.ts', kith: 'src/entry/kith-node.ts' }, outdir: 'dist/node', outExtension: { '.js': '.mjs' },
    platform: 'node', target: 'node18', minify: false, sourcemap: 'inline',
    banner: { js: '#!/usr/bin/env node\nimport { createRequire as __kithRequire } from "node:module"; const require = __kithRequire(import.meta.url);' } },
];

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const t of targets) await build(t);
}
