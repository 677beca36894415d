/// <reference types="node" />
// luci-app-kith, statically: the menu and ACL files, the ubus methods the
// views declare against kithd's ubus object and the ACL, the views'
// syntax as luci.js compiles them, the config page's option names against the
// settings schema, and user-visible strings wrapped in _().
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import { METHODS } from '../../src/daemon/methods.ts';
import {
  ACL_FILE, compileView, declaredCalls, LUCI_APP, loadView, MENU_FILE, requiresOf, ROOT, VIEW_DIR, viewSource,
} from './support.ts';

const VIEWS = ['overview', 'join', 'invite', 'members', 'uplink', 'devices', 'config'];
const PAGES: Record<string, string> = { overview: 'Overview', join: 'Join / Create', invite: 'Invite', members: 'Members', uplink: 'Uplink', devices: 'Devices', config: 'Settings' };
/** The kith methods that only report (the method table's entries without `write`): read ACL, no reject. */
const READ_ONLY = new Set(METHODS.filter((m) => !m.write).map((m) => m.ubus ?? m.api));

interface MenuNode { title?: string; order?: number; action?: { type: string; path?: string }; depends?: { acl?: string[]; uci?: Record<string, boolean> } }
interface AclPart { ubus?: Record<string, string[]>; uci?: string[] }
type Acl = Record<string, { description?: string; read?: AclPart; write?: AclPart }>;

const menu = JSON.parse(readFileSync(MENU_FILE, 'utf8')) as Record<string, MenuNode>;
const acl = JSON.parse(readFileSync(ACL_FILE, 'utf8')) as Acl;

/** The kith ubus object's methods (the method table, src/daemon/methods.ts): ubus method → argument names. */
function ubusMethods(): Map<string, string[]> {
  return new Map(METHODS.map((m) => [m.ubus ?? m.api, Object.keys(m.args)]));
}

const COMMON = readFileSync(join(LUCI_APP, 'htdocs/luci-static/resources/kith/common.js'), 'utf8');
const declared = [
  ...VIEWS.flatMap((v) => declaredCalls(viewSource(v)).map((d) => ({ ...d, view: v }))),
  ...declaredCalls(COMMON).map((d) => ({ ...d, view: 'kith/common' })),
];

test('menu.d: Services → Kith aliases its Overview; every page is a view that exists', () => {
  assert.equal(Object.keys(menu).sort(), ['admin/services/kith', ...VIEWS.map((v) => `admin/services/kith/${v}`)].sort());
  const top = menu['admin/services/kith']!;
  assert.is(top.title, 'Kith');
  assert.equal(top.action, { type: 'alias', path: 'admin/services/kith/overview' });
  assert.equal(top.depends, { acl: ['luci-app-kith'], uci: { kith: true } });
  for (const v of VIEWS) {
    const n = menu[`admin/services/kith/${v}`]!;
    assert.equal(n.action, { type: 'view', path: `kith/${v}` });
    assert.is(n.title, PAGES[v]);
    assert.type(n.order, 'number');
    assert.ok(existsSync(join(LUCI_APP, 'htdocs/luci-static/resources/view/kith', `${v}.js`)), `${v}.js missing`);
  }
});

test('acl.d: one group luci-app-kith, kith ubus methods and the uci package kith for read and write', () => {
  assert.equal(Object.keys(acl), ['luci-app-kith']);
  const g = acl['luci-app-kith']!;
  assert.type(g.description, 'string');
  assert.equal(Object.keys(g.read ?? {}).sort(), ['ubus', 'uci']);
  assert.equal(Object.keys(g.write ?? {}).sort(), ['ubus', 'uci']);
  assert.equal(Object.keys(g.read!.ubus!), ['kith']);
  assert.equal(Object.keys(g.write!.ubus!), ['kith']);
  assert.equal(g.read!.uci, ['kith']);
  assert.equal(g.write!.uci, ['kith']);
});

test('the views declare only methods of the kith ubus object, with arguments its policies know', () => {
  const methods = ubusMethods();
  assert.ok(methods.size >= 10, `parsed only ${[...methods.keys()].join(', ')}`);
  assert.ok(declared.length > 0);
  for (const d of declared) {
    assert.is(d.object, 'kith', `${d.view}.js declares object "${d.object}"`);
    assert.ok(methods.has(d.method), `${d.view}.js declares kith.${d.method}, which the method table does not have`);
    for (const p of d.params) assert.ok(methods.get(d.method)!.includes(p), `kith.${d.method} has no argument "${p}" (${d.view}.js)`);
    assert.is(d.reject, !READ_ONLY.has(d.method), `kith.${d.method}: operations use reject:true so ubus errors reach the user; polls do not`);
  }
});

