/// <reference types="node" />
// Runs test/platform/txiki-smoke.ts under a real txiki.js: `tjs run` (plain and with runtime options)
// and as a `tjs compile`d program. The binary comes from $TJS or `tjs` on PATH; without one the
// runtime tests are skipped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { needs } from '../support/needs.ts';
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scriptArgs } from '../../src/platform/txiki.ts';

function findTjs(): string | null {
  const candidates = process.env.TJS
    ? [process.env.TJS]
    : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'tjs'));
  for (const c of candidates) {
    try { accessSync(c, constants.X_OK); return c; } catch { /* next */ }
  }
  return null;
}

const tjs = findTjs();
const smokeSource = fileURLToPath(new URL('./txiki-smoke.ts', import.meta.url));

test('scriptArgs: tjs run and compiled programs', () => {
  assert.equal(scriptArgs(['/bin/tjs', 'run', 'app.js', 'a', 'b'], true), ['a', 'b']);
  assert.equal(scriptArgs(['/bin/tjs', 'run', 'app.js'], true), []);
  assert.equal(scriptArgs(['/bin/tjs', '--stack-size', '100', '--memory-limit=5', 'run', '--import-map', 'm.json', 'app.js', 'run', '-x'], true), ['run', '-x']);
  assert.equal(scriptArgs(['./kithd', 'run', 'app.js', 'x'], false), ['run', 'app.js', 'x']);
  assert.equal(scriptArgs(['./kithd'], false), []);
});

interface Run { status: number | null; stdout: string; stderr: string }

function runSmoke(cmd: string, args: string[], expectArgs: string[]): Run {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, TXIKI_SMOKE_ARGS: JSON.stringify(expectArgs) },
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function assertPassed(label: string, r: Run): void {
  const why = `${label}: exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
  const summary = /^txiki-smoke: (\d+) ok, (\d+) failed$/m.exec(r.stdout);
  assert.ok(summary, `no summary line. ${why}`);
  assert.is(summary[2], '0', why);
  assert.ok(Number(summary[1]) >= 30, `only ${summary[1]} checks ran. ${why}`);
  assert.not.match(r.stdout, /^FAIL /m, why);
  assert.is(r.status, 0, why);
  // Output written right before exit() is not lost; a partial last line gets a newline.
  assert.ok(r.stdout.endsWith('txiki-smoke: end\n'), why);
  assert.ok(r.stdout.includes('stdout line buffering: one line\nand a second\n'), why);
  assert.ok(r.stderr.includes('txiki-smoke stderr line\n'), why);
}

if (!tjs) {
  needs(false, 'txiki.js', 'set TJS=/path/to/tjs or put ../shared/router beside the project')('txiki.js smoke', () => undefined);
} else {
  test('txiki.js smoke: tjs run and compiled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kith-txiki-test-'));
    try {
      const bundle = join(dir, 'txiki-smoke.js');
      await build({
        entryPoints: [smokeSource],
        bundle: true,
        format: 'esm',
        platform: 'neutral',
        target: 'es2022',
        external: ['tjs:*'],
        outfile: bundle,
        logLevel: 'silent',
      });

      assertPassed('tjs run', runSmoke(tjs, ['run', bundle, 'a b', '--flag', 'run'], ['a b', '--flag', 'run']));
      assertPassed('tjs --stack-size run', runSmoke(tjs, ['--stack-size', '4194304', 'run', bundle], []));

      const exe = join(dir, 'txiki-smoke');
      const c = spawnSync(tjs, ['compile', bundle, exe], { encoding: 'utf8', timeout: 120_000 });
      assert.is(c.status, 0, `tjs compile: ${c.stdout}${c.stderr}`);
      assertPassed('compiled', runSmoke(exe, ['run', 'x'], ['run', 'x']));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
