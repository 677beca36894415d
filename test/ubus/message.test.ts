/// <reference types="node" />
// ubus frames: the OPENWRT.md §5 worked example byte for byte, attribute
// parsing by id, the frame splitter and its limits, and fuzzing of frames.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import {
  BlobDecodeError, FrameSplitter, UBUS_MAX_MSGLEN, UBUS_MSG, UBUS_STATUS, decodeBlobmsgTable, decodeMessage,
  encodeBlobmsgTable, encodeMessage, statusName, type UbusMessage,
} from '../../src/ubus/index.ts';
import { Rng, randomString, randomValue, testSeed } from './support/random.ts';

const h = (s: string) => fromHex(s.replace(/\s+/g, ''));

// OPENWRT.md §5: calling hello {"name":"alice","n":5} on objid f85da9c0, seq 2.
const WORKED_INVOKE = h(`
  00 05 0002 f85da9c0
  0000003c
  03000008 f85da9c0
  0400000a 68656c6c6f00 0000
  07000024
  83000012 0004 6e616d65 00 00 616c69636500 0000
  8500000c 0001 6e 00 00000005`);
const CALLER = 0x2a2b2c2d;
const WORKED_STATUS = h(`00 01 0002 2a2b2c2d 00000014 01000008 00000000 03000008 f85da9c0`);

test('worked example: the INVOKE encodes to the documented bytes', () => {
  const msg: UbusMessage = {
    type: UBUS_MSG.INVOKE, seq: 2, peer: 0xf85da9c0,
    attrs: { objId: 0xf85da9c0, method: 'hello', data: encodeBlobmsgTable({ name: 'alice', n: 5 }) },
  };
  assert.is(toHex(encodeMessage(msg)), toHex(WORKED_INVOKE));
});

test('worked example: the documented bytes decode to the INVOKE, attributes by id', () => {
  const m = decodeMessage(WORKED_INVOKE);
  assert.is(m.type, UBUS_MSG.INVOKE);
  assert.is(m.seq, 2);
  assert.is(m.peer, 0xf85da9c0);
  assert.is(m.attrs.objId, 0xf85da9c0);
  assert.is(m.attrs.method, 'hello');
  assert.equal(decodeBlobmsgTable(m.attrs.data!), { name: 'alice', n: 5 });
});

test('worked example: the server\'s STATUS 0 reply (STATUS then OBJID)', () => {
  const msg: UbusMessage = { type: UBUS_MSG.STATUS, seq: 2, peer: CALLER, attrs: { status: 0, objId: 0xf85da9c0 } };
  assert.is(toHex(encodeMessage(msg)), toHex(WORKED_STATUS));
  assert.equal(decodeMessage(WORKED_STATUS).attrs, { status: 0, objId: 0xf85da9c0 });
});

test('attributes are found by id whatever their order; a repeated id keeps the last; unknown ids are ignored', () => {
  // GROUP, USER, METHOD, OBJID, STATUS -1, attr 0x30 (unknown), METHOD again
  const blob = h(`
    0d00000a 776865656c00 0000
    0c000009 726f6f74 00000000
    04000006 6100 0000
    03000008 00000401
    01000008 ffffffff
    30000005 01000000
    04000006 6200 0000`);
  const frame = new Uint8Array(12 + blob.length);
  const v = new DataView(frame.buffer);
  v.setUint8(1, UBUS_MSG.INVOKE);
  v.setUint32(8, 4 + blob.length);
  frame.set(blob, 12);
  assert.equal(decodeMessage(frame).attrs, { group: 'wheel', user: 'root', method: 'b', objId: 0x401, status: -1 });
});

test('SUBSCRIBERS, ACTIVE, NO_REPLY, TARGET round-trip', () => {
  const msg: UbusMessage = { type: UBUS_MSG.NOTIFY, seq: 9, peer: 0, attrs: { objId: 5, target: 0xfffffffe, active: true, noReply: false, subscribers: [1, 0x80000000] } };
  assert.equal(decodeMessage(encodeMessage(msg)), msg);
});

test('statusName names every ubus status and tolerates unknown codes', () => {
  assert.is(statusName(UBUS_STATUS.METHOD_NOT_FOUND), 'METHOD_NOT_FOUND');
  assert.is(statusName(13), 'SYSTEM_ERROR');
  assert.is(statusName(99), 'STATUS_99');
});

test('decodeMessage refuses malformed frames with BlobDecodeError', () => {
  const cases: [string, RegExp][] = [
    ['0000000000000000 000000', /shorter than header/],
    ['0100000000000000 00000004', /version 1/],
    ['0000000000000000 80000004', /id\/flags 0x80/],
    ['0000000000000000 00000003', /length 3 < 4/],
    ['0000000000000000 00000008', /12 bytes, header says 16/],
    ['0001000000000000 0000000c 03000007 aabbcc00', /OBJID: 3 bytes, expected 4/],
    ['0001000000000000 0000000c 04000008 61626364', /METHOD: string is not NUL-terminated/],
    ['0001000000000000 0000000c 0b000008 03000004', /SUBSCRIBERS: entry of 0 bytes/],
  ];
  for (const [hex, re] of cases) {
    try {
      decodeMessage(h(hex));
      assert.unreachable(`${hex} decoded`);
    } catch (e) {
      assert.instance(e, BlobDecodeError, hex);
      assert.match((e as Error).message, re, hex);
    }
  }
});

