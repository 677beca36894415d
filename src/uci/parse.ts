// UCI statements (package/config/option/list) on top of the upstream tokenizer,
// building the model with uci's semantics. parseUci is strict like `uci`;
// parseUciLenient keeps going and reports every malformed statement.
import { utf8Decode, utf8Encode } from '../core/bytes.ts';
import { anonymousName, type UciPackage, type UciSection } from './model.ts';
import { ParseAbort, Reader, show } from './reader.ts';

/** Config files are small; anything bigger is refused rather than parsed. */
export const MAX_UCI_FILE_BYTES = 4 * 1024 * 1024;

/** One malformed statement, as parseUciLenient reports it. */
export interface UciParseError {
  file: string;
  /** Physical line (1-based) of the problem; for a quote never closed, where it opened. */
  line: number;
  /** What is wrong, for people (without the file:line prefix). */
  message: string;
  /** Upstream's reason text, e.g. "invalid character in name field". */
  reason: string;
  /** The line number upstream `uci` reports (lines read so far that end in \n). */
  uciLine: number;
  /** The byte offset upstream `uci` reports. */
  byte: number;
}

/** A config file that upstream `uci` would refuse. The message is "file:line: what". */
export class UciSyntaxError extends SyntaxError {
  readonly line: number;
  readonly reason: string;
  readonly uciLine: number;
  readonly byte: number;

  readonly file: string;

  constructor(e: UciParseError) {
    super(`${e.file}:${e.line}: ${e.message}`);
    this.file = e.file;
    this.line = e.line;
    this.reason = e.reason;
    this.uciLine = e.uciLine;
    this.byte = e.byte;
  }

  /** What `uci` prints for the same file, after its "uci: " prefix. */
  get uciMessage(): string {
    return `Parse error (${this.reason}) at line ${this.uciLine}, byte ${this.byte}`;
  }
}

type Keyword = 'package' | 'config' | 'option' | 'list';
const KEYWORDS: Record<string, Keyword> = { p: 'package', c: 'config', o: 'option', l: 'list' };

/** uci_parse_line's keyword match: the full word or its first letter, case-sensitive. */
function keywordOf(word: string): Keyword | null {
  const kw = KEYWORDS[word[0] ?? ''];
  return kw && (word.length === 1 || word === kw) ? kw : null;
}

function ascii(b: Uint8Array): string {
  return String.fromCharCode(...b);
}

function isType(b: Uint8Array): boolean {
  return b.length > 0 && b.every((c) => c >= 0x21 && c <= 0x7e);
}

class Parser {
  readonly sections: UciSection[] = [];
  readonly errors: UciParseError[] = [];
  /** The names uci looks sections up by: their own, or cfgNNHHHH if anonymous. */
  private readonly ids: string[] = [];
  private section: UciSection | null = null;
  /** Lenient mode: the current `config` line was bad, so its options are dropped. */
  private skipping = false;
  private stmt: Keyword | null = null;

  constructor(private readonly r: Reader, private readonly file: string, private readonly lenient: boolean) {}

  run(): void {
    const r = this.r;
    while (!r.eof) {
      r.pos = 0;
      r.getln(0);
      try {
        if (r.buf[0]) this.parseLine();
      } catch (e) {
        if (!(e instanceof ParseAbort)) throw e;
        const err = { file: this.file, line: e.line, message: e.detail, reason: e.reason, uciLine: e.uciLine, byte: e.byte };
        if (!this.lenient) throw err;
        this.errors.push(err);
        if (this.stmt === 'config') { this.section = null; this.skipping = true; }
        // A quote never closed swallowed the rest of the file: resume after the line it opened on.
        if (e.reason.startsWith('EOF with unterminated')) r.restartAt(e.line + 1);
      }
    }
  }

  /** uci_parse_line: statements separated by `;` until the end of the line. */
  private parseLine(): void {
    const r = this.r;
    r.skipWhitespace();
    for (;;) {
      this.stmt = null;
      const at = r.keyword();
      if (at < 0) return;
      const word = utf8Decode(r.bytesAt(at));
      if (word[0] === '#') return;
      const kw = keywordOf(word);
      const line = r.lineAt(at);
      if (!kw) {
        const bare = word.replace(/\s+$/, '');
        const detail = keywordOf(bare) ? `${show(bare)} needs arguments on the same line`
          : `invalid command ${show(word)} (expected config, option, list or package)`;
        return r.fail('invalid command', detail, at);
      }
      this.stmt = kw;
      if (kw === 'package') this.parsePackage();
      else if (kw === 'config') this.parseConfig(line);
      else this.parseOption(kw, at, line);
    }
  }

