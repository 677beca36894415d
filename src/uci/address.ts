// Addressing sections the way uci does (names, cfgNNHHHH, @type[i] with
// negative indices; list.c uci_lookup_ptr) and rendering `uci show` / `uci get`.
import { isValidName, isValidPackageName, isValidText, isValidType, sectionId, type UciPackage, type UciValue } from './model.ts';
import { quoteUci } from './serialize.ts';

/** Why a key could not be used, in uci's words (`uci: <error>`). */
export type UciLookupError = 'Entry not found' | 'Parse error' | 'Invalid argument';

/** A command's outcome: its stdout, or its error (null: exit 1 with no message). */
export type UciCliResult = { ok: true; out: string } | { ok: false; error: UciLookupError | null };

/** A parsed key `package[.section[.option]][=value]` (uci_parse_ptr). */
export interface UciKey {
  package: string;
  section?: string;
  option?: string;
  value?: string;
  /** The section part is not a plain name, so it must be an @type[i] reference. */
  extended: boolean;
}

/** Splits and checks a key as uci_parse_ptr does; null where uci says "Parse error". */
export function parseUciKey(key: string): UciKey | null {
  const eq = key.indexOf('=');
  const path = eq < 0 ? key : key.slice(0, eq);
  const parts = path.split('.');
  if (parts.length > 3) return null;
  const [pkg, section, option] = parts as [string, string?, string?];
  const k: UciKey = { package: pkg, extended: section !== undefined && !isValidName(section) };
  if (section !== undefined) k.section = section;
  if (option !== undefined) k.option = option;
  if (eq >= 0) k.value = key.slice(eq + 1);
  if (!isValidPackageName(pkg) || (option !== undefined && !isValidName(option))) return null;
  if (k.value !== undefined && !isValidText(k.value)) return null;
  return k;
}

/** strtol(s, &end, 10) with *end required to be the terminator; "" is 0 as in C. */
function strtolWhole(s: string): number | null {
  if (s === '') return 0;
  const m = /^[\t\n\v\f\r ]*([+-]?\d+)$/.exec(s);
  return m ? Number(m[1]) : null;
}

/**
 * Resolves `@type[i]` (uci_lookup_ext_section): i counts every section of that
 * type in file order, named ones included; negative i counts from the end;
 * `@[i]` counts all sections. -1 when there is no such section, null when the
 * reference is malformed ("Invalid argument").
 */
export function resolveTypeIndex(pkg: UciPackage, ref: string): number | null {
  const m = /^@([^[]*)\[([^\]]*)\]$/.exec(ref);
  if (!m) return null;
  let idx = strtolWhole(m[2]!);
  const type = m[1]!;
  if (idx === null || (type !== '' && !isValidType(type))) return null;
  const matches: number[] = [];
  pkg.sections.forEach((s, i) => { if (type === '' || s.type === type) matches.push(i); });
  if (idx < 0) idx += matches.length;
  return matches[idx] ?? -1;
}

/** The section a reference names: its name, its cfgNNHHHH name, or @type[i]; -1 if none. */
export function findSection(pkg: UciPackage, ref: string): number {
  if (ref.startsWith('@')) return resolveTypeIndex(pkg, ref) ?? -1;
  return pkg.sections.findIndex((_, i) => sectionId(pkg, i) === ref);
}

/** What a key points at. `complete` is false when the section or option does not exist. */
export interface UciTarget {
  index: number;
  option?: string;
  complete: boolean;
}

/** uci_lookup_ptr for a key into the package `pkgName`. */
export function lookupUciKey(pkg: UciPackage, pkgName: string, k: UciKey): UciTarget | UciLookupError {
  if (k.package !== pkgName) return 'Entry not found';
  if (k.section === undefined) return { index: -1, complete: true };
  const index = k.extended ? resolveTypeIndex(pkg, k.section) : findSection(pkg, k.section);
  if (index === null) return 'Invalid argument';
  if (index < 0) return { index, complete: false };
  if (k.option === undefined) return { index, complete: true };
  return { index, option: k.option, complete: pkg.sections[index]!.options.has(k.option) };
}

/** How `uci show` prints a value: each string single-quoted, list items joined by a space. */
export function showValue(v: UciValue): string {
  return typeof v === 'string' ? quoteUci(v) : v.map(quoteUci).join(' ');
}

/** How `uci get` prints a value: raw, list items quoted only if they hold whitespace. */
export function getValue(v: UciValue): string {
  if (typeof v === 'string') return v;
  return v.map((x) => (/[ \t\r\n]/.test(x) ? quoteUci(x) : x)).join(' ');
}

function showSection(pkg: UciPackage, pkgName: string, index: number, ref: string): string {
  const s = pkg.sections[index]!;
  let out = `${pkgName}.${ref}=${s.type}\n`;
  for (const [opt, v] of s.options) out += `${pkgName}.${ref}.${opt}=${showValue(v)}\n`;
  return out;
}

/**
 * `uci show pkg`: anonymous sections as @type[i] (i counts every section of
 * the type, named ones too), or with `realNames` (`uci -X show`) as cfgNNHHHH.
 */
export function showUci(pkg: UciPackage, pkgName: string, opts: { realNames?: boolean } = {}): string {
  const seen = new Map<string, number>();
  let out = '';
  pkg.sections.forEach((s, i) => {
    const n = seen.get(s.type) ?? 0;
    seen.set(s.type, n + 1);
    const ref = s.name ?? (opts.realNames ? sectionId(pkg, i) : `@${s.type}[${n}]`);
    out += showSection(pkg, pkgName, i, ref);
  });
  return out;
}

function lookup(pkg: UciPackage, pkgName: string, key: string): UciTarget | UciLookupError {
  const k = parseUciKey(key);
  return k ? lookupUciKey(pkg, pkgName, k) : 'Parse error';
}

/** `uci show KEY`: a whole package, or one section or option under its real name. */
export function uciShow(pkg: UciPackage, pkgName: string, key: string, opts: { realNames?: boolean } = {}): UciCliResult {
  const t = lookup(pkg, pkgName, key);
  if (typeof t === 'string') return { ok: false, error: t };
  if (!t.complete) return { ok: false, error: 'Entry not found' };
  if (t.index < 0) return { ok: true, out: showUci(pkg, pkgName, opts) };
  const id = sectionId(pkg, t.index);
  if (t.option === undefined) return { ok: true, out: showSection(pkg, pkgName, t.index, id) };
  return { ok: true, out: `${pkgName}.${id}.${t.option}=${showValue(pkg.sections[t.index]!.options.get(t.option)!)}\n` };
}

/** `uci get KEY`: an option's value, or a section's type. */
export function uciGet(pkg: UciPackage, pkgName: string, key: string): UciCliResult {
  const t = lookup(pkg, pkgName, key);
  if (typeof t === 'string') return { ok: false, error: t };
  if (key.includes('=')) return { ok: false, error: null };
  if (!t.complete) return { ok: false, error: 'Entry not found' };
  if (t.index < 0) return { ok: true, out: '' };
  const s = pkg.sections[t.index]!;
  return { ok: true, out: `${t.option === undefined ? s.type : getValue(s.options.get(t.option)!)}\n` };
}
