/// <reference types="node" />
// kithd and kith started from the unpacked package, through the wrappers in
// /usr/sbin and /usr/bin: the settings come from the package's UCI file
// (startup log, `kith status --json`), SIGHUP reaches kithd itself and
// reloads the file, SIGTERM stops it. The wrappers' runtime choice is checked
// with a stand-in `tjs`; with TJS=/path/to/tjs the daemon also runs on the
// real txiki.js. Needs no network: without a membership kithd creates no
// interface.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { needs } from '../support/needs.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kithIpk, run, tempDir } from './support/package.ts';

const START_TIMEOUT_MS = 30_000;

/** A copy of the unpacked package, so a test can edit its /etc/config/kith. */
function installedRoot(): string {
  const root = join(tempDir('kith-installed-'), 'root');
  cpSync(kithIpk().pkg.root, root, { recursive: true, verbatimSymlinks: true });
  return root;
}

/** A PATH directory holding only the named runtimes (symlinks or scripts). */
function binWith(tools: Record<string, string>): string {
  const dir = tempDir('kith-path-');
  for (const [name, target] of Object.entries(tools)) {
    if (target.startsWith('#!')) { writeFileSync(join(dir, name), target); chmodSync(join(dir, name), 0o755); }
    else symlinkSync(target, join(dir, name));
  }
  return dir;
}

interface Daemon { child: ChildProcess; out: () => string; waitFor: (re: RegExp) => Promise<string>; exited: Promise<number | null> }

