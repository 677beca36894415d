// Founding a network refuses what the network decoder would refuse later, so
// a saved network always loads again (a /30 pool used to be saved, and kithd
// then never started).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { foundNetwork, UsageError } from '../../src/core/found.ts';
import { decodeNetwork, ipv4PoolError } from '../../src/core/network.ts';
import { parsePrefix4 } from '../../src/core/ip.ts';
import { seededBytes } from '../support/rand.ts';

const rnd = seededBytes(5);
const found = (pool: string) => foundNetwork({
  name: 'pools', nodeName: 'hub', nodeSignPub: rnd(32), nodeWgPub: rnd(32), networkSeed: rnd(32), nowMs: 1_700_000_000_000,
  ipv4Pool: parsePrefix4(pool)!,
});

test('pools outside /8../24 are refused at init with a usage error', () => {
  for (const pool of ['10.0.0.0/30', '10.0.0.0/25', '10.0.0.0/7', '0.0.0.0/0']) {
    assert.throws(() => found(pool), (e: unknown) => e instanceof UsageError && /--pool/.test((e as Error).message), pool);
  }
});

test('every pool init accepts decodes again', () => {
  for (const pool of ['100.64.0.0/10', '10.0.0.0/8', '10.20.30.0/24', '172.16.0.0/12']) {
    const f = found(pool);
    assert.is(decodeNetwork(f.network.bytes).params.ipv4Pool.len, parsePrefix4(pool)!.len, pool);
  }
});

test('host bits in a pool are an error', () => {
  assert.match(ipv4PoolError({ base: 0x0a000001, len: 8 }) ?? '', /host bits/);
  assert.is(ipv4PoolError({ base: 0x0a000000, len: 8 }), null);
});

test.run();
