// luci-app/po/templates/kith.pot from the LuCI app's sources: every string
// literal passed to _() or N_() in the views and kith/common.js (LuCI's own
// i18n-scan.pl does the same for its apps), and the menu titles. Run by
// `make pot`; test/luci/pot.test.ts checks that the committed file is current
// and that no _() call takes anything but a string literal.
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const APP = join(root, 'luci-app');
export const POT = join(APP, 'po/templates/kith.pot');

/** The translatable sources, relative to the project (generated resources such as kith/qrcode.js are not). */
export function sources() {
  const views = join(APP, 'htdocs/luci-static/resources/view/kith');
  return [
    ...readdirSync(views).filter((f) => f.endsWith('.js')).sort().map((f) => join(views, f)),
    join(APP, 'htdocs/luci-static/resources/kith/common.js'),
  ];
}

/** Reads one JavaScript string literal starting at text[i] (a quote); returns its value and end, or null. */
function literal(text, i) {
  const q = text[i];
  if (q !== "'" && q !== '"' && q !== '`') return null;
  let out = '';
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j];
    if (c === q) return { value: out, end: j + 1 };
    if (q === '`' && c === '$' && text[j + 1] === '{') return null;
    if (c === '\\') {
      const n = text[++j];
      out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
      continue;
    }
    if (c === '\n' && q !== '`') return null;
    out += c;
  }
  return null;
}

/** The msgids of one source with their line numbers; `bad` lists _() calls whose argument is not one string literal. */
export function scan(text) {
  const found = [];
  const bad = [];
  const re = /(?<![\w$.])N?_\(\s*/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const line = text.slice(0, m.index).split('\n').length;
    const lit = literal(text, m.index + m[0].length);
    const after = lit ? text.slice(lit.end).match(/^\s*([),])/) : null;
    if (!lit || !after) { bad.push(line); continue; }
    found.push({ msgid: lit.value, line });
  }
  return { found, bad };
}

const quote = (s) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}"`;

/** The .pot text: msgids in order of first use, each with every place it is used. */
export function buildPot() {
  const where = new Map();
  const add = (msgid, ref) => { if (msgid) where.set(msgid, [...(where.get(msgid) ?? []), ref]); };
  const bad = [];
  for (const file of sources()) {
    const rel = relative(root, file);
    const r = scan(readFileSync(file, 'utf8'));
    for (const f of r.found) add(f.msgid, `${rel}:${f.line}`);
    bad.push(...r.bad.map((l) => `${rel}:${l}`));
  }
  const menu = join(APP, 'root/usr/share/luci/menu.d/luci-app-kith.json');
  for (const node of Object.values(JSON.parse(readFileSync(menu, 'utf8')))) add(node.title, relative(root, menu));
  const body = [...where].map(([msgid, refs]) => `#: ${[...new Set(refs)].join(' ')}\nmsgid ${quote(msgid)}\nmsgstr ""\n`);
  return { text: ['msgid ""', 'msgstr "Content-Type: text/plain; charset=UTF-8"', '', ...body].join('\n'), bad, count: where.size };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { text, bad, count } = buildPot();
  if (bad.length) { console.error(`pot: _() without one string literal at ${bad.join(', ')}`); process.exit(1); }
  mkdirSync(dirname(POT), { recursive: true });
  writeFileSync(POT, text);
  console.log(`${relative(root, POT)}: ${count} strings`);
}
