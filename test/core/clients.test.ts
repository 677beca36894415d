// Routed client blocks (src/core/clients.ts): derived 1:1 from members'
// addresses, never holding a member's address, and only the owner's clients
// reach other members' WireGuard peers (a member cannot route another's block).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { clientBlockOf, freeClientAddress, ownClients, singlesBlockOf, MAX_CLIENTS } from '../../src/core/clients.ts';
import { allocateBlock, allocateSingle, initialAllocState, PoolExhaustedError } from '../../src/core/alloc.ts';
import { decodeRecord, encodeRecord, type RecordBody } from '../../src/core/record.ts';
import { computeNetmap } from '../../src/core/netmap.ts';
import { formatIPv4, formatPrefix4, parseIPv4, parsePrefix4, prefix4Contains, type Prefix4 } from '../../src/core/ip.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh, issueMember, joinInMemory } from '../support/mesh.ts';

const T0 = 1_700_000_000_000;
const POOL = parsePrefix4('100.64.0.0/10')!;
const ip = (s: string) => parseIPv4(s)!;

test('the founder and its first members get consecutive /28s in the upper half of block 0', () => {
  assert.is(formatPrefix4(singlesBlockOf(ip('100.64.0.1'), POOL)!), '100.64.0.0/14');
  assert.is(formatPrefix4(clientBlockOf(ip('100.64.0.1'), POOL)!), '100.66.0.16/28');
  assert.is(formatPrefix4(clientBlockOf(ip('100.64.0.2'), POOL)!), '100.66.0.32/28');
  // An admin's members (block 1 of the pool is the first admin's pool, its block 0 a /18).
  assert.is(formatPrefix4(singlesBlockOf(ip('100.68.0.5'), POOL)!), '100.68.0.0/18');
  assert.is(formatPrefix4(clientBlockOf(ip('100.68.0.5'), POOL)!), '100.68.32.80/28');
  assert.is(clientBlockOf(ip('10.0.0.1'), POOL), null, 'outside the pool');
  assert.is(clientBlockOf(ip('100.64.0.0'), POOL), null, 'offset 0 is no member');
  assert.is(clientBlockOf(ip('100.66.0.1'), POOL), null, 'an address in the reserved half has no block');
});

/** Every member address the allocators can hand out, down three levels of delegation, in a small pool. */
function allMembers(pool: Prefix4): number[] {
  const out: number[] = [];
  const walk = (p: Prefix4, depth: number) => {
    let st = initialAllocState(1);
    for (;;) {
      try { const r = allocateSingle(p, st); out.push(r.ipv4); st = r.state; } catch (e) { if (e instanceof PoolExhaustedError) break; throw e; }
    }
    if (depth === 0) return;
    for (;;) { const b = allocateBlock(p, st); if (!b) break; st = b.state; walk(b.pool, depth - 1); }
  };
  walk(pool, 2);
  return out;
}

test('/16 pool: block map is 1:1, blocks are disjoint, and no block holds any member address', () => {
  const pool = parsePrefix4('10.77.0.0/16')!;
  const members = allMembers(pool);
  assert.ok(members.length > 2000, `${members.length} members`);
  const memberSet = new Set(members);
  const blocks = new Map<number, number>();
  let withBlock = 0;
  for (const m of members) {
    const b = clientBlockOf(m, pool);
    if (!b) continue;
    withBlock++;
    assert.ok(prefix4Contains(pool, b.base), 'inside the pool');
    assert.is(blocks.has(b.base), false, `block ${formatPrefix4(b)} given twice`);
    blocks.set(b.base, m);
    for (let i = 0; i < 16; i++) assert.is(memberSet.has(b.base + i), false, `${formatIPv4(b.base + i)} is both a member and a client address`);
  }
  assert.ok(withBlock >= 127, `${withBlock} members with a block`); // the founder's first 127 at least
  assert.is(clientBlockOf(ip('10.77.0.127'), pool) !== null, true);
  assert.is(clientBlockOf(ip('10.77.0.128'), pool), null, 'beyond 16·o < |B|/2');
});

test('a /24 pool has no client blocks and keeps all of block 0 for members', () => {
  const pool = parsePrefix4('192.0.2.0/24')!;
  assert.is(clientBlockOf(ip('192.0.2.1'), pool), null);
  let st = initialAllocState(1);
  let n = 0;
  for (;;) { try { st = allocateSingle(pool, st).state; n++; } catch { break; } }
  assert.is(n, 15);
});

