/// <reference types="node" />
// The sans-I/O protocol state machine, driven frame by frame with a virtual
// clock: HELLO, reply matching by (seq, peer), timeouts, serving INVOKEs
// (policy checks, ubus_rpc_session, NO_REPLY, limits) and bad input.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toHex } from '../../src/core/bytes.ts';
import {
  MAX_INFLIGHT_INVOKES, MAX_PENDING_REQUESTS, UBUS_MSG, UBUS_STATUS, UbusError, UbusProtocol, decodeBlobmsgTable,
  decodeMessage, encodeBlobmsgNodes, encodeBlobmsgTable, encodeMessage, type BlobTable, type BlobmsgNode, type ProtocolEvent, type UbusAttrs, type UbusMethods,
  type UbusMessage,
} from '../../src/ubus/index.ts';

const ME = 0x1234abcd;
const CALLER = 0x0badf00d;
const OBJ = 0xf85da9c0;

const frame = (type: number, seq: number, peer: number, attrs: UbusAttrs = {}) => encodeMessage({ type, seq, peer, attrs });
const hello = () => frame(UBUS_MSG.HELLO, 0, ME);

function drain(p: UbusProtocol): { out: UbusMessage[]; events: ProtocolEvent[] } {
  const out: UbusMessage[] = [];
  const events: ProtocolEvent[] = [];
  for (let f = p.pollTransmit(); f; f = p.pollTransmit()) out.push(decodeMessage(f));
  for (let e = p.pollEvent(); e; e = p.pollEvent()) events.push(e);
  return { out, events };
}

function ready(): UbusProtocol {
  const p = new UbusProtocol();
  p.receive(hello(), 0);
  assert.equal(drain(p).events, [{ kind: 'hello', clientId: ME }]);
  return p;
}

const METHODS: UbusMethods = {
  echo: { args: { msg: 'string', n: 'int', on: 'bool', t: 'table', a: 'array' }, handler: (args) => ({ ...args }) as BlobTable },
  quiet: { args: {}, handler: () => undefined },
};

/** A protocol with object "kith" registered as OBJ. */
function serving(): UbusProtocol {
  const p = ready();
  const id = p.addObject({ kind: 'object', name: 'kith', methods: METHODS }, 0, 1000);
  const [add] = drain(p).out;
  assert.is(add!.type, UBUS_MSG.ADD_OBJECT);
  assert.is(add!.attrs.objPath, 'kith');
  assert.equal(decodeBlobmsgTable(add!.attrs.signature!), { echo: { msg: 3, n: 5, on: 7, t: 2, a: 1 }, quiet: {} });
  p.receive(frame(UBUS_MSG.DATA, add!.seq, 0, { objId: OBJ, objType: 77 }), 0);
  p.receive(frame(UBUS_MSG.STATUS, add!.seq, 0, { status: 0 }), 0);
  const [reply] = drain(p).events;
  assert.ok(reply?.kind === 'reply' && reply.id === id && reply.status === 0);
  return p;
}

const invoke = (seq: number, method: string, args: Record<string, unknown> | null, extra: UbusAttrs = {}) =>
  frame(UBUS_MSG.INVOKE, seq, CALLER, { objId: OBJ, method, ...(args ? { data: encodeBlobmsgTable(args as never) } : {}), user: 'root', group: 'root', ...extra });

test('ubusd speaks first: anything but HELLO fails the connection', () => {
  const p = new UbusProtocol();
  p.receive(frame(UBUS_MSG.STATUS, 1, 0, { status: 0 }), 0);
  assert.is(p.state, 'failed');
  assert.equal(drain(p).events, [{ kind: 'failed', reason: 'expected HELLO from ubusd, got STATUS' }]);
});

