/// <reference types="node" />
// blobmsg codec: the OPENWRT.md §5 worked example, the JS ↔ blobmsg type
// mapping, seeded round trips, and random/mutated input that may only ever
// throw BlobDecodeError.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { DecodeError } from '../../src/core/codec.ts';
import {
  BLOBMSG_MAX_DEPTH, BlobDecodeError, decodeBlobmsg, decodeBlobmsgNodes, decodeBlobmsgTable, encodeBlobmsg,
  encodeBlobmsgNodes, encodeBlobmsgTable, type BlobValue,
} from '../../src/ubus/index.ts';
import { Rng, randomValue, testSeed } from './support/random.ts';

const h = (s: string) => fromHex(s.replace(/\s+/g, ''));

// OPENWRT.md §5 worked example: the DATA payload of hello {"name":"alice","n":5}.
const WORKED_DATA = h(`
  83000012 0004 6e616d65 00 00 616c69636500 0000
  8500000c 0001 6e 00 00000005`);

test('worked example: {"name":"alice","n":5} encodes to the captured DATA bytes', () => {
  assert.is(toHex(encodeBlobmsgTable({ name: 'alice', n: 5 })), toHex(WORKED_DATA));
});

test('worked example: the captured DATA bytes decode to {"name":"alice","n":5} with exact types', () => {
  assert.equal(decodeBlobmsgTable(WORKED_DATA), { name: 'alice', n: 5 });
  const nodes = decodeBlobmsgNodes(WORKED_DATA);
  assert.equal(nodes.map((n) => [n.name, n.type]), [['name', 3], ['n', 5]]);
});

test('type mapping: int32 / int64 / double / bool / null / string, never INT8 for numbers', () => {
  const types = (v: BlobValue) => decodeBlobmsgNodes(encodeBlobmsgTable({ v }))[0]!.type;
  assert.is(types(0), 5);
  assert.is(types(1), 5, '1 is INT32, not INT8 (LuCI would show true)');
  assert.is(types(-1), 5);
  assert.is(types(2 ** 31 - 1), 5);
  assert.is(types(-(2 ** 31)), 5);
  assert.is(types(2 ** 31), 4);
  assert.is(types(-(2 ** 31) - 1), 4);
  assert.is(types(Number.MAX_SAFE_INTEGER), 4);
  assert.is(types(9007199254740993n), 4);
  assert.is(types(0.5), 8);
  assert.is(types(1e20), 8, 'beyond int64: kept as a double');
  assert.is(types(true), 7);
  assert.is(types(false), 7);
  assert.is(types(null), 0);
  assert.is(types('x'), 3);
  assert.is(types([]), 1);
  assert.is(types({}), 2);
});

test('exact bytes: int64, double, bool, null, empty string, nested array with unnamed members', () => {
  assert.is(toHex(encodeBlobmsg('i', 2 ** 31)), '84000010' + '00016900' + '0000000080000000');
  assert.is(toHex(encodeBlobmsg('d', 1.5)), '88000010' + '00016400' + '3ff8000000000000');
  assert.is(toHex(encodeBlobmsg('t', true)), '870000090001740001000000');
  assert.is(toHex(encodeBlobmsg('z', null)), '800000080001' + '7a00');
  assert.is(toHex(encodeBlobmsg('s', '')), '830000090001730000000000');
  // ARRAY "a" holding int32 7: members carry a 4-byte empty name header.
  assert.is(toHex(encodeBlobmsg('a', [7])), '81000014000161' + '00' + '8500000c0000000000000007');
});

test('decoding: INT64 outside the safe range becomes a bigint; inside, a number', () => {
  assert.equal(decodeBlobmsgTable(encodeBlobmsgTable({ a: 2n ** 62n, b: 2n ** 40n })), { a: 2n ** 62n, b: 2 ** 40 });
  assert.equal(decodeBlobmsgTable(encodeBlobmsgTable({ a: -(2 ** 63) })), { a: -(2n ** 63n) });
});

test('decoding accepts non-extended (unnamed) attributes inside a blobmsg list', () => {
  // plain INT32 (id 5) with value 9, then plain STRING "hi"
  const payload = h('05000008 00000009 03000007 686900 00');
  const nodes = decodeBlobmsgNodes(payload);
  assert.equal(nodes.map((n) => [n.name, n.type, n.value]), [['', 5, 9], ['', 3, 'hi']]);
});

test('INT8 other than 0/1 decodes to true; INT16 is signed', () => {
  const nodes = [{ name: 'b', type: 7 as const, value: 2 }, { name: 'w', type: 6 as const, value: -1234 }];
  assert.equal(decodeBlobmsgTable(encodeBlobmsgNodes(nodes)), { b: true, w: -1234 });
});

test('"__proto__" is an ordinary key in both directions', () => {
  const v = JSON.parse('{"__proto__": {"x": 1}, "k": 2}') as Record<string, BlobValue>;
  const back = decodeBlobmsgTable(encodeBlobmsgTable(v));
  assert.ok(Object.hasOwn(back, '__proto__'));
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
  assert.equal(back['__proto__'], { x: 1 });
});

