/// <reference types="node" />
// Golden tests against the real ubusd / ubus CLI / example-server captures in
// the shared fixtures directory (shared/fixtures/ubus): every frame decodes to what the capture says,
// client frames re-encode byte for byte, and the protocol state machine
// replays the caller, server, listener and sender sides of the captures and
// emits the exact bytes libubus sent.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { needs } from '../support/needs.ts';
import { toHex } from '../../src/core/bytes.ts';
import {
  FrameSplitter, UBUS_STATUS, UbusProtocol, decodeBlobmsgNodes, decodeBlobmsgTable, decodeMessage, encodeBlobmsgNodes,
  encodeMessage, nodeToValue, toBlobmsgNode, type BlobmsgNode, type ProtocolEvent, type UbusMethods,
} from '../../src/ubus/index.ts';
import {
  bytes, frameOf, framesOf, loadFixtures, ubusFixtureDir, type Fixture, type FixtureAttr, type FixtureNode,
} from './support/fixtures.ts';

const dir = ubusFixtureDir(process.env.KITH_FIXTURES_DIR ?? new URL('../../../shared/fixtures', import.meta.url));
const fixtures = loadFixtures(dir);

function fx(name: string): Fixture {
  const f = fixtures!.find((x) => x.file.startsWith(name));
  if (!f) throw new Error(`fixture ${name} missing from ${dir}`);
  return f;
}

/** Compares our typed nodes with the capture's typed tree. */
function sameNodes(ours: BlobmsgNode[], theirs: FixtureNode[], where: string): void {
  assert.is(ours.length, theirs.length, `${where}: member count`);
  ours.forEach((n, i) => {
    const t = theirs[i]!;
    const at = `${where}.${t.name}`;
    assert.is(n.name, t.name, `${at}: name`);
    assert.is(n.type, t.type_id, `${at}: type`);
    switch (n.type) {
      case 0: assert.is(t.value, null, at); assert.is(n.value.length, 0, at); break;
      case 1: case 2: sameNodes(n.value, t.value as FixtureNode[], at); break;
      case 4: assert.is(n.value.toString(), t.value, at); break;
      case 8: {
        const hex = new Uint8Array(8);
        new DataView(hex.buffer).setFloat64(0, n.value);
        assert.is(toHex(hex), t.value_hex, at);
        break;
      }
      default: assert.is(n.value, t.value, at);
    }
  });
}

/** Our JS value vs the capture's JSON (which loses int64 precision the same way Number() does). */
function sameJson(ours: unknown, theirs: unknown, where: string): void {
  if (typeof ours === 'bigint') { assert.is(Number(ours), theirs, where); return; }
  if (Array.isArray(ours)) {
    assert.ok(Array.isArray(theirs), where);
    assert.is(ours.length, (theirs as unknown[]).length, where);
    ours.forEach((v, i) => sameJson(v, (theirs as unknown[])[i], `${where}[${i}]`));
    return;
  }
  if (ours !== null && typeof ours === 'object') {
    assert.equal(Object.keys(ours), Object.keys(theirs as object), `${where}: keys`);
    for (const [k, v] of Object.entries(ours)) sameJson(v, (theirs as Record<string, unknown>)[k], `${where}.${k}`);
    return;
  }
  assert.is(ours, theirs, where);
}

function checkAttr(a: FixtureAttr, m: ReturnType<typeof decodeMessage>, where: string): void {
  const at = `${where} ${a.name}`;
  const o = m.attrs;
  switch (a.name) {
    case 'STATUS': assert.is(o.status, a.value, at); break;
    case 'OBJPATH': assert.is(o.objPath, a.value, at); break;
    case 'OBJID': assert.is(o.objId, a.value, at); break;
    case 'METHOD': assert.is(o.method, a.value, at); break;
    case 'OBJTYPE': assert.is(o.objType, a.value, at); break;
    case 'TARGET': assert.is(o.target, a.value, at); break;
    case 'ACTIVE': assert.is(o.active, a.value !== 0, at); break;
    case 'NO_REPLY': assert.is(o.noReply, a.value !== 0, at); break;
    case 'SUBSCRIBERS': assert.equal(o.subscribers, a.value, at); break;
    case 'USER': assert.is(o.user, a.value, at); break;
    case 'GROUP': assert.is(o.group, a.value, at); break;
    case 'DATA': case 'SIGNATURE': {
      const payload = a.name === 'DATA' ? o.data! : o.signature!;
      assert.is(payload.length + 4, a.len, `${at}: length`);
      const nodes = decodeBlobmsgNodes(payload, at);
      sameNodes(nodes, a.blobmsg!, at);
      sameJson(decodeBlobmsgTable(payload), a.json, `${at} json`);
      break;
    }
    default: assert.unreachable(`${at}: attribute not handled by the test`);
  }
}

