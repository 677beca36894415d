// Section addressing (@type[i], cfgNNHHHH), uci show/get rendering, and edits
// with uci's semantics.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  anonymousName, findSection, parseUci, parseUciKey, resolveTypeIndex, serializeUci, showUci, uciAddList, uciAddSection,
  uciDelete, uciDelList, uciGet, uciRename, uciReorder, uciSet, uciShow,
} from '../../src/uci/index.ts';

const FILE = "config peer 'first'\n\toption n 1\nconfig peer\n\toption n 2\nconfig iface lan\nconfig peer\n\toption n 3\n\tlist l 'a b'\n\tlist l c\n\tlist l ''\n";

test('@type[i] counts named sections too; negative indices count from the end', () => {
  const pkg = parseUci(FILE);
  const cases: [string, number | null][] = [
    ['@peer[0]', 0], ['@peer[1]', 1], ['@peer[2]', 3], ['@peer[3]', -1], ['@peer[-1]', 3], ['@peer[-3]', 0], ['@peer[-4]', -1],
    ['@iface[0]', 2], ['@[2]', 2], ['@[-1]', 3], ['@peer[]', 0], ['@peer[+1]', 1], ['@nosuch[0]', -1],
    ['@peer[x]', null], ['@peer[1]x', null], ['@peer', null], ['peer[0]', null], ['@a b[0]', null],
  ];
  for (const [ref, want] of cases) assert.is(resolveTypeIndex(pkg, ref), want, ref);
});

test('anonymous names are cfg + counter + djb2 of the type, as uci generates them', () => {
  assert.is(anonymousName(1, 'peer'), 'cfg013511');
  assert.is(anonymousName(3, 'route'), 'cfg03c8b4');
  assert.is(anonymousName(0x123, 'peer'), 'cfg1233511');
  const pkg = parseUci(FILE);
  assert.is(findSection(pkg, 'cfg023511'), 1);
  assert.is(findSection(pkg, 'cfg043511'), 3);
  assert.is(findSection(pkg, 'lan'), 2);
  assert.is(findSection(pkg, '@peer[-1]'), 3);
  assert.is(findSection(pkg, 'nosuch'), -1);
});

test('uci show: @type[i] refs, or real names with -X; lists quoted item by item', () => {
  const pkg = parseUci(FILE);
  const lines = "kith.first=peer\nkith.first.n='1'\nkith.@peer[1]=peer\nkith.@peer[1].n='2'\nkith.lan=iface\nkith.@peer[2]=peer\nkith.@peer[2].n='3'\nkith.@peer[2].l='a b' 'c' ''\n";
  assert.is(showUci(pkg, 'kith'), lines);
  assert.is(showUci(pkg, 'kith', { realNames: true }), lines.replaceAll('@peer[1]', 'cfg023511').replaceAll('@peer[2]', 'cfg043511'));
  assert.equal(uciShow(pkg, 'kith', 'kith.@peer[1]'), { ok: true, out: "kith.cfg023511=peer\nkith.cfg023511.n='2'\n" });
  assert.equal(uciShow(pkg, 'kith', 'kith.@peer[-1].l'), { ok: true, out: "kith.cfg043511.l='a b' 'c' ''\n" });
});

test('uci get: raw strings, list items quoted only with whitespace, section types, errors', () => {
  const pkg = parseUci(FILE);
  const cases: [string, ReturnType<typeof uciGet>][] = [
    ['kith.first.n', { ok: true, out: '1\n' }],
    ['kith.@peer[2].l', { ok: true, out: "'a b' c \n" }],
    ['kith.lan', { ok: true, out: 'iface\n' }],
    ['kith.@iface[0]', { ok: true, out: 'iface\n' }],
    ['kith', { ok: true, out: '' }],
    ['kith.lan.nosuch', { ok: false, error: 'Entry not found' }],
    ['kith.nosuch', { ok: false, error: 'Entry not found' }],
    ['other.lan', { ok: false, error: 'Entry not found' }],
    ['kith.@peer[9].n', { ok: false, error: 'Entry not found' }],
    ['kith.a.b.c', { ok: false, error: 'Parse error' }],
    ['kith.lan.bad-opt', { ok: false, error: 'Parse error' }],
    ['kith.@peer', { ok: false, error: 'Invalid argument' }],
    ['kith.lan=x', { ok: false, error: null }],
  ];
  for (const [key, want] of cases) assert.equal(uciGet(pkg, 'kith', key), want, key);
});

