// Reading TypeScript source for rule tests: a small scanner that blanks out
// comments (and, on request, the contents of string, template and regex
// literals) so that patterns match code only, and an import lister.

export interface Stripped {
  /** Source with comments replaced by spaces; strings intact (for import specifiers). */
  noComments: string;
  /** Source with comments and the contents of every literal replaced by spaces. */
  codeOnly: string;
}

/** Characters after which a `/` starts a regular expression rather than a division. */
const REGEX_AFTER = new Set(['', '(', ',', '=', ':', '[', '!', '&', '|', '?', '{', '}', ';', '+', '-', '*', '%', '<', '>', '~', '^']);
const REGEX_AFTER_WORDS = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'void', 'yield', 'await', 'delete', 'throw', 'new']);

/**
 * Blanks comments and literals, keeping every newline so line numbers stay
 * right. Template literals keep their `${…}` expressions as code.
 */
export function stripSource(src: string): Stripped {
  const nc: string[] = [];
  const co: string[] = [];
  const blank = (ch: string) => (ch === '\n' ? '\n' : ' ');
  const emit = (ch: string, inLiteral: boolean, inComment = false) => {
    nc.push(inComment ? blank(ch) : ch);
    co.push(inComment || inLiteral ? blank(ch) : ch);
  };
  // Stack of template-literal brace depths: > 0 while inside `${ … }`.
  const templates: number[] = [];
  let lastSignificant = '';
  let lastWord = '';
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    const d = src[i + 1];
    if (c === '/' && d === '/') {
      while (i < n && src[i] !== '\n') emit(src[i++]!, false, true);
      continue;
    }
    if (c === '/' && d === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      while (i < stop) emit(src[i++]!, false, true);
      continue;
    }
    if (c === '\'' || c === '"') {
      emit(c, false);
      i++;
      while (i < n && src[i] !== c && src[i] !== '\n') {
        if (src[i] === '\\') emit(src[i++]!, true);
        if (i < n) emit(src[i++]!, true);
      }
      if (i < n) emit(src[i++]!, false);
      lastSignificant = c; lastWord = '';
      continue;
    }
    if (c === '`' || (c === '}' && templates.length > 0 && templates[templates.length - 1] === 0)) {
      // Start of a template, or the `}` closing a `${` and resuming its text.
      if (c === '}') templates.pop();
      emit(c, false);
      i++;
      while (i < n && src[i] !== '`' && !(src[i] === '$' && src[i + 1] === '{')) {
        if (src[i] === '\\') emit(src[i++]!, true);
        if (i < n) emit(src[i++]!, true);
      }
      if (src[i] === '$') { emit('$', false); emit('{', false); i += 2; templates.push(0); lastSignificant = '{'; lastWord = ''; continue; }
      if (i < n) emit(src[i++]!, false);
      lastSignificant = '`'; lastWord = '';
      continue;
    }
    if (c === '/' && (REGEX_AFTER.has(lastSignificant) || REGEX_AFTER_WORDS.has(lastWord))) {
      emit(c, false);
      i++;
      let inClass = false;
      while (i < n && src[i] !== '\n' && (inClass || src[i] !== '/')) {
        if (src[i] === '\\') emit(src[i++]!, true);
        else if (src[i] === '[') inClass = true;
        else if (src[i] === ']') inClass = false;
        if (i < n) emit(src[i++]!, true);
      }
      if (i < n) emit(src[i++]!, false);
      while (i < n && /[a-z]/.test(src[i]!)) emit(src[i++]!, false);
      lastSignificant = ')'; lastWord = '';
      continue;
    }
    if (templates.length > 0) {
      if (c === '{') templates[templates.length - 1]!++;
      else if (c === '}') templates[templates.length - 1]!--;
    }
    if (/[A-Za-z0-9_$]/.test(c)) {
      let j = i;
      while (j < n && /[A-Za-z0-9_$]/.test(src[j]!)) j++;
      lastWord = src.slice(i, j);
      lastSignificant = 'a';
      while (i < j) emit(src[i++]!, false);
      continue;
    }
    if (!/\s/.test(c)) { lastSignificant = c; lastWord = ''; }
    emit(c, false);
    i++;
  }
  return { noComments: nc.join(''), codeOnly: co.join('') };
}

export interface ImportRef { specifier: string; line: number; text: string }

/** Every module specifier imported, re-exported, dynamically imported or required. */
export function importsOf(noComments: string): ImportRef[] {
  const out: ImportRef[] = [];
  const patterns = [
    /\b(?:import|export)\s[^;'"`]*?\bfrom\s*(['"])([^'"]+)\1/g,
    /\bimport\s*(['"])([^'"]+)\1/g,
    /\b(?:import|require)\s*\(\s*(['"])([^'"]+)\1\s*\)/g,
  ];
  for (const re of patterns) {
    for (const m of noComments.matchAll(re)) {
      const line = noComments.slice(0, m.index).split('\n').length;
      out.push({ specifier: m[2]!, line, text: m[0].replace(/\s+/g, ' ') });
    }
  }
  return out;
}

/** 1-based line number of a character offset. */
export function lineAt(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}
