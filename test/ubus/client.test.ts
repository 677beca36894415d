/// <reference types="node" />
// UbusClient over in-memory sockets against the fake ubusd: calls between
// clients, argument policies, status errors, concurrency, events, timeouts,
// reconnection with backoff and re-registration, close().
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nodePlatform } from '../../src/platform/node.ts';
import type { Clock } from '../../src/platform/types.ts';
import {
  UBUS_MSG, UBUS_STATUS, UbusClient, UbusError, UbusStatusError, checkArgs, encodeBlobmsgTable, encodeMessage, type BlobTable,
  type UbusClientOptions,
} from '../../src/ubus/index.ts';
import { FakeUbusd, delay, waitFor } from './support/fake_ubusd.ts';

const SOCK = '/fake/ubus.sock';
const clock = nodePlatform().clock;
const FAST: UbusClientOptions = { socketPath: SOCK, reconnectMinMs: 10, reconnectMaxMs: 80 };

/** Runs fn with a fresh fake ubusd and closes every client it made, whatever happens. */
async function withBus(fn: (bus: FakeUbusd, client: (opts?: UbusClientOptions) => Promise<UbusClient>) => Promise<void>, seed = 1): Promise<void> {
  const bus = new FakeUbusd(seed);
  const clients: UbusClient[] = [];
  const client = async (opts: UbusClientOptions = {}) => {
    const c = new UbusClient(bus.platform(SOCK, clock), { ...FAST, ...opts });
    clients.push(c);
    await c.connect(1000);
    return c;
  };
  try {
    await fn(bus, client);
  } finally {
    for (const c of clients) c.close();
  }
}

async function rejects(p: Promise<unknown>, status: number, what: string): Promise<UbusError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, UbusError, what);
    assert.is((e as UbusError).status, status, `${what}: ${(e as Error).message}`);
    return e as UbusError;
  }
  throw new Error(`${what}: resolved, expected status ${status}`);
}

const kithMethods = (log: string[] = []) => ({
  echo: {
    args: { msg: 'string', n: 'int', on: 'bool' } as const,
    handler: async (args: { msg?: string; n?: number; on?: boolean }, ctx: { session?: string; peer: number }) => {
      log.push(`echo ${args.msg ?? ''}`);
      return { ...args, session: ctx.session ?? null, peer: ctx.peer } as BlobTable;
    },
  },
  missing: { args: { name: 'string' } as const, handler: (a: { name?: string }) => { throw new UbusStatusError(UBUS_STATUS.NOT_FOUND, `no peer "${a.name}"`); } },
  broken: { args: {}, handler: () => { throw new Error('bug'); } },
  nothing: { args: {}, handler: () => undefined },
  slow: { args: { ms: 'int' } as const, handler: async (a: { ms?: number }) => { await delay(a.ms ?? 0); return { waited: a.ms ?? 0 }; } },
});

test('connect learns the client id from HELLO; ping is answered', () => withBus(async (_bus, client) => {
  const c = await client();
  assert.ok(c.connected);
  assert.ok(c.clientId >= 0x10000, `client id ${c.clientId}`);
  await c.ping();
}));

test('a second client calls the object: args, result, ubus_rpc_session stripped into ctx', () => withBus(async (bus, client) => {
  const server = await client();
  const caller = await client();
  const obj = await server.addObject('kithtest', kithMethods());
  assert.is(obj.id, bus.objectByPath('kithtest')!.id);
  const info = await caller.lookup('kithtest');
  assert.equal(info, [{ path: 'kithtest', id: obj.id, typeId: info[0]!.typeId!, signature: { echo: { msg: 3, n: 5, on: 7 }, missing: { name: 3 }, broken: {}, nothing: {}, slow: { ms: 5 } } }]);
  assert.equal(await caller.call('kithtest', 'echo', { msg: 'hi', n: 42, on: false }), { msg: 'hi', n: 42, on: false, session: null, peer: caller.clientId });
  const sid = '0123456789abcdef0123456789abcdef';
  assert.equal(await caller.call('kithtest', 'echo', { msg: 'x', ubus_rpc_session: sid }), { msg: 'x', session: sid, peer: caller.clientId });
  assert.equal(await caller.call('kithtest', 'nothing'), {});
}));

