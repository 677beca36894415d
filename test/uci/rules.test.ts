// House rules for src/uci, enforced: no runtime modules or ambient runtime
// globals, a header comment saying what each file owns, files of modest size.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../../src/uci/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

test('src/uci imports only relative .ts modules and uses no runtime globals', () => {
  assert.ok(files.length >= 8, files.join(','));
  for (const f of files) {
    const src = readFileSync(dir + f, 'utf8');
    for (const m of src.matchAll(/\bfrom\s+'([^']+)'/g)) assert.ok(/^\.\.?\/.*\.ts$/.test(m[1]!), `${f} imports ${m[1]}`);
    const code = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '').replace(/\/\*\*.*$/gm, '');
    assert.not.match(code, /\b(Buffer|Date\.now|Math\.random|process\.|require\(|setTimeout|setInterval|globalThis)\b/, f);
    // core/prefixes: a subnet is checked by the very rules members apply to each other's (one definition).
    assert.not.match(src, /from '\.\.\/(?!core\/bytes\.ts|core\/prefixes\.ts|platform\/types\.ts)/, `${f}: only core/bytes, core/prefixes and platform types from outside`);
  }
});

test('each src/uci file opens with a comment on what it owns and stays short', () => {
  for (const f of files) {
    const src = readFileSync(dir + f, 'utf8');
    assert.ok(src.startsWith('// '), `${f} lacks a header comment`);
    assert.ok(src.split('\n').length <= 320, `${f} is ${src.split('\n').length} lines`);
  }
});

test.run();