test('requests are numbered from seq 1; the worked example INVOKE comes out at seq 2', () => {
  const p = ready();
  p.ping(0, 1000);
  p.invoke(OBJ, 'hello', { name: 'alice', n: 5 }, 0, 1000);
  const out = [];
  for (let f = p.pollTransmit(); f; f = p.pollTransmit()) out.push(toHex(f));
  assert.is(out[0], '000300010000000000000004');
  assert.is(out[1], '00050002f85da9c00000003c03000008f85da9c00400000a68656c6c6f000000070000248300001200046e616d650000616c6963650000008500000c00016e0000000005');
});

test('replies are matched by (seq, peer): DATA is collected, STATUS completes, a wrong peer matches nothing', () => {
  const p = ready();
  const a = p.invoke(OBJ, 'x', {}, 0, 1000);
  const b = p.invoke(OBJ + 1, 'y', {}, 0, 1000);
  const [fa, fb] = drain(p).out;
  p.receive(frame(UBUS_MSG.STATUS, fa!.seq, OBJ + 1, { status: 0 }), 1); // right seq, wrong peer
  assert.equal(drain(p).events, []);
  assert.is(p.stats.late, 1);
  p.receive(frame(UBUS_MSG.DATA, fb!.seq, OBJ + 1, { objId: OBJ + 1, data: encodeBlobmsgTable({ y: 1 }) }), 1);
  p.receive(frame(UBUS_MSG.DATA, fa!.seq, OBJ, { objId: OBJ, data: encodeBlobmsgTable({ x: 1 }) }), 1);
  p.receive(frame(UBUS_MSG.DATA, fa!.seq, OBJ, { objId: OBJ, data: encodeBlobmsgTable({ x: 2 }) }), 1);
  p.receive(frame(UBUS_MSG.STATUS, fb!.seq, OBJ + 1, { status: UBUS_STATUS.NO_DATA, objId: OBJ + 1 }), 1);
  p.receive(frame(UBUS_MSG.STATUS, fa!.seq, OBJ, { status: 0, objId: OBJ }), 1);
  const evs = drain(p).events.map((e) => (e.kind === 'reply' ? [e.id, e.status, e.data.map((d) => decodeBlobmsgTable(d.data!))] : e.kind));
  assert.equal(evs, [[b, UBUS_STATUS.NO_DATA, [{ y: 1 }]], [a, 0, [{ x: 1 }, { x: 2 }]]]);
  assert.is(p.pollTimeout(), null);
});

test('a STATUS without a STATUS attribute counts as INVALID_ARGUMENT (as libubus)', () => {
  const p = ready();
  const id = p.ping(0, 1000);
  p.receive(frame(UBUS_MSG.STATUS, 1, 0, {}), 0);
  assert.equal(drain(p).events, [{ kind: 'reply', id, status: UBUS_STATUS.INVALID_ARGUMENT, data: [] }]);
});

test('timeouts: pollTimeout gives the earliest deadline; expiry answers TIMEOUT; a late reply is dropped', () => {
  const p = ready();
  const slow = p.ping(100, 5000);
  const fast = p.ping(100, 200);
  drain(p);
  assert.is(p.pollTimeout(), 300);
  p.handleTimeout(299);
  assert.equal(drain(p).events, []);
  p.handleTimeout(300);
  assert.equal(drain(p).events, [{ kind: 'reply', id: fast, status: UBUS_STATUS.TIMEOUT, data: [] }]);
  assert.is(p.pollTimeout(), 5100);
  p.receive(frame(UBUS_MSG.STATUS, 2, 0, { status: 0 }), 400);
  assert.equal(drain(p).events, []);
  assert.equal([p.stats.late, p.stats.timeouts], [1, 1]);
  p.close();
  assert.equal(drain(p).events, [{ kind: 'reply', id: slow, status: UBUS_STATUS.CONNECTION_FAILED, data: [] }]);
  assert.throws(() => p.ping(500, 100), (e: unknown) => e instanceof UbusError && e.status === UBUS_STATUS.CONNECTION_FAILED);
});