const KEY: Record<string, keyof ReturnType<typeof decodeMessage>['attrs']> = {
  STATUS: 'status', OBJPATH: 'objPath', OBJID: 'objId', METHOD: 'method', OBJTYPE: 'objType', SIGNATURE: 'signature', DATA: 'data',
  TARGET: 'target', ACTIVE: 'active', NO_REPLY: 'noReply', SUBSCRIBERS: 'subscribers', USER: 'user', GROUP: 'group',
};

/** Collects what a state machine wants to send and the events it emits. */
function drain(p: UbusProtocol): { out: string[]; events: ProtocolEvent[] } {
  const out: string[] = [];
  const events: ProtocolEvent[] = [];
  for (let f = p.pollTransmit(); f; f = p.pollTransmit()) out.push(toHex(f));
  for (let e = p.pollEvent(); e; e = p.pollEvent()) events.push(e);
  return { out, events };
}

const EXAMPLE_SERVER: UbusMethods = {
  hello: { args: { id: 'int', msg: 'string' }, handler: () => ({ message: 'test received a message: x' }) },
  watch: { args: { id: 'int', counter: 'int' }, handler: () => undefined },
  count: { args: { to: 'int', string: 'string' }, handler: () => undefined },
};

if (!fixtures) {
  needs(false, `the ubus fixtures (${dir})`, 'put ../shared beside the project or set KITH_FIXTURES_DIR')('captured ubus frames decode and encode as recorded', () => undefined);
} else {
  test('every captured frame decodes to the header and attributes the capture records', () => {
    let n = 0;
    for (const f of fixtures) {
      for (const [i, fr] of f.frames.entries()) {
        const where = `${f.file} frame ${i} (${fr.conn}, ${fr.dir} ${fr.decoded.header.type_name})`;
        const m = decodeMessage(bytes(fr));
        assert.is(m.type, fr.decoded.header.type, `${where}: type`);
        assert.is(m.seq, fr.decoded.header.seq, `${where}: seq`);
        assert.is(m.peer, fr.decoded.header.peer, `${where}: peer`);
        const present = Object.keys(m.attrs).sort();
        assert.equal(present, [...new Set(fr.decoded.attrs.map((a) => KEY[a.name]!))].sort(), `${where}: attribute set`);
        for (const a of fr.decoded.attrs) checkAttr(a, m, where);
        n++;
      }
    }
    assert.ok(n > 200, `only ${n} frames checked`);
  });

  test('typed blobmsg of every DATA and SIGNATURE re-encodes to the captured bytes', () => {
    let n = 0;
    for (const f of fixtures) {
      for (const fr of f.frames) {
        const m = decodeMessage(bytes(fr));
        for (const p of [m.attrs.data, m.attrs.signature]) {
          if (!p) continue;
          assert.is(toHex(encodeBlobmsgNodes(decodeBlobmsgNodes(p))), toHex(p), `${f.file} ${fr.conn} seq ${m.seq}`);
          n++;
        }
      }
    }
    assert.ok(n > 80, `only ${n} payloads checked`);
  });

  test('every libubus client frame re-encodes byte for byte (attributes in ascending id order)', () => {
    let n = 0;
    for (const f of fixtures) {
      for (const fr of framesOf(f, '', 'client->ubusd')) {
        if (fr.conn.includes('hand-built')) continue; // 07c: its own frames are hand-made inputs
        assert.is(toHex(encodeMessage(decodeMessage(bytes(fr)))), fr.hex, `${f.file} ${fr.conn} ${fr.decoded.header.type_name} seq ${fr.decoded.header.seq}`);
        n++;
      }
    }
    assert.ok(n > 40, `only ${n} frames checked`);
  });

  test('JS → blobmsg picks the type json_to_blobmsg picked for every value in 07 (except 1.0)', () => {
    const invoke = frameOf(fx('07-'), 'caller', 'client->ubusd', 'INVOKE', 2);
    const nodes = decodeBlobmsgNodes(decodeMessage(bytes(invoke)).attrs.data!);
    const differ: string[] = [];
    const walk = (ns: BlobmsgNode[], where: string) => {
      for (const n of ns) {
        const ours = toBlobmsgNode(n.name, nodeToValue(n));
        if (ours.type !== n.type) differ.push(`${where}${n.name}`);
        if (n.type === 1 || n.type === 2) walk(n.value, `${where}${n.name}/`);
      }
    };
    walk(nodes, '');
    // JSON "1.0" is a double to json-c; to JS it is the integer 1 (→ INT32).
    assert.equal(differ, ['dblint']);
  });

  test('the frame splitter cuts each captured stream the same at every chunk size', () => {
    for (const f of fixtures) {
      for (const conn of Object.keys(f.connections)) {
        const frames = framesOf(f, conn, 'ubusd->client').map(bytes);
        const stream = new Uint8Array(frames.reduce((s, x) => s + x.length, 0));
        frames.reduce((o, x) => { stream.set(x, o); return o + x.length; }, 0);
        for (const size of [1, 3, 12, 13, 64, stream.length]) {
          const s = new FrameSplitter();
          const got: string[] = [];
          for (let i = 0; i < stream.length; i += size) {
            s.push(stream.subarray(i, i + size));
            for (let fr = s.next(); fr; fr = s.next()) got.push(toHex(fr));
          }
          assert.equal(got, frames.map(toHex), `${f.file} ${conn} chunk ${size}`);
          assert.is(s.buffered, 0);
        }
      }
    }
  });

  test('replay, caller side of 03: LOOKUP and INVOKE bytes equal the CLI\'s; the reply is collected', () => {
    const f = fx('03-');
    const p = new UbusProtocol();
    const c = (type: string, seq: number) => bytes(frameOf(f, 'caller', 'ubusd->client', type, seq));
    p.receive(c('HELLO', 0), 0);
    assert.equal(drain(p).events, [{ kind: 'hello', clientId: 0x9b327c04 }]);
    const lookup = p.lookup('test', 0, 1000);
    assert.equal(drain(p).out, [frameOf(f, 'caller', 'client->ubusd', 'LOOKUP', 1).hex]);
    p.receive(c('DATA', 1), 1);
    p.receive(c('STATUS', 1), 1);
    const [found] = drain(p).events;
    assert.ok(found?.kind === 'reply' && found.id === lookup && found.status === 0);
    const objId = found.kind === 'reply' ? found.data[0]!.objId! : 0;
    assert.is(objId, 2537038710);
    const call = p.invoke(objId, 'hello', { id: 1, msg: 'x' }, 2, 1000);
    assert.equal(drain(p).out, [frameOf(f, 'caller', 'client->ubusd', 'INVOKE', 2).hex]);
    p.receive(c('DATA', 2), 3);
    assert.equal(drain(p).events, [], 'DATA alone does not complete the request');
    p.receive(c('STATUS', 2), 4);
    const [done] = drain(p).events;
    assert.ok(done?.kind === 'reply' && done.id === call && done.status === UBUS_STATUS.OK);
    assert.equal(decodeBlobmsgTable(done.kind === 'reply' ? done.data[0]!.data! : new Uint8Array()), { message: 'test received a message: x' });
  });

  test('replay, server side of 05/03/04/04d: ADD_OBJECT, DATA+STATUS, METHOD_NOT_FOUND and INVALID_ARGUMENT bytes equal libubus\'s', () => {
    const add = fx('05-');
    const p = new UbusProtocol();
    const s = (fix: Fixture, type: string, seq: number) => bytes(frameOf(fix, 'server', 'ubusd->client', type, seq));
    const sent = (fix: Fixture, type: string, seq: number) => frameOf(fix, 'server', 'client->ubusd', type, seq).hex;
    p.receive(s(add, 'HELLO', 0), 0);
    drain(p);
    p.addObject({ kind: 'object', name: 'test', methods: EXAMPLE_SERVER }, 0, 1000);
    p.addObject({ kind: 'listener', onEvent: () => {} }, 0, 1000);
    assert.equal(drain(p).out, [sent(add, 'ADD_OBJECT', 1), sent(add, 'ADD_OBJECT', 2)]);
    for (const seq of [1, 2]) { p.receive(s(add, 'DATA', seq), 1); p.receive(s(add, 'STATUS', seq), 1); }
    assert.equal(drain(p).events.map((e) => e.kind === 'reply' && e.status), [0, 0]);
    assert.equal(p.objectIds(), [2537038710, 2407940084]);

    const hello = fx('03-');
    p.receive(s(hello, 'INVOKE', 2), 2);
    const [inv] = drain(p).events;
    assert.ok(inv?.kind === 'invoke');
    if (inv?.kind !== 'invoke') return;
    assert.equal(inv.args, { id: 1, msg: 'x' });
    assert.equal(inv.ctx, { object: 'test', method: 'hello', peer: 0x9b327c04, user: 'root', group: 'root' });
    p.completeInvoke(inv.id, { status: 0, data: { message: 'test received a message: x' } });
    assert.equal(drain(p).out, [sent(hello, 'DATA', 2), sent(hello, 'STATUS', 2)]);

    const unknown = fx('04-');
    p.receive(s(unknown, 'INVOKE', 2), 3);
    const r = drain(p);
    assert.equal(r.events, [], 'answered without bothering the handler');
    assert.equal(r.out, [sent(unknown, 'STATUS', 2)]);

    const invalid = fx('04d-');
    p.receive(s(invalid, 'INVOKE', 2), 4);
    const [watch] = drain(p).events;
    assert.ok(watch?.kind === 'invoke' && watch.ctx.method === 'watch');
    if (watch?.kind !== 'invoke') return;
    assert.equal(watch.args, {});
    p.completeInvoke(watch.id, { status: UBUS_STATUS.INVALID_ARGUMENT }); // the example server requires "id"
    assert.equal(drain(p).out, [sent(invalid, 'STATUS', 2)]);
  });

  test('replay, listeners and sender of 06: register/send bytes equal the CLI\'s (object id > 2^31 as signed int32); events are not answered', () => {
    const f = fx('06-');
    for (const [conn, patterns] of [['listener A', ['*']], ['listener B', ['fo*', 'other']]] as const) {
      const p = new UbusProtocol();
      const got: [string, unknown][] = [];
      const d = (type: string, seq: number) => bytes(frameOf(f, conn, 'ubusd->client', type, seq));
      p.receive(d('HELLO', 0), 0);
      p.addObject({ kind: 'listener', onEvent: (name, data) => got.push([name, data]) }, 0, 1000);
      assert.equal(drain(p).out, [frameOf(f, conn, 'client->ubusd', 'ADD_OBJECT', 1).hex], conn);
      p.receive(d('DATA', 1), 0);
      p.receive(d('STATUS', 1), 0);
      const [reply] = drain(p).events;
      const objId = reply?.kind === 'reply' ? reply.data[0]!.objId! : 0;
      patterns.forEach((pattern, i) => {
        p.registerEvent(objId, pattern, 0, 1000);
        assert.equal(drain(p).out, [frameOf(f, conn, 'client->ubusd', 'INVOKE', 2 + i).hex], `${conn} register ${pattern}`);
        p.receive(d('STATUS', 2 + i), 0);
      });
      const delivery = framesOf(f, conn, 'ubusd->client').find((x) => x.decoded.header.type_name === 'INVOKE')!;
      p.receive(bytes(delivery), 0);
      const r = drain(p);
      assert.equal(r.out, [], `${conn}: no reply to an event`);
      const ev = r.events.find((e) => e.kind === 'event');
      assert.ok(ev?.kind === 'event');
      if (ev?.kind === 'event') { ev.listener.onEvent(ev.name, ev.data); }
      assert.equal(got, [['foo', { a: 1 }]], conn);
    }
    const p = new UbusProtocol();
    p.receive(bytes(frameOf(f, 'sender', 'ubusd->client', 'HELLO', 0)), 0);
    p.sendEvent('foo', { a: 1 }, 0, 1000);
    assert.equal(drain(p).out, [frameOf(f, 'sender', 'client->ubusd', 'INVOKE', 1).hex]);

    const edge = fx('06c-');
    const q = new UbusProtocol();
    q.receive(bytes(frameOf(edge, 'sender: ubus send ubus.foo', 'ubusd->client', 'HELLO', 0)), 0);
    const id = q.sendEvent('ubus.foo', {}, 0, 1000);
    assert.equal(drain(q).out, [frameOf(edge, 'sender: ubus send ubus.foo', 'client->ubusd', 'INVOKE', 1).hex]);
    q.receive(bytes(frameOf(edge, 'sender: ubus send ubus.foo', 'ubusd->client', 'STATUS', 1)), 0);
    assert.equal(drain(q).events, [{ kind: 'reply', id, status: UBUS_STATUS.PERMISSION_DENIED, data: [] }]);
  });
}

test.run();
