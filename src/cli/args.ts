// Small argument helpers shared by the CLI and the daemon: flags and durations.

/** Parses "90s", "30m", "24h", "7d" (or plain seconds) to milliseconds; null if invalid. */
export function parseDuration(s: string): number | null {
  const m = /^(\d+)(s|m|h|d)?$/.exec(s.trim());
  if (!m) return null;
  const unit = { s: 1000, m: 60_000, h: 3600_000, d: 86400_000 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

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
