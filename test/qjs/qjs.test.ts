/// <reference types="node" />
// The QuickJS-ng check inside the unit run: the core self-test passes under
// Node, `node build/qjs-check.mjs` passes it inside QuickJS-ng with the same
// number of checks, and the harness reports engine errors and randomness drawn
// inside the engine as failures.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { selfTest } from './selftest.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHECK = fileURLToPath(new URL('../../build/qjs-check.mjs', import.meta.url));

interface Harness {
  runInQuickJS(code: string): Promise<{ lines: string[]; checks: number; randomCalls: number; error: string | null }>;
}
const harness = (): Promise<Harness> => import(CHECK) as Promise<Harness>;

let nodeChecks = 0;

test('the self-test passes under Node', () => {
  const lines: string[] = [];
  nodeChecks = selfTest((l) => lines.push(l));
  assert.ok(nodeChecks >= 20, `${nodeChecks} checks`);
  assert.equal(lines, [`selftest: ${nodeChecks} ok`]);
});

test('node build/qjs-check.mjs: the same self-test passes inside QuickJS-ng', () => {
  const r = spawnSync(process.execPath, [CHECK], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  const out = `${r.stdout}${r.stderr}`.trim();
  assert.is(r.status, 0, out);
  const m = /^qjs-check: core self-test passed in QuickJS-ng (\S+) \((\d+) checks, bundle ([\d.]+) KB\)$/m.exec(r.stdout);
  assert.ok(m, out);
  assert.is(Number(m![2]), nodeChecks || selfTest(() => {}), 'same number of checks as under Node');
  console.log(`  ${m![0]}`);
});

test('the harness reports an exception thrown in the engine, with its message', async () => {
  const { runInQuickJS } = await harness();
  const r = await runInQuickJS('console.log("before"); var __kithSelfTest = { get checks() { throw new TypeError("boom at check 3"); } };');
  assert.equal(r.lines, ['before']);
  assert.match(r.error ?? '', /TypeError: boom at check 3/);
});

test('the harness counts randomness drawn inside the engine', async () => {
  const { runInQuickJS } = await harness();
  const r = await runInQuickJS('var __kithSelfTest = { checks: crypto.getRandomValues(new Uint8Array(4)).length };');
  assert.is(r.error, null);
  assert.is(r.checks, 4);
  assert.is(r.randomCalls, 1);
});

test.run();
