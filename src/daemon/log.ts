// Line-oriented logging to stdout for procd/systemd, with a level threshold
// and a per-key rate limit for remote-triggered messages.
import type { Platform, LogLevel } from '../platform/types.ts';

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
export const RATE_LIMIT_WINDOW_MS = 10_000;

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** Logs at most once per window for the same key (for remote bad input). */
  limited(key: string, level: LogLevel, msg: string): void;
  level: LogLevel;
}

/**
 * A logger on stdout. procd and systemd stamp each line themselves; with
 * `timestamps` (KITH_LOG_TIME=1, for a shell or a test harness) lines start
 * with the UTC time to the millisecond.
 */
export function makeLogger(p: Platform, level: LogLevel = 'info', timestamps = false): Logger {
  const last = new Map<string, number>();
  const emit = (lvl: LogLevel, msg: string) => {
    if (ORDER[lvl] < ORDER[log.level]) return;
    const at = timestamps ? `${new Date(p.clock.nowMs()).toISOString().slice(11, 23)} ` : '';
    p.stdout(`${at}${lvl}: ${msg}\n`);
  };
  const log: Logger = {
    level,
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
    limited(key, lvl, msg) {
      const now = p.clock.monoMs();
      if (now - (last.get(key) ?? -Infinity) < RATE_LIMIT_WINDOW_MS) return;
      if (last.size > 256) last.clear();
      last.set(key, now);
      emit(lvl, msg);
    },
  };
  return log;
}