test('the ACL grants exactly the declared methods: reports as read, operations as write', () => {
  const used = new Set(declared.map((d) => d.method));
  const g = acl['luci-app-kith']!;
  const read = g.read!.ubus!['kith']!;
  const write = g.write!.ubus!['kith']!;
  assert.equal([...read].sort(), [...used].filter((m) => READ_ONLY.has(m)).sort());
  assert.equal([...write].sort(), [...used].filter((m) => !READ_ONLY.has(m)).sort());
  for (const m of [...read, ...write]) assert.ok(used.has(m), `the ACL grants kith.${m}, which no view uses`);
  assert.is(new Set([...read, ...write]).size, read.length + write.length, 'a method is listed twice');
});

test('each view compiles as luci.js runs it: a function body with pragmas and a top-level return view.extend', () => {
  for (const v of VIEWS) {
    const src = viewSource(v);
    assert.ok(src.startsWith("'use strict';\n"), `${v}.js: 'use strict' first`);
    assert.ok(requiresOf(src).some((r) => r.module === 'view'), `${v}.js requires view`);
    assert.match(src, /^return view\.extend\(\{/m);
    assert.not.throws(() => compileView(src), `${v}.js does not compile`);
    // Not a plain script: its top-level return only compiles inside the wrapper.
    assert.throws(() => new vm.Script(src), `${v}.js compiles as a script`);
  }
});

test('a syntax error in a view would be caught by the compile check', () => {
  assert.throws(() => compileView("'use strict';\n'require view';\nreturn view.extend({ render: function() { return E('div' }) });"));
  assert.throws(() => compileView("'use strict';\nvar x = 1; var x = ;"));
});

test('config.js: every option it binds exists in the settings schema (src/uci/settings.ts readers)', () => {
  const settings = readFileSync(join(ROOT, 'src/uci/settings.ts'), 'utf8');
  const reader = (fn: string) => {
    const body = new RegExp(`function ${fn}\\([\\s\\S]*?\\n\\}`).exec(settings)?.[0] ?? '';
    return new Set([...body.matchAll(/\.(?:one|list|has)\('(\w+)'/g)].map((m) => m[1]!));
  };
  const schema: Record<string, Set<string>> = {
    kith: reader('readMain'), dns: reader('readDns'), subnet: reader('readSubnet'), service: reader('readService'), exit: reader('readExit'),
  };
  for (const [type, opts] of Object.entries(schema)) assert.ok(opts.size > 0, `no options parsed for ${type}`);

  const h = loadView('config');
  h.view['render']();
  assert.is(h.map?.config, 'kith');
  const kinds = h.sections.map((s) => (s.kind === 'NamedSection' ? `${s.kind} ${s.args[0]} ${s.args[1]}` : `${s.kind} ${s.args[0]}`));
  assert.equal(kinds, [
    'NamedSection main kith', 'NamedSection dns dns', 'TypedSection subnet', 'TypedSection service',
  ]);
  for (const s of h.sections) {
    const type = s.kind === 'NamedSection' ? s.args[1]! : s.args[0]!;
    for (const o of s.options) assert.ok(schema[type]?.has(o.name), `option "${o.name}" of ${type} sections is not in the schema`);
  }
});

test('user-visible strings are wrapped in _(): no bare text literal as the content of E()', () => {
  for (const v of VIEWS) {
    const src = viewSource(v).replace(/^\s*'(?:use strict|require [^']*)';$/gm, '').replace(/rpc\.declare\(\{[\s\S]*?\}\)/g, '');
    // E('tag', 'text'), E('tag', {...}, 'text'), and [ 'text' ] child lists.
    const bare = [
      ...src.matchAll(/\bE\(\s*'[\w-]*'\s*,\s*'((?:[^'\\]|\\.)*)'/g),
      ...src.matchAll(/\}\s*,\s*'((?:[^'\\]|\\.)*)'\s*\)/g),
      ...src.matchAll(/\[\s*'((?:[^'\\]|\\.)*)'\s*\]/g),
    ].map((m) => m[1]!).filter((s) => /[A-Za-z]/.test(s));
    assert.equal(bare, [], `${v}.js has text outside _(): ${bare.join(' | ')}`);
    // Titles and descriptions of the form go through _() too.
    for (const m of src.matchAll(/\.(?:option|section)\(form\.\w+,\s*'[^']*'(?:,\s*'[^']*')?,\s*([^,)]+)/g)) {
      assert.ok(m[1]!.trim().startsWith('_('), `${v}.js: form title not in _(): ${m[0]}`);
    }
  }
});

test('the app installs where luci.mk puts it: views under htdocs/, menu and ACL under root/', () => {
  for (const v of VIEWS) assert.ok(existsSync(join(VIEW_DIR, `${v}.js`)));
  assert.ok(MENU_FILE.startsWith(join(LUCI_APP, 'root/usr/share/luci/menu.d/')));
  assert.ok(ACL_FILE.startsWith(join(LUCI_APP, 'root/usr/share/rpcd/acl.d/')));
});

test.run();