test('encodeMessage refuses a message above UBUS_MAX_MSGLEN (local misuse: RangeError)', () => {
  const data = encodeBlobmsgTable({ s: 'x'.repeat(UBUS_MAX_MSGLEN) });
  assert.throws(() => encodeMessage({ type: UBUS_MSG.DATA, seq: 1, peer: 1, attrs: { data } }), (e: unknown) => e instanceof RangeError);
});

test('splitter: byte-by-byte feed yields each frame once, then nothing', () => {
  const frames = [WORKED_INVOKE, WORKED_STATUS, h('0000000040aea18200000004')];
  const s = new FrameSplitter();
  const got: string[] = [];
  for (const f of frames) for (const b of f) { s.push(Uint8Array.of(b)); for (let x = s.next(); x; x = s.next()) got.push(toHex(x)); }
  assert.equal(got, frames.map(toHex));
  assert.is(s.next(), null);
  assert.is(s.buffered, 0);
});

test('splitter: a frame of exactly UBUS_MAX_MSGLEN passes, one above is a protocol error', () => {
  const ok = new Uint8Array(8 + UBUS_MAX_MSGLEN);
  new DataView(ok.buffer).setUint32(8, UBUS_MAX_MSGLEN);
  const s = new FrameSplitter();
  s.push(ok.subarray(0, 100000));
  assert.is(s.next(), null);
  s.push(ok.subarray(100000));
  assert.is(s.next()?.length, ok.length);
  const big = new Uint8Array(12);
  new DataView(big.buffer).setUint32(8, UBUS_MAX_MSGLEN + 1);
  const t = new FrameSplitter();
  t.push(big);
  assert.throws(() => t.next(), (e: unknown) => e instanceof BlobDecodeError && /exceeds UBUS_MAX_MSGLEN/.test((e as Error).message));
});

test('splitter: a bad version in the stream is a protocol error, not a hang', () => {
  const s = new FrameSplitter();
  s.push(h('0200000100000000 00000004'));
  assert.throws(() => s.next(), (e: unknown) => e instanceof BlobDecodeError && /version 2/.test((e as Error).message));
});

function randomMessage(r: Rng): UbusMessage {
  const attrs: UbusMessage['attrs'] = {};
  if (r.next() < 0.5) attrs.status = r.int(14);
  if (r.next() < 0.5) attrs.objPath = randomString(r);
  if (r.next() < 0.5) attrs.objId = r.int(2 ** 32);
  if (r.next() < 0.5) attrs.method = randomString(r);
  if (r.next() < 0.5) attrs.data = encodeBlobmsgTable({ v: randomValue(r), w: randomValue(r) });
  if (r.next() < 0.2) attrs.subscribers = [r.int(2 ** 32), r.int(2 ** 32)];
  if (r.next() < 0.2) attrs.noReply = true;
  if (r.next() < 0.2) attrs.user = 'root';
  return { type: r.int(12), seq: r.int(65536), peer: r.int(2 ** 32), attrs };
}

function fullDecode(b: Uint8Array): void {
  const m = decodeMessage(b);
  if (m.attrs.data) decodeBlobmsgTable(m.attrs.data);
  if (m.attrs.signature) decodeBlobmsgTable(m.attrs.signature);
}

test('random messages round-trip; random and mutated frames throw only BlobDecodeError', () => {
  const seed = testSeed();
  const r = new Rng(seed);
  const only = (what: string, fn: () => void) => {
    try { fn(); } catch (e) {
      if (e instanceof BlobDecodeError) return;
      console.error(`${what} threw ${String(e)}; reproduce with KITH_SEED=${seed}`);
      throw e;
    }
  };
  for (let i = 0; i < 3000; i++) {
    const msg = randomMessage(r);
    const frame = encodeMessage(msg);
    assert.equal(decodeMessage(frame), msg, `seed ${seed} case ${i}`);
    const bad = frame.slice(0, frame.length - (r.next() < 0.3 ? r.int(frame.length) : 0));
    for (let k = r.int(5); k >= 0 && bad.length; k--) bad[8 + r.int(Math.max(1, bad.length - 8))] = r.int(256);
    only('decodeMessage(mutated)', () => fullDecode(bad));
    only('decodeMessage(random)', () => fullDecode(r.bytes(r.int(80))));
    const s = new FrameSplitter();
    only('FrameSplitter(mutated)', () => { s.push(bad); s.push(r.bytes(r.int(20))); for (let f = s.next(); f; f = s.next()) fullDecode(f); });
  }
});

test.run();