function startDaemon(cmd: string, args: string[], env: NodeJS.ProcessEnv): Daemon {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const waiters: { re: RegExp; resolve: (s: string) => void }[] = [];
  const feed = (b: Buffer) => {
    text += b.toString('utf8');
    for (const w of [...waiters]) {
      const m = w.re.exec(text);
      if (m) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m[0]); }
    }
  };
  child.stdout!.on('data', feed);
  child.stderr!.on('data', feed);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child, exited, out: () => text,
    waitFor: (re) => new Promise((resolve, reject) => {
      const m = re.exec(text);
      if (m) return resolve(m[0]);
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; output so far:\n${text}`)), START_TIMEOUT_MS);
      waiters.push({ re, resolve: (s) => { clearTimeout(timer); resolve(s); } });
      void exited.then((code) => { clearTimeout(timer); reject(new Error(`exited (${code}) before ${re}; output:\n${text}`)); });
    }),
  };
}

async function stop(d: Daemon): Promise<number | null> {
  if (d.child.exitCode === null) d.child.kill('SIGTERM');
  return d.exited;
}

function testConfig(stateDir: string, listenPort: number, dnsPort: number): string {
  return `config kith 'main'
	option listen_port '${listenPort}'
	option log_level 'debug'
	option state_dir '${stateDir}'
	option ubus_socket '${stateDir}.no-ubus.sock'

config dns 'dns'
	option port '${dnsPort}'
`;
}

const dnsPort = () => 20000 + Math.floor(Math.random() * 20000);

async function runFromPackage(tools: Record<string, string>, extraEnv: NodeJS.ProcessEnv, expectRuntime: string) {
  const root = installedRoot();
  const tmp = tempDir('kith-state-');
  const stateDir = join(tmp, 'state');
  const config = join(root, 'etc/config/kith');
  writeFileSync(config, testConfig(stateDir, 51999, dnsPort()));
  const env = { PATH: binWith(tools), KITH_RUN_DIR: join(tmp, 'run'), ...extraEnv };
  const d = startDaemon(join(root, 'usr/sbin/kithd'), ['--config', config], env);
  try {
    await d.waitFor(/kithd running \(\w+\)/);
    assert.match(d.out(), new RegExp(`^info: config ${config}: listen_port 51999, ifname kith0, state_dir ${stateDir}, dns port \\d+, 0 subnets, 0 services$`, 'm'));
    assert.match(d.out(), /^debug: ubus: no socket at /m, 'log_level debug from the UCI file');
    assert.match(d.out(), new RegExp(`kithd running \\(${expectRuntime}\\)`));

    // exec all the way down: the wrapper's process is the runtime running kithd.
    const exe = readlinkSync(`/proc/${d.child.pid}/exe`);
    assert.ok(!/\/(dash|bash|sh|busybox)$/.test(exe), `pid ${d.child.pid} is still the shell (${exe})`);

    const status = () => {
      const r = run(join(root, 'usr/bin/kith'), ['status', '--json'], { env: { ...env, KITH_STATE_DIR: stateDir } });
      assert.is(r.status, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    const s = status();
    assert.equal(s.config, { file: config, listenPort: 51999, ifname: 'kith0', stateDir, logLevel: 'debug' });
    assert.is(s.state, 'unconfigured');
    assert.is(s.runtime, expectRuntime);
    assert.is(statSync(stateDir).mode & 0o777, 0o700, 'kithd creates its state directory 0700');
    assert.not.ok(existsSync(join(root, 'etc/kith')), 'nothing written into the package tree');

    // SIGHUP (what procd sends on reload) re-reads the file; same process, new settings.
    writeFileSync(config, testConfig(stateDir, 52000, dnsPort()).replace("'debug'", "'info'"));
    d.child.kill('SIGHUP');
    await d.waitFor(/reload: config .*listen_port 52000/);
    assert.equal(status().config, { file: config, listenPort: 52000, ifname: 'kith0', stateDir, logLevel: 'info' });
    assert.is(d.child.exitCode, null);
  } finally {
    assert.is(await stop(d), 0, `kithd did not stop cleanly on SIGTERM:\n${d.out()}`);
  }
}

test('kithd from the package, on Node.js: reads the UCI file, answers kith status, reloads on SIGHUP, stops on SIGTERM', async () => {
  await runFromPackage({ node: process.execPath }, {}, 'node');
});

needs(Boolean(process.env.TJS), 'txiki.js', 'set TJS=/path/to/tjs')('kithd from the package, on txiki.js (TJS=/path/to/tjs)', async () => {
  const tjs = process.env.TJS!;
  await runFromPackage({ tjs, node: process.execPath }, { TJS_HOME: tempDir('kith-tjs-home-') }, 'txiki');
});

/** A stand-in tjs that reports how the wrapper called it, then exits. */
const FAKE_TJS = '#!/bin/sh\nprintf \'pid=%s\\nTJS_HOME=%s\\n\' "$$" "$TJS_HOME"\nfor a in "$@"; do printf \'arg=%s\\n\' "$a"; done\n';

function wrapperCall(root: string, wrapper: string, path: string, env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ pid: number; code: number | null; out: string }>((resolve) => {
    const child = spawn(join(root, wrapper), ['--config', 'a b', ''], { env: { PATH: path, ...env } });
    let out = '';
    child.stdout.on('data', (b) => { out += b; });
    child.stderr.on('data', (b) => { out += b; });
    child.on('exit', (code) => resolve({ pid: child.pid!, code, out }));
  });
}

test('the wrappers prefer tjs, pass arguments intact, keep TJS_HOME under /tmp, and exec', async () => {
  const root = kithIpk().pkg.root;
  const path = binWith({ tjs: FAKE_TJS, node: process.execPath });
  for (const [wrapper, bundle] of [['usr/sbin/kithd', 'kithd-boot.js'], ['usr/bin/kith', 'kith.js']] as const) {
    const r = await wrapperCall(root, wrapper, path);
    assert.is(r.code, 0, r.out);
    const script = `${root}/${wrapper.slice(0, wrapper.lastIndexOf('/'))}/../share/kith/${bundle}`;
    assert.is(r.out, `pid=${r.pid}\nTJS_HOME=/tmp/kith-tjs\narg=run\narg=${script}\narg=--config\narg=a b\narg=\n`);
    const mine = await wrapperCall(root, wrapper, path, { TJS_HOME: '/tmp/elsewhere' });
    assert.match(mine.out, /^TJS_HOME=\/tmp\/elsewhere$/m);
  }
});

test('without tjs or node the wrappers say what to install and exit 127', async () => {
  const root = kithIpk().pkg.root;
  for (const wrapper of ['usr/sbin/kithd', 'usr/bin/kith']) {
    const r = await wrapperCall(root, wrapper, tempDir('kith-empty-path-'));
    assert.is(r.code, 127);
    assert.match(r.out, /no JavaScript runtime: install txiki\.js .*tjs.* or Node\.js \(opkg install node\)/);
  }
});

test('the Node.js bundles still run without their source map', () => {
  const root = kithIpk().pkg.root;
  const r = run(process.execPath, [join(root, 'usr/share/kith/kithd.mjs'), '--help']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /usage: kithd/);
});

test.run();
