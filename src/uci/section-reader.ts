// Reading the sections of a UCI package: one option at a time, each value
// checked against its type, every problem kept with its line (errors and
// warnings), and whatever option nobody asked for reported as unknown.
import type { UciSection } from './model.ts';
import type { ValueType } from './values.ts';

/** One problem in the config file. `section` is like "kith.main" or "kith.@subnet[0]" ('' if unknown). */
export interface Problem {
  file: string;
  line: number;
  section: string;
  option?: string;
  /** A full sentence naming the option, section, value and what was expected. */
  message: string;
  /** The part of the message after the location, for formatProblem. */
  detail: string;
}

/** `/etc/config/kith:12: section "kith.main" option "listen_port": value is "x" (expected a port 1-65535)`. */
export function formatProblem(p: Problem): string {
  const where = p.section ? ` section "${p.section}"${p.option ? ` option "${p.option}"` : ''}:` : '';
  return `${p.file}:${p.line}:${where} ${p.detail}`;
}

export class Collector {
  readonly errors: Problem[] = [];
  readonly warnings: Problem[] = [];
  constructor(readonly file: string, readonly pkgName: string) {}

  add(to: 'error' | 'warning', line: number, section: string, option: string | undefined, message: string, detail: string): void {
    const p: Problem = { file: this.file, line, section, message, detail };
    if (option !== undefined) p.option = option;
    (to === 'error' ? this.errors : this.warnings).push(p);
  }
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** Reads the options of one section; whatever is never asked for is reported as unknown. */
export class SectionReader {
  private readonly known = new Set<string>();
  constructor(private readonly c: Collector, private readonly s: UciSection, readonly label: string) {}

  private lineOf(option: string, item = 0): number {
    return this.s.optionLines.get(option)?.[item] ?? this.s.line;
  }

  private bad(option: string, line: number, what: string, raw: string, type: ValueType<unknown>, why: string): void {
    const detail = `${what} ${JSON.stringify(raw)} (expected ${type.expected})${why ? `: ${why}` : ''}`;
    this.c.add('error', line, this.label, option, `Cannot parse option "${option}" in section "${this.label}": ${detail}`, detail);
  }

  error(option: string | undefined, detail: string): void {
    const line = option ? this.lineOf(option) : this.s.line;
    const message = option ? `Option "${option}" in section "${this.label}": ${detail}` : `Section "${this.label}": ${detail}`;
    this.c.add('error', line, this.label, option, message, detail);
  }

  warn(option: string | undefined, detail: string): void {
    const line = option ? this.lineOf(option) : this.s.line;
    const message = option ? `Option "${option}" in section "${this.label}": ${detail}` : `Section "${this.label}": ${detail}`;
    this.c.add('warning', line, this.label, option, message, detail);
  }

  has(option: string): boolean {
    return this.s.options.has(option);
  }

  /** A single-valued option, or undefined if absent or invalid (the error is recorded). */
  one<T>(option: string, type: ValueType<T>): T | undefined {
    this.known.add(option);
    const v = this.s.options.get(option);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') {
      this.error(option, `takes one value but is a list of ${v.length} items (write "option ${option} '…'")`);
      return undefined;
    }
    const r = type.parse(v);
    if (r.ok) return r.value;
    this.bad(option, this.lineOf(option), 'value is', v, type, r.why);
    return undefined;
  }

  /** A list option (a single `option` counts as one item); invalid items are left out. */
  list<T>(option: string, type: ValueType<T>, max: number): T[] | undefined {
    this.known.add(option);
    const v = this.s.options.get(option);
    if (v === undefined) return undefined;
    const items = typeof v === 'string' ? [v] : v;
    if (items.length > max) this.error(option, `has ${items.length} items, at most ${max} are allowed`);
    const out: T[] = [];
    items.slice(0, max).forEach((raw, i) => {
      const r = type.parse(raw);
      if (r.ok) out.push(r.value);
      else this.bad(option, this.lineOf(option, i), items.length > 1 ? `item ${i + 1} is` : 'value is', raw, type, r.why);
    });
    return out;
  }

  /** Warns about every option nobody asked for, suggesting a close known name. */
  finish(): void {
    for (const name of this.s.options.keys()) {
      if (this.known.has(name)) continue;
      const close = [...this.known].find((k) => editDistance(k, name) <= 2);
      this.warn(name, `unknown option, ignored${close ? ` (did you mean "${close}"?)` : ''}`);
    }
  }
}
