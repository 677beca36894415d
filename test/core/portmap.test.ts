/// <reference types="node" />
// NAT-PMP and PCP: golden bytes in the RFCs' layouts, the client's rounds on a
// virtual clock (fallback, renewal, backoff, expiry, release), and fuzzing of
// the reply decoder and the client with random and mutated replies: only
// DecodeError from the decoder, nothing at all from the client.
//   KITH_SEED=<n> KITH_FUZZ=<iterations> npx tsx test/core/portmap.test.ts
//   KITH_FUZZ_LONG=1 npx tsx test/core/portmap.test.ts   (1,000,000 inputs per target)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DecodeError } from '../../src/core/codec.ts';
import {
  decodeReply, encodePcpMapRequest, encodePmpAddressRequest, encodePmpMapRequest, isAdvertisableIPv4, resultText,
} from '../../src/core/portmap.ts';
import { PORTMAP_UNAVAILABLE_RETRY_MS, PortmapClient, type PortmapEvent } from '../../src/core/portmap-client.ts';
import { mulberry32, seededBytes } from '../support/rand.ts';
import { mutator } from '../support/fuzz.ts';

const SEED = Number(process.env.KITH_SEED ?? 1337);
const FUZZ = Number(process.env.KITH_FUZZ ?? (process.env.KITH_FUZZ_LONG === '1' ? 1_000_000 : 20_000));
const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!.map((x) => parseInt(x, 16)));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const NONCE = hex('0102030405060708090a0b0c');
const T0 = 1_000_000;

// Golden replies (RFC 6886 §3.2, §3.3; RFC 6887 §7.2, §11.1): 198.51.100.1, internal 51820, external 54321, 7200 s.
const PMP_ADDRESS = hex('00 80 0000 00000e10 c6336401');
const PMP_MAP = hex('00 81 0000 00000e10 ca6c d431 00001c20');
const PCP_MAP = hex(`02 81 00 00 00001c20 00000e10 000000000000000000000000
  0102030405060708090a0b0c 11 000000 ca6c d431 00000000000000000000ffff c6336401`);

test('NAT-PMP requests in RFC 6886 layout', () => {
  assert.is(toHex(encodePmpAddressRequest()), '0000');
  assert.is(toHex(encodePmpMapRequest(51820, 51820, 7200)), '00010000ca6cca6c00001c20');
  assert.is(toHex(encodePmpMapRequest(51820, 0, 0)), '00010000ca6c000000000000', 'a delete: lifetime 0, external port 0');
  assert.throws(() => encodePmpMapRequest(0, 1, 1), /internal port 0/);
  assert.throws(() => encodePmpMapRequest(1, 1, 2 ** 32), /lifetime/);
});

test('a PCP MAP request in RFC 6887 layout (IPv4-mapped addresses)', () => {
  const req = encodePcpMapRequest({ client: '198.18.1.2', nonce: NONCE, internalPort: 51820, externalPort: 51820, external: '0.0.0.0', lifetimeSec: 7200 });
  assert.is(toHex(req), '0201000000001c20' + '00000000000000000000ffffc6120102'
    + '0102030405060708090a0b0c' + '11000000' + 'ca6cca6c' + '00000000000000000000ffff00000000');
  assert.is(req.length, 60);
  assert.throws(() => encodePcpMapRequest({ client: 'x', nonce: NONCE, internalPort: 1, externalPort: 0, external: '0.0.0.0', lifetimeSec: 0 }), /IPv4/);
  assert.throws(() => encodePcpMapRequest({ client: '1.2.3.4', nonce: NONCE.slice(1), internalPort: 1, externalPort: 0, external: '0.0.0.0', lifetimeSec: 0 }), /nonce/);
});

test('replies decode field by field', () => {
  assert.equal(decodeReply(PMP_ADDRESS), { protocol: 'nat-pmp', op: 'address', result: 0, epochSec: 3600, external: '198.51.100.1' });
  assert.equal(decodeReply(PMP_MAP), { protocol: 'nat-pmp', op: 'map', result: 0, epochSec: 3600, internalPort: 51820, externalPort: 54321, lifetimeSec: 7200 });
  assert.equal(decodeReply(PCP_MAP), {
    protocol: 'pcp', op: 'map', result: 0, epochSec: 3600, lifetimeSec: 7200, nonce: NONCE, internalPort: 51820, externalPort: 54321, external: '198.51.100.1',
  });
  // What miniupnpd answers when port forwarding is off: result 3 (network failure), in full or as the 8-byte header.
  assert.equal(decodeReply(hex('008000030000000300000000')), { protocol: 'nat-pmp', op: 'error', result: 3, opcode: 0 });
  assert.equal(decodeReply(hex('0081000300000003ca6cca6c0000003c')), { protocol: 'nat-pmp', op: 'error', result: 3, opcode: 1 });
  assert.equal(decodeReply(hex('0081000100000000')), { protocol: 'nat-pmp', op: 'error', result: 1, opcode: 1 });
  assert.equal(decodeReply(hex('028100010000000000000000000000000000000000000000')), { protocol: 'pcp', op: 'error', result: 1, opcode: 1 });
  assert.is(resultText('pcp', 8), 'no resources');
  assert.is(resultText('nat-pmp', 2), 'not authorized or refused');
  assert.is(resultText('nat-pmp', 99), 'result 99');
  // PCP options after the payload are skipped when they fit, refused when they do not.
  assert.is((decodeReply(Uint8Array.from([...PCP_MAP, 0x80, 0, 0, 4, 1, 2, 3, 4])) as { externalPort: number }).externalPort, 54321);
  assert.throws(() => decodeReply(Uint8Array.from([...PCP_MAP, 0x80, 0, 0, 8, 1, 2, 3, 4])), (e: Error) => e instanceof DecodeError);
});

