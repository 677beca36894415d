// The tokenizer of upstream uci/file.c, ported byte for byte: a line buffer
// filled like fgets, in-place unquoting, `#` and `;` handling, continuations.
// Offsets and line counts match what `uci` prints in its parse errors.
import { utf8Decode } from '../core/bytes.ts';

/** Upstream's initial line buffer size; it doubles as needed (LINEBUF in file.c). */
const LINEBUF = 32;
const NL = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const HASH = 0x23;
const SEMI = 0x3b;
const BACKSLASH = 0x5c;
const SQUOTE = 0x27;
const DQUOTE = 0x22;

/** C isspace in the C locale: space, \t, \n, \v, \f, \r. */
export function isSpace(c: number): boolean {
  return c === SPACE || (c >= 0x09 && c <= 0x0d);
}

/** A parse error at the reader's position; parse.ts turns it into a message. */
export class ParseAbort {
  constructor(
    /** Upstream's reason text, e.g. "invalid command". */
    readonly reason: string,
    /** Upstream's byte offset in the (continuation-joined) line buffer. */
    readonly byte: number,
    /** Upstream's line count: physical lines read so far ending in \n. */
    readonly uciLine: number,
    /** The physical line where the problem is (1-based). */
    readonly line: number,
    /** Extra context for the human message. */
    readonly detail: string,
  ) {}
}

/** fgets over a byte array, with the EOF flag feof() would report. */
class Source {
  pos = 0;
  eof = false;
  /** Physical line (1-based) of the next unread byte. */
  physLine = 1;
  /** Byte offset where each physical line starts. */
  readonly lineStarts: number[] = [0];

  constructor(readonly bytes: Uint8Array) {
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === NL) this.lineStarts.push(i + 1);
  }

  /** Reads at most n-1 bytes, stopping after a newline; null at end of input. */
  fgets(n: number): Uint8Array | null {
    if (n <= 1) return new Uint8Array(0);
    if (this.pos >= this.bytes.length) { this.eof = true; return null; }
    const start = this.pos;
    let end = start;
    while (end < this.bytes.length && end - start < n - 1) {
      if (this.bytes[end++] === NL) { this.physLine++; break; }
    }
    if (end === this.bytes.length && this.bytes[end - 1] !== NL && end - start < n - 1) this.eof = true;
    this.pos = end;
    return this.bytes.subarray(start, end);
  }

  /** Restarts reading at the beginning of physical line n (for error recovery). */
  seekLine(n: number): void {
    this.pos = n - 1 < this.lineStarts.length ? this.lineStarts[n - 1]! : this.bytes.length;
    this.physLine = n;
    this.eof = this.pos >= this.bytes.length;
  }
}

/** The parse context (struct uci_parse_context) and the token functions that work on it. */
export class Reader {
  private readonly src: Source;
  buf = new Uint8Array(LINEBUF);
  pos = 0;
  /** buf_filled: bytes of the current logical line in buf. */
  filled = 0;
  /** Upstream's line counter. */
  uciLine = 0;
  /** Buffer offsets where physical lines begin, and their line numbers. */
  private segOfs: number[] = [];
  private segLine: number[] = [];
  /** Where the quote being read opened (for recovery and messages). */
  quoteOpen = -1;

  constructor(bytes: Uint8Array) {
    this.src = new Source(bytes);
  }

  get eof(): boolean { return this.src.eof; }

  get cur(): number { return this.buf[this.pos]!; }

  private grow(): void {
    const next = new Uint8Array(this.buf.length * 2);
    next.set(this.buf);
    this.buf = next;
  }

  /** uci_getln: reads the next line into buf at offset, growing the buffer. */
  getln(offset: number): void {
    if (offset === 0) { this.segOfs = []; this.segLine = []; }
    if (offset >= this.buf.length - 1) this.grow();
    let ofs = offset;
    for (;;) {
      this.buf[ofs] = 0;
      const line = this.src.physLine;
      const chunk = this.src.fgets(this.buf.length - ofs);
      if (!chunk) return;
      this.buf.set(chunk, ofs);
      this.buf[ofs + chunk.length] = 0;
      const len = this.strlen(ofs);
      if (len === 0) return;
      this.segOfs.push(ofs);
      this.segLine.push(line);
      ofs += len;
      this.filled = ofs;
      if (this.buf[ofs - 1] === NL) { this.uciLine++; return; }
      this.grow();
    }
  }

  /** Restarts at physical line n with an empty buffer; uci's line count follows. */
  restartAt(n: number): void {
    this.src.seekLine(n);
    this.uciLine = n - 1;
    this.pos = 0;
    this.filled = 0;
    this.buf[0] = 0;
  }

  strlen(off: number): number {
    let e = off;
    while (this.buf[e] !== 0) e++;
    return e - off;
  }

  /** The NUL-terminated bytes at off. */
  bytesAt(off: number): Uint8Array {
    return this.buf.slice(off, off + this.strlen(off));
  }

