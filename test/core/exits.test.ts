// Exit choice (src/core/exits.ts): capacity-weighted rendezvous hashing,
// stickiness while healthy, health from exit pings, relayed donors skipped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EXIT_DEAD_MS, EXIT_NONCE_BIT, EXIT_PING_INTERVAL_MS, Exits, rendezvousPick, withExit, type ExitOfferView } from '../../src/core/exits.ts';
import type { Netmap, NetNode } from '../../src/core/netmap.ts';
import type { NodeRecord } from '../../src/core/record.ts';
import { toHex } from '../../src/core/bytes.ts';
import { seededBytes } from '../support/rand.ts';

const ids = (n: number, seed: number) => { const r = seededBytes(seed); return Array.from({ length: n }, () => toHex(r(8))); };

function spread(users: string[], donors: Map<string, number>): Map<string, number> {
  const count = new Map<string, number>([...donors.keys()].map((d) => [d, 0]));
  for (const u of users) { const d = rendezvousPick(u, donors)!; count.set(d, count.get(d)! + 1); }
  return count;
}

test('100 and 50 Mbit/s donors: about two thirds of many users land on the first', () => {
  const [a, b] = ids(2, 1);
  const donors = new Map([[a!, 100], [b!, 50]]);
  const users = ids(6000, 2);
  const share = spread(users, donors).get(a!)! / users.length;
  assert.ok(share > 0.64 && share < 0.69, `share on the 100 Mbit/s donor ${share.toFixed(3)}`);
  // The 30-user spread, reported (the figure README quotes).
  const s30 = spread(ids(30, 3), donors);
  console.log(`exit spread, 30 users over 100/50 Mbit/s donors: ${s30.get(a!)} / ${s30.get(b!)}`);
  assert.is(s30.get(a!)! + s30.get(b!)!, 30);
});

test('equal capacities spread evenly over three donors', () => {
  const ds = ids(3, 4);
  const c = spread(ids(3000, 5), new Map(ds.map((d) => [d, 10])));
  for (const d of ds) assert.ok(Math.abs(c.get(d)! - 1000) < 110, `${d}: ${c.get(d)}`);
});

test('a donor that goes moves only its own users; one that comes takes users only for itself', () => {
  const ds = ids(4, 6);
  const full = new Map(ds.map((d, i) => [d, 25 * (i + 1)]));
  const users = ids(500, 7);
  const before = new Map(users.map((u) => [u, rendezvousPick(u, full)!]));
  const gone = ds[2]!;
  const less = new Map([...full].filter(([d]) => d !== gone));
  let moved = 0;
  for (const u of users) {
    const after = rendezvousPick(u, less)!;
    if (before.get(u) !== gone) assert.is(after, before.get(u), `user ${u} moved off a live donor`);
    else moved++;
  }
  assert.ok(moved > 0, 'some users were on the donor that went');
  const newcomer = ids(1, 8)[0]!;
  for (const u of users) {
    const after = rendezvousPick(u, new Map([...full, [newcomer, 50]]))!;
    assert.ok(after === before.get(u) || after === newcomer);
  }
});

test('rendezvousPick: no donors or zero capacity gives null', () => {
  assert.is(rendezvousPick('aa', new Map()), null);
  assert.is(rendezvousPick('aa', new Map([['bb', 0]])), null);
});

// A small world for the Exits class: this node plus donors, given paths.
function world(self: string, donors: { id: string; name: string; cap: number; path: NetNode['path'] }[]) {
  const node = (id: string, name: string, path: NetNode['path']): NetNode => ({
    id, name, ipv4: `100.64.0.${donors.findIndex((d) => d.id === id) + 2}`, ipv6: '', transport: '', wgPub: `key-${name}`, endpoints: [], subnets: [], services: [],
    relay: true, issuedAtMs: 0, path, via: path === 'relayed' ? 'hub' : null, clients: [], mapped: [],
  });
  const nodes = [node(self, 'me', 'self'), ...donors.map((d) => node(d.id, d.name, d.path))];
  const nm = { self: nodes[0]!, nodes, peers: nodes.slice(1).map((n) => ({ publicKey: n.wgPub, endpoint: null, allowedIPs: [`${n.ipv4}/32`], keepaliveSec: 25 })),
    e2ePeers: [], relayedHosts: [], routes: [], refused: [] } as Netmap;
  const records = donors.map((d) => ({ id: d.id, exitCapacityMbit: d.cap }) as NodeRecord);
  return { nm, records, ipv4Of: (id: string) => nodes.find((n) => n.id === id)?.ipv4 };
}

/** Runs exit ticks from t0 to t1 every 100 ms; `answers(id, t)` says whether donor id answers pings sent at t. */
function run(ex: Exits, w: ReturnType<typeof world>, t0: number, t1: number, answers: (id: string, t: number) => boolean): { first: Map<string, number> } {
  const first = new Map<string, number>();
  for (let t = t0; t < t1; t += 100) {
    const offers: ExitOfferView[] = ex.offers(w.records, w.nm, t);
    const r = ex.tick(offers, w.ipv4Of, t);
    for (const p of r.pings) {
      const id = w.nm.nodes.find((n) => n.ipv4 === p.to)!.id;
      if (answers(id, t)) ex.pong(p.nonce, id, t + 20);
    }
    if (ex.chosen && !first.has(ex.chosen)) first.set(ex.chosen, t);
  }
  return { first };
}