test('an unchecked method gets every argument as sent, ubus_rpc_session still stripped into ctx; no DATA is still refused', () => withBus(async (_bus, client) => {
  const server = await client();
  const caller = await client();
  await server.addObject('kithtest', {
    raw: {
      args: { n: 'int' }, unchecked: true,
      handler: (args: Record<string, unknown>, ctx: { session?: string }) => ({ args: args as BlobTable, session: ctx.session ?? null }),
    },
  });
  const info = await caller.lookup('kithtest');
  assert.equal(info[0]!.signature, { raw: { n: 5 } }, 'args is still the signature');
  const sid = '0123456789abcdef0123456789abcdef';
  assert.equal(await caller.call('kithtest', 'raw', { n: 'five', extra: true, ubus_rpc_session: sid }),
    { args: { n: 'five', extra: true }, session: sid });
  assert.equal(checkArgs({}, undefined, true), { ok: false, status: UBUS_STATUS.INVALID_ARGUMENT, reason: 'no DATA attribute' });
}));

test('status errors: METHOD_NOT_FOUND, INVALID_ARGUMENT, handler-chosen NOT_FOUND, UNKNOWN_ERROR, missing object', () => withBus(async (_bus, client) => {
  const server = await client();
  const caller = await client();
  await server.addObject('kithtest', kithMethods());
  const e = await rejects(caller.call('kithtest', 'nosuch'), UBUS_STATUS.METHOD_NOT_FOUND, 'unknown method');
  assert.is(e.statusName, 'METHOD_NOT_FOUND');
  assert.match(e.message, /ubus call kithtest nosuch: METHOD_NOT_FOUND/);
  await rejects(caller.call('kithtest', 'echo', { n: 'five' }), UBUS_STATUS.INVALID_ARGUMENT, 'string for int');
  await rejects(caller.call('kithtest', 'echo', { on: 1 }), UBUS_STATUS.INVALID_ARGUMENT, 'int for bool');
  await rejects(caller.call('kithtest', 'missing', { name: 'bob' }), UBUS_STATUS.NOT_FOUND, 'handler status');
  await rejects(caller.call('kithtest', 'broken'), UBUS_STATUS.UNKNOWN_ERROR, 'handler threw');
  await rejects(caller.call('nosuch', 'x'), UBUS_STATUS.NOT_FOUND, 'no object');
  await rejects(server.addObject('kithtest', {}), UBUS_STATUS.INVALID_ARGUMENT, 'duplicate name');
}));

test('concurrency: 40 calls in flight each way while both sides serve, replies matched correctly', () => withBus(async (_bus, client) => {
  const a = await client();
  const b = await client();
  await a.addObject('obj.a', kithMethods());
  await b.addObject('obj.b', {
    // A handler that itself calls back into the other client while calls are in flight.
    relay: { args: { n: 'int' }, handler: async (x) => ({ via: 'b', inner: await b.call('obj.a', 'slow', { ms: (x.n ?? 0) % 7 }) }) },
  });
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < 40; i++) {
    calls.push(a.call('obj.b', 'relay', { n: i }).then((r) => assert.equal(r, { via: 'b', inner: { waited: i % 7 } })));
    calls.push(b.call('obj.a', 'slow', { ms: (i * 13) % 11 }).then((r) => assert.equal(r, { waited: (i * 13) % 11 })));
    calls.push(a.call('obj.a', 'echo', { msg: `self ${i}` }).then((r) => assert.is(r.msg, `self ${i}`)));
  }
  await Promise.all(calls);
}));

test('events: listen with patterns, send, reserved prefix, close stops delivery', () => withBus(async (_bus, client) => {
  const a = await client();
  const b = await client();
  const got: [string, BlobTable][] = [];
  const l = await a.listen(['kith.*', 'exact'], (name, data) => { got.push([name, data]); });
  await b.sendEvent('kith.peer.up', { peer: 'x', n: 2 ** 33 });
  await b.sendEvent('other', { no: true });
  await b.sendEvent('exact', {});
  await waitFor('two events', () => got.length === 2);
  assert.equal(got, [['kith.peer.up', { peer: 'x', n: 2 ** 33 }], ['exact', {}]]);
  await rejects(b.sendEvent('ubus.x', {}), UBUS_STATUS.PERMISSION_DENIED, 'reserved prefix');
  await l.close();
  await b.sendEvent('kith.late', {});
  await b.ping(); // the event would have been delivered before this reply
  await delay(20);
  assert.is(got.length, 2);
}));

test('timeouts: a call whose handler never answers rejects with TIMEOUT in time', () => withBus(async (_bus, client) => {
  const server = await client();
  const caller = await client();
  await server.addObject('hang', { never: { args: {}, handler: () => new Promise<BlobTable>(() => {}) } });
  const t0 = Date.now();
  await rejects(caller.call('hang', 'never', {}, 150), UBUS_STATUS.TIMEOUT, 'hung handler');
  const took = Date.now() - t0;
  assert.ok(took >= 140 && took < 1000, `took ${took} ms`);
  await caller.ping(); // still usable
}));

