// The writer: the exact `uci commit` form, refusal of unwritable models, the
// atomic no-op-aware commit, and parse(serialize(m)) == m on random models.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  exportUci, newSection, parseUci, serializeUci, uciEqual, writeUciAtomic, type UciPackage, type UciSection, type UciValue,
} from '../../src/uci/index.ts';
import { MemoryFs, plain } from './support.ts';
import { mulberry32 } from '../support/rand.ts';

const pkg = (...sections: UciSection[]): UciPackage => ({ sections });

test('commit form: leading newline, tab-indented options, blank line between and after sections', () => {
  const m = pkg(
    newSection('main', 'settings', [['enabled', '1'], ['name', 'kith node']]),
    newSection('peer', null, [['allowed', ['10.0.0.0/8', 'fd00::/8']]]),
  );
  assert.is(serializeUci(m), "\nconfig main 'settings'\n\toption enabled '1'\n\toption name 'kith node'\n\nconfig peer\n\tlist allowed '10.0.0.0/8'\n\tlist allowed 'fd00::/8'\n\n");
  assert.is(exportUci(m, 'kith'), `package kith\n${serializeUci(m)}`);
  assert.match(exportUci(m, 'kith', { names: true }), "\nconfig peer 'cfg02"); // uci -n export names anonymous sections
});

test('every value single-quoted; only the apostrophe is escaped', () => {
  const m = pkg(newSection('t', 'n', [['a', "it's"], ['b', 'a\\b "c" $d #e ;f'], ['c', 'l1\nl2\ttab']]));
  assert.is(serializeUci(m), "\nconfig t 'n'\n\toption a 'it'\\''s'\n\toption b 'a\\b \"c\" $d #e ;f'\n\toption c 'l1\nl2\ttab'\n\n");
});

test('empty package writes a single newline; empty values and lists write nothing', () => {
  assert.is(serializeUci(pkg()), '\n');
  assert.is(serializeUci(pkg(newSection('t', 'n', [['a', ''], ['b', []], ['c', ['']]]))), "\nconfig t 'n'\n\tlist c ''\n\n");
});

test('types are written raw like uci, but quoted when raw would not read back', () => {
  assert.is(serializeUci(pkg(newSection('a/b+c=d', null))), '\nconfig a/b+c=d\n\n');
  for (const type of ["it's", 'a#b', 'a;b', 'a"b', 'a\\b']) {
    const m = pkg(newSection(type, 'n', [['x', '1']]));
    assert.equal(plain(parseUci(serializeUci(m))), plain(m), type);
  }
});

test('models no file can express are refused with RangeError', () => {
  const bad: [UciSection[], RegExp][] = [
    [[newSection('a b', null)], /invalid type/],
    [[newSection('', null)], /invalid type/],
    [[newSection('t', 'my-name')], /invalid name/],
    [[newSection('t', 'n', [['bad.opt', '1']])], /invalid option name/],
    [[newSection('t', 'n', [['a', 'x\0y']])], /NUL/],
    [[newSection('t', 'n'), newSection('u', 'n')], /same name/],
    [[newSection('peer', null), newSection('peer', 'cfg013511')], /same name/],
  ];
  for (const [sections, re] of bad) assert.throws(() => serializeUci({ sections }), (e: Error) => e instanceof RangeError && re.test(e.message));
});

test('writeUciAtomic writes through writeFileAtomic with mode 0644', async () => {
  const fs = new MemoryFs();
  const m = pkg(newSection('kith', 'main', [['enabled', '1']]));
  assert.is(await writeUciAtomic(fs, '/etc/config/kith', m), 'written');
  assert.equal(fs.writes, [{ path: '/etc/config/kith', mode: 0o644 }]);
  assert.is(new TextDecoder().decode(fs.files.get('/etc/config/kith')), "\nconfig kith 'main'\n\toption enabled '1'\n\n");
});