test('auto: picks a healthy direct donor, skips a relayed one with the reason, and sticks', () => {
  const [me, a, b, c] = ids(4, 9);
  const w = world(me!, [{ id: a!, name: 'alpha', cap: 100, path: 'direct' }, { id: b!, name: 'beta', cap: 50, path: 'direct' }, { id: c!, name: 'gamma', cap: 10_000, path: 'relayed' }]);
  const ex = new Exits(me!);
  ex.use = 'auto';
  run(ex, w, 0, 2000, () => true);
  const expected = rendezvousPick(me!, new Map([[a!, 100], [b!, 50]]));
  assert.is(ex.chosen, expected);
  const gamma = ex.offers(w.records, w.nm, 2000).find((o) => o.name === 'gamma')!;
  assert.match(gamma.skipped!, /relayed via hub: not directly reachable/);
  assert.is(gamma.chosen, false);
  // Sticky: a newcomer with a far higher score does not take this user while its donor is healthy.
  const [d] = ids(1, 10);
  w.records.push({ id: d!, exitCapacityMbit: 100_000 } as NodeRecord);
  w.nm.nodes.push({ ...w.nm.nodes[1]!, id: d!, name: 'delta', ipv4: '100.64.0.99', wgPub: 'key-delta' });
  run(ex, w, 2000, 4000, () => true);
  assert.is(ex.chosen, expected);
});

test('auto: when the chosen donor stops answering, the user moves within EXIT_DEAD_MS plus a ping interval', () => {
  const [me, a, b] = ids(3, 11);
  const w = world(me!, [{ id: a!, name: 'alpha', cap: 100, path: 'direct' }, { id: b!, name: 'beta', cap: 100, path: 'direct' }]);
  const ex = new Exits(me!);
  ex.use = 'auto';
  run(ex, w, 0, 1000, () => true);
  const was = ex.chosen!;
  const other = was === a ? b! : a!;
  const deathMs = 1000;
  let movedAt = -1;
  for (let t = deathMs; t < 6000 && movedAt < 0; t += 100) {
    run(ex, w, t, t + 100, (id) => id !== was);
    if (ex.chosen === other) movedAt = t + 100;
  }
  assert.ok(movedAt > 0, 'moved to the other donor');
  assert.ok(movedAt - deathMs <= EXIT_DEAD_MS + EXIT_PING_INTERVAL_MS + 200, `moved after ${movedAt - deathMs} ms`);
  // It stays on the new donor when the old one comes back (sticky).
  run(ex, w, movedAt, movedAt + 3000, () => true);
  assert.is(ex.chosen, other);
});

test('a named donor: used while healthy, none while it is dead (no silent fallback); off chooses nothing', () => {
  const [me, a, b] = ids(3, 12);
  const w = world(me!, [{ id: a!, name: 'alpha', cap: 10, path: 'direct' }, { id: b!, name: 'beta', cap: 1000, path: 'direct' }]);
  const ex = new Exits(me!);
  ex.use = { node: 'alpha' };
  run(ex, w, 0, 1000, () => true);
  assert.is(ex.chosen, a);
  run(ex, w, 1000, 4000, (id) => id !== a);
  assert.is(ex.chosen, null);
  ex.use = null;
  run(ex, w, 4000, 5000, () => true);
  assert.is(ex.chosen, null);
});

test('pongs: only exit nonces are taken, and only from the donor pinged', () => {
  const ex = new Exits('00');
  assert.is(ex.pong(5, 'aa', 0), false, 'an RTT nonce is left to rtt.ts');
  assert.is(ex.pong((EXIT_NONCE_BIT | 7) >>> 0, 'aa', 0), true);
  assert.is(ex.healthy('aa', 0), false, 'an unknown nonce makes nothing healthy');
});

test('withExit puts 0.0.0.0/0 on the chosen direct donor only', () => {
  const [me, a, b] = ids(3, 13);
  const w = world(me!, [{ id: a!, name: 'alpha', cap: 10, path: 'direct' }, { id: b!, name: 'beta', cap: 10, path: 'relayed' }]);
  const nm = withExit(w.nm, a!);
  assert.equal(nm.exit, { node: a!, name: 'alpha', ipv4: w.ipv4Of(a!)! });
  assert.ok(nm.peers.find((p) => p.publicKey === 'key-alpha')!.allowedIPs.includes('0.0.0.0/0'));
  assert.not.ok(nm.peers.find((p) => p.publicKey === 'key-beta')!.allowedIPs.includes('0.0.0.0/0'));
  assert.is(withExit(w.nm, b!).exit, null, 'a relayed donor is never the exit');
  assert.not.ok(w.nm.peers.some((p) => p.allowedIPs.includes('0.0.0.0/0')), 'the input netmap is not changed');
});

test.run();
