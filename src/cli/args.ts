// The CLI's argument helpers: flags, and durations (parsed in api/duration.ts, shared with kithd).

export { parseDuration } from '../api/duration.ts';

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

/** Thrown for a command line the user must fix (exit code 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Splits argv into positionals and --flags. `valued` lists flags that take a
 * value; every other flag is boolean. Unknown flags are an error.
 */
export function parseArgs(argv: string[], valued: string[], booleans: string[]): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { positional.push(...argv.slice(i + 1)); break; }
    if (!a.startsWith('--') || a === '-') { positional.push(a); continue; }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (valued.includes(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      flags.set(name, v);
    } else if (booleans.includes(name) && eq < 0) {
      flags.set(name, true);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return { positional, flags };
}
