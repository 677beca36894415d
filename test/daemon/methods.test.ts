// The method table (src/daemon/methods.ts) is the one description of kithd's
// methods: the unix-socket API and the ubus object expose exactly its methods,
// and refuse the same arguments with the same one-line error. kithd runs
// in-process on the fake platform with its ubus object registered on the fake
// ubusd; a second ubus client calls it as rpcd would.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeNet } from '../support/fake-platform.ts';
import { startKithd, STATE_DIR, type RunningKithd } from '../support/daemon.ts';
import { FakeUbusd } from '../ubus/support/fake_ubusd.ts';
import { nodePlatform } from '../../src/platform/node.ts';
import type { Platform } from '../../src/platform/types.ts';
import {
  UBUS_STATUS, UbusClient, UbusError, UbusStatusError, type BlobTable, type UbusArgPolicy, type UbusArgs,
} from '../../src/ubus/index.ts';
import { ARG_WIRE_TYPE } from '../../src/ubus/policy.ts';
import { METHODS, methodCaller, type MethodSpec } from '../../src/daemon/methods.ts';
import { ubusMethods, UBUS_OBJECT } from '../../src/daemon/ubus-object.ts';
import { ApiCallError } from '../../src/cli/client.ts';

const UBUS_SOCK = '/var/run/ubus/ubus.sock';
const ubusName = (m: MethodSpec) => m.ubus ?? m.api;

interface Rig { h: RunningKithd; caller: UbusClient }

/** kithd with its ubus object on a fake ubusd, and a ubus client to call it; all closed afterwards. */
async function withKithd(fn: (r: Rig) => Promise<void>): Promise<void> {
  const net = new FakeNet();
  const host = net.host('hub', ['198.18.0.1']);
  const bus = new FakeUbusd();
  const busSide = bus.platform(UBUS_SOCK, host.platform.clock);
  host.fs.writeText(UBUS_SOCK, ''); // the socket exists: kithd registers its object
  const base = host.platform;
  const platform: Platform = {
    ...base,
    unix: { listen: base.unix.listen, connect: (path) => (path === UBUS_SOCK ? busSide.unix.connect(path) : base.unix.connect(path)) },
  };
  const h = await startKithd(host, { platform, overrides: { ubusSocket: UBUS_SOCK } });
  assert.match(host.log, `ubus: object "${UBUS_OBJECT}" registered`);
  const caller = new UbusClient(bus.platform(UBUS_SOCK, nodePlatform().clock), { socketPath: UBUS_SOCK });
  try {
    await caller.connect(1000);
    await fn({ h, caller });
  } finally {
    caller.close();
    await h.d.stop();
  }
}

async function apiRefusal(p: Promise<unknown>, what: string): Promise<ApiCallError> {
  try { await p; } catch (e) {
    assert.instance(e, ApiCallError, what);
    return e as ApiCallError;
  }
  throw new Error(`${what}: the socket API accepted it`);
}

async function ubusRefusal(p: Promise<unknown> | unknown, what: string): Promise<UbusError> {
  try { await p; } catch (e) {
    assert.instance(e, UbusError, `${what}: ${String(e)}`);
    return e as UbusError;
  }
  throw new Error(`${what}: the ubus object accepted it`);
}

/** For every method: an argument it does not take; for every argument: a value of another type. */
function badCalls(): { m: MethodSpec; params: Record<string, unknown>; why: string }[] {
  const wrong = { string: 7, int: '80', bool: 'yes' } as const;
  return METHODS.flatMap((m) => [
    { m, params: { bogus: 'x' }, why: 'an unknown argument' },
    ...Object.entries(m.args).map(([k, t]) => ({ m, params: { [k]: wrong[t] }, why: `"${k}" of the wrong type` })),
  ]);
}

test('the socket API and the ubus object expose exactly the methods of the table', () => withKithd(async ({ h, caller }) => {
  const [obj] = await caller.lookup(UBUS_OBJECT);
  assert.ok(obj, 'the kith object is registered');
  const expected = Object.fromEntries(METHODS.map((m) => [ubusName(m),
    Object.fromEntries(Object.entries(m.args).map(([k, t]) => [k, ARG_WIRE_TYPE[t]]))]));
  assert.equal(obj.signature, expected, 'ubus announces the table: every method, its arguments and their types');
  assert.is(Object.keys(obj.signature).length, 18);

  // Every method of the table is served on the socket by its API name (the argument check answers,
  // so no handler ran); ubus names that differ, and anything else, are unknown there.
  for (const m of METHODS) {
    const e = await apiRefusal(h.call(m.api, { bogus: 1 }), m.api);
    assert.is(e.code, 'usage', `${m.api}: ${e.message}`);
    assert.match(e.message, /^unknown argument "bogus"/);
  }
  const apiOnly = METHODS.filter((m) => m.ubus !== undefined).map((m) => m.api);
  assert.equal(apiOnly, ['invite.rm', 'service.list', 'service.add', 'service.rm', 'client.list', 'client.add', 'client.rm', 'exit.offer', 'exit.use']);
  for (const name of [...METHODS.filter((m) => m.ubus !== undefined).map(ubusName), 'nosuch', 'toString']) {
    const e = await apiRefusal(h.call(name, {}), name);
    assert.equal([e.code, e.message], ['not-found', `unknown method "${name}"`]);
  }
  for (const name of [...apiOnly, 'nosuch']) {
    const e = await ubusRefusal(caller.call(UBUS_OBJECT, name, {}), name);
    assert.is(e.status, UBUS_STATUS.METHOD_NOT_FOUND, name);
  }
}));