test('writeUciAtomic leaves a file with the same configuration alone (comments survive)', async () => {
  const fs = new MemoryFs();
  const text = "# mine\nconfig kith main # trailing\n\toption enabled 1\n";
  fs.files.set('/c', new TextEncoder().encode(text));
  const m = parseUci(text);
  assert.is(await writeUciAtomic(fs, '/c', m), 'unchanged');
  assert.equal(fs.writes, []);
  m.sections[0]!.options.set('enabled', '0');
  assert.is(await writeUciAtomic(fs, '/c', m), 'written');
  assert.ok(uciEqual(parseUci(fs.files.get('/c')!), m));
});

test('writeUciAtomic replaces a malformed file', async () => {
  const fs = new MemoryFs();
  fs.files.set('/c', new TextEncoder().encode("config kith 'main\n"));
  assert.is(await writeUciAtomic(fs, '/c', pkg(newSection('kith', 'main'))), 'written');
});

const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_';
const VALUE_PIECES = ["'", '"', '\\', ';', '#', '\t', '\n', '\r', ' ', '$', '`', "'\\''", '\\\n', 'a', 'Z', '9', 'é', '日本', '😀', '\u00a0', 'option x y', '\\n'];

function randomModel(rnd: () => number): UciPackage {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const str = (chars: string, min: number, max: number) => Array.from({ length: min + Math.floor(rnd() * (max - min + 1)) }, () => pick([...chars])).join('');
  const value = (min: number) => {
    let v = Array.from({ length: Math.floor(rnd() * 6) }, () => pick(VALUE_PIECES)).join('');
    while (v.length < min) v += pick(VALUE_PIECES);
    return v;
  };
  const printable = Array.from({ length: 94 }, (_, i) => String.fromCharCode(0x21 + i)).join('');
  const names = new Set<string>();
  const sections: UciSection[] = [];
  for (let i = Math.floor(rnd() * 6); i > 0; i--) {
    const type = rnd() < 0.5 ? pick(['kith', 'peer', 'dns']) : str(printable, 1, 8);
    let name: string | null = null;
    if (rnd() < 0.6) {
      name = str(NAME_CHARS, 1, 10);
      if (names.has(name) || name.startsWith('cfg')) continue;
      names.add(name);
    }
    const opts: [string, UciValue][] = [];
    const used = new Set<string>();
    for (let j = Math.floor(rnd() * 5); j > 0; j--) {
      const o = str(NAME_CHARS, 1, 8);
      if (used.has(o)) continue;
      used.add(o);
      opts.push([o, rnd() < 0.6 ? value(1) : Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => value(0))]);
    }
    sections.push(newSection(type, name, opts));
  }
  return { sections };
}

test('property: parse(serialize(m)) equals m, and line numbers point at the statements', () => {
  const base = Number(process.env['UCI_SEED'] ?? 0x6b697468);
  const runs = Number(process.env['UCI_RUNS'] ?? 1000);
  for (let i = 0; i < runs; i++) {
    const seed = (base + i) >>> 0;
    const m = randomModel(mulberry32(seed));
    const text = serializeUci(m);
    try {
      const back = parseUci(text);
      assert.equal(plain(back), plain(m));
      const lines = text.split('\n');
      for (const s of back.sections) {
        assert.ok(lines[s.line - 1]!.startsWith('config '), `section line ${s.line}`);
        for (const [o, ls] of s.optionLines) {
          for (const l of ls) assert.ok(lines[l - 1]!.startsWith(`\t${typeof s.options.get(o) === 'string' ? 'option' : 'list'} ${o} '`), `option ${o} line ${l}`);
        }
      }
      assert.is(serializeUci(back), text, 'serializing again gives the same bytes');
    } catch (e) {
      console.error(`round trip failed: reproduce with UCI_SEED=${seed} UCI_RUNS=1\n${JSON.stringify(text)}`);
      throw e;
    }
  }
});

test.run();
