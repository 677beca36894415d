// kithd registers the ubus object `kith` on a real ubusd: LuCI-style calls
// (with ubus_rpc_session) reach the local API's methods; re-registered after a
// ubusd restart. Needs UBUSD (and UBUS_CLI) pointing at the real programs.
/// <reference types="node" />
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { needs } from '../support/needs.ts';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const UBUSD = process.env['UBUSD'];
const UBUS = process.env['UBUS_CLI'] ?? (UBUSD ? join(dirname(UBUSD), 'ubus') : undefined);
const kithd = join(root, 'dist/node/kithd.mjs');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, fn: () => boolean, ms = 8000): Promise<void> {
  for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(100)) if (fn()) return;
  throw new Error(`timed out waiting for ${what}`);
}

if (!UBUSD || !UBUS || !existsSync(UBUSD) || !existsSync(UBUS)) {
  needs(false, 'ubusd and ubus', 'set UBUSD=/path/to/ubusd (and UBUS_CLI), or put ../shared/router beside the project')('kithd on a real ubusd', () => undefined);
} else if (!existsSync(kithd)) {
  needs(false, kithd, 'make build')('kithd on a real ubusd', () => undefined);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'kith-ubus-'));
  const sock = join(dir, 'ubus.sock');
  const acl = join(dir, 'acl');
  mkdirSync(acl);
  const procs: ChildProcess[] = [];
  const startUbusd = () => { const p = spawn(UBUSD, ['-A', acl, '-s', sock], { stdio: 'ignore' }); procs.push(p); return p; };
  const ubus = (...args: string[]) => spawnSync(UBUS, ['-s', sock, ...args], { encoding: 'utf8', timeout: 5000 });
  let log = '';

  test.before(async () => {
    startUbusd();
    await until('ubusd socket', () => existsSync(sock));
    const d = spawn(process.execPath, [kithd, '--state-dir', join(dir, 'state'), '--ubus-socket', sock], { stdio: ['ignore', 'pipe', 'pipe'] });
    d.stdout!.on('data', (b) => { log += b; });
    d.stderr!.on('data', (b) => { log += b; });
    procs.push(d);
    await until('kith object', () => /registered/.test(log));
  });
  test.after(() => { for (const p of procs) p.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }); });

  test('ubus list shows the kith object with its methods', () => {
    const r = ubus('-v', 'list', 'kith');
    assert.is(r.status, 0, r.stderr);
    for (const m of ['status', 'peers', 'invite', 'join', 'service_add']) assert.match(r.stdout, `"${m}"`);
  });

  test('status over ubus, with the ubus_rpc_session LuCI adds', () => {
    const r = ubus('call', 'kith', 'status', '{"ubus_rpc_session":"00000000000000000000000000000000"}');
    assert.is(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.is(s.state, 'unconfigured');
    assert.is(s.runtime, 'node');
  });

  test('a failing operation answers with its reason; a bad argument is INVALID_ARGUMENT', () => {
    const r = ubus('call', 'kith', 'invite', '{}');
    assert.is(r.status, 0, r.stderr);
    assert.match(JSON.parse(r.stdout).error, /not a member/);
    const bad = ubus('call', 'kith', 'join', '{"code": 5}');
    assert.is(bad.status, 254 /* ubus CLI: -UBUS_STATUS_INVALID_ARGUMENT */, bad.stdout + bad.stderr);
    const unknown = ubus('call', 'kith', 'nosuch', '{}');
    assert.is(unknown.status, 253 /* METHOD_NOT_FOUND */);
  });

  test('a network.interface event for wan makes kithd refresh its endpoints', async () => {
    const r = ubus('send', 'network.interface', '{"action":"ifup","interface":"wan"}');
    assert.is(r.status, 0, r.stderr);
    await until('the wan event', () => /wan ifup: refreshing endpoints/.test(log));
    ubus('send', 'network.interface', '{"action":"ifup","interface":"lan"}');
    await sleep(300);
    assert.is(log.match(/refreshing endpoints/g)?.length, 1, 'a lan event changes nothing');
  });

  test('the object is registered again after ubusd restarts', async () => {
    procs[0]!.kill('SIGKILL');
    await sleep(300);
    rmSync(sock, { force: true });
    startUbusd();
    await until('re-registration', () => ubus('call', 'kith', 'status').status === 0, 10000);
  });

}

test.run();