test('malformed replies are DecodeErrors that say what is wrong', () => {
  const bad: [Uint8Array, RegExp][] = [
    [new Uint8Array(0), /0 bytes/], [hex('01 80'), /unknown version 1/], [hex('00 00 0000'), /is a request/],
    [PMP_ADDRESS.slice(0, 11), /truncated at external address/], [Uint8Array.from([...PMP_MAP, 0]), /trailing/],
    [hex('00 82 0000 00000000 0000 0000 00000000'), /unexpected opcode 2/], [PCP_MAP.slice(0, 56), /truncated|multiple of 4/],
    [Uint8Array.from([...PCP_MAP.slice(0, 24), ...PCP_MAP.slice(24, 36), 6, ...PCP_MAP.slice(37)]), /protocol 6/],
    [new Uint8Array(1104).fill(2), /exceed 1100/], [PCP_MAP.slice(0, 58), /multiple of 4/],
  ];
  for (const [b, re] of bad) assert.throws(() => decodeReply(b), (e: Error) => e instanceof DecodeError && re.test(e.message), toHex(b).slice(0, 40));
});

test('advertisable external addresses: not private, CGNAT, loopback, link-local or multicast', () => {
  for (const ip of ['198.51.100.1', '203.0.113.1', '8.8.8.8', '100.128.0.1']) assert.ok(isAdvertisableIPv4(ip), ip);
  for (const ip of ['10.1.2.3', '192.168.1.1', '172.16.0.1', '100.64.0.1', '127.0.0.1', '169.254.1.1', '0.0.0.0', '224.0.0.1', 'x']) assert.not.ok(isAdvertisableIPv4(ip), ip);
});

const sends = (ev: PortmapEvent[]) => ev.filter((e) => e.type === 'send').map((e) => toHex((e as { bytes: Uint8Array }).bytes));
const kinds = (ev: PortmapEvent[]) => ev.filter((e) => e.type !== 'send').map((e) => e.type);
const client = () => new PortmapClient({ internalPort: 51820, client: '198.18.1.2', nonce: NONCE });

/** Runs the client to its deadlines until `untilMs`, collecting events. */
function runUntil(c: PortmapClient, fromMs: number, untilMs: number): PortmapEvent[] {
  const out: PortmapEvent[] = [];
  for (let i = 0; i < 1000; i++) {
    const d = c.nextDeadlineMs();
    if (d === null || d > untilMs) return out;
    out.push(...c.poll(Math.max(d, fromMs)));
  }
  throw new Error('the client did not settle in 1000 deadlines');
}

test('NAT-PMP: address and map replies give the mapping; renewed at half its lifetime for the same port', () => {
  const c = client();
  assert.equal(sends(c.start(T0)), ['0000', '00010000ca6cca6c00001c20']);
  assert.equal(c.handleReply(PMP_ADDRESS, T0 + 5), []);
  const ev = c.handleReply(PMP_MAP, T0 + 6);
  assert.equal(ev, [{ type: 'mapped', mapping: { protocol: 'nat-pmp', external: '198.51.100.1', externalPort: 54321, lifetimeSec: 7200, expiresAtMs: T0 + 6 + 7200_000 } }]);
  assert.is(c.nextDeadlineMs(), T0 + 6 + 3600_000);
  assert.equal(sends(c.poll(T0 + 6 + 3600_000)), ['0000', '00010000ca6cd43100001c20'], 'the renewal asks for the port it holds');
  c.handleReply(PMP_ADDRESS, T0 + 3600_010);
  assert.equal(c.handleReply(PMP_MAP, T0 + 3600_011), [], 'the same mapping again: no event');
  assert.is(c.mapping!.expiresAtMs, T0 + 3600_011 + 7200_000);
  assert.equal(c.release().map(toHex), ['00010000ca6c000000000000']);
  assert.is(c.mapping, null);
  assert.is(c.nextDeadlineMs(), null);
});