test('a bad argument gets the same one-line error on both front ends, and changes nothing', () => withKithd(async ({ h, caller }) => {
  await h.call('service.add', { name: 'web', port: 80 });
  const before = h.host.fs.text(`${STATE_DIR}/state.json`);
  const object = ubusMethods(methodCaller(h.d)); // what kithd registered
  const ctx = { object: UBUS_OBJECT, method: '', peer: 1 };
  const calls = badCalls();
  assert.is(calls.length, 18 + (3 + 1 + 2 + 6 + 5 + 1 + 2 + 3 + 1 + 3), 'one unknown argument per method, one wrong type per argument');
  for (const { m, params, why } of calls) {
    const what = `${m.api} with ${why}`;
    const api = await apiRefusal(h.call(m.api, params), what);
    assert.is(api.code, 'usage', `${what}: ${api.message}`);
    assert.not.match(api.message, '\n');
    const direct = await ubusRefusal(object[ubusName(m)]!.handler(params as UbusArgs<UbusArgPolicy>, { ...ctx, method: ubusName(m) }), what);
    assert.instance(direct, UbusStatusError);
    // UbusError adds the status name to the handler's message.
    assert.equal([direct.status, direct.message], [UBUS_STATUS.INVALID_ARGUMENT, `${api.message}: INVALID_ARGUMENT (ubus status 2)`], `${what}: the same refusal`);
    // Over the bus only the status travels: an unknown or mistyped argument is not dropped on the way.
    const wire = await ubusRefusal(caller.call(UBUS_OBJECT, ubusName(m), params as BlobTable), what);
    assert.is(wire.status, UBUS_STATUS.INVALID_ARGUMENT, what);
  }
  const stringWrong = await apiRefusal(h.call('join', { code: 7 }), 'join code 7');
  assert.is(stringWrong.message, '"code" must be a string');
  const intWrong = await apiRefusal(h.call('service.add', { name: 'x', port: '80' }), 'port "80"');
  assert.is(intWrong.message, '"port" must be an integer');
  const unknown = await apiRefusal(h.call('service.rm', { name: 'web', force: true }), 'force');
  assert.is(unknown.message, 'unknown argument "force" (takes name)');
  const none = await apiRefusal(h.call('status', { verbose: true }), 'verbose');
  assert.is(none.message, 'unknown argument "verbose" (takes none)');
  const badHost = await apiRefusal(h.call('service.add', { name: 'nas', port: 445, host: 'nas.lan' }), 'host nas.lan');
  assert.equal([badHost.code, badHost.message], ['usage', 'invalid --host "nas.lan": an IPv4 address on this node\'s LAN']);
  const offLan = await apiRefusal(h.call('service.add', { name: 'nas', port: 445, host: '192.168.1.20' }), 'host off any subnet');
  assert.is(offLan.message, '--host 192.168.1.20 is on none of the subnets this node advertises (none: add a config subnet)');
  assert.is(h.host.fs.text(`${STATE_DIR}/state.json`), before, 'no refused call changed state.json');
  assert.equal(await h.call('service.list', {}), [{ name: 'web', port: 80, proto: 'tcp', type: '' }]);
}));

test('both front ends reach the same handlers: ubus_rpc_session and null arguments are not refused', () => withKithd(async ({ h, caller }) => {
  const session = { ubus_rpc_session: '0'.repeat(32) };
  const st = await caller.call(UBUS_OBJECT, 'status', session);
  assert.is(st['state'], 'unconfigured');
  const added = await caller.call(UBUS_OBJECT, 'service_add', { ...session, name: 'nas', port: 445, proto: 'tcp' });
  assert.equal(added, { services: [{ name: 'nas', port: 445, proto: 'tcp', type: '' }] });
  // The CLI sends an unset flag as null; it counts as absent.
  assert.equal(await h.call('service.add', { name: 'dns', port: 53, proto: 'udp', type: null }), [
    { name: 'nas', port: 445, proto: 'tcp', type: '' }, { name: 'dns', port: 53, proto: 'udp', type: '' },
  ]);
  assert.equal(await caller.call(UBUS_OBJECT, 'services', {}), { services: await h.call('service.list', {}) as BlobTable[] });
  // A handler's own refusal is the same on both too: not-found on the socket, NOT_FOUND on ubus.
  const gone = await apiRefusal(h.call('service.rm', { name: 'nosuch' }), 'rm nosuch');
  assert.equal([gone.code, gone.message], ['not-found', 'no service "nosuch"']);
  const goneUbus = await ubusRefusal(caller.call(UBUS_OBJECT, 'service_rm', { name: 'nosuch' }), 'rm nosuch');
  assert.is(goneUbus.status, UBUS_STATUS.NOT_FOUND);
}));

test.run();
