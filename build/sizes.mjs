// Bundle sizes: raw and gzip -9 for each shipped bundle, and the size goal for
// the router daemon. Exits 0 (sizes are reported, not enforced) unless a
// bundle is missing, then 1 naming the missing files (run `make build` first).
// Usage: node build/sizes.mjs
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLES = ['dist/txiki/kithd.js', 'dist/txiki/kith.js', 'dist/node/kithd.mjs', 'dist/node/kith.mjs'];
export const GOAL_FILE = 'dist/txiki/kithd.js';
export const GOAL_KB = 150;

const kb = (bytes) => (bytes / 1024).toFixed(1);

/** Raw and gzip -9 sizes of each bundle that exists; `missing` lists the others. */
export function measure() {
  const rows = [];
  const missing = [];
  for (const file of BUNDLES) {
    const path = join(root, file);
    if (!existsSync(path)) { missing.push(file); continue; }
    const data = readFileSync(path);
    rows.push({ file, rawBytes: data.length, gzipBytes: gzipSync(data, { level: 9 }).length });
  }
  return { rows, missing };
}

/** The report as lines: a table, then the goal line. */
export function report({ rows }) {
  const width = Math.max(...BUNDLES.map((f) => f.length));
  const lines = [`${'bundle'.padEnd(width)}  ${'raw KB'.padStart(8)}  ${'gzip -9 KB'.padStart(10)}`];
  for (const r of rows) lines.push(`${r.file.padEnd(width)}  ${kb(r.rawBytes).padStart(8)}  ${kb(r.gzipBytes).padStart(10)}`);
  const goal = rows.find((r) => r.file === GOAL_FILE);
  if (goal) {
    const verdict = goal.rawBytes < GOAL_KB * 1024 ? 'ok' : 'OVER';
    lines.push(`${GOAL_FILE}: ${kb(goal.rawBytes)} KB minified (goal < ${GOAL_KB} KB): ${verdict}`);
  }
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const m = measure();
  if (m.missing.length) {
    console.error(`sizes: missing ${m.missing.join(', ')} (run \`make build\` first)`);
    process.exit(1);
  }
  console.log(report(m).join('\n'));
}
