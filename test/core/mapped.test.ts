// Mapped blocks (src/core/mapped.ts): the region is the pool's block 15, never
// an admin's; blocks are 1:1, disjoint and inside it; a newcomer never moves an
// older member's block; bounds refuse with a reason.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assignMappedBlocks, mapKey, mappedRegion, MAX_MAPPED_PER_MEMBER, type MapRequest } from '../../src/core/mapped.ts';
import { poolBlock, verifyChain, issueCert, ChainError } from '../../src/core/cert.ts';
import { allocateBlock, initialAllocState } from '../../src/core/alloc.ts';
import { formatPrefix4, parseIPv4, parsePrefix4, prefix4Contains, type Prefix4 } from '../../src/core/ip.ts';
import { networkId } from '../../src/core/network.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh, joinInMemory, makeIdentity } from '../support/mesh.ts';

const T0 = 1_700_000_000_000;
const POOL = parsePrefix4('100.64.0.0/10')!;
const req = (id: string, prefix: string): MapRequest => ({ id, prefix, len: parsePrefix4(prefix)!.len });
const blockOf = (m: Map<string, { mappedTo: string } | { refused: string }>, id: string, prefix: string) => {
  const r = m.get(mapKey(id, prefix));
  if (!r || !('mappedTo' in r)) throw new Error(`${id} ${prefix}: ${JSON.stringify(r)}`);
  return parsePrefix4(r.mappedTo)!;
};

test('the region is block 15 of the pool (cert.ts poolBlock), for any pool length', () => {
  for (const pool of ['100.64.0.0/10', '100.80.0.0/12', '10.0.0.0/16', '198.18.0.0/24']) {
    const p = parsePrefix4(pool)!;
    assert.equal(mappedRegion(p), poolBlock(p, 15), pool);
  }
});

test('blocks are the prefix\'s size, inside the region, pairwise disjoint', () => {
  const region = mappedRegion(POOL);
  const reqs = Array.from({ length: 300 }, (_, i) => req(i.toString(16).padStart(16, '0'), i % 15 ? '192.168.1.0/24' : '10.0.0.0/20'));
  const m = assignMappedBlocks(reqs, POOL, []);
  const blocks: Prefix4[] = reqs.map((r) => blockOf(m, r.id, r.prefix));
  for (const [i, b] of blocks.entries()) {
    assert.is(b.len, reqs[i]!.len);
    assert.ok(prefix4Contains(region, b.base) && prefix4Contains(region, b.base + 2 ** (32 - b.len) - 1), formatPrefix4(b));
  }
  const ranges = blocks.map((b) => [b.base, b.base + 2 ** (32 - b.len) - 1] as const).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i]![0] > ranges[i - 1]![1], 'disjoint');
});

test('a newcomer of the same width, appended in certificate order, never moves an older block', () => {
  const reqs = Array.from({ length: 200 }, (_, i) => req(i.toString(16).padStart(16, '0'), '192.168.1.0/24'));
  const before = assignMappedBlocks(reqs, POOL, []);
  const after = assignMappedBlocks([...reqs, req('ffff000000000000', '192.168.1.0/24'), req('ffff000000000001', '192.168.0.0/25')], POOL, []);
  for (const r of reqs) assert.equal(after.get(mapKey(r.id, r.prefix)), before.get(mapKey(r.id, r.prefix)));
});

test('bounds: too wide, per member, a full region, a region holding members', () => {
  const m = assignMappedBlocks([req('aa', '10.0.0.0/16'), ...Array.from({ length: MAX_MAPPED_PER_MEMBER + 1 }, (_, i) => req('bb', `10.${i}.0.0/24`))], POOL, []);
  assert.match(JSON.stringify(m.get(mapKey('aa', '10.0.0.0/16'))), /wider than \/20/);
  assert.match(JSON.stringify(m.get(mapKey('bb', `10.${MAX_MAPPED_PER_MEMBER}.0.0/24`))), /already has/);
  const small = parsePrefix4('198.18.0.0/16')!; // region /20: 16 blocks of /24
  const full = assignMappedBlocks(Array.from({ length: 17 }, (_, i) => req(`m${i}`, '192.168.1.0/24')), small, []);
  assert.is([...full.values()].filter((r) => 'mappedTo' in r).length, 16);
  assert.match(JSON.stringify(full.get(mapKey('m16', '192.168.1.0/24'))), /is full/);
  const blocked = assignMappedBlocks([req('aa', '192.168.1.0/24')], POOL, [mappedRegion(POOL).base + 9]);
  assert.match(JSON.stringify(blocked.get(mapKey('aa', '192.168.1.0/24'))), /holds members' addresses/);
});

test('the founder delegates blocks 1..14 only; a chain whose admin holds block 15 of the network pool is refused', () => {
  let st = initialAllocState(1);
  const got: number[] = [];
  for (let b = allocateBlock(POOL, st, POOL); b; b = allocateBlock(POOL, st, POOL)) { got.push((b.pool.base - POOL.base) / 2 ** (32 - b.pool.len)); st = b.state; }
  assert.equal(got, Array.from({ length: 14 }, (_, i) => i + 1));
  const sub = poolBlock(POOL, 3);
  assert.ok(allocateBlock(sub, { nextSingle: 1, nextBlock: 15 }, POOL), 'an admin\'s own pool still delegates its block 15');

  const rnd = seededBytes(3);
  const mesh = foundMesh(rnd, { name: 'm', nowMs: T0 });
  const admin = joinInMemory(rnd, mesh, mesh.founder, { name: 'adm', admin: true, nowMs: T0 + 1 }).member!;
  assert.ok(admin.chain[0]!.pool, 'an admin gets a pool');
  const f = mesh.founder;
  const who = makeIdentity(rnd);
  const region = mappedRegion(mesh.network.params.ipv4Pool);
  const forged = issueCert({
    networkId: networkId(mesh.network.params.networkPub), name: 'sly', signPub: who.sign.publicKey, wgPub: who.wgPub, ipv4: parseIPv4('100.64.0.77')!,
    admin: true, pool: region, issuedAtMs: T0 + 2, expiresAtMs: 0, issuerPub: f.identity.sign.publicKey,
  }, f.identity.sign);
  try {
    verifyChain([forged, ...f.chain], mesh.network.params, T0 + 3);
    assert.unreachable('accepted');
  } catch (e) {
    assert.instance(e, ChainError);
    assert.match((e as Error).message, /mapped region/);
  }
});

test.run();
