// The LuCI app's translation template: every _() takes one string literal (a
// computed one cannot be translated), and luci-app/po/templates/kith.pot is
// what build/pot.mjs makes from the sources now (make pot).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
// @ts-expect-error a build script in plain JavaScript, without types
import { buildPot, scan, POT } from '../../build/pot.mjs';

test('the scanner takes literals and flags everything else', () => {
  const r = scan("_('a'); _(\"b \\\"q\\\"\"); N_('c'); x._('no'); _(name); _('d' + e); _(`t ${x}`); _('e %s').format(1)");
  assert.equal(r.found.map((f: { msgid: string }) => f.msgid), ['a', 'b "q"', 'c', 'e %s']);
  assert.is(r.bad.length, 3);
});

test('kith.pot is current, and no _() in the app takes anything but a string literal', () => {
  const { text, bad, count } = buildPot();
  assert.equal(bad, [], `_() calls to fix: ${bad.join(', ')}`);
  assert.ok(count > 100, `${count} strings`);
  assert.ok(readFileSync(POT, 'utf8') === text, 'luci-app/po/templates/kith.pot is out of date: run make pot');
  for (const title of ['Overview', 'Join / Create', 'Invite', 'Members', 'Uplink', 'Devices', 'Settings']) assert.ok(text.includes(`msgid "${title}"`), title);
});

test.run();
