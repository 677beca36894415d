// The in-memory UCI model shared by the parser, serializer, lookups and edits,
// plus the name rules of uci/util.c. Pure data; no I/O.

/** An option holds one string, or a list of strings (from `list` lines). */
export type UciValue = string | string[];

export interface UciSection {
  /** Section type: printable ASCII 0x21-0x7e, at least one character. */
  type: string;
  /** [A-Za-z0-9_]+, or null for an anonymous section. */
  name: string | null;
  /** Options in file order. A repeated option keeps its first position. */
  options: Map<string, UciValue>;
  /** Line of the `config` statement that created the section (0 if built in code). */
  line: number;
  /**
   * Lines of the statements behind each option: one entry for a string option,
   * one per item for a list. Missing for options built in code.
   */
  optionLines: Map<string, number[]>;
}

/** One config file. The package name is the file name; `package` lines are ignored. */
export interface UciPackage {
  sections: UciSection[];
}

/** A new section for code that builds a model; line numbers are 0. */
export function newSection(type: string, name: string | null, options: Iterable<[string, UciValue]> = []): UciSection {
  return { type, name, options: new Map(options), line: 0, optionLines: new Map() };
}

const NAME_RE = /^[A-Za-z0-9_]+$/;
const PACKAGE_RE = /^[A-Za-z0-9_-]+$/;
const TYPE_RE = /^[\x21-\x7e]+$/;

/** Section and option names: [A-Za-z0-9_]+ (uci_validate_name). */
export function isValidName(s: string): boolean {
  return NAME_RE.test(s);
}

/** Package (file) names: [A-Za-z0-9_-]+ (uci_validate_package). */
export function isValidPackageName(s: string): boolean {
  return PACKAGE_RE.test(s);
}

/** Section types: printable ASCII without space (uci_validate_type). */
export function isValidType(s: string): boolean {
  return TYPE_RE.test(s);
}

/** Values set from outside may not hold control characters other than \t \r \n (uci_validate_text). */
export function isValidText(s: string): boolean {
  return !/[\x00-\x08\x0b\x0c\x0e-\x1f]/.test(s);
}

/**
 * djb2 of the type, as uci_fixup_section computes it for anonymous names. Types
 * are ASCII, so C's signed char and JS char codes agree.
 */
function typeHash(type: string): number {
  let h = 5381;
  for (let i = 0; i < type.length; i++) h = (Math.imul(h, 33) + type.charCodeAt(i)) >>> 0;
  return (h & 0x7fffffff) % 65536;
}

/**
 * The internal name uci gives an anonymous section: `cfg` + the 1-based
 * section counter (%02x) + the type hash (%04x). The counter counts every
 * section created so far, named ones too, so on a fresh load it is the
 * section's position + 1.
 */
export function anonymousName(counter: number, type: string): string {
  return `cfg${counter.toString(16).padStart(2, '0')}${typeHash(type).toString(16).padStart(4, '0')}`;
}

/** The name uci uses for the section at `index`: its own, or the generated cfgNNHHHH. */
export function sectionId(pkg: UciPackage, index: number): string {
  const s = pkg.sections[index]!;
  return s.name ?? anonymousName(index + 1, s.type);
}

function valueEqual(a: UciValue, b: UciValue): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Same sections, types, names, and options in the same order (line numbers ignored). */
export function uciEqual(a: UciPackage, b: UciPackage): boolean {
  if (a.sections.length !== b.sections.length) return false;
  return a.sections.every((sa, i) => {
    const sb = b.sections[i]!;
    if (sa.type !== sb.type || sa.name !== sb.name || sa.options.size !== sb.options.size) return false;
    const kb = [...sb.options];
    return [...sa.options].every(([k, v], j) => kb[j]![0] === k && valueEqual(v, kb[j]![1]));
  });
}
