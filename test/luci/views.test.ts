/// <reference types="node" />
// The config view runs against a fake luci.js (support.ts): its sections,
// datatypes and checks against the settings' own value readers. The other
// pages run against the real web stack in Chromium (test/luci/browser).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CIDR, DNS_LABEL, DNS_SERVER } from '../../src/uci/values.ts';
import { readKithSettings } from '../../src/uci/settings.ts';
import { prefixRefusal } from '../../src/core/prefixes.ts';
import { loadView, type FakeOption } from './support.ts';

function configOptions() {
  const h = loadView('config');
  h.view['render']();
  const all = h.sections.flatMap((s) => s.options.map((o) => ({ section: s, ...o })));
  const get = (sectionArg: string, name: string) => {
    const o = all.find((x) => x.section.args[0] === sectionArg && x.name === name);
    assert.ok(o, `no option ${sectionArg}.${name}`);
    return o!;
  };
  return { h, all, get };
}

test('config.js: sections, datatypes and list options as the brief asks', () => {
  const { h, get } = configOptions();
  const anon = h.sections.filter((s) => s.kind === 'TypedSection');
  assert.is(anon.length, 2);
  for (const s of anon) assert.equal([s.anonymous, s.addremove], [true, true]);
  const dt = (s: string, n: string) => get(s, n).datatype;
  assert.is(dt('main', 'listen_port'), 'port');
  assert.is(dt('main', 'ifname'), 'netdevname');
  assert.is(dt('dns', 'port'), 'port');
  assert.is(dt('subnet', 'prefix'), 'cidr');
  assert.is(dt('service', 'port'), 'port');
  assert.is(get('main', 'endpoint').kind, 'DynamicList');
  assert.is(get('dns', 'listen').kind, 'DynamicList');
  assert.is(get('dns', 'upstream').kind, 'DynamicList');
  assert.equal(get('dns', 'upstream').deps, [['forward', '1']]);
  assert.equal(get('main', 'log_level').values.map((v) => v[0]), ['debug', 'info', 'warn', 'error']);
  assert.equal(get('service', 'proto').values.map((v) => v[0]), ['tcp', 'udp']);
  assert.is(get('main', 'enabled').kind, 'Flag');
  assert.is(get('main', 'portmap').kind, 'Flag', 'port mapping (option portmap, on by default) can be switched off');
  assert.is(get('dns', 'forward').kind, 'Flag');
  assert.ok(h.translated.has(h.map!.title) && h.translated.has(h.map!.description));
});

test('config.js: its own checks agree with kithd\'s value readers', () => {
  const { get } = configOptions();
  const check = (o: FakeOption, v: string) => o.validate!('cfg01', v) === true;
  const label = get('main', 'node_name');
  for (const v of ['router', 'Router-2', 'a', 'x'.repeat(63), '-a', 'a-', 'a.b', 'a_b', 'x'.repeat(64), 'ü']) {
    assert.is(check(label, v), DNS_LABEL.parse(v).ok, `node_name ${v}`);
  }
  const up = get('dns', 'upstream');
  for (const v of ['9.9.9.9', '9.9.9.9#53', '2620:fe::fe#5353', '9.9.9.9#0', '9.9.9.9#70000', 'dns.quad9.net', '1.2.3', '9.9.9.9#53#1']) {
    assert.is(check(up, v), DNS_SERVER.parse(v).ok, `upstream ${v}`);
  }
  const prefix = get('subnet', 'prefix');
  // The view checks form and width; reserved ranges and the pool are left to kithd's config check.
  for (const v of ['192.168.1.0/24', '192.168.1.1/24', '10.0.0.0/8', '10.1.0.0/8', 'fd00:1::/64', 'fd00:1::1/64', '0.0.0.0/0', '10.0.0.0/7', '::/0', '2000::/15', '2000::/16', '192.168.1.7/32']) {
    const r = CIDR.parse(v);
    assert.is(check(prefix, v), r.ok && prefixRefusal(r.value.prefix, null)?.kind !== 'too-short', `prefix ${v}`);
  }
  assert.is(check(get('service', 'type'), ''), true, 'type is optional');
});

test('config.js: the placeholders are values kithd accepts, under the option names it knows', () => {
  const { h } = configOptions();
  const lines: string[] = [];
  for (const s of h.sections) {
    lines.push(s.kind === 'NamedSection' ? `config ${s.args[1]} '${s.args[0]}'` : `config ${s.args[0]}`);
    for (const o of s.options) {
      const v = o.placeholder ?? o.default ?? o.values[0]?.[0];
      if (v === undefined) continue;
      lines.push(`\t${o.kind === 'DynamicList' ? 'list' : 'option'} ${o.name} '${v}'`);
    }
  }
  const r = readKithSettings(lines.join('\n') + '\n');
  assert.equal(r.errors.map((e) => e.message), []);
  assert.equal(r.warnings.map((e) => e.message), []);
  assert.is(r.settings.services[0]?.name, 'nas');
  assert.is(r.settings.subnets[0]?.prefix, '192.168.1.0/24');
});

test.run();