  /** Loading a file by name, `package` lines are checked and otherwise ignored. */
  private parsePackage(): void {
    this.r.skipKeyword('package');
    this.r.nextArg(true, 'package', 'package name');
    this.r.assertEol();
  }

  private parseConfig(line: number): void {
    const r = this.r;
    r.skipKeyword('config');
    const typeAt = r.nextArg(true, null, 'section type');
    const type = r.bytesAt(typeAt);
    if (!isType(type)) r.fail('invalid character in type field', `invalid section type ${show(type)}: only printable ASCII without spaces is allowed`, typeAt);
    const nameAt = r.nextArg(false, 'name', 'section name');
    r.assertEol();
    this.openSection(ascii(type), ascii(r.bytesAt(nameAt)), line, nameAt);
  }

  private openSection(type: string, name: string, line: number, nameAt: number): void {
    const found = name ? this.ids.indexOf(name) : -1;
    if (found >= 0) {
      const s = this.sections[found]!;
      if (s.type !== type) {
        this.r.fail('section of different type overwrites prior section with same name',
          `section "${name}" was declared with type ${show(s.type)} on line ${s.line}; it cannot be reopened with type ${show(type)}`, nameAt);
      }
      this.section = s;
    } else {
      this.section = { type, name: name || null, options: new Map(), line, optionLines: new Map() };
      this.sections.push(this.section);
      this.ids.push(name || anonymousName(this.sections.length, type));
    }
    this.skipping = false;
  }

  private parseOption(kw: 'option' | 'list', at: number, line: number): void {
    const r = this.r;
    if (!this.section && !this.skipping) r.fail('option/list command found before the first section', `${kw} before the first config section`, at);
    r.skipKeyword(kw);
    const nameAt = r.nextArg(true, 'name', `${kw} name`);
    const valueAt = r.nextArg(false, null, 'value');
    r.assertEol();
    if (!this.section) return;
    const name = ascii(r.bytesAt(nameAt));
    const value = utf8Decode(r.bytesAt(valueAt));
    if (kw === 'list') addListItem(this.section, name, value, line);
    else setOption(this.section, name, value, line);
  }
}

/**
 * `option`: a new option goes last; a repeated one (string or list) is replaced
 * in its first position. An empty value is ignored: while loading, uci neither
 * creates nor deletes an option for `option x ''` (list.c uci_set returns early).
 */
function setOption(s: UciSection, name: string, value: string, line: number): void {
  if (value === '') return;
  s.options.set(name, value);
  s.optionLines.set(name, [line]);
}

/** `list`: appends (empty items too); a string option becomes the list's first item. */
function addListItem(s: UciSection, name: string, value: string, line: number): void {
  const old = s.options.get(name);
  const lines = s.optionLines.get(name) ?? [];
  if (old === undefined) { s.options.set(name, [value]); s.optionLines.set(name, [line]); }
  else if (typeof old === 'string') { s.options.set(name, [old, value]); s.optionLines.set(name, [lines[0] ?? 0, line]); }
  else { old.push(value); lines.push(line); s.optionLines.set(name, lines); }
}

function run(input: string | Uint8Array, file: string, lenient: boolean): Parser {
  const bytes = typeof input === 'string' ? utf8Encode(input) : input;
  const p = new Parser(new Reader(bytes), file, lenient);
  if (bytes.length > MAX_UCI_FILE_BYTES) {
    const err = { file, line: 1, message: `file too large: ${bytes.length} bytes (limit ${MAX_UCI_FILE_BYTES})`, reason: 'file too large', uciLine: 0, byte: 0 };
    if (!lenient) throw err;
    p.errors.push(err);
    return p;
  }
  p.run();
  return p;
}

/**
 * Parses a config file exactly as `uci` loads it by name (strict mode). Throws
 * UciSyntaxError ("file:line: what") where `uci` reports a parse error.
 */
export function parseUci(input: string | Uint8Array, file = '<input>'): UciPackage {
  try {
    return { sections: run(input, file, false).sections };
  } catch (e) {
    if (e instanceof Error) throw e;
    throw new UciSyntaxError(e as UciParseError);
  }
}

/**
 * Parses what it can and lists every malformed statement. A bad statement is
 * skipped; a bad `config` line also drops the options under it (rather than
 * filing them into the previous section, as `uci -S` does). A quote never
 * closed is reported where it opened and parsing resumes on the next line, so
 * the sections after it survive.
 */
export function parseUciLenient(input: string | Uint8Array, file = '<input>'): { pkg: UciPackage; errors: UciParseError[] } {
  const p = run(input, file, true);
  return { pkg: { sections: p.sections }, errors: p.errors };
}
