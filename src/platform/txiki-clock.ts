// The txiki.js clock: wall and monotonic time, and timers measured against performance.now().
import type { Clock } from './types.ts';

declare function setTimeout(fn: () => void, ms: number): number;
declare function clearTimeout(id: number): void;
declare const performance: { now(): number };

/** Rethrows outside the current promise chain: fatal like an uncaught exception, but loops keep running. */
export function reportLater(e: unknown): void { setTimeout(() => { throw e; }, 0); }

/**
 * setTimeout/setInterval measured against performance.now(). tjs arms timers from libuv's cached loop
 * time, so a timer armed after N ms of synchronous work in the same tick fires up to N ms early
 * (setTimeout(fn, 30) after 50 ms of work fires at once). A timer that fires early is re-armed for
 * the rest. `every` re-arms from each tick's firing time, like Node's setInterval.
 */
export function monoTimer(ms: number, fn: () => void, repeat: boolean): { cancel(): void } {
  const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
  const period = Math.max(1, delay);
  let id: number | undefined;
  let cancelled = false;
  const arm = (due: number) => {
    id = setTimeout(() => {
      if (cancelled) return;
      const now = performance.now();
      if (now < due - 1) { arm(due); return; } // libuv timers have 1 ms granularity
      if (repeat) arm(now + period);
      fn();
    }, Math.max(0, Math.ceil(due - performance.now())));
  };
  arm(performance.now() + delay);
  return { cancel() { cancelled = true; if (id !== undefined) clearTimeout(id); } };
}

export const txikiClock: Clock = {
  nowMs: () => Date.now(),
  monoMs: () => performance.now(),
  after(ms, fn) { return monoTimer(ms, fn, false); },
  every(ms, fn) { return monoTimer(ms, fn, true); },
};
