/// <reference types="node" />
// The architecture's layer rules, enforced over all of src/: only the
// platform adapters and entry points touch a runtime; the sans-I/O layers
// (core, uci, ubus, dns) use no clock, randomness, timers or runtime globals;
// every file opens with a comment saying what it owns and stays short.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { importsOf, lineAt, stripSource } from '../support/source.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAX_LINES = 450;
/** Files over MAX_LINES today. TODO: split them; remove each entry once it is under the limit. */
const KNOWN_LONG: Record<string, string> = {};
/** The only files that may touch a runtime. */
const RUNTIME_ALLOWED = [/^src\/platform\/node(-[a-z]+)?\.ts$/, /^src\/platform\/txiki(-[a-z]+)?\.ts$/, /^src\/entry\//];
const SANS_IO = /^src\/(core|uci|ubus|dns)\//;
/** npm packages that share a name with a Node builtin and are real dependencies. */
const NPM_NOT_BUILTIN = new Set(['buffer']);

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(ROOT + dir).sort()) {
    const rel = `${dir}/${name}`;
    if (statSync(ROOT + rel).isDirectory()) out.push(...walk(rel));
    else if (name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

const files = walk('src').map((path) => source(path, readFileSync(ROOT + path, 'utf8')));

const builtins = new Set(builtinModules.filter((m) => !m.startsWith('_') && !NPM_NOT_BUILTIN.has(m)));

/** Why a module specifier names a runtime, or null. */
function runtimeModule(spec: string): string | null {
  if (spec.startsWith('node:')) return 'a node:* module';
  if (spec.startsWith('tjs:')) return 'a tjs:* module';
  const root = spec.split('/')[0]!;
  if (builtins.has(spec) || builtins.has(root)) return `the Node builtin "${root}"`;
  return null;
}

/** A global used as a value: not a property `.x`, not a key or parameter `x:` (a ternary's `? x :` is missed). */
function globalUse(name: string, then = ''): RegExp {
  return new RegExp(`(?<![\\w$.])${name}${then}(?!\\s*:)`, 'g');
}

const RUNTIME_GLOBALS: [RegExp, string][] = [
  [globalUse('process', '\\s*\\.'), 'process global'],
  [globalUse('tjs', '\\s*\\.'), 'tjs global'],
];

const SANS_IO_GLOBALS: [RegExp, string][] = [
  [globalUse('Date', '\\s*\\.\\s*now\\b'), 'Date.now'],
  [globalUse('Math', '\\s*\\.\\s*random\\b'), 'Math.random'],
  [globalUse('setTimeout', '\\b'), 'setTimeout'],
  [globalUse('setInterval', '\\b'), 'setInterval'],
  [globalUse('setImmediate', '\\b'), 'setImmediate'],
  [globalUse('performance', '\\b'), 'performance'],
  [globalUse('crypto', '\\s*\\.'), 'crypto global'],
  [globalUse('globalThis', '\\b'), 'globalThis'],
];

function findAll(code: string, rules: [RegExp, string][]): string[] {
  const hits: string[] = [];
  for (const [re, what] of rules) for (const m of code.matchAll(re)) hits.push(`${what} at line ${lineAt(code, m.index)}`);
  return hits;
}

test('the scanner blanks comments and literals but keeps code', () => {
  const s = stripSource([
    "const a = 'Date.now()'; // Math.random()",
    '/* setTimeout( */ const b = `x ${Date.now()} process.env`;',
    "const r = /process\\./g; const c = x / 2 / y; import { y } from 'node:fs';",
  ].join('\n'));
  assert.not.match(s.codeOnly, /Math\.random|setTimeout|process/);
  assert.match(s.codeOnly, /Date\.now\(\)/);
  assert.match(s.codeOnly, /x \/ 2 \/ y/);
  assert.equal(importsOf(s.noComments).map((i) => i.specifier), ['node:fs']);
  assert.is(s.codeOnly.split('\n').length, 3);
});

test('src/ has files to check', () => {
  assert.ok(files.length >= 40, `${files.length} files`);
});

interface SourceFile { path: string; text: string; noComments: string; codeOnly: string }

function source(path: string, text: string): SourceFile {
  return { path, text, ...stripSource(text) };
}

/** Rule (a): runtime imports and process/tjs globals outside the adapters and entry points. */
function runtimeViolations(f: SourceFile): string[] {
  if (RUNTIME_ALLOWED.some((re) => re.test(f.path))) return [];
  const bad: string[] = [];
  for (const imp of importsOf(f.noComments)) {
    const why = runtimeModule(imp.specifier);
    if (why) bad.push(`${f.path}:${imp.line} imports ${why}: ${imp.text}`);
  }
  for (const hit of findAll(f.codeOnly, RUNTIME_GLOBALS)) bad.push(`${f.path}: ${hit}`);
  return bad;
}

const BUFFER_IMPORT = /^import\s*\{\s*Buffer\s*\}\s*from/;

/** Rule (b): clock, randomness, timers and runtime globals in the sans-I/O layers. */
function sansIoViolations(f: SourceFile): string[] {
  if (!SANS_IO.test(f.path)) return [];
  const bad = findAll(f.codeOnly, SANS_IO_GLOBALS).map((hit) => `${f.path}: ${hit}`);
  const imports = importsOf(f.noComments);
  let importsBuffer = false;
  for (const i of imports) {
    if (i.specifier !== 'buffer') continue;
    if (f.path.startsWith('src/dns/') && BUFFER_IMPORT.test(i.text)) importsBuffer = true;
    else bad.push(`${f.path}:${i.line}: only src/dns may import Buffer, and only as \`import { Buffer } from 'buffer'\`: ${i.text}`);
  }
  // The Buffer global: any use of the identifier, unless src/dns imported it explicitly.
  if (!importsBuffer) {
    const code = f.codeOnly.replace(/^\s*import\s*\{\s*Buffer\s*\}\s*from\s*['"][^'"]*['"];?/gm, '');
    for (const hit of findAll(code, [[globalUse('Buffer', '\\b'), 'Buffer global']])) bad.push(`${f.path}: ${hit}`);
  }
  return bad;
}

test('the rules fire on offending code and stay quiet on the same words in comments and strings', () => {
  const core = (text: string) => [...runtimeViolations(source('src/core/x.ts', text)), ...sansIoViolations(source('src/core/x.ts', text))];
  assert.equal(core("// Date.now() in a comment\nconst s = 'process.env, setTimeout(';\nconst o = { performance: 1 }; o.performance;"), []);
  for (const bad of [
    "import { readFileSync } from 'node:fs';", "import * as fs from 'fs';", "import { spawn } from 'child_process';", "import * as dgram from 'dgram';",
    "import * as c from 'crypto';", "import * as t from 'tjs:std';", "const x = await import('net');", "const y = process.env.HOME;", "tjs.exit(0);",
    'const t = Date.now();', 'const r = Math.random();', 'setTimeout(f, 1);', 'setInterval(f, 1);', 'const b = Buffer.from(x);',
    'const n = performance.now();', 'crypto.getRandomValues(a);', "import { Buffer } from 'buffer';",
  ]) assert.ok(core(bad).length > 0, `not caught in src/core: ${bad}`);
  const dns = "import { Buffer } from 'buffer';\nconst b = Buffer.from([1]);";
  assert.equal(sansIoViolations(source('src/dns/x.ts', dns)), []);
  assert.ok(sansIoViolations(source('src/dns/x.ts', 'const b = Buffer.alloc(1);')).length > 0, 'Buffer global without the import');
  assert.equal(runtimeViolations(source('src/platform/node.ts', "import * as dgram from 'node:dgram'; process.exit(0);")), []);
  assert.equal(runtimeViolations(source('src/entry/kithd-node.ts', 'process.exitCode = 1;')), []);
  assert.ok(runtimeViolations(source('src/daemon/x.ts', 'process.exit(1);')).length > 0);
});

test('only src/platform/{node,txiki}.ts and src/entry/* import a runtime or use process/tjs globals', () => {
  const bad = files.flatMap(runtimeViolations);
  assert.equal(bad, [], bad.join('\n'));
});

test('src/core, src/uci, src/ubus, src/dns use no clock, randomness, timers or runtime globals', () => {
  const bad = files.flatMap(sansIoViolations);
  assert.equal(bad, [], bad.join('\n'));
});

test('every src/ file opens with a // comment saying what it owns', () => {
  const bad: string[] = [];
  for (const f of files) {
    // Triple-slash directives (/// <reference …/>) may precede the header.
    const lines = f.text.split('\n').filter((l, i, all) => !(/^\/\/\/\s*</.test(l) && all.slice(0, i).every((p) => /^\/\/\/\s*</.test(p))));
    if (!/^\/\/ \S.{10,}/.test(lines[0] ?? '')) bad.push(`${f.path}: first line is "${(lines[0] ?? '').slice(0, 60)}"`);
  }
  assert.equal(bad, [], bad.join('\n'));
});

test(`no src/ file exceeds ${MAX_LINES} lines (known exceptions listed with a TODO)`, () => {
  const over = files.map((f) => ({ path: f.path, lines: f.text.replace(/\n$/, '').split('\n').length })).filter((f) => f.lines > MAX_LINES);
  const fresh = over.filter((f) => !(f.path in KNOWN_LONG)).map((f) => `${f.path}: ${f.lines} lines`);
  assert.equal(fresh, [], `new files over ${MAX_LINES} lines:\n${fresh.join('\n')}`);
  const fixed = Object.keys(KNOWN_LONG).filter((p) => !over.some((f) => f.path === p));
  assert.equal(fixed, [], `now within ${MAX_LINES} lines, remove from KNOWN_LONG: ${fixed.join(', ')}`);
});

/**
 * Which layers each layer may import: one way only. The daemon and the CLI
 * share what both need through src/api (the API's types, config loading,
 * durations), never each other.
 */
const MAY_IMPORT: Record<string, string[]> = {
  core: [], platform: [],
  wg: ['core', 'platform'], dns: ['core', 'platform'], uci: ['core', 'platform'], ubus: ['core', 'platform'],
  api: ['core', 'platform', 'uci'],
  daemon: ['api', 'core', 'dns', 'platform', 'ubus', 'uci', 'wg'],
  cli: ['api', 'core', 'platform', 'uci'],
  entry: ['api', 'cli', 'daemon', 'platform'],
};

function layerViolations(f: SourceFile): string[] {
  const from = f.path.split('/')[1]!;
  const allowed = MAY_IMPORT[from];
  if (!allowed) return [`${f.path}: src/${from} is no known layer (add it to MAY_IMPORT)`];
  const bad: string[] = [];
  for (const imp of importsOf(f.noComments)) {
    const m = /^\.\.\/([a-z]+)\//.exec(imp.specifier);
    if (m && m[1] !== from && !allowed.includes(m[1]!)) bad.push(`${f.path}:${imp.line}: src/${from} may not import src/${m[1]}: ${imp.text}`);
  }
  return bad;
}

test('layers import one way (MAY_IMPORT): the daemon and the CLI never import each other', () => {
  assert.ok(layerViolations(source('src/daemon/x.ts', "import { parseDuration } from '../cli/args.ts';")).length > 0, 'the rule fires');
  assert.ok(layerViolations(source('src/core/x.ts', "import type { Platform } from '../platform/types.ts';")).length > 0, 'the rule fires');
  const bad = files.flatMap(layerViolations);
  assert.equal(bad, [], bad.join('\n'));
});

test.run();