test('parseUciKey splits like uci_parse_ptr', () => {
  assert.equal(parseUciKey('kith.@peer[0].n=a=b'), { package: 'kith', section: '@peer[0]', option: 'n', value: 'a=b', extended: true });
  assert.equal(parseUciKey('kith.main'), { package: 'kith', section: 'main', extended: false });
  assert.is(parseUciKey('kith.m.a=x\x01'), null, 'control characters in values');
  assert.is(parseUciKey('bad pkg.m'), null);
});

test('set: new option last, overwrite in place, list becomes string, empty deletes, no-op detected', () => {
  const pkg = parseUci("config main m\n\toption a 1\n\tlist l x\n\toption z 2\n");
  assert.equal(uciSet(pkg, 'kith', 'kith.m.new', 'v'), { ok: true, changed: true });
  assert.equal(uciSet(pkg, 'kith', 'kith.m.l', 'y'), { ok: true, changed: true });
  assert.equal(uciSet(pkg, 'kith', 'kith.m.a', '1'), { ok: true, changed: false });
  assert.equal(uciSet(pkg, 'kith', 'kith.m.z', ''), { ok: true, changed: true });
  assert.equal(uciSet(pkg, 'kith', 'kith.m.gone', ''), { ok: true, changed: false });
  assert.equal([...pkg.sections[0]!.options], [['a', '1'], ['l', 'y'], ['new', 'v']]);
  assert.equal(uciSet(pkg, 'kith', 'kith.nosuch.a', '1'), { ok: false, error: 'Invalid argument' });
  assert.equal(uciSet(pkg, 'kith', 'kith.m.bad-name', '1'), { ok: false, error: 'Parse error' });
});

test('set on a section: creates a named one, changes the type, refuses bad types', () => {
  const pkg = parseUci('config main m\n');
  assert.equal(uciSet(pkg, 'kith', 'kith.wg0', 'interface'), { ok: true, changed: true });
  assert.equal(uciSet(pkg, 'kith', 'kith.m', 'other'), { ok: true, changed: true });
  assert.equal(uciSet(pkg, 'kith', 'kith.m', 'bad type'), { ok: false, error: 'Invalid argument' });
  assert.equal(uciSet(pkg, 'kith', 'kith.@x[3]', 't'), { ok: false, error: 'Invalid argument' });
  assert.is(serializeUci(pkg), "\nconfig other 'm'\n\nconfig interface 'wg0'\n\n");
});

test('add, add_list, del_list, delete by index, rename, reorder', () => {
  const pkg = parseUci("config main m\n\toption s one\n\tlist l x\n\tlist l y\n\tlist l x\n");
  assert.equal(uciAddSection(pkg, 'peer'), { ok: true, name: 'cfg023511' });
  assert.equal(uciAddSection(pkg, 'bad type'), { ok: false, error: 'Invalid argument' });
  assert.equal(uciAddList(pkg, 'kith', 'kith.m.s', 'two'), { ok: true, changed: true });
  assert.equal(uciDelList(pkg, 'kith', 'kith.m.l', 'x'), { ok: true, changed: true });
  assert.equal(uciDelList(pkg, 'kith', 'kith.m.l', 'nope'), { ok: true, changed: false });
  assert.equal(uciAddList(pkg, 'kith', 'kith.@peer[0].allowed', '10.0.0.0/8'), { ok: true, changed: true });
  assert.equal(uciDelete(pkg, 'kith', 'kith.m.s', 0), { ok: true, changed: true });
  assert.equal(uciRename(pkg, 'kith', 'kith.@peer[-1]', 'p1'), { ok: true, changed: true });
  assert.equal(uciRename(pkg, 'kith', 'kith.p1', 'm'), { ok: false, error: 'Invalid argument' });
  assert.equal(uciRename(pkg, 'kith', 'kith.m.l', 'bad-name'), { ok: false, error: 'Invalid argument' });
  assert.equal(uciReorder(pkg, 'kith', 'kith.p1', 0), { ok: true, changed: true });
  assert.equal(uciDelete(pkg, 'kith', 'kith.nosuch'), { ok: false, error: 'Entry not found' });
  assert.is(serializeUci(pkg), "\nconfig peer 'p1'\n\tlist allowed '10.0.0.0/8'\n\nconfig main 'm'\n\tlist s 'two'\n\tlist l 'y'\n\n");
  assert.equal(uciDelList(pkg, 'kith', 'kith.m.l', 'y'), { ok: true, changed: true });
  assert.is(pkg.sections[1]!.options.has('l'), false, 'a list left empty is removed');
  assert.equal(uciDelete(pkg, 'kith', 'kith.m'), { ok: true, changed: true });
  assert.is(pkg.sections.length, 1);
});

test.run();
