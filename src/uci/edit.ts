// Edits with the semantics of `uci set/add/add_list/del_list/delete/rename/
// reorder` (list.c), applied to the model in memory. Each reports whether it
// changed anything, so a writer can skip a no-op commit as uci does.
import { lookupUciKey, parseUciKey, type UciKey, type UciLookupError, type UciTarget } from './address.ts';
import { anonymousName, isValidName, isValidType, newSection, type UciPackage, type UciSection } from './model.ts';

export type UciEditResult = { ok: true; changed: boolean } | { ok: false; error: UciLookupError };

const CHANGED: UciEditResult = { ok: true, changed: true };
const UNCHANGED: UciEditResult = { ok: true, changed: false };

interface Found { k: UciKey; t: UciTarget; s: UciSection | undefined }

function find(pkg: UciPackage, pkgName: string, key: string, value = ''): Found | UciLookupError {
  if (key.includes('=')) return 'Parse error';
  const k = parseUciKey(`${key}=${value}`);
  if (!k) return 'Parse error';
  const t = lookupUciKey(pkg, pkgName, k);
  if (typeof t === 'string') return t;
  return { k, t, s: pkg.sections[t.index] };
}

function removeOption(s: UciSection, name: string): void {
  s.options.delete(name);
  s.optionLines.delete(name);
}

/**
 * `uci set pkg.sec.opt=value` sets an option (a list becomes a string, in
 * place); `uci set pkg.sec=type` creates a named section or changes its type.
 * An empty value deletes what the key names.
 */
export function uciSet(pkg: UciPackage, pkgName: string, key: string, value: string): UciEditResult {
  const f = find(pkg, pkgName, key, value);
  if (typeof f === 'string') return { ok: false, error: f };
  const { k, t, s } = f;
  if (!s && !(k.option === undefined && k.section !== undefined)) return { ok: false, error: 'Invalid argument' };
  if (k.option === undefined && value !== '' && !isValidType(value)) return { ok: false, error: 'Invalid argument' };
  if (value === '') {
    if (!t.complete) return UNCHANGED;
    if (k.option !== undefined) removeOption(s!, k.option);
    else pkg.sections.splice(t.index, 1);
    return CHANGED;
  }
  if (k.option !== undefined) {
    if (s!.options.get(k.option) === value) return UNCHANGED;
    s!.options.set(k.option, value);
    s!.optionLines.delete(k.option);
    return CHANGED;
  }
  if (!s) {
    // uci would create a section literally named "@type[9]"; refuse instead.
    if (k.extended) return { ok: false, error: 'Invalid argument' };
    pkg.sections.push(newSection(value, k.section!));
    return CHANGED;
  }
  if (s.type === value) return UNCHANGED;
  s.type = value;
  return CHANGED;
}

/** `uci add pkg type`: a new anonymous section at the end; returns the cfgNNHHHH name uci prints. */
export function uciAddSection(pkg: UciPackage, type: string): { ok: true; name: string } | { ok: false; error: UciLookupError } {
  if (!isValidType(type)) return { ok: false, error: 'Invalid argument' };
  pkg.sections.push(newSection(type, null));
  return { ok: true, name: anonymousName(pkg.sections.length, type) };
}

/** `uci add_list`: appends an item; a string option becomes a list in place. */
export function uciAddList(pkg: UciPackage, pkgName: string, key: string, value: string): UciEditResult {
  const f = find(pkg, pkgName, key, value);
  if (typeof f === 'string') return { ok: false, error: f };
  const { k, s } = f;
  if (!s || k.option === undefined) return { ok: false, error: 'Invalid argument' };
  const old = s.options.get(k.option);
  s.options.set(k.option, old === undefined ? [value] : typeof old === 'string' ? [old, value] : [...old, value]);
  s.optionLines.delete(k.option);
  return CHANGED;
}

/** `uci del_list`: removes every item equal to value. A list left empty is removed. */
export function uciDelList(pkg: UciPackage, pkgName: string, key: string, value: string): UciEditResult {
  const f = find(pkg, pkgName, key, value);
  if (typeof f === 'string') return { ok: false, error: f };
  const { k, s } = f;
  if (!s) return { ok: false, error: 'Invalid argument' };
  const old = k.option === undefined ? undefined : s.options.get(k.option);
  if (!Array.isArray(old) || !old.includes(value)) return UNCHANGED;
  const kept = old.filter((x) => x !== value);
  if (kept.length) s.options.set(k.option!, kept);
  else s.options.delete(k.option!);
  s.optionLines.delete(k.option!);
  return CHANGED;
}

/**
 * `uci delete pkg.sec[.opt]`, or with `index` one list item (`delete key=N`).
 * As in uci, an index on a string option deletes the whole option.
 */
export function uciDelete(pkg: UciPackage, pkgName: string, key: string, index?: number): UciEditResult {
  const f = find(pkg, pkgName, key);
  if (typeof f === 'string') return { ok: false, error: f };
  const { k, t, s } = f;
  if (!t.complete || !s) return { ok: false, error: 'Entry not found' };
  if (k.option === undefined) { pkg.sections.splice(t.index, 1); return CHANGED; }
  const v = s.options.get(k.option)!;
  if (index !== undefined && Array.isArray(v)) {
    if (index < 0 || index >= v.length) return UNCHANGED;
    const kept = v.filter((_, i) => i !== index);
    if (kept.length) s.options.set(k.option, kept);
    else s.options.delete(k.option);
    s.optionLines.delete(k.option);
    return CHANGED;
  }
  removeOption(s, k.option);
  return CHANGED;
}

/**
 * `uci rename`: a new name for an option (same position) or a section (an
 * anonymous one becomes named). Unlike uci, an invalid or already used name
 * is refused, since the file would not load back as intended.
 */
export function uciRename(pkg: UciPackage, pkgName: string, key: string, newName: string): UciEditResult {
  const f = find(pkg, pkgName, key);
  if (typeof f === 'string') return { ok: false, error: f };
  const { k, t, s } = f;
  if (!t.complete || !s) return { ok: false, error: 'Entry not found' };
  if (!isValidName(newName)) return { ok: false, error: 'Invalid argument' };
  if (k.option === undefined) {
    if (s.name === newName) return UNCHANGED;
    if (pkg.sections.some((o) => o !== s && o.name === newName)) return { ok: false, error: 'Invalid argument' };
    s.name = newName;
    return CHANGED;
  }
  if (k.option === newName) return UNCHANGED;
  if (s.options.has(newName)) return { ok: false, error: 'Invalid argument' };
  s.options = new Map([...s.options].map(([n, v]) => [n === k.option ? newName : n, v]));
  s.optionLines = new Map([...s.optionLines].map(([n, v]) => [n === k.option ? newName : n, v]));
  return CHANGED;
}

/** `uci reorder pkg.sec=pos`: moves the section to position pos (clamped to the end). */
export function uciReorder(pkg: UciPackage, pkgName: string, key: string, pos: number): UciEditResult {
  const f = find(pkg, pkgName, key);
  if (typeof f === 'string') return { ok: false, error: f };
  const { t, s } = f;
  if (!s) return { ok: false, error: 'Entry not found' };
  pkg.sections.splice(t.index, 1);
  const at = Math.min(Math.max(0, pos), pkg.sections.length);
  pkg.sections.splice(at, 0, s);
  return at === t.index ? UNCHANGED : CHANGED;
}
