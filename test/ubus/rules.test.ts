/// <reference types="node" />
// House rules for src/ubus, enforced: each file opens with a comment on what
// it owns, stays a few hundred lines, and touches no runtime (no node:*
// imports, no Buffer/process/timer/Date.now/Math.random globals) — everything
// goes through the Platform interface.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/ubus/', import.meta.url));
const files = readdirSync(SRC).filter((f) => f.endsWith('.ts'));
const MAX_LINES = 400;
const FORBIDDEN: [RegExp, string][] = [
  [/\bfrom\s+['"]node:/, 'node:* import'],
  [/\brequire\s*\(/, 'require()'],
  [/\bBuffer\s*[.(]/, 'Buffer global'],
  [/\bprocess\.\w/, 'process global'],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(/, 'timer global'],
  [/\bDate\.now\s*\(/, 'Date.now'],
  [/\bMath\.random\s*\(/, 'Math.random'],
];

test('src/ubus has the expected files', () => {
  assert.equal(files.sort(), ['blob.ts', 'client.ts', 'errors.ts', 'index.ts', 'message.ts', 'policy.ts', 'protocol.ts']);
});

test('each src/ubus file opens with a comment, is short, and uses no runtime globals or imports', () => {
  for (const f of files) {
    const text = readFileSync(SRC + f, 'utf8');
    const lines = text.split('\n');
    assert.match(lines[0]!, /^\/\/ \S/, `${f}: first line should say what the file owns`);
    assert.ok(lines.length <= MAX_LINES, `${f}: ${lines.length} lines`);
    for (const [re, what] of FORBIDDEN) assert.not.match(text, re, `${f}: ${what}`);
    for (const m of text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)) {
      const [, typeOnly, from] = m;
      assert.ok(from!.startsWith('./') || from!.startsWith('../core/') || (typeOnly && from === '../platform/types.ts'), `${f}: imports ${from}`);
    }
  }
});

test.run();