test('seq wraps at 2^16 and skips a (seq, peer) still in flight', () => {
  const p = ready();
  p.ping(0, 1e9); // seq 1 to peer 0 stays open
  assert.is(decodeMessage(p.pollTransmit()!).seq, 1);
  const seqs = new Set<number>();
  for (let i = 0; i < 65536; i++) {
    p.ping(0, 1e9);
    const f = p.pollTransmit()!;
    const seq = (f[2]! << 8) | f[3]!;
    seqs.add(seq);
    p.receive(frame(UBUS_MSG.STATUS, seq, 0, { status: 0 }), 0);
  }
  assert.ok(!seqs.has(1), 'seq 1 was reused while in flight');
  assert.is(seqs.size, 65535);
});

test('too many requests in flight is local misuse: UbusError NO_MEMORY, nothing sent', () => {
  const p = ready();
  for (let i = 0; i < MAX_PENDING_REQUESTS; i++) p.ping(0, 1000);
  drain(p);
  assert.throws(() => p.ping(0, 1000), (e: unknown) => e instanceof UbusError && e.status === UBUS_STATUS.NO_MEMORY);
  assert.is(p.pollTransmit(), null);
});

test('serving: a valid call becomes an invoke event; completeInvoke sends DATA then STATUS with OBJID', () => {
  const p = serving();
  p.receive(invoke(7, 'echo', { msg: 'hi', n: -3, on: true, t: { k: [1] }, a: ['x'], extra: 1, ubus_rpc_session: 'f'.repeat(32) }), 1);
  const [ev] = drain(p).events;
  assert.ok(ev?.kind === 'invoke');
  if (ev?.kind !== 'invoke') return;
  assert.equal(ev.args, { msg: 'hi', n: -3, on: true, t: { k: [1] }, a: ['x'] }, 'undeclared and ubus_rpc_session stripped');
  assert.equal(ev.ctx, { object: 'kith', method: 'echo', peer: CALLER, user: 'root', group: 'root', session: 'f'.repeat(32) });
  p.completeInvoke(ev.id, { status: 0, data: { ok: true, n: 7 } });
  const { out } = drain(p);
  assert.equal(out.map((m) => [m.type, m.seq, m.peer]), [[UBUS_MSG.DATA, 7, CALLER], [UBUS_MSG.STATUS, 7, CALLER]]);
  assert.is(out[0]!.attrs.objId, OBJ);
  assert.equal(decodeBlobmsgTable(out[0]!.attrs.data!), { ok: true, n: 7 });
  assert.equal(out[1]!.attrs, { status: 0, objId: OBJ });
  p.completeInvoke(ev.id, { status: 0 }); // a second completion is ignored
  assert.equal(drain(p).out, []);
});