test('encoding refuses what blobmsg cannot carry, naming the key', () => {
  assert.throws(() => encodeBlobmsgTable({ s: 'a\u0000b' }), /s: string contains a NUL/);
  assert.throws(() => encodeBlobmsgTable({ k: (() => 1) as unknown as BlobValue }), /k: cannot encode a function/);
  assert.throws(() => encodeBlobmsgTable({ d: new Date() as unknown as BlobValue }), /d: cannot encode a Date/);
  assert.throws(() => encodeBlobmsgTable({ b: 2n ** 64n }), /b: .* does not fit in int64/);
  const cyclic: Record<string, BlobValue> = {};
  cyclic.self = cyclic;
  assert.throws(() => encodeBlobmsgTable(cyclic), /nesting deeper than/);
});

test('decoding refuses nesting deeper than BLOBMSG_MAX_DEPTH with BlobDecodeError', () => {
  let v: BlobValue = 1;
  for (let i = 0; i < BLOBMSG_MAX_DEPTH - 2; i++) v = [v];
  decodeBlobmsgTable(encodeBlobmsgTable({ v })); // just inside the limit
  // Hand-build deeper nesting than the encoder allows: nested empty-named arrays.
  let inner = new Uint8Array(0);
  for (let i = 0; i < BLOBMSG_MAX_DEPTH + 5; i++) {
    const out = new Uint8Array(8 + inner.length);
    new DataView(out.buffer).setUint32(0, 0x81000000 + 8 + inner.length);
    out.set(inner, 8);
    inner = out;
  }
  assert.throws(() => decodeBlobmsgNodes(inner), (e: unknown) => e instanceof BlobDecodeError && /nesting deeper/.test((e as Error).message));
});

test('malformed inputs: each a BlobDecodeError that names the problem', () => {
  const cases: [string, RegExp][] = [
    ['830000', /trailing bytes/],
    ['83000003', /length 3 < 4/],
    ['83000010 0004 6e616d65', /length 16, only 10 bytes left/],
    ['83000008 00016e01', /not NUL-terminated/], // name without NUL
    ['8300000c 00016e00 61626364', /string is not NUL-terminated/],
    ['8500000a 00016e00 0000 0000', /int32 value has 2 bytes, expected 4/],
    ['89000008 00016e00', /unknown blobmsg type 9/],
    ['83000006 0009 0000', /name of 9 bytes overruns/],
    ['83000005 00 000000', /blobmsg header truncated/],
  ];
  for (const [hex, re] of cases) {
    try {
      decodeBlobmsgNodes(h(hex));
      assert.unreachable(`${hex} decoded`);
    } catch (e) {
      assert.instance(e, BlobDecodeError, hex);
      assert.instance(e, DecodeError, hex);
      assert.match((e as Error).message, re, hex);
    }
  }
});

/** Normalizes a value the way the codec legitimately changes it: -0 → 0. */
function norm(v: BlobValue): BlobValue {
  if (typeof v === 'number' && Object.is(v, -0)) return 0;
  if (Array.isArray(v)) return v.map(norm);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, BlobValue> = {};
    for (const k of Object.keys(v)) Object.defineProperty(o, k, { value: norm(v[k]!), enumerable: true, writable: true, configurable: true });
    return o;
  }
  return v;
}

test('random JSON-like values round-trip exactly (encode → decode → re-encode)', () => {
  const seed = testSeed();
  const r = new Rng(seed);
  let i = 0;
  try {
    for (; i < 3000; i++) {
      const value = randomValue(r);
      const bytes = encodeBlobmsg('root', value);
      const back = decodeBlobmsg(bytes);
      assert.is(back.name, 'root');
      assert.equal(back.value, norm(value));
      assert.is(toHex(encodeBlobmsg('root', back.value)), toHex(bytes));
    }
  } catch (e) {
    console.error(`blobmsg round trip failed at case ${i}; reproduce with KITH_SEED=${seed}`);
    throw e;
  }
});

function onlyBlobErrors(what: string, seed: number, fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof BlobDecodeError)) {
      console.error(`${what}: threw ${String(e)}; reproduce with KITH_SEED=${seed}`);
      throw e;
    }
  }
}

test('random bytes never throw anything but BlobDecodeError', () => {
  const seed = testSeed();
  const r = new Rng(seed);
  for (let i = 0; i < 5000; i++) {
    const b = r.bytes(r.int(64));
    // Bias towards plausible headers so the decoder gets past the first check.
    if (b.length >= 4 && r.next() < 0.7) { b[0] = 0x80 | r.int(10); b[1] = 0; b[2] = 0; b[3] = Math.min(b.length, 4 + r.int(60)); }
    onlyBlobErrors('decodeBlobmsgNodes', seed, () => decodeBlobmsgNodes(b));
    onlyBlobErrors('decodeBlobmsgTable', seed, () => decodeBlobmsgTable(b));
  }
});

test('mutated valid encodings never throw anything but BlobDecodeError', () => {
  const seed = testSeed();
  const r = new Rng(seed);
  for (let i = 0; i < 3000; i++) {
    const good = encodeBlobmsgTable({ v: randomValue(r), w: randomValue(r) });
    const bad = good.slice(0, good.length - r.int(Math.min(8, good.length + 1)));
    for (let k = r.int(4); k >= 0 && bad.length > 0; k--) bad[r.int(bad.length)] = r.int(256);
    onlyBlobErrors('decodeBlobmsgTable(mutated)', seed, () => decodeBlobmsgTable(bad));
  }
});

test.run();
