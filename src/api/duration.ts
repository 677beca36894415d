// Durations as kith and kithd both read them ("--expires 24h").

/** Parses "90s", "30m", "24h", "7d" (or plain seconds) to milliseconds; null if invalid. */
export function parseDuration(s: string): number | null {
  const m = /^(\d+)(s|m|h|d)?$/.exec(s.trim());
  if (!m) return null;
  const unit = { s: 1000, m: 60_000, h: 3600_000, d: 86400_000 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}
