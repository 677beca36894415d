// The Node.js adapter's UDP: the batched addon (when built) and dgram keep the
// same contract — echo, replies to the sender within a batch, explicit
// destinations outside one, data that outlives its batch, bursts, datagrams
// up to the largest control message (8 KB), close. Longer datagrams are never
// delivered cut: dgram delivers them whole (the core counts them as oversize),
// the addon drops them and counts them (UdpSocket.oversize).
/// <reference types="node" />
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { needs } from '../support/needs.ts';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { nodePlatform } from '../../src/platform/node.ts';
import type { UdpSocket } from '../../src/platform/types.ts';

const addon = fileURLToPath(new URL('../../src/platform/native/build/Release/kith_udp.node', import.meta.url));
const here = fileURLToPath(import.meta.url);

async function scenario(): Promise<string[]> {
  const p = nodePlatform();
  const server = await p.udp.bind('127.0.0.1', 0);
  const client = await p.udp.bind('127.0.0.1', 0);
  const kept: Uint8Array[] = [];
  server.onMessage((d, from) => { kept.push(d); void server.send(Uint8Array.of(d[0]! + 1), from); });
  const got: number[] = [];
  const all = new Promise<void>((resolve) => client.onMessage((d) => { got.push(d[0]!); if (got.length === 200) resolve(); }));
  for (let i = 0; i < 200; i++) await client.send(Uint8Array.of(i % 250, 7, 7), server.local);
  await Promise.race([all, new Promise((r) => setTimeout(r, 3000))]);
  const out: string[] = [];
  out.push(`replies ${got.length}`, `sum ${got.reduce((a, b) => a + b, 0)}`);
  out.push(`kept intact ${kept.every((d, i) => d.length === 3 && d[0] === i % 250 && d[2] === 7)}`);
  // An explicit destination, outside any batch (as a forwarded DNS answer is sent).
  const third: UdpSocket = await p.udp.bind('127.0.0.1', 0);
  const late = new Promise<number>((resolve) => third.onMessage((d) => resolve(d[0]!)));
  await server.send(Uint8Array.of(42), { address: '127.0.0.1', port: third.local.port });
  out.push(`explicit ${await Promise.race([late, new Promise((r) => setTimeout(() => r(-1), 2000))])}`);
  // Large datagrams (gossip messages reach MAX_CONTROL_BYTES): 1 to 8 KB arrive whole.
  const sizes = [1024, 2048, 4096, 5475, 8192];
  const big: string[] = [];
  const bigDone = new Promise<void>((resolve) => third.onMessage((d) => {
    const ok = d.every((b, i) => b === (i * 7 + d.length) % 251);
    big.push(`${d.length}${ok ? '' : ' corrupt'}`);
    if (big.length === sizes.length) resolve();
  }));
  for (const n of sizes) await client.send(Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) % 251), third.local);
  await Promise.race([bigDone, new Promise((r) => setTimeout(r, 3000))]);
  out.push(`large ${big.sort((a, b) => parseInt(a) - parseInt(b)).join(',')}`);
  // Longer than the addon's slot (9216) and the UDP maximum: delivered whole or dropped and
  // counted, never delivered cut. A marker datagram after them says when all have been handled.
  const longer = [9217, 65507];
  const fourth: UdpSocket = await p.udp.bind('127.0.0.1', 0);
  const seen: string[] = [];
  const marked = new Promise<void>((resolve) => fourth.onMessage((d) => {
    if (d.length === 1) { resolve(); return; }
    seen.push(`${d.length}${d.every((b, i) => b === (i * 7 + d.length) % 251) ? '' : ' corrupt'}`);
  }));
  // Sent by plain dgram: the addon does not send what it could not receive.
  const raw = createSocket('udp4');
  const rawSend = (b: Uint8Array) => new Promise<void>((r, j) => raw.send(b, fourth.local.port, '127.0.0.1', (e) => (e ? j(e) : r())));
  for (const n of longer) await rawSend(Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) % 251));
  await rawSend(Uint8Array.of(1));
  raw.close();
  await Promise.race([marked, new Promise((r) => setTimeout(r, 3000))]);
  const counted = fourth.oversize ?? 0;
  out.push(`longer: ${seen.length + counted === longer.length && seen.every((x) => longer.includes(Number(x))) ? 'whole or counted' : `delivered [${seen.join(',')}], counted ${counted}`}`);
  out.push(`longer delivered whole: ${seen.join(',') || 'none'}`);
  for (const s of [server, client, third, fourth]) s.close();
  return out;
}

if (process.env['KITH_UDP_CHILD']) {
  // Child mode: print the scenario's results for the parent to compare.
  void scenario().then((r) => console.log(JSON.stringify(r)));
} else {
  const expected = ['replies 200', `sum ${Array.from({ length: 200 }, (_, i) => (i % 250) + 1).reduce((a, b) => a + b, 0)}`, 'kept intact true', 'explicit 42',
    'large 1024,2048,4096,5475,8192', 'longer: whole or counted'];
  const run = (env: Record<string, string>) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', here], { env: { ...process.env, KITH_UDP_CHILD: '1', ...env }, encoding: 'utf8', timeout: 20000 });
    assert.is(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as string[];
  };

  test('dgram: echo, bursts, explicit destinations; longer datagrams arrive whole', () => {
    assert.equal(run({ KITH_NATIVE_UDP: '0' }), [...expected, 'longer delivered whole: 9217,65507']);
  });

  needs(existsSync(addon), 'the native UDP addon', 'make build')('batched addon: the same results', () => {
    assert.equal(run({ KITH_NATIVE_UDP: addon }), [...expected, 'longer delivered whole: none'], 'longer than a slot: dropped and counted');
  });

  test.run();
}
