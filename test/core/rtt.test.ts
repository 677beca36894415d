// Published link RTTs: bucketed, with hysteresis so jitter does not re-sign records.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { publishedRtt, RTT_BUCKET_MS } from '../../src/core/paths.ts';

test('a first measurement is bucketed', () => {
  assert.is(publishedRtt(undefined, 0), 0);
  assert.is(publishedRtt(undefined, 19), 0);
  assert.is(publishedRtt(undefined, 47), 2 * RTT_BUCKET_MS);
});

test('jitter around a bucket edge keeps the published value', () => {
  for (const m of [19, 21, 39, 41, 5, 55]) assert.is(publishedRtt(20, m), 20, `measured ${m}`);
});

test('a real change moves it', () => {
  assert.is(publishedRtt(20, 65), 60);
  assert.is(publishedRtt(60, 5), 0);
  assert.is(publishedRtt(0, 200), 200);
});

test.run();
