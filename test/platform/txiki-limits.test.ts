/// <reference types="node" />
// Runs test/platform/txiki-limits.ts under a real txiki.js ($TJS, then
// ../shared/router/bin/tjs, then tjs on PATH): UDP datagram sizes through the
// txiki.js adapter, and TCP DNS backpressure against a client that pipelines
// without reading. Without a tjs binary the test says it skipped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { needs } from '../support/needs.ts';
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTjs } from '../support/tjs.ts';
import { MAX_CONTROL_BYTES } from '../../src/core/gossip.ts';


const tjs = findTjs();

if (!tjs) {
  needs(false, 'txiki.js', 'set TJS=/path/to/tjs or put ../shared/router beside the project')('txiki.js limits', () => undefined);
} else {
  test('txiki.js limits: UDP sizes, TCP DNS backpressure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kith-txiki-limits-'));
    try {
      const bundle = join(dir, 'txiki-limits.js');
      await build({
        entryPoints: [fileURLToPath(new URL('./txiki-limits.ts', import.meta.url))], bundle: true, format: 'esm', platform: 'neutral',
        mainFields: ['module', 'main'], target: 'es2022', external: ['tjs:*'], outfile: bundle, logLevel: 'silent',
      });
      const r = spawnSync(tjs, ['run', bundle], { encoding: 'utf8', timeout: 180_000, env: { ...process.env, TJS_HOME: join(dir, 'tjs-home'), KITH_MAX_CONTROL_BYTES: String(MAX_CONTROL_BYTES) } });
      const why = `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}${r.error ? String(r.error) : ''}`;
      const summary = /^txiki-limits: (\d+) ok, (\d+) failed$/m.exec(r.stdout ?? '');
      assert.ok(summary, `no summary line. ${why}`);
      assert.is(summary[2], '0', why);
      assert.is(summary[1], '3', `expected 3 checks. ${why}`);
      assert.is(r.status, 0, why);
      process.stdout.write(r.stdout.split('\n').filter((l) => l.startsWith('  ')).join('\n') + '\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