test('a silent gateway: 4 tries of NAT-PMP, 4 of PCP, one unavailable event, then 1 min and 10 min between rounds', () => {
  const c = client();
  const first = [...c.start(T0), ...runUntil(c, T0, T0 + 59_000)];
  assert.is(sends(first).filter((s) => s.startsWith('0001')).length, 4);
  assert.is(sends(first).filter((s) => s.startsWith('02')).length, 4);
  assert.equal(kinds(first), ['unavailable']);
  assert.match(c.reason!, /neither NAT-PMP nor PCP/);
  const later = runUntil(c, T0, T0 + 3600_000);
  // Rounds at about 1 min, then every 10 min: 6 more in the first hour.
  assert.equal(kinds(later), Array(6).fill('unavailable'));
  assert.ok(c.nextDeadlineMs()! - T0 > 3600_000 - PORTMAP_UNAVAILABLE_RETRY_MS[1]!);
});

test('NAT-PMP unsupported: PCP next; its reply must carry our nonce and port', () => {
  const c = client();
  c.start(T0);
  const pcp = c.handleReply(hex('0081000100000000'), T0 + 1);
  assert.equal(sends(pcp).map((s) => s.slice(0, 4)), ['0201']);
  const other = Uint8Array.from(PCP_MAP);
  other[24] ^= 1;
  assert.equal(c.handleReply(other, T0 + 2), []);
  assert.is(c.ignored, 1);
  assert.equal(c.handleReply(PMP_MAP, T0 + 3), [], 'a NAT-PMP reply during a PCP round is ignored');
  assert.equal(kinds(c.handleReply(PCP_MAP, T0 + 4)), ['mapped']);
  assert.equal(c.mapping, { protocol: 'pcp', external: '198.51.100.1', externalPort: 54321, lifetimeSec: 7200, expiresAtMs: T0 + 4 + 7200_000 });
  const rel = c.release().map(toHex);
  assert.is(rel.length, 1);
  assert.ok(rel[0]!.startsWith('0201000000000000'), 'a PCP delete: lifetime 0');
});

test('a private external address is deleted at once and not advertised', () => {
  const c = client();
  c.start(T0);
  c.handleReply(hex('00 80 0000 00000e10 c0a80101'), T0 + 1);
  const ev = c.handleReply(PMP_MAP, T0 + 2);
  assert.equal(sends(ev), ['00010000ca6c000000000000']);
  assert.equal(kinds(ev), ['unavailable']);
  assert.match(c.reason!, /192\.168\.1\.1 is private/);
  assert.is(c.mapping, null);
});

test('a renewal nobody answers is retried until the mapping expires; then it is lost and a new round starts', () => {
  const c = client();
  c.start(T0);
  c.handleReply(PMP_ADDRESS, T0);
  c.handleReply(PMP_MAP, T0);
  const ev = runUntil(c, T0, T0 + 7200_000);
  assert.equal(kinds(ev), ['lost']);
  assert.is(c.mapping, null);
  assert.ok(sends(ev).length > 20 && sends(ev).length < 1000, `${sends(ev).length} datagrams`);
  assert.equal(kinds(c.handleReply(hex('0081000200000000'), T0 + 7200_001)), ['unavailable'], 'refused: not authorized');
});

const rand = mulberry32(SEED);
const rnd = seededBytes(SEED);
const mutate = mutator(rand, rnd);
const VALID = [PMP_ADDRESS, PMP_MAP, PCP_MAP, hex('0081000100000000'), hex('028100010000000000000000000000000000000000000000')];

test(`fuzz: ${FUZZ} random and mutated replies to the decoder and the client (seed ${SEED})`, () => {
  const c = client();
  c.start(T0);
  let rejected = 0;
  for (let i = 0; i < FUZZ; i++) {
    const input = rand() < 0.2 ? rnd(Math.floor(rand() * 80)) : mutate(VALID[Math.floor(rand() * VALID.length)]!);
    try {
      decodeReply(input);
    } catch (e) {
      rejected++;
      if (!(e instanceof DecodeError)) assert.unreachable(`${toHex(input).slice(0, 200)} threw ${(e as Error).name}: ${(e as Error).message} (KITH_SEED=${SEED})`);
    }
    try {
      c.handleReply(input, T0 + i);
      if (i % 64 === 0) c.poll(c.nextDeadlineMs() ?? T0 + i);
    } catch (e) {
      assert.unreachable(`the client threw on ${toHex(input).slice(0, 200)}: ${(e as Error).message} (KITH_SEED=${SEED})`);
    }
  }
  assert.ok(rejected > FUZZ / 4, `only ${rejected} of ${FUZZ} rejected: is the fuzzer reaching the decoder?`);
});

test.run();
