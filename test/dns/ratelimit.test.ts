// RateLimiter: token buckets per address on a virtual clock, bounded table.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RateLimiter } from '../../src/core/ratelimit.ts';

test('a burst is allowed, then the rate; limited responses slip every 2nd', () => {
  const rl = new RateLimiter({ ratePerSec: 10, burst: 5, maxEntries: 100, slip: 2 });
  const got = Array.from({ length: 9 }, () => rl.check('10.0.0.1', 0));
  assert.equal(got, ['allow', 'allow', 'allow', 'allow', 'allow', 'drop', 'slip', 'drop', 'slip']);
  assert.is(rl.check('10.0.0.2', 0), 'allow', 'other addresses have their own bucket');
  assert.is(rl.check('10.0.0.1', 100), 'allow', 'one token back after 100 ms at 10/s');
  assert.is(rl.check('10.0.0.1', 100), 'drop');
});

test('the table is bounded and idle entries are pruned', () => {
  const rl = new RateLimiter({ ratePerSec: 1, burst: 1, maxEntries: 3, slip: 0 });
  for (let i = 0; i < 10; i++) rl.check(`10.0.0.${i}`, 0);
  assert.is(rl.size, 3);
  rl.prune(500);
  assert.is(rl.size, 3);
  rl.prune(1000);
  assert.is(rl.size, 0);
});

test('bad config is refused', () => {
  assert.throws(() => new RateLimiter({ ratePerSec: 0, burst: 1, maxEntries: 1, slip: 0 }), /ratePerSec/);
});

test.run();