test('reconnect: after a ubusd restart objects and listeners are registered again', () => withBus(async (bus, client) => {
  const server = await client();
  const caller = await client();
  const got: string[] = [];
  const obj = await server.addObject('kithtest', kithMethods());
  await server.listen('kith.*', (name) => { got.push(name); });
  const oldId = obj.id;
  const oldClient = server.clientId;
  const inflight = caller.call('kithtest', 'slow', { ms: 300 });
  await delay(20);
  bus.restart();
  await rejects(inflight, UBUS_STATUS.CONNECTION_FAILED, 'call in flight across the restart');
  await waitFor('re-registration', () => bus.objectByPath('kithtest') !== undefined);
  assert.is.not(server.clientId, oldClient);
  assert.is.not(obj.id, oldId);
  assert.is(obj.id, bus.objectByPath('kithtest')!.id);
  assert.equal((await caller.call('kithtest', 'echo', { msg: 'again' })).msg, 'again');
  await waitFor('listener re-registered', async () => { await caller.sendEvent('kith.back', {}); await delay(10); return got.includes('kith.back'); });
}));

test('requests made while ubusd is down wait for it (bounded by their timeout)', () => withBus(async (bus, client) => {
  const c = await client();
  bus.restart(true);
  await waitFor('disconnect noticed', () => !c.connected);
  await rejects(c.ping(100), UBUS_STATUS.CONNECTION_FAILED, 'still down');
  const pending = c.ping(2000);
  await delay(50);
  bus.running = true;
  await pending;
  assert.ok(c.connected);
}));

test('reconnect backoff doubles from the minimum and stays at the maximum', async () => {
  const bus = new FakeUbusd();
  bus.running = false;
  const sleeps: number[] = [];
  const recording: Clock = { ...clock, after: (ms, fn) => { sleeps.push(ms); return clock.after(ms, fn); } };
  const c = new UbusClient(bus.platform(SOCK, recording), { ...FAST, reconnectMinMs: 5, reconnectMaxMs: 40 });
  try {
    await rejects(c.connect(300), UBUS_STATUS.CONNECTION_FAILED, 'nothing listening');
    const backoff = sleeps.filter((ms) => ms <= 40);
    assert.equal(backoff.slice(0, 6), [5, 10, 20, 40, 40, 40]);
    assert.is(sleeps.length - backoff.length, 1, 'only the connect() wait itself is longer than the maximum');
  } finally {
    c.close();
  }
});

test('close(): open requests fail, no reconnection, later calls refused', () => withBus(async (bus, client) => {
  const server = await client();
  const c = await client();
  await server.addObject('hang', { never: { args: {}, handler: () => new Promise<BlobTable>(() => {}) } });
  const open = c.call('hang', 'never', {}, 2000);
  await delay(20);
  c.close();
  await rejects(open, UBUS_STATUS.CONNECTION_FAILED, 'open call');
  const connections = bus.received.filter((r) => r.msg.type === UBUS_MSG.LOOKUP).length;
  await delay(50);
  await rejects(c.ping(), UBUS_STATUS.CONNECTION_FAILED, 'after close');
  assert.is(bus.received.filter((r) => r.msg.type === UBUS_MSG.LOOKUP).length, connections);
  assert.not.ok(c.connected);
}));

test('NO_REPLY invocations run the handler but send nothing back', () => withBus(async (bus, client) => {
  const server = await client();
  const log: string[] = [];
  await server.addObject('kithtest', kithMethods(log));
  const objId = bus.objectByPath('kithtest')!.id;
  // A raw caller sending INVOKE with NO_REPLY, as a notifier does.
  const raw = await bus.platform(SOCK, clock).unix.connect(SOCK);
  try {
    await raw.read(); // HELLO
    const data = encodeBlobmsgTable({ msg: 'quiet' });
    await raw.write(encodeMessage({ type: UBUS_MSG.INVOKE, seq: 77, peer: objId, attrs: { objId, method: 'echo', data, noReply: true } }));
    await raw.write(encodeMessage({ type: UBUS_MSG.INVOKE, seq: 78, peer: objId, attrs: { objId, method: 'nosuch', data, noReply: true } }));
    await waitFor('handler ran', () => log.includes('echo quiet'));
    await server.ping(); // the server's replies, had there been any, precede this ping's
    const replies = bus.received.filter((r) => r.from === server.clientId && (r.msg.type === UBUS_MSG.DATA || r.msg.type === UBUS_MSG.STATUS));
    assert.equal(replies, []);
  } finally {
    raw.close();
  }
}));

test.run();