test('serving: unknown method, wrong types, missing DATA and unknown object are answered at once', () => {
  const p = serving();
  const status = (f: Uint8Array) => { p.receive(f, 1); const d = drain(p); assert.equal(d.events.filter((e) => e.kind === 'invoke'), []); return d.out.map((m) => [m.type, m.attrs.status, m.attrs.objId]); };
  assert.equal(status(invoke(1, 'nosuch', {})), [[UBUS_MSG.STATUS, UBUS_STATUS.METHOD_NOT_FOUND, OBJ]]);
  assert.equal(status(invoke(2, 'echo', { n: 1.5 })), [[UBUS_MSG.STATUS, UBUS_STATUS.INVALID_ARGUMENT, OBJ]]);
  assert.equal(status(invoke(3, 'echo', { on: 1 })), [[UBUS_MSG.STATUS, UBUS_STATUS.INVALID_ARGUMENT, OBJ]], 'int is not bool');
  assert.equal(status(invoke(4, 'echo', { msg: 5 })), [[UBUS_MSG.STATUS, UBUS_STATUS.INVALID_ARGUMENT, OBJ]]);
  assert.equal(status(invoke(5, 'echo', { n: 2 ** 40 })), [[UBUS_MSG.STATUS, UBUS_STATUS.INVALID_ARGUMENT, OBJ]], 'int64 is not int32');
  assert.equal(status(invoke(6, 'echo', null)), [[UBUS_MSG.STATUS, UBUS_STATUS.INVALID_ARGUMENT, OBJ]], 'no DATA');
  assert.equal(status(invoke(7, 'toString', {})), [[UBUS_MSG.STATUS, UBUS_STATUS.METHOD_NOT_FOUND, OBJ]], 'prototype names are not methods');
  assert.equal(status(frame(UBUS_MSG.INVOKE, 8, CALLER, { objId: OBJ + 9, method: 'echo', data: new Uint8Array() })), [[UBUS_MSG.STATUS, UBUS_STATUS.NOT_FOUND, OBJ + 9]]);
  const bad = frame(UBUS_MSG.INVOKE, 9, CALLER, { objId: OBJ, method: 'echo', data: Uint8Array.of(0x83, 0, 0, 8, 0, 1, 0x6e, 0) }); // string without value
  assert.equal(status(bad), [[UBUS_MSG.STATUS, UBUS_STATUS.INVALID_ARGUMENT, OBJ]], 'malformed DATA');
});

test('serving: "int" accepts INT32, INT16 and an INT64 that fits in 32 bits', () => {
  const p = serving();
  const typed = (node: BlobmsgNode) => frame(UBUS_MSG.INVOKE, 1, CALLER, { objId: OBJ, method: 'echo', data: encodeBlobmsgNodes([node]) });
  for (const node of [{ name: 'n', type: 6, value: -2 }, { name: 'n', type: 4, value: -(2n ** 31n) }, { name: 'n', type: 4, value: 2n ** 31n - 1n }] as BlobmsgNode[]) {
    p.receive(typed(node), 1);
    const [ev] = drain(p).events;
    assert.ok(ev?.kind === 'invoke' && ev.args.n === Number(node.value), `${node.type} ${node.value}`);
  }
  p.receive(typed({ name: 'n', type: 4, value: 2n ** 31n }), 1);
  assert.equal(drain(p).out.map((m) => m.attrs.status), [UBUS_STATUS.INVALID_ARGUMENT]);
});

test('serving: NO_REPLY calls get no answer, neither success nor error', () => {
  const p = serving();
  p.receive(invoke(1, 'quiet', {}, { noReply: true }), 1);
  const [ev] = drain(p).events;
  assert.ok(ev?.kind === 'invoke');
  if (ev?.kind === 'invoke') p.completeInvoke(ev.id, { status: 0, data: { x: 1 } });
  p.receive(invoke(2, 'nosuch', {}, { noReply: true }), 1);
  assert.equal(drain(p).out, []);
});

test('serving: an unsendable result becomes UNKNOWN_ERROR with a warning', () => {
  const p = serving();
  for (const [seq, data] of [[1, [1, 2]], [2, 'text'], [3, { s: 'a\u0000' }]] as const) {
    p.receive(invoke(seq, 'quiet', {}), 1);
    const [ev] = drain(p).events;
    if (ev?.kind !== 'invoke') { assert.unreachable('no invoke'); return; }
    p.completeInvoke(ev.id, { status: 0, data });
    const d = drain(p);
    assert.equal(d.out.map((m) => [m.type, m.attrs.status]), [[UBUS_MSG.STATUS, UBUS_STATUS.UNKNOWN_ERROR]], `result ${JSON.stringify(data)}`);
    assert.ok(d.events[0]?.kind === 'warning' && /cannot send result/.test(d.events[0].message));
  }
});

