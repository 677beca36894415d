// Builds the batched-UDP addon for the Node.js adapter (src/platform/native)
// with node-gyp and copies it next to the Node bundles. Optional by design:
// where it cannot be built (no compiler, no Node headers) kithd uses dgram,
// and this says so and exits 0. Usage: node build/native.mjs
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'src/platform/native');
const built = join(dir, 'build/Release/kith_udp.node');
const out = join(root, 'dist/node/kith_udp.node');

function skip(reason) {
  console.log(`native UDP addon not built (${reason}); kithd on Node.js uses dgram`);
  process.exit(0);
}

// Node's headers: npm's configured nodedir, else the prefix Node runs from.
const headerDirs = [process.env.npm_config_nodedir, dirname(dirname(process.execPath)), '/usr', '/usr/local'].filter(Boolean);
const nodedir = headerDirs.find((d) => existsSync(join(d, 'include/node/node_api.h')));
if (!nodedir) skip('no Node.js headers found (include/node/node_api.h)');
let gyp;
try {
  gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
} catch {
  skip('node-gyp is not installed (npm ci)');
}
const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`], { cwd: dir, encoding: 'utf8' });
if (r.status !== 0 || !existsSync(built)) skip(`node-gyp failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
mkdirSync(dirname(out), { recursive: true });
copyFileSync(built, out);
console.log(`native UDP addon: ${out}`);
