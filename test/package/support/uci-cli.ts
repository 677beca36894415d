/// <reference types="node" />
// A stand-in for OpenWrt's `uci` command built on src/uci, for running the
// package's shell scripts (uci-defaults, config_load) on a test machine.
// Config files come from $UCI_CONFDIR (default /etc/config). As with the real
// uci, edits wait uncommitted in a save directory ($UCI_SAVEDIR, default
// <confdir>/../.uci) until `uci commit`, so a script that forgets to commit
// leaves its config file unchanged. Every call is appended to $UCI_LOG.
// Supported: [-q] [-c dir] [-n] [-S] get|show|export|set|add|add_list|del_list|delete|commit,
// and batch (those commands, one per line on stdin, quoted as uci quotes them).
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  exportUci, parseUci, serializeUci, showUci, uciAddList, uciAddSection, uciDelete, uciDelList, uciGet, uciSet, uciShow,
  type UciPackage,
} from '../../../src/uci/index.ts';

class UciFailure extends Error {}

interface Opts { quiet: boolean; confdir: string; savedir: string }

function parseOpts(argv: string[]): { o: Opts; rest: string[] } {
  const o: Opts = { quiet: false, confdir: process.env.UCI_CONFDIR ?? '/etc/config', savedir: '' };
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
    const a = argv[i]!;
    if (a === '-q') o.quiet = true;
    else if (a === '-c') o.confdir = argv[++i]!;
    else if (a === '-n' || a === '-S' || a === '-X') { /* names / non-strict: the shim always names and is lenient enough */ }
    else throw new UciFailure(`uci shim: unsupported option ${a}`);
  }
  o.savedir = process.env.UCI_SAVEDIR ?? join(o.confdir, '..', '.uci');
  return { o, rest: argv.slice(i) };
}

const pkgOf = (key: string) => key.split(/[.=]/, 1)[0]!;

function load(o: Opts, name: string): UciPackage {
  const staged = join(o.savedir, name);
  const file = existsSync(staged) ? staged : join(o.confdir, name);
  if (!/^[A-Za-z0-9_-]+$/.test(name) || !existsSync(file)) throw new UciFailure('Entry not found');
  return parseUci(readFileSync(file), file);
}

function stage(o: Opts, name: string, pkg: UciPackage): void {
  mkdirSync(o.savedir, { recursive: true });
  writeFileSync(join(o.savedir, name), serializeUci(pkg));
}

function splitAssign(arg: string): [string, string] {
  const eq = arg.indexOf('=');
  if (eq < 0) throw new UciFailure('Parse error');
  return [arg.slice(0, eq), arg.slice(eq + 1)];
}

function commit(o: Opts, names: string[]): void {
  for (const name of names) {
    const staged = join(o.savedir, name);
    if (!existsSync(staged)) continue;
    writeFileSync(join(o.confdir, name), readFileSync(staged));
    rmSync(staged);
  }
}

/** One line of `uci batch` input as uci splits it: blanks separate, '…' is literal, "…" and \\ escape. */
function batchWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === '#' && word === null) {
      break;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new UciFailure('Parse error (unterminated quote)');
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let v = '';
      for (i++; i < line.length && line[i] !== '"'; i++) v += line[i] === '\\' && i + 1 < line.length ? line[++i] : line[i];
      if (i >= line.length) throw new UciFailure('Parse error (unterminated quote)');
      word = (word ?? '') + v;
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

function run(o: Opts, cmd: string, args: string[]): string {
  const edit = (key: string, f: (pkg: UciPackage, name: string) => { ok: boolean; error?: string | null }) => {
    const name = pkgOf(key);
    const pkg = load(o, name);
    const r = f(pkg, name);
    if (!r.ok) throw new UciFailure(r.error ?? 'Invalid argument');
    stage(o, name, pkg);
    return '';
  };
  const out = (r: { ok: true; out: string } | { ok: false; error: string | null }) => {
    if (!r.ok) throw new UciFailure(r.error ?? '');
    return r.out;
  };
  switch (cmd) {
    case 'get': return out(uciGet(load(o, pkgOf(args[0]!)), pkgOf(args[0]!), args[0]!));
    case 'show':
      if (!args[0]) throw new UciFailure('uci shim: show needs a package');
      return args[0].includes('.') ? out(uciShow(load(o, pkgOf(args[0])), pkgOf(args[0]), args[0])) : showUci(load(o, args[0]), args[0]);
    case 'export': return exportUci(load(o, args[0]!), args[0]!, { names: true });
    case 'set': { const [k, v] = splitAssign(args[0]!); return edit(k, (p, n) => uciSet(p, n, k, v)); }
    case 'add_list': { const [k, v] = splitAssign(args[0]!); return edit(k, (p, n) => uciAddList(p, n, k, v)); }
    case 'del_list': { const [k, v] = splitAssign(args[0]!); return edit(k, (p, n) => uciDelList(p, n, k, v)); }
    case 'delete': return edit(args[0]!, (p, n) => uciDelete(p, n, args[0]!));
    case 'add': {
      const pkg = load(o, args[0]!);
      const r = uciAddSection(pkg, args[1]!);
      if (!r.ok) throw new UciFailure(r.error);
      stage(o, args[0]!, pkg);
      return `${r.name}\n`;
    }
    case 'commit':
      commit(o, args.length ? args : existsSync(o.savedir) ? readdirSync(o.savedir) : []);
      return '';
    case 'batch': {
      let out = '';
      for (const line of readFileSync(0, 'utf8').split('\n')) {
        const [c, ...a] = batchWords(line);
        if (c === 'batch') throw new UciFailure('uci shim: batch inside batch');
        if (c) out += run(o, c, a);
      }
      return out;
    }
    default: throw new UciFailure(`uci shim: unsupported command "${cmd}"`);
  }
}

const argv = process.argv.slice(2);
if (process.env.UCI_LOG) appendFileSync(process.env.UCI_LOG, `${JSON.stringify(argv)}\n`);
let quiet = argv.includes('-q');
try {
  const { o, rest } = parseOpts(argv);
  quiet = o.quiet;
  const [cmd, ...args] = rest;
  if (!cmd) throw new UciFailure('uci shim: no command');
  process.stdout.write(run(o, cmd, args));
} catch (e) {
  const msg = (e as Error).message;
  if (!(e instanceof UciFailure)) process.stderr.write(`uci shim: ${msg}\n`);
  else if (!quiet && msg) process.stderr.write(`uci: ${msg}\n`);
  process.exitCode = 1;
}
