/// <reference types="node" />
// End-to-end test against a real ubusd (and the real ubus CLI when UBUS_CLI is
// set): registering an object, calls from the CLI and from a second client,
// status codes as the CLI reports them, events both ways, and reconnection
// with re-registration after ubusd restarts.
//   UBUSD=/path/to/ubusd UBUS_CLI=/path/to/ubus npx uvu -r tsx test/ubus 'ubusd\.test\.ts$'
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { needs } from '../support/needs.ts';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodePlatform } from '../../src/platform/node.ts';
import { UBUS_STATUS, UbusClient, UbusError, UbusStatusError, type BlobTable } from '../../src/ubus/index.ts';

const UBUSD = process.env.UBUSD;
const UBUS_CLI = process.env.UBUS_CLI;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

function startUbusd(sock: string): ChildProcess {
  rmSync(sock, { force: true });
  const p = spawn(UBUSD!, ['-s', sock], { stdio: ['ignore', 'ignore', 'pipe'] });
  p.stderr!.on('data', (d) => process.stderr.write(`ubusd: ${d}`));
  return p;
}

async function stopUbusd(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(t);
}

interface CliResult { code: number; stdout: string; stderr: string }
/** Runs the ubus CLI asynchronously (our own client must keep serving meanwhile). */
function cli(sock: string, args: string[], timeoutMs = 5000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(UBUS_CLI!, ['-s', sock, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

if (!UBUSD) {
  needs(false, 'ubusd', 'set UBUSD=/path/to/ubusd, or put ../shared/router beside the project')('real ubusd: serve kithtest, call it from the CLI and a client, events, restart', () => undefined);
} else {
  test('real ubusd: serve kithtest, call it from the CLI and a client, events, restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kith-ubus-'));
    const sock = join(dir, 'ubus.sock');
    let ubusd = startUbusd(sock);
    const platform = nodePlatform();
    const logs: string[] = [];
    const opts = { socketPath: sock, reconnectMinMs: 50, reconnectMaxMs: 400, log: (l: string, m: string) => { logs.push(`${l} ${m}`); } };
    const server = new UbusClient(platform, opts);
    const other = new UbusClient(platform, opts);
    try {
      await until('ubusd socket', () => existsSync(sock), 3000);
      await server.connect(3000);
      await other.connect(3000);
      assert.ok(server.clientId > 0 && server.clientId !== other.clientId);
      await server.ping();

      const seen: string[] = [];
      const obj = await server.addObject('kithtest', {
        echo: {
          args: { msg: 'string', n: 'int', on: 'bool', t: 'table', a: 'array' },
          handler: (args, ctx) => { seen.push(ctx.user ?? '?'); return { ...args, session: ctx.session ?? null } as BlobTable; },
        },
        lookup: { args: { name: 'string' }, handler: (a) => { throw new UbusStatusError(UBUS_STATUS.NOT_FOUND, `no peer ${a.name}`); } },
        big: { args: {}, handler: () => ({ i64: 2 ** 40, neg: -5, d: 0.5, nul: null }) },
      });
      assert.ok(obj.id > 0);

      // Another client: lookup with signature, call, status errors.
      const [info] = await other.lookup('kithtest');
      assert.equal(info!.signature, { echo: { msg: 3, n: 5, on: 7, t: 2, a: 1 }, lookup: { name: 3 }, big: {} });
      assert.equal(await other.call('kithtest', 'echo', { msg: 'hi', n: -7, on: true, t: { k: 'v' }, a: [1, 'x'] }),
        { msg: 'hi', n: -7, on: true, t: { k: 'v' }, a: [1, 'x'], session: null });
      assert.equal(await other.call('kithtest', 'big'), { i64: 2 ** 40, neg: -5, d: 0.5, nul: null });
      for (const [method, args, status] of [
        ['nosuch', {}, UBUS_STATUS.METHOD_NOT_FOUND], ['echo', { n: 'x' }, UBUS_STATUS.INVALID_ARGUMENT], ['lookup', { name: 'z' }, UBUS_STATUS.NOT_FOUND],
      ] as const) {
        try {
          await other.call('kithtest', method, args as BlobTable);
          assert.unreachable(`${method} succeeded`);
        } catch (e) {
          assert.instance(e, UbusError);
          assert.is((e as UbusError).status, status, method);
        }
      }

      // Events: a client listens, the other sends.
      const events: [string, BlobTable][] = [];
      await other.listen('kith.*', (name, data) => { events.push([name, data]); });
      await server.sendEvent('kith.node', { v: 1 });
      await until('event from the server client', () => events.length === 1, 2000);
      assert.equal(events[0], ['kith.node', { v: 1 }]);

      if (UBUS_CLI) {
        const call = await cli(sock, ['call', 'kithtest', 'echo', '{"msg":"from cli","n":5,"on":false}']);
        assert.is(call.code, 0, call.stderr);
        assert.equal(JSON.parse(call.stdout), { msg: 'from cli', n: 5, on: false, session: null });
        assert.ok(seen.includes('root'), `USER seen: ${seen.join(',')}`);

        const sid = 'c0ffee00c0ffee00c0ffee00c0ffee00';
        const luci = await cli(sock, ['call', 'kithtest', 'echo', `{"msg":"luci","ubus_rpc_session":"${sid}"}`]);
        assert.is(luci.code, 0, luci.stderr);
        assert.equal(JSON.parse(luci.stdout), { msg: 'luci', session: sid });

        const list = await cli(sock, ['-v', 'list', 'kithtest']);
        assert.is(list.code, 0);
        assert.match(list.stdout, /"echo":\{"msg":"String","n":"Integer","on":"Boolean","t":"Table","a":"Array"\}/);

        const unknown = await cli(sock, ['call', 'kithtest', 'nosuch', '{}']);
        assert.is(unknown.code, 253, 'METHOD_NOT_FOUND: -3 & 0xff');
        assert.match(unknown.stderr, /Method not found/);
        const invalid = await cli(sock, ['call', 'kithtest', 'echo', '{"n":"five"}']);
        assert.is(invalid.code, 254, 'INVALID_ARGUMENT: the CLI prints usage and exits 254');
        assert.match(invalid.stderr, /Invalid argument/);
        const notFound = await cli(sock, ['call', 'kithtest', 'lookup', '{"name":"x"}']);
        assert.is(notFound.code, 252, 'NOT_FOUND: -4 & 0xff');
        assert.match(notFound.stderr, /Not found/);

        const sent = await cli(sock, ['send', 'kith.cli', '{"x":1}']);
        assert.is(sent.code, 0, sent.stderr);
        await until('event from the CLI', () => events.length === 2, 2000);
        assert.equal(events[1], ['kith.cli', { x: 1 }]);

        const listening = cli(sock, ['-t', '2', 'listen', 'kith.ts'], 6000);
        await sleep(500); // let the CLI register before we send
        await server.sendEvent('kith.ts', { n: 3, s: 'x' });
        const heard = await listening;
        assert.match(heard.stdout, /\{ "kith.ts": \{"n":3,"s":"x"\} \}/);
      }

      // Restart ubusd: both clients reconnect, the object and the listener come back.
      const oldId = obj.id;
      await stopUbusd(ubusd);
      ubusd = startUbusd(sock);
      await until('ubusd socket after restart', () => existsSync(sock), 3000);
      // Both the other client's lookup and our own registration's reply: they arrive on two sockets, in either order.
      await until('object re-registered', async () => {
        try { return (await other.lookup('kithtest', 500)).length === 1 && obj.id !== oldId; } catch { return false; }
      }, 8000);
      assert.is.not(obj.id, oldId, 'a new object id from the new ubusd');
      assert.equal(await other.call('kithtest', 'echo', { msg: 'after restart' }), { msg: 'after restart', session: null });
      await until('listener re-registered', async () => {
        await server.sendEvent('kith.again', {}).catch(() => {});
        await sleep(50);
        return events.some(([n]) => n === 'kith.again');
      }, 5000);
      if (UBUS_CLI) {
        const again = await cli(sock, ['call', 'kithtest', 'echo', '{"msg":"cli again"}']);
        assert.is(again.code, 0, again.stderr);
        assert.equal(JSON.parse(again.stdout), { msg: 'cli again', session: null });
      }
      assert.ok(logs.some((l) => /re-registered object kithtest/.test(l)), logs.join('\n'));
    } finally {
      server.close();
      other.close();
      await stopUbusd(ubusd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
