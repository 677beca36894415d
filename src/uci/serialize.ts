// Writes the model in the canonical form `uci commit` and `uci export` produce
// (uci/file.c uci_export_package): no comments, every value single-quoted.
import { anonymousName, isValidName, isValidPackageName, isValidType, type UciPackage } from './model.ts';

/** A value single-quoted for UCI and sh: `'` becomes `'\''`, nothing else is escaped. */
export function quoteUci(v: string): string {
  return `'${v.replaceAll("'", "'\\''")}'`;
}

/**
 * Upstream writes types unquoted, which its own parser misreads when the type
 * holds \ ' " # or ; (a type `it's` is written `it'\''s` and the file no
 * longer loads). Such types are single-quoted here; all others are written
 * byte for byte as upstream does.
 */
function typeToken(type: string): string {
  return /[\\'"#;]/.test(type) ? quoteUci(type) : type;
}

/** Throws RangeError for a model no config file can express (the caller's mistake). */
function check(pkg: UciPackage): void {
  const seen = new Set<string>();
  pkg.sections.forEach((s, i) => {
    const where = `section ${i + 1}${s.name ? ` "${s.name}"` : ''}`;
    if (!isValidType(s.type)) throw new RangeError(`${where}: invalid type ${JSON.stringify(s.type)} (printable ASCII without spaces)`);
    if (s.name !== null && !isValidName(s.name)) throw new RangeError(`${where}: invalid name (letters, digits and _ only)`);
    // uci looks sections up by name, anonymous ones by their cfgNNHHHH name, so
    // a second section answering to the same name would be merged into the first on reading.
    const id = s.name ?? anonymousName(i + 1, s.type);
    if (s.name !== null && seen.has(id)) throw new RangeError(`${where}: another section before it answers to the same name`);
    seen.add(id);
    for (const [name, v] of s.options) {
      if (!isValidName(name)) throw new RangeError(`${where}: invalid option name ${JSON.stringify(name)} (letters, digits and _ only)`);
      for (const item of typeof v === 'string' ? [v] : v) {
        if (item.includes('\0')) throw new RangeError(`${where} option "${name}": values cannot contain NUL`);
      }
    }
  });
}

function body(pkg: UciPackage, nameAnonymous: boolean): string {
  check(pkg);
  let out = '';
  pkg.sections.forEach((s, i) => {
    const name = s.name ?? (nameAnonymous ? anonymousName(i + 1, s.type) : null);
    out += `\nconfig ${typeToken(s.type)}${name === null ? '' : ` ${quoteUci(name)}`}\n`;
    for (const [opt, v] of s.options) {
      // `option x ''` would not load back (an empty value sets nothing), and
      // an empty list writes no lines, exactly as upstream.
      if (typeof v === 'string') { if (v !== '') out += `\toption ${opt} ${quoteUci(v)}\n`; }
      else for (const item of v) out += `\tlist ${opt} ${quoteUci(item)}\n`;
    }
  });
  return out + '\n';
}

/**
 * The file `uci commit` writes: a newline, then for each section `config TYPE
 * ['name']` and tab-indented `option`/`list` lines, a blank line between
 * sections and a trailing one. Anonymous sections are written without a name.
 * Options whose value is '' are left out: uci treats setting '' as deleting.
 */
export function serializeUci(pkg: UciPackage): string {
  return body(pkg, false);
}

/** `uci export pkg` output: a `package` line, then the commit form; `names` is `uci -n export`. */
export function exportUci(pkg: UciPackage, pkgName: string, opts: { names?: boolean } = {}): string {
  if (!isValidPackageName(pkgName)) throw new RangeError(`invalid package name ${JSON.stringify(pkgName)}`);
  return `package ${pkgName}\n${body(pkg, opts.names ?? false)}`;
}