test(`serving: more than ${MAX_INFLIGHT_INVOKES} calls in progress are refused with UNKNOWN_ERROR`, () => {
  const p = serving();
  for (let i = 0; i < MAX_INFLIGHT_INVOKES; i++) p.receive(invoke(i, 'quiet', {}), 1);
  assert.is(drain(p).events.filter((e) => e.kind === 'invoke').length, MAX_INFLIGHT_INVOKES);
  p.receive(invoke(999, 'quiet', {}), 1);
  assert.equal(drain(p).out.map((m) => [m.seq, m.attrs.status]), [[999, UBUS_STATUS.UNKNOWN_ERROR]]);
});

test('serving: calls interleave with our own requests on the same connection', () => {
  const p = serving();
  const mine = p.invoke(0x777, 'remote', { q: 1 }, 1, 1000);
  const [req] = drain(p).out;
  p.receive(invoke(req!.seq, 'quiet', {}), 2); // an incoming call with the same seq as our request
  const [inv] = drain(p).events;
  assert.ok(inv?.kind === 'invoke');
  p.receive(frame(UBUS_MSG.STATUS, req!.seq, 0x777, { status: 0, objId: 0x777 }), 3);
  assert.equal(drain(p).events, [{ kind: 'reply', id: mine, status: 0, data: [] }]);
  if (inv?.kind === 'invoke') p.completeInvoke(inv.id, { status: UBUS_STATUS.NOT_FOUND });
  assert.equal(drain(p).out.map((m) => [m.type, m.seq, m.peer, m.attrs.status]), [[UBUS_MSG.STATUS, req!.seq, CALLER, UBUS_STATUS.NOT_FOUND]]);
});

test('listener objects: deliveries become events, never answered; malformed ones are dropped', () => {
  const p = ready();
  const got: unknown[] = [];
  p.addObject({ kind: 'listener', onEvent: (n, d) => got.push([n, d]) }, 0, 1000);
  const [add] = drain(p).out;
  assert.equal(add!.attrs, {}, 'anonymous: no path, no signature');
  p.receive(frame(UBUS_MSG.DATA, add!.seq, 0, { objId: 0x90000001 }), 0);
  p.receive(frame(UBUS_MSG.STATUS, add!.seq, 0, { status: 0 }), 0);
  drain(p);
  p.registerEvent(0x90000001, 'kith.*', 0, 1000);
  const [reg] = drain(p).out;
  assert.equal([reg!.peer, reg!.attrs.objId, reg!.attrs.method], [1, 1, 'register']);
  assert.equal(decodeBlobmsgTable(reg!.attrs.data!), { object: 0x90000001 | 0, pattern: 'kith.*' });
  p.receive(frame(UBUS_MSG.INVOKE, 5, 0, { objId: 0x90000001, method: 'kith.up', data: encodeBlobmsgTable({ peers: 2 }) }), 0);
  const broken = frame(UBUS_MSG.INVOKE, 6, 0, { objId: 0x90000001, method: 'kith.x', data: Uint8Array.of(0x83, 0, 0, 4) });
  p.receive(broken, 0);
  const d = drain(p);
  assert.equal(d.out, []);
  for (const e of d.events) if (e.kind === 'event') e.listener.onEvent(e.name, e.data);
  assert.equal(got, [['kith.up', { peers: 2 }]]);
  assert.is(p.stats.dropped, 1);
});

test('bad input: a malformed message is dropped and the connection goes on; lost framing fails it', () => {
  const p = ready();
  const id = p.ping(0, 1000);
  drain(p);
  p.receive(Uint8Array.from([0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 8, 3, 0, 0, 5]), 0); // OBJID of 1 byte
  assert.is(p.stats.dropped, 1);
  assert.is(p.state, 'ready');
  p.receive(frame(UBUS_MSG.STATUS, 1, 0, { status: 0 }), 0);
  assert.equal(drain(p).events.filter((e) => e.kind === 'reply'), [{ kind: 'reply', id, status: 0, data: [] }]);
  p.receive(Uint8Array.from([7, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 4]), 0);
  assert.is(p.state, 'failed');
  assert.equal(drain(p).events.map((e) => e.kind), ['failed']);
});

test.run();
