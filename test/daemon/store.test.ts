// StateStore: serialised read-modify-write of the durable state, published
// only after the write, a failing change or write failing only its caller.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StateStore } from '../../src/daemon/store.ts';
import type { DurableState } from '../../src/daemon/state.ts';
import { MemFs } from '../support/fake-platform.ts';

const base = (): DurableState => ({ version: 1, signSeed: 'c2VlZA==', wgPrivate: 'd2c=', membership: null, services: [] });
const withService = (name: string) => (cur: DurableState): DurableState => ({ ...cur, services: [...(cur.services ?? []), { name, port: 80, proto: 'tcp', type: '' }] });
const tick = () => new Promise<void>((r) => setImmediate(r));

test('concurrent changes run one at a time, in order, each on the state the previous one left', async () => {
  const written: string[][] = [];
  let inWrite = 0;
  let overlap = 0;
  const store = new StateStore(base(), async (s) => {
    inWrite++;
    if (inWrite > 1) overlap++;
    await tick(); await tick();
    written.push((s.services ?? []).map((x) => x.name));
    inWrite--;
  });
  const slow = (name: string) => async (cur: DurableState) => { await tick(); return withService(name)(cur); };
  const results = await Promise.all(['a', 'b', 'c', 'd'].map((n, i) => store.update(i % 2 ? slow(n) : withService(n))));
  assert.equal(store.get().services?.map((x) => x.name), ['a', 'b', 'c', 'd']);
  assert.equal(written, [['a'], ['a', 'b'], ['a', 'b', 'c'], ['a', 'b', 'c', 'd']]);
  assert.is(overlap, 0, 'writes never overlap');
  assert.equal(results.map((r) => r.services?.length), [1, 2, 3, 4]);
});

test('the new state is published only after it is written', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const store = new StateStore(base(), () => gate);
  const p = store.update(withService('a'));
  await tick();
  assert.equal(store.get().services, [], 'not visible while the write is in flight');
  release();
  await p;
  assert.equal(store.get().services?.map((x) => x.name), ['a']);
});

test('a throwing change or a failed write leaves the state unchanged and fails only its caller', async () => {
  let failNext = false;
  const store = new StateStore(base(), async () => { if (failNext) { failNext = false; throw new Error('ENOSPC'); } });
  const a = store.update(withService('a'));
  const bad = store.update(() => { throw new Error('refused'); });
  const b = store.update(withService('b'));
  await a;
  await bad.then(() => assert.unreachable('a throwing change resolved'), (e: Error) => assert.is(e.message, 'refused'));
  await b;
  assert.equal(store.get().services?.map((x) => x.name), ['a', 'b']);
  failNext = true;
  await store.update(withService('c')).then(() => assert.unreachable('a failed write resolved'), (e: Error) => assert.is(e.message, 'ENOSPC'));
  assert.equal(store.get().services?.map((x) => x.name), ['a', 'b']);
  await store.update(withService('d'));
  assert.equal(store.get().services?.map((x) => x.name), ['a', 'b', 'd']);
});

test('an unchanged result writes nothing; the published state is frozen', async () => {
  let writes = 0;
  const store = new StateStore(base(), async () => { writes++; });
  await store.update(() => null);
  await store.update((cur) => cur);
  assert.is(writes, 0);
  await store.update(withService('a'));
  assert.is(writes, 1);
  const s = store.get();
  assert.ok(Object.isFrozen(s) && Object.isFrozen(s.services) && Object.isFrozen(s.services![0]));
  assert.throws(() => { (s.services as unknown[]).push(1); });
});

test('open: creates state.json (0600) when missing, reads it when present, and keeps a corrupt one', async () => {
  const fs = new MemFs();
  await fs.mkdirp('/etc/kith', 0o700);
  const first = await StateStore.open(fs, '/etc/kith', base);
  assert.is(first.created, true);
  assert.is((await fs.stat('/etc/kith/state.json'))?.mode, 0o600);
  await first.store.update(withService('web'));
  const second = await StateStore.open(fs, '/etc/kith', () => assert.unreachable('fresh state made although one exists') as never);
  assert.is(second.created, false);
  assert.equal(second.store.get().services?.map((x) => x.name), ['web']);
  fs.writeText('/etc/kith/state.json', '{"version":1,');
  try {
    await StateStore.open(fs, '/etc/kith', base);
    assert.unreachable('a corrupt state.json was accepted');
  } catch (e) {
    assert.match((e as Error).message, /not valid JSON.*refusing to overwrite/);
  }
  assert.is(fs.text('/etc/kith/state.json'), '{"version":1,');
});

test.run();
