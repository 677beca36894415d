/// <reference types="node" />
// utf8Encode against the runtime's TextEncoder: ASCII, two-, three- and
// four-byte characters, lone surrogates (U+FFFD), and a record-cache-sized
// string (encoded to exactly its length, no larger buffer behind it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { utf8Decode, utf8Encode } from '../../src/core/bytes.ts';

const enc = new TextEncoder();
const cases = ['', 'a', 'kith', 'é', 'ñandú', '€', '日本語', '😀', 'a😀b', '\ud800', '\udc00', 'x\ud800y', '\ud83d', '\ud83d\ud83d\ude00', '\ude00\ud83d', '\u0000\u007f\u0080\u07ff\u0800\uffff'];

test('utf8Encode matches TextEncoder, lone surrogates as U+FFFD', () => {
  for (const s of cases) assert.equal(Array.from(utf8Encode(s)), Array.from(enc.encode(s)), JSON.stringify(s));
});

test('utf8Encode round-trips through utf8Decode', () => {
  for (const s of ['ñandú €', '日本語 😀', 'plain']) assert.is(utf8Decode(utf8Encode(s)), s);
});

test('a large ASCII string is encoded into a buffer of exactly its length', () => {
  const s = JSON.stringify(Array.from({ length: 300 }, (_, i) => `${'A'.repeat(1000)}${i}`));
  const b = utf8Encode(s);
  assert.is(b.length, s.length);
  assert.is(b.buffer.byteLength, s.length);
  assert.equal(b, enc.encode(s));
});

test.run();
