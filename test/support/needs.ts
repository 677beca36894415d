// What a test needs from the machine (a program, a fixture, a build). When it
// is missing, the test is registered with uvu's `skip`, so the run's total
// counts it as skipped, never as passed, and the reason is printed once. With
// KITH_REQUIRE_ALL=1 (CI sets it in .ci/run) a missing need fails the test
// instead: CI has everything, and a run that silently lost a part is a failure.
import { test as uvuTest, type Test } from 'uvu';

export const REQUIRE_ALL = process.env['KITH_REQUIRE_ALL'] === '1';

type Register = (name: string, fn: () => void | Promise<void>) => void;

/**
 * The test function to use for tests that need `what`: uvu's own when `have`,
 * else one that registers them skipped (or, under KITH_REQUIRE_ALL, failing
 * with `what` and `howTo`).
 */
export function needs(have: boolean, what: string, howTo: string, t: Test = uvuTest): Register {
  if (have) return (name, fn) => t(name, fn);
  const reason = `missing: ${what} (${howTo})`;
  if (REQUIRE_ALL) return (name) => t(name, () => { throw new Error(`${reason}; KITH_REQUIRE_ALL=1 needs it`); });
  let said = false;
  return (name, fn) => {
    if (!said) { console.log(`  SKIPPED: ${reason}`); said = true; }
    t.skip(`${name} [skipped: ${what} missing]`, fn);
  };
}