  /** The physical line of buffer offset off (clamped into the filled part). */
  lineAt(off: number): number {
    const o = Math.max(0, Math.min(off, this.filled - 1));
    let line = this.segLine[0] ?? this.src.physLine;
    for (let i = 0; i < this.segOfs.length && this.segOfs[i]! <= o; i++) line = this.segLine[i]!;
    return line;
  }

  fail(reason: string, detail: string, at = this.pos): never {
    throw new ParseAbort(reason, this.pos, this.uciLine, this.lineAt(at), detail);
  }

  skipWhitespace(): void {
    while (this.cur && isSpace(this.cur)) this.pos++;
  }

  /** parse_backslash: false when it was a line continuation (nothing to copy). */
  private backslash(): boolean {
    this.pos++;
    const c = this.cur;
    if (c === 0 || c === NL || (c === CR && this.buf[this.pos + 1] === NL && this.buf[this.pos + 2] === 0)) {
      this.getln(this.pos);
      return false;
    }
    return true;
  }

  private addc(t: { at: number }): void {
    this.buf[t.at++] = this.buf[this.pos++]!;
  }

  private quoted(t: { at: number }, q: number): void {
    this.quoteOpen = this.pos;
    this.pos++;
    for (;;) {
      const c = this.cur;
      if (c === q) { this.pos++; this.quoteOpen = -1; return; }
      if (c === 0) {
        this.getln(this.pos);
        if (!this.cur) {
          const ch = q === SQUOTE ? "'" : '"';
          this.fail(`EOF with unterminated ${ch}`, `unterminated ${ch} quote: it is never closed before the end of the file`, this.quoteOpen);
        }
        continue;
      }
      if (c === BACKSLASH && q === DQUOTE && !this.backslash()) continue;
      this.addc(t);
    }
  }

  /** parse_str: one token of concatenated pieces, unquoted in place at t. */
  private parseStr(t: { at: number }): void {
    let next = true;
    scan: do {
      switch (this.cur) {
        case SQUOTE: this.quoted(t, SQUOTE); break;
        case DQUOTE: this.quoted(t, DQUOTE); break;
        case HASH: this.buf[this.pos] = 0; break scan;
        case 0: break scan;
        case SEMI: next = false; break scan;
        case BACKSLASH:
          if (!this.backslash()) continue;
          this.addc(t);
          break;
        default: this.addc(t);
      }
    } while (this.cur && !isSpace(this.cur));
    if (this.cur && next) this.pos++;
    this.buf[t.at] = 0;
  }

  /**
   * next_arg: the next argument's offset in buf (its bytes end at a NUL).
   * `what` names the argument in messages; `kind` selects the name check.
   */
  nextArg(required: boolean, kind: 'name' | 'package' | null, what: string): number {
    this.skipWhitespace();
    const val = this.pos;
    if (this.cur === SEMI) {
      this.buf[this.pos] = 0;
      this.pos++;
    } else {
      this.parseStr({ at: val });
    }
    if (!this.buf[val]) {
      if (required) this.fail('insufficient arguments', `missing ${what}`, val);
      return val;
    }
    if (kind && !validName(this.bytesAt(val), kind === 'package')) {
      const allowed = kind === 'package' ? 'letters, digits, _ and -' : 'letters, digits and _';
      this.fail('invalid character in name field', `invalid ${what} ${show(this.bytesAt(val))}: only ${allowed} are allowed`, val);
    }
    return val;
  }

  /** assert_eol: anything left in the statement is an error (strict mode). */
  assertEol(): void {
    this.skipWhitespace();
    const off = this.nextArg(false, null, 'argument');
    if (this.buf[off]) this.fail('too many arguments', `too many arguments: unexpected ${show(this.bytesAt(off))} (quote a value that contains spaces)`, off);
  }

  /**
   * strtok(cur, " \t"): the next keyword's offset, or -1 at end of line. Like
   * strtok it writes a NUL over the delimiter after the word.
   */
  keyword(): number {
    let p = this.pos;
    while (this.buf[p] === SPACE || this.buf[p] === TAB) p++;
    if (!this.buf[p]) return -1;
    let e = p;
    while (this.buf[e] && this.buf[e] !== SPACE && this.buf[e] !== TAB) e++;
    if (this.buf[e]) this.buf[e] = 0;
    return p;
  }

  /** uci_increase_pos(strlen(cur) + 1): steps over the keyword; fails at end of input. */
  skipKeyword(kw: string): void {
    const n = this.strlen(this.pos) + 1;
    if (this.pos + n > this.filled) this.fail(`${kw} without name`, `${kw} without arguments at the end of the file`);
    this.pos += n;
  }
}

/** uci_validate_str for names: alnum and _, plus - for packages. */
function validName(b: Uint8Array, pkg: boolean): boolean {
  for (const c of b) {
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!alnum && c !== 0x5f && !(pkg && c === 0x2d)) return false;
  }
  return b.length > 0;
}

/** A token quoted for a message, with control characters made visible. */
export function show(b: Uint8Array | string): string {
  const s = typeof b === 'string' ? b : utf8Decode(b);
  return JSON.stringify(s.length > 60 ? s.slice(0, 60) + '…' : s);
}