test('free addresses skip .0, .255 and the taken ones; a full block says so', () => {
  const b = parsePrefix4('100.66.0.0/28')!;
  assert.is(freeClientAddress(b, []), '100.66.0.1');
  assert.is(freeClientAddress(parsePrefix4('100.66.0.240/28')!, Array.from({ length: 14 }, (_, i) => `100.66.0.${240 + i}`)), '100.66.0.254');
  const all = Array.from({ length: 16 }, (_, i) => `100.66.0.${i}`);
  assert.is(freeClientAddress(b, all), null);
});

test('ownClients keeps only addresses in the advertiser\'s block, once, at most MAX_CLIENTS', () => {
  const mine = ip('100.64.0.2');
  assert.equal(ownClients(['100.66.0.33', '100.66.0.16', '100.66.0.33', 'junk', '100.64.0.1', '10.0.0.1'], mine, POOL), ['100.66.0.33']);
  assert.equal(ownClients(undefined, mine, POOL), []);
  assert.ok(MAX_CLIENTS === 16);
});

test('records carry clients (absent when none, so older records decode alike); the netmap routes only the owner\'s', () => {
  const rnd = seededBytes(7);
  const mesh = foundMesh(rnd, { name: 'cl', nowMs: T0 });
  const a = issueMember(rnd, mesh, 'a', T0); // 100.64.0.2
  const b = issueMember(rnd, mesh, 'b', T0); // 100.64.0.3
  const body = (clients?: string[]): RecordBody => ({ seq: T0, endpoints: [{ kind: 'configured', host: '192.0.2.9', port: 51820 }], links: [], subnets: [], relay: true, exitCapacityMbit: 0, services: [], ...(clients ? { clients } : {}) });
  const none = encodeRecord(body(), a.chain, a.identity.sign);
  assert.is(decodeRecord(none.bytes).clients, undefined);
  assert.is(encodeRecord(body([]), a.chain, a.identity.sign).bytes.length, none.bytes.length);
  // b claims an address of a's block next to its own.
  const recA = encodeRecord(body(['100.66.0.33']), a.chain, a.identity.sign);
  const recB = encodeRecord(body(['100.66.0.49', '100.66.0.34']), b.chain, b.identity.sign);
  assert.equal(decodeRecord(recB.bytes).clients, ['100.66.0.49', '100.66.0.34']);
  const f = mesh.founder;
  const recF = encodeRecord(body(), f.chain, f.identity.sign);
  const recs = new Map([recA, recB, recF].map((r) => [r.id, decodeRecord(r.bytes)]));
  const nm = computeNetmap(recF.id, recs, mesh.network.params);
  const peerA = nm.peers.find((p) => p.publicKey === toBase64(a.identity.wgPub))!;
  const peerB = nm.peers.find((p) => p.publicKey === toBase64(b.identity.wgPub))!;
  assert.ok(peerA.allowedIPs.includes('100.66.0.33/32'));
  assert.ok(peerA.allowedIPs.some((x) => x.endsWith(':6442:21/128')), peerA.allowedIPs.join());
  assert.ok(peerB.allowedIPs.includes('100.66.0.49/32'));
  assert.is(peerB.allowedIPs.includes('100.66.0.34/32'), false, 'b cannot route an address of a\'s block');
  assert.equal(nm.nodes.find((n) => n.name === 'b')!.clients, ['100.66.0.49']);
});

test('an admitted member under an admin gets the block of its own address', () => {
  const rnd = seededBytes(9);
  const mesh = foundMesh(rnd, { name: 'cl', nowMs: T0 });
  const admin = joinInMemory(rnd, mesh, mesh.founder, { name: 'admin', admin: true, nowMs: T0 }).member!;
  const m = joinInMemory(rnd, mesh, admin, { name: 'm', nowMs: T0 }).member!;
  const block = clientBlockOf(m.chain[0]!.ipv4, mesh.network.params.ipv4Pool)!;
  assert.ok(block);
  assert.ok(prefix4Contains(singlesBlockOf(m.chain[0]!.ipv4, POOL)!, block.base));
  assert.ok(prefix4Contains(admin.chain[0]!.pool!, block.base), 'inside its issuer\'s pool');
});

test.run();
