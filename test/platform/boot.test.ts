/// <reference types="node" />
// dist/txiki/kithd-boot.js under a real txiki.js: kithd runs from bytecode
// compiled into its run directory, with its arguments intact; later starts
// reuse the bytecode; a run directory others may write to is not trusted
// (kithd starts from source and says so); a new bundle replaces old bytecode.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { needs } from '../support/needs.ts';
import { findTjs } from '../support/tjs.ts';

const tjs = findTjs();
const dist = fileURLToPath(new URL('../../dist/txiki/', import.meta.url));
const haveBundles = existsSync(join(dist, 'kithd-boot.js')) && existsSync(join(dist, 'kithd.js'));
const withTjs = needs(tjs !== null && haveBundles, 'txiki.js and dist/txiki (tjs, make build)', 'set TJS or put ../shared/router beside the project; run make build');

function boot(env: Record<string, string>, args: string[]) {
  const r = spawnSync(tjs!, ['run', join(dist, 'kithd-boot.js'), ...args], { encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '', ...env } });
  return { status: r.status, out: r.stdout + r.stderr };
}
const bytecode = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.jsc'));

withTjs('kithd starts from bytecode in its run directory, arguments intact, and reuses it', () => {
  const state = mkdtempSync(join(tmpdir(), 'kith-boot-'));
  try {
    const first = boot({ KITH_STATE_DIR: state, TJS_HOME: join(state, 'tjs') }, ['--help']);
    assert.is(first.status, 0, first.out);
    assert.match(first.out, /usage: kithd \[--config FILE\]/);
    assert.not.match(first.out, /starting from source/);
    const run = join(state, 'run');
    const files = bytecode(run);
    assert.is(files.length, 1, files.join(' '));
    assert.is(statSync(run).mode & 0o777, 0o700);
    assert.is(statSync(join(run, files[0]!)).mode & 0o777, 0o600);
    const mtime = statSync(join(run, files[0]!)).mtimeMs;
    // A refused argument proves kithd parsed these arguments, not the loader's.
    const second = boot({ KITH_STATE_DIR: state, TJS_HOME: join(state, 'tjs') }, ['--ifname', 'bad name!']);
    assert.is(second.status, 2, second.out);
    assert.match(second.out, /invalid --ifname "bad name!"/);
    assert.equal(bytecode(run), files);
    assert.is(statSync(join(run, files[0]!)).mtimeMs, mtime);
  } finally { rmSync(state, { recursive: true, force: true }); }
});

withTjs('a run directory that others may write to is not trusted: kithd starts from source', () => {
  const state = mkdtempSync(join(tmpdir(), 'kith-boot-'));
  try {
    const run = join(state, 'run');
    mkdirSync(run);
    chmodSync(run, 0o777);
    const r = boot({ KITH_STATE_DIR: state, TJS_HOME: join(state, 'tjs') }, ['--help']);
    assert.is(r.status, 0, r.out);
    assert.match(r.out, /kithd: starting from source \(.*run is not a directory only kithd's user may write to\)/);
    assert.match(r.out, /usage: kithd/);
    assert.equal(bytecode(run), []);
  } finally { rmSync(state, { recursive: true, force: true }); }
});

withTjs('bytecode of another bundle is replaced, and the old file removed', () => {
  const state = mkdtempSync(join(tmpdir(), 'kith-boot-'));
  try {
    const run = join(state, 'run');
    mkdirSync(run, { mode: 0o700 });
    writeFileSync(join(run, 'kithd-0.0.0-1-1.jsc'), 'old', { mode: 0o600 });
    const r = boot({ KITH_STATE_DIR: state, TJS_HOME: join(state, 'tjs') }, ['--help']);
    assert.is(r.status, 0, r.out);
    const files = bytecode(run);
    assert.is(files.length, 1);
    assert.is.not(files[0], 'kithd-0.0.0-1-1.jsc');
  } finally { rmSync(state, { recursive: true, force: true }); }
});

test.run();
